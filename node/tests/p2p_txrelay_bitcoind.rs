//! Transaction relay with a real bitcoind on loopback: while Sluice is in initial block
//! download it tells bitcoind (BIP133 `feefilter`) it wants no transactions; once a fresh
//! block ends IBD, a transaction submitted to bitcoind reaches Sluice's mempool, and one
//! submitted to Sluice reaches bitcoind's (BIP339 wtxid relay: inv, getdata, tx), and a child
//! arriving before its parent waits in the orphan pool while Sluice fetches the parent;
//! orphans leave when a block spends their inputs or their peer disconnects.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{node_config, wait_tip};
use serde_json::Value;
use sluice_bitcoind::Bitcoind;
use sluice_loadgen::wallet::Wallet;
use sluice_loadgen::{generate, ChainSpec};
use sluice_node::run;

const BLOCKS: u32 = 110;
const SEED: u64 = 12;

/// Sluice's peer entry in bitcoind's `getpeerinfo`.
fn sluice_peer(core: &Bitcoind) -> Option<Value> {
    let peers: Value = serde_json::from_str(&core.cli(&["getpeerinfo"])).ok()?;
    peers
        .as_array()?
        .iter()
        .find(|p| {
            p["subver"]
                .as_str()
                .is_some_and(|s| s.starts_with("/Sluice:"))
        })
        .cloned()
}

/// Polls `done` every 200 ms until it holds; panics after `limit`.
fn wait(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn sluice_mempool(addr: SocketAddr, cookie: &Path) -> Vec<String> {
    let out = common::rpc::cli(addr, cookie, &["getrawmempool"]).unwrap();
    serde_json::from_str(&out).unwrap()
}

/// A message counter of bitcoind's peer entry for Sluice (`bytesrecv_per_msg` or
/// `bytessent_per_msg`), 0 when absent.
fn msg_bytes(core: &Bitcoind, dir: &str, msg: &str) -> u64 {
    sluice_peer(core).map_or(0, |p| p[dir][msg].as_u64().unwrap_or(0))
}

/// bitcoind sends Sluice a child whose parent neither node has (`sendmsgtopeer`): Sluice
/// keeps it as an orphan and asks bitcoind for the parent by txid (bitcoind answers
/// `notfound`); once the parent reaches bitcoind's mempool and is relayed, Sluice accepts it
/// and then the orphan.
fn orphan_waits_for_its_parent(
    core: &Bitcoind,
    wallet: &Wallet,
    coin: &common::wallet::Coin,
    addr: SocketAddr,
    cookie: &Path,
) {
    let parent = common::wallet::spend(wallet, coin, 2_000);
    let child_coin = common::wallet::output_of(&parent);
    let child = common::wallet::spend(wallet, &child_coin, 3_000);
    let (pid, cid) = (
        parent.compute_txid().to_string(),
        child.compute_txid().to_string(),
    );
    let peer_id = sluice_peer(core).unwrap()["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let notfound_before = msg_bytes(core, "bytessent_per_msg", "notfound");
    core.cli(&[
        "sendmsgtopeer",
        &peer_id,
        "tx",
        &common::wallet::hex_of(&child),
    ]);
    wait(
        "Sluice asks bitcoind for the orphan's parent",
        Duration::from_secs(20),
        || msg_bytes(core, "bytessent_per_msg", "notfound") > notfound_before,
    );
    assert!(!sluice_mempool(addr, cookie).contains(&cid));
    let pool_size = || {
        let m = common::rpc::cli(addr, cookie, &["getmempoolinfo"]).unwrap();
        serde_json::from_str::<Value>(&m).unwrap()["size"]
            .as_u64()
            .unwrap()
    };
    let size_before = pool_size();
    core.cli(&["sendrawtransaction", &common::wallet::hex_of(&parent)]);
    wait(
        "parent and orphan in Sluice's mempool",
        Duration::from_secs(60),
        || {
            let pool = sluice_mempool(addr, cookie);
            pool.contains(&pid) && pool.contains(&cid)
        },
    );
    assert_eq!(pool_size(), size_before + 2);
    // bitcoind gets the child too (from Sluice's announcement, or here), so the block below
    // confirms everything.
    core.cli(&["sendrawtransaction", &common::wallet::hex_of(&child)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_relay_both_ways_with_bitcoind() {
    let chain_dir = tempfile::tempdir().unwrap();
    generate(
        &ChainSpec::small("mainnet-mix", BLOCKS, SEED),
        chain_dir.path(),
    )
    .unwrap();
    let core = tokio::task::block_in_place(|| {
        let a = Bitcoind::start(&[Bitcoind::loadblock(chain_dir.path())]);
        a.wait_height(BLOCKS, Duration::from_secs(120));
        a
    });
    let data = tempfile::tempdir().unwrap();
    let cfg = node_config(data.path(), &[core.p2p.to_string()], false);
    let node = run::start(&cfg).await.unwrap();
    wait_tip(&node, &core.best_hash(), Duration::from_secs(180)).await;
    let (addr, cookie) = (node.rpc_addrs[0], node.rpc_cookie.clone().unwrap());
    let metrics = node.metrics.clone();

    // The generated chain's timestamps are from 2011: Sluice is in IBD and asks for nothing.
    tokio::task::block_in_place(|| {
        wait("IBD feefilter", Duration::from_secs(20), || {
            sluice_peer(&core).is_some_and(|p| p["minfeefilter"].as_f64() == Some(21_000_000.0))
        });
    });
    // A block from now ends IBD: the filter drops to the mempool's minimum fee.
    let tip = tokio::task::block_in_place(|| {
        core.cli(&["generatetodescriptor", "1", "raw(51)"]);
        core.best_hash()
    });
    wait_tip(&node, &tip, Duration::from_secs(60)).await;
    tokio::task::block_in_place(|| {
        wait("feefilter after IBD", Duration::from_secs(20), || {
            sluice_peer(&core).is_some_and(|p| p["minfeefilter"].as_f64() == Some(0.000_001))
        });
        let peer = sluice_peer(&core).unwrap();
        assert_eq!(peer["relaytxes"], Value::Bool(true), "{peer}");

        let wallet = Wallet::new(SEED);
        let coins = common::wallet::find_coins(&core, &wallet, 4);
        assert_eq!(coins.len(), 4);

        // bitcoind -> Sluice.
        let tx1 = common::wallet::spend(&wallet, &coins[0], 2_000);
        let id1 = core.cli(&["sendrawtransaction", &common::wallet::hex_of(&tx1)]);
        assert_eq!(id1, tx1.compute_txid().to_string());
        wait(
            "bitcoind's tx in Sluice's mempool",
            Duration::from_secs(60),
            || sluice_mempool(addr, &cookie).contains(&id1),
        );

        // Sluice -> bitcoind.
        let tx2 = common::wallet::spend(&wallet, &coins[1], 3_000);
        let id2 = common::rpc::cli(
            addr,
            &cookie,
            &["sendrawtransaction", &common::wallet::hex_of(&tx2)],
        )
        .unwrap();
        assert_eq!(id2, tx2.compute_txid().to_string());
        wait(
            "Sluice's tx in bitcoind's mempool",
            Duration::from_secs(60),
            || {
                let pool: Vec<String> =
                    serde_json::from_str(&core.cli(&["getrawmempool"])).unwrap_or_default();
                pool.contains(&id2)
            },
        );
        // bitcoind asked Sluice for it: its initial broadcast is done.
        let info: Value =
            serde_json::from_str(&common::rpc::cli(addr, &cookie, &["getmempoolinfo"]).unwrap())
                .unwrap();
        assert_eq!(info["size"], 2, "{info}");
        assert_eq!(info["unbroadcastcount"], 0, "{info}");

        orphan_waits_for_its_parent(&core, &wallet, &coins[2], addr, &cookie);

        // An orphan spending a confirmed coin and a parent nobody has; bitcoind spends the
        // coin too, and the block below confirms that spend: the orphan must go.
        send_tx(&core, &orphan(&wallet, Some(&coins[3]), 0x42));
        wait("one orphan held", Duration::from_secs(20), || {
            orphans(&metrics) == 1
        });
        let rival = common::wallet::spend(&wallet, &coins[3], 2_500);
        core.cli(&["sendrawtransaction", &common::wallet::hex_of(&rival)]);

        // A block confirming every transaction empties both mempools.
        core.cli(&["generatetodescriptor", "1", "raw(51)"]);
    });
    wait_tip(&node, &core.best_hash(), Duration::from_secs(60)).await;
    tokio::task::block_in_place(|| {
        wait(
            "Sluice's mempool empty after the block",
            Duration::from_secs(20),
            || sluice_mempool(addr, &cookie).is_empty(),
        );
        wait(
            "the block erased the orphan",
            Duration::from_secs(20),
            || orphans(&metrics) == 0,
        );
        // An orphan from a peer that then disconnects leaves with the peer.
        send_tx(&core, &orphan(&Wallet::new(SEED), None, 0x43));
        wait("one orphan held", Duration::from_secs(20), || {
            orphans(&metrics) == 1
        });
        let id = sluice_peer(&core).unwrap()["id"].to_string();
        core.cli(&["disconnectnode", "", &id]);
        wait("the peer's orphan erased", Duration::from_secs(20), || {
            orphans(&metrics) == 0
        });
    });
    node.shutdown().await.unwrap();
}

/// `sluice_mempool_orphans` as Sluice's metrics render it.
fn orphans(metrics: &sluice_node::metrics::NodeMetrics) -> u64 {
    metrics
        .render()
        .lines()
        .find_map(|l| l.strip_prefix("sluice_mempool_orphans "))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(u64::MAX)
}

/// bitcoind pushes `tx` to Sluice unannounced (`sendmsgtopeer`, a test-only RPC).
fn send_tx(core: &Bitcoind, tx: &bitcoin::Transaction) {
    let id = sluice_peer(core).unwrap()["id"].to_string();
    core.cli(&["sendmsgtopeer", &id, "tx", &common::wallet::hex_of(tx)]);
}

/// A transaction spending output 0 of a parent nobody has (txid all `tag`), and `coin` when
/// given. Its signatures are never checked: it stays an orphan.
fn orphan(wallet: &Wallet, coin: Option<&common::wallet::Coin>, tag: u8) -> bitcoin::Transaction {
    use bitcoin::hashes::Hash;
    use sluice_loadgen::sign::{sign_tx, Spend};
    use sluice_loadgen::wallet::SpendKind;
    let missing = bitcoin::TxOut {
        value: bitcoin::Amount::from_sat(100_000),
        script_pubkey: wallet.spk(SpendKind::P2wpkh, 0).clone(),
    };
    let mut prevouts = vec![(
        bitcoin::OutPoint {
            txid: bitcoin::Txid::from_byte_array([tag; 32]),
            vout: 0,
        },
        missing,
        Spend::Wallet {
            kind: SpendKind::P2wpkh,
            key: 0,
        },
    )];
    if let Some(c) = coin {
        prevouts.push((
            c.outpoint,
            c.txout.clone(),
            Spend::Wallet {
                kind: c.kind,
                key: c.key,
            },
        ));
    }
    let total: u64 = prevouts.iter().map(|p| p.1.value.to_sat()).sum();
    let mut tx = bitcoin::Transaction {
        version: bitcoin::transaction::Version(2),
        lock_time: bitcoin::absolute::LockTime::ZERO,
        input: prevouts
            .iter()
            .map(|p| bitcoin::TxIn {
                previous_output: p.0,
                script_sig: bitcoin::ScriptBuf::new(),
                sequence: bitcoin::Sequence(0xffff_fffd),
                witness: bitcoin::Witness::new(),
            })
            .collect(),
        output: vec![bitcoin::TxOut {
            value: bitcoin::Amount::from_sat(total - 5_000),
            script_pubkey: wallet.spk(SpendKind::P2wpkh, 1).clone(),
        }],
    };
    let outs: Vec<bitcoin::TxOut> = prevouts.iter().map(|p| p.1.clone()).collect();
    let spends: Vec<Spend> = prevouts.into_iter().map(|p| p.2).collect();
    sign_tx(&mut tx, &outs, &spends, wallet, &[5; 32]).unwrap();
    tx
}
