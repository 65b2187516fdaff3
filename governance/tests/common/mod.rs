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
pub fn gov<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
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
pub fn ok<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(args: &[S]) -> String {
    let o = gov(args);
    assert!(
        o.status.success(),
        "sluice-gov {args:?} failed:\n{}",
        text(&o)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs and requires failure; returns stdout + stderr.
pub fn fails<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(args: &[S]) -> String {
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

/// `--key K --password-file P --signer ID` for the committed TEST key `name`, signing as
/// `signer` (normally its own id, `test-NAME`).
pub fn key_args(dir: &Path, name: &str, signer: Option<&str>) -> Vec<String> {
    let (key, pw, id) = test_key(dir, name);
    let signer = signer.map_or(id, str::to_string);
    vec![
        "--key".into(),
        key,
        "--password-file".into(),
        pw,
        "--signer".into(),
        signer,
    ]
}

/// `sluice-gov --now <now> <cmd…> <TEST key args> <extra…>` as one argument list.
pub fn signed_cmd(now: &str, cmd: &[&str], dir: &Path, name: &str, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = ["--now", now]
        .iter()
        .chain(cmd)
        .map(ToString::to_string)
        .collect();
    a.extend(key_args(dir, name, None));
    a.extend(extra.iter().map(ToString::to_string));
    a
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
