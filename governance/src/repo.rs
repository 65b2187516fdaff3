//! The thin I/O layer: reading trees out of git and governance files off disk. Everything it
//! returns goes through the pure checks of the other modules; any failure here is an error,
//! never a pass.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::approval::ApprovalFile;
use crate::emergency::EmergencyFile;
use crate::error::Error;
use crate::rotation::{verify_chain, KeyringFile, TrustedKeyring};
use crate::time::Timestamp;
use crate::tree::{keyring_file_version, Tree};
use crate::{pinned_root, EMBEDDED_ROOT_KEYRING};

/// Largest governance file read (keyrings, approvals, manifests are a few KiB).
pub const MAX_GOV_FILE: u64 = 1 << 20;

fn io_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Reads a whole file, refusing one larger than `max` bytes.
pub fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, Error> {
    let f = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
    let mut buf = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(|e| io_err(path, e))?;
    if buf.len() as u64 > max {
        return Err(io_err(path, format!("larger than {max} bytes")));
    }
    Ok(buf)
}

/// Runs git in `repo` with `input` on stdin; a non-zero exit is an error carrying stderr.
fn git(repo: &Path, args: &[&str], input: Option<&[u8]>) -> Result<Vec<u8>, Error> {
    let command = args.first().copied().unwrap_or("").to_string();
    let fail = |message: String| Error::Git {
        command: command.clone(),
        message,
    };
    let mut child = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        // Replace refs would let local configuration substitute object contents.
        .env("GIT_NO_REPLACE_OBJECTS", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        // Read the repository named by `-C`, not one an inherited environment points at.
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_COMMON_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_OBJECT_DIRECTORY")
        .env_remove("GIT_ALTERNATE_OBJECT_DIRECTORIES")
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run git: {e}")))?;
    // Feed stdin from another thread: git writes output while it reads, and both pipes
    // filling up at once would deadlock.
    let output = std::thread::scope(|s| {
        if let (Some(data), Some(mut stdin)) = (input, child.stdin.take()) {
            s.spawn(move || {
                // A write error shows up as git's own failure below.
                let _ = stdin.write_all(data);
            });
        }
        child.wait_with_output()
    })
    .map_err(|e| fail(e.to_string()))?;
    if !output.status.success() {
        return Err(fail(format!(
            "exit {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(output.stdout)
}

/// Resolves a revision to a full commit id.
pub fn resolve_commit(repo: &Path, rev: &str) -> Result<String, Error> {
    if rev.is_empty() || rev.starts_with('-') {
        return Err(Error::Git {
            command: "rev-parse".into(),
            message: format!("bad revision {rev:?}"),
        });
    }
    let spec = format!("{rev}^{{commit}}");
    let out = git(
        repo,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &spec,
        ],
        None,
    )
    .map_err(|e| Error::Git {
        command: "rev-parse".into(),
        message: format!("no commit {rev:?} in {} ({e})", repo.display()),
    })?;
    let id = String::from_utf8(out).map_err(|_| Error::Git {
        command: "rev-parse".into(),
        message: "non-UTF-8 output".into(),
    })?;
    let id = id.trim().to_string();
    if !(id.len() == 40 || id.len() == 64) || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Git {
            command: "rev-parse".into(),
            message: format!("unexpected output {id:?}"),
        });
    }
    Ok(id)
}

/// The committer time of a commit.
pub fn commit_time(repo: &Path, commit: &str) -> Result<Timestamp, Error> {
    let out = git(repo, &["show", "-s", "--format=%ct", commit], None)?;
    let text = String::from_utf8_lossy(&out);
    text.trim()
        .parse::<u64>()
        .map(Timestamp)
        .map_err(|_| Error::Git {
            command: "show".into(),
            message: format!("bad commit time {text:?}"),
        })
}

/// Reads the full tree of `commit`: every path, mode and blob.
pub fn read_tree(repo: &Path, commit: &str) -> Result<Tree, Error> {
    let listing = git(repo, &["ls-tree", "-r", "-z", "--full-tree", commit], None)?;
    let bad = |m: &str| Error::Git {
        command: "ls-tree".into(),
        message: m.to_string(),
    };
    let mut listed = Vec::new();
    for rec in listing.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        // "<mode> SP <type> SP <object> TAB <path>"
        let tab = rec
            .iter()
            .position(|&b| b == b'\t')
            .ok_or_else(|| bad("no tab"))?;
        let meta = std::str::from_utf8(&rec[..tab]).map_err(|_| bad("non-UTF-8 metadata"))?;
        let mut parts = meta.split(' ');
        let (Some(mode), Some(kind), Some(oid), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("malformed entry"));
        };
        let path = rec[tab + 1..].to_vec();
        if kind != "blob" {
            return Err(Error::UnknownMode {
                path: String::from_utf8_lossy(&path).into_owned(),
                mode: format!("{mode} ({kind})"),
            });
        }
        listed.push((path, mode.to_string(), oid.to_string()));
    }
    let request: String = listed
        .iter()
        .map(|(_, _, oid)| format!("{oid}\n"))
        .collect();
    let blobs = git(repo, &["cat-file", "--batch"], Some(request.as_bytes()))?;
    let contents = split_batch(&blobs, listed.iter().map(|(_, _, oid)| oid.as_str()))?;
    Tree::from_files(
        listed
            .into_iter()
            .zip(contents)
            .map(|((path, mode, _), data)| (path, mode, data)),
    )
}

/// Splits `git cat-file --batch` output into contents, checking each header names the
/// requested object as a blob.
fn split_batch<'a>(
    mut out: &[u8],
    oids: impl Iterator<Item = &'a str>,
) -> Result<Vec<Vec<u8>>, Error> {
    let bad = |m: String| Error::Git {
        command: "cat-file".into(),
        message: m,
    };
    let mut contents = Vec::new();
    for oid in oids {
        let nl = out
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| bad("truncated output".into()))?;
        let header = std::str::from_utf8(&out[..nl]).map_err(|_| bad("non-UTF-8 header".into()))?;
        let mut parts = header.split(' ');
        let (Some(got), Some("blob"), Some(size), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad(format!("unexpected header {header:?} for {oid}")));
        };
        let size: usize = size
            .parse()
            .map_err(|_| bad(format!("bad size in {header:?}")))?;
        let end = nl
            .checked_add(1 + size)
            .filter(|e| *e < out.len())
            .ok_or_else(|| bad("truncated blob".into()))?;
        if got != oid || out[end] != b'\n' {
            return Err(bad(format!("output out of step at {oid}")));
        }
        contents.push(out[nl + 1..end].to_vec());
        out = &out[end + 1..];
    }
    if !out.is_empty() {
        return Err(bad("trailing output".into()));
    }
    Ok(contents)
}

/// Reads `keyring-N.toml` (and `keyring-N.sig.toml`) files of `dir`, ordered by N. The chain
/// check, not the file names, decides what is trusted.
pub fn load_keyring_files(dir: &Path) -> Result<Vec<KeyringFile>, Error> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io_err(dir, e))? {
        let entry = entry.map_err(|e| io_err(dir, e))?;
        let name = entry.file_name();
        if let Some(v) = name.to_str().and_then(keyring_file_version) {
            found.push(v);
        }
    }
    found.sort_unstable();
    found
        .into_iter()
        .map(|v| {
            let bytes = read_limited(&dir.join(format!("keyring-{v}.toml")), MAX_GOV_FILE)?;
            let sig = dir.join(format!("keyring-{v}.sig.toml"));
            let rotation = if sig.exists() {
                Some(read_limited(&sig, MAX_GOV_FILE)?)
            } else {
                None
            };
            Ok(KeyringFile { bytes, rotation })
        })
        .collect()
}

/// The trusted keyring from the keyrings in `dir`, rooted at the pinned digest.
pub fn load_trusted(dir: &Path, now: Timestamp) -> Result<TrustedKeyring, Error> {
    verify_chain(&pinned_root(), &load_keyring_files(dir)?, now)
}

/// The trusted keyring from the root keyring compiled into the binary alone.
pub fn embedded_trusted(now: Timestamp) -> Result<TrustedKeyring, Error> {
    let root = KeyringFile {
        bytes: EMBEDDED_ROOT_KEYRING.to_vec(),
        rotation: None,
    };
    verify_chain(&pinned_root(), &[root], now)
}

/// Approval (`*.approval.toml`) and emergency (`*.emergency.toml`) files of `dir`. A file that
/// does not parse fails the whole load: nothing in the approvals directory is skipped quietly.
pub fn load_approvals(dir: &Path) -> Result<(Vec<ApprovalFile>, Vec<EmergencyFile>), Error> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| io_err(dir, e))?
        .map(|e| e.map(|e| e.path()).map_err(|e| io_err(dir, e)))
        .collect::<Result<_, _>>()?;
    names.sort();
    let (mut approvals, mut emergencies) = (Vec::new(), Vec::new());
    for path in names {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let with_path = |e: Error| io_err(&path, e);
        if name.ends_with(".approval.toml") {
            approvals
                .push(ApprovalFile::parse(&read_limited(&path, MAX_GOV_FILE)?).map_err(with_path)?);
        } else if name.ends_with(".emergency.toml") {
            emergencies.push(
                EmergencyFile::parse(&read_limited(&path, MAX_GOV_FILE)?).map_err(with_path)?,
            );
        }
    }
    Ok((approvals, emergencies))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn batch_output_is_checked() {
        let ok = b"aa blob 3\nxyz\nbb blob 0\n\n";
        assert_eq!(
            split_batch(ok, ["aa", "bb"].into_iter()).unwrap(),
            [b"xyz".to_vec(), vec![]]
        );
        assert!(split_batch(b"aa missing\n", ["aa"].into_iter()).is_err());
        assert!(split_batch(b"aa blob 9\nxyz\n", ["aa"].into_iter()).is_err());
        assert!(split_batch(b"bb blob 3\nxyz\n", ["aa"].into_iter()).is_err());
        assert!(split_batch(b"aa blob 3\nxyz\nextra", ["aa"].into_iter()).is_err());
    }

    #[test]
    fn git_failure_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_tree(dir.path(), "HEAD"),
            Err(Error::Git { .. })
        ));
        assert!(matches!(
            resolve_commit(dir.path(), "--help"),
            Err(Error::Git { .. })
        ));
    }
}
