//! Core's script interpreter (`btck_script_pubkey_verify`) for script differential tests.

use bitcoinkernel::prelude::*;
use bitcoinkernel::{
    verify, KernelError, PrecomputedTransactionData, ScriptPubkey, ScriptVerifyError, Transaction,
    TxOut,
};

use crate::OracleError;

/// Consensus script-verification flags understood by the kernel (Core's `SCRIPT_VERIFY_*`).
pub mod flags {
    pub const NONE: u32 = bitcoinkernel::VERIFY_NONE;
    pub const P2SH: u32 = bitcoinkernel::VERIFY_P2SH;
    pub const DERSIG: u32 = bitcoinkernel::VERIFY_DERSIG;
    pub const NULLDUMMY: u32 = bitcoinkernel::VERIFY_NULLDUMMY;
    pub const CHECKLOCKTIMEVERIFY: u32 = bitcoinkernel::VERIFY_CHECKLOCKTIMEVERIFY;
    pub const CHECKSEQUENCEVERIFY: u32 = bitcoinkernel::VERIFY_CHECKSEQUENCEVERIFY;
    pub const WITNESS: u32 = bitcoinkernel::VERIFY_WITNESS;
    pub const TAPROOT: u32 = bitcoinkernel::VERIFY_TAPROOT;
    /// Everything except taproot.
    pub const ALL_PRE_TAPROOT: u32 = bitcoinkernel::VERIFY_ALL_PRE_TAPROOT;
    /// Every consensus flag (what a post-taproot block is checked with).
    pub const ALL: u32 = bitcoinkernel::VERIFY_ALL;
}

/// A previous output spent by the transaction being verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpentOutput {
    pub value: i64,
    pub script_pubkey: Vec<u8>,
}

/// Verifies input `input_index` of `tx_bytes` spending `spent_script` worth `amount` under
/// `flags`. `spent_outputs` are the outputs spent by *all* inputs (required with
/// [`flags::TAPROOT`]; may be empty otherwise).
///
/// Returns `Ok(true)` if the script passes, `Ok(false)` if Core's interpreter rejects it.
///
/// # Errors
/// Undecodable transaction, index out of range, invalid flags, or missing/miscounted spent
/// outputs: misuse of the API, never a script verdict.
pub fn verify_input(
    spent_script: &[u8],
    amount: i64,
    tx_bytes: &[u8],
    spent_outputs: &[SpentOutput],
    input_index: usize,
    flags: u32,
) -> Result<bool, OracleError> {
    let tx = Transaction::new(tx_bytes).map_err(|e| OracleError::TxDecode(e.to_string()))?;
    let inputs = tx.input_count();
    if input_index >= inputs {
        return Err(OracleError::InputIndex {
            index: input_index,
            inputs,
        });
    }
    if !spent_outputs.is_empty() && spent_outputs.len() != inputs {
        return Err(OracleError::SpentOutputsCount {
            given: spent_outputs.len(),
            inputs,
        });
    }
    let script = ScriptPubkey::new(spent_script)?;
    let outs = spent_outputs
        .iter()
        .map(|o| ScriptPubkey::new(&o.script_pubkey).map(|s| TxOut::new(&s, o.value)))
        .collect::<Result<Vec<_>, _>>()?;
    let txdata = PrecomputedTransactionData::new(&tx, &outs)?;
    match verify(
        &script,
        Some(amount),
        &tx,
        input_index,
        Some(flags),
        &txdata,
    ) {
        Ok(()) => Ok(true),
        Err(KernelError::ScriptVerify(e)) => match e {
            ScriptVerifyError::Invalid => Ok(false),
            ScriptVerifyError::TxInputIndex => Err(OracleError::InputIndex {
                index: input_index,
                inputs,
            }),
            ScriptVerifyError::InvalidFlags => Err(OracleError::InvalidFlags(flags)),
            ScriptVerifyError::InvalidFlagsCombination => {
                Err(OracleError::InvalidFlagsCombination(flags))
            }
            ScriptVerifyError::SpentOutputsRequired => Err(OracleError::SpentOutputsRequired),
        },
        Err(e) => Err(e.into()),
    }
}
