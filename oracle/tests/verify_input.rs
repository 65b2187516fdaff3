//! `verify_input` against inputs signed by loadgen's (rust-bitcoin) signer, one per spend type.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bitcoin::consensus::serialize;
use bitcoin::hashes::Hash;
use bitcoin::{
    absolute::LockTime, Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid,
    Witness,
};
use sluice_loadgen::sign::{sign_tx, Spend};
use sluice_loadgen::wallet::{SpendKind, Wallet};
use sluice_oracle::{flags, verify_input, OracleError, SpentOutput};

/// A two-input transaction spending `kind` outputs of keys 3 and 4.
fn signed(wallet: &Wallet, kind: SpendKind) -> (Transaction, Vec<TxOut>) {
    let prevouts: Vec<TxOut> = [3u16, 4]
        .iter()
        .map(|k| TxOut {
            value: Amount::from_sat(100_000 + u64::from(*k)),
            script_pubkey: wallet.spk(kind, *k).clone(),
        })
        .collect();
    let mut tx = Transaction {
        version: bitcoin::transaction::Version::TWO,
        lock_time: LockTime::ZERO,
        input: (0..2u8)
            .map(|i| TxIn {
                previous_output: OutPoint::new(Txid::from_byte_array([i + 1; 32]), u32::from(i)),
                script_sig: ScriptBuf::new(),
                sequence: Sequence::MAX,
                witness: Witness::new(),
            })
            .collect(),
        output: vec![TxOut {
            value: Amount::from_sat(150_000),
            script_pubkey: wallet.spk(SpendKind::P2wpkh, 9).clone(),
        }],
    };
    let spends = [3u16, 4].map(|key| Spend::Wallet { kind, key });
    sign_tx(&mut tx, &prevouts, &spends, wallet, &[7; 32]).unwrap();
    (tx, prevouts)
}

fn spent(prevouts: &[TxOut]) -> Vec<SpentOutput> {
    prevouts
        .iter()
        .map(|o| SpentOutput {
            value: i64::try_from(o.value.to_sat()).unwrap(),
            script_pubkey: o.script_pubkey.to_bytes(),
        })
        .collect()
}

#[test]
fn every_spend_kind_verifies_and_a_flipped_signature_does_not() {
    let wallet = Wallet::new(42);
    for kind in SpendKind::ALL {
        let (tx, prevouts) = signed(&wallet, kind);
        let outs = spent(&prevouts);
        for i in 0..2 {
            let ok = verify_input(
                &outs[i].script_pubkey,
                outs[i].value,
                &serialize(&tx),
                &outs,
                i,
                flags::ALL,
            )
            .unwrap();
            assert!(ok, "{kind:?} input {i} rejected by Core");
        }
        // Flip one bit in the first signature found (witness item or scriptSig byte).
        let mut bad = tx.clone();
        if bad.input[0].witness.is_empty() {
            let mut ss = bad.input[0].script_sig.to_bytes();
            let at = if kind == SpendKind::P2pkh { 10 } else { 12 };
            ss[at] ^= 1;
            bad.input[0].script_sig = ScriptBuf::from_bytes(ss);
        } else {
            let mut items: Vec<Vec<u8>> = bad.input[0].witness.iter().map(<[u8]>::to_vec).collect();
            let sig = items.iter_mut().find(|i| i.len() >= 64).unwrap();
            sig[10] ^= 1;
            bad.input[0].witness = Witness::from_slice(&items);
        }
        let ok = verify_input(
            &outs[0].script_pubkey,
            outs[0].value,
            &serialize(&bad),
            &outs,
            0,
            flags::ALL,
        )
        .unwrap();
        assert!(!ok, "{kind:?}: corrupted signature accepted by Core");
    }
}

#[test]
fn wrong_amount_fails_segwit_but_not_legacy() {
    let wallet = Wallet::new(1);
    let (tx, prevouts) = signed(&wallet, SpendKind::P2wpkh);
    let mut outs = spent(&prevouts);
    outs[0].value += 1;
    let r = verify_input(
        &outs[0].script_pubkey,
        outs[0].value,
        &serialize(&tx),
        &outs,
        0,
        flags::ALL,
    );
    assert!(!r.unwrap(), "BIP143 commits to the amount");
    let (tx, prevouts) = signed(&wallet, SpendKind::P2pkh);
    let outs = spent(&prevouts);
    let r = verify_input(
        &outs[0].script_pubkey,
        outs[0].value + 1,
        &serialize(&tx),
        &outs,
        0,
        flags::ALL_PRE_TAPROOT,
    );
    assert!(r.unwrap(), "legacy sighash does not commit to the amount");
}

#[test]
fn misuse_is_an_error_not_a_verdict() {
    let wallet = Wallet::new(1);
    let (tx, prevouts) = signed(&wallet, SpendKind::P2trKey);
    let outs = spent(&prevouts);
    let bytes = serialize(&tx);
    let spk = &outs[0].script_pubkey;
    assert!(matches!(
        verify_input(spk, 1, &bytes, &outs, 2, flags::ALL),
        Err(OracleError::InputIndex {
            index: 2,
            inputs: 2
        })
    ));
    assert!(matches!(
        verify_input(spk, 1, &[1, 2, 3], &outs, 0, flags::ALL),
        Err(OracleError::TxDecode(_))
    ));
    assert!(matches!(
        verify_input(spk, 1, &bytes, &outs[..1], 0, flags::ALL),
        Err(OracleError::SpentOutputsCount {
            given: 1,
            inputs: 2
        })
    ));
    assert!(matches!(
        verify_input(spk, 1, &bytes, &[], 0, flags::ALL),
        Err(OracleError::SpentOutputsRequired)
    ));
    assert!(matches!(
        verify_input(spk, 1, &bytes, &outs, 0, flags::WITNESS),
        Err(OracleError::InvalidFlagsCombination(_))
    ));
    assert!(matches!(
        verify_input(spk, 1, &bytes, &outs, 0, 1 << 30),
        Err(OracleError::InvalidFlags(_))
    ));
}
