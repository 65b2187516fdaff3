//! Heap compaction drops dead records, keeps the set, survives a crash before publishing, and
//! leaves undo data usable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{apply_model, assert_store_eq, config, make_block, Model};
use sluice_consensus::coin::OutPoint;
use sluice_storage::ChainStore;

fn churn(
    store: &mut ChainStore,
    model: &mut Model,
    live: &mut Vec<OutPoint>,
    heights: std::ops::Range<u32>,
) -> Vec<[u8; 32]> {
    let mut hashes = Vec::new();
    for h in heights {
        let b = make_block(model, live, h, 0, 60);
        store
            .connect_block(h, b.hash, &b.spends, &b.creates)
            .unwrap();
        apply_model(model, live, &b);
        hashes.push(b.hash);
        if h % 5 == 4 {
            store.checkpoint().unwrap();
        }
    }
    hashes
}

#[test]
fn compaction_shrinks_the_heap_and_keeps_the_set() {
    let dir = tempfile::tempdir().unwrap();
    let (mut model, mut live) = (Model::new(), Vec::new());
    let mut store = ChainStore::open(dir.path(), &config(8 << 10)).unwrap();
    let hashes = churn(&mut store, &mut model, &mut live, 0..60);
    let before_model = model.clone();
    let stats = store.compact().unwrap();
    assert!(
        stats.heap_bytes_after < stats.heap_bytes_before,
        "{stats:?}"
    );
    assert_eq!(stats.records_kept, model.len() as u64);
    assert_eq!(store.stats().heap_bytes, stats.heap_bytes_after);
    assert_store_eq(&mut store, &model);
    store.verify().unwrap();
    assert!(!dir.path().join("heap.dat").exists() && dir.path().join("heap-1.dat").exists());
    // Undo written before the compaction still disconnects exactly.
    let tip_hash = *hashes.last().unwrap();
    store.disconnect_block(&tip_hash).unwrap();
    store.checkpoint().unwrap();
    drop(store);
    let mut store = ChainStore::open(dir.path(), &config(8 << 10)).unwrap();
    let mut m59 = Model::new();
    let mut l59 = Vec::new();
    for h in 0..59 {
        let b = make_block(&m59, &l59, h, 0, 60);
        apply_model(&mut m59, &mut l59, &b);
    }
    assert_store_eq(&mut store, &m59);
    assert_ne!(m59, before_model);
    store.compact().unwrap();
    drop(store);
    let mut store = ChainStore::open(dir.path(), &config(8 << 10)).unwrap();
    assert_store_eq(&mut store, &m59);
    assert!(dir.path().join("heap-2.dat").exists() && !dir.path().join("heap-1.dat").exists());
}

#[test]
fn compaction_torn_before_publishing_keeps_the_old_files() {
    let dir = tempfile::tempdir().unwrap();
    let (mut model, mut live) = (Model::new(), Vec::new());
    let mut store = ChainStore::open(dir.path(), &config(8 << 10)).unwrap();
    churn(&mut store, &mut model, &mut live, 0..30);
    store.compact_then_crash().unwrap();
    assert!(dir.path().join("heap-1.dat").exists());
    let mut store = ChainStore::open(dir.path(), &config(8 << 10)).unwrap();
    assert!(!dir.path().join("heap-1.dat").exists() && !dir.path().join("utxo-1.idx").exists());
    assert_store_eq(&mut store, &model);
    store.verify().unwrap();
    store.compact().unwrap();
    assert_store_eq(&mut store, &model);
}
