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

mod shani;
mod vector;

use super::lanes::LaneEngine;
use vector::{avx2, avx512};

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

/// Two SHA-NI streams interleaved, as a 2-lane engine.
impl LaneEngine<2> for ShaNi {
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
