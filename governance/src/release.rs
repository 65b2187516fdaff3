//! Release manifests: the SHA-256 of every released file, signed at the release tier.
//!
//! The node calls [`verify_release`] before it starts when a manifest is configured, and
//! refuses to start on any error.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::approval::{signatures_toml, tally, RawSigned, Scope, Signed};
use crate::error::Error;
use crate::hash::{parse_hex_array, sha256, Digest, Preimage, TAG_RELEASE, TAG_RELEASE_FILES};
use crate::keyring::RELEASE_TIER;
use crate::repo::read_limited;
use crate::rotation::TrustedKeyring;
use crate::time::Timestamp;

/// Largest released file [`verify_release`] hashes (a node binary is tens of MiB).
const MAX_RELEASE_FILE: u64 = 1 << 30;

/// One released file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseFile {
    /// Path relative to the manifest's directory.
    pub path: String,
    /// SHA-256 of its contents.
    pub sha256: [u8; 32],
}

/// A release manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Release channel (e.g. `stable`); part of the signed statement.
    pub channel: String,
    /// Release name (e.g. `0.1.0`); part of the signed statement.
    pub release: String,
    /// When the release was proposed; the release tier's review period runs from here.
    pub proposed_at: Timestamp,
    /// The files, in the order written.
    pub files: Vec<ReleaseFile>,
    /// Signatures at the release tier.
    pub signatures: Vec<Signed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    channel: String,
    release: String,
    proposed_at: String,
    file: Vec<RawFile>,
    #[serde(default)]
    signature: Vec<RawSigned>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    path: String,
    sha256: String,
}

/// A released path must stay inside the release directory and have one spelling.
pub fn check_release_path(path: &str) -> Result<(), Error> {
    let clean = !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && path
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..");
    if clean {
        Ok(())
    } else {
        Err(Error::BadPath {
            path: path.to_string(),
            reason: "not a clean relative path",
        })
    }
}

impl Manifest {
    /// Parses a manifest (TOML).
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let text = std::str::from_utf8(bytes).map_err(|e| Error::parse("manifest", e))?;
        let raw: RawManifest = toml::from_str(text).map_err(|e| Error::parse("manifest", e))?;
        let mut seen = HashSet::new();
        let files = raw
            .file
            .into_iter()
            .map(|f| {
                check_release_path(&f.path)?;
                if !seen.insert(f.path.clone()) {
                    return Err(Error::BadPath {
                        path: f.path,
                        reason: "listed twice",
                    });
                }
                Ok(ReleaseFile {
                    sha256: parse_hex_array(&format!("sha256 of {}", f.path), &f.sha256)?,
                    path: f.path,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Manifest {
            channel: raw.channel,
            release: raw.release,
            proposed_at: Timestamp::parse(&raw.proposed_at)?,
            files,
            signatures: raw
                .signature
                .into_iter()
                .map(RawSigned::check)
                .collect::<Result<_, _>>()?,
        })
    }

    /// Writes the manifest.
    pub fn to_toml(&self) -> String {
        let mut s = format!(
            "channel = \"{}\"\nrelease = \"{}\"\nproposed_at = \"{}\"\n",
            self.channel, self.release, self.proposed_at
        );
        for f in &self.files {
            s.push_str(&format!(
                "\n[[file]]\npath = \"{}\"\nsha256 = \"{}\"\n",
                f.path,
                hex::encode(f.sha256)
            ));
        }
        s.push_str(&signatures_toml(&self.signatures));
        s
    }

    /// Digest of the file list, sorted by path so the order written does not matter.
    pub fn files_digest(&self) -> Digest {
        let mut files: Vec<&ReleaseFile> = self.files.iter().collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let mut p = Preimage::new().u64(files.len() as u64);
        for f in files {
            p = p.str(&f.path).digest(&Digest(f.sha256));
        }
        p.finish(TAG_RELEASE_FILES)
    }

    /// The statement release signers sign.
    pub fn message(
        &self,
        scope: &Scope<'_>,
        tier: &str,
        signed_at: Timestamp,
        expires: Timestamp,
    ) -> Digest {
        scope
            .preimage()
            .str(&self.release)
            .digest(&self.files_digest())
            .str(tier)
            .u64(self.proposed_at.0)
            .u64(signed_at.0)
            .u64(expires.0)
            .finish(TAG_RELEASE)
    }

    /// Checks the signatures (not the files): the release tier's threshold by distinct valid
    /// keys, and its review period. Returns the signers that counted.
    pub fn check_signatures(
        &self,
        trusted: &TrustedKeyring,
        now: Timestamp,
    ) -> Result<Vec<String>, Error> {
        let keyring = trusted.keyring();
        let tier = keyring.tier(RELEASE_TIER).ok_or(Error::UnknownTier {
            name: RELEASE_TIER.into(),
        })?;
        let scope = Scope::of(keyring, &self.channel);
        let items = self.signatures.iter().map(|s| (self.proposed_at, s));
        let counted = tally(keyring, tier, now, items, |t, _, s| {
            self.message(&scope, t, s.signed_at, s.expires)
        })
        .require(tier)?;
        let until = self.proposed_at.plus(tier.review_period);
        if now < until {
            return Err(Error::ReviewPending {
                tier: tier.name.clone(),
                until,
            });
        }
        Ok(counted.counted)
    }
}

/// A release whose signatures met the threshold and whose files all match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRelease {
    /// Channel.
    pub channel: String,
    /// Release name.
    pub release: String,
    /// The files, as absolute-or-manifest-relative paths that were hashed.
    pub files: Vec<PathBuf>,
    /// Signers that counted.
    pub signers: Vec<String>,
}

impl VerifiedRelease {
    /// Is `path` one of the verified files? (Compared after canonicalisation, so the node can
    /// ask about `std::env::current_exe()`.)
    pub fn covers(&self, path: &Path) -> bool {
        let Ok(want) = path.canonicalize() else {
            return false;
        };
        self.files
            .iter()
            .any(|f| f.canonicalize().is_ok_and(|c| c == want))
    }
}

/// Reads the manifest at `manifest_path`, checks its signatures against `keyring` at `now`,
/// then hashes every listed file (relative to the manifest's directory) and compares. Any
/// failure is an error: the node must refuse to start on `Err`.
pub fn verify_release(
    manifest_path: &Path,
    keyring: &TrustedKeyring,
    now: Timestamp,
) -> Result<VerifiedRelease, Error> {
    let manifest = Manifest::parse(&read_limited(manifest_path, 1 << 20)?)?;
    let signers = manifest.check_signatures(keyring, now)?;
    let dir = manifest_path.parent().unwrap_or(Path::new("."));
    let mut files = Vec::with_capacity(manifest.files.len());
    for f in &manifest.files {
        let path = dir.join(&f.path);
        let bytes = read_limited(&path, MAX_RELEASE_FILE)?;
        if sha256(&bytes) != f.sha256 {
            return Err(Error::ReleaseFile {
                path: f.path.clone(),
                reason: "SHA-256 differs from the manifest",
            });
        }
        files.push(path);
    }
    Ok(VerifiedRelease {
        channel: manifest.channel,
        release: manifest.release,
        files,
        signers,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::testutil::{now, t, trusted, Spec};

    fn manifest(files: &[(&str, [u8; 32])]) -> Manifest {
        Manifest {
            channel: "stable".into(),
            release: "1.0".into(),
            proposed_at: t("2030-05-01T00:00:00Z"),
            files: files
                .iter()
                .map(|(p, h)| ReleaseFile {
                    path: p.to_string(),
                    sha256: *h,
                })
                .collect(),
            signatures: vec![],
        }
    }

    fn signed(m: &mut Manifest, tk: &TrustedKeyring, who: &[(&str, u8)], tier: &str) {
        let scope = Scope::of(tk.keyring(), "stable");
        let (at, until) = (t("2030-05-02T00:00:00Z"), t("2031-01-01T00:00:00Z"));
        let msg = m.message(&scope, tier, at, until);
        for (id, seed) in who {
            let signature = crate::testutil::key(*seed).sign(&msg);
            m.signatures.push(Signed {
                signer: id.to_string(),
                signed_at: at,
                expires: until,
                signature,
            });
        }
    }

    #[test]
    fn release_threshold_and_tier() {
        let tk = trusted(&Spec::base());
        let mut m = manifest(&[("bin/sluice", [1; 32])]);
        signed(&mut m, &tk, &[("alice", 1), ("dave", 4)], RELEASE_TIER);
        assert_eq!(m.check_signatures(&tk, now()).unwrap(), ["alice", "dave"]);
        let parsed = Manifest::parse(m.to_toml().as_bytes()).unwrap();
        assert_eq!(parsed, m);
        // Signed at another tier: not counted.
        let mut low = manifest(&[("bin/sluice", [1; 32])]);
        signed(&mut low, &tk, &[("alice", 1), ("dave", 4)], "docs");
        assert!(matches!(
            low.check_signatures(&tk, now()),
            Err(Error::NotApproved { have: 0, .. })
        ));
        // Another file list: not counted.
        let mut moved = m.clone();
        moved.files[0].sha256 = [2; 32];
        assert!(matches!(
            moved.check_signatures(&tk, now()),
            Err(Error::NotApproved { have: 0, .. })
        ));
    }

    #[test]
    fn manifest_paths_are_checked() {
        for bad in ["", "/etc/passwd", "../x", "a//b", "a\\b", "./a"] {
            assert!(
                matches!(check_release_path(bad), Err(Error::BadPath { .. })),
                "{bad:?}"
            );
        }
        let twice = manifest(&[("a", [1; 32]), ("a", [2; 32])]).to_toml();
        assert!(matches!(
            Manifest::parse(twice.as_bytes()),
            Err(Error::BadPath { .. })
        ));
        let short =
            manifest(&[("a", [1; 32])])
                .to_toml()
                .replacen(&hex::encode([1u8; 32]), "0101", 1);
        assert!(matches!(
            Manifest::parse(short.as_bytes()),
            Err(Error::BadLength {
                expected: 32,
                found: 2,
                ..
            })
        ));
    }
}
