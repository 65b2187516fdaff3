//! Tree digests computed from file contents, the paths a change touches, and the policy a
//! base tree carries.
//!
//! A tree digest covers every file's path, mode and SHA-256 of its contents; it does not use
//! git's object ids, so an approval holds for exactly those bytes, whatever commit, branch or
//! rewritten history carries them.

use std::collections::BTreeMap;

use crate::error::Error;
use crate::hash::{sha256, Digest, Preimage, TAG_TREE};
use crate::keyring::{keyring_digest, Keyring};
use crate::rotation::TrustedKeyring;

/// Where keyrings live inside the repository.
pub const KEYRING_DIR: &str = "governance/keyrings/";

/// File modes git can record for a blob. Anything else (a submodule, whose contents are not in
/// the tree) fails closed.
const MODES: [(&str, u32); 3] = [
    ("100644", 0o100_644),
    ("100755", 0o100_755),
    ("120000", 0o120_000),
];

/// A repository tree reduced to what governance needs.
#[derive(Debug, Clone)]
pub struct Tree {
    entries: BTreeMap<String, (u32, [u8; 32])>,
    keyrings: BTreeMap<u64, Vec<u8>>,
    digest: Digest,
}

/// `governance/keyrings/keyring-N.toml` → N (decimal, no leading zero).
pub fn keyring_file_version(name: &str) -> Option<u64> {
    let n = name.strip_prefix("keyring-")?.strip_suffix(".toml")?;
    if n.is_empty() || n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

impl Tree {
    /// Builds a tree from `(path, mode as git prints it, contents)`.
    pub fn from_files(
        files: impl IntoIterator<Item = (Vec<u8>, String, Vec<u8>)>,
    ) -> Result<Self, Error> {
        let mut entries = BTreeMap::new();
        let mut keyrings = BTreeMap::new();
        for (raw_path, mode_text, contents) in files {
            let path = String::from_utf8(raw_path).map_err(|e| Error::BadPath {
                path: String::from_utf8_lossy(e.as_bytes()).into_owned(),
                reason: "not UTF-8",
            })?;
            let mode = MODES
                .iter()
                .find(|(text, _)| *text == mode_text)
                .map(|(_, m)| *m)
                .ok_or_else(|| Error::UnknownMode {
                    path: path.clone(),
                    mode: mode_text.clone(),
                })?;
            if path.is_empty()
                || path.starts_with('/')
                || path.split('/').any(|s| s.is_empty() || s == "..")
            {
                return Err(Error::BadPath {
                    path,
                    reason: "not a clean relative path",
                });
            }
            if let Some(v) = path
                .strip_prefix(KEYRING_DIR)
                .and_then(keyring_file_version)
            {
                keyrings.insert(v, contents.clone());
            }
            if entries
                .insert(path.clone(), (mode, sha256(&contents)))
                .is_some()
            {
                return Err(Error::BadPath {
                    path,
                    reason: "listed twice",
                });
            }
        }
        let mut p = Preimage::new().u64(entries.len() as u64);
        for (path, (mode, hash)) in &entries {
            p = p.str(path).u64(u64::from(*mode)).digest(&Digest(*hash));
        }
        let digest = p.finish(TAG_TREE);
        Ok(Tree {
            entries,
            keyrings,
            digest,
        })
    }

    /// The tree digest.
    pub fn digest(&self) -> Digest {
        self.digest
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the tree has no files.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Paths added, removed, or changed in contents or mode from `base` to `target`.
    pub fn changed_paths(base: &Tree, target: &Tree) -> Vec<String> {
        let mut out: Vec<String> = base
            .entries
            .iter()
            .filter(|(p, e)| target.entries.get(*p) != Some(e))
            .map(|(p, _)| p.clone())
            .collect();
        out.extend(
            target
                .entries
                .keys()
                .filter(|p| !base.entries.contains_key(*p))
                .cloned(),
        );
        out.sort();
        out
    }

    /// The policy this tree carries: its newest keyring, which must be the same bytes as that
    /// version in the trusted chain (else fail closed). `None` when the tree predates
    /// governance and holds no keyring.
    pub fn policy(&self, trusted: &TrustedKeyring) -> Result<Option<Keyring>, Error> {
        let Some((&version, bytes)) = self.keyrings.iter().next_back() else {
            return Ok(None);
        };
        if trusted.digest_of(version) != Some(keyring_digest(bytes)) {
            return Err(Error::BasePolicyUntrusted { version });
        }
        Keyring::parse(bytes).map(Some)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn f(path: &str, mode: &str, data: &str) -> (Vec<u8>, String, Vec<u8>) {
        (
            path.as_bytes().to_vec(),
            mode.to_string(),
            data.as_bytes().to_vec(),
        )
    }

    #[test]
    fn digest_covers_path_mode_and_contents() {
        let base = Tree::from_files([f("a", "100644", "x"), f("b/c", "100644", "y")]).unwrap();
        let same = Tree::from_files([f("b/c", "100644", "y"), f("a", "100644", "x")]).unwrap();
        assert_eq!(
            base.digest(),
            same.digest(),
            "order of listing does not matter"
        );
        for other in [
            Tree::from_files([f("a", "100755", "x"), f("b/c", "100644", "y")]).unwrap(),
            Tree::from_files([f("a", "100644", "X"), f("b/c", "100644", "y")]).unwrap(),
            Tree::from_files([f("A", "100644", "x"), f("b/c", "100644", "y")]).unwrap(),
            Tree::from_files([f("a", "100644", "x")]).unwrap(),
        ] {
            assert_ne!(base.digest(), other.digest());
        }
    }

    #[test]
    fn changed_paths_lists_adds_removes_edits() {
        let base = Tree::from_files([
            f("a", "100644", "x"),
            f("b", "100644", "y"),
            f("c", "100644", "z"),
        ])
        .unwrap();
        let target = Tree::from_files([
            f("a", "100644", "x"),
            f("b", "100755", "y"),
            f("d", "100644", "z"),
        ])
        .unwrap();
        assert_eq!(Tree::changed_paths(&base, &target), ["b", "c", "d"]);
    }

    #[test]
    fn unknown_mode_fails_closed() {
        let e = Tree::from_files([f("sub", "160000", "")]).unwrap_err();
        assert!(matches!(e, Error::UnknownMode { ref mode, .. } if mode == "160000"));
        assert!(matches!(
            Tree::from_files([f("d", "040000", "")]),
            Err(Error::UnknownMode { .. })
        ));
    }

    #[test]
    fn bad_paths_fail_closed() {
        let bad = vec![0xffu8, 0xfe];
        assert!(matches!(
            Tree::from_files([(bad, "100644".to_string(), vec![])]),
            Err(Error::BadPath { .. })
        ));
        assert!(matches!(
            Tree::from_files([f("../x", "100644", "")]),
            Err(Error::BadPath { .. })
        ));
        assert!(matches!(
            Tree::from_files([f("x", "100644", ""), f("x", "100644", "")]),
            Err(Error::BadPath { .. })
        ));
    }

    #[test]
    fn keyring_file_names() {
        assert_eq!(keyring_file_version("keyring-1.toml"), Some(1));
        assert_eq!(keyring_file_version("keyring-12.toml"), Some(12));
        assert_eq!(keyring_file_version("keyring-01.toml"), None);
        assert_eq!(keyring_file_version("keyring-2.sig.toml"), None);
    }
}
