//! Points of secp256k1 (y² = x³ + 7) in every lane: affine and Jacobian coordinates, the group
//! law without branches, and per-lane tables of odd multiples.
//!
//! The formulas assume the generic case. The exceptional ones (adding a point to itself or to
//! its negation, or starting from infinity) are not special-cased; they are detected instead:
//! - an addition computes Z3 = Z1·H, with H = 0 exactly when the two x-coordinates are equal
//!   (the exceptional cases), so Z3 becomes 0;
//! - a doubling computes Z3 = 2·Y·Z, and Y is never 0 on this curve (its order is odd), so
//!   doubling never makes Z zero, while Z = 0 stays 0 under doubling and addition.
//!
//! So a lane whose final Z is 0 met an exceptional case (or the true result is infinity, which
//! is only reached through one): the callers hand such lanes to libsecp256k1. A lane whose
//! final Z is not 0 never met one, and its result is exact.

use crate::field::Fe;
use crate::lanes::{Lane64, MAX_LANES};

/// Affine points (x, y), magnitude-1 coordinates.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Affine<V> {
    pub(crate) x: Fe<V>,
    pub(crate) y: Fe<V>,
}

/// Jacobian points (X, Y, Z) standing for (X/Z², Y/Z³), magnitude-1 coordinates.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Jacobian<V> {
    pub(crate) x: Fe<V>,
    pub(crate) y: Fe<V>,
    pub(crate) z: Fe<V>,
}

/// The curve constant b = 7.
const B: [u64; 5] = [7, 0, 0, 0, 0];

impl<V: Lane64> Affine<V> {
    /// Mask of the lanes where y² = x³ + 7.
    #[inline(always)]
    pub(crate) fn on_curve(&self) -> u32 {
        let rhs = self.x.sqr().mul(&self.x).add(&Fe::splat(&B));
        self.y.sqr().eq(&rhs)
    }
}

impl<V: Lane64> Jacobian<V> {
    #[inline(always)]
    pub(crate) fn from_affine(a: &Affine<V>) -> Self {
        Self {
            x: a.x,
            y: a.y,
            z: Fe::splat(&[1, 0, 0, 0, 0]),
        }
    }

    /// 2·self (dbl-2009-l, 1M + 5S). Magnitudes noted per line.
    #[inline(always)]
    pub(crate) fn double(&self) -> Self {
        let a = self.x.sqr(); // 1
        let b = self.y.sqr(); // 1
        let c = b.sqr(); // 1
        let xb = self.x.add(&b).carry(); // 1
        let t = xb.sqr().sub(&a).sub(&c); // 1 + 2 + 2 = 5
        let d = t.add(&t); // 10: D = 2((X + B)² − A − C) = 4·X·Y²
        let e = a.mul_small(3).carry(); // E = 3A
        let f = e.sqr(); // 1
        let x3 = f.sub(&d.add(&d)).carry(); // 1 + 40 → 1: X3 = F − 2D
        let dx = d.sub(&x3).carry(); // 10 + 2 → 1
        let y3 = e.mul(&dx).sub(&c.mul_small(8)).carry(); // 1 + 16 → 1: Y3 = E(D − X3) − 8C
        let yz = self.y.mul(&self.z);
        let z3 = yz.add(&yz).carry(); // Z3 = 2YZ
        Self {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// self + (x2, ±y2), with −y2 in the lanes of `neg` (8M + 3S).
    #[inline(always)]
    pub(crate) fn add_affine(&self, b: &Affine<V>, neg: u32) -> Self {
        let z1z1 = self.z.sqr();
        let u2 = b.x.mul(&z1z1);
        let s2 = b.y.mul(&self.z.mul(&z1z1));
        let s2 = Fe::select(neg, &s2.neg(), &s2); // 2
        let h = u2.sub(&self.x).carry(); // 1 + 2 → 1
        let r = s2.sub(&self.y).carry(); // 2 + 2 → 1
        let h2 = h.sqr();
        let h3 = h.mul(&h2);
        let v = self.x.mul(&h2);
        let x3 = r.sqr().sub(&h3).sub(&v.add(&v)).carry(); // 1 + 2 + 4 → 1
        let vx = v.sub(&x3).carry(); // 3 → 1
        let y3 = r.mul(&vx).sub(&self.y.mul(&h3)).carry(); // 3 → 1
        let z3 = self.z.mul(&h);
        Self {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// Mask of the lanes with Z ≡ 0: infinity, or an exceptional case was met.
    #[inline(always)]
    pub(crate) fn z_is_zero(&self) -> u32 {
        self.z.is_zero()
    }
}

/// Odd multiples 1·P, 3·P, …, (2K − 1)·P of each lane's P, in affine coordinates, stored for
/// per-lane gathers: entry e, coordinate limb j (x then y), lane i at ((e·10 + j)·LANES + i).
#[derive(Debug)]
pub(crate) struct LaneTable<const K: usize> {
    pub(crate) data: Vec<u64>,
    /// Lanes whose table could not be made (a Z was 0; impossible for points of the curve).
    pub(crate) bad: u32,
}

impl<const K: usize> LaneTable<K> {
    /// Builds the table of `p` and, from the same work, that of λ·p (x-coordinates times β).
    ///
    /// 2P is computed in Jacobian coordinates (X2, Y2, Z2). On the isomorphic curve
    /// y² = x³ + 7·Z2⁶, reached by (x, y) ↦ (x·Z2², y·Z2³), 2P is the affine point (X2, Y2),
    /// so the odd multiples follow by mixed additions (the formulas do not involve b); a result
    /// (X, Y, Z) there is (X, Y, Z·Z2) on secp256k1. One inversion per lane (Montgomery's
    /// trick over the K entries) turns them affine.
    #[inline(always)]
    pub(crate) fn build<V: Lane64>(p: &Affine<V>, beta: &Fe<V>) -> (Self, Self) {
        let p2 = Jacobian::from_affine(p).double();
        let zz = p2.z.sqr();
        let zzz = zz.mul(&p2.z);
        let step = Affine { x: p2.x, y: p2.y };
        let mut cur = Jacobian {
            x: p.x.mul(&zz),
            y: p.y.mul(&zzz),
            z: Fe::splat(&[1, 0, 0, 0, 0]),
        };
        let mut jac = Vec::with_capacity(K);
        for e in 0..K {
            if e > 0 {
                cur = cur.add_affine(&step, 0);
            }
            jac.push(Jacobian {
                x: cur.x,
                y: cur.y,
                z: cur.z.mul(&p2.z),
            });
        }
        // Prefix products of the Z's, one inversion, then back.
        let mut prefix = Vec::with_capacity(K);
        let mut acc = jac[0].z;
        prefix.push(acc);
        for j in &jac[1..] {
            acc = acc.mul(&j.z);
            prefix.push(acc);
        }
        let bad = acc.is_zero();
        let mut inv = acc.invert();
        let lanes = V::LANES;
        let mut data = vec![0u64; K * 10 * lanes];
        let mut endo = vec![0u64; K * 10 * lanes];
        for e in (0..K).rev() {
            let zi = if e > 0 { inv.mul(&prefix[e - 1]) } else { inv };
            if e > 0 {
                inv = inv.mul(&jac[e].z);
            }
            let zi2 = zi.sqr();
            let x = jac[e].x.mul(&zi2);
            let y = jac[e].y.mul(&zi2.mul(&zi));
            let bx = x.mul(beta);
            store_entry(&mut data, e, lanes, &x, &y);
            store_entry(&mut endo, e, lanes, &bx, &y);
        }
        (Self { data, bad }, Self { data: endo, bad })
    }

    /// Entry `idx[i]` of lane i's table, for every lane, with y negated in the lanes of `neg`
    /// left to the caller (see `Jacobian::add_affine`).
    #[inline(always)]
    pub(crate) fn lookup<V: Lane64>(&self, idx: &[u64; MAX_LANES]) -> Affine<V> {
        let lanes = V::LANES;
        let mut at = [0u64; MAX_LANES];
        for (i, a) in at.iter_mut().enumerate().take(lanes) {
            *a = (idx[i] * 10 * lanes as u64) + i as u64;
        }
        let v: [V; 10] = V::gather(&self.data, &at, lanes);
        affine_from_limbs(&v)
    }
}

fn store_entry<V: Lane64>(data: &mut [u64], e: usize, lanes: usize, x: &Fe<V>, y: &Fe<V>) {
    for (j, limb) in x.l.iter().chain(y.l.iter()).enumerate() {
        let at = (e * 10 + j) * lanes;
        data[at..at + lanes].copy_from_slice(&limb.store()[..lanes]);
    }
}

/// Affine point from ten gathered limb vectors (x then y), magnitude 1.
#[inline(always)]
pub(crate) fn affine_from_limbs<V: Lane64>(v: &[V; 10]) -> Affine<V> {
    Affine {
        x: Fe {
            l: [v[0], v[1], v[2], v[3], v[4]],
            mag: 1,
        },
        y: Fe {
            l: [v[5], v[6], v[7], v[8], v[9]],
            mag: 1,
        },
    }
}
