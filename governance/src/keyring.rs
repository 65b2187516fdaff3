//! The keyring: one declarative, versioned TOML file naming the maintainers, the emergency
//! keyholders, the tiers and the path policy. Unknown and duplicate fields are refused, and
//! every rule that would make a threshold meaningless (m = 0, m > n, one key under two ids)
//! is a parse error, so a loaded [`Keyring`] is always internally consistent.

use std::collections::{HashMap, HashSet};

use secp256k1::XOnlyPublicKey;
use serde::Deserialize;

use crate::error::Error;
use crate::hash::{tagged_hash, Digest, TAG_KEYRING};
use crate::keys::parse_xonly;
use crate::policy::Pattern;
use crate::time::{parse_duration, Timestamp};

/// The tier every change under `consensus/` needs at least; every keyring must define it.
pub const CONSENSUS_TIER: &str = "consensus";
/// The tier release manifests are signed at.
pub const RELEASE_TIER: &str = "release";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeyring {
    version: u64,
    previous: Option<String>,
    repository: String,
    expires: String,
    #[serde(default)]
    test_keyring: bool,
    rotation: RawQuorum,
    emergency: RawEmergency,
    maintainer: Vec<RawMaintainer>,
    tier: Vec<RawTier>,
    #[serde(default)]
    path: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuorum {
    threshold: usize,
    roles: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmergency {
    threshold: usize,
    max_window: String,
    keyholder: Vec<RawKeyholder>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMaintainer {
    id: String,
    key: String,
    role: String,
    valid_from: String,
    valid_until: String,
    revoked_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeyholder {
    id: String,
    key: String,
    valid_from: String,
    valid_until: String,
    revoked_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    name: String,
    rank: u32,
    threshold: usize,
    review_period: String,
    roles: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    pattern: String,
    tier: String,
}

/// A maintainer's or an emergency keyholder's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEntry {
    /// Stable id that approvals name.
    pub id: String,
    /// BIP340 x-only key.
    pub key: XOnlyPublicKey,
    /// Role (empty for emergency keyholders).
    pub role: String,
    /// First second the key may sign.
    pub valid_from: Timestamp,
    /// First second the key may no longer sign.
    pub valid_until: Timestamp,
    /// Once `now` reaches this, nothing the key signed counts, whatever `signed_at` it claims.
    pub revoked_at: Option<Timestamp>,
}

impl KeyEntry {
    /// Is the key revoked as seen at `now`?
    pub fn revoked(&self, now: Timestamp) -> bool {
        self.revoked_at.is_some_and(|r| r <= now)
    }

    /// Was the key inside its validity window at `t`? (`Err` says which side it missed.)
    pub fn window(&self, t: Timestamp) -> Result<(), bool> {
        if t < self.valid_from {
            Err(false)
        } else if t >= self.valid_until {
            Err(true)
        } else {
            Ok(())
        }
    }
}

/// m-of-n over the keys whose role is listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quorum {
    /// m.
    pub threshold: usize,
    /// Roles whose keys count.
    pub roles: Vec<String>,
}

/// Who may shorten a review period, how many of them, and for how long at most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyPolicy {
    /// Distinct keyholders needed.
    pub threshold: usize,
    /// Longest allowed time between an override's issue and its expiry, in seconds.
    pub max_window: u64,
    /// The keyholders.
    pub keyholders: Vec<KeyEntry>,
}

/// A tier: how many approvals a kind of change needs, and how long it must wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    /// Name that policies and approvals use.
    pub name: String,
    /// Strictness: higher is stricter; unique within a keyring.
    pub rank: u32,
    /// m.
    pub threshold: usize,
    /// Seconds from proposed-at before the change counts as approved.
    pub review_period: u64,
    /// Roles whose keys count.
    pub roles: Vec<String>,
}

/// One path rule of the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRule {
    /// Which paths.
    pub pattern: Pattern,
    /// Which tier they need.
    pub tier: String,
}

/// A parsed and checked keyring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyring {
    /// 1, 2, … with no gaps along the chain.
    pub version: u64,
    /// Digest of keyring `version − 1` (none for version 1).
    pub previous: Option<Digest>,
    /// Repository id that every statement names.
    pub repository: String,
    /// After this, the keyring (when it is the newest) is refused: freeze attacks.
    pub expires: Timestamp,
    /// Marks a keyring of throw-away test keys; tools warn loudly about it.
    pub test_keyring: bool,
    /// Who signs the next keyring.
    pub rotation: Quorum,
    /// The emergency path.
    pub emergency: EmergencyPolicy,
    /// Maintainers.
    pub maintainers: Vec<KeyEntry>,
    /// Tiers.
    pub tiers: Vec<Tier>,
    /// The path policy.
    pub rules: Vec<PathRule>,
    /// Tagged hash of the file's exact bytes.
    pub digest: Digest,
}

/// The digest of a keyring file: a tagged hash of its exact bytes.
pub fn keyring_digest(bytes: &[u8]) -> Digest {
    tagged_hash(TAG_KEYRING, bytes)
}

fn key_entry(
    id: String,
    key: &str,
    role: String,
    from: &str,
    until: &str,
    revoked: Option<&str>,
) -> Result<KeyEntry, Error> {
    let entry = KeyEntry {
        key: parse_xonly(&format!("key of {id}"), key)?,
        role,
        valid_from: Timestamp::parse(from)?,
        valid_until: Timestamp::parse(until)?,
        revoked_at: revoked.map(Timestamp::parse).transpose()?,
        id,
    };
    if entry.valid_from >= entry.valid_until {
        return Err(Error::Keyring(format!(
            "{}: valid_from is not before valid_until",
            entry.id
        )));
    }
    Ok(entry)
}

impl Keyring {
    /// Parses and checks a keyring file.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let text = std::str::from_utf8(bytes).map_err(|e| Error::parse("keyring", e))?;
        let raw: RawKeyring = toml::from_str(text).map_err(|e| Error::parse("keyring", e))?;
        let previous = raw
            .previous
            .as_deref()
            .map(|p| Digest::from_hex("previous", p))
            .transpose()?;
        if raw.version == 0 || (raw.version == 1) != previous.is_none() {
            return Err(Error::Keyring(
                "version must be ≥ 1, and previous is given exactly when version > 1".into(),
            ));
        }
        if raw.repository.is_empty() {
            return Err(Error::Keyring("repository is empty".into()));
        }
        let maintainers = raw
            .maintainer
            .into_iter()
            .map(|m| {
                key_entry(
                    m.id,
                    &m.key,
                    m.role,
                    &m.valid_from,
                    &m.valid_until,
                    m.revoked_at.as_deref(),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let keyholders = raw
            .emergency
            .keyholder
            .into_iter()
            .map(|k| {
                key_entry(
                    k.id,
                    &k.key,
                    String::new(),
                    &k.valid_from,
                    &k.valid_until,
                    k.revoked_at.as_deref(),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let tiers = raw
            .tier
            .into_iter()
            .map(|t| {
                Ok(Tier {
                    review_period: parse_duration(&t.review_period)?,
                    name: t.name,
                    rank: t.rank,
                    threshold: t.threshold,
                    roles: t.roles,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let rules = raw
            .path
            .into_iter()
            .map(|r| {
                Ok(PathRule {
                    pattern: Pattern::parse(&r.pattern)?,
                    tier: r.tier,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let kr = Keyring {
            version: raw.version,
            previous,
            repository: raw.repository,
            expires: Timestamp::parse(&raw.expires)?,
            test_keyring: raw.test_keyring,
            rotation: Quorum {
                threshold: raw.rotation.threshold,
                roles: raw.rotation.roles,
            },
            emergency: EmergencyPolicy {
                threshold: raw.emergency.threshold,
                max_window: parse_duration(&raw.emergency.max_window)?,
                keyholders,
            },
            maintainers,
            tiers,
            rules,
            digest: keyring_digest(bytes),
        };
        kr.check()?;
        Ok(kr)
    }

    fn check(&self) -> Result<(), Error> {
        // One id per key and one key per id, across maintainers and keyholders alike: a
        // threshold counts people, and two ids on one key would count one person twice.
        let mut ids = HashSet::new();
        let mut keys: HashMap<[u8; 32], &str> = HashMap::new();
        for k in self.maintainers.iter().chain(&self.emergency.keyholders) {
            if k.id.is_empty() || !ids.insert(k.id.as_str()) {
                return Err(Error::DuplicateId { id: k.id.clone() });
            }
            if let Some(first) = keys.insert(k.key.to_byte_array(), &k.id) {
                return Err(Error::DuplicateKey {
                    first: first.to_string(),
                    second: k.id.clone(),
                });
            }
        }
        if self.tiers.is_empty() {
            return Err(Error::Keyring("no tiers".into()));
        }
        let mut names = HashSet::new();
        let mut ranks = HashSet::new();
        for t in &self.tiers {
            if !names.insert(t.name.as_str()) || !ranks.insert(t.rank) {
                return Err(Error::Keyring(format!(
                    "tier {}: name or rank repeated",
                    t.name
                )));
            }
            self.check_quorum(&t.name, t.threshold, &t.roles)?;
        }
        if self.tier(CONSENSUS_TIER).is_none() {
            return Err(Error::UnknownTier {
                name: CONSENSUS_TIER.into(),
            });
        }
        self.check_quorum("rotation", self.rotation.threshold, &self.rotation.roles)?;
        let e = &self.emergency;
        if e.threshold == 0 {
            return Err(Error::ThresholdZero {
                tier: "emergency".into(),
            });
        }
        if e.threshold > e.keyholders.len() {
            return Err(Error::ThresholdAboveKeys {
                tier: "emergency".into(),
                m: e.threshold,
                n: e.keyholders.len(),
            });
        }
        for r in &self.rules {
            if self.tier(&r.tier).is_none() {
                return Err(Error::UnknownTier {
                    name: r.tier.clone(),
                });
            }
        }
        Ok(())
    }

    fn check_quorum(&self, name: &str, m: usize, roles: &[String]) -> Result<(), Error> {
        // n counts only keys that can ever sign: a revoked key never counts again, so a tier
        // that needs it could never be met.
        let n = self
            .eligible(roles)
            .filter(|k| k.revoked_at.is_none())
            .count();
        if m == 0 {
            return Err(Error::ThresholdZero { tier: name.into() });
        }
        if m > n {
            return Err(Error::ThresholdAboveKeys {
                tier: name.into(),
                m,
                n,
            });
        }
        Ok(())
    }

    /// The tier called `name`.
    pub fn tier(&self, name: &str) -> Option<&Tier> {
        self.tiers.iter().find(|t| t.name == name)
    }

    /// The tier of highest rank.
    pub fn strictest(&self) -> Option<&Tier> {
        self.tiers.iter().max_by_key(|t| t.rank)
    }

    /// The maintainer called `id`.
    pub fn maintainer(&self, id: &str) -> Option<&KeyEntry> {
        self.maintainers.iter().find(|m| m.id == id)
    }

    /// Maintainers whose role is one of `roles`.
    pub fn eligible<'a>(&'a self, roles: &'a [String]) -> impl Iterator<Item = &'a KeyEntry> + 'a {
        self.maintainers
            .iter()
            .filter(move |m| roles.contains(&m.role))
    }
}

#[cfg(test)]
#[path = "keyring_tests.rs"]
mod tests;
