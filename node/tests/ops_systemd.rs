//! The systemd unit in `ops/systemd/` is checked by systemd's own tools: `systemd-analyze
//! verify` (syntax, directives, executables; warnings count as failures) and
//! `systemd-analyze security --offline` (exposure score at most 2.0 of 10). Both work in a
//! container without systemd as PID 1. `scripts/deps` installs the `systemd` package when
//! `systemd-analyze` is missing: a missing tool fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

const INSTALLED_BIN: &str = "/usr/local/bin/sluice";

/// The unit with the documented binary path replaced by this build's binary (verify checks
/// that the executables exist), written into `dir`.
fn unit_for_this_build(dir: &Path) -> std::path::PathBuf {
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../ops/systemd/sluice.service"),
    )
    .unwrap();
    assert!(unit.contains(INSTALLED_BIN));
    let path = dir.join("sluice.service");
    std::fs::write(
        &path,
        unit.replace(INSTALLED_BIN, env!("CARGO_BIN_EXE_sluice")),
    )
    .unwrap();
    path
}

fn analyze(args: &[&str]) -> (bool, String, String) {
    let out = Command::new("systemd-analyze")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("systemd-analyze not runnable ({e}): run scripts/deps (it installs the systemd package)")
        });
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn unit_passes_systemd_analyze_verify_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_for_this_build(dir.path());
    let (ok, out, err) = analyze(&["verify", unit.to_str().unwrap()]);
    assert!(ok, "systemd-analyze verify failed:\n{out}{err}");
    // verify only warns (exit 0) on unknown keys or bad values: any message is a failure.
    let noise: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(noise.is_empty(), "systemd-analyze verify warnings:\n{err}");

    // The check itself catches a misspelt value.
    let text = std::fs::read_to_string(&unit).unwrap();
    let bad = dir.path().join("bad.service");
    std::fs::write(
        &bad,
        text.replace("ProtectSystem=strict", "ProtectSystem=stric"),
    )
    .unwrap();
    let (_, _, err) = analyze(&["verify", bad.to_str().unwrap()]);
    assert!(
        err.contains("ProtectSystem") || err.contains("protect system"),
        "{err}"
    );
}

#[test]
fn unit_exposure_is_low_and_hardening_directives_are_set() {
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_for_this_build(dir.path());
    // Exposure is scored 0..100 internally (shown /10): 20 = "2.0 OK".
    let (ok, out, err) = analyze(&[
        "security",
        "--offline=yes",
        "--threshold=20",
        unit.to_str().unwrap(),
    ]);
    assert!(ok, "exposure above 2.0:\n{out}{err}");
    let text = std::fs::read_to_string(&unit).unwrap();
    for directive in [
        "User=sluice",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "ReadWritePaths=/var/lib/sluice",
        "LimitNOFILE=",
        "MemoryMax=",
        "TasksMax=",
        "KillSignal=SIGTERM",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(directive)),
            "{directive} missing from the unit"
        );
    }
}
