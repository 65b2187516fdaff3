//! Change approvals: the signed statement, the approval file, and the threshold tally shared
//! with release manifests.
//!
//! The statement is never read from a file. The verifier rebuilds it from the trusted keyring
//! (repository id, keyring version and digest), the channel it verifies for, the two trees it
//! computed itself, the tier it derived from the paths, and the three times the file carries;
//! an approval file holds only who signed, when, until when, and the signature.

use std::collections::HashMap;

use serde::Deserialize;

use crate::error::{Error, Ignored};
use crate::hash::{Digest, Preimage, TAG_APPROVAL};
use crate::keyring::{Keyring, Tier};
use crate::keys::{parse_signature, verify};
use crate::time::Timestamp;

/// What every statement is bound to besides its own fields.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The keyring's repository id.
    pub repository: &'a str,
    /// Network or release channel (e.g. `main`, `stable`).
    pub channel: &'a str,
    /// Keyring version.
    pub keyring_version: u64,
    /// Keyring digest.
    pub keyring_digest: Digest,
}

impl<'a> Scope<'a> {
    /// The scope of statements made under `keyring` for `channel`.
    pub fn of(keyring: &'a Keyring, channel: &'a str) -> Self {
        Scope {
            repository: &keyring.repository,
            channel,
            keyring_version: keyring.version,
            keyring_digest: keyring.digest,
        }
    }

    /// The scope's fields, first in every preimage.
    pub fn preimage(&self) -> Preimage {
        Preimage::new()
            .str(self.repository)
            .str(self.channel)
            .u64(self.keyring_version)
            .digest(&self.keyring_digest)
    }
}

/// The statement a maintainer signs to approve turning `base_tree` into `target_tree`.
#[derive(Debug, Clone, Copy)]
pub struct Statement<'a> {
    /// Repository, channel, keyring.
    pub scope: Scope<'a>,
    /// Digest of the tree the change starts from.
    pub base_tree: Digest,
    /// Digest of the tree the change produces.
    pub target_tree: Digest,
    /// The tier approved.
    pub tier: &'a str,
    /// When the change was proposed.
    pub proposed_at: Timestamp,
    /// When the signer signed.
    pub signed_at: Timestamp,
    /// When the signature stops counting.
    pub expires: Timestamp,
}

impl Statement<'_> {
    /// The fields in preimage order, before tagging.
    pub fn preimage(&self) -> Preimage {
        self.scope
            .preimage()
            .digest(&self.base_tree)
            .digest(&self.target_tree)
            .str(self.tier)
            .u64(self.proposed_at.0)
            .u64(self.signed_at.0)
            .u64(self.expires.0)
    }

    /// The tagged hash that gets signed.
    pub fn message(&self) -> Digest {
        self.preimage().finish(TAG_APPROVAL)
    }
}

/// One signature with its times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// Maintainer id in the keyring.
    pub signer: String,
    /// When the signer says it signed.
    pub signed_at: Timestamp,
    /// When the signature stops counting.
    pub expires: Timestamp,
    /// BIP340 signature.
    pub signature: [u8; 64],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSigned {
    signer: String,
    signed_at: String,
    expires: String,
    signature: String,
}

impl RawSigned {
    pub(crate) fn check(self) -> Result<Signed, Error> {
        Ok(Signed {
            signature: parse_signature(&format!("signature of {}", self.signer), &self.signature)?,
            signed_at: Timestamp::parse(&self.signed_at)?,
            expires: Timestamp::parse(&self.expires)?,
            signer: self.signer,
        })
    }
}

/// Writes `[[signature]]` tables.
pub(crate) fn signatures_toml(sigs: &[Signed]) -> String {
    let mut s = String::new();
    for g in sigs {
        s.push_str(&format!(
            "\n[[signature]]\nsigner = \"{}\"\nsigned_at = \"{}\"\nexpires = \"{}\"\nsignature = \"{}\"\n",
            g.signer,
            g.signed_at,
            g.expires,
            hex::encode(g.signature)
        ));
    }
    s
}

/// An approval file: signatures over one (base tree, target tree, proposed-at).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalFile {
    /// Which change the file is for; only used to pick the file, never trusted: the signature
    /// is checked over the digest the verifier computes.
    pub base_tree: Digest,
    /// As `base_tree`.
    pub target_tree: Digest,
    /// When the change was proposed; the review period runs from here.
    pub proposed_at: Timestamp,
    /// The signatures.
    pub signatures: Vec<Signed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApproval {
    base_tree: String,
    target_tree: String,
    proposed_at: String,
    #[serde(default)]
    signature: Vec<RawSigned>,
}

impl ApprovalFile {
    /// Parses an approval file (TOML).
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let text = std::str::from_utf8(bytes).map_err(|e| Error::parse("approval", e))?;
        let raw: RawApproval = toml::from_str(text).map_err(|e| Error::parse("approval", e))?;
        Ok(ApprovalFile {
            base_tree: Digest::from_hex("base_tree", &raw.base_tree)?,
            target_tree: Digest::from_hex("target_tree", &raw.target_tree)?,
            proposed_at: Timestamp::parse(&raw.proposed_at)?,
            signatures: raw
                .signature
                .into_iter()
                .map(RawSigned::check)
                .collect::<Result<_, _>>()?,
        })
    }

    /// Writes the file; `comment` lines go first (e.g. the commit range, for people).
    pub fn to_toml(&self, comment: &str) -> String {
        let mut s = String::new();
        for line in comment.lines() {
            s.push_str(&format!("# {line}\n"));
        }
        s.push_str(&format!(
            "base_tree = \"{}\"\ntarget_tree = \"{}\"\nproposed_at = \"{}\"\n",
            self.base_tree, self.target_tree, self.proposed_at
        ));
        s.push_str(&signatures_toml(&self.signatures));
        s
    }
}

/// The outcome of counting signatures for a tier.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Ids whose signatures counted, one per distinct key.
    pub counted: Vec<String>,
    /// The latest proposed-at among counted signatures: review runs from here.
    pub proposed_at: Option<Timestamp>,
    /// Signatures that did not count, and why.
    pub ignored: Vec<(String, Ignored)>,
}

impl Tally {
    /// Err unless the tally reaches the tier's threshold.
    pub fn require(self, tier: &Tier) -> Result<Tally, Error> {
        // A keyring cannot hold m = 0, but this is the last line: never pass on zero.
        if tier.threshold == 0 {
            return Err(Error::ThresholdZero {
                tier: tier.name.clone(),
            });
        }
        if self.counted.len() < tier.threshold {
            return Err(Error::NotApproved {
                tier: tier.name.clone(),
                have: self.counted.len(),
                need: tier.threshold,
                ignored: self.ignored,
            });
        }
        Ok(self)
    }
}

/// Counts signatures towards `tier`: distinct keys only; unknown, ineligible, revoked, expired
/// and not-yet-valid keys ignored; approvals signed before they were proposed, in the future,
/// or past their own expiry ignored. `message(tier, proposed_at, signed)` rebuilds the signed
/// statement; when a signature fails for `tier`, the other tiers are tried only to say so.
pub fn tally<'s>(
    keyring: &Keyring,
    tier: &Tier,
    now: Timestamp,
    items: impl IntoIterator<Item = (Timestamp, &'s Signed)>,
    message: impl Fn(&str, Timestamp, &Signed) -> Digest,
) -> Tally {
    let mut out = Tally::default();
    let mut seen: HashMap<[u8; 32], String> = HashMap::new();
    for (proposed_at, s) in items {
        let verdict = judge(keyring, tier, now, proposed_at, s, &message);
        let ignore = match verdict {
            Err(why) => Some(why),
            Ok(key) => match seen.get(&key) {
                Some(first) => Some(Ignored::DuplicateKey {
                    counted_as: first.clone(),
                }),
                None => {
                    seen.insert(key, s.signer.clone());
                    out.counted.push(s.signer.clone());
                    out.proposed_at = out.proposed_at.max(Some(proposed_at));
                    None
                }
            },
        };
        if let Some(why) = ignore {
            tracing::debug!(signer = %s.signer, reason = %why, "signature not counted");
            out.ignored.push((s.signer.clone(), why));
        }
    }
    out
}

fn judge(
    keyring: &Keyring,
    tier: &Tier,
    now: Timestamp,
    proposed_at: Timestamp,
    s: &Signed,
    message: &impl Fn(&str, Timestamp, &Signed) -> Digest,
) -> Result<[u8; 32], Ignored> {
    let key = keyring
        .maintainer(&s.signer)
        .ok_or(Ignored::UnknownSigner)?;
    if !tier.roles.contains(&key.role) {
        return Err(Ignored::NotEligible {
            role: key.role.clone(),
        });
    }
    if key.revoked(now) {
        return Err(Ignored::Revoked);
    }
    match key.window(s.signed_at) {
        Err(false) => return Err(Ignored::KeyNotYetValid),
        Err(true) => return Err(Ignored::KeyExpired),
        Ok(()) => {}
    }
    if s.signed_at < proposed_at {
        return Err(Ignored::SignedBeforeProposed);
    }
    if s.signed_at > now {
        return Err(Ignored::SignedInFuture);
    }
    if s.expires <= now || s.expires <= s.signed_at {
        return Err(Ignored::Expired);
    }
    if verify(&key.key, &message(&tier.name, proposed_at, s), &s.signature) {
        return Ok(key.key.to_byte_array());
    }
    let other = keyring.tiers.iter().find(|t| {
        t.name != tier.name && verify(&key.key, &message(&t.name, proposed_at, s), &s.signature)
    });
    Err(match other {
        Some(t) => Ignored::WrongTier {
            signed: t.name.clone(),
        },
        None => Ignored::BadSignature,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sample() -> String {
        let f = ApprovalFile {
            base_tree: Digest([1; 32]),
            target_tree: Digest([2; 32]),
            proposed_at: Timestamp(1_000),
            signatures: vec![Signed {
                signer: "alice".into(),
                signed_at: Timestamp(2_000),
                expires: Timestamp(3_000),
                signature: [7; 64],
            }],
        };
        let text = f.to_toml("a comment");
        assert_eq!(ApprovalFile::parse(text.as_bytes()).unwrap(), f);
        text
    }

    /// Forgery matrix: malformed approval files — unknown fields (a file cannot carry a tier,
    /// a threshold or anything else the verifier would have to trust).
    #[test]
    fn forgery_approval_unknown_field() {
        for extra in ["tier = \"docs\"\n", "threshold = 1\n"] {
            let text = sample().replacen("proposed_at", &format!("{extra}proposed_at"), 1);
            let e = ApprovalFile::parse(text.as_bytes()).unwrap_err();
            assert!(
                matches!(&e, Error::Parse { message, .. } if message.contains("unknown field")),
                "{e}"
            );
        }
        let text = sample().replacen("signer = ", "key = \"00\"\nsigner = ", 1);
        assert!(matches!(
            ApprovalFile::parse(text.as_bytes()),
            Err(Error::Parse { .. })
        ));
    }

    /// Forgery matrix: malformed approval files — duplicate fields.
    #[test]
    fn forgery_approval_duplicate_field() {
        let text = sample().replacen(
            "signer = \"alice\"",
            "signer = \"alice\"\nsigner = \"bob\"",
            1,
        );
        let e = ApprovalFile::parse(text.as_bytes()).unwrap_err();
        assert!(
            matches!(&e, Error::Parse { message, .. } if message.contains("duplicate")),
            "{e}"
        );
    }

    /// Forgery matrix: malformed approval files — bad lengths.
    #[test]
    fn forgery_approval_bad_lengths() {
        let sig = hex::encode([7u8; 64]);
        let short = sample().replacen(&sig, &sig[..126], 1);
        assert!(matches!(
            ApprovalFile::parse(short.as_bytes()),
            Err(Error::BadLength {
                expected: 64,
                found: 63,
                ..
            })
        ));
        let long = sample().replacen(&sig, &format!("{sig}00"), 1);
        assert!(matches!(
            ApprovalFile::parse(long.as_bytes()),
            Err(Error::BadLength { found: 65, .. })
        ));
        let tree = hex::encode([2u8; 32]);
        let odd = sample().replacen(&tree, &tree[..63], 1);
        assert!(matches!(
            ApprovalFile::parse(odd.as_bytes()),
            Err(Error::BadHex { .. })
        ));
        let time = sample().replacen("1970-01-01T00:16:40Z", "yesterday", 1);
        assert!(matches!(
            ApprovalFile::parse(time.as_bytes()),
            Err(Error::BadTime { .. })
        ));
    }
}
