//! Merkle roots of real blocks, with txids computed by `sha256d_many` from transactions that
//! the independent `bitcoin` crate parsed and re-serialised.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use bitcoin::consensus::{deserialize, serialize};
use bitcoin::hashes::Hash as _;
use bitcoin::{Block, Transaction};
use sluice_consensus::hash::{sha256d, sha256d_many_with, Backend, Hash256};
use sluice_consensus::merkle::{merkle_root, merkle_root_with};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
}

/// Blocks whose transactions hash to their header's merkle root.
const BLOCKS: [&str; 3] = [
    "mainnet-300025.block",
    "mainnet-367891.block",
    "mainnet-866342.block",
];

/// The shared copy of block 413567 (Core's bench block) has a valid header (proof of work
/// checks) but transactions whose merkle root differs from it: the `bitcoin` crate's own
/// `check_merkle_root` rejects it too. We check we compute the same root as that oracle.
const ROOT_MISMATCHED_BLOCK: &str = "mainnet-413567.block";

fn load(name: &str) -> Block {
    let path = data_dir().join("blocks").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    deserialize(&bytes).unwrap()
}

fn without_witness(tx: &Transaction) -> Vec<u8> {
    let mut stripped = tx.clone();
    for input in &mut stripped.input {
        input.witness.clear();
    }
    serialize(&stripped)
}

fn backends() -> Vec<Backend> {
    Backend::ALL
        .into_iter()
        .filter(|b| {
            let ok = b.is_available();
            if !ok {
                println!("skipping backend {b:?}: not supported by this CPU");
            }
            ok
        })
        .collect()
}

fn txids(block: &Block, backend: Backend) -> Vec<Hash256> {
    let bytes: Vec<Vec<u8>> = block.txdata.iter().map(without_witness).collect();
    let msgs: Vec<&[u8]> = bytes.iter().map(Vec::as_slice).collect();
    let mut out = vec![[0u8; 32]; msgs.len()];
    sha256d_many_with(backend, &msgs, &mut out).unwrap();
    out
}

#[test]
fn real_block_merkle_roots_match_headers() {
    for name in BLOCKS {
        let block = load(name);
        let expected = block.header.merkle_root.to_byte_array();
        for backend in backends() {
            let ids = txids(&block, backend);
            for (id, tx) in ids.iter().zip(&block.txdata) {
                assert_eq!(*id, tx.compute_txid().to_byte_array(), "{name} {backend:?}");
            }
            let (root, mutated) = merkle_root_with(backend, &ids).unwrap();
            assert_eq!(root, expected, "{name} {backend:?}");
            assert!(!mutated, "{name}: a real block is not mutated");
        }
        assert_eq!(
            merkle_root(&txids(&block, Backend::Scalar)),
            (expected, false)
        );
    }
}

#[test]
fn block_413567_root_matches_bitcoin_crate_but_not_its_header() {
    let block = load(ROOT_MISMATCHED_BLOCK);
    assert!(
        !block.check_merkle_root(),
        "the shared copy of 413567 now matches its header: move it into BLOCKS"
    );
    let expected = block.compute_merkle_root().unwrap().to_byte_array();
    for backend in backends() {
        let ids = txids(&block, backend);
        assert_eq!(
            merkle_root_with(backend, &ids).unwrap(),
            (expected, false),
            "{backend:?}"
        );
    }
}

#[test]
fn real_block_witness_root_matches_bitcoin_crate() {
    let block = load("mainnet-866342.block");
    let bytes: Vec<Vec<u8>> = block.txdata.iter().map(serialize).collect();
    let msgs: Vec<&[u8]> = bytes.iter().map(Vec::as_slice).collect();
    for backend in backends() {
        let mut wtxids = vec![[0u8; 32]; msgs.len()];
        sha256d_many_with(backend, &msgs, &mut wtxids).unwrap();
        for (w, tx) in wtxids.iter().zip(&block.txdata).skip(1) {
            assert_eq!(*w, tx.compute_wtxid().to_byte_array());
        }
        // BIP141: the coinbase's wtxid counts as zero.
        wtxids[0] = [0; 32];
        let (root, _) = merkle_root_with(backend, &wtxids).unwrap();
        assert_eq!(
            root,
            block.witness_root().unwrap().to_byte_array(),
            "{backend:?}"
        );
    }
}

#[test]
fn duplicated_last_transaction_is_flagged_with_same_root() {
    // 413567 has an odd number of transactions (1,557): appending a copy of the last one
    // gives the same root (CVE-2012-2459), which only the mutation flag can tell apart.
    let block = load(ROOT_MISMATCHED_BLOCK);
    let mut ids = txids(&block, Backend::Scalar);
    assert_eq!(ids.len() % 2, 1);
    let (root, mutated) = merkle_root(&ids);
    assert!(
        !mutated,
        "an odd-count tree duplicating its last leaf is not mutated"
    );
    ids.push(*ids.last().unwrap());
    assert_eq!(merkle_root(&ids), (root, true));
}

#[test]
fn duplicated_last_pair_is_flagged_with_same_root() {
    // Six leaves: level 1 has three nodes, its last is duplicated implicitly. Appending the
    // last two leaves again makes that duplication explicit: same root, mutated.
    let block = load("mainnet-866342.block");
    let ids = txids(&block, Backend::Scalar);
    let mut six = ids[..6].to_vec();
    let (root, mutated) = merkle_root(&six);
    assert!(!mutated);
    six.extend_from_slice(&ids[4..6]);
    assert_eq!(merkle_root(&six), (root, true));
    // The full real list is fine.
    assert!(!merkle_root(&ids).1);
}

#[test]
fn equal_hashes_at_odd_even_positions_are_not_a_mutation() {
    // Core compares positions (2k, 2k+1) only: [a, b, b, c] has equal neighbours (1, 2).
    let (a, b, c) = ([1u8; 32], [2u8; 32], [3u8; 32]);
    assert!(!merkle_root(&[a, b, b, c]).1);
    assert!(merkle_root(&[a, b, c, c]).1);
}

#[test]
fn small_trees() {
    assert_eq!(merkle_root(&[]), ([0; 32], false));
    let a = [7u8; 32];
    assert_eq!(merkle_root(&[a]), (a, false));
    let b = [8u8; 32];
    let mut ab = [0u8; 64];
    ab[..32].copy_from_slice(&a);
    ab[32..].copy_from_slice(&b);
    assert_eq!(merkle_root(&[a, b]), (sha256d(&ab), false));
    // Three leaves: the third pairs with itself.
    let mut cc = [0u8; 64];
    cc[..32].copy_from_slice(&b);
    cc[32..].copy_from_slice(&b);
    let mut top = [0u8; 64];
    top[..32].copy_from_slice(&sha256d(&ab));
    top[32..].copy_from_slice(&sha256d(&cc));
    assert_eq!(merkle_root(&[a, b, b]), (sha256d(&top), false));
    for backend in backends() {
        assert_eq!(
            merkle_root_with(backend, &[a, b, b]).unwrap(),
            (sha256d(&top), false)
        );
    }
}
