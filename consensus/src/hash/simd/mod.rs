//! The only `unsafe` code of the hashing module: SHA-256 with x86-64 intrinsics.
//!
//! - `vector`: AVX2 (8 messages per compression, one 32-bit lane of a 256-bit register each)
//!   and AVX-512 F + BW (16 messages, native rotates and three-input logic).
//! - `shani`: the SHA extensions, one stream or two interleaved.
//!
//! # Why this is sound
//! - Every `#[target_feature]` function is an `unsafe fn` visible only inside this module
//!   (`unsafe_code` is denied in the rest of the crate). The safe wrappers below call them
//!   only through a token type (`Avx2`, `Avx512`, `ShaNi`) whose sole constructor, `detect`,
//!   returns `Some` only after `is_x86_feature_detected!` confirmed every feature those
//!   functions enable (the token's field is private, so nothing else can forge one). Holding a
//!   token is therefore proof that the instructions exist on this CPU.
//! - Memory is touched only by unaligned load/store intrinsics (`loadu`/`storeu`, never an
//!   aligned form) through references to fixed-size arrays: `[u32; 8]`/`[u32; 16]` rows of
//!   exactly one vector, `[u32; 8]` states read as two 16-byte halves, `[u32; 16]` word
//!   blocks read as four, and `[u8; 64]` blocks read as one 64-byte, two 32-byte or four
//!   16-byte pieces. Every offset is a constant within the array, so every access is in bounds
//!   whatever the caller passes; block slices come from `first_chunk`/`chunks_exact`.
//! - No pointer outlives the call that created it; nothing is shared between threads.
#![allow(unsafe_code)]

mod shani;
mod vector;

use super::lanes::LaneEngine;
use vector::{avx2, avx512};

/// Proof that the CPU runs AVX2; the 8-lane engine.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Avx2(());

/// Proof that the CPU runs AVX-512 F and BW; the 16-lane engine.
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
        if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bw") {
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

/// Two SHA-NI streams interleaved, as a 2-lane engine.
impl LaneEngine<2> for ShaNi {
    fn compress_blocks(self, state: &mut [[u32; 2]; 8], blocks: &[&[u8; 64]; 2]) {
        let mut sa = [0u32; 8];
        let mut sb = [0u32; 8];
        for ((a, b), row) in sa.iter_mut().zip(sb.iter_mut()).zip(state.iter()) {
            [*a, *b] = *row;
        }
        // SAFETY: `self` exists only if `detect` saw sha + sse2 + ssse3 + sse4.1.
        unsafe {
            shani::compress2_blocks([&mut sa, &mut sb], blocks);
        }
        for ((row, a), b) in state.iter_mut().zip(sa).zip(sb) {
            *row = [a, b];
        }
    }

    fn compress(self, state: &mut [[u32; 2]; 8], w: &[[u32; 2]; 16]) {
        let mut sa = [0u32; 8];
        let mut sb = [0u32; 8];
        for ((a, b), row) in sa.iter_mut().zip(sb.iter_mut()).zip(state.iter()) {
            [*a, *b] = *row;
        }
        let mut wa = [0u32; 16];
        let mut wb = [0u32; 16];
        for ((a, b), row) in wa.iter_mut().zip(wb.iter_mut()).zip(w) {
            [*a, *b] = *row;
        }
        // SAFETY: `self` exists only if `detect` saw sha + sse2 + ssse3 + sse4.1.
        unsafe {
            shani::compress2_words([&mut sa, &mut sb], &wa, &wb);
        }
        for ((row, a), b) in state.iter_mut().zip(sa).zip(sb) {
            *row = [a, b];
        }
    }
}

impl LaneEngine<8> for Avx2 {
    fn compress_blocks(self, state: &mut [[u32; 8]; 8], blocks: &[&[u8; 64]; 8]) {
        // SAFETY: `self` exists only if `detect` saw AVX2.
        unsafe {
            avx2::compress_blocks(state, blocks);
        }
    }

    fn d64_blocks(self, blocks: &[&[u8; 64]; 8]) -> [[u32; 8]; 8] {
        // SAFETY: `self` exists only if `detect` saw AVX2.
        unsafe { avx2::d64_blocks(blocks) }
    }

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
    fn compress_blocks(self, state: &mut [[u32; 16]; 8], blocks: &[&[u8; 64]; 16]) {
        // SAFETY: `self` exists only if `detect` saw AVX-512 F and BW.
        unsafe {
            avx512::compress_blocks(state, blocks);
        }
    }

    fn d64_blocks(self, blocks: &[&[u8; 64]; 16]) -> [[u32; 16]; 8] {
        // SAFETY: `self` exists only if `detect` saw AVX-512 F and BW.
        unsafe { avx512::d64_blocks(blocks) }
    }

    fn compress(self, state: &mut [[u32; 16]; 8], w: &[[u32; 16]; 16]) {
        // SAFETY: `self` exists only if `detect` saw AVX-512 F and BW.
        unsafe {
            avx512::compress(state, w);
        }
    }

    fn d64(self, w: &[[u32; 16]; 16]) -> [[u32; 16]; 8] {
        // SAFETY: `self` exists only if `detect` saw AVX-512 F and BW.
        unsafe { avx512::d64(w) }
    }
}
