//! A flipped byte in any store file is reported as `StoreError::Corrupt`, never used.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{config, random_coin, random_outpoint, Model};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sluice_consensus::coin::{Coin, OutPoint};
use sluice_storage::{ChainStore, CrashPoint, StoreError};

const MARK_SCRIPT: [u8; 31] = [0x5a; 31];

/// A checkpointed store with random coins, one of them (spent in block 2) carrying a
/// recognisable script so its undo record can be found in the redb file.
fn build(dir: &Path) -> (Model, [u8; 32]) {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut store = ChainStore::open(dir, &config(1 << 20)).unwrap();
    let mut model = Model::new();
    let marked = (
        OutPoint {
            txid: [0xee; 32],
            vout: 0,
        },
        Coin {
            value: 777,
            script_pubkey: MARK_SCRIPT.to_vec(),
            height: 0,
            coinbase: false,
        },
    );
    let mut creates: Vec<_> = (0..500)
        .map(|_| (random_outpoint(&mut rng), random_coin(&mut rng, 0)))
        .collect();
    creates.push(marked.clone());
    store.connect_block(0, [1; 32], &[], &creates).unwrap();
    model.extend(creates);
    let more: Vec<_> = (0..300)
        .map(|_| (random_outpoint(&mut rng), random_coin(&mut rng, 1)))
        .collect();
    store.connect_block(1, [2; 32], &[], &more).unwrap();
    model.extend(more);
    store.connect_block(2, [3; 32], &[marked.0], &[]).unwrap();
    model.remove(&marked.0);
    store.checkpoint().unwrap();
    (model, [3; 32])
}

fn flip(path: &Path, at: usize) {
    let mut b = std::fs::read(path).unwrap();
    b[at] ^= 0x10;
    std::fs::write(path, b).unwrap();
}

fn find_all(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    hay.windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

fn is_corrupt<T: std::fmt::Debug>(r: Result<T, StoreError>) -> String {
    match r {
        Err(e @ StoreError::Corrupt { .. }) => e.to_string(),
        other => panic!("expected a corruption error, got {other:?}"),
    }
}

/// Reads every model coin; returns the first error (a flipped record must surface).
fn read_all(store: &mut ChainStore, model: &Model) -> Result<(), StoreError> {
    for (op, c) in model {
        let got = store.get_coin(op)?;
        assert!(
            got.is_none() || got.as_ref() == Some(c),
            "a corrupted coin was returned as valid"
        );
    }
    Ok(())
}

#[test]
fn flipped_heap_byte_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = build(dir.path());
    let heap = dir.path().join("heap.dat");
    let len = std::fs::metadata(&heap).unwrap().len() as usize;
    for at in [20, len / 3, len / 2, len - 2] {
        let d2 = tempfile::tempdir().unwrap();
        build(d2.path());
        let heap2 = d2.path().join("heap.dat");
        flip(&heap2, at);
        let mut store = ChainStore::open(d2.path(), &config(1 << 20)).unwrap();
        let msg = is_corrupt(store.verify());
        assert!(msg.contains("heap.dat"), "{msg}");
        is_corrupt(read_all(&mut store, &model));
    }
}

#[test]
fn flipped_index_bytes_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = build(dir.path());
    let idx = dir.path().join("utxo.idx");
    // Header.
    flip(&idx, 9);
    is_corrupt(ChainStore::open(dir.path(), &config(1 << 20)));
    flip(&idx, 9);
    // Each word of a few live slots.
    let bytes = std::fs::read(&idx).unwrap();
    let live: Vec<usize> = (4096..bytes.len())
        .step_by(16)
        .filter(|&o| {
            bytes[o..o + 8].iter().any(|b| *b != 0) && bytes[o..o + 8] != 1u64.to_le_bytes()
        })
        .take(4)
        .collect();
    assert_eq!(live.len(), 4);
    for (i, slot) in live.into_iter().enumerate() {
        let at = slot + [0, 3, 9, 14][i];
        flip(&idx, at);
        let mut store = ChainStore::open(dir.path(), &config(1 << 20)).unwrap();
        let msg = is_corrupt(store.verify());
        assert!(msg.contains("utxo.idx"), "{msg}");
        is_corrupt(read_all(&mut store, &model));
        drop(store);
        flip(&idx, at);
    }
    let mut store = ChainStore::open(dir.path(), &config(1 << 20)).unwrap();
    store.verify().unwrap();
    read_all(&mut store, &model).unwrap();
}

#[test]
fn flipped_manifest_and_undo_in_redb_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (_, spent_block) = build(dir.path());
    let db = dir.path().join("index.redb");
    let bytes = std::fs::read(&db).unwrap();
    // The undo record holds the marked script; the heap copy is in heap.dat, not here.
    let hits = find_all(&bytes, &MARK_SCRIPT);
    assert!(!hits.is_empty());
    for at in &hits {
        flip(&db, at + 5);
    }
    let store = ChainStore::open(dir.path(), &config(1 << 20)).unwrap();
    let msg = is_corrupt(store.undo(&spent_block));
    assert!(msg.contains("undo"), "{msg}");
    is_corrupt(store.verify());
    drop(store);
    for at in &hits {
        flip(&db, at + 5);
    }
    // The manifest (every copy redb still holds).
    let bytes = std::fs::read(&db).unwrap();
    let hits = find_all(&bytes, b"SLMFST01");
    assert!(!hits.is_empty());
    for at in hits {
        flip(&db, at + 12);
    }
    let msg = is_corrupt(ChainStore::open(dir.path(), &config(1 << 20)));
    assert!(msg.contains("manifest"), "{msg}");
}

#[test]
fn flipped_journal_byte_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let mut store = ChainStore::open(dir.path(), &config(1 << 20)).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let creates: Vec<_> = (0..50)
        .map(|_| (random_outpoint(&mut rng), random_coin(&mut rng, 3)))
        .collect();
    store.connect_block(3, [4; 32], &[], &creates).unwrap();
    store
        .checkpoint_then_crash(CrashPoint::AfterCommit)
        .unwrap();
    let journal = dir.path().join(format!("journal-{:020}.dat", 2));
    flip(&journal, 100);
    let msg = is_corrupt(ChainStore::open(dir.path(), &config(1 << 20)));
    assert!(msg.contains("journal"), "{msg}");
}

#[test]
fn lost_database_is_refused_and_coins_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = build(dir.path());
    let heap = dir.path().join("heap.dat");
    let heap_before = std::fs::read(&heap).unwrap();
    std::fs::rename(dir.path().join("index.redb"), dir.path().join("moved.redb")).unwrap();
    let msg = is_corrupt(ChainStore::open(dir.path(), &config(1 << 20)));
    assert!(msg.contains("index.redb"), "{msg}");
    assert_eq!(
        std::fs::read(&heap).unwrap(),
        heap_before,
        "heap left untouched"
    );
    // Putting the database back restores the store.
    std::fs::rename(dir.path().join("moved.redb"), dir.path().join("index.redb")).unwrap();
    let mut store = ChainStore::open(dir.path(), &config(1 << 20)).unwrap();
    read_all(&mut store, &model).unwrap();
}

#[test]
fn error_while_applying_a_block_poisons_the_store_until_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let (model, tip) = build(dir.path());
    // Garble the heap: re-creating coins that are on disk must read (and reject) their records.
    let heap = dir.path().join("heap.dat");
    let mut b = std::fs::read(&heap).unwrap();
    for x in b.iter_mut().skip(8).step_by(7) {
        *x ^= 0x5a;
    }
    std::fs::write(&heap, b).unwrap();
    let mut store = ChainStore::open(dir.path(), &config(1 << 20)).unwrap();
    let creates: Vec<(OutPoint, Coin)> = model
        .keys()
        .take(50)
        .map(|op| {
            let coin = Coin {
                value: 1,
                script_pubkey: vec![0x51],
                height: 3,
                coinbase: false,
            };
            (*op, coin)
        })
        .collect();
    is_corrupt(store.connect_block(3, [4; 32], &[], &creates));
    for r in [
        store.checkpoint(),
        store.connect_block(3, [4; 32], &[], &[]).map(|_| ()),
    ] {
        assert!(matches!(r, Err(StoreError::Poisoned)), "{r:?}");
    }
    drop(store);
    let store = ChainStore::open(dir.path(), &config(1 << 20)).unwrap();
    assert_eq!(store.tip().map(|t| t.1), Some(tip));
}
