//! The only `unsafe` code of the hashing module: SHA-256 with x86-64 vector intrinsics.
//!
//! - AVX2: 8 independent messages per compression (one 32-bit lane of a 256-bit register each).
//! - AVX-512 (F + VL): 16 messages per compression, with native rotates and three-input logic.
//! - SHA-NI: one message at a time with the dedicated SHA-256 round instructions.
//!
//! # Why this is sound
//! - Every `#[target_feature]` function is private to this module and reached only through a
//!   token type (`Avx2`, `Avx512`, `ShaNi`) whose sole constructor, `detect`, returns `Some`
//!   only after `is_x86_feature_detected!` confirmed every feature the function enables. Holding
//!   a token is therefore proof that executing those instructions is defined on this CPU.
//! - Memory is touched only through unaligned load/store intrinsics (`loadu`/`storeu`) on
//!   references to fixed-size arrays (`[u32; N]`, `[u32; 4]`) whose size equals the vector
//!   width, or on 64-byte chunks produced by `chunks_exact(64)`, so every access is in bounds
//!   and alignment is never assumed.
//! - No pointer outlives the call that created it; nothing is shared between threads.
#![allow(unsafe_code)]

use std::arch::x86_64::*;

use super::lanes::LaneEngine;
use super::scalar::{IV, K, PAD64_KW};

/// Shared round/schedule code for one lane width, written against the helper functions
/// (`add`, `bsig0`, `ch`, ...) that each backend module defines with its own intrinsics.
macro_rules! lane_sha256 {
    ($feat:literal, $V:ty, $N:literal) => {
        /// One round; `$kw` is `K[i] + W[i]`.
        macro_rules! round {
            ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $kw:expr) => {
                let t1 = add(add($h, bsig1($e)), add(ch($e, $f, $g), $kw));
                let t2 = add(bsig0($a), maj($a, $b, $c));
                $d = add($d, t1);
                $h = add(t1, t2);
            };
        }

        /// Eight rounds with words `$kw[$i..$i + 8]` (each already `K + W`).
        macro_rules! eight {
            ($s:ident, $kw:ident, $i:expr) => {
                let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = $s;
                round!(a, b, c, d, e, f, g, h, $kw[$i]);
                round!(h, a, b, c, d, e, f, g, $kw[$i + 1]);
                round!(g, h, a, b, c, d, e, f, $kw[$i + 2]);
                round!(f, g, h, a, b, c, d, e, $kw[$i + 3]);
                round!(e, f, g, h, a, b, c, d, $kw[$i + 4]);
                round!(d, e, f, g, h, a, b, c, $kw[$i + 5]);
                round!(c, d, e, f, g, h, a, b, $kw[$i + 6]);
                round!(b, c, d, e, f, g, h, a, $kw[$i + 7]);
                $s = [a, b, c, d, e, f, g, h];
            };
        }

        /// 64 rounds over message words `w` (consumed as the schedule ring) into `s`.
        #[inline]
        #[target_feature(enable = $feat)]
        unsafe fn rounds(s: &mut [$V; 8], mut w: [$V; 16]) {
            let mut v = *s;
            for chunk in 0..4 {
                if chunk > 0 {
                    for j in 0..16 {
                        w[j] = add(
                            add(w[j], ssig1(w[(j + 14) % 16])),
                            add(w[(j + 9) % 16], ssig0(w[(j + 1) % 16])),
                        );
                    }
                }
                let mut kw = w;
                for (i, x) in kw.iter_mut().enumerate() {
                    *x = add(*x, set1(K[chunk * 16 + i]));
                }
                eight!(v, kw, 0);
                eight!(v, kw, 8);
            }
            for (x, y) in s.iter_mut().zip(v) {
                *x = add(*x, y);
            }
        }

        /// 64 rounds over a constant block given as precomputed `K + W` (no schedule).
        #[inline]
        #[target_feature(enable = $feat)]
        unsafe fn rounds_const(s: &mut [$V; 8], kw_all: &[u32; 64]) {
            let mut v = *s;
            for chunk in 0..8 {
                let mut kw = [set1(0); 8];
                for (i, x) in kw.iter_mut().enumerate() {
                    *x = set1(kw_all[chunk * 8 + i]);
                }
                eight!(v, kw, 0);
            }
            for (x, y) in s.iter_mut().zip(v) {
                *x = add(*x, y);
            }
        }

        #[inline]
        #[target_feature(enable = $feat)]
        unsafe fn load_rows<const R: usize>(rows: &[[u32; $N]; R]) -> [$V; R] {
            let mut v = [set1(0); R];
            for (x, row) in v.iter_mut().zip(rows) {
                *x = load(row);
            }
            v
        }

        #[inline]
        #[target_feature(enable = $feat)]
        unsafe fn store_rows(v: &[$V; 8], rows: &mut [[u32; $N]; 8]) {
            for (row, x) in rows.iter_mut().zip(v) {
                store(row, *x);
            }
        }

        #[target_feature(enable = $feat)]
        pub(super) unsafe fn compress(state: &mut [[u32; $N]; 8], w: &[[u32; $N]; 16]) {
            let mut s = load_rows(state);
            rounds(&mut s, load_rows(w));
            store_rows(&s, state);
        }

        #[target_feature(enable = $feat)]
        pub(super) unsafe fn d64(w: &[[u32; $N]; 16]) -> [[u32; $N]; 8] {
            let mut iv = [set1(0); 8];
            for (x, word) in iv.iter_mut().zip(IV) {
                *x = set1(word);
            }
            let mut s = iv;
            rounds(&mut s, load_rows(w));
            rounds_const(&mut s, &PAD64_KW);
            let mut w2 = [set1(0); 16];
            w2[..8].copy_from_slice(&s);
            for (x, word) in w2[8..].iter_mut().zip(super::super::scalar::PAD32_TAIL) {
                *x = set1(word);
            }
            let mut s2 = iv;
            rounds(&mut s2, w2);
            let mut out = [[0u32; $N]; 8];
            store_rows(&s2, &mut out);
            out
        }
    };
}

mod avx2 {
    use super::*;

    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn load(a: &[u32; 8]) -> __m256i {
        _mm256_loadu_si256(a.as_ptr().cast())
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn store(a: &mut [u32; 8], v: __m256i) {
        _mm256_storeu_si256(a.as_mut_ptr().cast(), v);
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn set1(x: u32) -> __m256i {
        _mm256_set1_epi32(x.cast_signed())
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn add(a: __m256i, b: __m256i) -> __m256i {
        _mm256_add_epi32(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn xor(a: __m256i, b: __m256i) -> __m256i {
        _mm256_xor_si256(a, b)
    }
    macro_rules! ror {
        ($x:expr, $n:literal, $m:literal) => {
            _mm256_or_si256(_mm256_srli_epi32::<$n>($x), _mm256_slli_epi32::<$m>($x))
        };
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn bsig0(x: __m256i) -> __m256i {
        xor(xor(ror!(x, 2, 30), ror!(x, 13, 19)), ror!(x, 22, 10))
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn bsig1(x: __m256i) -> __m256i {
        xor(xor(ror!(x, 6, 26), ror!(x, 11, 21)), ror!(x, 25, 7))
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn ssig0(x: __m256i) -> __m256i {
        xor(
            xor(ror!(x, 7, 25), ror!(x, 18, 14)),
            _mm256_srli_epi32::<3>(x),
        )
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn ssig1(x: __m256i) -> __m256i {
        xor(
            xor(ror!(x, 17, 15), ror!(x, 19, 13)),
            _mm256_srli_epi32::<10>(x),
        )
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn ch(e: __m256i, f: __m256i, g: __m256i) -> __m256i {
        // g ^ (e & (f ^ g)) == (e & f) ^ (!e & g)
        xor(g, _mm256_and_si256(e, xor(f, g)))
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn maj(a: __m256i, b: __m256i, c: __m256i) -> __m256i {
        // (a & b) | (c & (a | b)) == majority
        _mm256_or_si256(
            _mm256_and_si256(a, b),
            _mm256_and_si256(c, _mm256_or_si256(a, b)),
        )
    }

    lane_sha256!("avx2", __m256i, 8);
}

mod avx512 {
    use super::*;

    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn load(a: &[u32; 16]) -> __m512i {
        _mm512_loadu_si512(a.as_ptr().cast())
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn store(a: &mut [u32; 16], v: __m512i) {
        _mm512_storeu_si512(a.as_mut_ptr().cast(), v);
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn set1(x: u32) -> __m512i {
        _mm512_set1_epi32(x.cast_signed())
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn add(a: __m512i, b: __m512i) -> __m512i {
        _mm512_add_epi32(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn xor3(a: __m512i, b: __m512i, c: __m512i) -> __m512i {
        _mm512_ternarylogic_epi32::<0x96>(a, b, c)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn bsig0(x: __m512i) -> __m512i {
        xor3(
            _mm512_ror_epi32::<2>(x),
            _mm512_ror_epi32::<13>(x),
            _mm512_ror_epi32::<22>(x),
        )
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn bsig1(x: __m512i) -> __m512i {
        xor3(
            _mm512_ror_epi32::<6>(x),
            _mm512_ror_epi32::<11>(x),
            _mm512_ror_epi32::<25>(x),
        )
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn ssig0(x: __m512i) -> __m512i {
        xor3(
            _mm512_ror_epi32::<7>(x),
            _mm512_ror_epi32::<18>(x),
            _mm512_srli_epi32::<3>(x),
        )
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn ssig1(x: __m512i) -> __m512i {
        xor3(
            _mm512_ror_epi32::<17>(x),
            _mm512_ror_epi32::<19>(x),
            _mm512_srli_epi32::<10>(x),
        )
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn ch(e: __m512i, f: __m512i, g: __m512i) -> __m512i {
        // Truth table of `e ? f : g`.
        _mm512_ternarylogic_epi32::<0xCA>(e, f, g)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn maj(a: __m512i, b: __m512i, c: __m512i) -> __m512i {
        // Truth table of the majority of three bits.
        _mm512_ternarylogic_epi32::<0xE8>(a, b, c)
    }

    lane_sha256!("avx512f", __m512i, 16);
}

mod shani {
    use super::*;

    /// Compress every whole 64-byte block of `blocks` (Intel's SHA extensions reference flow,
    /// as in Core's `sha256_x86_shani.cpp`).
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    pub(super) unsafe fn compress_blocks(state: &mut [u32; 8], blocks: &[u8]) {
        let bswap = _mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203);
        let lo: &[u32; 4] = state.first_chunk().unwrap_or(&[0; 4]);
        let hi: &[u32; 4] = state.last_chunk().unwrap_or(&[0; 4]);
        let dcba = _mm_loadu_si128(lo.as_ptr().cast());
        let hgfe = _mm_loadu_si128(hi.as_ptr().cast());
        let cdab = _mm_shuffle_epi32::<0xB1>(dcba);
        let efgh = _mm_shuffle_epi32::<0x1B>(hgfe);
        let mut abef = _mm_alignr_epi8::<8>(cdab, efgh);
        let mut cdgh = _mm_blend_epi16::<0xF0>(efgh, cdab);

        for block in blocks.chunks_exact(64) {
            let save_abef = abef;
            let save_cdgh = cdgh;
            let p = block.as_ptr();
            let mut m = [
                _mm_shuffle_epi8(_mm_loadu_si128(p.cast()), bswap),
                _mm_shuffle_epi8(_mm_loadu_si128(p.add(16).cast()), bswap),
                _mm_shuffle_epi8(_mm_loadu_si128(p.add(32).cast()), bswap),
                _mm_shuffle_epi8(_mm_loadu_si128(p.add(48).cast()), bswap),
            ];
            for g in 0..16 {
                if g >= 4 {
                    // W[4g..4g+4] from the previous 16 words kept in the ring `m`.
                    let t = _mm_sha256msg1_epu32(m[g % 4], m[(g + 1) % 4]);
                    let t = _mm_add_epi32(t, _mm_alignr_epi8::<4>(m[(g + 3) % 4], m[(g + 2) % 4]));
                    m[g % 4] = _mm_sha256msg2_epu32(t, m[(g + 3) % 4]);
                }
                let kp: &[u32; 4] = K[4 * g..4 * g + 4].first_chunk().unwrap_or(&[0; 4]);
                let msg = _mm_add_epi32(m[g % 4], _mm_loadu_si128(kp.as_ptr().cast()));
                cdgh = _mm_sha256rnds2_epu32(cdgh, abef, msg);
                abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32::<0x0E>(msg));
            }
            abef = _mm_add_epi32(abef, save_abef);
            cdgh = _mm_add_epi32(cdgh, save_cdgh);
        }

        let feba = _mm_shuffle_epi32::<0x1B>(abef);
        let dchg = _mm_shuffle_epi32::<0xB1>(cdgh);
        let dcba = _mm_blend_epi16::<0xF0>(feba, dchg);
        let hgfe = _mm_alignr_epi8::<8>(dchg, feba);
        let (lo, hi) = state.split_at_mut(4);
        _mm_storeu_si128(lo.as_mut_ptr().cast(), dcba);
        _mm_storeu_si128(hi.as_mut_ptr().cast(), hgfe);
    }
}

/// Proof that the CPU runs AVX2; the 8-lane engine.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Avx2(());

/// Proof that the CPU runs AVX-512 F; the 16-lane engine.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Avx512(());

/// Proof that the CPU runs the SHA extensions (with SSE4.1); the single-stream engine.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShaNi(());

impl Avx2 {
    pub(crate) fn detect() -> Option<Self> {
        if std::is_x86_feature_detected!("avx2") {
            return Some(Self(()));
        }
        None
    }
}

impl Avx512 {
    pub(crate) fn detect() -> Option<Self> {
        if std::is_x86_feature_detected!("avx512f") {
            return Some(Self(()));
        }
        None
    }
}

impl ShaNi {
    pub(crate) fn detect() -> Option<Self> {
        if std::is_x86_feature_detected!("sha")
            && std::is_x86_feature_detected!("sse2")
            && std::is_x86_feature_detected!("ssse3")
            && std::is_x86_feature_detected!("sse4.1")
        {
            return Some(Self(()));
        }
        None
    }

    /// Compress every whole 64-byte block of `blocks` into `state`.
    pub(crate) fn compress_blocks(self, state: &mut [u32; 8], blocks: &[u8]) {
        // SAFETY: `self` exists only if `detect` saw sha + sse2 + ssse3 + sse4.1.
        unsafe {
            shani::compress_blocks(state, blocks);
        }
    }
}

impl LaneEngine<8> for Avx2 {
    fn compress(self, state: &mut [[u32; 8]; 8], w: &[[u32; 8]; 16]) {
        // SAFETY: `self` exists only if `detect` saw AVX2.
        unsafe {
            avx2::compress(state, w);
        }
    }

    fn d64(self, w: &[[u32; 8]; 16]) -> [[u32; 8]; 8] {
        // SAFETY: `self` exists only if `detect` saw AVX2.
        unsafe { avx2::d64(w) }
    }
}

impl LaneEngine<16> for Avx512 {
    fn compress(self, state: &mut [[u32; 16]; 8], w: &[[u32; 16]; 16]) {
        // SAFETY: `self` exists only if `detect` saw AVX-512 F.
        unsafe {
            avx512::compress(state, w);
        }
    }

    fn d64(self, w: &[[u32; 16]; 16]) -> [[u32; 16]; 8] {
        // SAFETY: `self` exists only if `detect` saw AVX-512 F.
        unsafe { avx512::d64(w) }
    }
}
