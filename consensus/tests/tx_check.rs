//! One case per CheckTransaction rule, each named by Core's reject reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{build_tx, report, TxIn, TxOut};
use sluice_consensus::coin::MAX_MONEY;
use sluice_consensus::tx::Transaction;
use sluice_consensus::tx_check::{check_transaction, TxCheckError};

fn input(txid_byte: u8, vout: u32, script_sig: Vec<u8>) -> TxIn {
    TxIn {
        prev_txid: [txid_byte; 32],
        vout,
        script_sig,
        sequence: u32::MAX,
        witness: vec![],
    }
}

fn out(value: i64) -> TxOut {
    TxOut {
        value,
        script_pubkey: vec![0x51],
    }
}

fn check(raw: &[u8]) -> Result<(), TxCheckError> {
    check_transaction(&Transaction::parse_exact(raw).unwrap())
}

#[test]
fn check_transaction_rules() {
    let cases: Vec<(&str, Vec<u8>, Result<(), TxCheckError>)> = vec![
        (
            "ok",
            build_tx(1, &[input(1, 0, vec![])], &[out(1)], 0),
            Ok(()),
        ),
        // A zero-input, zero-output legacy serialisation (Core's extended-format ambiguity).
        (
            "bad-txns-vin-empty",
            hex::decode("01000000000000000000").unwrap(),
            Err(TxCheckError::VinEmpty),
        ),
        (
            "bad-txns-vout-empty",
            build_tx(1, &[input(1, 0, vec![])], &[], 0),
            Err(TxCheckError::VoutEmpty),
        ),
        (
            "bad-txns-oversize",
            build_tx(1, &[input(1, 0, vec![0x6a; 1_000_001])], &[out(1)], 0),
            Err(TxCheckError::Oversize),
        ),
        (
            "bad-txns-vout-negative",
            build_tx(1, &[input(1, 0, vec![])], &[out(-1)], 0),
            Err(TxCheckError::VoutNegative),
        ),
        (
            "bad-txns-vout-toolarge",
            build_tx(1, &[input(1, 0, vec![])], &[out(MAX_MONEY + 1)], 0),
            Err(TxCheckError::VoutTooLarge),
        ),
        (
            "max money ok",
            build_tx(1, &[input(1, 0, vec![])], &[out(MAX_MONEY)], 0),
            Ok(()),
        ),
        (
            "bad-txns-txouttotal-toolarge",
            build_tx(1, &[input(1, 0, vec![])], &[out(MAX_MONEY), out(1)], 0),
            Err(TxCheckError::TxOutTotalTooLarge),
        ),
        (
            "bad-txns-inputs-duplicate",
            build_tx(
                1,
                &[input(1, 0, vec![]), input(1, 0, vec![0x51])],
                &[out(1)],
                0,
            ),
            Err(TxCheckError::InputsDuplicate),
        ),
        (
            "same txid other vout ok",
            build_tx(1, &[input(1, 0, vec![]), input(1, 1, vec![])], &[out(1)], 0),
            Ok(()),
        ),
        (
            "bad-cb-length short",
            build_tx(1, &[input(0, u32::MAX, vec![0x51])], &[out(1)], 0),
            Err(TxCheckError::CoinbaseLength),
        ),
        (
            "bad-cb-length long",
            build_tx(1, &[input(0, u32::MAX, vec![0x51; 101])], &[out(1)], 0),
            Err(TxCheckError::CoinbaseLength),
        ),
        (
            "coinbase 2 ok",
            build_tx(1, &[input(0, u32::MAX, vec![0x51; 2])], &[out(1)], 0),
            Ok(()),
        ),
        (
            "coinbase 100 ok",
            build_tx(1, &[input(0, u32::MAX, vec![0x51; 100])], &[out(1)], 0),
            Ok(()),
        ),
        (
            "bad-txns-prevout-null",
            build_tx(
                1,
                &[input(1, 0, vec![]), input(0, u32::MAX, vec![0x51; 2])],
                &[out(1)],
                0,
            ),
            Err(TxCheckError::PrevoutNull),
        ),
    ];
    let mut failures = Vec::new();
    for (name, raw, want) in &cases {
        let got = check(raw);
        if got != *want {
            failures.push(format!("{name}: got {got:?}, want {want:?}"));
        }
        if let Err(e) = want {
            if !name.starts_with(e.reject_reason()) || e.to_string() != e.reject_reason() {
                failures.push(format!("{name}: reject reason {}", e.reject_reason()));
            }
        }
    }
    report("CheckTransaction", cases.len(), &failures);
}
