//! Eight lanes in one AVX-512 register, multiplied with IFMA (`vpmadd52luq`/`vpmadd52huq`).
//!
//! Soundness rests on one invariant: a value of [`Ifma`] is only ever made inside code that
//! runs after [`available`] returned true (the crate's dispatch checks it before calling any
//! function instantiated with this backend). Every method is `#[inline(always)]` so that it is
//! folded into the caller compiled with `#[target_feature(enable = "avx512f,avx512ifma")]`,
//! where the intrinsics become single instructions.

use super::{check_gather_bounds, Lane64, MAX_LANES};
use std::arch::x86_64::{
    __m512i, _mm512_add_epi64, _mm512_and_si512, _mm512_i64gather_epi64, _mm512_loadu_si512,
    _mm512_madd52hi_epu64, _mm512_madd52lo_epu64, _mm512_mask_blend_epi64, _mm512_mul_epu32,
    _mm512_or_si512, _mm512_set1_epi64, _mm512_slli_epi64, _mm512_srli_epi64, _mm512_storeu_si512,
    _mm512_sub_epi64, _mm512_testn_epi64_mask, _mm512_xor_si512,
};

/// Whether this CPU runs the IFMA backend (AVX-512F and AVX-512 IFMA).
pub(crate) fn available() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512ifma")
}

/// Eight u64 lanes in a ZMM register.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ifma(__m512i);

impl Lane64 for Ifma {
    const LANES: usize = 8;
    const NATIVE_MADD52: bool = true;

    #[inline(always)]
    fn splat(x: u64) -> Self {
        // SAFETY: AVX-512F is present (module invariant). The cast only reinterprets bits.
        Self(unsafe { _mm512_set1_epi64(x.cast_signed()) })
    }
    #[inline(always)]
    fn load(x: &[u64; MAX_LANES]) -> Self {
        // SAFETY: AVX-512F is present (module invariant); `x` is 64 readable bytes and the
        // load is unaligned.
        Self(unsafe { _mm512_loadu_si512(x.as_ptr().cast()) })
    }
    #[inline(always)]
    fn store(self) -> [u64; MAX_LANES] {
        let mut out = [0u64; MAX_LANES];
        // SAFETY: AVX-512F is present (module invariant); `out` is 64 writable bytes and the
        // store is unaligned.
        unsafe { _mm512_storeu_si512(out.as_mut_ptr().cast(), self.0) };
        out
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        // SAFETY: AVX-512F is present (module invariant).
        Self(unsafe { _mm512_add_epi64(self.0, o.0) })
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        // SAFETY: AVX-512F is present (module invariant).
        Self(unsafe { _mm512_sub_epi64(self.0, o.0) })
    }
    #[inline(always)]
    fn and(self, o: Self) -> Self {
        // SAFETY: AVX-512F is present (module invariant).
        Self(unsafe { _mm512_and_si512(self.0, o.0) })
    }
    #[inline(always)]
    fn or(self, o: Self) -> Self {
        // SAFETY: AVX-512F is present (module invariant).
        Self(unsafe { _mm512_or_si512(self.0, o.0) })
    }
    #[inline(always)]
    fn xor(self, o: Self) -> Self {
        // SAFETY: AVX-512F is present (module invariant).
        Self(unsafe { _mm512_xor_si512(self.0, o.0) })
    }
    #[inline(always)]
    fn shr<const S: u32>(self) -> Self {
        // SAFETY: AVX-512F is present (module invariant).
        Self(unsafe { _mm512_srli_epi64::<S>(self.0) })
    }
    #[inline(always)]
    fn shl<const S: u32>(self) -> Self {
        // SAFETY: AVX-512F is present (module invariant).
        Self(unsafe { _mm512_slli_epi64::<S>(self.0) })
    }
    #[inline(always)]
    fn mul32(self, o: Self) -> Self {
        // SAFETY: AVX-512F is present (module invariant).
        Self(unsafe { _mm512_mul_epu32(self.0, o.0) })
    }
    #[inline(always)]
    fn madd52lo(self, b: Self, c: Self) -> Self {
        // SAFETY: AVX-512 IFMA is present (module invariant).
        Self(unsafe { _mm512_madd52lo_epu64(self.0, b.0, c.0) })
    }
    #[inline(always)]
    fn madd52hi(self, b: Self, c: Self) -> Self {
        // SAFETY: AVX-512 IFMA is present (module invariant).
        Self(unsafe { _mm512_madd52hi_epu64(self.0, b.0, c.0) })
    }
    #[inline(always)]
    fn zero_mask(self) -> u32 {
        // SAFETY: AVX-512F is present (module invariant).
        u32::from(unsafe { _mm512_testn_epi64_mask(self.0, self.0) })
    }
    #[inline(always)]
    fn blend(mask: u32, a: Self, b: Self) -> Self {
        // Only the low 8 bits name lanes; the truncation drops nothing meaningful.
        let k = (mask & 0xff) as u8;
        // SAFETY: AVX-512F is present (module invariant). blend picks its second operand
        // where the mask bit is set.
        Self(unsafe { _mm512_mask_blend_epi64(k, b.0, a.0) })
    }
    #[inline(always)]
    fn gather<const K: usize>(base: &[u64], idx: &[u64; MAX_LANES], stride: usize) -> [Self; K] {
        check_gather_bounds(base.len(), idx, 8, K, stride);
        let vidx = Self::load(idx);
        let mut out = [vidx; K];
        for (k, v) in out.iter_mut().enumerate() {
            // SAFETY: AVX-512F is present (module invariant). Every lane reads
            // base[idx[i] + k·stride], which check_gather_bounds proved in bounds; the
            // pointer offset k·stride is itself in bounds for the same reason.
            v.0 = unsafe {
                let p = base.as_ptr().add(k * stride);
                _mm512_i64gather_epi64::<8>(vidx.0, p.cast())
            };
        }
        out
    }
}
