//! Real mainnet blocks 0..=438 through CheckBlock, ContextualCheckBlock and the spend checks,
//! and mutated copies rejected with Core's reasons.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sluice_consensus::block::Block;
use sluice_consensus::chain::block_check::{
    block_merkle_root, check_block_with, CheckBlockOptions,
};
use sluice_consensus::chain::tx_inputs::{bip30_applies, check_bip30, check_block_spends};
use sluice_consensus::chain::{
    check_block, contextual_check_block, AncestorView, BlockError, HeaderChain, HeaderError, Params,
};
use sluice_consensus::coin::{Coin, OutPoint};
use sluice_consensus::encode::write_compact_size;
use std::collections::HashMap;
use std::path::Path;

const NOW: i64 = 1_767_225_600;

fn load_blocks() -> Vec<Vec<u8>> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/chains/mainnet-0-438.blk");
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        assert_eq!(&raw[i..i + 4], &[0xf9, 0xbe, 0xb4, 0xd9]);
        let size = u32::from_le_bytes(raw[i + 4..i + 8].try_into().unwrap()) as usize;
        out.push(raw[i + 8..i + 8 + size].to_vec());
        i += 8 + size;
    }
    out
}

#[test]
fn real_blocks_pass_every_check() {
    let params = Params::mainnet();
    let blocks = load_blocks();
    assert_eq!(blocks.len(), 439);
    let mut chain = HeaderChain::from_genesis(&params);
    let mut utxo: HashMap<OutPoint, Coin> = HashMap::new();
    let mut spending_txs = 0;
    for (height, raw) in blocks.iter().enumerate() {
        let height = height as u32;
        let block = Block::parse(raw).unwrap();
        check_block(&block, &params).unwrap_or_else(|e| panic!("block {height}: {e}"));
        if height == 0 {
            assert_eq!(block.header, params.genesis_header());
        } else {
            contextual_check_block(&block, &chain, &params)
                .unwrap_or_else(|e| panic!("block {height}: {e}"));
            let hash = block.header.block_hash();
            assert!(bip30_applies(&hash, &chain, &params).unwrap());
            check_bip30(&block, |op| utxo.contains_key(op)).unwrap();
            // Coins for the spends, resolved from an in-memory UTXO set of these very blocks.
            let mut spent = Vec::new();
            for tx in block.transactions.iter().skip(1) {
                spending_txs += 1;
                for i in &tx.inputs {
                    spent.push(utxo.get(&i.prevout()).cloned().expect("input exists"));
                }
            }
            let summary = check_block_spends(&block, &spent, &chain, &params)
                .unwrap_or_else(|e| panic!("block {height}: {e}"));
            assert_eq!(summary.fees, 0, "no fees paid this early");
            chain.accept(&block.header, &params, NOW).unwrap();
        }
        // Apply the block to the UTXO set (genesis' output is unspendable in Core, skip it).
        if height > 0 {
            for tx in &block.transactions {
                for i in &tx.inputs {
                    utxo.remove(&i.prevout());
                }
                let txid = tx.txid();
                for (vout, o) in tx.outputs.iter().enumerate() {
                    utxo.insert(
                        OutPoint {
                            txid,
                            vout: vout as u32,
                        },
                        Coin {
                            value: o.value,
                            script_pubkey: o.script_pubkey.to_vec(),
                            height,
                            coinbase: tx.is_coinbase(),
                        },
                    );
                }
            }
        }
    }
    assert_eq!(chain.tip_height(), 438);
    assert!(spending_txs >= 1, "block 170 spends block 9's coinbase");
}

/// Reassembles a block from its header bytes and transaction serialisations.
fn assemble(header: &[u8], txs: &[Vec<u8>]) -> Vec<u8> {
    let mut out = header.to_vec();
    write_compact_size(&mut out, txs.len() as u64);
    for t in txs {
        out.extend_from_slice(t);
    }
    out
}

fn tx_bytes(block: &Block<'_>) -> Vec<Vec<u8>> {
    block
        .transactions
        .iter()
        .map(|t| t.raw().to_vec())
        .collect()
}

/// Sets the header's merkle root to the transactions' root (the PoW then no longer holds).
fn fix_merkle(raw: &mut [u8]) {
    let root = block_merkle_root(&Block::parse(raw).unwrap()).0;
    raw[36..68].copy_from_slice(&root);
}

const NO_POW: CheckBlockOptions = CheckBlockOptions {
    check_pow: false,
    check_merkle_root: true,
};

#[test]
fn mutated_real_blocks_are_rejected() {
    let params = Params::mainnet();
    let blocks = load_blocks();
    // Block 170: coinbase + the first person-to-person payment.
    let b170 = Block::parse(&blocks[170]).unwrap();
    assert_eq!(b170.transactions.len(), 2);
    let txs = tx_bytes(&b170);

    // Bad nonce: high-hash.
    let mut raw = blocks[170].clone();
    raw[76] ^= 1;
    assert_eq!(
        check_block(&Block::parse(&raw).unwrap(), &params),
        Err(BlockError::Header(HeaderError::HighHash))
    );

    // A changed transaction byte under the real header: bad-txnmrklroot.
    let mut t = txs.clone();
    let last = t[1].len() - 5; // inside the last output's script
    t[1][last] ^= 1;
    let raw = assemble(&blocks[170][..80], &t);
    let r = check_block(&Block::parse(&raw).unwrap(), &params);
    assert_eq!(r, Err(BlockError::BadMerkleRoot));
    assert_eq!(r.unwrap_err().to_string(), "bad-txnmrklroot");

    // Duplicated last transaction pair (CVE-2012-2459). Two transactions give no odd level
    // to exploit, so build a six-transaction list (its first level has three nodes, the last
    // of which is paired with itself) and append its last pair again: same root, mutated.
    let six = vec![
        txs[0].clone(),
        txs[1].clone(),
        blocks[9][81..].to_vec(),
        blocks[1][81..].to_vec(),
        blocks[2][81..].to_vec(),
        blocks[3][81..].to_vec(),
    ];
    let mut base = assemble(&blocks[170][..80], &six);
    fix_merkle(&mut base);
    let mut dup = six.clone();
    dup.push(six[4].clone());
    dup.push(six[5].clone());
    let dup_raw = assemble(&base[..80], &dup);
    let dup_block = Block::parse(&dup_raw).unwrap();
    assert_eq!(
        block_merkle_root(&dup_block).0,
        Block::parse(&base).unwrap().header.merkle_root
    );
    let r = check_block_with(&dup_block, &params, NO_POW);
    assert_eq!(r, Err(BlockError::DuplicateTx));
    assert_eq!(r.unwrap_err().to_string(), "bad-txns-duplicate");
    // The undup'd six-transaction list fails later, on its extra coinbases.
    assert_eq!(
        check_block_with(&Block::parse(&base).unwrap(), &params, NO_POW),
        Err(BlockError::CoinbaseMultiple)
    );

    // Extra coinbase appended (merkle root recomputed).
    let mut t = txs.clone();
    t.push(blocks[5][81..].to_vec());
    let mut raw = assemble(&blocks[170][..80], &t);
    fix_merkle(&mut raw);
    let r = check_block_with(&Block::parse(&raw).unwrap(), &params, NO_POW);
    assert_eq!(r, Err(BlockError::CoinbaseMultiple));
    assert_eq!(r.unwrap_err().to_string(), "bad-cb-multiple");

    // Coinbase moved out of first place.
    let t = vec![txs[1].clone(), txs[0].clone()];
    let mut raw = assemble(&blocks[170][..80], &t);
    fix_merkle(&mut raw);
    assert_eq!(
        check_block_with(&Block::parse(&raw).unwrap(), &params, NO_POW),
        Err(BlockError::CoinbaseMissing)
    );

    // Oversized: a > 1 MB non-witness transaction.
    // Rebuild block 170's spend with one output holding a 1,000,001-byte script.
    let mut big = txs[1].clone();
    let n_out_at = {
        let b = Block::parse(&blocks[170]).unwrap();
        let t = &b.transactions[1];
        t.raw().len() - 4 - t.outputs.iter().map(|o| o.raw.len()).sum::<usize>() - 1
    };
    big.truncate(n_out_at);
    big.push(1);
    big.extend_from_slice(&0i64.to_le_bytes());
    let script = vec![0x61u8; 1_000_001];
    write_compact_size(&mut big, script.len() as u64);
    big.extend_from_slice(&script);
    big.extend_from_slice(&0u32.to_le_bytes());
    let t = vec![txs[0].clone(), big];
    let mut raw = assemble(&blocks[170][..80], &t);
    fix_merkle(&mut raw);
    let r = check_block_with(&Block::parse(&raw).unwrap(), &params, NO_POW);
    assert_eq!(r, Err(BlockError::BadLength));
    assert_eq!(r.unwrap_err().to_string(), "bad-blk-length");
}

#[test]
fn spending_unknown_amounts_is_caught_on_real_block_170() {
    let params = Params::mainnet();
    let blocks = load_blocks();
    let mut chain = HeaderChain::from_genesis(&params);
    for raw in &blocks[1..170] {
        chain
            .accept(&Block::parse(raw).unwrap().header, &params, NOW)
            .unwrap();
    }
    let b = Block::parse(&blocks[170]).unwrap();
    let b9 = Block::parse(&blocks[9]).unwrap();
    let coin = Coin {
        value: b9.transactions[0].outputs[0].value,
        script_pubkey: b9.transactions[0].outputs[0].script_pubkey.to_vec(),
        height: 9,
        coinbase: true,
    };
    assert!(check_block_spends(&b, std::slice::from_ref(&coin), &chain, &params).is_ok());
    // Pretend the coin was created at 71: 170 - 71 = 99 < 100.
    let young = Coin {
        height: 71,
        ..coin.clone()
    };
    assert_eq!(
        check_block_spends(&b, &[young], &chain, &params)
            .unwrap_err()
            .to_string(),
        "bad-txns-premature-spend-of-coinbase"
    );
    let poor = Coin {
        value: 1,
        ..coin.clone()
    };
    assert_eq!(
        check_block_spends(&b, &[poor], &chain, &params)
            .unwrap_err()
            .to_string(),
        "bad-txns-in-belowout"
    );
    assert_eq!(
        check_block_spends(&b, &[], &chain, &params),
        Err(BlockError::InputsMissing)
    );
    // BIP30: an unspent coin at one of the block's new outpoints.
    assert_eq!(check_bip30(&b, |_| true), Err(BlockError::Bip30));
    assert_eq!(chain.get(170 - 1).unwrap().hash, b.header.prev_blockhash);
}
