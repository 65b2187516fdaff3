//! Field elements modulo p = 2^256 - 2^32 - 977, in 5x52-bit limbs.
//!
//! The layout follows libsecp256k1's `field_5x52`: a value is `Σ n[i]·2^(52i)`, limbs may exceed
//! 52 bits ("magnitude" m means every limb is at most `2·m·(2^52-1)`, the top one
//! `2·m·(2^48-1)`), so additions need no carries. Products go through `u128` and reduce with
//! `2^260 ≡ 0x1000003D10 (mod p)`. Callers keep magnitudes ≤ 8 before `mul`/`sqr`; the group
//! formulas in `group.rs` document theirs. Nothing here is constant time: verification only
//! touches public data.

const M52: u64 = 0xF_FFFF_FFFF_FFFF;
const M48: u64 = 0xFFFF_FFFF_FFFF;
/// 2^260 mod p, shifted: the reduction constant for the 5x52 product.
const R: u64 = 0x10_0000_3D10;
/// p's limbs.
const P0: u64 = 0xF_FFFE_FFFF_FC2F;

/// An element of GF(p), possibly not fully reduced (see the module docs).
#[derive(Clone, Copy, Debug)]
pub struct Fe {
    n: [u64; 5],
}

impl Fe {
    pub const ZERO: Fe = Fe { n: [0; 5] };
    pub const ONE: Fe = Fe { n: [1, 0, 0, 0, 0] };

    /// A small constant.
    #[must_use]
    pub const fn from_u64(v: u64) -> Fe {
        Fe {
            n: [v & M52, v >> 52, 0, 0, 0],
        }
    }

    /// Parses 32 big-endian bytes; `None` when the value is ≥ p (BIP340 rejects those).
    #[must_use]
    pub fn from_bytes(b: &[u8; 32]) -> Option<Fe> {
        let fe = Self::from_bytes_unchecked(b);
        let n = fe.n;
        let overflow = n[4] == M48 && (n[3] & n[2] & n[1]) == M52 && n[0] >= P0;
        if overflow {
            None
        } else {
            Some(fe)
        }
    }

    /// Parses 32 big-endian bytes without checking the range (the value may be ≥ p, magnitude 1).
    #[must_use]
    pub const fn from_bytes_unchecked(b: &[u8; 32]) -> Fe {
        let mut w = [0u64; 4];
        let mut i = 0;
        while i < 4 {
            let mut v = 0u64;
            let mut j = 0;
            while j < 8 {
                v = (v << 8) | b[i * 8 + j] as u64;
                j += 1;
            }
            w[3 - i] = v;
            i += 1;
        }
        Fe {
            n: [
                w[0] & M52,
                (w[0] >> 52) | ((w[1] << 12) & M52),
                (w[1] >> 40) | ((w[2] << 24) & M52),
                (w[2] >> 28) | ((w[3] << 36) & M52),
                w[3] >> 16,
            ],
        }
    }

    /// Big-endian bytes of the fully reduced value.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; 32] {
        let n = self.normalized().n;
        let w = [
            n[0] | (n[1] << 52),
            (n[1] >> 12) | (n[2] << 40),
            (n[2] >> 24) | (n[3] << 28),
            (n[3] >> 36) | (n[4] << 16),
        ];
        let mut out = [0u8; 32];
        for (i, limb) in w.iter().enumerate() {
            out[(3 - i) * 8..(4 - i) * 8].copy_from_slice(&limb.to_be_bytes());
        }
        out
    }

    /// The unique representative in [0, p) with magnitude 1.
    #[must_use]
    pub fn normalized(&self) -> Fe {
        let [mut t0, mut t1, mut t2, mut t3, mut t4] = self.n;
        let x = t4 >> 48;
        t4 &= M48;
        t0 += x * 0x1_0000_03D1;
        t1 += t0 >> 52;
        t0 &= M52;
        t2 += t1 >> 52;
        t1 &= M52;
        let mut m = t1;
        t3 += t2 >> 52;
        t2 &= M52;
        m &= t2;
        t4 += t3 >> 52;
        t3 &= M52;
        m &= t3;
        // Now the value is < 2^256 + small; subtract p once if it is ≥ p.
        let x = (t4 >> 48) | u64::from(t4 == M48 && m == M52 && t0 >= P0);
        t0 += x * 0x1_0000_03D1;
        t1 += t0 >> 52;
        t0 &= M52;
        t2 += t1 >> 52;
        t1 &= M52;
        t3 += t2 >> 52;
        t2 &= M52;
        t4 += t3 >> 52;
        t3 &= M52;
        t4 &= M48;
        Fe {
            n: [t0, t1, t2, t3, t4],
        }
    }

    /// Magnitude 1 (one carry pass), not necessarily below p: enough for further arithmetic.
    #[inline(always)]
    #[must_use]
    pub fn normalized_weak(&self) -> Fe {
        let [mut t0, mut t1, mut t2, mut t3, mut t4] = self.n;
        let x = t4 >> 48;
        t4 &= M48;
        t0 += x * 0x1_0000_03D1;
        t1 += t0 >> 52;
        t0 &= M52;
        t2 += t1 >> 52;
        t1 &= M52;
        t3 += t2 >> 52;
        t2 &= M52;
        t4 += t3 >> 52;
        t3 &= M52;
        Fe {
            n: [t0, t1, t2, t3, t4],
        }
    }

    /// Whether the value is 0 mod p (libsecp256k1's `normalizes_to_zero`: after one carry pass
    /// the value is 0 or p).
    #[inline]
    #[must_use]
    pub fn is_zero(&self) -> bool {
        let [t0, t1, t2, t3, t4] = self.normalized_weak().n;
        let z0 = t0 | t1 | t2 | t3 | t4;
        let z1 = (t0 ^ 0x1_0000_03D0) & t1 & t2 & t3 & (t4 ^ 0xF_0000_0000_0000);
        z0 == 0 || z1 == M52
    }

    /// Whether the two values are equal mod p (any magnitudes).
    #[must_use]
    pub fn equals(&self, other: &Fe) -> bool {
        self.normalized_weak()
            .add(&other.normalized_weak().negate(1))
            .is_zero()
    }

    /// Whether the reduced value is odd.
    #[must_use]
    pub fn is_odd(&self) -> bool {
        self.normalized().n[0] & 1 == 1
    }

    /// Sum; magnitudes add.
    #[inline(always)]
    #[must_use]
    pub fn add(&self, o: &Fe) -> Fe {
        Fe {
            n: [
                self.n[0] + o.n[0],
                self.n[1] + o.n[1],
                self.n[2] + o.n[2],
                self.n[3] + o.n[3],
                self.n[4] + o.n[4],
            ],
        }
    }

    /// Multiplies by a small integer; the magnitude scales by `k`.
    #[inline(always)]
    #[must_use]
    pub fn mul_int(&self, k: u64) -> Fe {
        Fe {
            n: self.n.map(|l| l * k),
        }
    }

    /// `-self` for an input of magnitude at most `m`; the result has magnitude `m + 1`.
    #[inline(always)]
    #[must_use]
    pub fn negate(&self, m: u64) -> Fe {
        let k = 2 * (m + 1);
        Fe {
            n: [
                P0 * k - self.n[0],
                M52 * k - self.n[1],
                M52 * k - self.n[2],
                M52 * k - self.n[3],
                M48 * k - self.n[4],
            ],
        }
    }

    /// `self / 2`; magnitude m becomes m/2 + 1.
    #[inline(always)]
    #[must_use]
    pub fn half(&self) -> Fe {
        let [mut t0, mut t1, mut t2, mut t3, mut t4] = self.n;
        // Add p when odd so the shift is exact.
        let mask = (0u64.wrapping_sub(t0 & 1)) >> 12;
        t0 += P0 & mask;
        t1 += mask;
        t2 += mask;
        t3 += mask;
        t4 += mask >> 4;
        Fe {
            n: [
                (t0 >> 1) + ((t1 & 1) << 51),
                (t1 >> 1) + ((t2 & 1) << 51),
                (t2 >> 1) + ((t3 & 1) << 51),
                (t3 >> 1) + ((t4 & 1) << 51),
                t4 >> 1,
            ],
        }
    }

    /// Product, magnitude 1. Inputs must have magnitude ≤ 8.
    #[inline(always)]
    #[must_use]
    pub fn mul(&self, b: &Fe) -> Fe {
        let [a0, a1, a2, a3, a4] = self.n;
        let b = b.n;
        let m = |x: u64, y: u64| u128::from(x) * u128::from(y);

        let mut d = m(a0, b[3]) + m(a1, b[2]) + m(a2, b[1]) + m(a3, b[0]);
        let mut c = m(a4, b[4]);
        d += m(R, c as u64);
        c >>= 64;
        let t3 = (d as u64) & M52;
        d >>= 52;

        d += m(a0, b[4]) + m(a1, b[3]) + m(a2, b[2]) + m(a3, b[1]) + m(a4, b[0]);
        d += m(R << 12, c as u64);
        let mut t4 = (d as u64) & M52;
        d >>= 52;
        let tx = t4 >> 48;
        t4 &= M52 >> 4;

        c = m(a0, b[0]);
        d += m(a1, b[4]) + m(a2, b[3]) + m(a3, b[2]) + m(a4, b[1]);
        let mut u0 = (d as u64) & M52;
        d >>= 52;
        u0 = (u0 << 4) | tx;
        c += m(u0, R >> 4);
        let r0 = (c as u64) & M52;
        c >>= 52;

        c += m(a0, b[1]) + m(a1, b[0]);
        d += m(a2, b[4]) + m(a3, b[3]) + m(a4, b[2]);
        c += m((d as u64) & M52, R);
        d >>= 52;
        let r1 = (c as u64) & M52;
        c >>= 52;

        c += m(a0, b[2]) + m(a1, b[1]) + m(a2, b[0]);
        d += m(a3, b[4]) + m(a4, b[3]);
        c += m(R, d as u64);
        d >>= 64;
        let r2 = (c as u64) & M52;
        c >>= 52;

        c += m(R << 12, d as u64) + u128::from(t3);
        let r3 = (c as u64) & M52;
        c >>= 52;
        c += u128::from(t4);
        Fe {
            n: [r0, r1, r2, r3, c as u64],
        }
    }

    /// Square, magnitude 1. Input magnitude ≤ 8.
    #[inline(always)]
    #[must_use]
    pub fn sqr(&self) -> Fe {
        let [mut a0, a1, a2, a3, mut a4] = self.n;
        let m = |x: u64, y: u64| u128::from(x) * u128::from(y);

        let mut d = m(a0 * 2, a3) + m(a1 * 2, a2);
        let mut c = m(a4, a4);
        d += m(R, c as u64);
        c >>= 64;
        let t3 = (d as u64) & M52;
        d >>= 52;

        a4 *= 2;
        d += m(a0, a4) + m(a1 * 2, a3) + m(a2, a2);
        d += m(R << 12, c as u64);
        let mut t4 = (d as u64) & M52;
        d >>= 52;
        let tx = t4 >> 48;
        t4 &= M52 >> 4;

        c = m(a0, a0);
        d += m(a1, a4) + m(a2 * 2, a3);
        let mut u0 = (d as u64) & M52;
        d >>= 52;
        u0 = (u0 << 4) | tx;
        c += m(u0, R >> 4);
        let r0 = (c as u64) & M52;
        c >>= 52;

        a0 *= 2;
        c += m(a0, a1);
        d += m(a2, a4) + m(a3, a3);
        c += m((d as u64) & M52, R);
        d >>= 52;
        let r1 = (c as u64) & M52;
        c >>= 52;

        c += m(a0, a2) + m(a1, a1);
        d += m(a3, a4);
        c += m(R, d as u64);
        d >>= 64;
        let r2 = (c as u64) & M52;
        c >>= 52;

        c += m(R << 12, d as u64) + u128::from(t3);
        let r3 = (c as u64) & M52;
        c >>= 52;
        c += u128::from(t4);
        Fe {
            n: [r0, r1, r2, r3, c as u64],
        }
    }

    /// `self^(2^k)`.
    #[inline]
    #[must_use]
    fn sqr_n(&self, k: usize) -> Fe {
        let mut r = *self;
        for _ in 0..k {
            r = r.sqr();
        }
        r
    }

    /// `self^(p-2)`: the inverse, or 0 for 0 (addition chain in 4x64 limbs, see `field4.rs`).
    #[must_use]
    pub fn invert(&self) -> Fe {
        super::field4::pow_inv(self)
    }

    /// A square root if one exists: `self^((p+1)/4)`, checked by squaring.
    #[must_use]
    pub fn sqrt(&self) -> Option<Fe> {
        let r = super::field4::pow_sqrt(self);
        if r.sqr().equals(self) {
            Some(r)
        } else {
            None
        }
    }

    /// Square roots of `K` elements at once (`field4` interleaves the independent
    /// exponentiations), each checked by squaring like [`sqrt`](Self::sqrt).
    #[must_use]
    pub fn sqrt_lanes<const K: usize>(a: &[Fe; K]) -> [Option<Fe>; K] {
        let roots = super::field4::pow_sqrt_lanes(a);
        let mut out = [None; K];
        for ((o, r), x) in out.iter_mut().zip(roots).zip(a) {
            if r.sqr().equals(x) {
                *o = Some(r);
            }
        }
        out
    }

    /// `self^((p+1)/4)` with 5x52 squarings: the reference for `field4`'s chain (tests and the
    /// field benchmark compare them).
    #[must_use]
    pub fn pow_sqrt_5x52(&self) -> Fe {
        let x2 = self.sqr().mul(self);
        let x3 = x2.sqr().mul(self);
        let x6 = x3.sqr_n(3).mul(&x3);
        let x9 = x6.sqr_n(3).mul(&x3);
        let x11 = x9.sqr_n(2).mul(&x2);
        let x22 = x11.sqr_n(11).mul(&x11);
        let x44 = x22.sqr_n(22).mul(&x22);
        let x88 = x44.sqr_n(44).mul(&x44);
        let x176 = x88.sqr_n(88).mul(&x88);
        let x220 = x176.sqr_n(44).mul(&x44);
        let x223 = x220.sqr_n(3).mul(&x3);
        let t = x223.sqr_n(23).mul(&x22);
        t.sqr_n(6).mul(&x2).sqr_n(2)
    }

    /// Inverts every element (all must be non-zero) with one inversion (Montgomery's trick).
    pub fn batch_invert(elems: &mut [Fe]) {
        if elems.is_empty() {
            return;
        }
        let mut prefix = Vec::with_capacity(elems.len());
        let mut acc = Fe::ONE;
        for e in elems.iter() {
            prefix.push(acc);
            acc = acc.mul(e);
        }
        let mut inv = acc.invert();
        for (e, pre) in elems.iter_mut().zip(prefix.iter()).rev() {
            let next = inv.mul(e);
            *e = inv.mul(pre);
            inv = next;
        }
    }
}

#[cfg(test)]
#[allow(clippy::cast_sign_loss, clippy::cast_possible_wrap)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Independent reference: 4x64 limbs, schoolbook product and reduction by 2^256 ≡ 0x1000003D1.
    fn ref_mul(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
        let limbs = |x: &[u8; 32]| -> [u64; 4] {
            let mut w = [0u64; 4];
            for (i, l) in w.iter_mut().enumerate() {
                let mut buf = [0u8; 8];
                buf.copy_from_slice(&x[(3 - i) * 8..(4 - i) * 8]);
                *l = u64::from_be_bytes(buf);
            }
            w
        };
        let (a, b) = (limbs(a), limbs(b));
        let mut prod = [0u128; 9];
        for i in 0..4 {
            for j in 0..4 {
                let p = u128::from(a[i]) * u128::from(b[j]);
                prod[i + j] += p & u128::from(u64::MAX);
                prod[i + j + 1] += p >> 64;
            }
        }
        let mut w = [0u64; 8];
        let mut carry = 0u128;
        for i in 0..8 {
            let v = prod[i] + carry;
            w[i] = v as u64;
            carry = v >> 64;
        }
        // Fold the high half twice, then subtract p while ≥ p.
        let mut val: [u64; 5] = [w[0], w[1], w[2], w[3], 0];
        let mut hi = [w[4], w[5], w[6], w[7]];
        for _ in 0..3 {
            let mut c = 0u128;
            let mut next = [0u64; 5];
            for i in 0..4 {
                let v = u128::from(val[i]) + u128::from(hi[i]) * 0x1_0000_03D1 + c;
                next[i] = v as u64;
                c = v >> 64;
            }
            next[4] = c as u64;
            hi = [next[4], 0, 0, 0];
            val = [next[0], next[1], next[2], next[3], 0];
        }
        let p = [0xFFFF_FFFE_FFFF_FC2F, u64::MAX, u64::MAX, u64::MAX];
        loop {
            let ge = (0..4)
                .rev()
                .find(|&i| val[i] != p[i])
                .is_none_or(|i| val[i] > p[i]);
            if !ge {
                break;
            }
            let mut borrow = 0i128;
            for i in 0..4 {
                let v = i128::from(val[i]) - i128::from(p[i]) - borrow;
                borrow = i128::from(v < 0);
                val[i] = (v + (borrow << 64)) as u64;
            }
        }
        let mut out = [0u8; 32];
        for i in 0..4 {
            out[(3 - i) * 8..(4 - i) * 8].copy_from_slice(&val[i].to_be_bytes());
        }
        out
    }

    fn rand_fe_bytes(rng: &mut impl Rng) -> [u8; 32] {
        let mut b = [0u8; 32];
        rng.fill(&mut b);
        b[0] &= 0x7F; // keep below p
        b
    }

    #[test]
    fn mul_and_sqr_match_reference() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for _ in 0..2000 {
            let (a, b) = (rand_fe_bytes(&mut rng), rand_fe_bytes(&mut rng));
            let fa = Fe::from_bytes(&a).unwrap();
            let fb = Fe::from_bytes(&b).unwrap();
            assert_eq!(fa.mul(&fb).to_bytes(), ref_mul(&a, &b));
            assert_eq!(fa.sqr().to_bytes(), ref_mul(&a, &a));
        }
        // Edge values: p - 1 squared is 1.
        let pm1 = Fe::ZERO.add(&Fe::ONE).negate(1);
        assert!(pm1.sqr().equals(&Fe::ONE));
    }

    #[test]
    fn high_magnitude_inputs_multiply_correctly() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        for _ in 0..500 {
            let a = Fe::from_bytes(&rand_fe_bytes(&mut rng)).unwrap();
            let b = Fe::from_bytes(&rand_fe_bytes(&mut rng)).unwrap();
            // -a (magnitude 2) + 6a (magnitude 6) = 5a with magnitude 8, the documented limit.
            let big = a.negate(1).add(&a.mul_int(6));
            let five_a = Fe::from_bytes(&a.mul_int(5).to_bytes()).unwrap();
            assert!(big.mul(&b).equals(&five_a.mul(&b)));
            assert!(big.sqr().equals(&five_a.sqr()));
            assert!(big.mul(&big).equals(&big.sqr()));
        }
    }

    #[test]
    fn byte_round_trip_and_range_check() {
        let p_bytes =
            hex_literal("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F");
        assert!(Fe::from_bytes(&p_bytes).is_none());
        let mut pm1 = p_bytes;
        pm1[31] -= 1;
        assert_eq!(Fe::from_bytes(&pm1).unwrap().to_bytes(), pm1);
        assert!(Fe::from_bytes_unchecked(&p_bytes).is_zero());
        assert!(Fe::from_bytes(&[0xFF; 32]).is_none());
    }

    fn hex_literal(s: &str) -> [u8; 32] {
        let v = hex::decode(s).unwrap();
        v.try_into().unwrap()
    }

    #[test]
    fn zero_and_equality_detection() {
        let p_bytes =
            hex_literal("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F");
        assert!(Fe::from_bytes_unchecked(&p_bytes).is_zero());
        assert!(Fe::ZERO.is_zero());
        assert!(!Fe::ONE.is_zero());
        let a = Fe::from_u64(12345);
        // a - a at several magnitudes, and 2p + a == a.
        assert!(a.add(&a.negate(1)).is_zero());
        assert!(a.mul_int(3).add(&a.mul_int(3).negate(3)).is_zero());
        let two_p = Fe::from_bytes_unchecked(&p_bytes).mul_int(2);
        assert!(two_p.add(&a).equals(&a));
        assert!(!a.equals(&a.add(&Fe::ONE)));
        assert!(a.mul_int(5).equals(&Fe::from_u64(5 * 12345)));
    }

    #[test]
    fn invert_sqrt_half() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut batch = Vec::new();
        for _ in 0..100 {
            let a = Fe::from_bytes(&rand_fe_bytes(&mut rng)).unwrap();
            assert!(a.mul(&a.invert()).equals(&Fe::ONE));
            let sq = a.sqr();
            let r = sq.sqrt().unwrap();
            assert!(r.equals(&sq.pow_sqrt_5x52()));
            // The interleaved pair agrees with one-at-a-time, with and without roots.
            let [r1, r2] = Fe::sqrt_lanes(&[sq, sq.negate(1)]);
            assert!(r1.is_some_and(|r1| r1.equals(&r)) && r2.is_none());
            let [r1, r2, r3, r4] = Fe::sqrt_lanes(&[sq.negate(1), sq, Fe::ONE, a.negate(1)]);
            assert!(r1.is_none() && r2.is_some_and(|r2| r2.equals(&r)));
            assert!(r3.is_some_and(|r3| r3.equals(&Fe::ONE) || r3.equals(&Fe::ONE.negate(1))));
            assert_eq!(r4.is_some(), a.negate(1).sqrt().is_some());
            assert!(r.equals(&a) || r.equals(&a.negate(1)));
            // -1 is not a square mod p (p ≡ 3 mod 4), so -a² has no root.
            assert!(sq.negate(1).sqrt().is_none());
            assert!(a.half().add(&a.half()).equals(&a));
            batch.push(a);
        }
        let mut inv = batch.clone();
        Fe::batch_invert(&mut inv);
        for (a, i) in batch.iter().zip(&inv) {
            assert!(a.mul(i).equals(&Fe::ONE));
        }
        assert!(Fe::ZERO.invert().is_zero());
    }
}
