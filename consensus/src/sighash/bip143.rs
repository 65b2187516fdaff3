//! BIP143 signature hash for segwit v0 inputs.

use super::{
    outputs_sha256, prevouts_sha256, sequences_sha256, HashWriter, PrecomputedTxData,
    SIGHASH_ANYONECANPAY, SIGHASH_NONE, SIGHASH_SINGLE,
};
use crate::coin::Amount;
use crate::hash::{sha256, sha256d, Hash256};
use crate::tx::Transaction;

/// BIP143 signature hash of input `n_in` (which must exist) spending `amount` with
/// `script_code`. Uses `pre`'s hashes when computed, computes them otherwise.
#[must_use]
pub fn segwit_v0_sighash(
    tx: &Transaction<'_>,
    n_in: usize,
    script_code: &[u8],
    amount: Amount,
    hash_type: i32,
    pre: &PrecomputedTxData,
) -> Hash256 {
    let base = hash_type.to_le_bytes()[0] & 0x1f;
    let anyone = hash_type & i32::from(SIGHASH_ANYONECANPAY) != 0;
    let zero = [0u8; 32];
    let hash_prevouts = if anyone {
        zero
    } else {
        pre.hash_prevouts
            .unwrap_or_else(|| sha256(&prevouts_sha256(tx)))
    };
    let hash_sequence = if !anyone && base != SIGHASH_SINGLE && base != SIGHASH_NONE {
        pre.hash_sequence
            .unwrap_or_else(|| sha256(&sequences_sha256(tx)))
    } else {
        zero
    };
    let hash_outputs = if base != SIGHASH_SINGLE && base != SIGHASH_NONE {
        pre.hash_outputs
            .unwrap_or_else(|| sha256(&outputs_sha256(tx)))
    } else if base == SIGHASH_SINGLE && n_in < tx.outputs.len() {
        sha256d(tx.outputs[n_in].raw)
    } else {
        zero
    };
    let Some(input) = tx.inputs.get(n_in) else {
        return super::legacy::SIGHASH_ONE;
    };
    let mut h = HashWriter::new();
    h.write(&tx.version.to_le_bytes())
        .write(&hash_prevouts)
        .write(&hash_sequence)
        .write(input.prev_txid)
        .write(&input.prev_vout.to_le_bytes())
        .write_var_bytes(script_code)
        .write(&amount.to_le_bytes())
        .write(&input.sequence.to_le_bytes())
        .write(&hash_outputs)
        .write(&tx.lock_time.to_le_bytes())
        .write(&hash_type.to_le_bytes());
    h.sha256d()
}
