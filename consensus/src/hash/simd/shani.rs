//! SHA-256 with the x86 SHA extensions (`sha256rnds2`, `sha256msg1/2`), one or two streams.
//! Two independent streams interleaved hide the latency of `sha256rnds2`, as Core's
//! `sha256_x86_shani.cpp` does for SHA256D64. Soundness rules: see the parent module.

use std::arch::x86_64::*;

use super::super::scalar::K;

/// State as the (ABEF, CDGH) register pair the SHA instructions use.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn load_state(state: &[u32; 8]) -> (__m128i, __m128i) {
    let dcba = _mm_loadu_si128(state.as_ptr().cast());
    let hgfe = _mm_loadu_si128(state.as_ptr().add(4).cast());
    let cdab = _mm_shuffle_epi32::<0xB1>(dcba);
    let efgh = _mm_shuffle_epi32::<0x1B>(hgfe);
    (
        _mm_alignr_epi8::<8>(cdab, efgh),
        _mm_blend_epi16::<0xF0>(efgh, cdab),
    )
}

#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn store_state(state: &mut [u32; 8], abef: __m128i, cdgh: __m128i) {
    let feba = _mm_shuffle_epi32::<0x1B>(abef);
    let dchg = _mm_shuffle_epi32::<0xB1>(cdgh);
    _mm_storeu_si128(
        state.as_mut_ptr().cast(),
        _mm_blend_epi16::<0xF0>(feba, dchg),
    );
    _mm_storeu_si128(
        state.as_mut_ptr().add(4).cast(),
        _mm_alignr_epi8::<8>(dchg, feba),
    );
}

/// The 16 message words of a 64-byte block, big-endian, in four registers.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn load_block(block: &[u8; 64]) -> [__m128i; 4] {
    let bswap = _mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203);
    let p = block.as_ptr();
    [
        _mm_shuffle_epi8(_mm_loadu_si128(p.cast()), bswap),
        _mm_shuffle_epi8(_mm_loadu_si128(p.add(16).cast()), bswap),
        _mm_shuffle_epi8(_mm_loadu_si128(p.add(32).cast()), bswap),
        _mm_shuffle_epi8(_mm_loadu_si128(p.add(48).cast()), bswap),
    ]
}

/// The 16 message words given as integers, in four registers.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn load_words(w: &[u32; 16]) -> [__m128i; 4] {
    let p = w.as_ptr();
    [
        _mm_loadu_si128(p.cast()),
        _mm_loadu_si128(p.add(4).cast()),
        _mm_loadu_si128(p.add(8).cast()),
        _mm_loadu_si128(p.add(12).cast()),
    ]
}

/// `K[4g..4g + 4]`.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn k4(g: usize) -> __m128i {
    let k: &[u32; 4] = K[4 * g..4 * g + 4].first_chunk().unwrap_or(&[0; 4]);
    _mm_loadu_si128(k.as_ptr().cast())
}

/// Four rounds of one stream with message words `$m` (group `$g`).
macro_rules! rounds4 {
    ($abef:ident, $cdgh:ident, $m:expr, $g:expr) => {
        let msg = _mm_add_epi32($m, k4($g));
        $cdgh = _mm_sha256rnds2_epu32($cdgh, $abef, msg);
        $abef = _mm_sha256rnds2_epu32($abef, $cdgh, _mm_shuffle_epi32::<0x0E>(msg));
    };
}

/// Next four schedule words from the previous sixteen (oldest group first).
macro_rules! schedule {
    ($m0:expr, $m1:expr, $m2:expr, $m3:expr) => {
        _mm_sha256msg2_epu32(
            _mm_add_epi32(
                _mm_sha256msg1_epu32($m0, $m1),
                _mm_alignr_epi8::<4>($m3, $m2),
            ),
            $m3,
        )
    };
}

/// 64 rounds of one stream.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn rounds1(abef: &mut __m128i, cdgh: &mut __m128i, m: [__m128i; 4]) {
    let (mut a, mut c) = (*abef, *cdgh);
    let [mut m0, mut m1, mut m2, mut m3] = m;
    rounds4!(a, c, m0, 0);
    rounds4!(a, c, m1, 1);
    rounds4!(a, c, m2, 2);
    rounds4!(a, c, m3, 3);
    for g in [4, 8, 12] {
        m0 = schedule!(m0, m1, m2, m3);
        rounds4!(a, c, m0, g);
        m1 = schedule!(m1, m2, m3, m0);
        rounds4!(a, c, m1, g + 1);
        m2 = schedule!(m2, m3, m0, m1);
        rounds4!(a, c, m2, g + 2);
        m3 = schedule!(m3, m0, m1, m2);
        rounds4!(a, c, m3, g + 3);
    }
    *abef = _mm_add_epi32(*abef, a);
    *cdgh = _mm_add_epi32(*cdgh, c);
}

/// 64 rounds of two independent streams, interleaved.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn rounds2(s: &mut [(__m128i, __m128i); 2], ma: [__m128i; 4], mb: [__m128i; 4]) {
    let [(mut a1, mut c1), (mut a2, mut c2)] = *s;
    let [mut x0, mut x1, mut x2, mut x3] = ma;
    let [mut y0, mut y1, mut y2, mut y3] = mb;
    rounds4!(a1, c1, x0, 0);
    rounds4!(a2, c2, y0, 0);
    rounds4!(a1, c1, x1, 1);
    rounds4!(a2, c2, y1, 1);
    rounds4!(a1, c1, x2, 2);
    rounds4!(a2, c2, y2, 2);
    rounds4!(a1, c1, x3, 3);
    rounds4!(a2, c2, y3, 3);
    for g in [4, 8, 12] {
        x0 = schedule!(x0, x1, x2, x3);
        y0 = schedule!(y0, y1, y2, y3);
        rounds4!(a1, c1, x0, g);
        rounds4!(a2, c2, y0, g);
        x1 = schedule!(x1, x2, x3, x0);
        y1 = schedule!(y1, y2, y3, y0);
        rounds4!(a1, c1, x1, g + 1);
        rounds4!(a2, c2, y1, g + 1);
        x2 = schedule!(x2, x3, x0, x1);
        y2 = schedule!(y2, y3, y0, y1);
        rounds4!(a1, c1, x2, g + 2);
        rounds4!(a2, c2, y2, g + 2);
        x3 = schedule!(x3, x0, x1, x2);
        y3 = schedule!(y3, y0, y1, y2);
        rounds4!(a1, c1, x3, g + 3);
        rounds4!(a2, c2, y3, g + 3);
    }
    s[0] = (_mm_add_epi32(s[0].0, a1), _mm_add_epi32(s[0].1, c1));
    s[1] = (_mm_add_epi32(s[1].0, a2), _mm_add_epi32(s[1].1, c2));
}

/// Compress every whole 64-byte block of `blocks` into `state`.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
pub(in crate::hash::simd) unsafe fn compress_blocks(state: &mut [u32; 8], blocks: &[u8]) {
    let (mut abef, mut cdgh) = load_state(state);
    for block in blocks.chunks_exact(64) {
        let block: &[u8; 64] = block.first_chunk().unwrap_or(&[0; 64]);
        rounds1(&mut abef, &mut cdgh, load_block(block));
    }
    store_state(state, abef, cdgh);
}

/// One compression of each of two streams given as message words.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
pub(in crate::hash::simd) unsafe fn compress2_words(
    states: [&mut [u32; 8]; 2],
    wa: &[u32; 16],
    wb: &[u32; 16],
) {
    let [sa, sb] = states;
    let mut s = [load_state(sa), load_state(sb)];
    rounds2(&mut s, load_words(wa), load_words(wb));
    store_state(sa, s[0].0, s[0].1);
    store_state(sb, s[1].0, s[1].1);
}

/// One compression of each of two streams given as blocks.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
pub(in crate::hash::simd) unsafe fn compress2_blocks(
    states: [&mut [u32; 8]; 2],
    blocks: &[&[u8; 64]; 2],
) {
    let [sa, sb] = states;
    let mut s = [load_state(sa), load_state(sb)];
    rounds2(&mut s, load_block(blocks[0]), load_block(blocks[1]));
    store_state(sa, s[0].0, s[0].1);
    store_state(sb, s[1].0, s[1].1);
}
