//! The CLI end to end: keys, rotation with a trust state, the audit log, release manifests
//! (and `verify_release`, the node's entry point).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{fails, key_args, keyrings, ok, signed_cmd, test_key};
use sluice_governance::keyring::keyring_digest;
use sluice_governance::repo::load_trusted;
use sluice_governance::{verify_release, Error, Timestamp};

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// `release new --out m --channel stable --release name <rest…>`.
fn release_new(m: &str, name: &str, rest: &[&str]) {
    let mut a = vec![
        "release",
        "new",
        "--out",
        m,
        "--channel",
        "stable",
        "--release",
        name,
    ];
    a.extend_from_slice(rest);
    ok(&a);
}

#[test]
fn keygen_pubkey_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (key, pw) = (dir.path().join("k.key"), dir.path().join("pw"));
    std::fs::write(&pw, "correct horse\n").unwrap();
    let printed = ok(&[
        "keygen",
        "--out",
        &s(&key),
        "--password-file",
        &s(&pw),
        "--argon2-memory-kib",
        "8192",
    ]);
    assert_eq!(printed.trim().len(), 64);
    assert_eq!(
        ok(&["pubkey", "--key", &s(&key), "--password-file", &s(&pw)]),
        printed
    );
    // Never overwrites a key.
    fails(&[
        "keygen",
        "--out",
        &s(&key),
        "--password-file",
        &s(&pw),
        "--argon2-memory-kib",
        "8192",
    ]);
    std::fs::write(&pw, "wrong\n").unwrap();
    let err = fails(&["pubkey", "--key", &s(&key), "--password-file", &s(&pw)]);
    assert!(
        err.contains("wrong password or corrupted key file"),
        "{err}"
    );
    // The secret is not in the file in the clear: the file is exactly header + AEAD output.
    assert_eq!(
        std::fs::read(&key).unwrap().len(),
        sluice_governance::keys::KEY_FILE_LEN
    );
}

#[test]
fn committed_test_keys_match_the_keyring() {
    let dir = tempfile::tempdir().unwrap();
    let kr = sluice_governance::keyring::Keyring::parse(sluice_governance::EMBEDDED_ROOT_KEYRING)
        .unwrap();
    for who in ["alice", "dave", "frank"] {
        let (key, pw, id) = test_key(dir.path(), who);
        let printed = ok(&["pubkey", "--key", &key, "--password-file", &pw]);
        let listed = kr
            .maintainers
            .iter()
            .chain(&kr.emergency.keyholders)
            .find(|m| m.id == id)
            .unwrap();
        assert_eq!(printed.trim(), hex::encode(listed.key.to_byte_array()));
    }
}

/// Keyring 2 of the test keyring, rotated with the committed TEST keys; the trust state then
/// refuses keyring 1 alone (an older keyring after a newer one).
#[test]
fn rotate_then_refuse_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let kdir = dir.path().join("keyrings");
    std::fs::create_dir(&kdir).unwrap();
    let v1 = std::fs::read(keyrings().join("keyring-1.toml")).unwrap();
    std::fs::write(kdir.join("keyring-1.toml"), &v1).unwrap();
    let v2 = String::from_utf8(v1.clone()).unwrap().replacen(
        "version = 1\n",
        &format!("version = 2\nprevious = \"{}\"\n", keyring_digest(&v1)),
        1,
    );
    let new = kdir.join("keyring-2.toml");
    std::fs::write(&new, &v2).unwrap();
    let kd = s(&kdir);
    let state = s(&dir.path().join("trust-state"));
    for (i, who) in ["alice", "bob", "dave"].iter().enumerate() {
        if i == 2 {
            // Two of three: the chain does not reach keyring 2.
            let err = fails(&["keyring", "verify", "--keyrings", &kd]);
            assert!(err.contains("rotation signed by 2"), "{err}");
        }
        let (key, pw, _) = test_key(dir.path(), who);
        ok(&[
            "rotate",
            "--keyrings",
            &kd,
            "--new",
            &s(&new),
            "--key",
            &key,
            "--password-file",
            &pw,
        ]);
    }
    let out = ok(&[
        "keyring",
        "verify",
        "--keyrings",
        &kd,
        "--trust-state",
        &state,
    ]);
    assert!(out.contains("trusted keyring 2"), "{out}");
    std::fs::remove_file(&new).unwrap();
    let err = fails(&[
        "keyring",
        "verify",
        "--keyrings",
        &kd,
        "--trust-state",
        &state,
    ]);
    assert!(
        err.contains("keyring 1 is older than the trusted keyring 2"),
        "{err}"
    );
}

#[test]
fn audit_log_append_verify_and_tamper() {
    let dir = tempfile::tempdir().unwrap();
    let log = s(&dir.path().join("audit.log"));
    ok(&["log", "append", "--log", &log, "--body", "first"]);
    let head = ok(&["log", "append", "--log", &log, "--body", "second"]);
    let head = head.trim().strip_prefix("log head ").unwrap().to_string();
    assert!(ok(&["log", "verify", "--log", &log, "--head", &head]).contains(&head));
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.replacen("first", "FIRST", 1)).unwrap();
    let err = fails(&["log", "verify", "--log", &log]);
    assert!(err.contains("HashMismatch"), "{err}");
    // Appending refuses to extend a broken log.
    fails(&["log", "append", "--log", &log, "--body", "third"]);
    let first_line: String = text.lines().next().unwrap().to_string() + "\n";
    std::fs::write(&log, first_line).unwrap();
    let err = fails(&["log", "verify", "--log", &log, "--head", &head]);
    assert!(err.contains("Truncated"), "{err}");
}

/// A release manifest signed at the release tier (2 of the 5 maintainers), then checked the
/// way the node does it.
#[test]
fn release_sign_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sluice"), b"pretend node binary").unwrap();
    let manifest = dir.path().join("release.toml");
    let m = s(&manifest);
    release_new(
        &m,
        "0.1.0",
        &["--proposed-at", "2026-11-01T00:00:00Z", "sluice"],
    );
    let kd = s(&keyrings());
    let sign = |who: &str| {
        let cmd = ["release", "sign", "--manifest", &m, "--keyrings", &kd];
        ok(&signed_cmd(
            "2026-12-01T00:00:00Z",
            &cmd,
            dir.path(),
            who,
            &["--valid-for", "3000d"],
        ));
    };
    sign("alice");
    // m − 1: refused, by the CLI and by the library the node calls.
    let err = fails(&["release", "verify", "--manifest", &m]);
    assert!(err.contains("tier release: 1 of 2"), "{err}");
    let now = Timestamp::parse("2027-01-01T00:00:00Z").unwrap();
    let trusted = load_trusted(&keyrings(), now).unwrap();
    assert!(matches!(
        verify_release(&manifest, &trusted, now),
        Err(Error::NotApproved {
            have: 1,
            need: 2,
            ..
        })
    ));
    // The same key again (another id cannot be used: the key is checked against the id).
    sign("alice");
    assert!(matches!(
        verify_release(&manifest, &trusted, now),
        Err(Error::NotApproved { have: 1, .. })
    ));
    sign("erin");
    let out = ok(&["release", "verify", "--manifest", &m]);
    assert!(out.contains("release 0.1.0 (stable) verified"), "{out}");
    let v = verify_release(&manifest, &trusted, now).unwrap();
    assert_eq!(v.signers, ["test-alice", "test-erin"]);
    assert!(v.covers(&dir.path().join("sluice")));
    // A changed file, then a changed channel, are refused.
    std::fs::write(dir.path().join("sluice"), b"trojan").unwrap();
    assert!(matches!(
        verify_release(&manifest, &trusted, now),
        Err(Error::ReleaseFile { .. })
    ));
    std::fs::write(dir.path().join("sluice"), b"pretend node binary").unwrap();
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replacen("channel = \"stable\"", "channel = \"beta\"", 1),
    )
    .unwrap();
    assert!(matches!(
        verify_release(&manifest, &trusted, now),
        Err(Error::NotApproved { have: 0, .. })
    ));
    // Unknown fields in a manifest are refused.
    std::fs::write(
        &manifest,
        text.replacen(
            "channel = \"stable\"",
            "channel = \"stable\"\nthreshold = 1",
            1,
        ),
    )
    .unwrap();
    assert!(matches!(
        verify_release(&manifest, &trusted, now),
        Err(Error::Parse { .. })
    ));
}

#[test]
fn signer_must_own_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), b"x").unwrap();
    let m = s(&dir.path().join("r.toml"));
    release_new(&m, "1", &["f"]);
    let mut cmd = vec!["release".to_string(), "sign".into(), "--manifest".into(), m];
    cmd.extend(["--keyrings".into(), s(&keyrings())]);
    cmd.extend(key_args(dir.path(), "dave", Some("test-alice")));
    let err = fails(&cmd);
    assert!(
        err.contains("is not the key the keyring lists for test-alice"),
        "{err}"
    );
}
