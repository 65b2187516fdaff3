//! Context-free transaction checks (Core's `consensus/tx_check.cpp` `CheckTransaction`).

use std::collections::HashSet;

use crate::coin::{money_range, Amount, MAX_MONEY};
use crate::tx::{Transaction, WITNESS_SCALE_FACTOR};

/// Core's `MAX_BLOCK_WEIGHT`.
pub const MAX_BLOCK_WEIGHT: usize = 4_000_000;

/// A transaction failed `CheckTransaction`; variants carry Core's reject reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TxCheckError {
    #[error("bad-txns-vin-empty")]
    VinEmpty,
    #[error("bad-txns-vout-empty")]
    VoutEmpty,
    #[error("bad-txns-oversize")]
    Oversize,
    #[error("bad-txns-vout-negative")]
    VoutNegative,
    #[error("bad-txns-vout-toolarge")]
    VoutTooLarge,
    #[error("bad-txns-txouttotal-toolarge")]
    TxOutTotalTooLarge,
    #[error("bad-txns-inputs-duplicate")]
    InputsDuplicate,
    #[error("bad-cb-length")]
    CoinbaseLength,
    #[error("bad-txns-prevout-null")]
    PrevoutNull,
}

impl TxCheckError {
    /// Core's reject reason string.
    #[must_use]
    pub fn reject_reason(self) -> &'static str {
        match self {
            Self::VinEmpty => "bad-txns-vin-empty",
            Self::VoutEmpty => "bad-txns-vout-empty",
            Self::Oversize => "bad-txns-oversize",
            Self::VoutNegative => "bad-txns-vout-negative",
            Self::VoutTooLarge => "bad-txns-vout-toolarge",
            Self::TxOutTotalTooLarge => "bad-txns-txouttotal-toolarge",
            Self::InputsDuplicate => "bad-txns-inputs-duplicate",
            Self::CoinbaseLength => "bad-cb-length",
            Self::PrevoutNull => "bad-txns-prevout-null",
        }
    }
}

/// Core's `CheckTransaction`, rules in Core's order.
///
/// # Errors
/// The first [`TxCheckError`] that applies.
pub fn check_transaction(tx: &Transaction<'_>) -> Result<(), TxCheckError> {
    if tx.inputs.is_empty() {
        return Err(TxCheckError::VinEmpty);
    }
    if tx.outputs.is_empty() {
        return Err(TxCheckError::VoutEmpty);
    }
    // Witness excluded: it has not been checked for malleation yet.
    if tx.base_size() * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT {
        return Err(TxCheckError::Oversize);
    }
    let mut total: Amount = 0;
    for out in &tx.outputs {
        if out.value < 0 {
            return Err(TxCheckError::VoutNegative);
        }
        if out.value > MAX_MONEY {
            return Err(TxCheckError::VoutTooLarge);
        }
        // Both terms are within [0, MAX_MONEY], so the sum cannot overflow.
        total += out.value;
        if !money_range(total) {
            return Err(TxCheckError::TxOutTotalTooLarge);
        }
    }
    // Duplicate inputs (CVE-2018-17144).
    let mut seen = HashSet::with_capacity(tx.inputs.len());
    for input in &tx.inputs {
        if !seen.insert((input.prev_txid, input.prev_vout)) {
            return Err(TxCheckError::InputsDuplicate);
        }
    }
    if tx.is_coinbase() {
        let len = tx.inputs[0].script_sig.len();
        if !(2..=100).contains(&len) {
            return Err(TxCheckError::CoinbaseLength);
        }
    } else if tx.inputs.iter().any(|i| i.prevout().is_null()) {
        return Err(TxCheckError::PrevoutNull);
    }
    Ok(())
}
