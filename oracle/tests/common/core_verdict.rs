//! Bitcoin Core's verdict on a generated case, from the kernel's script `verify`.

use bitcoinkernel::prelude::*;
use bitcoinkernel::{
    verify, KernelError, PrecomputedTransactionData, ScriptPubkey, ScriptVerifyError, Transaction,
    TxOut,
};

use super::scriptgen::Case;

/// Whether Core's kernel accepts the case's input. A kernel set-up error (bad flags, missing
/// spent outputs) is a bug in the generator, so it panics with the case.
pub fn core_verdict(case: &Case) -> bool {
    let raw = bitcoin::consensus::serialize(&case.tx);
    let tx = Transaction::new(&raw).expect("generated transactions serialize");
    let outs: Vec<TxOut> = case
        .prevouts
        .iter()
        .map(|o| {
            let spk = ScriptPubkey::new(o.script_pubkey.as_bytes()).expect("script");
            TxOut::new(&spk, i64::try_from(o.value.to_sat()).expect("amount"))
        })
        .collect();
    let pre = PrecomputedTransactionData::new(&tx, &outs).expect("precompute");
    let spent = &outs[case.input];
    match verify(
        &spent.script_pubkey(),
        Some(spent.value()),
        &tx,
        case.input,
        Some(case.flags),
        &pre,
    ) {
        Ok(()) => true,
        Err(KernelError::ScriptVerify(ScriptVerifyError::Invalid)) => false,
        Err(e) => panic!("kernel set-up error {e:?} for case\n{}", case.hex()),
    }
}
