//! Verifying a change `base → target`: the pure rule, over trees and parsed files; reading
//! them from git and disk is [`crate::repo`]'s job.

use crate::approval::{tally, ApprovalFile, Scope, Statement};
use crate::emergency::EmergencyFile;
use crate::error::Error;
use crate::policy::tier_of_change;
use crate::rotation::TrustedKeyring;
use crate::time::Timestamp;
use crate::tree::Tree;

/// What an approved change was approved as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved {
    /// The tier the change needed.
    pub tier: String,
    /// Signers that counted, one per distinct key.
    pub signers: Vec<String>,
    /// Files the change touches.
    pub changed: Vec<String>,
    /// When the review period ended (or ends, for an emergency override).
    pub review_until: Timestamp,
    /// Whether an emergency override shortened the review period.
    pub emergency: bool,
}

/// Checks that `base → target` is approved for `channel` at `now` under the trusted keyring:
/// the tier from the paths (base tree's policy, never the target's), the threshold by distinct
/// valid keys over the recomputed statement, and the review period from proposed-at (shortened
/// only by a valid emergency override naming this target tree).
pub fn verify_change(
    trusted: &TrustedKeyring,
    channel: &str,
    base: &Tree,
    target: &Tree,
    approvals: &[ApprovalFile],
    emergencies: &[EmergencyFile],
    now: Timestamp,
) -> Result<Approved, Error> {
    let keyring = trusted.keyring();
    let changed = Tree::changed_paths(base, target);
    let base_policy = base.policy(trusted)?;
    let tier = tier_of_change(keyring, base_policy.as_ref(), &changed)?;
    let scope = Scope::of(keyring, channel);
    let (b, t) = (base.digest(), target.digest());
    let items = approvals
        .iter()
        .filter(|a| a.base_tree == b && a.target_tree == t)
        .flat_map(|a| a.signatures.iter().map(move |s| (a.proposed_at, s)));
    let counted = tally(keyring, tier, now, items, |tier_name, proposed_at, s| {
        Statement {
            scope,
            base_tree: b,
            target_tree: t,
            tier: tier_name,
            proposed_at,
            signed_at: s.signed_at,
            expires: s.expires,
        }
        .message()
    })
    .require(tier)?;
    let mut period = tier.review_period;
    let mut emergency = false;
    for e in emergencies.iter().filter(|e| e.target_tree == t) {
        match e.check(keyring, &scope, now) {
            Ok(p) if p < period => {
                period = p;
                emergency = true;
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(%err, "emergency override for this tree does not apply"),
        }
    }
    // `require` succeeded, so at least one signature counted and proposed_at is set.
    let proposed_at = counted.proposed_at.ok_or(Error::NotApproved {
        tier: tier.name.clone(),
        have: 0,
        need: tier.threshold,
        ignored: Vec::new(),
    })?;
    let review_until = proposed_at.plus(period);
    if now < review_until {
        return Err(Error::ReviewPending {
            tier: tier.name.clone(),
            until: review_until,
        });
    }
    Ok(Approved {
        tier: tier.name.clone(),
        signers: counted.counted,
        changed,
        review_until,
        emergency,
    })
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
