//! `scripts/release` after the build (`--from-binary`, so no release build runs here): it
//! writes the binary, a CycloneDX SBOM of the lock file and SHA256SUMS, and a manifest signed
//! with the committed TEST keys that verifies the way the node verifies it; a changed file then
//! fails verification. The reproducibility half (two clean builds compared) takes ~20 minutes
//! and is run by hand (docs/operations/release.md).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sluice_governance::hash::sha256;
use sluice_governance::release::Manifest;
use sluice_governance::repo::load_trusted;
use sluice_governance::{now, verify_release, Error};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .into()
}

fn release(args: &[&str]) -> Output {
    Command::new("bash")
        .arg(repo().join("scripts/release"))
        .args(args)
        .env("SLUICE_GOV", env!("CARGO_BIN_EXE_sluice-gov"))
        .env("CARGO", env!("CARGO"))
        .current_dir(repo())
        .output()
        .unwrap()
}

#[test]
fn packages_signs_and_verifies_a_release() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("built-sluice");
    std::fs::write(&bin, b"pretend release binary").unwrap();
    let out = dir.path().join("rel");
    let o = release(&[
        "--test-keys",
        "--from-binary",
        bin.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--release",
        "0.0.0-test",
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("TEST keys"),
        "the test-key signing says so: {stderr}"
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains(
            "release 0.0.0-test (stable) verified: 3 files, signed by test-alice, test-dave"
        ),
        "{stdout}"
    );

    // SHA256SUMS names the binary and the SBOM with their real digests.
    let sums = std::fs::read_to_string(out.join("SHA256SUMS")).unwrap();
    for f in ["sluice", "sluice.cdx.json"] {
        let digest = hex::encode(sha256(&std::fs::read(out.join(f)).unwrap()));
        assert!(sums.contains(&format!("{digest}  {f}\n")), "{f} in\n{sums}");
    }
    assert_eq!(
        std::fs::read(out.join("sluice")).unwrap(),
        b"pretend release binary"
    );
    // The SBOM is the lock file's: one component per package.
    let bom: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("sluice.cdx.json")).unwrap()).unwrap();
    let lock = std::fs::read_to_string(repo().join("Cargo.lock")).unwrap();
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["metadata"]["component"]["version"], "0.0.0-test");
    assert_eq!(
        bom["components"].as_array().unwrap().len(),
        lock.matches("[[package]]").count()
    );

    // The manifest covers all three files and verifies as the node checks it.
    let manifest = out.join("release.toml");
    let m = Manifest::parse(&std::fs::read(&manifest).unwrap()).unwrap();
    let mut paths: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["SHA256SUMS", "sluice", "sluice.cdx.json"]);
    let trusted = load_trusted(&repo().join("governance/keyrings"), now()).unwrap();
    let v = verify_release(&manifest, &trusted, now()).unwrap();
    assert_eq!(v.signers, ["test-alice", "test-dave"]);
    assert!(v.covers(&out.join("sluice")));

    // A changed binary no longer verifies.
    std::fs::write(out.join("sluice"), b"pretend release binarY").unwrap();
    assert!(matches!(
        verify_release(&manifest, &trusted, now()),
        Err(Error::ReleaseFile { path, .. }) if path == "sluice"
    ));

    // The output directory is never overwritten.
    let again = release(&[
        "--test-keys",
        "--from-binary",
        bin.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn real_signing_needs_a_key() {
    let o = release(&["--once"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--key"));
}
