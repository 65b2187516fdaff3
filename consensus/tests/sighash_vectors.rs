//! Core's sighash.json (legacy sighash) and BIP341's wallet vectors (taproot sighash,
//! precomputed hashes, tweaks, control blocks, a fully signed transaction).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{read_json, report};
use serde_json::Value;
use sluice_consensus::hash::Hash256;
use sluice_consensus::script::verify::{check_tap_tweak, tapbranch_hash, tapleaf_hash};
use sluice_consensus::script::{verify_input, ScriptFlags};
use sluice_consensus::sigcheck::{verify_schnorr, SchnorrItem, SchnorrMode};
use sluice_consensus::sighash::bip341::taproot_sighash;
use sluice_consensus::sighash::legacy::legacy_sighash;
use sluice_consensus::sighash::{PrecomputedTxData, SpentOutput};
use sluice_consensus::tx::Transaction;
use sluice_consensus::tx_check::check_transaction;

fn h32(s: &str) -> Hash256 {
    hex::decode(s).unwrap().try_into().unwrap()
}

#[test]
fn sighash_json() {
    let tests = read_json("core-vectors/sighash.json");
    let mut total = 0;
    let mut failures = Vec::new();
    for t in tests.as_array().unwrap() {
        let t = t.as_array().unwrap();
        if t.len() == 1 {
            continue;
        }
        total += 1;
        let raw = hex::decode(t[0].as_str().unwrap()).unwrap();
        let script = hex::decode(t[1].as_str().unwrap()).unwrap();
        let n_in = t[2].as_u64().unwrap() as usize;
        let hash_type = i32::try_from(t[3].as_i64().unwrap()).unwrap();
        let mut expected = h32(t[4].as_str().unwrap());
        expected.reverse();
        let Ok((tx, _)) = Transaction::parse(&raw) else {
            failures.push(format!("{}: parse", t[0]));
            continue;
        };
        if let Err(e) = check_transaction(&tx) {
            failures.push(format!("{}: CheckTransaction {e}", t[0]));
        }
        let got = legacy_sighash(&tx, n_in, &script, hash_type);
        if got != expected {
            failures.push(format!(
                "{} input {n_in} type {hash_type}: sighash mismatch",
                t[4]
            ));
        }
    }
    report("sighash.json", total, &failures);
}

/// Leaf hashes (depth-first order) and merkle root of a BIP341 vector script tree.
fn tree(node: &Value, leaves: &mut Vec<Hash256>) -> Hash256 {
    if let Some(arr) = node.as_array() {
        let a = tree(&arr[0], leaves);
        let b = tree(&arr[1], leaves);
        tapbranch_hash(&a, &b)
    } else {
        let script = hex::decode(node["script"].as_str().unwrap()).unwrap();
        let ver = u8::try_from(node["leafVersion"].as_u64().unwrap()).unwrap();
        let leaf = tapleaf_hash(ver, &script);
        leaves.push(leaf);
        leaf
    }
}

#[test]
fn bip341_wallet_vectors() {
    let v = read_json("core-vectors/bip341_wallet_vectors.json");
    let mut total = 0;
    let mut failures = Vec::new();

    for (n, case) in v["scriptPubKey"].as_array().unwrap().iter().enumerate() {
        total += 1;
        let internal = hex::decode(case["given"]["internalPubkey"].as_str().unwrap()).unwrap();
        let inter = &case["intermediary"];
        let tweaked = hex::decode(inter["tweakedPubkey"].as_str().unwrap()).unwrap();
        let mut leaves = Vec::new();
        let root = if case["given"]["scriptTree"].is_null() {
            None
        } else {
            Some(tree(&case["given"]["scriptTree"], &mut leaves))
        };
        let want_root = inter["merkleRoot"].as_str().map(h32);
        if root != want_root {
            failures.push(format!("scriptPubKey[{n}]: merkle root"));
        }
        let want_leaves: Vec<Hash256> = inter["leafHashes"]
            .as_array()
            .map(|a| a.iter().map(|x| h32(x.as_str().unwrap())).collect())
            .unwrap_or_default();
        if leaves != want_leaves {
            failures.push(format!("scriptPubKey[{n}]: leaf hashes"));
        }
        let spk = hex::decode(case["expected"]["scriptPubKey"].as_str().unwrap()).unwrap();
        if spk[2..] != tweaked[..] {
            failures.push(format!("scriptPubKey[{n}]: scriptPubKey"));
        }
        // Either parity: exactly one must match the tweaked key.
        let even = check_tap_tweak(&internal, &tweaked, root.as_ref(), false);
        let odd = check_tap_tweak(&internal, &tweaked, root.as_ref(), true);
        if even == odd {
            failures.push(format!(
                "scriptPubKey[{n}]: tweak check even={even} odd={odd}"
            ));
        }
        // Every control block proves its leaf against the output key.
        if let Some(cbs) = case["expected"]["scriptPathControlBlocks"].as_array() {
            for (i, cb) in cbs.iter().enumerate() {
                let cb = hex::decode(cb.as_str().unwrap()).unwrap();
                let k = cb[33..]
                    .chunks(32)
                    .fold(leaves[i], |k, node| tapbranch_hash(&k, node));
                if !check_tap_tweak(&cb[1..33], &tweaked, Some(&k), cb[0] & 1 == 1) {
                    failures.push(format!("scriptPubKey[{n}]: control block {i}"));
                }
            }
        }
    }

    for (n, case) in v["keyPathSpending"].as_array().unwrap().iter().enumerate() {
        let raw = hex::decode(case["given"]["rawUnsignedTx"].as_str().unwrap()).unwrap();
        let (tx, _) = Transaction::parse(&raw).unwrap();
        let utxos: Vec<(Vec<u8>, i64)> = case["given"]["utxosSpent"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                (
                    hex::decode(u["scriptPubKey"].as_str().unwrap()).unwrap(),
                    u["amountSats"].as_i64().unwrap(),
                )
            })
            .collect();
        let spent: Vec<SpentOutput<'_>> = utxos
            .iter()
            .map(|(s, v)| SpentOutput {
                value: *v,
                script_pubkey: s,
            })
            .collect();
        // The unsigned tx has no witness, so force the precomputation.
        let pre = PrecomputedTxData::new_forced(&tx, &spent);
        total += 1;
        let inter = &case["intermediary"];
        let want = [
            inter["hashPrevouts"].as_str().map(h32),
            inter["hashAmounts"].as_str().map(h32),
            inter["hashScriptPubkeys"].as_str().map(h32),
            inter["hashSequences"].as_str().map(h32),
            inter["hashOutputs"].as_str().map(h32),
        ];
        let got = pre.taproot_hashes().unwrap();
        if got.iter().map(|h| Some(*h)).collect::<Vec<_>>() != want {
            failures.push(format!("keyPathSpending[{n}]: precomputed hashes"));
        }
        for input in case["inputSpending"].as_array().unwrap() {
            total += 1;
            let idx = input["given"]["txinIndex"].as_u64().unwrap() as usize;
            let ht = u8::try_from(input["given"]["hashType"].as_u64().unwrap()).unwrap();
            let want = h32(input["intermediary"]["sigHash"].as_str().unwrap());
            match taproot_sighash(&tx, idx, &spent, &pre, ht, None, None) {
                Ok(h) if h == want => {}
                other => failures.push(format!(
                    "keyPathSpending[{n}] input {idx}: sighash {other:?}"
                )),
            }
        }
        // The fully signed transaction verifies input by input, immediately and deferred.
        total += 1;
        let signed = hex::decode(case["auxiliary"]["fullySignedTx"].as_str().unwrap()).unwrap();
        let (stx, _) = Transaction::parse(&signed).unwrap();
        let spre = PrecomputedTxData::new(&stx, &spent);
        let flags = ScriptFlags::mainnet_consensus(800_000);
        let mut items: Vec<SchnorrItem> = Vec::new();
        for i in 0..stx.inputs.len() {
            if let Err(e) = verify_input(&stx, i, &spent, &spre, flags, SchnorrMode::Verify) {
                failures.push(format!(
                    "keyPathSpending[{n}] signed input {i}: {}",
                    e.name()
                ));
            }
            if let Err(e) = verify_input(
                &stx,
                i,
                &spent,
                &spre,
                flags,
                SchnorrMode::Defer(&mut items),
            ) {
                failures.push(format!(
                    "keyPathSpending[{n}] signed input {i} deferred: {}",
                    e.name()
                ));
            }
        }
        let taproot_inputs = utxos
            .iter()
            .filter(|(s, _)| s.len() == 34 && s[0] == 0x51)
            .count();
        if items.len() != taproot_inputs
            || !items
                .iter()
                .all(|it| verify_schnorr(&it.msg, &it.sig, &it.pubkey))
        {
            failures.push(format!(
                "keyPathSpending[{n}]: deferred items {} / {taproot_inputs}",
                items.len()
            ));
        }
    }
    report("bip341_wallet_vectors.json", total, &failures);
}
