//! A minimal unsigned 256-bit integer with exactly the semantics of Core's `arith_uint256`
//! that proof-of-work needs: compact encoding, wrapping multiply, division, shifts, ordering.
//!
//! Core's arithmetic wraps modulo 2^256 and shifts of 256 bits or more yield zero; this type
//! reproduces both, because a difference there would change which `nBits` are accepted.

use core::cmp::Ordering;

/// Unsigned 256-bit integer; limbs are little-endian (`limbs[0]` is least significant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct U256 {
    limbs: [u64; 4],
}

/// The result of decoding a compact (`nBits`) value, as Core's `SetCompact` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compact {
    pub value: U256,
    /// The sign bit was set on a non-zero mantissa.
    pub negative: bool,
    /// The value does not fit in 256 bits.
    pub overflow: bool,
}

impl U256 {
    pub const ZERO: Self = Self { limbs: [0; 4] };
    pub const ONE: Self = Self {
        limbs: [1, 0, 0, 0],
    };
    pub const MAX: Self = Self {
        limbs: [u64::MAX; 4],
    };

    #[must_use]
    pub const fn from_u64(v: u64) -> Self {
        Self {
            limbs: [v, 0, 0, 0],
        }
    }

    /// Interprets 32 bytes as a little-endian number (how Core reads a `uint256` hash).
    #[must_use]
    pub fn from_le_bytes(bytes: &[u8; 32]) -> Self {
        let mut limbs = [0u64; 4];
        for (i, limb) in limbs.iter_mut().enumerate() {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
            *limb = u64::from_le_bytes(w);
        }
        Self { limbs }
    }

    /// Little-endian serialisation (internal hash byte order).
    #[must_use]
    pub fn to_le_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, limb) in self.limbs.iter().enumerate() {
            out[i * 8..i * 8 + 8].copy_from_slice(&limb.to_le_bytes());
        }
        out
    }

    /// Parses big-endian hex as printed by Core (`uint256{"00000000ffff..."}`), 64 digits.
    /// Returns `None` for anything else; intended for constants.
    #[must_use]
    pub fn from_be_hex(hex: &str) -> Option<Self> {
        let b = hex.as_bytes();
        if b.len() != 64 {
            return None;
        }
        let mut limbs = [0u64; 4];
        for (i, chunk) in b.chunks(16).enumerate() {
            let s = core::str::from_utf8(chunk).ok()?;
            limbs[3 - i] = u64::from_str_radix(s, 16).ok()?;
        }
        Some(Self { limbs })
    }

    #[must_use]
    pub fn is_zero(&self) -> bool {
        self.limbs == [0; 4]
    }

    /// The lowest 64 bits.
    #[must_use]
    pub fn low_u64(&self) -> u64 {
        self.limbs[0]
    }

    /// Position of the highest set bit plus one (0 for zero), like Core's `bits()`.
    #[must_use]
    pub fn bits(&self) -> u32 {
        for i in (0..4).rev() {
            if self.limbs[i] != 0 {
                return 64 * i as u32 + (64 - self.limbs[i].leading_zeros());
            }
        }
        0
    }

    #[must_use]
    pub fn not(&self) -> Self {
        Self {
            limbs: self.limbs.map(|l| !l),
        }
    }

    /// Addition modulo 2^256.
    #[must_use]
    pub fn wrapping_add(&self, rhs: &Self) -> Self {
        let mut out = [0u64; 4];
        let mut carry = false;
        for (i, o) in out.iter_mut().enumerate() {
            let (s1, c1) = self.limbs[i].overflowing_add(rhs.limbs[i]);
            let (s2, c2) = s1.overflowing_add(u64::from(carry));
            *o = s2;
            carry = c1 || c2;
        }
        Self { limbs: out }
    }

    /// Addition that reports overflow instead of wrapping.
    #[must_use]
    pub fn checked_add(&self, rhs: &Self) -> Option<Self> {
        let sum = self.wrapping_add(rhs);
        (sum >= *self).then_some(sum)
    }

    /// Subtraction modulo 2^256.
    #[must_use]
    pub fn wrapping_sub(&self, rhs: &Self) -> Self {
        let mut out = [0u64; 4];
        let mut borrow = false;
        for (i, o) in out.iter_mut().enumerate() {
            let (d1, b1) = self.limbs[i].overflowing_sub(rhs.limbs[i]);
            let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
            *o = d2;
            borrow = b1 || b2;
        }
        Self { limbs: out }
    }

    /// Multiplication by a 64-bit value modulo 2^256.
    #[must_use]
    pub fn wrapping_mul_u64(&self, rhs: u64) -> Self {
        let mut out = [0u64; 4];
        let mut carry: u128 = 0;
        for (i, o) in out.iter_mut().enumerate() {
            let p = u128::from(self.limbs[i]) * u128::from(rhs) + carry;
            *o = p as u64;
            carry = p >> 64;
        }
        Self { limbs: out }
    }

    /// Left shift; shifting by 256 or more gives zero (as in Core).
    #[must_use]
    pub fn shl(&self, shift: u32) -> Self {
        if shift >= 256 {
            return Self::ZERO;
        }
        let words = (shift / 64) as usize;
        let bits = shift % 64;
        let mut out = [0u64; 4];
        for i in (words..4).rev() {
            let src = i - words;
            let mut v = self.limbs[src] << bits;
            if bits > 0 && src > 0 {
                v |= self.limbs[src - 1] >> (64 - bits);
            }
            out[i] = v;
        }
        Self { limbs: out }
    }

    /// Right shift; shifting by 256 or more gives zero.
    #[must_use]
    pub fn shr(&self, shift: u32) -> Self {
        if shift >= 256 {
            return Self::ZERO;
        }
        let words = (shift / 64) as usize;
        let bits = shift % 64;
        let mut out = [0u64; 4];
        for (i, o) in out.iter_mut().enumerate().take(4 - words) {
            let src = i + words;
            let mut v = self.limbs[src] >> bits;
            if bits > 0 && src + 1 < 4 {
                v |= self.limbs[src + 1] << (64 - bits);
            }
            *o = v;
        }
        Self { limbs: out }
    }

    fn bit(&self, n: u32) -> bool {
        (self.limbs[(n / 64) as usize] >> (n % 64)) & 1 == 1
    }

    /// Integer division; `None` when dividing by zero (Core throws `uint_error`).
    #[must_use]
    pub fn checked_div(&self, divisor: &Self) -> Option<Self> {
        if divisor.is_zero() {
            return None;
        }
        // Restoring long division, one bit at a time: 256 iterations at most, and only
        // run per retarget or per work computation, so simplicity wins over speed.
        let mut quotient = Self::ZERO;
        let mut rem = Self::ZERO;
        for n in (0..self.bits()).rev() {
            rem = rem.shl(1);
            if self.bit(n) {
                rem.limbs[0] |= 1;
            }
            if rem >= *divisor {
                rem = rem.wrapping_sub(divisor);
                quotient.limbs[(n / 64) as usize] |= 1 << (n % 64);
            }
        }
        Some(quotient)
    }

    /// Decodes a compact target exactly like Core's `arith_uint256::SetCompact`.
    #[must_use]
    pub fn from_compact(compact: u32) -> Compact {
        let size = compact >> 24;
        let mut word = compact & 0x007f_ffff;
        let value = if size <= 3 {
            word >>= 8 * (3 - size);
            Self::from_u64(u64::from(word))
        } else {
            Self::from_u64(u64::from(word)).shl(8 * (size - 3))
        };
        let negative = word != 0 && (compact & 0x0080_0000) != 0;
        let overflow =
            word != 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
        Compact {
            value,
            negative,
            overflow,
        }
    }

    /// Encodes as compact exactly like Core's `arith_uint256::GetCompact(negative)`.
    #[must_use]
    pub fn to_compact(&self, negative: bool) -> u32 {
        let mut size = self.bits().div_ceil(8);
        // The mantissa is below 2^24 in both branches, so the truncation is exact.
        let mut compact: u32 = if size <= 3 {
            (self.low_u64() << (8 * (3 - size))) as u32
        } else {
            self.shr(8 * (size - 3)).low_u64() as u32
        };
        if compact & 0x0080_0000 != 0 {
            compact >>= 8;
            size += 1;
        }
        compact |= size << 24;
        if negative && (compact & 0x007f_ffff) != 0 {
            compact |= 0x0080_0000;
        }
        compact
    }
}

impl Ord for U256 {
    fn cmp(&self, other: &Self) -> Ordering {
        for i in (0..4).rev() {
            match self.limbs[i].cmp(&other.limbs[i]) {
                Ordering::Equal => {}
                ord => return ord,
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for U256 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(v: &U256) -> String {
        v.to_le_bytes()
            .iter()
            .rev()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    // Core's arith_uint256_tests.cpp bignum_SetCompact, case by case.
    #[test]
    fn set_compact_matches_core() {
        let zero_cases = [
            0u32,
            0x0012_3456,
            0x0100_3456,
            0x0200_0056,
            0x0300_0000,
            0x0400_0000,
            0x0092_3456,
            0x0180_3456,
            0x0280_0056,
            0x0380_0000,
            0x0480_0000,
        ];
        for c in zero_cases {
            let d = U256::from_compact(c);
            assert!(d.value.is_zero(), "{c:08x}");
            assert_eq!(d.value.to_compact(false), 0);
            assert!(!d.negative && !d.overflow, "{c:08x}");
        }
        let d = U256::from_compact(0x0112_3456);
        assert_eq!(d.value, U256::from_u64(0x12));
        assert_eq!(d.value.to_compact(false), 0x0112_0000);
        assert_eq!(U256::from_u64(0x80).to_compact(false), 0x0200_8000);

        let d = U256::from_compact(0x01fe_dcba);
        assert_eq!(d.value, U256::from_u64(0x7e));
        assert_eq!(d.value.to_compact(true), 0x01fe_0000);
        assert!(d.negative && !d.overflow);

        for (c, v, back) in [
            (0x0212_3456u32, 0x1234u64, 0x0212_3400u32),
            (0x0312_3456, 0x12_3456, 0x0312_3456),
            (0x0412_3456, 0x1234_5600, 0x0412_3456),
            (0x0500_9234, 0x9234_0000, 0x0500_9234),
        ] {
            let d = U256::from_compact(c);
            assert_eq!(d.value, U256::from_u64(v));
            assert_eq!(d.value.to_compact(false), back);
            assert!(!d.negative && !d.overflow);
        }
        let d = U256::from_compact(0x0492_3456);
        assert_eq!(d.value, U256::from_u64(0x1234_5600));
        assert_eq!(d.value.to_compact(true), 0x0492_3456);
        assert!(d.negative);

        let d = U256::from_compact(0x2012_3456);
        assert_eq!(
            hex(&d.value),
            "1234560000000000000000000000000000000000000000000000000000000000"
        );
        assert_eq!(d.value.to_compact(false), 0x2012_3456);

        let d = U256::from_compact(0xff12_3456);
        assert!(!d.negative && d.overflow);
    }

    #[test]
    fn shifts_and_division() {
        let a = U256::from_u64(0xdead_beef).shl(100);
        assert_eq!(a.shr(100), U256::from_u64(0xdead_beef));
        assert_eq!(a.shl(200), U256::ZERO);
        assert_eq!(U256::ONE.shl(256), U256::ZERO);
        assert_eq!(U256::ONE.shl(255).bits(), 256);
        let q = a.checked_div(&U256::from_u64(0xdead_beef));
        assert_eq!(q, Some(U256::ONE.shl(100)));
        assert_eq!(a.checked_div(&U256::ZERO), None);
        assert_eq!(
            U256::MAX.checked_div(&U256::MAX.shr(1)),
            Some(U256::from_u64(2))
        );
        assert_eq!(U256::MAX.wrapping_add(&U256::ONE), U256::ZERO);
        assert_eq!(U256::MAX.checked_add(&U256::ONE), None);
        assert_eq!(U256::ONE.shl(255).wrapping_mul_u64(2), U256::ZERO);
        assert_eq!(
            U256::from_be_hex("00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
            Some(U256::MAX.shr(32))
        );
    }
}
