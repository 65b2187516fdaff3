//! Block validity: Core's `CheckBlock` (context-free) and `ContextualCheckBlock`
//! (needs only the ancestor headers, not coins).

use super::ancestors::AncestorView;
use super::block_error::BlockError;
use super::header_check::check_block_header;
use super::locktime::is_final_tx;
use super::params::Params;
use super::signet::check_signet_block_solution;
use crate::block::Block;
use crate::hash::{sha256d, Hash256};
use crate::merkle::merkle_root;
use crate::script::sigops::legacy_tx_sigops;
use crate::tx::{Transaction, WITNESS_SCALE_FACTOR};
use crate::tx_check::{check_transaction, MAX_BLOCK_WEIGHT};

/// Maximum sigop cost of a block (`MAX_BLOCK_SIGOPS_COST`).
pub const MAX_BLOCK_SIGOPS_COST: u64 = 80_000;

/// Smallest output script that can hold a witness commitment (`MINIMUM_WITNESS_COMMITMENT`).
pub const MINIMUM_WITNESS_COMMITMENT: usize = 38;

/// `OP_RETURN`, push 36, then the commitment header `aa21a9ed`.
const WITNESS_COMMITMENT_PREFIX: [u8; 6] = [0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];

/// Which parts of `CheckBlock` to run (Core's `fCheckPOW` / `fCheckMerkleRoot`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckBlockOptions {
    pub check_pow: bool,
    pub check_merkle_root: bool,
}

impl Default for CheckBlockOptions {
    fn default() -> Self {
        Self {
            check_pow: true,
            check_merkle_root: true,
        }
    }
}

/// The transaction merkle root of `block` and whether the tree is mutated (CVE-2012-2459).
#[must_use]
pub fn block_merkle_root(block: &Block<'_>) -> (Hash256, bool) {
    let txids: Vec<Hash256> = block.transactions.iter().map(Transaction::txid).collect();
    merkle_root(&txids)
}

/// The witness merkle root: wtxids, with zero in place of the coinbase's.
#[must_use]
pub fn block_witness_merkle_root(block: &Block<'_>) -> Hash256 {
    let leaves: Vec<Hash256> = block
        .transactions
        .iter()
        .enumerate()
        .map(|(i, t)| if i == 0 { [0; 32] } else { t.wtxid() })
        .collect();
    merkle_root(&leaves).0
}

/// Core's `CheckBlock` with all checks on.
///
/// On signet this includes the block-solution check (`bad-signet-blksig`).
///
/// # Errors
/// The first failing rule, in Core's order.
pub fn check_block(block: &Block<'_>, params: &Params) -> Result<(), BlockError> {
    check_block_with(block, params, CheckBlockOptions::default())
}

/// Core's `CheckBlock` with a choice of the proof-of-work and merkle checks.
///
/// # Errors
/// The first failing rule, in Core's order.
pub fn check_block_with(
    block: &Block<'_>,
    params: &Params,
    opts: CheckBlockOptions,
) -> Result<(), BlockError> {
    if opts.check_pow {
        check_block_header(&block.header, params)?;
        if let Some(challenge) = &params.signet_challenge {
            check_signet_block_solution(block, challenge, params)
                .map_err(|_| BlockError::BadSignetBlockSig)?;
        }
    }
    if opts.check_merkle_root {
        let (root, mutated) = block_merkle_root(block);
        if root != block.header.merkle_root {
            return Err(BlockError::BadMerkleRoot);
        }
        if mutated {
            return Err(BlockError::DuplicateTx);
        }
    }
    let txs = &block.transactions;
    if txs.is_empty()
        || txs.len().saturating_mul(WITNESS_SCALE_FACTOR) > MAX_BLOCK_WEIGHT
        || block.base_size().saturating_mul(WITNESS_SCALE_FACTOR) > MAX_BLOCK_WEIGHT
    {
        return Err(BlockError::BadLength);
    }
    if !txs.first().is_some_and(Transaction::is_coinbase) {
        return Err(BlockError::CoinbaseMissing);
    }
    if txs.iter().skip(1).any(Transaction::is_coinbase) {
        return Err(BlockError::CoinbaseMultiple);
    }
    for tx in txs {
        check_transaction(tx)?;
    }
    let sigops: u64 = txs.iter().map(|t| u64::from(legacy_tx_sigops(t))).sum();
    if sigops.saturating_mul(WITNESS_SCALE_FACTOR as u64) > MAX_BLOCK_SIGOPS_COST {
        return Err(BlockError::TooManySigops);
    }
    Ok(())
}

/// `CScript() << height`: the prefix BIP34 requires of the coinbase scriptSig.
#[must_use]
pub fn bip34_height_push(height: u32) -> Vec<u8> {
    match height {
        0 => vec![0x00],
        1..=16 => vec![0x50 + height as u8],
        _ => {
            // CScriptNum serialisation: little-endian, with a sign byte if the top bit is set.
            let mut num: Vec<u8> = height.to_le_bytes().to_vec();
            while num.last() == Some(&0) {
                num.pop();
            }
            if num.last().is_some_and(|b| b & 0x80 != 0) {
                num.push(0);
            }
            let mut out = Vec::with_capacity(num.len() + 1);
            out.push(num.len() as u8); // at most 5, a direct push
            out.extend_from_slice(&num);
            out
        }
    }
}

/// Index of the coinbase output carrying the witness commitment (the last matching one).
#[must_use]
pub fn witness_commitment_index(block: &Block<'_>) -> Option<usize> {
    let cb = block.transactions.first()?;
    cb.outputs.iter().rposition(|o| {
        o.script_pubkey.len() >= MINIMUM_WITNESS_COMMITMENT
            && o.script_pubkey[..6] == WITNESS_COMMITMENT_PREFIX
    })
}

/// Core's `CheckWitnessMalleation`: with `expect_commitment` (segwit active) a commitment, if
/// present, must match the witness root under a 32-byte reserved value; without one no
/// transaction may carry witness data.
///
/// # Errors
/// `bad-witness-nonce-size`, `bad-witness-merkle-match` or `unexpected-witness`.
pub fn check_witness_malleation(
    block: &Block<'_>,
    expect_commitment: bool,
) -> Result<(), BlockError> {
    if expect_commitment {
        if let Some(pos) = witness_commitment_index(block) {
            let cb = block
                .transactions
                .first()
                .ok_or(BlockError::CoinbaseMissing)?;
            let input = cb.inputs.first().ok_or(BlockError::CoinbaseMissing)?;
            let mut items = input.witness.iter();
            let nonce = match (input.witness.len(), items.next()) {
                (1, Some(item)) if item.len() == 32 => item,
                _ => return Err(BlockError::BadWitnessNonceSize),
            };
            let mut buf = [0u8; 64];
            buf[..32].copy_from_slice(&block_witness_merkle_root(block));
            buf[32..].copy_from_slice(nonce);
            let commitment = sha256d(&buf);
            let script = cb.outputs[pos].script_pubkey;
            if script.get(6..38) != Some(&commitment[..]) {
                return Err(BlockError::BadWitnessMerkleMatch);
            }
            return Ok(());
        }
    }
    if block.transactions.iter().any(Transaction::has_witness) {
        return Err(BlockError::UnexpectedWitness);
    }
    Ok(())
}

/// Core's `ContextualCheckBlock` for `block` extending `view`'s tip: finality at the BIP113
/// cutoff, BIP34 coinbase height, witness commitment, weight. Run after [`check_block`].
///
/// # Errors
/// The first failing rule, in Core's order.
pub fn contextual_check_block<V: AncestorView + ?Sized>(
    block: &Block<'_>,
    view: &V,
    params: &Params,
) -> Result<(), BlockError> {
    let tip = view.tip_height();
    let height = tip.checked_add(1).ok_or(BlockError::BadCoinbaseHeight)?;

    let cutoff = if height >= params.csv_height {
        view.median_time_past(tip)?
    } else {
        i64::from(block.header.time)
    };
    for tx in &block.transactions {
        if !is_final_tx(
            tx.lock_time,
            tx.inputs.iter().map(|i| i.sequence),
            height,
            cutoff,
        ) {
            return Err(BlockError::NonFinal);
        }
    }

    if height >= params.bip34_height {
        let expect = bip34_height_push(height);
        let sig = block
            .transactions
            .first()
            .and_then(|t| t.inputs.first())
            .map_or(&[][..], |i| i.script_sig);
        if !sig.starts_with(&expect) {
            return Err(BlockError::BadCoinbaseHeight);
        }
    }

    check_witness_malleation(block, height >= params.segwit_height)?;

    if block.weight() > MAX_BLOCK_WEIGHT {
        return Err(BlockError::BadWeight);
    }
    Ok(())
}
