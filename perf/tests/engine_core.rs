//! The Core engine run, through the `perf engine-run` child-process interface the race uses.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use sluice_perf::chain::{ChainFiles, ChainStats};
use sluice_perf::engine::{EngineKind, EngineRun};

#[test]
fn core_imports_the_real_mainnet_prefix_to_height_438() {
    let chain =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/chains/mainnet-0-438.blk");
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_perf"))
        .args(["engine-run", "--engine", "core", "--threads", "2"])
        .arg("--chain")
        .arg(&chain)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run: EngineRun = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(run.engine, EngineKind::Core);
    let stats = ChainStats::measure(&ChainFiles::open(&chain).unwrap()).unwrap();
    assert_eq!(run.tip.height, 438);
    assert_eq!(&run.tip.hash, stats.order.last().unwrap());
    assert_eq!(run.first_rejected, None);
    assert!(run.wall_s > 0.0 && run.user_s >= 0.0 && run.peak_rss_bytes > 0);
    assert_eq!(run.connected_at.last().map(|p| p.0), Some(438));
}
