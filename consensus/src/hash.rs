//! Hashing primitives shared by every consensus rule.
//!
//! The scalar `sha2` implementation is the reference; multi-lane variants must agree with it.

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
