//! Parsing real blocks: round trips, sizes, txids against the header's merkle root, and
//! garbage resistance (truncations and byte flips never panic).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use sluice_consensus::block::Block;
use sluice_consensus::encode::DecodeError;
use sluice_consensus::hash::{sha256d, Hash256};
use sluice_consensus::tx::Transaction;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
}

/// Plain scalar merkle root over txids (Core's ComputeMerkleRoot, duplicating odd tails).
fn merkle_root(mut level: Vec<Hash256>) -> Hash256 {
    while level.len() > 1 {
        if level.len() % 2 == 1 {
            level.push(*level.last().unwrap());
        }
        level = level
            .chunks(2)
            .map(|p| {
                let mut b = [0u8; 64];
                b[..32].copy_from_slice(&p[0]);
                b[32..].copy_from_slice(&p[1]);
                sha256d(&b)
            })
            .collect();
    }
    level[0]
}

fn check_block(bytes: &[u8]) -> usize {
    check_block_with(bytes, true)
}

fn check_block_with(bytes: &[u8], check_merkle: bool) -> usize {
    let block = Block::parse(bytes).unwrap();
    let mut rebuilt = block.header_bytes.to_vec();
    sluice_consensus::encode::write_compact_size(&mut rebuilt, block.transactions.len() as u64);
    let mut txids = Vec::new();
    for tx in &block.transactions {
        let mut full = Vec::new();
        tx.write_with_witness(&mut full);
        assert_eq!(full, tx.raw());
        rebuilt.extend_from_slice(&full);
        let mut nw = Vec::new();
        tx.write_non_witness(&mut nw);
        assert_eq!(nw.len(), tx.base_size());
        assert_eq!(&nw[..], &tx.non_witness_bytes()[..]);
        assert_eq!(sha256d(&nw), tx.txid());
        if !tx.has_witness() {
            assert_eq!(tx.txid(), tx.wtxid());
            // The non-witness serialisation parses back to the same view.
            let (again, used) = Transaction::parse(&nw).unwrap();
            assert_eq!(used, nw.len());
            assert_eq!(again.txid(), tx.txid());
        } else {
            let (again, used) = Transaction::parse(&nw).unwrap();
            assert_eq!(used, nw.len());
            assert!(!again.has_witness());
            assert_eq!(again.txid(), tx.txid());
            assert!(tx.weight() < 4 * tx.total_size());
        }
        txids.push(tx.txid());
    }
    assert_eq!(rebuilt, bytes);
    let root = merkle_root(txids);
    assert_eq!(root == block.header.merkle_root, check_merkle);
    assert!(block.transactions[0].is_coinbase());
    assert!(block.weight() <= 4_000_000);
    block.transactions.len()
}

#[test]
fn real_blocks_parse_round_trip_and_match_merkle_root() {
    let mut total = 0;
    for name in ["300025", "367891", "413567", "866342"] {
        let bytes = std::fs::read(data().join(format!("blocks/mainnet-{name}.block"))).unwrap();
        // The shared copy of 413567 (Core's bench block) has a header merkle root that does not
        // commit to its transactions (checked independently in Python); parse and round-trip
        // it, and require the mismatch so a silent data change is noticed.
        total += check_block_with(&bytes, name != "413567");
    }
    assert_eq!(total, 7302);
}

#[test]
fn witness_block_sizes() {
    let bytes = std::fs::read(data().join("blocks/mainnet-866342.block")).unwrap();
    let block = Block::parse(&bytes).unwrap();
    assert_eq!(block.transactions.len(), 4864);
    let inputs: usize = block.transactions.iter().map(|t| t.inputs.len()).sum();
    assert_eq!(inputs, 7973);
    assert!(block.transactions.iter().any(Transaction::has_witness));
    assert!(block.base_size() < block.total_size());
    assert!(block.weight() <= 4_000_000 && block.weight() > 3_000_000);
    // Trailing bytes are rejected by `parse` and reported by `parse_prefix`.
    let mut extra = bytes.clone();
    extra.push(0);
    assert_eq!(Block::parse(&extra), Err(DecodeError::TrailingBytes(1)));
    assert_eq!(Block::parse_prefix(&extra).unwrap().1, bytes.len());
}

#[test]
fn chain_0_438_parses_with_linked_headers() {
    let raw = std::fs::read(data().join("chains/mainnet-0-438.blk")).unwrap();
    let mut at = 0;
    let mut prev = [0u8; 32];
    let mut count = 0;
    while at < raw.len() {
        assert_eq!(&raw[at..at + 4], &[0xf9, 0xbe, 0xb4, 0xd9]);
        let size = u32::from_le_bytes(raw[at + 4..at + 8].try_into().unwrap()) as usize;
        let bytes = &raw[at + 8..at + 8 + size];
        check_block(bytes);
        let block = Block::parse(bytes).unwrap();
        assert_eq!(block.header.prev_blockhash, prev);
        prev = block.header.block_hash();
        at += 8 + size;
        count += 1;
    }
    assert_eq!(count, 439);
}

fn hex_tx(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

#[test]
fn segwit_encoding_rules() {
    // 1 input with a one-item witness.
    let good = hex_tx(concat!(
        "02000000",
        "0001",
        "01",
        "11111111111111111111111111111111111111111111111111111111111111",
        "11",
        "00000000",
        "00",
        "ffffffff",
        "01",
        "0100000000000000",
        "00",
        "01",
        "01",
        "aa",
        "00000000"
    ));
    let (tx, used) = Transaction::parse(&good).unwrap();
    assert_eq!(used, good.len());
    assert!(tx.has_witness());
    assert_eq!(
        tx.inputs[0].witness.iter().collect::<Vec<_>>(),
        vec![&[0xaa][..]]
    );
    assert_eq!(tx.base_size(), good.len() - 2 - 3);
    // Same with an empty witness: superfluous witness record.
    let mut sup = good.clone();
    let n = sup.len();
    sup.splice(n - 7..n - 4, [0u8]);
    assert_eq!(
        Transaction::parse(&sup),
        Err(DecodeError::SuperfluousWitness)
    );
    // Flag 2: unknown optional data.
    let mut flag2 = good.clone();
    flag2[5] = 2;
    assert_eq!(
        Transaction::parse(&flag2).map(|_| ()),
        Err(DecodeError::UnknownOptionalData(2))
    );
    // Flag 3: witness read, then unknown bit remains.
    let mut flag3 = good.clone();
    flag3[5] = 3;
    assert_eq!(
        Transaction::parse(&flag3).map(|_| ()),
        Err(DecodeError::UnknownOptionalData(2))
    );
    // Empty vin followed by a zero "flag": no outputs are read, lock time follows (Core).
    let empty = hex_tx("01000000000000000000");
    let (tx, used) = Transaction::parse(&empty).unwrap();
    assert_eq!(used, 10);
    assert!(tx.inputs.is_empty() && tx.outputs.is_empty());
    let mut out = Vec::new();
    tx.write_with_witness(&mut out);
    assert_eq!(out, empty);
    // Non-minimal CompactSize for the input count.
    let mut noncanon = hex_tx("01000000fd0100");
    noncanon.extend_from_slice(&[0u8; 60]);
    assert_eq!(
        Transaction::parse(&noncanon).map(|_| ()),
        Err(DecodeError::NonCanonicalCompactSize(4))
    );
    // Oversized CompactSize for a script.
    let mut big = good[..4].to_vec();
    big.extend_from_slice(&good[6..6 + 1 + 36]);
    big.extend_from_slice(&[0xfe, 0x01, 0x00, 0x00, 0x02]);
    assert_eq!(
        Transaction::parse(&big).map(|_| ()),
        Err(DecodeError::CompactSizeTooLarge(0x0200_0001))
    );
    // parse_exact rejects trailing bytes.
    let mut trailing = good.clone();
    trailing.push(7);
    assert_eq!(
        Transaction::parse_exact(&trailing).map(|_| ()),
        Err(DecodeError::TrailingBytes(1))
    );
}

#[test]
fn truncations_and_flips_never_panic() {
    let bytes = std::fs::read(data().join("blocks/mainnet-866342.block")).unwrap();
    let block = Block::parse(&bytes).unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut parsed_ok = 0usize;
    for tx in block.transactions.iter().step_by(7) {
        let raw = tx.raw();
        for cut in 0..raw.len() {
            assert!(Transaction::parse(&raw[..cut]).is_err());
        }
        for _ in 0..64 {
            let mut m = raw.to_vec();
            let i = (next() as usize) % m.len();
            m[i] ^= 1 << (next() % 8);
            if let Ok((t, used)) = Transaction::parse(&m) {
                parsed_ok += 1;
                let mut out = Vec::new();
                t.write_with_witness(&mut out);
                assert_eq!(&out[..], &m[..used]);
                let _ = (t.txid(), t.wtxid(), t.weight());
            }
        }
    }
    assert!(parsed_ok > 0);
    for cut in (0..bytes.len()).step_by(997) {
        assert!(Block::parse(&bytes[..cut]).is_err());
    }
}
