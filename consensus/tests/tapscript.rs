//! BIP341/342 script-path spends signed here: real Schnorr signatures over the tapscript
//! sighash (leaf hash, OP_CODESEPARATOR position, annex), the validation-weight budget, and
//! deferred checks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{build_tx, report, TxIn, TxOut};
use secp256k1::{Keypair, Parity, Scalar, SecretKey};
use sluice_consensus::hash::Hash256;
use sluice_consensus::script::opcodes::{
    OP_0, OP_1, OP_2, OP_CHECKSIG, OP_CHECKSIGADD, OP_CHECKSIGVERIFY, OP_CODESEPARATOR, OP_DROP,
    OP_DUP, OP_NUMEQUAL,
};
use sluice_consensus::script::verify::{tapleaf_hash, TAPROOT_LEAF_TAPSCRIPT};
use sluice_consensus::script::{push_data, verify_input, ScriptFlags};
use sluice_consensus::sigcheck::{verify_schnorr, SchnorrItem, SchnorrMode};
use sluice_consensus::sighash::bip341::{taproot_sighash, TapscriptContext};
use sluice_consensus::sighash::{PrecomputedTxData, SpentOutput};
use sluice_consensus::tx::Transaction;

/// Deferred item count on success, else the script error name.
type Outcome = Result<usize, String>;

struct Spend {
    spk: Vec<u8>,
    control: Vec<u8>,
    leaf: Hash256,
}

fn key(b: u8) -> Keypair {
    Keypair::from_secret_key(&SecretKey::from_secret_bytes([b; 32]).unwrap())
}

fn commit(script: &[u8]) -> Spend {
    let internal = key(3).x_only_public_key().0;
    let leaf = tapleaf_hash(TAPROOT_LEAF_TAPSCRIPT, script);
    let mut pre = internal.to_byte_array().to_vec();
    pre.extend_from_slice(&leaf);
    let tweak = sluice_consensus::hash::tagged_hash(b"TapTweak", &pre);
    let (q, parity) = internal
        .add_tweak(&Scalar::from_be_bytes(tweak).unwrap())
        .unwrap();
    let mut spk = vec![OP_1, 32];
    spk.extend_from_slice(&q.to_byte_array());
    let mut control = vec![TAPROOT_LEAF_TAPSCRIPT | u8::from(parity == Parity::Odd)];
    control.extend_from_slice(&internal.to_byte_array());
    Spend { spk, control, leaf }
}

fn unsigned(witness: Vec<Vec<u8>>) -> Vec<u8> {
    build_tx(
        2,
        &[TxIn {
            prev_txid: [9; 32],
            vout: 1,
            script_sig: vec![],
            sequence: 0xffff_fffe,
            witness,
        }],
        &[TxOut {
            value: 90_000,
            script_pubkey: vec![0x51],
        }],
        0,
    )
}

/// Signs input 0 for `script` (codesep position `codesep`, optional annex) and returns the
/// verification result of the completed transaction.
fn sign_and_verify(
    script: &[u8],
    codesep: u32,
    annex: Option<&[u8]>,
    extra_before_sig: &[Vec<u8>],
    flags: ScriptFlags,
    mode_defer: bool,
) -> Result<usize, String> {
    let s = commit(script);
    let value = 100_000;
    let mut witness: Vec<Vec<u8>> = extra_before_sig.to_vec();
    witness.push(vec![0; 64]);
    witness.push(script.to_vec());
    witness.push(s.control.clone());
    if let Some(a) = annex {
        witness.push(a.to_vec());
    }
    let sig_index = extra_before_sig.len();
    let raw = unsigned(witness.clone());
    let (tx, _) = Transaction::parse(&raw).unwrap();
    let spent = [SpentOutput {
        value,
        script_pubkey: &s.spk,
    }];
    let pre = PrecomputedTxData::new(&tx, &spent);
    let annex_hash = annex.map(|a| {
        let mut v = Vec::new();
        sluice_consensus::encode::write_compact_size(&mut v, a.len() as u64);
        v.extend_from_slice(a);
        sluice_consensus::hash::sha256(&v)
    });
    let ctx = TapscriptContext {
        tapleaf_hash: s.leaf,
        codeseparator_pos: codesep,
    };
    let msg = taproot_sighash(&tx, 0, &spent, &pre, 0, annex_hash.as_ref(), Some(&ctx)).unwrap();
    let sig = secp256k1::schnorr::sign_no_aux_rand(&msg, &key(7));
    witness[sig_index] = sig.as_ref().to_vec();
    let raw = unsigned(witness);
    let (tx, _) = Transaction::parse(&raw).unwrap();
    let pre = PrecomputedTxData::new(&tx, &spent);
    if mode_defer {
        let mut items: Vec<SchnorrItem> = Vec::new();
        verify_input(&tx, 0, &spent, &pre, flags, SchnorrMode::Defer(&mut items))
            .map_err(|e| e.name().to_owned())?;
        if !items
            .iter()
            .all(|i| verify_schnorr(&i.msg, &i.sig, &i.pubkey))
        {
            return Err("deferred item invalid".into());
        }
        Ok(items.len())
    } else {
        verify_input(&tx, 0, &spent, &pre, flags, SchnorrMode::Verify)
            .map_err(|e| e.name().to_owned())?;
        Ok(0)
    }
}

fn pk() -> Vec<u8> {
    key(7).x_only_public_key().0.to_byte_array().to_vec()
}

/// `OP_DUP <pk> OP_CHECKSIGVERIFY` k times, then `<pk> OP_CHECKSIG`: k+1 checks of one signature.
fn repeated_checks(k: usize) -> Vec<u8> {
    let mut s = Vec::new();
    for _ in 0..k {
        s.push(OP_DUP);
        push_data(&mut s, &pk());
        s.push(OP_CHECKSIGVERIFY);
    }
    push_data(&mut s, &pk());
    s.push(OP_CHECKSIG);
    s
}

/// `<prefix> <n> <pk> OP_CHECKSIGADD <want> OP_NUMEQUAL`, with the signature already on the
/// stack below `prefix`.
fn checksigadd(prefix: &[u8], n: u8, key_pk: &[u8], want: u8) -> Vec<u8> {
    let mut s = prefix.to_vec();
    s.push(n);
    push_data(&mut s, key_pk);
    s.extend_from_slice(&[OP_CHECKSIGADD, want, OP_NUMEQUAL]);
    s
}

/// BIP342's OP_CHECKSIGADD: a valid signature adds one, an empty one adds nothing, a non-empty
/// invalid one fails the script (or the deferred batch).
#[test]
fn checksigadd_counts_signatures() {
    let flags = ScriptFlags::mainnet_consensus(900_000);
    let other = key(8).x_only_public_key().0.to_byte_array().to_vec();
    // The signature is dropped and an empty one used instead.
    let empty_sig = [OP_DROP, OP_0];
    let results: Vec<(&str, Outcome, Outcome)> = vec![
        (
            "0 + valid = 1",
            sign_and_verify(
                &checksigadd(&[], OP_0, &pk(), OP_1),
                u32::MAX,
                None,
                &[],
                flags,
                false,
            ),
            Ok(0),
        ),
        (
            "1 + valid = 2, deferred",
            sign_and_verify(
                &checksigadd(&[], OP_1, &pk(), OP_2),
                u32::MAX,
                None,
                &[],
                flags,
                true,
            ),
            Ok(1),
        ),
        (
            "0 + valid is not 0",
            sign_and_verify(
                &checksigadd(&[], OP_0, &pk(), OP_0),
                u32::MAX,
                None,
                &[],
                flags,
                false,
            ),
            Err("EVAL_FALSE".into()),
        ),
        (
            "1 + empty = 1",
            sign_and_verify(
                &checksigadd(&empty_sig, OP_1, &pk(), OP_1),
                u32::MAX,
                None,
                &[],
                flags,
                true,
            ),
            Ok(0),
        ),
        (
            "signature under another key",
            sign_and_verify(
                &checksigadd(&[], OP_0, &other, OP_1),
                u32::MAX,
                None,
                &[],
                flags,
                false,
            ),
            Err("SCHNORR_SIG".into()),
        ),
        (
            "signature under another key, deferred",
            sign_and_verify(
                &checksigadd(&[], OP_0, &other, OP_1),
                u32::MAX,
                None,
                &[],
                flags,
                true,
            ),
            Err("deferred item invalid".into()),
        ),
    ];
    let failures: Vec<String> = results
        .iter()
        .filter(|(_, got, want)| got != want)
        .map(|(name, got, want)| format!("{name}: got {got:?}, want {want:?}"))
        .collect();
    report("OP_CHECKSIGADD", results.len(), &failures);
}

#[test]
fn tapscript_script_path() {
    let flags = ScriptFlags::mainnet_consensus(900_000);
    let single = repeated_checks(0);
    let mut codesep_script = vec![OP_CODESEPARATOR];
    codesep_script.extend_from_slice(&single);
    let mut results: Vec<(&str, Outcome, Outcome)> = vec![
        (
            "single checksig",
            sign_and_verify(&single, u32::MAX, None, &[], flags, false),
            Ok(0),
        ),
        (
            "single checksig deferred",
            sign_and_verify(&single, u32::MAX, None, &[], flags, true),
            Ok(1),
        ),
        // Wrong codesep position in the signed message: invalid signature.
        (
            "codesep position mismatch",
            sign_and_verify(&single, 0, None, &[], flags, false),
            Err("SCHNORR_SIG".into()),
        ),
        // OP_CODESEPARATOR at opcode 0 is committed to.
        (
            "codesep at 0",
            sign_and_verify(&codesep_script, 0, None, &[], flags, false),
            Ok(0),
        ),
        (
            "codesep not committed",
            sign_and_verify(&codesep_script, u32::MAX, None, &[], flags, false),
            Err("SCHNORR_SIG".into()),
        ),
        (
            "annex committed",
            sign_and_verify(&single, u32::MAX, Some(&[0x50, 1, 2]), &[], flags, false),
            Ok(0),
        ),
        // 5 extra checks fit the budget (witness size + 50), 20 do not.
        (
            "5 repeated checks",
            sign_and_verify(&repeated_checks(5), u32::MAX, None, &[], flags, true),
            Ok(6),
        ),
        (
            "20 repeated checks exceed budget",
            sign_and_verify(&repeated_checks(20), u32::MAX, None, &[], flags, false),
            Err("TAPSCRIPT_VALIDATION_WEIGHT".into()),
        ),
        // Without TAPROOT the output is an anyone-can-spend witness v1 program.
        (
            "taproot not active",
            sign_and_verify(
                &repeated_checks(20),
                u32::MAX,
                None,
                &[],
                ScriptFlags::P2SH | ScriptFlags::WITNESS,
                false,
            ),
            Ok(0),
        ),
        // An extra stack element leaves two items: CLEANSTACK is consensus in tapscript.
        (
            "tapscript cleanstack",
            sign_and_verify(&single, u32::MAX, None, &[vec![1]], flags, false),
            Err("CLEANSTACK".into()),
        ),
    ];
    // Budget edge: the annex pads the witness, raising the budget enough for 20 checks.
    let big_annex: Vec<u8> = std::iter::once(0x50)
        .chain(std::iter::repeat_n(0, 400))
        .collect();
    results.push((
        "annex raises budget",
        sign_and_verify(
            &repeated_checks(20),
            u32::MAX,
            Some(&big_annex),
            &[],
            flags,
            true,
        ),
        Ok(21),
    ));
    let mut failures = Vec::new();
    for (name, got, want) in &results {
        if got != want {
            failures.push(format!("{name}: got {got:?}, want {want:?}"));
        }
    }
    report("tapscript", results.len(), &failures);
}
