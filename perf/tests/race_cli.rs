//! `perf race` end to end on a tiny generated regtest chain: both engines agree and every report
//! file holds its fields; with one block corrupted for Sluice, the race exits non-zero naming
//! that block.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use sluice_loadgen::{generate, ChainSpec};
use sluice_perf::report::Report;
use sluice_storage::blockfile::{read_block_file, BlockFileWriter, MAGIC_REGTEST};

fn tiny_chain(dir: &Path) {
    let mut spec = ChainSpec::new("mainnet-mix", 150, 7);
    spec.target_weight = 40_000;
    spec.threads = 2;
    generate(&spec, dir).unwrap();
}

fn race(chain: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_perf"))
        .args(["race", "--threads", "2", "--runs", "2"])
        .arg("--chain")
        .arg(chain)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn engines_agree_on_a_tiny_chain_and_reports_are_complete() {
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("chain");
    tiny_chain(&chain);
    let out = dir.path().join("report");
    let o = race(&chain, &out, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(out.join("report.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for r in v["results"].as_array().unwrap() {
        for key in [
            "command", "mean", "stddev", "median", "user", "system", "min", "max",
        ] {
            assert!(r[key].is_number() || r[key].is_string(), "{key} in {r}");
        }
        assert_eq!(r["times"].as_array().unwrap().len(), 2);
        assert!(r["blocks_per_s"].as_f64().unwrap() > 0.0);
    }
    let rep: Report = serde_json::from_str(&text).unwrap();
    assert_eq!(rep.threads, 2);
    assert_eq!(rep.chain.tip.height, 150);
    assert!(rep.chain.stats.signatures.total() > 0);
    assert!(rep.chain.manifest.is_some());
    assert_eq!(rep.sluice_over_core.pairs.len(), 2);
    assert!(rep.lower_bound.as_ref().unwrap().seconds > 0.0);
    assert!(!rep.machine.cpu.is_empty() && !rep.commit.is_empty());
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| core |") && md.contains("| sluice |"), "{md}");
    for svg in ["blocks_per_second.svg", "sluice_stages.svg"] {
        let s = std::fs::read_to_string(out.join(svg)).unwrap();
        assert!(s.starts_with("<svg"), "{svg}");
    }
}

#[test]
fn a_corrupted_block_makes_the_race_fail_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("chain");
    tiny_chain(&chain);
    // Sluice gets a copy whose block 140 has a flipped byte in its last transaction (the merkle
    // root no longer matches), so it stops at 139 while Core connects all 150.
    let blocks = read_block_file(&chain.join("blk00000.dat"), MAGIC_REGTEST)
        .unwrap()
        .blocks;
    let bad = chain.parent().unwrap().join("bad");
    let mut w = BlockFileWriter::create(&bad, MAGIC_REGTEST).unwrap();
    for (h, rec) in blocks.iter().enumerate() {
        let mut bytes = rec.bytes.clone();
        if h == 140 {
            let n = bytes.len();
            bytes[n - 5] ^= 0x01;
        }
        w.append(&bytes).unwrap();
    }
    w.flush().unwrap();
    let out = dir.path().join("report");
    let o = race(&chain, &out, &["--sluice-chain", bad.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    let hash = bitcoin::consensus::deserialize::<bitcoin::Block>(&blocks[140].bytes)
        .unwrap()
        .block_hash()
        .to_string();
    assert!(
        err.contains(&format!("first differing block is height 140 ({hash})")),
        "{err}"
    );
    assert!(!out.join("report.json").exists(), "no ratio is reported");
}
