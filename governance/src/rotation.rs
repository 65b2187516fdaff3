//! The keyring chain, after TUF's root rotation: keyring 1 is trusted because its digest is
//! pinned in the binary; keyring N+1 is trusted only if it names keyring N's digest, has
//! version N+1 exactly, keeps the repository id, and is signed by the rotation threshold of
//! keyring N *and* of itself. The newest keyring must not have expired (a freeze attack would
//! otherwise keep users on a keyring whose keys were since replaced), and a verifier that
//! remembers the newest keyring it has trusted ([`TrustState`]) refuses an older one.

use std::collections::HashSet;

use secp256k1::XOnlyPublicKey;
use serde::Deserialize;

use crate::error::Error;
use crate::hash::{Digest, Preimage, TAG_ROTATION};
use crate::keyring::{keyring_digest, Keyring};
use crate::keys::{parse_signature, parse_xonly, verify};
use crate::time::Timestamp;

/// One keyring file as found, with the rotation signatures that authorise it (none for 1).
#[derive(Debug, Clone)]
pub struct KeyringFile {
    /// Exact bytes of `keyring-N.toml`.
    pub bytes: Vec<u8>,
    /// Exact bytes of `keyring-N.sig.toml`, if present.
    pub rotation: Option<Vec<u8>>,
}

/// One rotation signature: a key (of keyring N, N+1 or both) over [`rotation_message`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationSig {
    /// The signing key.
    pub key: XOnlyPublicKey,
    /// BIP340 signature.
    pub signature: [u8; 64],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRotation {
    signature: Vec<RawRotationSig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRotationSig {
    key: String,
    signature: String,
}

/// Parses a `keyring-N.sig.toml` file.
pub fn parse_rotation(bytes: &[u8]) -> Result<Vec<RotationSig>, Error> {
    let text = std::str::from_utf8(bytes).map_err(|e| Error::parse("rotation", e))?;
    let raw: RawRotation = toml::from_str(text).map_err(|e| Error::parse("rotation", e))?;
    raw.signature
        .into_iter()
        .map(|s| {
            Ok(RotationSig {
                key: parse_xonly("rotation key", &s.key)?,
                signature: parse_signature("rotation signature", &s.signature)?,
            })
        })
        .collect()
}

/// Writes a `keyring-N.sig.toml` file.
pub fn rotation_toml(sigs: &[RotationSig]) -> String {
    let mut s =
        String::from("# Rotation signatures: the keys of the previous keyring and of this one.\n");
    for g in sigs {
        s.push_str(&format!(
            "\n[[signature]]\nkey = \"{}\"\nsignature = \"{}\"\n",
            hex::encode(g.key.to_byte_array()),
            hex::encode(g.signature)
        ));
    }
    s
}

/// The statement rotation signers sign: keyring `version` with digest `new` follows `previous`.
pub fn rotation_message(repository: &str, version: u64, previous: &Digest, new: &Digest) -> Digest {
    Preimage::new()
        .str(repository)
        .u64(version)
        .digest(previous)
        .digest(new)
        .finish(TAG_ROTATION)
}

/// A keyring reached from the pinned root through verified rotations. Only [`verify_chain`]
/// makes one, so holding one means the checks ran.
#[derive(Debug, Clone)]
pub struct TrustedKeyring {
    chain: Vec<Digest>,
    current: Keyring,
}

impl TrustedKeyring {
    /// The newest keyring of the chain.
    pub fn keyring(&self) -> &Keyring {
        &self.current
    }

    /// The digest of keyring `version` of the chain.
    pub fn digest_of(&self, version: u64) -> Option<Digest> {
        let i = usize::try_from(version.checked_sub(1)?).ok()?;
        self.chain.get(i).copied()
    }
}

/// Distinct keys of `keyring`'s rotation quorum that signed `msg`.
fn rotation_count(keyring: &Keyring, sigs: &[RotationSig], msg: &Digest, now: Timestamp) -> usize {
    let eligible: Vec<&XOnlyPublicKey> = keyring
        .eligible(&keyring.rotation.roles)
        .filter(|k| !k.revoked(now))
        .map(|k| &k.key)
        .collect();
    let mut counted = HashSet::new();
    for s in sigs {
        if eligible.contains(&&s.key) && verify(&s.key, msg, &s.signature) {
            counted.insert(s.key.to_byte_array());
        }
    }
    counted.len()
}

/// Walks the chain from the pinned root to the newest keyring (see the module docs).
pub fn verify_chain(
    pinned: &Digest,
    files: &[KeyringFile],
    now: Timestamp,
) -> Result<TrustedKeyring, Error> {
    let (first, rest) = files.split_first().ok_or(Error::NoKeyrings)?;
    let digest = keyring_digest(&first.bytes);
    if digest != *pinned {
        return Err(Error::PinnedDigestMismatch {
            found: digest.to_hex(),
            pinned: pinned.to_hex(),
        });
    }
    let mut current = Keyring::parse(&first.bytes)?;
    if current.version != 1 {
        return Err(Error::SkippedVersion {
            expected: 1,
            found: current.version,
        });
    }
    let mut chain = vec![current.digest];
    for file in rest {
        let next = Keyring::parse(&file.bytes)?;
        let expected = current.version + 1;
        if next.version != expected {
            return Err(Error::SkippedVersion {
                expected,
                found: next.version,
            });
        }
        if next.previous != Some(current.digest) {
            return Err(Error::WrongPreviousDigest {
                version: next.version,
            });
        }
        if next.repository != current.repository {
            return Err(Error::RepositoryChanged {
                version: next.version,
                from: current.repository.clone(),
                to: next.repository.clone(),
            });
        }
        let sigs = match &file.rotation {
            Some(bytes) => parse_rotation(bytes)?,
            None => Vec::new(),
        };
        let msg = rotation_message(
            &current.repository,
            next.version,
            &current.digest,
            &next.digest,
        );
        for (which, kr) in [("previous", &current), ("new", &next)] {
            let have = rotation_count(kr, &sigs, &msg, now);
            if have < kr.rotation.threshold {
                return Err(Error::RotationThresholdNotMet {
                    version: next.version,
                    which,
                    have,
                    need: kr.rotation.threshold,
                });
            }
        }
        chain.push(next.digest);
        current = next;
    }
    if current.expires <= now {
        return Err(Error::KeyringExpired {
            version: current.version,
            expires: current.expires,
        });
    }
    Ok(TrustedKeyring { chain, current })
}

/// The newest keyring a verifier has trusted, kept between runs so an older keyring (or a
/// different keyring of the same version) shown later is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustState {
    /// Version.
    pub version: u64,
    /// Its digest.
    pub digest: Digest,
}

impl TrustState {
    /// The state after trusting `t`.
    pub fn of(t: &TrustedKeyring) -> Self {
        TrustState {
            version: t.current.version,
            digest: t.current.digest,
        }
    }

    /// Refuses a chain older than, or forked from, what was trusted before.
    pub fn check(&self, t: &TrustedKeyring) -> Result<(), Error> {
        let shown = t.current.version;
        if shown < self.version {
            return Err(Error::Rollback {
                trusted: self.version,
                shown,
            });
        }
        if t.digest_of(self.version) != Some(self.digest) {
            return Err(Error::ForkedKeyring {
                version: self.version,
            });
        }
        Ok(())
    }

    /// `"<version> <digest>\n"`.
    pub fn to_text(&self) -> String {
        format!("{} {}\n", self.version, self.digest)
    }

    /// Parses [`TrustState::to_text`]'s output.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = || Error::parse("trust state", "expected \"<version> <digest>\"");
        let (v, d) = text
            .trim_end_matches('\n')
            .split_once(' ')
            .ok_or_else(bad)?;
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        Ok(TrustState {
            version: v.parse().map_err(|_| bad())?,
            digest: Digest::from_hex("trust state", d)?,
        })
    }
}

#[cfg(test)]
#[path = "rotation_tests.rs"]
mod tests;
