//! Deferred ECDSA checks (script::deferred): for every single-signature and multisig template
//! that defers, and every form that must not (a CHECKSIG result read by OP_NOT, OP_NOTIF, a
//! scriptSig's stack, CHECKMULTISIG NOT), with valid, wrong and empty signatures, NULLFAIL off
//! (block validation) and on (policy): the number of checks deferred, and the verdict and error
//! of the deferred path with every verifier backend equal to the in-place interpreter's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{build_tx, TxIn, TxOut};
use ripemd::Ripemd160;
use secp256k1::{Message, PublicKey, SecretKey};
use sha2::{Digest, Sha256};
use sluice_consensus::script::deferred::{verify_input_with_backend, InputCheckError};
use sluice_consensus::script::opcodes::{
    OP_0, OP_1, OP_2, OP_3, OP_CHECKMULTISIG, OP_CHECKMULTISIGVERIFY, OP_CHECKSIG,
    OP_CHECKSIGVERIFY, OP_DUP, OP_ELSE, OP_ENDIF, OP_EQUAL, OP_EQUALVERIFY, OP_HASH160, OP_NOT,
    OP_NOTIF,
};
use sluice_consensus::script::{
    push_data, verify_input, verify_input_deferring, Deferral, ScriptError, ScriptFlags,
};
use sluice_consensus::sigcheck::SchnorrMode;
use sluice_consensus::sighash::bip143::segwit_v0_sighash;
use sluice_consensus::sighash::legacy::legacy_sighash;
use sluice_consensus::sighash::{PrecomputedTxData, SpentOutput};
use sluice_consensus::tx::Transaction;

const AMOUNT: i64 = 50_000;

/// The signatures an input carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sigs {
    /// Each over the right sighash with the right key.
    Valid,
    /// Each a well-formed low-S signature by the right key over another message.
    Wrong,
    /// Each empty.
    Empty,
}

/// A test key (secret 0x11.., 0x12.., …).
fn key(i: u8) -> (SecretKey, Vec<u8>) {
    let sk = SecretKey::from_secret_bytes([0x10 + i; 32]).unwrap();
    let pk = PublicKey::from_secret_key(&sk).serialize().to_vec();
    (sk, pk)
}

fn hash160(b: &[u8]) -> [u8; 20] {
    Ripemd160::digest(Sha256::digest(b)).into()
}

fn script(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn push(b: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    push_data(&mut v, b);
    v
}

fn p2pkh_code(pk: &[u8]) -> Vec<u8> {
    script(&[
        &[OP_DUP, OP_HASH160],
        &push(&hash160(pk)),
        &[OP_EQUALVERIFY, OP_CHECKSIG],
    ])
}

/// Where the signed script runs, and so which sighash signs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    Legacy,
    SegwitV0,
}

/// Builds (scriptSig, witness) from the signatures.
type Complete = Box<dyn Fn(&[Vec<u8>]) -> (Vec<u8>, Vec<Vec<u8>>)>;
/// Per kind of signatures, NULLFAIL off then on: `Ok(n)` accepted with `n` checks deferred,
/// else the error.
type Expect = [(Sigs, Result<usize, ScriptError>, Result<usize, ScriptError>); 3];

/// One spend template: the output, how its input is completed from signatures, the script
/// code the signatures commit to, and the keys that sign (in witness/scriptSig order).
struct Template {
    name: &'static str,
    spk: Vec<u8>,
    version: Version,
    code: Vec<u8>,
    signers: Vec<u8>,
    complete: Complete,
    expect: Expect,
}

fn spend_tx(script_sig: Vec<u8>, witness: Vec<Vec<u8>>) -> Vec<u8> {
    build_tx(
        2,
        &[TxIn {
            prev_txid: [7; 32],
            vout: 0,
            script_sig,
            sequence: 0xffff_fffe,
            witness,
        }],
        &[TxOut {
            value: AMOUNT - 1_000,
            script_pubkey: vec![OP_1],
        }],
        0,
    )
}

/// The signatures of `t`, of kind `kind`.
fn signatures(t: &Template, kind: Sigs) -> Vec<Vec<u8>> {
    // The sighash does not depend on the scriptSig or witness being filled in.
    let raw = spend_tx(Vec::new(), Vec::new());
    let (tx, _) = Transaction::parse(&raw).unwrap();
    let spent = [SpentOutput {
        value: AMOUNT,
        script_pubkey: &t.spk,
    }];
    let pre = PrecomputedTxData::new(&tx, &spent);
    let mut msg = match t.version {
        Version::Legacy => legacy_sighash(&tx, 0, &t.code, 1),
        Version::SegwitV0 => segwit_v0_sighash(&tx, 0, &t.code, AMOUNT, 1, &pre),
    };
    if kind == Sigs::Wrong {
        msg[0] ^= 1;
    }
    t.signers
        .iter()
        .map(|&k| match kind {
            Sigs::Empty => Vec::new(),
            _ => {
                let sig = secp256k1::ecdsa::sign(Message::from_digest(msg), &key(k).0);
                let mut der = sig.serialize_der().to_vec();
                der.push(1);
                der
            }
        })
        .collect()
}

fn templates() -> Vec<Template> {
    let (_, pk1) = key(1);
    let (_, pk2) = key(2);
    let (_, pk3) = key(3);
    let p2wsh = |ws: &[u8]| script(&[&[OP_0], &push(&Sha256::digest(ws))]);
    let p2sh = |redeem: &[u8]| script(&[&[OP_HASH160], &push(&hash160(redeem)), &[OP_EQUAL]]);
    use ScriptError::{CheckMultisigVerify, CheckSigVerify, EvalFalse, SigNullFail};
    use Sigs::{Empty, Valid, Wrong};
    // The usual single-signature outcome of a deferring template.
    let single = [
        (Valid, Ok(1), Ok(1)),
        (Wrong, Err(EvalFalse), Err(SigNullFail)),
        (Empty, Err(EvalFalse), Err(EvalFalse)),
    ];
    // A CHECKSIG result read by the script: a wrong signature may be what makes it valid.
    let consumed = [
        (Valid, Err(EvalFalse), Err(EvalFalse)),
        (Wrong, Ok(0), Err(SigNullFail)),
        (Empty, Ok(0), Ok(0)),
    ];
    let mut v = Vec::new();

    let spk = script(&[&push(&pk1), &[OP_CHECKSIG]]);
    v.push(Template {
        name: "P2PK",
        code: spk.clone(),
        spk,
        version: Version::Legacy,
        signers: vec![1],
        complete: Box::new(|s| (push(&s[0]), vec![])),
        expect: single,
    });

    let pk = pk1.clone();
    v.push(Template {
        name: "P2PKH",
        spk: p2pkh_code(&pk1),
        code: p2pkh_code(&pk1),
        version: Version::Legacy,
        signers: vec![1],
        complete: Box::new(move |s| (script(&[&push(&s[0]), &push(&pk)]), vec![])),
        expect: single,
    });

    let pk = pk1.clone();
    v.push(Template {
        name: "P2WPKH",
        spk: script(&[&[OP_0], &push(&hash160(&pk1))]),
        code: p2pkh_code(&pk1),
        version: Version::SegwitV0,
        signers: vec![1],
        complete: Box::new(move |s| (vec![], vec![s[0].clone(), pk.clone()])),
        expect: single,
    });

    let pk = pk1.clone();
    let redeem = script(&[&[OP_0], &push(&hash160(&pk1))]);
    v.push(Template {
        name: "P2SH-P2WPKH",
        spk: p2sh(&redeem),
        code: p2pkh_code(&pk1),
        version: Version::SegwitV0,
        signers: vec![1],
        complete: Box::new(move |s| (push(&redeem), vec![s[0].clone(), pk.clone()])),
        expect: single,
    });

    let redeem = script(&[&push(&pk1), &[OP_CHECKSIG]]);
    let r = redeem.clone();
    v.push(Template {
        name: "P2SH P2PK",
        spk: p2sh(&redeem),
        code: redeem,
        version: Version::Legacy,
        signers: vec![1],
        complete: Box::new(move |s| (script(&[&push(&s[0]), &push(&r)]), vec![])),
        expect: single,
    });

    let ws = script(&[&push(&pk1), &[OP_CHECKSIGVERIFY, OP_1]]);
    let w = ws.clone();
    v.push(Template {
        name: "P2WSH <k> CHECKSIGVERIFY 1",
        spk: p2wsh(&ws),
        code: ws,
        version: Version::SegwitV0,
        signers: vec![1],
        complete: Box::new(move |s| (vec![], vec![s[0].clone(), w.clone()])),
        expect: [
            (Valid, Ok(1), Ok(1)),
            (Wrong, Err(CheckSigVerify), Err(SigNullFail)),
            (Empty, Err(CheckSigVerify), Err(CheckSigVerify)),
        ],
    });

    let ws = script(&[&push(&pk1), &[OP_CHECKSIG, OP_NOT]]);
    let w = ws.clone();
    v.push(Template {
        name: "P2WSH <k> CHECKSIG NOT (kept in place)",
        spk: p2wsh(&ws),
        code: ws,
        version: Version::SegwitV0,
        signers: vec![1],
        complete: Box::new(move |s| (vec![], vec![s[0].clone(), w.clone()])),
        expect: consumed,
    });

    let ws = script(&[
        &push(&pk1),
        &[OP_CHECKSIG, OP_NOTIF, OP_1, OP_ELSE, OP_0, OP_ENDIF],
    ]);
    let w = ws.clone();
    v.push(Template {
        name: "P2WSH <k> CHECKSIG NOTIF 1 ELSE 0 ENDIF (kept in place)",
        spk: p2wsh(&ws),
        code: ws,
        version: Version::SegwitV0,
        signers: vec![1],
        complete: Box::new(move |s| (vec![], vec![s[0].clone(), w.clone()])),
        expect: consumed,
    });

    // A scriptSig that ends in CHECKSIG: its result feeds the scriptPubKey (here OP_NOT).
    let code = script(&[&push(&pk1), &[OP_CHECKSIG]]);
    let c = code.clone();
    v.push(Template {
        name: "scriptSig <sig> <k> CHECKSIG, scriptPubKey NOT (kept in place)",
        spk: vec![OP_NOT],
        code,
        version: Version::Legacy,
        signers: vec![1],
        complete: Box::new(move |s| (script(&[&push(&s[0]), &c]), vec![])),
        expect: consumed,
    });

    let ws = script(&[&[OP_2], &push(&pk1), &push(&pk2), &[OP_2, OP_CHECKMULTISIG]]);
    let w = ws.clone();
    v.push(Template {
        name: "P2WSH 2-of-2",
        spk: p2wsh(&ws),
        code: ws,
        version: Version::SegwitV0,
        signers: vec![1, 2],
        complete: Box::new(move |s| (vec![], vec![vec![], s[0].clone(), s[1].clone(), w.clone()])),
        expect: [
            (Valid, Ok(2), Ok(2)),
            (Wrong, Err(EvalFalse), Err(SigNullFail)),
            (Empty, Err(EvalFalse), Err(EvalFalse)),
        ],
    });

    let ws = script(&[&[OP_1], &push(&pk1), &push(&pk2), &[OP_2, OP_CHECKMULTISIG]]);
    let w = ws.clone();
    v.push(Template {
        name: "P2WSH 1-of-2 signed by the first key",
        spk: p2wsh(&ws),
        code: ws,
        version: Version::SegwitV0,
        signers: vec![1],
        complete: Box::new(move |s| (vec![], vec![vec![], s[0].clone(), w.clone()])),
        // Keys are tried from the last one pushed: the check against key 2 has a spare key,
        // in place (false); the one against key 1 has none and is deferred.
        expect: [
            (Valid, Ok(1), Ok(1)),
            (Wrong, Err(EvalFalse), Err(SigNullFail)),
            (Empty, Err(EvalFalse), Err(EvalFalse)),
        ],
    });

    let ws = script(&[
        &[OP_2],
        &push(&pk1),
        &push(&pk2),
        &push(&pk3),
        &[OP_3, OP_CHECKMULTISIG],
    ]);
    let w = ws.clone();
    v.push(Template {
        name: "P2WSH 2-of-3 signed by keys 1 and 3",
        spk: p2wsh(&ws),
        code: ws,
        version: Version::SegwitV0,
        signers: vec![1, 3],
        complete: Box::new(move |s| (vec![], vec![vec![], s[0].clone(), s[1].clone(), w.clone()])),
        // From the top: sig3/key3 and sig1/key2 have a spare key (in place: true, false);
        // sig1/key1 has none and is deferred. With wrong signatures sig3/key3 fails in place,
        // then sig3/key2 and sig1/key1 are deferred, and the input fails.
        expect: [
            (Valid, Ok(1), Ok(1)),
            (Wrong, Err(EvalFalse), Err(SigNullFail)),
            (Empty, Err(EvalFalse), Err(EvalFalse)),
        ],
    });

    let ws = script(&[&[OP_1], &push(&pk1), &[OP_1, OP_CHECKMULTISIG, OP_NOT]]);
    let w = ws.clone();
    v.push(Template {
        name: "P2WSH 1-of-1 CHECKMULTISIG NOT (kept in place)",
        spk: p2wsh(&ws),
        code: ws,
        version: Version::SegwitV0,
        signers: vec![1],
        complete: Box::new(move |s| (vec![], vec![vec![], s[0].clone(), w.clone()])),
        expect: consumed,
    });

    let redeem = script(&[&[OP_1], &push(&pk1), &[OP_1, OP_CHECKMULTISIGVERIFY, OP_1]]);
    let r = redeem.clone();
    v.push(Template {
        name: "P2SH 1-of-1 CHECKMULTISIGVERIFY 1",
        spk: p2sh(&redeem),
        code: redeem,
        version: Version::Legacy,
        signers: vec![1],
        complete: Box::new(move |s| (script(&[&[OP_0], &push(&s[0]), &push(&r)]), vec![])),
        expect: [
            (Valid, Ok(1), Ok(1)),
            (Wrong, Err(CheckMultisigVerify), Err(SigNullFail)),
            (Empty, Err(CheckMultisigVerify), Err(CheckMultisigVerify)),
        ],
    });
    v
}

fn block_flags() -> ScriptFlags {
    ScriptFlags::P2SH
        | ScriptFlags::DERSIG
        | ScriptFlags::CHECKLOCKTIMEVERIFY
        | ScriptFlags::CHECKSEQUENCEVERIFY
        | ScriptFlags::WITNESS
        | ScriptFlags::NULLDUMMY
        | ScriptFlags::TAPROOT
}

#[test]
fn every_template_defers_exactly_where_sound_and_matches_in_place() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for t in templates() {
        for (kind, off, on) in &t.expect {
            for (nullfail, expected) in [(false, off), (true, on)] {
                let mut flags = block_flags();
                if nullfail {
                    flags |= ScriptFlags::NULLFAIL;
                }
                let sigs = signatures(&t, *kind);
                let (script_sig, witness) = (t.complete)(&sigs);
                let raw = spend_tx(script_sig, witness);
                let (tx, _) = Transaction::parse(&raw).unwrap();
                let spent = [SpentOutput {
                    value: AMOUNT,
                    script_pubkey: &t.spk,
                }];
                let pre = PrecomputedTxData::new(&tx, &spent);
                let case = format!("{} / {kind:?} / NULLFAIL {nullfail}", t.name);

                let in_place = verify_input(&tx, 0, &spent, &pre, flags, SchnorrMode::Verify);
                let mut items = Vec::new();
                let deferring = verify_input_deferring(
                    &tx,
                    0,
                    &spent,
                    &pre,
                    flags,
                    Deferral {
                        schnorr: None,
                        ecdsa: Some(&mut items),
                    },
                    None,
                );
                // Accepted inputs: the number deferred. Rejected: Core's (in-place) error.
                let outcome = match in_place {
                    Ok(()) => deferring.map(|()| items.len()),
                    Err(e) => Err(e),
                };
                if outcome != *expected {
                    failures.push(format!("{case}: expected {expected:?}, got {outcome:?}"));
                }
                for backend in common::ecdsa_backends() {
                    let got = verify_input_with_backend(&tx, 0, &spent, &pre, flags, backend, None);
                    let want = in_place.map_err(InputCheckError::Script);
                    if got != want {
                        failures.push(format!("{case} / {backend:?}: {got:?}, in place {want:?}"));
                    }
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 14 * 3 * 2);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Checks recorded for an input that then fails for another reason are removed again.
#[test]
fn a_failing_input_leaves_no_deferred_checks() {
    let (_, pk1) = key(1);
    // A valid signature under `<k> CHECKSIGVERIFY 0`: deferred, then the script fails.
    let spk = script(&[&push(&pk1), &[OP_CHECKSIGVERIFY, OP_0]]);
    let t = Template {
        name: "<k> CHECKSIGVERIFY 0",
        code: spk.clone(),
        spk,
        version: Version::Legacy,
        signers: vec![1],
        complete: Box::new(|s| (push(&s[0]), vec![])),
        expect: [(
            Sigs::Valid,
            Err(ScriptError::EvalFalse),
            Err(ScriptError::EvalFalse),
        ); 3],
    };
    let (script_sig, witness) = (t.complete)(&signatures(&t, Sigs::Valid));
    let raw = spend_tx(script_sig, witness);
    let (tx, _) = Transaction::parse(&raw).unwrap();
    let spent = [SpentOutput {
        value: AMOUNT,
        script_pubkey: &t.spk,
    }];
    let pre = PrecomputedTxData::new(&tx, &spent);
    let mut items = vec![];
    let r = verify_input_deferring(
        &tx,
        0,
        &spent,
        &pre,
        block_flags(),
        Deferral {
            schnorr: None,
            ecdsa: Some(&mut items),
        },
        None,
    );
    assert_eq!(r, Err(t.expect[0].1.unwrap_err()));
    assert!(items.is_empty(), "{} left {} checks", t.name, items.len());
}
