//! Context-free block checks and the witness commitment on single real mainnet blocks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sluice_consensus::block::Block;
use sluice_consensus::chain::block_check::MAX_BLOCK_SIGOPS_COST;
use sluice_consensus::chain::block_check::{
    check_block_with, check_witness_malleation, witness_commitment_index, CheckBlockOptions,
};
use sluice_consensus::chain::tx_inputs::{check_coinbase_amount, check_tx_inputs};
use sluice_consensus::chain::{check_block, script_flags, BlockError, Params};
use sluice_consensus::coin::Coin;
use sluice_consensus::script::sigops::sigop_cost;
use sluice_consensus::sighash::SpentOutput;
use std::path::Path;

fn read(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/blocks")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn real_blocks_pass_check_block() {
    let p = Params::mainnet();
    for name in [
        "mainnet-300025.block",
        "mainnet-367891.block",
        "mainnet-866342.block",
    ] {
        let raw = read(name);
        let b = Block::parse(&raw).unwrap();
        check_block(&b, &p).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// The shared copy of 413567 (Core's bench block) carries transactions whose merkle root is not
/// the header's (the `bitcoin` crate agrees; see merkle_blocks.rs). Core would reject it exactly
/// so; every other context-free rule holds for it.
#[test]
fn shared_413567_copy_fails_only_its_merkle_root() {
    let p = Params::mainnet();
    let raw = read("mainnet-413567.block");
    let b = Block::parse(&raw).unwrap();
    assert_eq!(check_block(&b, &p), Err(BlockError::BadMerkleRoot));
    let opts = CheckBlockOptions {
        check_pow: true,
        check_merkle_root: false,
    };
    assert_eq!(check_block_with(&b, &p, opts), Ok(()));
}

#[test]
fn taproot_era_block_witness_commitment() {
    let raw = read("mainnet-866342.block");
    let b = Block::parse(&raw).unwrap();
    assert!(witness_commitment_index(&b).is_some());
    assert_eq!(check_witness_malleation(&b, true), Ok(()));
    // Without segwit the same block carries unexpected witness data.
    assert_eq!(
        check_witness_malleation(&b, false),
        Err(BlockError::UnexpectedWitness)
    );
    // Flip one byte inside some transaction's witness: txids (and so the header's merkle root)
    // are unchanged, but the witness commitment no longer matches.
    let tx = b
        .transactions
        .iter()
        .skip(1)
        .find(|t| t.has_witness())
        .unwrap();
    let item = tx.inputs[0].witness.iter().find(|i| !i.is_empty()).unwrap();
    let offset = item.as_ptr() as usize - raw.as_ptr() as usize;
    let mut tampered = raw.clone();
    tampered[offset] ^= 1;
    let t = Block::parse(&tampered).unwrap();
    assert_eq!(t.header.merkle_root, b.header.merkle_root);
    check_block(&t, &Params::mainnet()).unwrap();
    assert_eq!(
        check_witness_malleation(&t, true),
        Err(BlockError::BadWitnessMerkleMatch)
    );
}

/// The coins a real block spends, from `*.spent.json` (input order, coinbase skipped).
fn spent_coins(name: &str) -> Vec<Coin> {
    let v: serde_json::Value = serde_json::from_slice(&read(name)).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| Coin {
            value: e["txout"]["value"].as_i64().unwrap(),
            script_pubkey: hex::decode(e["txout"]["script_pubkey"].as_str().unwrap()).unwrap(),
            height: u32::try_from(e["creation_height"].as_u64().unwrap()).unwrap(),
            coinbase: e["is_coinbase"].as_bool().unwrap(),
        })
        .collect()
}

#[test]
fn real_fees_sigops_and_coinbase_amount() {
    let p = Params::mainnet();
    for (name, height) in [("866342", 866_342u32), ("367891", 367_891)] {
        let raw = read(&format!("mainnet-{name}.block"));
        let b = Block::parse(&raw).unwrap();
        let coins = spent_coins(&format!("mainnet-{name}.spent.json"));
        let flags = script_flags(height, &b.header.block_hash(), &p);
        let mut rest = coins.as_slice();
        let mut fees = 0;
        let mut cost = sigop_cost(&b.transactions[0], &[], flags);
        for tx in b.transactions.iter().skip(1) {
            let (mine, tail) = rest.split_at(tx.inputs.len());
            rest = tail;
            fees += check_tx_inputs(tx, mine, height).unwrap();
            let spent: Vec<SpentOutput<'_>> = mine
                .iter()
                .map(|c| SpentOutput {
                    value: c.value,
                    script_pubkey: &c.script_pubkey,
                })
                .collect();
            cost += sigop_cost(tx, &spent, flags);
        }
        assert!(rest.is_empty());
        assert!(cost <= MAX_BLOCK_SIGOPS_COST, "{name}: {cost}");
        assert!(fees > 0);
        check_coinbase_amount(&b, fees, height, &p).unwrap();
        // Miners claim every satoshi: one fewer in fees and the coinbase pays too much.
        assert_eq!(
            check_coinbase_amount(&b, fees - 1, height, &p),
            Err(BlockError::BadCoinbaseAmount),
            "{name}"
        );
    }
}
