//! Core's tx_valid.json and tx_invalid.json with transaction_tests.cpp semantics: tx_valid lists
//! *excluded* flags, tx_invalid lists the flags to verify with ("BADTX" = CheckTransaction fails).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use common::{parse_script, read_json, report};
use sluice_consensus::script::deferred::{verify_input_with_backend, InputCheckError};
use sluice_consensus::script::{verify_input, ScriptError, ScriptFlags};
use sluice_consensus::sigcheck::SchnorrMode;
use sluice_consensus::sighash::{PrecomputedTxData, SpentOutput};
use sluice_consensus::tx::Transaction;
use sluice_consensus::tx_check::check_transaction;

struct Case {
    prevouts: HashMap<([u8; 32], u32), (Vec<u8>, i64)>,
    raw: Vec<u8>,
    flags: String,
    text: String,
}

fn load(file: &str) -> Vec<Case> {
    let tests = read_json(file);
    let mut out = Vec::new();
    for t in tests.as_array().unwrap() {
        let t = t.as_array().unwrap();
        if !t[0].is_array() {
            continue; // comment
        }
        assert_eq!(t.len(), 3, "bad test {t:?}");
        let mut prevouts = HashMap::new();
        for input in t[0].as_array().unwrap() {
            let input = input.as_array().unwrap();
            let mut txid: [u8; 32] = hex::decode(input[0].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap();
            txid.reverse();
            // Core: uint32_t(getInt<int>()), so -1 is 0xffffffff.
            let vout = u32::try_from(input[1].as_i64().unwrap() & 0xffff_ffff).unwrap();
            let spk = parse_script(input[2].as_str().unwrap());
            let amount = input.get(3).map_or(0, |a| a.as_i64().unwrap());
            prevouts.insert((txid, vout), (spk, amount));
        }
        out.push(Case {
            prevouts,
            raw: hex::decode(t[1].as_str().unwrap()).unwrap(),
            flags: t[2].as_str().unwrap().to_owned(),
            text: serde_json::to_string(t).unwrap(),
        });
    }
    out
}

/// Core's `CheckTxScripts`: Ok when every input verifies, else the first failure.
fn check_scripts(tx: &Transaction<'_>, case: &Case, flags: ScriptFlags) -> Result<(), ScriptError> {
    let spent_owned: Vec<&(Vec<u8>, i64)> = tx
        .inputs
        .iter()
        .map(|i| {
            case.prevouts
                .get(&(*i.prev_txid, i.prev_vout))
                .expect("prevout listed")
        })
        .collect();
    let spent: Vec<SpentOutput<'_>> = spent_owned
        .iter()
        .map(|(s, v)| SpentOutput {
            value: *v,
            script_pubkey: s,
        })
        .collect();
    let pre = PrecomputedTxData::new(tx, &spent);
    for i in 0..tx.inputs.len() {
        let direct = verify_input(tx, i, &spent, &pre, flags, SchnorrMode::Verify);
        // With ECDSA deferred to each backend: the same verdict and error.
        for backend in common::ecdsa_backends() {
            let deferred = verify_input_with_backend(tx, i, &spent, &pre, flags, backend, None);
            assert_eq!(
                deferred,
                direct.map_err(InputCheckError::Script),
                "input {i}, deferred to {backend:?}"
            );
        }
        direct?;
    }
    Ok(())
}

/// Core's `TrimFlags`.
fn trim(mut f: ScriptFlags) -> ScriptFlags {
    if !f.contains(ScriptFlags::P2SH) {
        f = f & !ScriptFlags::WITNESS;
    }
    if !f.contains(ScriptFlags::WITNESS) {
        f = f & !ScriptFlags::CLEANSTACK;
    }
    f
}

/// Core's `FillFlags`.
fn fill(mut f: ScriptFlags) -> ScriptFlags {
    if f.contains(ScriptFlags::CLEANSTACK) {
        f |= ScriptFlags::WITNESS;
    }
    if f.contains(ScriptFlags::WITNESS) {
        f |= ScriptFlags::P2SH;
    }
    f
}

/// Core's `ExcludeIndividualFlags`.
fn exclude_individual(f: ScriptFlags) -> Vec<ScriptFlags> {
    let mut v: Vec<ScriptFlags> = ScriptFlags::ALL_NAMED
        .iter()
        .map(|(_, one)| trim(f & !*one))
        .filter(|x| *x != f)
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn tx_valid_json() {
    let cases = load("core-vectors/tx_valid.json");
    let mut failures = Vec::new();
    for case in &cases {
        let (tx, _) = match Transaction::parse(&case.raw) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{}: parse {e}", case.text));
                continue;
            }
        };
        if let Err(e) = check_transaction(&tx) {
            failures.push(format!("{}: CheckTransaction {e}", case.text));
            continue;
        }
        let excluded = ScriptFlags::parse(&case.flags).unwrap();
        if let Err(e) = check_scripts(&tx, case, !excluded) {
            failures.push(format!("{}: failed with {}", case.text, e.name()));
            continue;
        }
        for (name, f) in ScriptFlags::ALL_NAMED {
            if let Err(e) = check_scripts(&tx, case, trim(!(excluded | *f))) {
                failures.push(format!(
                    "{}: failed with {name} unset: {}",
                    case.text,
                    e.name()
                ));
            }
        }
        for fewer in exclude_individual(excluded) {
            if check_scripts(&tx, case, !fewer).is_ok() {
                failures.push(format!(
                    "{}: too many flags excluded (passes with {:?})",
                    case.text, !fewer
                ));
            }
        }
    }
    report("tx_valid.json", cases.len(), &failures);
}

#[test]
fn tx_invalid_json() {
    let cases = load("core-vectors/tx_invalid.json");
    let mut failures = Vec::new();
    for case in &cases {
        let (tx, _) = match Transaction::parse(&case.raw) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{}: parse {e}", case.text));
                continue;
            }
        };
        if check_transaction(&tx).is_err() {
            if case.flags != "BADTX" {
                failures.push(format!(
                    "{}: CheckTransaction failed but flags are not BADTX",
                    case.text
                ));
            }
            continue;
        }
        if case.flags == "BADTX" {
            failures.push(format!("{}: expected CheckTransaction to fail", case.text));
            continue;
        }
        let flags = ScriptFlags::parse(&case.flags).unwrap();
        if check_scripts(&tx, case, flags).is_ok() {
            failures.push(format!("{}: unexpectedly passed", case.text));
            continue;
        }
        for (name, f) in ScriptFlags::ALL_NAMED {
            if check_scripts(&tx, case, fill(flags | *f)).is_ok() {
                failures.push(format!("{}: passed with {name} added", case.text));
            }
        }
        for fewer in exclude_individual(flags) {
            if let Err(e) = check_scripts(&tx, case, fewer) {
                failures.push(format!(
                    "{}: too many flags set (fails with {fewer:?}: {})",
                    case.text,
                    e.name()
                ));
            }
        }
    }
    report("tx_invalid.json", cases.len(), &failures);
}
