//! Scalars modulo the group order n, in 4x64-bit limbs (little-endian), and the GLV split.
//!
//! Not constant time: only public verification data passes through here.

/// n = FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFE BAAEDCE6 AF48A03B BFD25E8C D0364141.
const N: [u64; 4] = [
    0xBFD2_5E8C_D036_4141,
    0xBAAE_DCE6_AF48_A03B,
    0xFFFF_FFFF_FFFF_FFFE,
    0xFFFF_FFFF_FFFF_FFFF,
];
/// 2^256 - n (129 bits): folding constant for reduction.
const N_C: [u64; 3] = [0x402D_A173_2FC9_BEBF, 0x4551_2319_50B7_5FC4, 1];
/// n / 2, for `is_high`.
const N_H: [u64; 4] = [
    0xDFE9_2F46_681B_20A0,
    0x5D57_6E73_57A4_501D,
    0xFFFF_FFFF_FFFF_FFFF,
    0x7FFF_FFFF_FFFF_FFFF,
];

/// An integer modulo n, always fully reduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Scalar {
    pub(crate) d: [u64; 4],
}

/// Whether `a >= b` for 4-limb little-endian integers.
fn ge4(a: &[u64; 4], b: &[u64; 4]) -> bool {
    for i in (0..4).rev() {
        if a[i] != b[i] {
            return a[i] > b[i];
        }
    }
    true
}

/// `a - b` (wrapping) for 4-limb integers.
fn sub4(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    let mut r = [0u64; 4];
    let mut borrow = false;
    for i in 0..4 {
        let (v, b1) = a[i].overflowing_sub(b[i]);
        let (v, b2) = v.overflowing_sub(u64::from(borrow));
        r[i] = v;
        borrow = b1 || b2;
    }
    r
}

/// Full product of two little-endian limb slices into 8 limbs (the product must fit).
fn mul_wide(a: &[u64], b: &[u64]) -> [u64; 8] {
    let mut r = [0u64; 8];
    for (i, &x) in a.iter().enumerate() {
        let mut carry = 0u128;
        for (j, &y) in b.iter().enumerate() {
            let v = u128::from(x) * u128::from(y) + u128::from(r[i + j]) + carry;
            r[i + j] = v as u64;
            carry = v >> 64;
        }
        let mut k = i + b.len();
        while carry != 0 && k < 8 {
            let v = u128::from(r[k]) + carry;
            r[k] = v as u64;
            carry = v >> 64;
            k += 1;
        }
    }
    r
}

/// Reduces a 512-bit integer modulo n by folding `hi·2^256 ≡ hi·(2^256 - n)`.
fn reduce512(mut v: [u64; 8]) -> Scalar {
    while v[4..].iter().any(|&x| x != 0) {
        let folded = mul_wide(&v[4..], &N_C);
        let mut next = [0u64; 8];
        let mut carry = 0u128;
        for i in 0..8 {
            let lo = if i < 4 { v[i] } else { 0 };
            let s = u128::from(folded[i]) + u128::from(lo) + carry;
            next[i] = s as u64;
            carry = s >> 64;
        }
        v = next;
    }
    let mut d = [v[0], v[1], v[2], v[3]];
    if ge4(&d, &N) {
        d = sub4(&d, &N);
    }
    Scalar { d }
}

impl Scalar {
    pub const ZERO: Scalar = Scalar { d: [0; 4] };
    pub const ONE: Scalar = Scalar { d: [1, 0, 0, 0] };
    /// λ: a cube root of unity mod n with λ·(x, y) = (β·x, y) on secp256k1.
    pub const LAMBDA: Scalar = Scalar {
        d: [
            0xDF02_967C_1B23_BD72,
            0x122E_22EA_2081_6678,
            0xA526_1C02_8812_645A,
            0x5363_AD4C_C05C_30E0,
        ],
    };

    fn limbs_from_be(b: &[u8; 32]) -> [u64; 4] {
        let mut d = [0u64; 4];
        for (i, limb) in d.iter_mut().enumerate() {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[(3 - i) * 8..(4 - i) * 8]);
            *limb = u64::from_be_bytes(w);
        }
        d
    }

    /// Parses 32 big-endian bytes; `None` when the value is ≥ n (BIP340 rejects such s).
    #[must_use]
    pub fn from_bytes(b: &[u8; 32]) -> Option<Scalar> {
        let d = Self::limbs_from_be(b);
        if ge4(&d, &N) {
            None
        } else {
            Some(Scalar { d })
        }
    }

    /// Parses 32 big-endian bytes reduced mod n (how BIP340 turns the challenge hash into e).
    #[must_use]
    pub fn from_bytes_reduced(b: &[u8; 32]) -> Scalar {
        let d = Self::limbs_from_be(b);
        if ge4(&d, &N) {
            Scalar { d: sub4(&d, &N) }
        } else {
            Scalar { d }
        }
    }

    /// A 128-bit value.
    #[must_use]
    pub fn from_u128(v: u128) -> Scalar {
        Scalar {
            d: [v as u64, (v >> 64) as u64, 0, 0],
        }
    }

    /// Big-endian bytes.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for i in 0..4 {
            out[(3 - i) * 8..(4 - i) * 8].copy_from_slice(&self.d[i].to_be_bytes());
        }
        out
    }

    #[must_use]
    pub fn is_zero(&self) -> bool {
        self.d == [0; 4]
    }

    /// Whether the value exceeds n/2 (its negation is then the smaller representative).
    #[must_use]
    pub fn is_high(&self) -> bool {
        !ge4(&N_H, &self.d)
    }

    #[must_use]
    pub fn add(&self, o: &Scalar) -> Scalar {
        let mut r = [0u64; 4];
        let mut carry = false;
        for ((ri, a), b) in r.iter_mut().zip(&self.d).zip(&o.d) {
            let (v, c1) = a.overflowing_add(*b);
            let (v, c2) = v.overflowing_add(u64::from(carry));
            *ri = v;
            carry = c1 || c2;
        }
        if carry || ge4(&r, &N) {
            r = sub4(&r, &N);
        }
        Scalar { d: r }
    }

    #[must_use]
    pub fn negate(&self) -> Scalar {
        if self.is_zero() {
            *self
        } else {
            Scalar {
                d: sub4(&N, &self.d),
            }
        }
    }

    #[must_use]
    pub fn mul(&self, o: &Scalar) -> Scalar {
        reduce512(mul_wide(&self.d, &o.d))
    }

    /// Multiplicative inverse by Fermat (`self^(n-2)`); 0 maps to 0. Slow, for tests and setup.
    #[must_use]
    pub fn invert(&self) -> Scalar {
        let exp = sub4(&N, &[2, 0, 0, 0]);
        let mut r = Scalar::ONE;
        for i in (0..256).rev() {
            r = r.mul(&r);
            if (exp[i / 64] >> (i % 64)) & 1 == 1 {
                r = r.mul(self);
            }
        }
        r
    }

    /// `round(self · g / 2^384)` for the GLV split.
    fn mul_shift_384(&self, g: &[u64; 4]) -> Scalar {
        let w = mul_wide(&self.d, g);
        let round = (w[5] >> 63) & 1;
        let lo = u128::from(w[6]) | (u128::from(w[7]) << 64);
        Scalar::from_u128(lo + u128::from(round))
    }

    /// GLV decomposition (libsecp256k1's `scalar_split_lambda`): `k = r1 + λ·r2 (mod n)` with
    /// both `r1` and `r2` (or their negations) below 2^128.
    #[must_use]
    pub fn split_lambda(&self) -> (Scalar, Scalar) {
        const MINUS_B1: Scalar = Scalar {
            d: [0x6F54_7FA9_0ABF_E4C3, 0xE443_7ED6_010E_8828, 0, 0],
        };
        const MINUS_B2: Scalar = Scalar {
            d: [
                0xD765_CDA8_3DB1_562C,
                0x8A28_0AC5_0774_346D,
                0xFFFF_FFFF_FFFF_FFFE,
                0xFFFF_FFFF_FFFF_FFFF,
            ],
        };
        const G1: [u64; 4] = [
            0xE893_209A_45DB_B031,
            0x3DAA_8A14_71E8_CA7F,
            0xE86C_90E4_9284_EB15,
            0x3086_D221_A7D4_6BCD,
        ];
        const G2: [u64; 4] = [
            0x1571_B4AE_8AC4_7F71,
            0x2212_08AC_9DF5_06C6,
            0x6F54_7FA9_0ABF_E4C4,
            0xE443_7ED6_010E_8828,
        ];
        let c1 = self.mul_shift_384(&G1).mul(&MINUS_B1);
        let c2 = self.mul_shift_384(&G2).mul(&MINUS_B2);
        let r2 = c1.add(&c2);
        let r1 = self.add(&r2.mul(&Self::LAMBDA).negate());
        (r1, r2)
    }

    /// Signed 128-bit form: `(negated, magnitude)` with `self = ±magnitude`, choosing the
    /// smaller of `self` and `-self`; `None` if even that exceeds 128 bits.
    #[must_use]
    pub fn to_signed_u128(&self) -> Option<(bool, u128)> {
        let (neg, v) = if self.is_high() {
            (true, self.negate())
        } else {
            (false, *self)
        };
        if v.d[2] == 0 && v.d[3] == 0 {
            Some((neg, u128::from(v.d[0]) | (u128::from(v.d[1]) << 64)))
        } else {
            None
        }
    }

    /// Bit `i` (little-endian), 0 beyond 255.
    #[must_use]
    pub fn bit(&self, i: usize) -> u64 {
        if i >= 256 {
            0
        } else {
            (self.d[i / 64] >> (i % 64)) & 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn rand_scalar(rng: &mut impl Rng) -> Scalar {
        let mut b = [0u8; 32];
        rng.fill(&mut b);
        Scalar::from_bytes_reduced(&b)
    }

    #[test]
    fn constants_are_consistent() {
        // N_C = 2^256 - n, N_H = (n - 1) / 2.
        assert_eq!(sub4(&[0; 4], &N)[..3], N_C[..]);
        let nm1 = sub4(&N, &[1, 0, 0, 0]);
        let doubled = [
            N_H[0] << 1,
            (N_H[1] << 1) | (N_H[0] >> 63),
            (N_H[2] << 1) | (N_H[1] >> 63),
            (N_H[3] << 1) | (N_H[2] >> 63),
        ];
        assert_eq!(doubled, nm1);
        // λ³ = 1, λ ≠ 1.
        let l = Scalar::LAMBDA;
        assert_eq!(l.mul(&l).mul(&l), Scalar::ONE);
        assert_ne!(l, Scalar::ONE);
    }

    #[test]
    fn arithmetic_identities() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let minus_one = Scalar::ONE.negate();
        assert_eq!(minus_one.mul(&minus_one), Scalar::ONE);
        for _ in 0..500 {
            let (a, b, c) = (
                rand_scalar(&mut rng),
                rand_scalar(&mut rng),
                rand_scalar(&mut rng),
            );
            assert_eq!(a.mul(&b.add(&c)), a.mul(&b).add(&a.mul(&c)));
            assert_eq!(a.mul(&b).mul(&c), a.mul(&b.mul(&c)));
            assert_eq!(a.add(&a.negate()), Scalar::ZERO);
            assert_eq!(a.mul(&minus_one), a.negate());
            if !a.is_zero() {
                assert_eq!(a.mul(&a.invert()), Scalar::ONE);
            }
        }
        // (2^128)^2 = 2^256 ≡ N_C.
        let two128 = Scalar { d: [0, 0, 1, 0] };
        assert_eq!(two128.mul(&two128).d, [N_C[0], N_C[1], N_C[2], 0]);
        assert!(Scalar::from_bytes(&N_bytes()).is_none());
        assert_eq!(Scalar::from_bytes_reduced(&N_bytes()), Scalar::ZERO);
    }

    #[allow(non_snake_case)]
    fn N_bytes() -> [u8; 32] {
        Scalar { d: N }.to_bytes()
    }

    #[test]
    fn split_lambda_recombines_with_small_halves() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
        let mut cases: Vec<Scalar> = (0..2000).map(|_| rand_scalar(&mut rng)).collect();
        cases.extend([
            Scalar::ZERO,
            Scalar::ONE,
            Scalar::ONE.negate(),
            Scalar::LAMBDA,
            Scalar { d: N_H },
        ]);
        for k in cases {
            let (r1, r2) = k.split_lambda();
            assert_eq!(r1.add(&r2.mul(&Scalar::LAMBDA)), k);
            assert!(r1.to_signed_u128().is_some(), "r1 too large for {k:?}");
            assert!(r2.to_signed_u128().is_some(), "r2 too large for {k:?}");
        }
    }
}
