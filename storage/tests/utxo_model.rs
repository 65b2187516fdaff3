//! The store against a reference HashMap: random blocks, growth past many rehashes, a cache
//! budget far below the set size, checkpoints and reopens.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{assert_store_eq, config, random_coin, random_outpoint, Model};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sluice_consensus::coin::OutPoint;
use sluice_storage::{ChainStore, StoreError};

#[test]
fn random_blocks_match_reference_model() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    // 64 KiB budget: a few hundred cached coins against ~40k live ones.
    let mut store = ChainStore::open(dir.path(), &config(64 << 10)).unwrap();
    let mut model = Model::new();
    let mut live: Vec<OutPoint> = Vec::new();
    let mut max_spilled_cache = 0usize;
    for height in 0..240u32 {
        let mut spends = Vec::new();
        for _ in 0..rng.gen_range(0..120) {
            if live.is_empty() {
                break;
            }
            let i = rng.gen_range(0..live.len());
            spends.push(live.swap_remove(i));
        }
        let creates: Vec<_> = (0..rng.gen_range(100..300))
            .map(|_| (random_outpoint(&mut rng), random_coin(&mut rng, height)))
            .collect();
        let mut hash = [0u8; 32];
        hash[..4].copy_from_slice(&height.to_le_bytes());
        let undo = store
            .connect_block(height, hash, &spends, &creates)
            .unwrap();
        assert_eq!(undo.spent.len(), spends.len());
        for (s, (op, c)) in spends.iter().zip(&undo.spent) {
            assert_eq!(s, op);
            assert_eq!(
                model.remove(s).as_ref(),
                Some(c),
                "undo holds the spent coin"
            );
        }
        for (op, c) in creates {
            if model.insert(op, c).is_none() {
                live.push(op);
            }
        }
        max_spilled_cache = max_spilled_cache.max(store.stats().cache_bytes);
        assert_eq!(store.coin_count(), model.len() as u64);
        if height % 25 == 24 {
            store.checkpoint().unwrap();
        }
        if height % 75 == 74 {
            drop(store);
            store = ChainStore::open(dir.path(), &config(64 << 10)).unwrap();
        }
        if height % 60 == 0 {
            for _ in 0..200 {
                let op = random_outpoint(&mut rng);
                assert_eq!(store.get_coin(&op).unwrap(), model.get(&op).cloned());
            }
        }
    }
    let stats = store.stats();
    assert!(
        stats.index_slots >= 65_536,
        "index grew by doubling from 64 slots: {stats:?}"
    );
    assert!(model.len() > 20_000);
    assert_store_eq(&mut store, &model);
    store.checkpoint().unwrap();
    let stats = store.stats();
    assert!(stats.index_bytes_per_coin <= 48.0, "{stats:?}");
    drop(store);
    let mut store = ChainStore::open(dir.path(), &config(64 << 10)).unwrap();
    assert_store_eq(&mut store, &model);
    store.verify().unwrap();
}

#[test]
fn coin_created_and_spent_between_checkpoints_never_reaches_disk() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut store = ChainStore::open(dir.path(), &config(1 << 20)).unwrap();
    let op = random_outpoint(&mut rng);
    let coin = random_coin(&mut rng, 0);
    store.connect_block(0, [1; 32], &[], &[(op, coin)]).unwrap();
    store.connect_block(1, [2; 32], &[op], &[]).unwrap();
    // FRESH + spent: the entry is gone, nothing dirty remains for the checkpoint.
    assert_eq!(store.stats().dirty_entries, 0);
    let heap_before = store.stats().heap_bytes;
    store.checkpoint().unwrap();
    assert_eq!(store.stats().heap_bytes, heap_before);
    assert_eq!(store.coin_count(), 0);
}

#[test]
fn failed_connect_has_no_effect() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut store = ChainStore::open(dir.path(), &config(1 << 20)).unwrap();
    let a = random_outpoint(&mut rng);
    store
        .connect_block(0, [1; 32], &[], &[(a, random_coin(&mut rng, 0))])
        .unwrap();
    let before = store.muhash();
    let missing = random_outpoint(&mut rng);
    let new = (random_outpoint(&mut rng), random_coin(&mut rng, 1));
    let err = store
        .connect_block(1, [2; 32], &[a, missing], std::slice::from_ref(&new))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::MissingCoin(m) if m == missing),
        "{err}"
    );
    // Double spend inside one block.
    let err = store.connect_block(1, [2; 32], &[a, a], &[]).unwrap_err();
    assert!(matches!(err, StoreError::MissingCoin(_)));
    // Wrong height.
    assert!(matches!(
        store.connect_block(5, [2; 32], &[], &[]),
        Err(StoreError::NotNextBlock { .. })
    ));
    assert!(store.get_coin(&a).unwrap().is_some());
    assert!(store.get_coin(&new.0).unwrap().is_none());
    assert_eq!(store.muhash(), before);
    assert_eq!(store.tip(), Some((0, [1; 32])));
}

#[test]
fn second_open_is_refused_while_locked() {
    let dir = tempfile::tempdir().unwrap();
    let _store = ChainStore::open(dir.path(), &config(1 << 20)).unwrap();
    assert!(matches!(
        ChainStore::open(dir.path(), &config(1 << 20)),
        Err(StoreError::Locked(_))
    ));
}

#[test]
fn muhash_is_recomputed_after_running_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut off = config(1 << 20);
    off.track_muhash = false;
    let mut store = ChainStore::open(dir.path(), &off).unwrap();
    let creates: Vec<_> = (0..200)
        .map(|_| (random_outpoint(&mut rng), random_coin(&mut rng, 0)))
        .collect();
    store.connect_block(0, [1; 32], &[], &creates).unwrap();
    assert_eq!(store.muhash(), None);
    store.checkpoint().unwrap();
    drop(store);
    let mut store = ChainStore::open(dir.path(), &config(1 << 20)).unwrap();
    let model: Model = creates.into_iter().collect();
    assert_store_eq(&mut store, &model);
}

#[test]
fn parallel_fetch_matches_single_lookups_and_store_is_shareable() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ChainStore>();
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let mut store = ChainStore::open(dir.path(), &config(1 << 20)).unwrap();
    let creates: Vec<_> = (0..2000)
        .map(|_| (random_outpoint(&mut rng), random_coin(&mut rng, 0)))
        .collect();
    store.connect_block(0, [1; 32], &[], &creates).unwrap();
    store.checkpoint().unwrap();
    drop(store);
    let mut store = ChainStore::open(dir.path(), &config(1 << 20)).unwrap();
    let mut ops: Vec<OutPoint> = creates.iter().step_by(3).map(|(o, _)| *o).collect();
    ops.extend((0..100).map(|_| random_outpoint(&mut rng)));
    let got = store.fetch_coins(&ops).unwrap();
    let model: Model = creates.into_iter().collect();
    for (op, c) in ops.iter().zip(&got) {
        assert_eq!(c.as_ref(), model.get(op));
    }
    assert!(store.stats().cache_entries >= 600, "hits were cached");
    let spends: Vec<OutPoint> = ops.iter().take(600).copied().collect();
    store.connect_block(1, [2; 32], &spends, &[]).unwrap();
    assert_eq!(store.coin_count(), model.len() as u64 - 600);
}
