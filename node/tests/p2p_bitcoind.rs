//! Interop with a real bitcoind on loopback: Sluice syncs a generated chain from bitcoind,
//! bitcoind syncs it from Sluice, Sluice follows new blocks and a reorganisation, and a
//! restarted Sluice resumes where it stopped. UTXO sets are compared by MuHash with
//! `gettxoutsetinfo muhash`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{muhash, node_config, wait_tip};

use sluice_bitcoind::Bitcoind;
use sluice_loadgen::{generate, ChainSpec};
use sluice_node::run;

const BLOCKS: u32 = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_serve_follow_reorg_and_resume_against_bitcoind() {
    let chain_dir = tempfile::tempdir().unwrap();
    let spec = ChainSpec::small("mainnet-mix", BLOCKS, 12);
    generate(&spec, chain_dir.path()).unwrap();

    // A: the seed, loaded with the generated chain.
    let seed = tokio::task::block_in_place(|| {
        let a = Bitcoind::start(&[Bitcoind::loadblock(chain_dir.path())]);
        a.wait_height(BLOCKS, Duration::from_secs(120));
        a
    });
    let seed_tip = seed.best_hash();

    // Sluice syncs from A over v1.
    let data = tempfile::tempdir().unwrap();
    let cfg = node_config(data.path(), &[seed.p2p.to_string()], false);
    let node = run::start(&cfg).await.unwrap();
    wait_tip(&node, &seed_tip, Duration::from_secs(180)).await;
    assert_eq!(muhash(&node), seed.muhash(), "UTXO set after IBD");
    assert_eq!(node.status.borrow().height, BLOCKS);

    // A second Sluice syncs from A over BIP324 v2 at the same time as B below.
    let data_v2 = tempfile::tempdir().unwrap();
    let node_v2 = run::start(&node_config(data_v2.path(), &[seed.p2p.to_string()], true))
        .await
        .unwrap();

    // B: a fresh bitcoind connected to Sluice only syncs the chain from it.
    let sluice_addr = node.p2p_addrs[0];
    let fresh = tokio::task::block_in_place(|| {
        let b = Bitcoind::start(&[format!("-connect={sluice_addr}")]);
        b.wait_height(BLOCKS, Duration::from_secs(180));
        b
    });
    assert_eq!(fresh.best_hash(), seed_tip);
    wait_tip(&node_v2, &seed_tip, Duration::from_secs(180)).await;
    assert_eq!(muhash(&node_v2), muhash(&node));
    let peers: serde_json::Value =
        serde_json::from_str(&tokio::task::block_in_place(|| seed.cli(&["getpeerinfo"]))).unwrap();
    let transports: Vec<(String, String)> = peers
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["subver"].as_str().unwrap_or_default().to_string(),
                p["transport_protocol_type"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    for t in ["v1", "v2"] {
        assert!(
            transports
                .iter()
                .any(|(ua, tp)| ua.starts_with("/Sluice:") && tp == t),
            "bitcoind sees a Sluice peer over {t}: {transports:?}"
        );
    }
    node_v2.shutdown().await.unwrap();

    // A mines 10 blocks: Sluice follows, and passes them on to B.
    let tip = tokio::task::block_in_place(|| {
        seed.cli(&["generatetodescriptor", "10", "raw(51)"]);
        seed.best_hash()
    });
    wait_tip(&node, &tip, Duration::from_secs(60)).await;
    tokio::task::block_in_place(|| {
        fresh.wait_for(Duration::from_secs(60), |b| b.best_hash() == tip);
    });

    // A reorganises: the last 3 blocks are invalidated and a longer branch is mined.
    let (tip, seed_muhash) = tokio::task::block_in_place(|| {
        let fork = seed.cli(&["getblockhash", &(BLOCKS + 8).to_string()]);
        seed.cli(&["invalidateblock", &fork]);
        seed.cli(&["generatetodescriptor", "4", "raw(52)"]);
        (seed.best_hash(), seed.muhash())
    });
    wait_tip(&node, &tip, Duration::from_secs(60)).await;
    assert_eq!(node.status.borrow().height, BLOCKS + 11);
    assert_eq!(
        muhash(&node),
        seed_muhash,
        "UTXO set after the reorganisation"
    );

    // A clean shutdown, then a restart resumes at the same tip with the same UTXO set.
    let before = node.status.borrow().clone();
    node.shutdown().await.unwrap();
    let node = run::start(&cfg).await.unwrap();
    wait_tip(&node, &tip, Duration::from_secs(60)).await;
    assert_eq!(*node.status.borrow(), before);
    // It goes on from there: the replayed blocks found the stored tip.
    let tip = tokio::task::block_in_place(|| {
        seed.cli(&["generatetodescriptor", "1", "raw(51)"]);
        seed.best_hash()
    });
    wait_tip(&node, &tip, Duration::from_secs(60)).await;
    assert_eq!(muhash(&node), seed.muhash());
    node.shutdown().await.unwrap();
}
