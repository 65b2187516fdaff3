//! The documented backup procedure (docs/operations/backup-restore.md): stop, copy the
//! datadir, start. A node syncs part of a chain and stops; its datadir is copied file by file
//! into a fresh directory; a node started there has the same tip and the same MuHash (through
//! `gettxoutsetinfo`, recomputed from the restored UTXO set, and against the original's), and
//! then syncs on from a peer holding the rest of the chain. Loopback only, bounded in time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use sluice_consensus::chain::Params;
use sluice_consensus::hash::to_display_hex;
use sluice_consensus::header::Header;
use sluice_node::run::{self, NodeHandle};
use sluice_storage::blockstore::BlockStore;

const LIMIT: Duration = Duration::from_secs(60);

fn seed(datadir: &Path, blocks: &[Vec<u8>]) {
    let (mut store, _) =
        BlockStore::open(&datadir.join("blocks"), Params::regtest().magic).unwrap();
    for b in blocks {
        store.append(b).unwrap();
    }
    store.sync().unwrap();
}

fn hash_of(block: &[u8]) -> String {
    to_display_hex(&Header::decode(block).unwrap().block_hash())
}

/// `cp -a` for what a datadir holds: directories and regular files.
fn copy_tree(from: &Path, to: &Path) -> usize {
    std::fs::create_dir_all(to).unwrap();
    let mut files = 0;
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        let dest = to.join(entry.file_name());
        if kind.is_dir() {
            files += copy_tree(&entry.path(), &dest);
        } else {
            assert!(kind.is_file(), "unexpected {:?} in a datadir", entry.path());
            std::fs::copy(entry.path(), &dest).unwrap();
            files += 1;
        }
    }
    files
}

fn utxo_info(node: &NodeHandle) -> Value {
    let auth = common::rpc::cookie_auth(node.rpc_cookie.as_ref().unwrap());
    let (status, reply) = common::rpc::call(
        node.rpc_addrs[0],
        &auth,
        "gettxoutsetinfo",
        &json!(["muhash"]),
    );
    assert_eq!(status, 200, "{reply}");
    reply["result"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restored_copy_has_the_same_tip_and_muhash_and_syncs_on() {
    common::init_logs();
    let dir = tempfile::tempdir().unwrap();
    let chain = sluice_pipeline::testchain::linear(&Params::regtest(), 40, 2);
    let (first, all) = (&chain[..25], &chain[..]);

    // The node to back up: 25 blocks, synced and stopped cleanly (the procedure's "stop").
    let original = dir.path().join("original");
    seed(&original, first);
    let node = run::start(&common::node_config(&original, &[], true))
        .await
        .unwrap();
    common::wait_tip(&node, &hash_of(&first[24]), LIMIT).await;
    let before = utxo_info(&node);
    assert_eq!(before["height"], 25);
    let muhash = common::muhash(&node);
    assert_eq!(before["muhash"], muhash.as_str());
    node.shutdown().await.unwrap();

    // "copy": into a fresh directory.
    let restored = dir.path().join("restored");
    let files = copy_tree(&original, &restored);
    assert!(files >= 3, "a datadir of {files} files");

    // "start": the same tip and MuHash, before any peer is around.
    let node = run::start(&common::node_config(&restored, &[], true))
        .await
        .unwrap();
    let after = utxo_info(&node);
    assert_eq!(after["bestblock"], before["bestblock"]);
    assert_eq!(after["height"], before["height"]);
    assert_eq!(after["txouts"], before["txouts"]);
    assert_eq!(
        after["muhash"], before["muhash"],
        "MuHash of the restored UTXO set"
    );
    node.shutdown().await.unwrap();

    // And it syncs on from a peer that has the rest of the chain.
    let full = dir.path().join("full");
    seed(&full, all);
    let peer = run::start(&common::node_config(&full, &[], true))
        .await
        .unwrap();
    let tip = hash_of(&all[39]);
    common::wait_tip(&peer, &tip, LIMIT).await;
    let node = run::start(&common::node_config(
        &restored,
        &[peer.p2p_addrs[0].to_string()],
        true,
    ))
    .await
    .unwrap();
    common::wait_tip(&node, &tip, LIMIT).await;
    let synced = utxo_info(&node);
    assert_eq!(synced["height"], 40);
    assert_eq!(synced["muhash"], utxo_info(&peer)["muhash"]);
    assert_ne!(synced["muhash"], before["muhash"]);
    node.shutdown().await.unwrap();
    peer.shutdown().await.unwrap();
    // The original is untouched by all this.
    assert!(original.join("blocks").exists());
}
