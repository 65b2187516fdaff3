//! "Show it works on this repository": `verify` over a demonstration range of main's history
//! with the committed approvals (the CI step), and a consensus change with only a lower tier's
//! approvals failing. The ranges are landed commits that never change; HEAD is never used.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{fails, keyrings, ok, repo_root, require_commits, signed_cmd};

/// docs/benchmarks.md and a saved report: the `docs` tier.
const DEMO_BASE: &str = "4f5bcba66b6eb158f30d0ba02ee4c78cda06840a";
const DEMO_TARGET: &str = "6578f637d7e77931adfed92e6f9810999aa6eaa4";
/// 4f5bcba's parent: 134b3fb..4f5bcba edits consensus/src/chain/params.rs.
const CONSENSUS_BASE: &str = "134b3fbe5f7ead62733c1a8020c820813d406330";

fn range(a: &str, b: &str) -> String {
    format!("{a}..{b}")
}

fn root() -> String {
    repo_root().display().to_string()
}

#[test]
fn demonstration_range_is_approved() {
    require_commits(&[DEMO_BASE, DEMO_TARGET]);
    let out = ok(&["verify", &range(DEMO_BASE, DEMO_TARGET), "--repo", &root()]);
    assert!(
        out.contains("approved:") && out.contains("tier docs"),
        "{out}"
    );
    assert!(
        out.contains("test-dave") && out.contains("test-erin"),
        "{out}"
    );
}

#[test]
fn demonstration_approvals_do_not_move() {
    require_commits(&[CONSENSUS_BASE, DEMO_BASE, DEMO_TARGET]);
    // To another network / channel: the signatures are over "main".
    let err = fails(&[
        "verify",
        &range(DEMO_BASE, DEMO_TARGET),
        "--repo",
        &root(),
        "--channel",
        "testnet",
    ]);
    assert!(err.contains("signature does not verify"), "{err}");
    // To another range (a different base tree): no approval names it.
    let err = fails(&[
        "verify",
        &range(CONSENSUS_BASE, DEMO_TARGET),
        "--repo",
        &root(),
    ]);
    assert!(
        err.contains("NOT approved") && err.contains("0 of"),
        "{err}"
    );
}

/// Each of `who` signs `r` into `approvals` as of 2026-11-22, with `extra` flags.
fn approve(dir: &Path, approvals: &str, r: &str, who: &[&str], extra: &[&str]) {
    let root = root();
    for name in who {
        let cmd = ["sign", r, "--repo", &root, "--approvals", approvals];
        let mut flags = vec!["--valid-for", "3000d"];
        flags.extend_from_slice(extra);
        ok(&signed_cmd("2026-11-22T02:00:00Z", &cmd, dir, name, &flags));
    }
}

/// A consensus change signed by all three consensus maintainers, but at the `code` tier.
#[test]
fn consensus_change_with_lower_tier_approvals_fails() {
    require_commits(&[CONSENSUS_BASE, DEMO_BASE]);
    let dir = tempfile::tempdir().unwrap();
    let approvals = dir.path().join("approvals").display().to_string();
    let r = range(CONSENSUS_BASE, DEMO_BASE);
    let consensus = ["alice", "bob", "carol"];
    let proposed = ["--proposed-at", "2026-11-01T00:00:00Z"];
    approve(
        dir.path(),
        &approvals,
        &r,
        &consensus,
        &[&proposed[..], &["--tier", "code"]].concat(),
    );
    let err = fails(&["verify", &r, "--repo", &root(), "--approvals", &approvals]);
    assert!(err.contains("tier consensus: 0 of 3"), "{err}");
    assert!(err.contains("signed for tier code"), "{err}");

    // The same three signing at the tier the verifier derives: approved.
    approve(dir.path(), &approvals, &r, &consensus, &[]);
    let out = ok(&["verify", &r, "--repo", &root(), "--approvals", &approvals]);
    assert!(out.contains("tier consensus"), "{out}");
}

#[test]
fn maintainers_cannot_approve_consensus() {
    require_commits(&[CONSENSUS_BASE, DEMO_BASE]);
    let dir = tempfile::tempdir().unwrap();
    let approvals = dir.path().join("approvals").display().to_string();
    let r = range(CONSENSUS_BASE, DEMO_BASE);
    approve(
        dir.path(),
        &approvals,
        &r,
        &["dave", "erin"],
        &["--proposed-at", "2026-11-01T00:00:00Z"],
    );
    let err = fails(&["verify", &r, "--repo", &root(), "--approvals", &approvals]);
    assert!(err.contains("role maintainer is not eligible"), "{err}");
}

#[test]
fn unreadable_repository_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(&[
        "verify",
        &range(DEMO_BASE, DEMO_TARGET),
        "--repo",
        &dir.path().display().to_string(),
        "--keyrings",
        &keyrings().display().to_string(),
        "--approvals",
        &dir.path().display().to_string(),
    ]);
    assert!(err.contains("git"), "{err}");
}
