//! Misbehaving peers next to an honest bitcoind: a peer serving a longer chain with an invalid
//! block, one sending mutated copies, and one withholding blocks. In each case the bad peer is
//! dropped, the honest chain wins and its UTXO set matches bitcoind's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::scripted::{invalid_branch, read_blocks, Script, ScriptedPeer};
use common::{muhash, node_config, wait_tip};
use sluice_bitcoind::Bitcoind;
use sluice_loadgen::{generate, ChainSpec};
use sluice_node::run;

/// An honest chain of `blocks` generated into a temporary directory, and a bitcoind serving it.
fn honest(blocks: u32, seed: u64) -> (tempfile::TempDir, Bitcoind) {
    let dir = tempfile::tempdir().unwrap();
    generate(&ChainSpec::small("mainnet-mix", blocks, seed), dir.path()).unwrap();
    let node = Bitcoind::start(&[Bitcoind::loadblock(dir.path())]);
    node.wait_height(blocks, Duration::from_secs(180));
    (dir, node)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_longer_chain_with_an_invalid_block_loses_and_its_peer_is_dropped() {
    let (dir, seed) = tokio::task::block_in_place(|| honest(250, 21));
    let bad = invalid_branch(&read_blocks(dir.path()), 150, 150);
    let liar = ScriptedPeer::start(bad, Script::Honest).await;
    let data = tempfile::tempdir().unwrap();
    let cfg = node_config(
        data.path(),
        &[liar.addr.to_string(), seed.p2p.to_string()],
        false,
    );
    let node = run::start(&cfg).await.unwrap();
    wait_tip(&node, &seed.best_hash(), Duration::from_secs(180)).await;
    assert_eq!(muhash(&node), seed.muhash());
    assert!(
        liar.dropped().await,
        "the peer that served the invalid block is dropped"
    );
    node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutated_copies_do_not_get_the_real_blocks_rejected() {
    common::init_logs();
    let (dir, seed) = tokio::task::block_in_place(|| honest(150, 22));
    let mutator = ScriptedPeer::start(read_blocks(dir.path()), Script::Mutate).await;
    let data = tempfile::tempdir().unwrap();
    let cfg = node_config(
        data.path(),
        &[mutator.addr.to_string(), seed.p2p.to_string()],
        false,
    );
    let node = run::start(&cfg).await.unwrap();
    wait_tip(&node, &seed.best_hash(), Duration::from_secs(180)).await;
    assert_eq!(muhash(&node), seed.muhash());
    assert!(
        mutator.dropped().await,
        "the peer that mutated blocks is dropped"
    );
    node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_withholding_the_window_start_is_dropped_for_stalling() {
    // The window is 1,024 blocks: the chain must be longer for a stall to hold it up.
    let (dir, seed) = tokio::task::block_in_place(|| honest(1100, 23));
    let staller = ScriptedPeer::start(read_blocks(dir.path()), Script::Withhold).await;
    let data = tempfile::tempdir().unwrap();
    let cfg = node_config(
        data.path(),
        &[staller.addr.to_string(), seed.p2p.to_string()],
        false,
    );
    let node = run::start(&cfg).await.unwrap();
    wait_tip(&node, &seed.best_hash(), Duration::from_secs(240)).await;
    assert_eq!(muhash(&node), seed.muhash());
    assert!(staller.dropped().await, "the stalling peer is dropped");
    node.shutdown().await.unwrap();
}
