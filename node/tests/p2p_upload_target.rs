//! The upload target (`maxuploadtarget`, Core's `-maxuploadtarget`) against a real bitcoind on
//! loopback: a Sluice node past its target disconnects a fresh bitcoind asking for blocks older
//! than a week, so that bitcoind gets none; restarted with the peer's IP given the download
//! permission (`whitelist_download`), the same node serves it the whole chain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{node_config, wait_tip};

use sluice_bitcoind::Bitcoind;
use sluice_node::config::ByteSize;
use sluice_node::run::{self, NodeHandle};

/// Old blocks (a month before the tip), then the tip at the current time.
const OLD: u32 = 5;

fn refused(node: &NodeHandle) -> u64 {
    let text = node.metrics.render();
    text.lines()
        .find_map(|l| l.strip_prefix("sluice_upload_refused_total "))
        .and_then(|v| v.trim().parse().ok())
        .expect("sluice_upload_refused_total exported")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_target_old_blocks_are_not_served() {
    // The seed mines OLD blocks with its clock a month back, then one block now: blocks 1..=OLD
    // are historical (more than a week before the best header), the tip is not.
    let (seed, tip) = tokio::task::block_in_place(|| {
        let seed = Bitcoind::start(&[]);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let month_ago = (now - 30 * 24 * 3600).to_string();
        seed.cli(&["setmocktime", &month_ago]);
        seed.cli(&["generatetodescriptor", &OLD.to_string(), "raw(51)"]);
        seed.cli(&["setmocktime", "0"]);
        seed.cli(&["generatetodescriptor", "1", "raw(51)"]);
        let tip = seed.best_hash();
        (seed, tip)
    });

    // Sluice syncs from the seed, with a 1 MiB target: below one day's reserve for relaying new
    // blocks (144 × 4 MB), so historical serving is refused from the start, as in Core.
    let data = tempfile::tempdir().unwrap();
    let mut cfg = node_config(data.path(), &[seed.p2p.to_string()], false);
    cfg.maxuploadtarget = Some(ByteSize(1 << 20));
    let node = run::start(&cfg).await.unwrap();
    wait_tip(&node, &tip, Duration::from_secs(60)).await;
    assert_eq!(refused(&node), 0);

    // A fresh bitcoind connected to Sluice only: its getdata for block 1 gets it disconnected
    // (it reconnects and is refused again); it never gets a block.
    let addr = node.p2p_addrs[0];
    let fresh = tokio::task::block_in_place(|| Bitcoind::start(&[format!("-connect={addr}")]));
    let start = Instant::now();
    while refused(&node) < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "bitcoind was not refused twice in 60 s (refused {})",
            refused(&node)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let fresh_height = tokio::task::block_in_place(|| fresh.height());
    assert_eq!(fresh_height, 0, "no historical block was served");
    let text = node.metrics.render();
    assert!(
        text.contains("\nsluice_upload_target_reached 1\n"),
        "{text}"
    );
    assert!(
        text.contains("\nsluice_upload_target_bytes 1048576\n"),
        "{text}"
    );
    node.shutdown().await.unwrap();
    drop(fresh);

    // The same node and target, with loopback given the download permission: served in full.
    cfg.whitelist_download = vec![[127, 0, 0, 1].into()];
    let node = run::start(&cfg).await.unwrap();
    wait_tip(&node, &tip, Duration::from_secs(60)).await;
    let addr = node.p2p_addrs[0];
    tokio::task::block_in_place(|| {
        let b = Bitcoind::start(&[format!("-connect={addr}")]);
        b.wait_height(OLD + 1, Duration::from_secs(60));
        assert_eq!(b.best_hash(), tip);
    });
    assert_eq!(refused(&node), 0, "an exempt peer is never refused");
    node.shutdown().await.unwrap();
}
