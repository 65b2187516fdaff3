//! The bridge: bitcoind → (TCP) → Sluice A → (QUIC) → Sluice B, and a third Sluice C on QUIC
//! to both. All reach bitcoind's tip with its MuHash, then follow newly mined blocks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{muhash, node_config, pin_of, wait_tip, with_quic};
use sluice_bitcoind::Bitcoind;
use sluice_loadgen::{generate, ChainSpec};
use sluice_node::run;

const BLOCKS: u32 = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bitcoind_tcp_sluice_quic_sluice_bridge() {
    common::init_logs();
    let chain = tempfile::tempdir().unwrap();
    generate(&ChainSpec::small("mainnet-mix", BLOCKS, 31), chain.path()).unwrap();
    let seed = tokio::task::block_in_place(|| {
        let s = Bitcoind::start(&[Bitcoind::loadblock(chain.path())]);
        s.wait_height(BLOCKS, Duration::from_secs(120));
        s
    });
    let tip = seed.best_hash();

    let (da, db, dc) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let mut ca = node_config(da.path(), &[seed.p2p.to_string()], true);
    let mut cb = node_config(db.path(), &[], false);
    let mut cc = node_config(dc.path(), &[], false);
    let fb = with_quic(&mut cb, &[], &[]);
    let fc = with_quic(&mut cc, &[], &[]);
    with_quic(
        &mut ca,
        &[format!("{fb}@127.0.0.1:1"), format!("{fc}@127.0.0.1:1")],
        &[],
    );
    let a = run::start(&ca).await.unwrap();
    cb.quic_peer = vec![format!("{fc}@127.0.0.1:1")];
    cb.quic_connect = vec![pin_of(&a)];
    let b = run::start(&cb).await.unwrap();
    cc.quic_connect = vec![pin_of(&a), pin_of(&b)];
    let c = run::start(&cc).await.unwrap();
    for n in [&a, &b, &c] {
        wait_tip(n, &tip, Duration::from_secs(180)).await;
        assert_eq!(muhash(n), seed.muhash(), "UTXO set after IBD");
    }

    // bitcoind mines: A hears it over TCP, B and C over QUIC.
    let tip = tokio::task::block_in_place(|| {
        seed.cli(&["generatetodescriptor", "5", "raw(51)"]);
        seed.best_hash()
    });
    for n in [&a, &b, &c] {
        wait_tip(n, &tip, Duration::from_secs(60)).await;
        assert_eq!(muhash(n), seed.muhash(), "UTXO set after new blocks");
    }
    for n in [c, b, a] {
        n.shutdown().await.unwrap();
    }
}
