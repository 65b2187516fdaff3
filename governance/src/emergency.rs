//! The emergency path: enough emergency keyholders may shorten the review period of one named
//! target tree, for a bounded time. There is no field for a threshold: an override can only
//! make a change count sooner, never with fewer approvals.

use std::collections::HashSet;

use serde::Deserialize;

use crate::approval::Scope;
use crate::error::Error;
use crate::hash::{Digest, TAG_EMERGENCY};
use crate::keyring::Keyring;
use crate::keys::{parse_signature, verify};
use crate::time::{format_duration, parse_duration, Timestamp};

/// A signed review-period override for one target tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyFile {
    /// The only tree it applies to.
    pub target_tree: Digest,
    /// The shortened review period, in seconds.
    pub review_period: u64,
    /// When it starts to apply.
    pub issued_at: Timestamp,
    /// When it stops; at most the keyring's `max_window` after `issued_at`.
    pub expires: Timestamp,
    /// `(keyholder id, signature)`.
    pub signatures: Vec<(String, [u8; 64])>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmergency {
    target_tree: String,
    review_period: String,
    issued_at: String,
    expires: String,
    #[serde(default)]
    signature: Vec<RawSig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSig {
    signer: String,
    signature: String,
}

/// The statement emergency keyholders sign.
pub fn emergency_message(scope: &Scope<'_>, e: &EmergencyFile) -> Digest {
    scope
        .preimage()
        .digest(&e.target_tree)
        .u64(e.review_period)
        .u64(e.issued_at.0)
        .u64(e.expires.0)
        .finish(TAG_EMERGENCY)
}

impl EmergencyFile {
    /// Parses an emergency file (TOML).
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let text = std::str::from_utf8(bytes).map_err(|e| Error::parse("emergency", e))?;
        let raw: RawEmergency = toml::from_str(text).map_err(|e| Error::parse("emergency", e))?;
        Ok(EmergencyFile {
            target_tree: Digest::from_hex("target_tree", &raw.target_tree)?,
            review_period: parse_duration(&raw.review_period)?,
            issued_at: Timestamp::parse(&raw.issued_at)?,
            expires: Timestamp::parse(&raw.expires)?,
            signatures: raw
                .signature
                .into_iter()
                .map(|s| {
                    Ok((
                        s.signer,
                        parse_signature("emergency signature", &s.signature)?,
                    ))
                })
                .collect::<Result<_, Error>>()?,
        })
    }

    /// Writes the file.
    pub fn to_toml(&self) -> String {
        let mut s = format!(
            "target_tree = \"{}\"\nreview_period = \"{}\"\nissued_at = \"{}\"\nexpires = \"{}\"\n",
            self.target_tree,
            format_duration(self.review_period),
            self.issued_at,
            self.expires
        );
        for (signer, sig) in &self.signatures {
            s.push_str(&format!(
                "\n[[signature]]\nsigner = \"{signer}\"\nsignature = \"{}\"\n",
                hex::encode(sig)
            ));
        }
        s
    }

    /// The review period this override grants at `now`, if it is valid: window within the
    /// keyring's bound, active at `now`, signed by enough distinct keyholders whose keys were
    /// valid at `issued_at` and are not revoked.
    pub fn check(
        &self,
        keyring: &Keyring,
        scope: &Scope<'_>,
        now: Timestamp,
    ) -> Result<u64, Error> {
        let window = self
            .expires
            .0
            .checked_sub(self.issued_at.0)
            .filter(|w| *w > 0)
            .ok_or_else(|| Error::Emergency("expires is not after issued_at".into()))?;
        if window > keyring.emergency.max_window {
            return Err(Error::EmergencyWindowTooLong {
                window,
                max: keyring.emergency.max_window,
            });
        }
        if now < self.issued_at || now >= self.expires {
            return Err(Error::Emergency(format!(
                "not active at {now}: valid from {} until {}",
                self.issued_at, self.expires
            )));
        }
        let msg = emergency_message(scope, self);
        let mut counted = HashSet::new();
        for (id, sig) in &self.signatures {
            let Some(k) = keyring.emergency.keyholders.iter().find(|k| &k.id == id) else {
                continue;
            };
            if !k.revoked(now) && k.window(self.issued_at).is_ok() && verify(&k.key, &msg, sig) {
                counted.insert(k.key.to_byte_array());
            }
        }
        let need = keyring.emergency.threshold;
        if counted.len() < need {
            return Err(Error::EmergencyThresholdNotMet {
                have: counted.len(),
                need,
            });
        }
        Ok(self.review_period)
    }
}

#[cfg(test)]
#[path = "emergency_tests.rs"]
mod tests;
