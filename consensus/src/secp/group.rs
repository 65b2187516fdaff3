//! Points on secp256k1 (y² = x³ + 7): affine and Jacobian forms, the group law, the GLV
//! endomorphism and BIP340's `lift_x`.
//!
//! Formulas are libsecp256k1's (`group_impl.h`), with its magnitude bookkeeping: Jacobian x and
//! y stay at magnitude ≤ 4, z at 1, affine coordinates at 1, so every `mul`/`sqr` input is ≤ 8.

use super::field::Fe;

/// β: a cube root of unity mod p; (x, y) ↦ (β·x, y) is multiplication by λ.
pub const BETA: Fe = Fe::from_bytes_unchecked(&[
    0x7A, 0xE9, 0x6A, 0x2B, 0x65, 0x7C, 0x07, 0x10, 0x6E, 0x64, 0x47, 0x9E, 0xAC, 0x34, 0x34, 0xE9,
    0x9C, 0xF0, 0x49, 0x75, 0x12, 0xF5, 0x89, 0x95, 0xC1, 0x39, 0x6C, 0x28, 0x71, 0x95, 0x01, 0xEE,
]);

/// Square roots computed together by [`Affine::lift_x_many`]. CPU time per square root
/// (`batch_schnorr_best_of` `sqrt` mode, 20 000 roots): one at a time 3.8 µs, 2 lanes 3.15 µs,
/// 4 lanes 3.02 µs.
pub const SQRT_LANES: usize = 4;

/// An affine point, or the point at infinity. Coordinates have magnitude 1.
#[derive(Clone, Copy, Debug)]
pub struct Affine {
    pub x: Fe,
    pub y: Fe,
    pub infinity: bool,
}

/// A Jacobian point (X/Z², Y/Z³), or infinity.
#[derive(Clone, Copy, Debug)]
pub struct Jacobian {
    pub x: Fe,
    pub y: Fe,
    pub z: Fe,
    pub infinity: bool,
}

impl Affine {
    pub const INFINITY: Affine = Affine {
        x: Fe::ZERO,
        y: Fe::ZERO,
        infinity: true,
    };

    /// The generator G.
    pub const GENERATOR: Affine = Affine {
        x: Fe::from_bytes_unchecked(&[
            0x79, 0xBE, 0x66, 0x7E, 0xF9, 0xDC, 0xBB, 0xAC, 0x55, 0xA0, 0x62, 0x95, 0xCE, 0x87,
            0x0B, 0x07, 0x02, 0x9B, 0xFC, 0xDB, 0x2D, 0xCE, 0x28, 0xD9, 0x59, 0xF2, 0x81, 0x5B,
            0x16, 0xF8, 0x17, 0x98,
        ]),
        y: Fe::from_bytes_unchecked(&[
            0x48, 0x3A, 0xDA, 0x77, 0x26, 0xA3, 0xC4, 0x65, 0x5D, 0xA4, 0xFB, 0xFC, 0x0E, 0x11,
            0x08, 0xA8, 0xFD, 0x17, 0xB4, 0x48, 0xA6, 0x85, 0x54, 0x19, 0x9C, 0x47, 0xD0, 0x8F,
            0xFB, 0x10, 0xD4, 0xB8,
        ]),
        infinity: false,
    };

    /// BIP340 `lift_x`: the point with x-coordinate `x` and even y, if x³ + 7 is a square.
    #[must_use]
    pub fn lift_x(x: &Fe) -> Option<Affine> {
        let rhs = x.sqr().mul(x).add(&Fe::from_u64(7));
        let y = rhs.sqrt()?;
        let y = if y.is_odd() { y.negate(1) } else { y };
        Some(Affine {
            x: x.normalized(),
            y: y.normalized(),
            infinity: false,
        })
    }

    /// [`lift_x`](Self::lift_x) of every element, [`SQRT_LANES`] square roots at a time (the
    /// independent exponentiations interleave on the CPU; see `field4`).
    #[must_use]
    pub fn lift_x_many(xs: &[Fe]) -> Vec<Option<Affine>> {
        let mut out = Vec::with_capacity(xs.len());
        let mut chunks = xs.chunks_exact(SQRT_LANES);
        for chunk in chunks.by_ref() {
            let mut rhs = [Fe::ZERO; SQRT_LANES];
            for (r, x) in rhs.iter_mut().zip(chunk) {
                *r = x.sqr().mul(x).add(&Fe::from_u64(7));
            }
            for (x, y) in chunk.iter().zip(Fe::sqrt_lanes(&rhs)) {
                out.push(y.map(|y| Affine {
                    x: x.normalized(),
                    y: if y.is_odd() { y.negate(1) } else { y }.normalized(),
                    infinity: false,
                }));
            }
        }
        out.extend(chunks.remainder().iter().map(Self::lift_x));
        out
    }

    /// Parses a BIP340 x-only public key (or R value): `None` if ≥ p or not on the curve.
    #[must_use]
    pub fn from_xonly(bytes: &[u8; 32]) -> Option<Affine> {
        Self::lift_x(&Fe::from_bytes(bytes)?)
    }

    #[must_use]
    pub fn neg(&self) -> Affine {
        Affine {
            x: self.x,
            y: self.y.negate(1).normalized_weak(),
            infinity: self.infinity,
        }
    }

    /// λ·P computed as (β·x, y).
    #[must_use]
    pub fn endo(&self) -> Affine {
        Affine {
            x: self.x.mul(&BETA),
            y: self.y,
            infinity: self.infinity,
        }
    }

    /// Whether the point satisfies y² = x³ + 7 (infinity counts as valid).
    #[must_use]
    pub fn is_on_curve(&self) -> bool {
        self.infinity
            || self
                .y
                .sqr()
                .equals(&self.x.sqr().mul(&self.x).add(&Fe::from_u64(7)))
    }

    #[must_use]
    pub fn equals(&self, o: &Affine) -> bool {
        match (self.infinity, o.infinity) {
            (true, true) => true,
            (false, false) => self.x.equals(&o.x) && self.y.equals(&o.y),
            _ => false,
        }
    }
}

impl Jacobian {
    pub const INFINITY: Jacobian = Jacobian {
        x: Fe::ZERO,
        y: Fe::ZERO,
        z: Fe::ZERO,
        infinity: true,
    };

    #[must_use]
    pub fn from_affine(a: &Affine) -> Jacobian {
        Jacobian {
            x: a.x,
            y: a.y,
            z: Fe::ONE,
            infinity: a.infinity,
        }
    }

    #[must_use]
    pub fn neg(&self) -> Jacobian {
        Jacobian {
            x: self.x,
            y: self.y.normalized_weak().negate(1),
            z: self.z,
            infinity: self.infinity,
        }
    }

    /// 2·self (3M + 4S): L = 3/2·X², S = Y², T = -X·S, X3 = L² + 2T, Y3 = -(L·(X3 + T) + S²),
    /// Z3 = Y·Z.
    #[inline]
    #[must_use]
    pub fn double(&self) -> Jacobian {
        if self.infinity {
            return *self;
        }
        let z = self.z.mul(&self.y);
        let s = self.y.sqr();
        let l = self.x.sqr().mul_int(3).half();
        let t = s.negate(1).mul(&self.x);
        let x = l.sqr().add(&t).add(&t);
        let s2 = s.sqr();
        let y = t.add(&x).mul(&l).add(&s2).negate(2);
        Jacobian {
            x,
            y,
            z,
            infinity: false,
        }
    }

    /// self + b for affine b (8M + 3S), handling doubling and infinity.
    #[inline]
    #[must_use]
    pub fn add_affine(&self, b: &Affine) -> Jacobian {
        if self.infinity {
            return Jacobian::from_affine(b);
        }
        if b.infinity {
            return *self;
        }
        let z12 = self.z.sqr();
        let u1 = self.x;
        let u2 = b.x.mul(&z12);
        let s1 = self.y;
        let s2 = b.y.mul(&z12).mul(&self.z);
        let h = u1.negate(4).add(&u2);
        let i = s2.negate(1).add(&s1);
        if h.is_zero() {
            return if i.is_zero() {
                self.double()
            } else {
                Jacobian::INFINITY
            };
        }
        Self::finish_add(self.z.mul(&h), &h, &i, &u1, &s1)
    }

    /// Shared tail of the additions: X3 = I² - H³ - 2·U1·H², Y3 = -I·(U1·H² - X3) - S1·H³
    /// (with I = S1 - S2), given Z3.
    #[inline(always)]
    fn finish_add(z: Fe, h: &Fe, i: &Fe, u1: &Fe, s1: &Fe) -> Jacobian {
        let h2 = h.sqr().negate(1);
        let h3 = h2.mul(h);
        let mut t = u1.mul(&h2);
        let x = i.sqr().add(&h3).add(&t).add(&t);
        t = t.add(&x);
        let y = t.mul(i).add(&h3.mul(s1));
        Jacobian {
            x,
            y,
            z,
            infinity: false,
        }
    }

    /// self + b for Jacobian b (12M + 4S).
    #[must_use]
    pub fn add(&self, b: &Jacobian) -> Jacobian {
        if self.infinity {
            return *b;
        }
        if b.infinity {
            return *self;
        }
        let z22 = b.z.sqr();
        let z12 = self.z.sqr();
        let u1 = self.x.mul(&z22);
        let u2 = b.x.mul(&z12);
        let s1 = self.y.mul(&z22).mul(&b.z);
        let s2 = b.y.mul(&z12).mul(&self.z);
        let h = u1.negate(1).add(&u2);
        let i = s2.negate(1).add(&s1);
        if h.is_zero() {
            return if i.is_zero() {
                self.double()
            } else {
                Jacobian::INFINITY
            };
        }
        let z = h.mul(&b.z).mul(&self.z);
        Self::finish_add(z, &h, &i, &u1, &s1)
    }

    /// Whether this is the point at infinity (the z = 0 representation counts too).
    #[must_use]
    pub fn is_infinity(&self) -> bool {
        self.infinity || self.z.is_zero()
    }

    #[must_use]
    pub fn to_affine(&self) -> Affine {
        if self.is_infinity() {
            return Affine::INFINITY;
        }
        let zi = self.z.invert();
        let zi2 = zi.sqr();
        Affine {
            x: self.x.mul(&zi2).normalized(),
            y: self.y.mul(&zi2).mul(&zi).normalized(),
            infinity: false,
        }
    }

    /// Converts many points with a single field inversion.
    #[must_use]
    pub fn batch_to_affine(points: &[Jacobian]) -> Vec<Affine> {
        let mut zs: Vec<Fe> = points
            .iter()
            .map(|p| if p.is_infinity() { Fe::ONE } else { p.z })
            .collect();
        Fe::batch_invert(&mut zs);
        points
            .iter()
            .zip(&zs)
            .map(|(p, zi)| {
                if p.is_infinity() {
                    Affine::INFINITY
                } else {
                    let zi2 = zi.sqr();
                    Affine {
                        x: p.x.mul(&zi2).normalized(),
                        y: p.y.mul(&zi2).mul(zi).normalized(),
                        infinity: false,
                    }
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::scalar::Scalar;
    use super::*;

    /// Plain double-and-add, the slow reference for the multi-scalar code.
    pub(crate) fn naive_mul(p: &Affine, k: &Scalar) -> Jacobian {
        let mut acc = Jacobian::INFINITY;
        for i in (0..256).rev() {
            acc = acc.double();
            if k.bit(i) == 1 {
                acc = acc.add_affine(p);
            }
        }
        acc
    }

    #[test]
    fn generator_is_on_curve_and_has_order_n() {
        let g = Affine::GENERATOR;
        assert!(g.is_on_curve());
        let n_minus_1 = Scalar::ONE.negate();
        let q = naive_mul(&g, &n_minus_1).to_affine();
        assert!(q.equals(&g.neg()));
        assert!(naive_mul(&g, &Scalar::ZERO).is_infinity());
    }

    #[test]
    fn doubling_the_generator_gives_the_known_point() {
        let two_g = Jacobian::from_affine(&Affine::GENERATOR)
            .double()
            .to_affine();
        assert_eq!(
            hex::encode(two_g.x.to_bytes()),
            "c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5"
        );
        assert_eq!(
            hex::encode(two_g.y.to_bytes()),
            "1ae168fea63dc339a3c58419466ceaeef7f632653266d0e1236431a950cfe52a"
        );
    }

    #[test]
    fn endomorphism_matches_lambda() {
        // β³ = 1 and λ·G = (β·x, y): ties the two GLV constants together.
        assert!(BETA.sqr().mul(&BETA).equals(&Fe::ONE));
        let g = Affine::GENERATOR;
        assert!(naive_mul(&g, &Scalar::LAMBDA).to_affine().equals(&g.endo()));
    }

    #[test]
    fn addition_laws() {
        let g = Affine::GENERATOR;
        let gj = Jacobian::from_affine(&g);
        let two_g = gj.double();
        assert!(gj.add_affine(&g).to_affine().equals(&two_g.to_affine()));
        assert!(gj.add(&gj).to_affine().equals(&two_g.to_affine()));
        assert!(gj.add_affine(&g.neg()).is_infinity());
        assert!(gj.add(&gj.neg()).is_infinity());
        let three = two_g.add_affine(&g);
        let three_b = gj.add(&two_g);
        let pts = Jacobian::batch_to_affine(&[three, three_b, Jacobian::INFINITY]);
        assert!(pts[0].equals(&pts[1]) && pts[0].is_on_curve() && pts[2].infinity);
        assert!(naive_mul(&g, &Scalar::from_u128(3))
            .to_affine()
            .equals(&pts[0]));
    }

    #[test]
    fn lift_x_gives_even_y() {
        let g = Affine::GENERATOR;
        let lifted = Affine::lift_x(&g.x).unwrap();
        // G's y is even, so lift_x(G.x) = G.
        assert!(lifted.equals(&g));
        // x = 5: 125 + 7 = 132 is not a square mod p? Whatever the answer, it must agree with
        // sqrt's verdict and produce a point on the curve.
        for v in 0..50u64 {
            if let Some(p) = Affine::lift_x(&Fe::from_u64(v)) {
                assert!(p.is_on_curve() && !p.y.is_odd());
            }
        }
    }

    #[test]
    fn lift_x_many_matches_lift_x() {
        // Small x (a mix of liftable and not), G.x and a large value.
        let mut xs: Vec<Fe> = (0..23u64).map(Fe::from_u64).collect();
        xs.push(Affine::GENERATOR.x);
        xs.push(Fe::from_bytes(&[0xFF; 32].map(|b| b & 0x7F)).unwrap());
        assert!(xs.iter().any(|x| Affine::lift_x(x).is_none()));
        assert!(xs.iter().any(|x| Affine::lift_x(x).is_some()));
        // Every length from 0 to 25: even and odd (the remainder path).
        for n in 0..=xs.len() {
            let got = Affine::lift_x_many(&xs[..n]);
            assert_eq!(got.len(), n);
            for (x, g) in xs.iter().zip(&got) {
                match (Affine::lift_x(x), g) {
                    (None, None) => {}
                    (Some(want), Some(g)) => {
                        assert!(want.equals(g) && !g.y.is_odd() && g.is_on_curve());
                    }
                    (want, g) => panic!("lift_x {want:?} vs lift_x_many {g:?}"),
                }
            }
        }
    }
}
