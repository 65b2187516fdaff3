//! Integers modulo the group order n in 4×64-bit limbs (little-endian), per signature: parse,
//! multiply, invert (batched), and the GLV split k = k1 + λ·k2 with halves below 2^129.
//!
//! Plain `u64` code: this is a few hundred nanoseconds per signature against tens of
//! microseconds of point arithmetic, so it does not need vectors.

/// n = FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFE BAAEDCE6 AF48A03B BFD25E8C D0364141.
pub(crate) const N: [u64; 4] = [
    0xBFD2_5E8C_D036_4141,
    0xBAAE_DCE6_AF48_A03B,
    0xFFFF_FFFF_FFFF_FFFE,
    0xFFFF_FFFF_FFFF_FFFF,
];
/// 2^256 − n (129 bits).
const N_COMP: [u64; 3] = [0x402D_A173_2FC9_BEBF, 0x4551_2319_50B7_5FC4, 1];
/// ⌊n / 2⌋: s above it is "high".
const N_HALF: [u64; 4] = [
    0xDFE9_2F46_681B_20A0,
    0x5D57_6E73_57A4_501D,
    0xFFFF_FFFF_FFFF_FFFF,
    0x7FFF_FFFF_FFFF_FFFF,
];
/// λ, a cube root of unity mod n: λ·(x, y) = (β·x, y).
const LAMBDA: [u64; 4] = [
    0xDF02_967C_1B23_BD72,
    0x122E_22EA_2081_6678,
    0xA526_1C02_8812_645A,
    0x5363_AD4C_C05C_30E0,
];
/// −b1 and −b2 mod n for the basis of the GLV lattice.
const MINUS_B1: [u64; 4] = [0x6F54_7FA9_0ABF_E4C3, 0xE443_7ED6_010E_8828, 0, 0];
const MINUS_B2: [u64; 4] = [
    0xD765_CDA8_3DB1_562C,
    0x8A28_0AC5_0774_346D,
    0xFFFF_FFFF_FFFF_FFFE,
    0xFFFF_FFFF_FFFF_FFFF,
];
/// round(2^384·b2/n) and round(2^384·(−b1)/n).
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

/// An integer modulo n, fully reduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Scalar(pub(crate) [u64; 4]);

fn ge(a: &[u64; 4], b: &[u64; 4]) -> bool {
    for i in (0..4).rev() {
        if a[i] != b[i] {
            return a[i] > b[i];
        }
    }
    true
}

/// `a − b` mod 2^256 and the borrow.
fn sub_borrow(a: &[u64; 4], b: &[u64; 4]) -> ([u64; 4], bool) {
    let mut r = [0u64; 4];
    let mut borrow = false;
    for i in 0..4 {
        let (v, b1) = a[i].overflowing_sub(b[i]);
        let (v, b2) = v.overflowing_sub(u64::from(borrow));
        r[i] = v;
        borrow = b1 || b2;
    }
    (r, borrow)
}

/// `a + b` mod 2^256 and the carry.
fn add_carry(a: &[u64; 4], b: &[u64; 4]) -> ([u64; 4], bool) {
    let mut r = [0u64; 4];
    let mut carry = false;
    for i in 0..4 {
        let (v, c1) = a[i].overflowing_add(b[i]);
        let (v, c2) = v.overflowing_add(u64::from(carry));
        r[i] = v;
        carry = c1 || c2;
    }
    (r, carry)
}

/// Full product of limb slices (little-endian) into `out` (zeroed, long enough).
fn mul_into(a: &[u64], b: &[u64], out: &mut [u64]) {
    for (i, &x) in a.iter().enumerate() {
        let mut carry = 0u128;
        for (j, &y) in b.iter().enumerate() {
            let t = u128::from(x) * u128::from(y) + u128::from(out[i + j]) + carry;
            out[i + j] = t as u64;
            carry = t >> 64;
        }
        let mut k = i + b.len();
        while carry != 0 {
            let t = u128::from(out[k]) + carry;
            out[k] = t as u64;
            carry = t >> 64;
            k += 1;
        }
    }
}

/// Reduces a 512-bit integer mod n: fold the part above 2^256 by 2^256 ≡ 2^256 − n until
/// nothing is left above, then subtract n while the value is at least n.
fn reduce512(v: &[u64; 8]) -> Scalar {
    let mut cur = *v;
    while cur[4..].iter().any(|&x| x != 0) {
        let mut next = [0u64; 8];
        next[..4].copy_from_slice(&cur[..4]);
        let mut folded = [0u64; 8];
        let hi_len = 4 - cur[4..].iter().rev().take_while(|&&x| x == 0).count();
        mul_into(&cur[4..4 + hi_len], &N_COMP, &mut folded);
        let mut carry = 0u128;
        for i in 0..8 {
            let t = u128::from(next[i]) + u128::from(folded[i]) + carry;
            next[i] = t as u64;
            carry = t >> 64;
        }
        cur = next;
    }
    let mut r = [cur[0], cur[1], cur[2], cur[3]];
    while ge(&r, &N) {
        r = sub_borrow(&r, &N).0;
    }
    Scalar(r)
}

impl Scalar {
    /// From 32 big-endian bytes; `None` when the integer is n or more.
    pub(crate) fn from_be_checked(b: &[u8; 32]) -> Option<Scalar> {
        let l = limbs_be(b);
        if ge(&l, &N) {
            None
        } else {
            Some(Scalar(l))
        }
    }

    /// From 32 big-endian bytes, reduced mod n (as libsecp256k1 reads a message hash).
    pub(crate) fn from_be_reduced(b: &[u8; 32]) -> Scalar {
        let l = limbs_be(b);
        if ge(&l, &N) {
            Scalar(sub_borrow(&l, &N).0)
        } else {
            Scalar(l)
        }
    }

    /// 32 big-endian bytes.
    pub(crate) fn to_be(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, chunk) in out.rchunks_exact_mut(8).enumerate() {
            chunk.copy_from_slice(&self.0[i].to_be_bytes());
        }
        out
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.0 == [0; 4]
    }

    /// Above n/2 (libsecp256k1 rejects such an ECDSA `s`).
    pub(crate) fn is_high(&self) -> bool {
        !ge(&N_HALF, &self.0)
    }

    pub(crate) fn add(&self, o: &Scalar) -> Scalar {
        let (r, carry) = add_carry(&self.0, &o.0);
        if carry || ge(&r, &N) {
            Scalar(sub_borrow(&r, &N).0)
        } else {
            Scalar(r)
        }
    }

    pub(crate) fn neg(&self) -> Scalar {
        if self.is_zero() {
            *self
        } else {
            Scalar(sub_borrow(&N, &self.0).0)
        }
    }

    pub(crate) fn mul(&self, o: &Scalar) -> Scalar {
        let mut w = [0u64; 8];
        mul_into(&self.0, &o.0, &mut w);
        reduce512(&w)
    }

    /// `self^(n−2)`, the inverse (0 for 0), by 4-bit fixed windows.
    pub(crate) fn invert(&self) -> Scalar {
        let mut pow = [Scalar([1, 0, 0, 0]); 16];
        for i in 1..16 {
            pow[i] = pow[i - 1].mul(self);
        }
        let e = sub_borrow(&N, &[2, 0, 0, 0]).0;
        let mut r = Scalar([1, 0, 0, 0]);
        for i in (0..64).rev() {
            for _ in 0..4 {
                r = r.mul(&r);
            }
            let nib = (e[i / 16] >> (4 * (i % 16))) & 15;
            // nib < 16 by the mask.
            r = r.mul(&pow[nib as usize]);
        }
        r
    }

    /// Inverts every element in place with one inversion (Montgomery's trick). Zeros stay
    /// zero (they are skipped).
    pub(crate) fn batch_invert(xs: &mut [Scalar]) {
        let mut prefix = Vec::with_capacity(xs.len());
        let mut acc = Scalar([1, 0, 0, 0]);
        for x in xs.iter() {
            prefix.push(acc);
            if !x.is_zero() {
                acc = acc.mul(x);
            }
        }
        let mut inv = acc.invert();
        for (x, pre) in xs.iter_mut().zip(prefix).rev() {
            if !x.is_zero() {
                let xi = inv.mul(&pre);
                inv = inv.mul(x);
                *x = xi;
            }
        }
    }

    /// `round(self·g / 2^384)`.
    fn mul_shift_384(&self, g: &[u64; 4]) -> Scalar {
        let mut w = [0u64; 8];
        mul_into(&self.0, g, &mut w);
        let round = (w[5] >> 63) & 1;
        let (r, _) = add_carry(&[w[6], w[7], 0, 0], &[round, 0, 0, 0]);
        Scalar(r)
    }

    /// The GLV split: (k1, k2) with k1 + λ·k2 ≡ self, both small in absolute value (as
    /// integers mod n, within 2^128 of 0 or of n).
    pub(crate) fn split_lambda(&self) -> (Scalar, Scalar) {
        let c1 = self.mul_shift_384(&G1).mul(&Scalar(MINUS_B1));
        let c2 = self.mul_shift_384(&G2).mul(&Scalar(MINUS_B2));
        let k2 = c1.add(&c2);
        let k1 = self.add(&k2.mul(&Scalar(LAMBDA)).neg());
        (k1, k2)
    }

    /// `(negative, |v|)` for the integer v in (−n/2, n/2] this scalar stands for, when
    /// |v| < 2^128; `None` otherwise (the callers then leave the signature to libsecp256k1).
    pub(crate) fn to_signed_small(self) -> Option<(bool, u128)> {
        let (neg, v) = if self.is_high() {
            (true, self.neg())
        } else {
            (false, self)
        };
        if v.0[2] != 0 || v.0[3] != 0 {
            return None;
        }
        Some((neg, v.half(0)))
    }

    /// Bits `128·half ..` as a u128 (half 0 or 1).
    pub(crate) fn half(&self, half: usize) -> u128 {
        u128::from(self.0[2 * half]) | u128::from(self.0[2 * half + 1]) << 64
    }
}

fn limbs_be(b: &[u8; 32]) -> [u64; 4] {
    let mut l = [0u64; 4];
    for (i, chunk) in b.rchunks_exact(8).enumerate() {
        let mut a = [0u8; 8];
        a.copy_from_slice(chunk);
        l[i] = u64::from_be_bytes(a);
    }
    l
}

/// λ as a scalar (tests check λ³ = 1 and the endomorphism).
#[cfg(test)]
pub(crate) const LAMBDA_SCALAR: Scalar = Scalar(LAMBDA);
