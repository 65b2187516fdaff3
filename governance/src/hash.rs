//! Digests, BIP340-style tagged hashes and the length-prefixed preimage encoding every signed
//! statement uses.
//!
//! A tagged hash is `SHA256(SHA256(tag) || SHA256(tag) || msg)` (BIP340's construction): a
//! signature made for one kind of statement can never be a valid signature for another kind,
//! nor for an untagged hash of the same bytes.

use std::fmt;

use sha2::{Digest as _, Sha256};

use crate::error::Error;

/// Domain tag of a change approval.
pub const TAG_APPROVAL: &str = "sluice/gov/approval/v1";
/// Domain tag of a keyring rotation.
pub const TAG_ROTATION: &str = "sluice/gov/rotation/v1";
/// Domain tag of an emergency review-period override.
pub const TAG_EMERGENCY: &str = "sluice/gov/emergency/v1";
/// Domain tag of a release manifest signature.
pub const TAG_RELEASE: &str = "sluice/gov/release/v1";
/// Domain tag of the file list inside a release manifest.
pub const TAG_RELEASE_FILES: &str = "sluice/gov/release-files/v1";
/// Domain tag of a keyring file's digest.
pub const TAG_KEYRING: &str = "sluice/gov/keyring/v1";
/// Domain tag of a tree digest.
pub const TAG_TREE: &str = "sluice/gov/tree/v1";
/// Domain tag of an audit-log entry.
pub const TAG_LOG: &str = "sluice/gov/log/v1";

/// A 32-byte digest, shown as lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex characters; `field` names the input in the error.
    pub fn from_hex(field: &str, s: &str) -> Result<Self, Error> {
        Ok(Digest(parse_hex_array::<32>(field, s)?))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Parses exactly `N` bytes of hex, telling a wrong length apart from bad characters.
pub fn parse_hex_array<const N: usize>(field: &str, s: &str) -> Result<[u8; N], Error> {
    // Uppercase would give two spellings of one value; files are compared as text by people.
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(Error::BadHex {
            field: field.to_string(),
        });
    }
    let bytes = hex::decode(s).map_err(|_| Error::BadHex {
        field: field.to_string(),
    })?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| Error::BadLength {
        field: field.to_string(),
        expected: N,
        found: bytes.len(),
    })
}

/// Plain SHA-256 (file contents, the inner hash of tree entries).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// BIP340 tagged hash of `msg` under `tag`.
pub fn tagged_hash(tag: &str, msg: &[u8]) -> Digest {
    let t = Sha256::digest(tag.as_bytes());
    let mut h = Sha256::new();
    h.update(t);
    h.update(t);
    h.update(msg);
    Digest(h.finalize().into())
}

/// Builds a preimage field by field. Variable-length fields carry a u64 length so that no two
/// different field sequences encode to the same bytes.
#[derive(Debug, Default)]
pub struct Preimage(Vec<u8>);

impl Preimage {
    /// An empty preimage.
    pub fn new() -> Self {
        Self::default()
    }

    /// A length-prefixed byte string.
    pub fn bytes(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(&(b.len() as u64).to_be_bytes());
        self.0.extend_from_slice(b);
        self
    }

    /// A length-prefixed UTF-8 string.
    pub fn str(self, s: &str) -> Self {
        self.bytes(s.as_bytes())
    }

    /// A fixed 32-byte field.
    pub fn digest(mut self, d: &Digest) -> Self {
        self.0.extend_from_slice(&d.0);
        self
    }

    /// A big-endian u64.
    pub fn u64(mut self, v: u64) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// The raw encoded bytes (tests sign them untagged to show that is refused).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The tagged hash of the encoded fields: the message that gets signed.
    pub fn finish(&self, tag: &str) -> Digest {
        tagged_hash(tag, &self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagged_hash_matches_bip340_definition() {
        // BIP340's own tag: the challenge hash of an all-zero message is a fixed value we
        // recompute from the definition with plain SHA-256 calls.
        let t = sha256(b"BIP0340/challenge");
        let mut m = Vec::new();
        m.extend_from_slice(&t);
        m.extend_from_slice(&t);
        m.extend_from_slice(&[0u8; 96]);
        assert_eq!(tagged_hash("BIP0340/challenge", &[0u8; 96]).0, sha256(&m));
    }

    #[test]
    fn different_tags_differ() {
        assert_ne!(
            tagged_hash(TAG_APPROVAL, b"x"),
            tagged_hash(TAG_RELEASE, b"x")
        );
    }

    #[test]
    fn length_prefix_separates_fields() {
        let a = Preimage::new().str("ab").str("c");
        let b = Preimage::new().str("a").str("bc");
        assert_ne!(a.as_bytes(), b.as_bytes());
    }

    #[test]
    fn hex_errors_are_typed() {
        assert!(matches!(
            Digest::from_hex("d", "00"),
            Err(Error::BadLength {
                expected: 32,
                found: 1,
                ..
            })
        ));
        assert!(matches!(
            Digest::from_hex("d", "zz"),
            Err(Error::BadHex { .. })
        ));
        assert!(matches!(
            Digest::from_hex("d", &"AB".repeat(32)),
            Err(Error::BadHex { .. })
        ));
    }
}
