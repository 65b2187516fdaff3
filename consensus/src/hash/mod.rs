//! Hashing primitives shared by every consensus rule.
//!
//! Single messages: [`sha256`], [`sha256d`], [`tagged_hash`] (the `sha2` crate).
//!
//! Many independent messages at once (txids, wtxids, merkle levels, sighashes):
//! [`sha256d64`] for 64-byte inputs (merkle nodes) and [`sha256_many`] / [`sha256d_many`] for
//! messages of any length. These run 16 lanes with AVX-512, 8 with AVX2, or one stream with
//! SHA-NI or portable Rust, chosen once at run time from the CPU's features
//! ([`Backend::auto_d64`], [`Backend::auto_many`]); the `*_with` variants force a backend so
//! tests and benchmarks can compare them. Every backend agrees with the `sha2` crate.

mod lanes;
mod scalar;
#[cfg(not(target_arch = "x86_64"))]
#[path = "nosimd.rs"]
mod simd;
#[cfg(target_arch = "x86_64")]
mod simd;

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// A 32-byte hash in internal (little-endian, as serialised) byte order.
pub type Hash256 = [u8; 32];

/// Single SHA-256.
#[must_use]
pub fn sha256(data: &[u8]) -> Hash256 {
    Sha256::digest(data).into()
}

/// Double SHA-256, as used for txids, block hashes and merkle nodes.
#[must_use]
pub fn sha256d(data: &[u8]) -> Hash256 {
    sha256(&sha256(data))
}

/// BIP340 tagged hash: `SHA256(SHA256(tag) || SHA256(tag) || data)`.
#[must_use]
pub fn tagged_hash(tag: &[u8], data: &[u8]) -> Hash256 {
    let tag_hash = sha256(tag);
    let mut h = Sha256::new();
    h.update(tag_hash);
    h.update(tag_hash);
    h.update(data);
    h.finalize().into()
}

/// Hex of a hash in display order (reversed), as block explorers and RPCs print it.
#[must_use]
pub fn to_display_hex(hash: &Hash256) -> String {
    use std::fmt::Write;
    hash.iter()
        .rev()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A way to compute SHA-256 over many messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Portable Rust, one message at a time (works everywhere).
    Scalar,
    /// x86 SHA extensions, one message at a time.
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
            Backend::Scalar | Backend::ShaNi => 1,
            Backend::Avx2 => 8,
            Backend::Avx512 => 16,
        }
    }

    /// The backend [`sha256d64`] uses on this CPU (decided once).
    #[must_use]
    pub fn auto_d64() -> Backend {
        static CHOICE: OnceLock<Backend> = OnceLock::new();
        *CHOICE.get_or_init(|| first_available(&[Backend::Avx512, Backend::Avx2, Backend::ShaNi]))
    }

    /// The backend [`sha256_many`] and [`sha256d_many`] use on this CPU (decided once).
    #[must_use]
    pub fn auto_many() -> Backend {
        static CHOICE: OnceLock<Backend> = OnceLock::new();
        *CHOICE.get_or_init(|| first_available(&[Backend::Avx512, Backend::Avx2, Backend::ShaNi]))
    }
}

fn first_available(preference: &[Backend]) -> Backend {
    preference
        .iter()
        .copied()
        .find(|b| b.is_available())
        .unwrap_or(Backend::Scalar)
}

fn check_lengths(inputs: usize, outputs: usize) -> Result<(), HashError> {
    if inputs == outputs {
        Ok(())
    } else {
        Err(HashError::LengthMismatch { inputs, outputs })
    }
}

/// Double SHA-256 of each 64-byte input (a merkle level: `out[i] = SHA256d(inputs[i])`),
/// with the fastest backend of this CPU.
///
/// # Panics
/// If `out.len() != inputs.len()` (a caller bug, never caused by block data).
pub fn sha256d64(inputs: &[[u8; 64]], out: &mut [Hash256]) {
    let result = sha256d64_with(Backend::auto_d64(), inputs, out);
    assert_eq!(
        result,
        Ok(()),
        "sha256d64: output length must equal input length"
    );
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
            for (i, o) in inputs.iter().zip(out.iter_mut()) {
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
    let result = sha256_many_with(Backend::auto_many(), msgs, out);
    assert_eq!(
        result,
        Ok(()),
        "sha256_many: output length must equal input length"
    );
}

/// Double SHA-256 of each message (`out[i] = SHA256d(msgs[i])`: txids, wtxids), with the
/// fastest backend of this CPU.
///
/// # Panics
/// If `out.len() != msgs.len()` (a caller bug, never caused by block data).
pub fn sha256d_many(msgs: &[&[u8]], out: &mut [Hash256]) {
    let result = sha256d_many_with(Backend::auto_many(), msgs, out);
    assert_eq!(
        result,
        Ok(()),
        "sha256d_many: output length must equal input length"
    );
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
                *o = scalar::sha256_with(m, scalar::compress_blocks);
            }
        }
        Backend::ShaNi => {
            let e = simd::ShaNi::detect().ok_or(unavailable)?;
            for (m, o) in msgs.iter().zip(out.iter_mut()) {
                *o = scalar::sha256_with(m, |s, b| e.compress_blocks(s, b));
            }
        }
        Backend::Avx2 => {
            let e = simd::Avx2::detect().ok_or(unavailable)?;
            lanes::sha256_many(e, msgs, out, single);
        }
        Backend::Avx512 => {
            let e = simd::Avx512::detect().ok_or(unavailable)?;
            lanes::sha256_many(e, msgs, out, single);
        }
    }
    Ok(())
}

/// [`sha256d_many`] with a chosen backend.
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
    match backend {
        Backend::Scalar => {
            for h in out.iter_mut() {
                *h = scalar::sha256_with(h, scalar::compress_blocks);
            }
        }
        Backend::ShaNi => {
            let e = simd::ShaNi::detect().ok_or(HashError::BackendUnavailable(backend))?;
            for h in out.iter_mut() {
                *h = scalar::sha256_with(h, |s, b| e.compress_blocks(s, b));
            }
        }
        Backend::Avx2 => {
            let e = simd::Avx2::detect().ok_or(HashError::BackendUnavailable(backend))?;
            lanes::rehash32(e, out);
        }
        Backend::Avx512 => {
            let e = simd::Avx512::detect().ok_or(HashError::BackendUnavailable(backend))?;
            lanes::rehash32(e, out);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesis_block_hash() {
        let header = hex::decode(concat!(
            "0100000000000000000000000000000000000000000000000000000000000000",
            "000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa",
            "4b1e5e4a29ab5f49ffff001d1dac2b7c"
        ))
        .unwrap();
        assert_eq!(
            to_display_hex(&sha256d(&header)),
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
        );
    }

    #[test]
    fn tagged_hash_differs_by_tag() {
        assert_ne!(
            tagged_hash(b"TapLeaf", b"x"),
            tagged_hash(b"TapBranch", b"x")
        );
    }
}
