//! The batch hashing API: many independent messages per call, on the fastest backend.

use std::sync::OnceLock;

use super::{lanes, scalar, simd, Hash256};

/// A way to compute SHA-256 over many messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Portable Rust, one message at a time (works everywhere).
    Scalar,
    /// x86 SHA extensions, two interleaved messages at a time (a lone message runs alone).
    ShaNi,
    /// AVX2, 8 messages per compression.
    Avx2,
    /// AVX-512 F, 16 messages per compression.
    Avx512,
}

/// Why a hashing request could not be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// The forced backend needs CPU features this machine lacks.
    #[error("hash backend {0:?} is not supported by this CPU")]
    BackendUnavailable(Backend),
    /// `out` must have exactly one slot per input.
    #[error("{inputs} inputs but {outputs} output slots")]
    LengthMismatch {
        /// Number of inputs.
        inputs: usize,
        /// Number of output slots.
        outputs: usize,
    },
}

impl Backend {
    /// Every backend, slowest first.
    pub const ALL: [Backend; 4] = [
        Backend::Scalar,
        Backend::ShaNi,
        Backend::Avx2,
        Backend::Avx512,
    ];

    /// Whether this CPU can run the backend.
    #[must_use]
    pub fn is_available(self) -> bool {
        match self {
            Backend::Scalar => true,
            Backend::ShaNi => simd::ShaNi::detect().is_some(),
            Backend::Avx2 => simd::Avx2::detect().is_some(),
            Backend::Avx512 => simd::Avx512::detect().is_some(),
        }
    }

    /// Messages hashed per compression.
    #[must_use]
    pub fn lanes(self) -> usize {
        match self {
            Backend::Scalar => 1,
            Backend::ShaNi => 2,
            Backend::Avx2 => 8,
            Backend::Avx512 => 16,
        }
    }

    /// The backend the automatic functions use for full batches (decided once per process).
    ///
    /// Policy, from the `sha_lanes` benchmark on a 2-core AMD EPYC slice with all four
    /// backends (criterion medians, shared machine): per message AVX-512 (16 lanes) is ~2×
    /// two-way SHA-NI on 64-byte inputs and ~1.5× on a block's transactions, while AVX2
    /// (8 lanes) and two-way SHA-NI are within ±5% of each other. So the wide backend is
    /// AVX-512, else AVX2 only when SHA-NI is missing (SHA-NI needs no lane filling, so it
    /// wins on small batches). Remainders smaller than half the lane count go to the narrow
    /// backend ([`Backend::auto_narrow`]).
    #[must_use]
    pub fn auto_d64() -> Backend {
        wide().unwrap_or_else(Backend::auto_narrow)
    }

    /// The backend [`sha256_many`] and the first pass of [`sha256d_many`] use (same policy as
    /// [`Backend::auto_d64`]; the lane driver itself hands stragglers to a single stream).
    #[must_use]
    pub fn auto_many() -> Backend {
        Backend::auto_d64()
    }

    /// The backend for batches too small to fill wide lanes: SHA-NI, else portable Rust.
    #[must_use]
    pub fn auto_narrow() -> Backend {
        static CHOICE: OnceLock<Backend> = OnceLock::new();
        *CHOICE.get_or_init(|| {
            if Backend::ShaNi.is_available() {
                Backend::ShaNi
            } else {
                Backend::Scalar
            }
        })
    }
}

/// The wide lane backend worth using on this CPU, if any (see [`Backend::auto_d64`]).
fn wide() -> Option<Backend> {
    static CHOICE: OnceLock<Option<Backend>> = OnceLock::new();
    *CHOICE.get_or_init(|| {
        if Backend::Avx512.is_available() {
            Some(Backend::Avx512)
        } else if Backend::Avx2.is_available() && !Backend::ShaNi.is_available() {
            Some(Backend::Avx2)
        } else {
            None
        }
    })
}

/// How many leading items of a batch of `n` the wide backend takes: whole lane groups, plus
/// the remainder when it fills at least half the lanes.
fn wide_share(n: usize) -> (Option<Backend>, usize) {
    match wide() {
        Some(w) => {
            let lanes = w.lanes();
            let rest = n % lanes;
            (Some(w), if 2 * rest >= lanes { n } else { n - rest })
        }
        None => (None, 0),
    }
}

fn check_lengths(inputs: usize, outputs: usize) -> Result<(), HashError> {
    if inputs == outputs {
        Ok(())
    } else {
        Err(HashError::LengthMismatch { inputs, outputs })
    }
}

/// Double SHA-256 of each 64-byte input (a merkle level: `out[i] = SHA256d(inputs[i])`),
/// with the fastest backends of this CPU.
///
/// # Panics
/// If `out.len() != inputs.len()` (a caller bug, never caused by block data).
pub fn sha256d64(inputs: &[[u8; 64]], out: &mut [Hash256]) {
    assert_eq!(
        check_lengths(inputs.len(), out.len()),
        Ok(()),
        "sha256d64: output length must equal input length"
    );
    let (wide, cut) = wide_share(inputs.len());
    let (in_wide, in_rest) = inputs.split_at(cut);
    let (out_wide, out_rest) = out.split_at_mut(cut);
    if let Some(w) = wide {
        sha256d64_or_scalar(w, in_wide, out_wide);
    }
    sha256d64_or_scalar(Backend::auto_narrow(), in_rest, out_rest);
}

/// The automatic paths only pick available backends; should that ever fail, stay correct.
fn sha256d64_or_scalar(backend: Backend, inputs: &[[u8; 64]], out: &mut [Hash256]) {
    if sha256d64_with(backend, inputs, out).is_err() {
        for (i, o) in inputs.iter().zip(out.iter_mut()) {
            *o = scalar::sha256d64_with(i, scalar::compress_blocks);
        }
    }
}

/// [`sha256d64`] with a chosen backend.
///
/// # Errors
/// [`HashError::BackendUnavailable`] if this CPU cannot run `backend`;
/// [`HashError::LengthMismatch`] if `out.len() != inputs.len()`.
pub fn sha256d64_with(
    backend: Backend,
    inputs: &[[u8; 64]],
    out: &mut [Hash256],
) -> Result<(), HashError> {
    check_lengths(inputs.len(), out.len())?;
    let unavailable = HashError::BackendUnavailable(backend);
    match backend {
        Backend::Scalar => {
            for (i, o) in inputs.iter().zip(out.iter_mut()) {
                *o = scalar::sha256d64_with(i, scalar::compress_blocks);
            }
        }
        Backend::ShaNi => {
            let e = simd::ShaNi::detect().ok_or(unavailable)?;
            let pairs = inputs.len() / 2 * 2;
            let (in_pairs, in_last) = inputs.split_at(pairs);
            let (out_pairs, out_last) = out.split_at_mut(pairs);
            lanes::sha256d64::<2, _>(e, in_pairs, out_pairs);
            for (i, o) in in_last.iter().zip(out_last.iter_mut()) {
                *o = scalar::sha256d64_with(i, |s, b| e.compress_blocks(s, b));
            }
        }
        Backend::Avx2 => lanes::sha256d64(simd::Avx2::detect().ok_or(unavailable)?, inputs, out),
        Backend::Avx512 => {
            lanes::sha256d64(simd::Avx512::detect().ok_or(unavailable)?, inputs, out);
        }
    }
    Ok(())
}

/// SHA-256 of each message (`out[i] = SHA256(msgs[i])`), with the fastest backend of this CPU.
///
/// # Panics
/// If `out.len() != msgs.len()` (a caller bug, never caused by block data).
pub fn sha256_many(msgs: &[&[u8]], out: &mut [Hash256]) {
    assert_eq!(
        check_lengths(msgs.len(), out.len()),
        Ok(()),
        "sha256_many: output length must equal input length"
    );
    if sha256_many_with(Backend::auto_many(), msgs, out).is_err() {
        for (m, o) in msgs.iter().zip(out.iter_mut()) {
            *o = scalar::sha256_with(m, scalar::compress_blocks);
        }
    }
}

/// Double SHA-256 of each message (`out[i] = SHA256d(msgs[i])`: txids, wtxids), with the
/// fastest backends of this CPU.
///
/// # Panics
/// If `out.len() != msgs.len()` (a caller bug, never caused by block data).
pub fn sha256d_many(msgs: &[&[u8]], out: &mut [Hash256]) {
    sha256_many(msgs, out);
    let (wide, cut) = wide_share(out.len());
    let (out_wide, out_rest) = out.split_at_mut(cut);
    if let Some(w) = wide {
        rehash_or_scalar(w, out_wide);
    }
    rehash_or_scalar(Backend::auto_narrow(), out_rest);
}

fn rehash_or_scalar(backend: Backend, hashes: &mut [Hash256]) {
    if rehash_with(backend, hashes).is_err() {
        for h in hashes.iter_mut() {
            *h = scalar::sha256_with(h, scalar::compress_blocks);
        }
    }
}

/// [`sha256_many`] with a chosen backend.
///
/// # Errors
/// [`HashError::BackendUnavailable`] if this CPU cannot run `backend`;
/// [`HashError::LengthMismatch`] if `out.len() != msgs.len()`.
pub fn sha256_many_with(
    backend: Backend,
    msgs: &[&[u8]],
    out: &mut [Hash256],
) -> Result<(), HashError> {
    many_from(backend, scalar::FRESH, msgs, out)
}

/// BIP340 tagged hash of each message with one tag (`out[i] = tagged_hash(tag, msgs[i])`):
/// the tag's 64-byte prefix is compressed once and every lane starts from that midstate
/// (taproot sighashes, leaf and branch hashes).
///
/// # Panics
/// If `out.len() != msgs.len()` (a caller bug, never caused by block data).
pub fn tagged_hash_many(tag: &[u8], msgs: &[&[u8]], out: &mut [Hash256]) {
    assert_eq!(
        check_lengths(msgs.len(), out.len()),
        Ok(()),
        "tagged_hash_many: output length must equal input length"
    );
    if tagged_hash_many_with(Backend::auto_many(), tag, msgs, out).is_err() {
        for (m, o) in msgs.iter().zip(out.iter_mut()) {
            *o = super::tagged_hash(tag, m);
        }
    }
}

/// [`tagged_hash_many`] with a chosen backend.
///
/// # Errors
/// [`HashError::BackendUnavailable`] if this CPU cannot run `backend`;
/// [`HashError::LengthMismatch`] if `out.len() != msgs.len()`.
pub fn tagged_hash_many_with(
    backend: Backend,
    tag: &[u8],
    msgs: &[&[u8]],
    out: &mut [Hash256],
) -> Result<(), HashError> {
    let tag_hash = super::sha256(tag);
    let mut prefix = [0u8; 64];
    prefix[..32].copy_from_slice(&tag_hash);
    prefix[32..].copy_from_slice(&tag_hash);
    let mut state = scalar::IV;
    scalar::compress_blocks(&mut state, &prefix);
    many_from(backend, scalar::Start { state, prefix: 64 }, msgs, out)
}

/// SHA-256 of `prefix || msg` for each message, `start` being the state after the prefix.
fn many_from(
    backend: Backend,
    start: scalar::Start,
    msgs: &[&[u8]],
    out: &mut [Hash256],
) -> Result<(), HashError> {
    check_lengths(msgs.len(), out.len())?;
    let unavailable = HashError::BackendUnavailable(backend);
    // Stragglers of the lane backends finish on the best single-stream engine.
    let shani = simd::ShaNi::detect();
    let single = |s: &mut [u32; 8], b: &[u8]| match shani {
        Some(e) => e.compress_blocks(s, b),
        None => scalar::compress_blocks(s, b),
    };
    match backend {
        Backend::Scalar => {
            for (m, o) in msgs.iter().zip(out.iter_mut()) {
                *o = scalar::sha256_from(start, m, scalar::compress_blocks);
            }
        }
        Backend::ShaNi => {
            let e = simd::ShaNi::detect().ok_or(unavailable)?;
            lanes::sha256_many::<2, _>(e, start, msgs, out, single);
        }
        Backend::Avx2 => {
            let e = simd::Avx2::detect().ok_or(unavailable)?;
            lanes::sha256_many(e, start, msgs, out, single);
        }
        Backend::Avx512 => {
            let e = simd::Avx512::detect().ok_or(unavailable)?;
            lanes::sha256_many(e, start, msgs, out, single);
        }
    }
    Ok(())
}

/// [`sha256d_many`] with a chosen backend (both passes).
///
/// # Errors
/// [`HashError::BackendUnavailable`] if this CPU cannot run `backend`;
/// [`HashError::LengthMismatch`] if `out.len() != msgs.len()`.
pub fn sha256d_many_with(
    backend: Backend,
    msgs: &[&[u8]],
    out: &mut [Hash256],
) -> Result<(), HashError> {
    sha256_many_with(backend, msgs, out)?;
    rehash_with(backend, out)
}

/// `h = SHA256(h)` for each 32-byte digest (the second half of a double SHA-256).
fn rehash_with(backend: Backend, hashes: &mut [Hash256]) -> Result<(), HashError> {
    let unavailable = HashError::BackendUnavailable(backend);
    match backend {
        Backend::Scalar => {
            for h in hashes.iter_mut() {
                *h = scalar::sha256_with(h, scalar::compress_blocks);
            }
        }
        Backend::ShaNi => {
            let e = simd::ShaNi::detect().ok_or(unavailable)?;
            let pairs = hashes.len() / 2 * 2;
            let (two, last) = hashes.split_at_mut(pairs);
            lanes::rehash32::<2, _>(e, two);
            for h in last.iter_mut() {
                *h = scalar::sha256_with(h, |s, b| e.compress_blocks(s, b));
            }
        }
        Backend::Avx2 => lanes::rehash32(simd::Avx2::detect().ok_or(unavailable)?, hashes),
        Backend::Avx512 => lanes::rehash32(simd::Avx512::detect().ok_or(unavailable)?, hashes),
    }
    Ok(())
}
