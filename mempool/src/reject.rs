//! Rejections with Core's reject reasons and result classes.

use std::fmt;

/// Core's `TxValidationResult`: what kind of failure a rejection is (peers, orphan handling and
/// `testmempoolaccept`'s "missing-inputs" depend on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectKind {
    /// Invalid by consensus rules.
    Consensus,
    /// Inputs missing or spent: possibly an orphan (`testmempoolaccept` says "missing-inputs").
    MissingInputs,
    /// Not standard (policy).
    NotStandard,
    /// Lock time or relative lock not yet satisfied.
    PrematureSpend,
    /// Witness was stripped: do not cache the rejection by txid.
    WitnessStripped,
    /// Non-standard witness (possibly malleated).
    WitnessMutated,
    /// Conflicts with a transaction already known.
    Conflict,
    /// Violates mempool-only policy (limits, replacement rules).
    MempoolPolicy,
    /// Failed for fee reasons; may pass in a package.
    Reconsiderable,
}

/// A rejected transaction: Core's reject reason (`reason`, e.g. `"min relay fee not met"`)
/// and debug detail (`details`; Core's `reject-details` is `reason + ", " + details`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Reject {
    pub kind: RejectKind,
    pub reason: String,
    pub details: String,
}

impl Reject {
    pub(crate) fn new(kind: RejectKind, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
            details: String::new(),
        }
    }

    pub(crate) fn with(kind: RejectKind, reason: impl Into<String>, details: String) -> Self {
        Self {
            kind,
            reason: reason.into(),
            details,
        }
    }

    /// The reason `testmempoolaccept` reports: "missing-inputs" for missing inputs, else
    /// [`Reject::reason`].
    #[must_use]
    pub fn testmempoolaccept_reason(&self) -> &str {
        if self.kind == RejectKind::MissingInputs {
            "missing-inputs"
        } else {
            &self.reason
        }
    }
}

impl fmt::Display for Reject {
    /// Core's `TxValidationState::ToString`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.details.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "{}, {}", self.reason, self.details)
        }
    }
}
