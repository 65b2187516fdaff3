//! `perf ibd` end to end at CI size: a seed bitcoind serves 120 small generated blocks, a fresh
//! bitcoind and a fresh Sluice each sync them once, and the report holds both runs at the seed's
//! tip, Sluice's MuHash equal to the seed's, and the ratio. Needs bitcoind (`scripts/bitcoind`);
//! nextest runs it in the `bitcoind` test group.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use sluice_perf::ibd::report::{Engine, IbdReport};

fn perf(args: &[&str], extra: &[&Path]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_perf"));
    cmd.args(args);
    for p in extra {
        cmd.arg(p);
    }
    cmd.output().unwrap()
}

#[test]
fn both_engines_sync_a_small_chain_from_the_seed_and_the_report_has_the_ratio() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let work = dir.path().join("work");
    let o = Command::new(env!("CARGO_BIN_EXE_perf"))
        .args(["ibd", "--blocks", "120", "--weight", "60000", "--seed", "3"])
        .args(["--runs", "1", "--threads", "2", "--cache-mb", "64"])
        .args([
            "--sample-ms",
            "100",
            "--timeout-s",
            "120",
            "--stall-s",
            "60",
        ])
        .arg("--out")
        .arg(&out)
        .arg("--work-dir")
        .arg(&work)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let text = std::fs::read_to_string(out.join("report.json")).unwrap();
    let rep: IbdReport = serde_json::from_str(&text).unwrap();
    let manifest = rep.chain.manifest.as_ref().expect("loadgen manifest");
    let tip_hash = manifest["tip_hash"].as_str().unwrap();
    assert_eq!(rep.seed.tip.height, 120);
    assert_eq!(rep.seed.tip.hash, tip_hash);
    assert_eq!(rep.seed.muhash.len(), 64);
    let engines: Vec<Engine> = rep.runs.iter().map(|r| r.engine).collect();
    assert_eq!(engines, [Engine::Bitcoind, Engine::Sluice]);
    for run in &rep.runs {
        assert_eq!(
            run.tip, rep.seed.tip,
            "{:?} reached the seed's tip",
            run.engine
        );
        assert!(run.wall_s > 0.0 && run.user_s > 0.0 && run.peak_rss_bytes > 0);
        assert_eq!(run.samples.last().map(|s| s.1), Some(120));
        assert!(
            run.samples.windows(2).all(|w| w[0].0 <= w[1].0),
            "samples in time order"
        );
    }
    assert_eq!(
        rep.runs[1].muhash.as_deref(),
        Some(rep.seed.muhash.as_str())
    );
    let ratio = &rep.bitcoind_over_sluice;
    assert!(ratio.of_medians.is_finite() && ratio.of_medians > 0.0);
    assert_eq!(ratio.pairs.len(), 1);
    let expected = rep.runs[0].wall_s / rep.runs[1].wall_s;
    assert!(
        (ratio.of_medians - expected).abs() <= 1e-9 * expected,
        "one run each: the ratio is bitcoind's time over Sluice's ({} vs {expected})",
        ratio.of_medians
    );
    assert_eq!(rep.settings.transport, "v1");
    assert!(rep
        .settings
        .bitcoind_command
        .contains("-par=2 -dbcache=64 -assumevalid=0"));
    assert!(rep.command.contains("--blocks 120"), "{}", rep.command);
    assert!(!rep.machine.cpu.is_empty() && !rep.commit.is_empty());

    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("| bitcoind |") && md.contains("| sluice |"),
        "{md}"
    );
    assert!(md.contains("bitcoind median / Sluice median"), "{md}");
    let svg = std::fs::read_to_string(out.join("height_over_time.svg")).unwrap();
    assert!(svg.starts_with("<svg"));
    assert!(svg.contains("bitcoind run 1") && svg.contains("sluice run 1"));
    // Run datadirs are gone; the generated chain stays in the work dir for the next race.
    let left: Vec<String> = std::fs::read_dir(&work)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        left,
        ["chain-mainnet-mix-120blocks-60000wu-seed3"],
        "{left:?}"
    );
}

#[test]
fn a_chain_the_seed_cannot_serve_or_no_chain_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    // The first 439 mainnet blocks as a chain directory: the seed runs regtest.
    let mainnet = dir.path().join("mainnet");
    std::fs::create_dir(&mainnet).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/chains/mainnet-0-438.blk"),
        mainnet.join("blk00000.dat"),
    )
    .unwrap();
    let o = perf(&["ibd", "--chain"], &[&mainnet, Path::new("--out"), &out]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("the seed runs regtest"), "{err}");
    let o = perf(&["ibd", "--runs", "1"], &[]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--blocks"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!out.join("report.json").exists());
}
