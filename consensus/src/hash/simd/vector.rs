//! AVX2 (8 lanes) and AVX-512 (16 lanes) SHA-256 over transposed message words.
//! Soundness rules: see the parent module.

use std::arch::x86_64::*;

use super::super::scalar::{IV, K, PAD32_TAIL, PAD64_KW};

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
        pub(in crate::hash::simd) unsafe fn compress(state: &mut [[u32; $N]; 8], w: &[[u32; $N]; 16]) {
            let mut s = load_rows(state);
            rounds(&mut s, load_rows(w));
            store_rows(&s, state);
        }

        /// One compression per lane of the blocks themselves (transposed in registers).
        #[target_feature(enable = $feat)]
        pub(in crate::hash::simd) unsafe fn compress_blocks(
            state: &mut [[u32; $N]; 8],
            blocks: &[&[u8; 64]; $N],
        ) {
            let mut s = load_rows(state);
            rounds(&mut s, load_blocks(blocks));
            store_rows(&s, state);
        }

        #[target_feature(enable = $feat)]
        pub(in crate::hash::simd) unsafe fn d64(w: &[[u32; $N]; 16]) -> [[u32; $N]; 8] {
            d64_words(load_rows(w))
        }

        #[target_feature(enable = $feat)]
        pub(in crate::hash::simd) unsafe fn d64_blocks(blocks: &[&[u8; 64]; $N]) -> [[u32; $N]; 8] {
            d64_words(load_blocks(blocks))
        }

        #[inline]
        #[target_feature(enable = $feat)]
        unsafe fn d64_words(w: [$V; 16]) -> [[u32; $N]; 8] {
            let mut iv = [set1(0); 8];
            for (x, word) in iv.iter_mut().zip(IV) {
                *x = set1(word);
            }
            let mut s = iv;
            rounds(&mut s, w);
            rounds_const(&mut s, &PAD64_KW);
            let mut w2 = [set1(0); 16];
            w2[..8].copy_from_slice(&s);
            for (x, word) in w2[8..].iter_mut().zip(PAD32_TAIL) {
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

pub(super) mod avx2 {
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

    /// Big-endian words of eight blocks, transposed: `out[j]` holds word `j` of every lane.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn load_blocks(blocks: &[&[u8; 64]; 8]) -> [__m256i; 16] {
        let bswap = _mm256_broadcastsi128_si256(_mm_set_epi64x(
            0x0c0d_0e0f_0809_0a0b,
            0x0405_0607_0001_0203,
        ));
        let mut out = [_mm256_setzero_si256(); 16];
        for half in 0..2 {
            let mut r = [_mm256_setzero_si256(); 8];
            for (row, block) in r.iter_mut().zip(blocks) {
                let p = block.as_ptr().add(32 * half);
                *row = _mm256_shuffle_epi8(_mm256_loadu_si256(p.cast()), bswap);
            }
            // 8x8 transpose of 32-bit words: interleave words, then pairs, then 128-bit halves.
            let mut a = [_mm256_setzero_si256(); 8];
            for i in 0..4 {
                a[2 * i] = _mm256_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
                a[2 * i + 1] = _mm256_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
            }
            let mut b = [_mm256_setzero_si256(); 8];
            for i in 0..2 {
                b[4 * i] = _mm256_unpacklo_epi64(a[4 * i], a[4 * i + 2]);
                b[4 * i + 1] = _mm256_unpackhi_epi64(a[4 * i], a[4 * i + 2]);
                b[4 * i + 2] = _mm256_unpacklo_epi64(a[4 * i + 1], a[4 * i + 3]);
                b[4 * i + 3] = _mm256_unpackhi_epi64(a[4 * i + 1], a[4 * i + 3]);
            }
            // b[4i + m], 128-bit half k: word 4k + m of rows 4i..4i + 4.
            for m in 0..4 {
                out[8 * half + m] = _mm256_permute2x128_si256::<0x20>(b[m], b[4 + m]);
                out[8 * half + 4 + m] = _mm256_permute2x128_si256::<0x31>(b[m], b[4 + m]);
            }
        }
        out
    }

    lane_sha256!("avx2", __m256i, 8);
}

pub(super) mod avx512 {
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

    /// Big-endian words of sixteen blocks, transposed: `out[j]` holds word `j` of every lane.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn load_blocks(blocks: &[&[u8; 64]; 16]) -> [__m512i; 16] {
        let bswap =
            _mm512_broadcast_i32x4(_mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203));
        let mut r = [_mm512_setzero_si512(); 16];
        for (row, block) in r.iter_mut().zip(blocks) {
            *row = _mm512_shuffle_epi8(_mm512_loadu_si512(block.as_ptr().cast()), bswap);
        }
        // 16x16 transpose of 32-bit words: interleave words, then pairs (within 128-bit
        // quarters), then a 4x4 transpose of the quarters.
        let mut a = [_mm512_setzero_si512(); 16];
        for i in 0..8 {
            a[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
            a[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
        }
        let mut b = [_mm512_setzero_si512(); 16];
        for i in 0..4 {
            b[4 * i] = _mm512_unpacklo_epi64(a[4 * i], a[4 * i + 2]);
            b[4 * i + 1] = _mm512_unpackhi_epi64(a[4 * i], a[4 * i + 2]);
            b[4 * i + 2] = _mm512_unpacklo_epi64(a[4 * i + 1], a[4 * i + 3]);
            b[4 * i + 3] = _mm512_unpackhi_epi64(a[4 * i + 1], a[4 * i + 3]);
        }
        // b[4g + m], quarter k: word 4k + m of rows 4g..4g + 4.
        let mut out = [_mm512_setzero_si512(); 16];
        for m in 0..4 {
            let c0 = _mm512_shuffle_i32x4::<0x44>(b[m], b[4 + m]);
            let c1 = _mm512_shuffle_i32x4::<0xEE>(b[m], b[4 + m]);
            let c2 = _mm512_shuffle_i32x4::<0x44>(b[8 + m], b[12 + m]);
            let c3 = _mm512_shuffle_i32x4::<0xEE>(b[8 + m], b[12 + m]);
            out[m] = _mm512_shuffle_i32x4::<0x88>(c0, c2);
            out[4 + m] = _mm512_shuffle_i32x4::<0xDD>(c0, c2);
            out[8 + m] = _mm512_shuffle_i32x4::<0x88>(c1, c3);
            out[12 + m] = _mm512_shuffle_i32x4::<0xDD>(c1, c3);
        }
        out
    }

    lane_sha256!("avx512f,avx512bw", __m512i, 16);
}
