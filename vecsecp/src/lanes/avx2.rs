//! Four lanes in one AVX2 register. AVX2 has no 52-bit multiply; its multiply is
//! `vpmuludq` (`_mm256_mul_epu32`: the low 32 bits of each lane times the low 32 bits of the
//! other, a full 64-bit product). The field therefore multiplies this backend's elements in
//! radix 2^26 through [`Lane64::mul32`] (see `field26.rs`); [`Lane64::madd52lo`] and
//! [`Lane64::madd52hi`] are emulated from four such products each, with IFMA's exact
//! semantics, for the few places that still name them.
//!
//! Soundness rests on one invariant: a value of [`Avx2`] is only ever made inside code that
//! runs after [`available`] returned true (the crate's dispatch checks it before calling any
//! function instantiated with this backend). Every method is `#[inline(always)]` so that it is
//! folded into the caller compiled with `#[target_feature(enable = "avx2")]`, where the
//! intrinsics become single instructions; without that every field operation would be a call.

use super::{check_gather_bounds, Lane64, MAX_LANES};
use std::arch::x86_64::{
    __m256i, _mm256_add_epi64, _mm256_and_si256, _mm256_blendv_epi8, _mm256_castsi256_pd,
    _mm256_cmpeq_epi64, _mm256_i64gather_epi64, _mm256_loadu_si256, _mm256_movemask_pd,
    _mm256_mul_epu32, _mm256_or_si256, _mm256_set1_epi64x, _mm256_set_epi64x, _mm256_setzero_si256,
    _mm256_sllv_epi64, _mm256_srlv_epi64, _mm256_storeu_si256, _mm256_sub_epi64, _mm256_xor_si256,
};

/// Whether this CPU runs the AVX2 backend.
pub(crate) fn available() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

/// Four u64 lanes in a YMM register.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx2(__m256i);

const M26: u64 = (1 << 26) - 1;
const M52: u64 = (1 << 52) - 1;

impl Avx2 {
    /// The three partial products of the 104-bit product of the low 52 bits of `b` and `c`:
    /// (b0·c0, b0·c1 + b1·c0, b1·c1) in 26-bit halves, each below 2^53.
    #[inline(always)]
    fn prod52_parts(b: Self, c: Self) -> (Self, Self, Self) {
        let m26 = Self::splat(M26);
        let (b0, b1) = (b.and(m26), b.shr::<26>().and(m26));
        let (c0, c1) = (c.and(m26), c.shr::<26>().and(m26));
        (b0.mul32(c0), b0.mul32(c1).add(b1.mul32(c0)), b1.mul32(c1))
    }
}

impl Lane64 for Avx2 {
    const LANES: usize = 4;
    const NATIVE_MADD52: bool = false;

    #[inline(always)]
    fn splat(x: u64) -> Self {
        // SAFETY: AVX2 is present (module invariant; AVX suffices). The cast only
        // reinterprets bits.
        Self(unsafe { _mm256_set1_epi64x(x.cast_signed()) })
    }
    #[inline(always)]
    fn load(x: &[u64; MAX_LANES]) -> Self {
        // SAFETY: AVX2 is present (module invariant); the first 32 of `x`'s 64 bytes are
        // read, unaligned.
        Self(unsafe { _mm256_loadu_si256(x.as_ptr().cast()) })
    }
    #[inline(always)]
    fn store(self) -> [u64; MAX_LANES] {
        let mut out = [0u64; MAX_LANES];
        // SAFETY: AVX2 is present (module invariant); the first 32 of `out`'s 64 bytes are
        // written, unaligned.
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), self.0) };
        out
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        // SAFETY: AVX2 is present (module invariant).
        Self(unsafe { _mm256_add_epi64(self.0, o.0) })
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        // SAFETY: AVX2 is present (module invariant).
        Self(unsafe { _mm256_sub_epi64(self.0, o.0) })
    }
    #[inline(always)]
    fn and(self, o: Self) -> Self {
        // SAFETY: AVX2 is present (module invariant).
        Self(unsafe { _mm256_and_si256(self.0, o.0) })
    }
    #[inline(always)]
    fn or(self, o: Self) -> Self {
        // SAFETY: AVX2 is present (module invariant).
        Self(unsafe { _mm256_or_si256(self.0, o.0) })
    }
    #[inline(always)]
    fn xor(self, o: Self) -> Self {
        // SAFETY: AVX2 is present (module invariant).
        Self(unsafe { _mm256_xor_si256(self.0, o.0) })
    }
    #[inline(always)]
    fn shr<const S: u32>(self) -> Self {
        // The immediate-shift intrinsic takes an `i32` constant that a generic `u32` cannot
        // name; a uniform variable shift by a constant compiles to the same `vpsrlq`.
        // SAFETY: AVX2 is present (module invariant).
        Self(unsafe { _mm256_srlv_epi64(self.0, Self::splat(u64::from(S)).0) })
    }
    #[inline(always)]
    fn shl<const S: u32>(self) -> Self {
        // SAFETY: AVX2 is present (module invariant).
        Self(unsafe { _mm256_sllv_epi64(self.0, Self::splat(u64::from(S)).0) })
    }
    #[inline(always)]
    fn mul32(self, o: Self) -> Self {
        // SAFETY: AVX2 is present (module invariant).
        Self(unsafe { _mm256_mul_epu32(self.0, o.0) })
    }
    #[inline(always)]
    fn madd52lo(self, b: Self, c: Self) -> Self {
        // b·c = p00 + p01·2^26 + p11·2^52: its low 52 bits are those of p00 + p01·2^26, where
        // the wrapping shift loses only bits above 64.
        let (p00, p01, _) = Self::prod52_parts(b, c);
        self.add(p00.add(p01.shl::<26>()).and(Self::splat(M52)))
    }
    #[inline(always)]
    fn madd52hi(self, b: Self, c: Self) -> Self {
        // ⌊b·c / 2^52⌋ = p11 + ⌊p01 / 2^26⌋ + ⌊(p00 + (p01 mod 2^26)·2^26) / 2^52⌋; the last
        // sum is below 2^53.
        let (p00, p01, p11) = Self::prod52_parts(b, c);
        let mid = p00.add(p01.and(Self::splat(M26)).shl::<26>());
        self.add(p11).add(p01.shr::<26>()).add(mid.shr::<52>())
    }
    #[inline(always)]
    fn zero_mask(self) -> u32 {
        // SAFETY: AVX2 is present (module invariant). movemask_pd gathers the sign bit of
        // each all-ones/all-zeros comparison lane.
        let m = unsafe {
            let eq = _mm256_cmpeq_epi64(self.0, _mm256_setzero_si256());
            _mm256_movemask_pd(_mm256_castsi256_pd(eq))
        };
        // Four bits, never negative.
        m.cast_unsigned()
    }
    #[inline(always)]
    fn blend(mask: u32, a: Self, b: Self) -> Self {
        // SAFETY: AVX2 is present (module invariant). Lane i of `bits` is 2^i; a lane of the
        // comparison is all ones exactly when `mask` has bit i. blendv takes its second
        // operand where the byte's top bit is set.
        Self(unsafe {
            let bits = _mm256_set_epi64x(8, 4, 2, 1);
            let m = _mm256_and_si256(_mm256_set1_epi64x(i64::from(mask)), bits);
            _mm256_blendv_epi8(b.0, a.0, _mm256_cmpeq_epi64(m, bits))
        })
    }
    #[inline(always)]
    fn gather<const K: usize>(base: &[u64], idx: &[u64; MAX_LANES], stride: usize) -> [Self; K] {
        check_gather_bounds(base.len(), idx, 4, K, stride);
        let vidx = Self::load(idx);
        let mut out = [vidx; K];
        for (k, v) in out.iter_mut().enumerate() {
            // SAFETY: AVX2 is present (module invariant). Every lane reads
            // base[idx[i] + k·stride], which check_gather_bounds proved in bounds; the
            // pointer offset k·stride is itself in bounds for the same reason.
            v.0 = unsafe {
                let p = base.as_ptr().add(k * stride);
                _mm256_i64gather_epi64::<8>(p.cast(), vidx.0)
            };
        }
        out
    }
}
