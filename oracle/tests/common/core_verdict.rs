//! Bitcoin Core's verdict on a generated case, through the oracle's `verify_input` (the kernel's
//! `btck_script_pubkey_verify`).

use sluice_oracle::{verify_input, SpentOutput};

use super::scriptgen::Case;

/// Whether Core's kernel accepts the case's input. An oracle error (bad flags, missing spent
/// outputs) is a bug in the generator, so it panics with the case.
pub fn core_verdict(case: &Case) -> bool {
    let raw = bitcoin::consensus::serialize(&case.tx);
    let spent: Vec<SpentOutput> = case
        .prevouts
        .iter()
        .map(|o| SpentOutput {
            value: i64::try_from(o.value.to_sat()).expect("amount"),
            script_pubkey: o.script_pubkey.to_bytes(),
        })
        .collect();
    let own = &spent[case.input];
    verify_input(
        &own.script_pubkey,
        own.value,
        &raw,
        &spent,
        case.input,
        case.flags,
    )
    .unwrap_or_else(|e| panic!("kernel set-up error {e:?} for case\n{}", case.hex()))
}
