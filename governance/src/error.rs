//! One error type for the crate: every refusal names the rule that refused.

use std::fmt;

use crate::time::Timestamp;

/// Why one signature was not counted towards a threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignored {
    /// The signer id is not a maintainer of the keyring.
    UnknownSigner,
    /// The signer's role is not one the tier accepts.
    NotEligible {
        /// The signer's role.
        role: String,
    },
    /// The key has been revoked (every signature by it, since `signed_at` is the signer's claim).
    Revoked,
    /// Signed before the key's `valid_from`.
    KeyNotYetValid,
    /// Signed at or after the key's `valid_until`.
    KeyExpired,
    /// `signed_at` is earlier than `proposed_at`.
    SignedBeforeProposed,
    /// `signed_at` lies after the verifier's `now`.
    SignedInFuture,
    /// The approval's own expiry has passed (or is not after `signed_at`).
    Expired,
    /// The signature does not verify over the recomputed statement.
    BadSignature,
    /// The signature verifies, but for another tier than the change needs.
    WrongTier {
        /// The tier the signer signed for.
        signed: String,
    },
    /// This key was already counted (same signature again, or another signature of it).
    DuplicateKey {
        /// The signer id it was first counted under.
        counted_as: String,
    },
}

impl fmt::Display for Ignored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ignored::UnknownSigner => f.write_str("unknown signer"),
            Ignored::NotEligible { role } => write!(f, "role {role} is not eligible for the tier"),
            Ignored::Revoked => f.write_str("key revoked"),
            Ignored::KeyNotYetValid => f.write_str("signed before the key became valid"),
            Ignored::KeyExpired => f.write_str("signed after the key expired"),
            Ignored::SignedBeforeProposed => f.write_str("signed before proposed-at"),
            Ignored::SignedInFuture => f.write_str("signed-at is in the future"),
            Ignored::Expired => f.write_str("approval expired"),
            Ignored::BadSignature => f.write_str("signature does not verify"),
            Ignored::WrongTier { signed } => write!(f, "signed for tier {signed}"),
            Ignored::DuplicateKey { counted_as } => {
                write!(f, "key already counted as {counted_as}")
            }
        }
    }
}

/// Which part of an audit log is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFault {
    /// An entry's stored hash is not the hash of its contents (edited entry).
    HashMismatch,
    /// An entry does not point at the previous entry's hash (edited, dropped or reordered).
    PrevMismatch,
    /// An entry's sequence number is lower than its position (reordered or repeated).
    Reordered,
    /// An entry's sequence number skips ahead (dropped entry).
    Dropped,
    /// The file ends in the middle of an entry, or before the expected head.
    Truncated,
    /// The expected head is at its position but with a different hash (rewritten history).
    HeadMismatch,
    /// A line is not a well-formed entry.
    Malformed,
}

/// Everything that can refuse a governance check.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // the variant names and messages are the documentation
pub enum Error {
    // --- malformed input ---
    #[error("{what}: cannot parse: {message}")]
    Parse { what: String, message: String },
    #[error("{field}: not lowercase hex")]
    BadHex { field: String },
    #[error("{field}: expected {expected} bytes, found {found}")]
    BadLength {
        field: String,
        expected: usize,
        found: usize,
    },
    #[error("{field}: not a valid secp256k1 x-only point")]
    InvalidPoint { field: String },
    #[error("{field}: not a valid BIP340 signature encoding")]
    InvalidSignatureEncoding { field: String },
    #[error("bad time {value:?}: expected YYYY-MM-DDTHH:MM:SSZ")]
    BadTime { value: String },
    #[error("bad duration {value:?}: expected <n>s, <n>m, <n>h or <n>d")]
    BadDuration { value: String },
    #[error("bad path pattern {pattern:?}: {reason}")]
    BadPattern {
        pattern: String,
        reason: &'static str,
    },
    #[error("bad path {path:?}: {reason}")]
    BadPath { path: String, reason: &'static str },

    // --- keyring contents ---
    #[error("keyring: {0}")]
    Keyring(String),
    #[error("keyring: tier {tier}: threshold is 0")]
    ThresholdZero { tier: String },
    #[error("keyring: tier {tier}: threshold {m} is more than the {n} eligible keys")]
    ThresholdAboveKeys { tier: String, m: usize, n: usize },
    #[error("keyring: id {id} appears twice")]
    DuplicateId { id: String },
    #[error("keyring: ids {first} and {second} share one key")]
    DuplicateKey { first: String, second: String },
    #[error("keyring: no tier named {name}")]
    UnknownTier { name: String },

    // --- keyring chain (rotation, freeze, rollback) ---
    #[error("first keyring digest {found} is not the pinned {pinned}")]
    PinnedDigestMismatch { found: String, pinned: String },
    #[error("keyring chain: expected version {expected}, found {found}")]
    SkippedVersion { expected: u64, found: u64 },
    #[error("keyring {version}: previous digest does not name keyring {}", version - 1)]
    WrongPreviousDigest { version: u64 },
    #[error("keyring {version}: repository changed from {from} to {to}")]
    RepositoryChanged {
        version: u64,
        from: String,
        to: String,
    },
    #[error(
        "keyring {version}: rotation signed by {have} of the {which} keyring's keys, {need} needed"
    )]
    RotationThresholdNotMet {
        version: u64,
        which: &'static str,
        have: usize,
        need: usize,
    },
    #[error("keyring {version} expired at {expires}")]
    KeyringExpired { version: u64, expires: Timestamp },
    #[error("keyring {shown} is older than the trusted keyring {trusted}")]
    Rollback { trusted: u64, shown: u64 },
    #[error("keyring {version} differs from the one trusted before (fork)")]
    ForkedKeyring { version: u64 },
    #[error("no keyring files found")]
    NoKeyrings,

    // --- trees and the repository ---
    #[error("{path}: unknown file mode {mode}")]
    UnknownMode { path: String, mode: String },
    #[error("git {command}: {message}")]
    Git { command: String, message: String },
    #[error("base tree's keyring {version} is not in the trusted chain")]
    BasePolicyUntrusted { version: u64 },
    #[error("the change is empty: base and target trees are identical")]
    EmptyChange,

    // --- approvals ---
    #[error("tier {tier}: {have} of {need} required signatures")]
    NotApproved {
        tier: String,
        have: usize,
        need: usize,
        ignored: Vec<(String, Ignored)>,
    },
    #[error("tier {tier}: review period runs until {until}")]
    ReviewPending { tier: String, until: Timestamp },
    #[error("emergency: {0}")]
    Emergency(String),
    #[error("emergency: window of {window}s exceeds the keyring's maximum {max}s")]
    EmergencyWindowTooLong { window: u64, max: u64 },
    #[error("emergency: signed by {have} keyholders, {need} needed")]
    EmergencyThresholdNotMet { have: usize, need: usize },

    // --- key files ---
    #[error("key file: {0}")]
    KeyFile(&'static str),

    // --- audit log ---
    #[error("audit log entry {seq}: {fault:?}")]
    Log { seq: u64, fault: LogFault },

    // --- release ---
    #[error("release file {path}: {reason}")]
    ReleaseFile { path: String, reason: &'static str },

    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

impl Error {
    /// A parse error for the input called `what`.
    pub fn parse(what: &str, message: impl fmt::Display) -> Self {
        Error::Parse {
            what: what.to_string(),
            message: message.to_string(),
        }
    }
}
