//! Sluice's verdict on a generated case, from `sluice_consensus::script::verify_input`, with
//! Schnorr signatures both verified in place and deferred to the batch verifier, and with ECDSA
//! checks deferred to every backend this CPU runs: all modes must agree with each other before
//! they are compared with Core.

use sluice_consensus::script::deferred::{verify_input_with_backend, EcdsaBackend};
use sluice_consensus::script::{verify_input, ScriptFlags};
use sluice_consensus::secp::BatchVerifier;
use sluice_consensus::sigcheck::SchnorrMode;
use sluice_consensus::sighash::{PrecomputedTxData, SpentOutput};
use sluice_consensus::tx::Transaction;

use super::scriptgen::Case;

/// Whether Sluice accepts the case's input. Panics (printing the case) when the in-place and
/// batched Schnorr modes disagree, since that is a Sluice bug the comparison with Core could hide.
pub fn sluice_verdict(case: &Case) -> bool {
    let raw = bitcoin::consensus::serialize(&case.tx);
    let tx = Transaction::parse_exact(&raw).expect("generated transactions parse");
    let spent: Vec<SpentOutput<'_>> = case
        .prevouts
        .iter()
        .map(|o| SpentOutput {
            value: i64::try_from(o.value.to_sat()).expect("amount"),
            script_pubkey: o.script_pubkey.as_bytes(),
        })
        .collect();
    let pre = PrecomputedTxData::new(&tx, &spent);
    let flags = ScriptFlags(case.flags);
    let direct = verify_input(&tx, case.input, &spent, &pre, flags, SchnorrMode::Verify).is_ok();
    let mut items = Vec::new();
    let deferred = verify_input(
        &tx,
        case.input,
        &spent,
        &pre,
        flags,
        SchnorrMode::Defer(&mut items),
    )
    .is_ok()
        && {
            let mut batch = BatchVerifier::new();
            for it in &items {
                batch.push(it.msg, it.pubkey, it.sig);
            }
            batch.verify([0x42; 32]).is_ok()
        };
    assert_eq!(
        direct,
        deferred,
        "Sluice's direct and batched Schnorr modes disagree on\n{}",
        case.hex()
    );
    for backend in EcdsaBackend::ALL {
        if !backend.is_available() {
            continue;
        }
        let r = verify_input_with_backend(&tx, case.input, &spent, &pre, flags, backend, None);
        assert_eq!(
            direct,
            r.is_ok(),
            "Sluice in place and with ECDSA deferred to {backend:?} disagree ({r:?}) on\n{}",
            case.hex()
        );
    }
    direct
}
