//! connect/disconnect restore the exact previous set (coin by coin and MuHash), across
//! checkpoints and reopens; MuHash does not depend on insertion order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    apply_model, assert_store_eq, config, make_block, model_muhash, random_coin, random_outpoint,
    Model,
};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sluice_consensus::coin::OutPoint;
use sluice_storage::{ChainStore, StoreError};

#[test]
fn disconnect_restores_every_previous_state() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = ChainStore::open(dir.path(), &config(32 << 10)).unwrap();
    let mut model = Model::new();
    let mut live: Vec<OutPoint> = Vec::new();
    let mut history = vec![(Model::new(), store.muhash().unwrap())];
    let mut hashes = Vec::new();
    for h in 0..40u32 {
        let b = make_block(&model, &live, h, 0, 40);
        let undo = store
            .connect_block(h, b.hash, &b.spends, &b.creates)
            .unwrap();
        assert_eq!(
            undo.spent.iter().map(|(o, _)| *o).collect::<Vec<_>>(),
            b.spends,
            "undo in input order"
        );
        apply_model(&mut model, &mut live, &b);
        assert_eq!(store.muhash().unwrap(), model_muhash(&model));
        history.push((model.clone(), store.muhash().unwrap()));
        hashes.push(b.hash);
        if h == 19 {
            // Half the undo data comes back from redb after a reopen.
            store.checkpoint().unwrap();
            drop(store);
            store = ChainStore::open(dir.path(), &config(32 << 10)).unwrap();
        }
    }
    assert_eq!(store.hash_at_height(7).unwrap(), Some(hashes[7]));
    // Only the tip can be disconnected.
    assert!(matches!(
        store.disconnect_block(&hashes[3]),
        Err(StoreError::NotTip(_))
    ));
    for h in (0..40usize).rev() {
        store.disconnect_block(&hashes[h]).unwrap();
        let (want, want_hash) = &history[h];
        assert_eq!(
            store.muhash().unwrap(),
            *want_hash,
            "muhash after disconnecting {h}"
        );
        assert_eq!(store.coin_count(), want.len() as u64);
        if h % 10 == 0 {
            assert_store_eq(&mut store, want);
            assert_eq!(
                store.recompute_muhash().unwrap(),
                *want_hash,
                "full scan agrees"
            );
        }
        if h == 25 {
            store.checkpoint().unwrap();
            drop(store);
            store = ChainStore::open(dir.path(), &config(32 << 10)).unwrap();
            assert_store_eq(&mut store, want);
        }
    }
    assert_eq!(store.tip(), None);
    assert_eq!(store.coin_count(), 0);
    assert_eq!(store.muhash().unwrap(), history[0].1);
}

#[test]
fn muhash_is_independent_of_insertion_order() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let coins: Vec<_> = (0..300)
        .map(|_| (random_outpoint(&mut rng), random_coin(&mut rng, 5)))
        .collect();
    let mut shuffled = coins.clone();
    shuffled.shuffle(&mut rng);
    let mut results = Vec::new();
    for (i, set) in [&coins, &shuffled].into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = ChainStore::open(dir.path(), &config(1 << 20)).unwrap();
        // Split into blocks differently too.
        let chunk = if i == 0 { 7 } else { 50 };
        for (h, part) in set.chunks(chunk).enumerate() {
            store
                .connect_block(h as u32, [h as u8; 32], &[], part)
                .unwrap();
        }
        results.push(store.muhash().unwrap());
    }
    assert_eq!(results[0], results[1]);
    let model: Model = coins.into_iter().collect();
    assert_eq!(results[0], model_muhash(&model));
}
