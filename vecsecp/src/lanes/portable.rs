//! Plain-`u64` lanes with the vector semantics: the reference backend and the vector
//! backends' twin (`MADD52 = true`: IFMA's, multiplying in radix 2^52; `false`: AVX2's,
//! multiplying in radix 2^26).

use super::{check_gather_bounds, Lane64, MAX_LANES};

/// `N` lanes of plain `u64` (N ≤ 8); `MADD52` chooses the field's multiplication as
/// [`Lane64::NATIVE_MADD52`] does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Portable<const N: usize, const MADD52: bool = true>(pub(crate) [u64; N]);

const M52: u64 = (1 << 52) - 1;

impl<const N: usize, const MADD52: bool> Portable<N, MADD52> {
    fn map2(self, o: Self, f: impl Fn(u64, u64) -> u64) -> Self {
        let mut r = self.0;
        for (x, y) in r.iter_mut().zip(o.0) {
            *x = f(*x, y);
        }
        Self(r)
    }

    /// The 104-bit product IFMA forms from the low 52 bits of each multiplicand.
    fn prod52(b: u64, c: u64) -> u128 {
        // The field code never hands IFMA a wider multiplicand: the hardware would drop the
        // excess bits silently, so this is where a magnitude slip would show in tests.
        debug_assert!(b <= M52 && c <= M52, "IFMA multiplicand over 52 bits");
        u128::from(b & M52) * u128::from(c & M52)
    }
}

impl<const N: usize, const MADD52: bool> Lane64 for Portable<N, MADD52> {
    const LANES: usize = N;
    const NATIVE_MADD52: bool = MADD52;

    fn splat(x: u64) -> Self {
        Self([x; N])
    }
    fn load(x: &[u64; MAX_LANES]) -> Self {
        let mut r = [0; N];
        r.copy_from_slice(&x[..N]);
        Self(r)
    }
    fn store(self) -> [u64; MAX_LANES] {
        let mut r = [0; MAX_LANES];
        r[..N].copy_from_slice(&self.0);
        r
    }
    fn add(self, o: Self) -> Self {
        self.map2(o, u64::wrapping_add)
    }
    fn sub(self, o: Self) -> Self {
        self.map2(o, u64::wrapping_sub)
    }
    fn and(self, o: Self) -> Self {
        self.map2(o, |a, b| a & b)
    }
    fn or(self, o: Self) -> Self {
        self.map2(o, |a, b| a | b)
    }
    fn xor(self, o: Self) -> Self {
        self.map2(o, |a, b| a ^ b)
    }
    fn shr<const S: u32>(self) -> Self {
        Self(self.0.map(|x| x >> S))
    }
    fn shl<const S: u32>(self) -> Self {
        Self(self.0.map(|x| x << S))
    }
    fn mul32(self, o: Self) -> Self {
        // As with IFMA above: the hardware drops bits above 32 silently, so a multiplicand
        // that wide is a bound slip in the caller.
        self.map2(o, |a, b| {
            debug_assert!(u32::try_from(a).is_ok() && u32::try_from(b).is_ok());
            (a & 0xFFFF_FFFF) * (b & 0xFFFF_FFFF)
        })
    }
    fn madd52lo(self, b: Self, c: Self) -> Self {
        let mut r = self.0;
        for ((x, &y), &z) in r.iter_mut().zip(&b.0).zip(&c.0) {
            *x = x.wrapping_add((Self::prod52(y, z) as u64) & M52);
        }
        Self(r)
    }
    fn madd52hi(self, b: Self, c: Self) -> Self {
        let mut r = self.0;
        for ((x, &y), &z) in r.iter_mut().zip(&b.0).zip(&c.0) {
            *x = x.wrapping_add((Self::prod52(y, z) >> 52) as u64);
        }
        Self(r)
    }
    fn zero_mask(self) -> u32 {
        let mut m = 0;
        for (i, &x) in self.0.iter().enumerate() {
            if x == 0 {
                m |= 1 << i;
            }
        }
        m
    }
    fn blend(mask: u32, a: Self, b: Self) -> Self {
        let mut r = b.0;
        for (i, x) in r.iter_mut().enumerate() {
            if mask >> i & 1 == 1 {
                *x = a.0[i];
            }
        }
        Self(r)
    }
    fn gather<const K: usize>(base: &[u64], idx: &[u64; MAX_LANES], stride: usize) -> [Self; K] {
        check_gather_bounds(base.len(), idx, N, K, stride);
        let mut out = [Self([0; N]); K];
        for (k, v) in out.iter_mut().enumerate() {
            for (lane, x) in v.0.iter_mut().enumerate() {
                // In bounds: checked above. Truncation impossible: checked by try_from there.
                *x = base[idx[lane] as usize + k * stride];
            }
        }
        out
    }
}
