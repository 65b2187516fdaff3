//! Vectors of u64 lanes: the few operations the radix-2^52 field needs, once per backend.
//!
//! The field arithmetic (`crate::field`) is written once over [`Lane64`]; each backend supplies
//! these primitives. [`Portable`] emulates them in plain `u64` code with exactly the semantics
//! of the vector instructions (`vpmadd52luq`/`vpmadd52huq` read only the low 52 bits of
//! their multiplicands, `vpmuludq` only the low 32), so it runs the same algorithm bit for bit
//! and checks, in debug builds, that no multiplicand ever carries more than those bits.
//! `Portable<N, false>` is the twin of the AVX2 backend (products through 32-bit multiplies).

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
#[cfg(target_arch = "x86_64")]
pub(crate) mod ifma;
mod portable;

pub(crate) use portable::Portable;

/// Most lanes any backend has; per-lane arrays are this long and backends use a prefix.
pub(crate) const MAX_LANES: usize = 8;

/// A vector of `LANES` unsigned 64-bit lanes. Masks are bitmasks, bit `i` for lane `i`.
pub(crate) trait Lane64: Copy {
    /// Number of lanes.
    const LANES: usize;
    /// Whether `madd52lo`/`madd52hi` are single instructions. When false the field multiplies
    /// in radix 2^26 through `mul32` instead (`crate::field26`), and the 52-bit multiplies are
    /// only emulated for completeness.
    const NATIVE_MADD52: bool;
    /// Every lane `x`.
    fn splat(x: u64) -> Self;
    /// Lane `i` from `x[i]`.
    fn load(x: &[u64; MAX_LANES]) -> Self;
    /// Lane `i` to `out[i]` (the rest zero).
    fn store(self) -> [u64; MAX_LANES];
    /// Wrapping addition.
    fn add(self, o: Self) -> Self;
    /// Wrapping subtraction.
    fn sub(self, o: Self) -> Self;
    /// Bitwise and.
    fn and(self, o: Self) -> Self;
    /// Bitwise or.
    fn or(self, o: Self) -> Self;
    /// Bitwise xor.
    fn xor(self, o: Self) -> Self;
    /// Logical shift right by `S`.
    fn shr<const S: u32>(self) -> Self;
    /// Logical shift left by `S` (bits above 64 are lost).
    fn shl<const S: u32>(self) -> Self;
    /// `(self mod 2^32)·(o mod 2^32)`, the full 64-bit product (`vpmuludq`).
    fn mul32(self, o: Self) -> Self;
    /// `self + low52((b mod 2^52)·(c mod 2^52))` (IFMA `vpmadd52luq`).
    fn madd52lo(self, b: Self, c: Self) -> Self;
    /// `self + high52((b mod 2^52)·(c mod 2^52))` (IFMA `vpmadd52huq`).
    fn madd52hi(self, b: Self, c: Self) -> Self;
    /// Mask of the lanes equal to zero.
    fn zero_mask(self) -> u32;
    /// Lanes of `a` where `mask` has the bit, else lanes of `b`.
    fn blend(mask: u32, a: Self, b: Self) -> Self;
    /// `K` vectors: vector `k`, lane `i` is `base[idx[i] + k·stride]`. Panics when any lane's
    /// last read would fall outside `base` (the bound is what makes the hardware gather sound).
    fn gather<const K: usize>(base: &[u64], idx: &[u64; MAX_LANES], stride: usize) -> [Self; K];
}

/// All-lanes mask of a backend with `lanes` lanes.
pub(crate) const fn full_mask(lanes: usize) -> u32 {
    (1u32 << lanes) - 1
}

/// Panics unless every lane's reads `idx[i] + k·stride` (k < `count`) lie inside `len`.
pub(crate) fn check_gather_bounds(
    len: usize,
    idx: &[u64; MAX_LANES],
    lanes: usize,
    count: usize,
    stride: usize,
) {
    let last = (count - 1) * stride;
    for &i in &idx[..lanes] {
        let ok = usize::try_from(i).is_ok_and(|i| i.checked_add(last).is_some_and(|e| e < len));
        assert!(ok, "gather index out of bounds");
    }
}
