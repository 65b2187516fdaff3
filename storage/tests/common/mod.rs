//! Shared helpers for the storage integration tests: random coins, a reference model and a
//! deterministic block generator.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sluice_consensus::coin::{Coin, OutPoint};
use sluice_consensus::hash::{sha256, Hash256};
use sluice_storage::muhash::{coin_element, MuHash3072};
use sluice_storage::{ChainStore, StoreConfig};

pub type Model = HashMap<OutPoint, Coin>;

pub fn config(budget: usize) -> StoreConfig {
    StoreConfig {
        mem_budget_bytes: budget,
        track_muhash: true,
        initial_index_slots: 64,
    }
}

pub fn random_coin(rng: &mut impl Rng, height: u32) -> Coin {
    let kind = rng.gen_range(0..4);
    let script_pubkey = match kind {
        0 => {
            let mut s = vec![0x76, 0xa9, 20];
            s.extend((0..20).map(|_| rng.gen::<u8>()));
            s.extend([0x88, 0xac]);
            s
        }
        1 => {
            let mut s = vec![0xa9, 20];
            s.extend((0..20).map(|_| rng.gen::<u8>()));
            s.push(0x87);
            s
        }
        2 => {
            let mut s = vec![0x00, 20];
            s.extend((0..20).map(|_| rng.gen::<u8>()));
            s
        }
        _ => (0..rng.gen_range(0..80)).map(|_| rng.gen::<u8>()).collect(),
    };
    Coin {
        value: rng.gen_range(0..50_000_000_000),
        script_pubkey,
        height,
        coinbase: rng.gen_bool(0.1),
    }
}

pub fn random_outpoint(rng: &mut impl Rng) -> OutPoint {
    OutPoint {
        txid: rng.gen(),
        vout: rng.gen_range(0..4),
    }
}

pub fn model_muhash(m: &Model) -> Hash256 {
    let mut h = MuHash3072::new();
    for (op, c) in m {
        h.insert(&coin_element(op, c));
    }
    h.finalize()
}

/// Every coin the store holds must equal the model, both ways.
pub fn assert_store_eq(store: &mut ChainStore, model: &Model) {
    let mut seen = Model::new();
    store
        .for_each_coin(|op, c| {
            assert!(seen.insert(*op, c.clone()).is_none(), "coin visited twice");
        })
        .unwrap();
    assert_eq!(seen.len(), model.len(), "coin count (iteration)");
    assert_eq!(&seen, model);
    assert_eq!(store.coin_count(), model.len() as u64);
    for (op, c) in model {
        assert_eq!(store.get_coin(op).unwrap().as_ref(), Some(c));
    }
    assert_eq!(store.muhash().unwrap(), model_muhash(model));
}

/// Deterministic chain generator: block `h` depends only on the model before it and `h`, so a
/// crashed writer and the checking parent produce identical blocks.
pub struct Block {
    pub height: u32,
    pub hash: Hash256,
    pub spends: Vec<OutPoint>,
    pub creates: Vec<(OutPoint, Coin)>,
}

pub fn make_block(
    model: &Model,
    live: &[OutPoint],
    height: u32,
    variant: u8,
    per_block: usize,
) -> Block {
    let mut seed = [0u8; 32];
    seed[..4].copy_from_slice(&height.to_le_bytes());
    seed[4] = variant;
    let mut rng = ChaCha8Rng::from_seed(seed);
    let hash = sha256(&seed);
    let mut spends = Vec::new();
    if !live.is_empty() {
        for _ in 0..rng.gen_range(0..per_block) {
            let op = live[rng.gen_range(0..live.len())];
            if !spends.contains(&op) {
                spends.push(op);
            }
        }
    }
    let mut creates = Vec::new();
    for i in 0..per_block as u32 {
        let txid = sha256(&[&hash[..], &i.to_le_bytes()].concat());
        creates.push((
            OutPoint { txid, vout: i % 3 },
            random_coin(&mut rng, height),
        ));
    }
    // One intra-block spend: a coin created and spent in the same block.
    if height % 3 == 0 {
        spends.push(creates[0].0);
    }
    debug_assert!(spends
        .iter()
        .all(|s| model.contains_key(s) || creates.iter().any(|(o, _)| o == s)));
    Block {
        height,
        hash,
        spends,
        creates,
    }
}

/// Applies a block to the model (and the live list) the way the store should.
pub fn apply_model(model: &mut Model, live: &mut Vec<OutPoint>, b: &Block) {
    for s in &b.spends {
        model.remove(s);
    }
    for (op, c) in &b.creates {
        if !b.spends.contains(op) {
            model.insert(*op, c.clone());
        }
    }
    live.retain(|o| model.contains_key(o));
    for (op, _) in &b.creates {
        if model.contains_key(op) {
            live.push(*op);
        }
    }
}

/// The chain the crash tests write: block h, with every 5th block first connected in variant
/// 1, disconnected, then replaced by variant 0 (a one-block reorg).
pub fn chain_model(upto: u32, per_block: usize) -> Model {
    let mut model = Model::new();
    let mut live = Vec::new();
    for h in 0..=upto {
        let b = make_block(&model, &live, h, 0, per_block);
        apply_model(&mut model, &mut live, &b);
    }
    model
}
