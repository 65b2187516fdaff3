//! The `sluice run` binary as operators run it: it syncs from bitcoind, stops cleanly on SIGTERM
//! (and SIGINT) with exit status 0, and the next start resumes at the stored tip.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::Duration;

use sluice_bitcoind::Bitcoind;
use sluice_loadgen::{generate, ChainSpec};

const BLOCKS: u32 = 120;

/// Starts `sluice run` and a thread that forwards its log lines.
fn start(datadir: &Path, seed: &Bitcoind) -> (Child, mpsc::Receiver<String>) {
    common::spawn_logged(
        common::sluice_run(datadir, seed.p2p, &[])
            .env("RUST_LOG", "sluice_node=debug,sluice_pipeline=info"),
    )
}

/// Waits for a log line containing `needle`.
fn expect_line(rx: &mpsc::Receiver<String>, needle: &str, limit: Duration) {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return,
            Ok(_) => {}
            Err(e) => panic!("no log line with {needle:?} in {limit:?}: {e}"),
        }
    }
}

fn stop(mut child: Child, signal: &str) {
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args([signal, &pid])
        .status()
        .unwrap()
        .success());
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(
                status.success(),
                "sluice exited with {status} after {signal}"
            );
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "sluice did not stop after {signal}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn sigterm_and_sigint_stop_cleanly_and_the_next_start_resumes() {
    let chain = tempfile::tempdir().unwrap();
    generate(&ChainSpec::small("mainnet-mix", BLOCKS, 31), chain.path()).unwrap();
    let seed = Bitcoind::start(&[Bitcoind::loadblock(chain.path())]);
    seed.wait_height(BLOCKS, Duration::from_secs(120));
    let tip = seed.best_hash();
    let data = tempfile::tempdir().unwrap();

    let (child, logs) = start(data.path(), &seed);
    expect_line(
        &logs,
        &format!("connected {tip} at height {BLOCKS}"),
        Duration::from_secs(120),
    );
    stop(child, "-TERM");

    let (child, logs) = start(data.path(), &seed);
    expect_line(
        &logs,
        &format!("resuming after height {BLOCKS}"),
        Duration::from_secs(60),
    );
    stop(child, "-INT");
}
