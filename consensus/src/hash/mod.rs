//! Hashing primitives shared by every consensus rule.
//!
//! Single messages: [`sha256`], [`sha256d`], [`tagged_hash`] (the `sha2` crate).
//!
//! Many independent messages at once (txids, wtxids, merkle levels, sighashes):
//! [`sha256d64`] for 64-byte inputs (merkle nodes), [`sha256_many`] / [`sha256d_many`] for
//! messages of any length, and [`tagged_hash_many`] for BIP340 tagged hashes sharing one tag
//! (every lane starts from the tag's midstate). These run 16 lanes with AVX-512, 8 with AVX2,
//! two interleaved streams with SHA-NI, or portable Rust, chosen once at run time from the
//! CPU's features (see [`Backend::auto_d64`] for the policy); the `*_with` variants force a
//! backend so tests and benchmarks can compare them. Every backend agrees with the `sha2`
//! crate.

mod batch;
mod lanes;
mod scalar;
#[cfg(not(target_arch = "x86_64"))]
#[path = "nosimd.rs"]
mod simd;
#[cfg(target_arch = "x86_64")]
mod simd;

use sha2::{Digest, Sha256};

pub use batch::{
    sha256_many, sha256_many_with, sha256d64, sha256d64_with, sha256d_many, sha256d_many_with,
    tagged_hash_many, tagged_hash_many_with, Backend, HashError,
};

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
