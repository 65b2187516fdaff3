//! `sluice config check` and the start-up refusal, through the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

fn sluice(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn write(dir: &Path, name: &str, body: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p.to_str().unwrap().to_owned()
}

#[test]
fn check_prints_effective_settings_with_secrets_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("data");
    let cfg = write(
        dir.path(),
        "sluice.toml",
        "network = \"signet\"\nrpcuser = \"ops\"\nrpcpassword = \"correct horse\"\ncache_mb = 300\n",
    );
    let out = sluice(&[
        "config",
        "check",
        "--config",
        &cfg,
        "--datadir",
        datadir.to_str().unwrap(),
        "--maxconnections",
        "40",
    ]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(!stdout.contains("correct horse") && !stderr.contains("correct horse"));
    let eff: toml::Value = toml::from_str(&stdout).expect("the printout is TOML");
    assert_eq!(eff["network"].as_str(), Some("signet"));
    assert_eq!(eff["cache_mb"].as_integer(), Some(300), "from the file");
    assert_eq!(
        eff["maxconnections"].as_integer(),
        Some(40),
        "flag over default"
    );
    assert_eq!(eff["rpcpassword"].as_str(), Some("[redacted]"));
    assert_eq!(
        eff["maxuploadtarget"].as_str(),
        Some("100G"),
        "signet's upload target, resolved from the profile"
    );
    assert!(stderr.contains("warning: rpcpassword"), "{stderr}");
    assert!(stderr.contains("config OK"), "{stderr}");
    assert!(!datadir.exists(), "a check creates nothing");
}

#[test]
fn weak_mainnet_settings_are_refused_by_check_and_run() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("data");
    let cfg = write(
        dir.path(),
        "sluice.toml",
        "rpcbind = [\"0.0.0.0\"]\nquic_listen = \"0.0.0.0:9000\"\nquic_open = true\n",
    );
    let d = datadir.to_str().unwrap();
    let out = sluice(&["config", "check", "--config", &cfg, "--datadir", d]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("refused: rpcbind"), "{stderr}");
    assert!(stderr.contains("refused: quic_open"), "{stderr}");
    assert!(
        stderr.contains("2 setting(s) would refuse the start"),
        "{stderr}"
    );

    // `run` refuses before opening anything: no datadir appears.
    let out = sluice(&["run", "--config", &cfg, "--datadir", d, "--quiet"]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("refusing to start"), "{stderr}");
    assert!(
        stderr.contains("rpcbind") && stderr.contains("quic_open"),
        "{stderr}"
    );
    assert!(!datadir.exists());

    // Accepting both risks by name passes the check (shown as accepted).
    let out = sluice(&[
        "config",
        "check",
        "--config",
        &cfg,
        "--datadir",
        d,
        "--accept-risk",
        "rpc-public-without-rpcauth",
        "--accept-risk",
        "quic-open-mainnet",
    ]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("accepted risk: rpcbind"), "{stderr}");
}

#[test]
fn bad_files_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (body, key) in [
        ("netwrok = \"regtest\"\n", "netwrok"),
        ("maxconnections = \"many\"\n", "maxconnections"),
        ("[quic_limits]\nidle_timeout_ms = true\n", "idle_timeout_ms"),
        ("metrics_bind = \"localhost:9\"\n", "metrics_bind"),
        ("listen = false\nbind = [\"127.0.0.1:1\"]\n", "bind"),
    ] {
        let cfg = write(dir.path(), "bad.toml", body);
        let out = sluice(&["config", "check", "--config", &cfg]);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{body} passed");
        assert!(stderr.contains(key), "{body}: {stderr}");
    }
    let out = sluice(&["config", "check", "--config", "/nonexistent/sluice.toml"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("/nonexistent/sluice.toml"));
}
