//! Sluice nodes syncing over QUIC on loopback: a scripted TCP peer serves a loadgen chain to
//! node A; B syncs it from A over QUIC, C from B over QUIC (and pins both), each ending with
//! the same tip and UTXO set (MuHash). Keys are pinned both ways: A only lets B in, B only C.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::scripted::{read_blocks, Script, ScriptedPeer};
use common::{muhash, node_config, pin_of, wait_tip, with_quic};
use sluice_consensus::hash::to_display_hex;
use sluice_consensus::header::Header;
use sluice_loadgen::{generate, ChainSpec};
use sluice_node::run;

const BLOCKS: u32 = 150;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_sync_a_chain_over_quic() {
    common::init_logs();
    let chain = tempfile::tempdir().unwrap();
    generate(&ChainSpec::small("mainnet-mix", BLOCKS, 18), chain.path()).unwrap();
    let blocks = read_blocks(chain.path());
    let tip = to_display_hex(&Header::decode(blocks.last().unwrap()).unwrap().block_hash());
    let seed = ScriptedPeer::start(blocks, Script::Honest).await;

    // Keys first: each node's key is created in its datadir before anyone starts.
    let (da, db, dc) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let mut ca = node_config(da.path(), &[seed.addr.to_string()], false);
    let mut cb = node_config(db.path(), &[], false);
    let mut cc = node_config(dc.path(), &[], false);
    let fb = with_quic(&mut cb, &[], &[]);
    let fc = with_quic(&mut cc, &[], &[]);
    // A accepts only B's key (the port is unknown yet; inbound pins match keys, not ports).
    with_quic(&mut ca, &[format!("{fb}@127.0.0.1:1")], &[]);
    let a = run::start(&ca).await.unwrap();
    wait_tip(&a, &tip, Duration::from_secs(120)).await;

    cb.quic_peer = vec![pin_of(&a), format!("{fc}@127.0.0.1:1")];
    cb.quic_connect = vec![a.quic_addr.unwrap().to_string()];
    let b = run::start(&cb).await.unwrap();
    cc.quic_connect = vec![pin_of(&b)];
    let c = run::start(&cc).await.unwrap();
    wait_tip(&b, &tip, Duration::from_secs(120)).await;
    wait_tip(&c, &tip, Duration::from_secs(120)).await;
    assert_eq!(muhash(&b), muhash(&a));
    assert_eq!(muhash(&c), muhash(&a));
    assert_eq!(c.status.borrow().height, BLOCKS);
    for n in [c, b, a] {
        n.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_syncs_over_quic_while_its_peer_is_flooded() {
    common::init_logs();
    let chain = tempfile::tempdir().unwrap();
    generate(&ChainSpec::small("mainnet-mix", 80, 19), chain.path()).unwrap();
    let blocks = read_blocks(chain.path());
    let tip = to_display_hex(&Header::decode(blocks.last().unwrap()).unwrap().block_hash());
    let seed = ScriptedPeer::start(blocks, Script::Honest).await;
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut ca = node_config(da.path(), &[seed.addr.to_string()], false);
    let mut cb = node_config(db.path(), &[], false);
    let fb = with_quic(&mut cb, &[], &[]);
    with_quic(&mut ca, &[format!("{fb}@127.0.0.1:1")], &[]);
    let a = run::start(&ca).await.unwrap();
    wait_tip(&a, &tip, Duration::from_secs(120)).await;
    let (a_addr, a_fp) = (a.quic_addr.unwrap(), a.quic_fingerprint.unwrap());

    // 300 connection attempts by an unpinned key, all at once, each bounded to 3 s.
    let stranger = sluice_net::quic::Identity::ephemeral().unwrap();
    let ep = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    let limits = sluice_net::quic::QuicLimits::default();
    let mut flood = tokio::task::JoinSet::new();
    for _ in 0..300 {
        let cc = sluice_net::quic::tls::client_config(&stranger, a_fp, &limits).unwrap();
        let ep = ep.clone();
        flood.spawn(async move {
            let attempt = async {
                let conn = ep.connect_with(cc, a_addr, "sluice").ok()?.await.ok()?;
                Some(conn.closed().await)
            };
            tokio::time::timeout(Duration::from_secs(3), attempt).await
        });
    }
    // The honest, pinned node syncs meanwhile (retrying if the per-IP limit turned it away).
    cb.quic_connect = vec![pin_of(&a)];
    let b = run::start(&cb).await.unwrap();
    wait_tip(&b, &tip, Duration::from_secs(120)).await;
    assert_eq!(muhash(&b), muhash(&a));
    while let Some(r) = flood.join_next().await {
        // Every attempt ended: closed by the node or timed out; none stayed.
        assert!(r.is_ok());
    }
    for n in [b, a] {
        n.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_connect_without_a_pin_is_a_config_error() {
    let d = tempfile::tempdir().unwrap();
    let mut cfg = node_config(d.path(), &[], false);
    cfg.quic_connect = vec!["127.0.0.1:9".into()];
    let e = run::start(&cfg).await.unwrap_err();
    assert!(format!("{e:#}").contains("no quic_peer"), "{e:#}");
    cfg.quic_connect = vec!["nothex@127.0.0.1:9".into()];
    assert!(run::start(&cfg).await.is_err());
}
