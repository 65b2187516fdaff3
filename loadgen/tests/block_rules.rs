//! Regtest block-assembly rules, checked with rust-bitcoin's own validators.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bitcoin::hashes::Hash;
use bitcoin::{BlockHash, Target};
use sluice_loadgen::block::{
    assemble, block_time, grind, median_time_past, subsidy, CoinbaseSpec, REGTEST_BITS,
};
use sluice_loadgen::{generate, mutate, read_chain, ChainSpec};

/// BIP34 height as Core encodes it (`CScript() << height`): OP_1..OP_16 for 1..=16, else a
/// minimal push (rust-bitcoin's `bip34_block_height` only reads the latter).
fn bip34(b: &bitcoin::Block) -> u64 {
    let first = b.txdata[0].input[0].script_sig.as_bytes()[0];
    if (0x51..=0x60).contains(&first) {
        u64::from(first - 0x50)
    } else {
        b.bip34_block_height().unwrap()
    }
}

#[test]
fn subsidy_halves_every_150_blocks() {
    assert_eq!(subsidy(0), 50 * 100_000_000);
    assert_eq!(subsidy(149), 50 * 100_000_000);
    assert_eq!(subsidy(150), 25 * 100_000_000);
    assert_eq!(subsidy(299), 25 * 100_000_000);
    assert_eq!(subsidy(300), 1_250_000_000);
    assert_eq!(subsidy(150 * 64), 0);
}

#[test]
fn median_time_past_uses_the_last_eleven() {
    let times: Vec<u32> = (0..20).map(|i| 1000 + i * 10).collect();
    // last 11: 1090..=1190, median 1140
    assert_eq!(median_time_past(&times), 1140);
    assert_eq!(median_time_past(&[5, 1, 3]), 3);
    assert!(block_time(11) > median_time_past(&(0..11).map(block_time).collect::<Vec<_>>()));
}

#[test]
fn assembled_blocks_carry_bip34_height_valid_merkle_and_pow() {
    for height in [1u32, 16, 17, 300] {
        let cb = CoinbaseSpec {
            bip34_height: height,
            value: subsidy(height),
            script_pubkey: bitcoin::ScriptBuf::new_op_return([1u8; 4]),
            commitment_override: None,
        };
        let b = assemble(BlockHash::all_zeros(), block_time(height), &cb, vec![]);
        assert_eq!(bip34(&b), u64::from(height));
        assert!(b.check_merkle_root());
        assert!(b
            .header
            .validate_pow(Target::from_compact(b.header.bits))
            .is_ok());
        assert_eq!(b.header.bits.to_consensus(), REGTEST_BITS);
        let sig_len = b.txdata[0].input[0].script_sig.len();
        assert!(
            (2..=100).contains(&sig_len),
            "coinbase scriptSig {sig_len} bytes"
        );
        let mut bad = b.header;
        grind(&mut bad, false);
        assert!(bad.validate_pow(Target::from_compact(bad.bits)).is_err());
    }
}

#[test]
fn generated_blocks_pass_rust_bitcoin_structure_checks_and_mutants_are_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let chain = tmp.path().join("chain");
    let mut spec = ChainSpec::new("mainnet-mix", 104, 9);
    spec.target_weight = 40_000;
    spec.threads = 2;
    generate(&spec, &chain).unwrap();
    let (_, blocks) = read_chain(&chain).unwrap();
    for (h, b) in blocks.iter().enumerate().skip(1) {
        assert!(b.check_merkle_root(), "block {h}");
        assert!(b.check_witness_commitment(), "block {h}");
        assert_eq!(bip34(b), h as u64);
        assert_eq!(b.header.prev_blockhash, blocks[h - 1].block_hash());
    }
    let a = mutate(&chain, &tmp.path().join("m1")).unwrap();
    let b = mutate(&chain, &tmp.path().join("m2")).unwrap();
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.label, y.label);
        assert_eq!(x.block, y.block);
        assert_eq!(x.twin, y.twin);
    }
}

/// No twin (a mutant with its rule just respected) spends an output twice: a twin must be a
/// valid block, so a double spend would make Core reject it for the wrong reason.
#[test]
fn twins_never_spend_an_output_twice() {
    use bitcoin::consensus::deserialize;
    use std::collections::HashSet;
    for (profile, seed, blocks) in [
        ("legacy", 23, 104),
        ("legacy", 23, 120),
        ("mainnet-mix", 23, 110),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let chain = tmp.path().join("chain");
        generate(&ChainSpec::new(profile, blocks, seed), &chain).unwrap();
        for m in mutate(&chain, &tmp.path().join("m")).unwrap() {
            let Some(twin) = &m.twin else { continue };
            let block: bitcoin::Block = deserialize(twin).unwrap();
            let mut spent = HashSet::new();
            for tx in block.txdata.iter().skip(1) {
                for input in &tx.input {
                    assert!(
                        spent.insert(input.previous_output),
                        "{profile} seed {seed} ({blocks} blocks): twin of {} spends {} twice",
                        m.label.rule,
                        input.previous_output
                    );
                }
            }
        }
    }
}
