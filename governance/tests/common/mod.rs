//! Helpers for the CLI tests: the built binary, the repository, the committed TEST keys.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root (this crate's parent).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The committed test keyrings.
pub fn keyrings() -> PathBuf {
    repo_root().join("governance/keyrings")
}

/// Runs `sluice-gov` with `args`.
pub fn gov(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sluice-gov"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

pub fn text(o: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs and requires success.
pub fn ok(args: &[&str]) -> String {
    let o = gov(args);
    assert!(
        o.status.success(),
        "sluice-gov {args:?} failed:\n{}",
        text(&o)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs and requires failure; returns stdout + stderr.
pub fn fails(args: &[&str]) -> String {
    let o = gov(args);
    assert!(
        !o.status.success(),
        "sluice-gov {args:?} should have failed:\n{}",
        text(&o)
    );
    text(&o)
}

/// A committed TEST key (`alice`, `bob`, … as in governance/test-keys/README.md) and a
/// password file for it in `dir`: (key path, password path, keyring id).
pub fn test_key(dir: &Path, name: &str) -> (String, String, String) {
    let pw = dir.join(format!("pw-{name}"));
    std::fs::write(&pw, format!("TEST-ONLY password of test-{name}\n")).unwrap();
    let key = repo_root().join(format!("governance/test-keys/test-{name}.key"));
    (
        key.display().to_string(),
        pw.display().to_string(),
        format!("test-{name}"),
    )
}

/// Fails with a clear message, instead of passing silently, when the clone lacks history.
pub fn require_commits(ids: &[&str]) {
    for id in ids {
        let o = Command::new("git")
            .arg("-C")
            .arg(repo_root())
            .args(["cat-file", "-e", &format!("{id}^{{commit}}")])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "commit {id} of the demonstration range is missing from {}: these tests need a clone \
             with main's full history (run `git fetch --unshallow`).",
            repo_root().display()
        );
    }
}
