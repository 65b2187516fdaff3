//! A full disk during network sync: `sluice run` with its datadir on a small tmpfs syncs from a
//! real bitcoind until the file system fills. It must stop by itself with an error naming the
//! cause and the file, not crash and not mark anything invalid; once the tmpfs is grown, the
//! next start resumes from what was committed and reaches bitcoind's tip and UTXO set.
//!
//! Needs root (it mounts a tmpfs); loopback only; bounded in time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{muhash, node_config, wait_tip};
use sluice_bitcoind::Bitcoind;
use sluice_loadgen::{generate, ChainSpec};
use sluice_node::run;

const BLOCKS: u32 = 300;
/// Far less than the chain's blocks (about 4.5 MB) plus the store's files.
const SMALL: &str = "size=3m";
const LIMIT: Duration = Duration::from_secs(120);

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, options: &str) -> Self {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir)
            .status()
            .unwrap()
            .success();
        assert!(ok, "mounting a tmpfs needs root");
        Self(dir.to_path_buf())
    }

    fn resize(&self, options: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.0)
            .status()
            .unwrap()
            .success();
        assert!(ok, "remount {options}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_the_node_with_a_clear_error_and_it_resumes_after_space_is_freed() {
    let chain = tempfile::tempdir().unwrap();
    generate(&ChainSpec::small("mainnet-mix", BLOCKS, 43), chain.path()).unwrap();
    let seed = tokio::task::block_in_place(|| {
        let s = Bitcoind::start(&[Bitcoind::loadblock(chain.path())]);
        s.wait_height(BLOCKS, Duration::from_secs(120));
        s
    });
    let tip = seed.best_hash();
    let mnt = tempfile::tempdir().unwrap();
    let fs = Tmpfs::mount(mnt.path(), SMALL);
    let data = mnt.path().join("sluice");

    // The node runs until the disk is full and stops by itself, non-zero, saying why.
    let (mut child, lines) = common::spawn_logged(
        common::sluice_run(&data, seed.p2p, &[])
            .env("RUST_LOG", "info")
            .env("RUST_BACKTRACE", "0"),
    );
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("the node did not stop on a full disk within {LIMIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let lines: Vec<String> = lines.iter().collect();
    let log = lines.join("\n");
    assert!(!status.success(), "exit status {status} on a full disk");
    assert!(
        status.code().is_some(),
        "killed by a signal ({status}), not stopped: {log}"
    );
    let cause = lines
        .iter()
        .find(|l| l.contains("No space left on device"))
        .unwrap_or_else(|| panic!("no line names the cause:\n{log}"));
    assert!(
        cause.contains(&data.display().to_string()),
        "the error names no file in the datadir: {cause}"
    );
    assert!(
        !log.contains("invalid"),
        "a full disk became a verdict:\n{log}"
    );
    println!("stopped with: {cause}");

    // Space is freed: the next start resumes from the store and reaches bitcoind's state.
    fs.resize("size=256m");
    let node = run::start(&node_config(&data, &[seed.p2p.to_string()], false))
        .await
        .unwrap();
    wait_tip(&node, &tip, LIMIT).await;
    let seed_muhash = tokio::task::block_in_place(|| seed.muhash());
    assert_eq!(muhash(&node), seed_muhash, "UTXO set after the full disk");
    node.shutdown().await.unwrap();
    drop(fs);
}
