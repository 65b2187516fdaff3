//! Governance for Sluice: who may change what, checked offline from the repository itself.
//!
//! - [`keys`]: BIP340 keys, encrypted at rest (Argon2id + XChaCha20-Poly1305).
//! - [`keyring`]: the declarative keyring (maintainers, emergency keyholders, tiers, path
//!   policy); [`rotation`]: the keyring chain from the pinned root (TUF-style rotation,
//!   freeze and rollback protection).
//! - [`tree`] and [`policy`]: tree digests from file contents and the tier a change needs.
//! - [`approval`] and [`verify`]: signed approvals and the threshold / review-period check;
//!   [`emergency`]: review-period overrides.
//! - [`audit`]: the hash-chained, append-only audit log.
//! - [`release`]: signed release manifests and [`release::verify_release`] for the node.
//! - [`sbom`]: the CycloneDX SBOM of a release, from `cargo metadata` and `Cargo.lock`.
//! - [`repo`]: the thin I/O layer (git, files). Everything else is pure: bytes and times in,
//!   verdicts out; the clock is never read inside the rules.
//!
//! `docs/governance.md` describes the model and what it does not protect against.
#![warn(missing_docs)]

pub mod approval;
pub mod audit;
pub mod emergency;
pub mod error;
pub mod hash;
pub mod keyring;
pub mod keys;
pub mod policy;
pub mod release;
pub mod repo;
pub mod rotation;
pub mod sbom;
pub mod time;
pub mod tree;
pub mod verify;

#[cfg(test)]
mod testutil;

pub use error::{Error, Ignored};
pub use release::{verify_release, VerifiedRelease};
pub use rotation::TrustedKeyring;
pub use time::Timestamp;

/// Digest of keyring 1, the root of trust compiled into the binary.
///
/// THIS IS A TEST KEYRING: `governance/keyrings/keyring-1.toml` holds throw-away test keys
/// whose encrypted secrets and passwords are in the repository. Approvals under it prove
/// nothing; a real deployment pins a keyring of real maintainer keys here.
pub const PINNED_ROOT_DIGEST: &str =
    "4b26770e5588ac4d499505c896b9656cb305dd9043870ab680999c47f592ce2a";

/// The root keyring's bytes, so the node can trust it without reading the repository.
pub const EMBEDDED_ROOT_KEYRING: &[u8] = include_bytes!("../keyrings/keyring-1.toml");

/// [`PINNED_ROOT_DIGEST`] as a digest.
pub fn pinned_root() -> hash::Digest {
    // A test below checks the constant parses and matches the embedded keyring.
    hash::Digest::from_hex("pinned root", PINNED_ROOT_DIGEST).unwrap_or_default()
}

/// The current time from the system clock, for the I/O edges (CLI, node) only.
pub fn now() -> Timestamp {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Timestamp(secs)
}

#[cfg(test)]
mod pin_tests {
    use super::*;

    #[test]
    fn pinned_digest_is_the_embedded_root_keyring() {
        assert_eq!(
            hash::Digest::from_hex("pin", PINNED_ROOT_DIGEST).ok(),
            Some(keyring::keyring_digest(EMBEDDED_ROOT_KEYRING))
        );
    }

    #[test]
    fn embedded_root_parses_and_is_marked_as_test() {
        let kr = keyring::Keyring::parse(EMBEDDED_ROOT_KEYRING);
        assert!(
            kr.as_ref().is_ok_and(|k| k.test_keyring && k.version == 1),
            "{kr:?}"
        );
    }
}
