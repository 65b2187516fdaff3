//! Every input of real mainnet blocks verifies with the consensus flags of its height; flipping
//! one byte of one signature makes exactly that input fail. Both hold with ECDSA checks
//! deferred and verified by every backend (libsecp256k1, portable lanes, IFMA where present),
//! and the deferred path gives the in-place path's verdict and error for every input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{data, report};
use sluice_consensus::block::Block;
use sluice_consensus::encode::Reader;
use sluice_consensus::keycache::PubkeyCache;
use sluice_consensus::script::deferred::{verify_ecdsa_items, verify_input_with_backend};
use sluice_consensus::script::sigops::sigop_cost;
use sluice_consensus::script::{
    verify_input_cached, verify_input_deferring, Deferral, ScriptFlags,
};
use sluice_consensus::sigcheck::{verify_schnorr, SchnorrItem, SchnorrMode};
use sluice_consensus::sighash::{PrecomputedTxData, SpentOutput};
use sluice_consensus::tx::Transaction;
use sluice_consensus::tx_check::check_transaction;

/// Spent outputs in block input order (coinbase skipped).
fn spent_json(name: &str) -> Vec<(i64, Vec<u8>)> {
    let v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data().join(format!("blocks/{name}.spent.json"))).unwrap(),
    )
    .unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["txout"]["value"].as_i64().unwrap(),
                hex::decode(e["txout"]["script_pubkey"].as_str().unwrap()).unwrap(),
            )
        })
        .collect()
}

fn spent_undo(name: &str) -> Vec<(i64, Vec<u8>)> {
    let raw = std::fs::read(data().join(format!("blocks/{name}.undo"))).unwrap();
    let mut r = Reader::new(&raw);
    let mut out = Vec::new();
    while r.remaining() > 0 {
        let v = r.read_i64_le().unwrap();
        let s = r.read_var_bytes().unwrap().to_vec();
        out.push((v, s));
    }
    out
}

/// Offset in `raw` of a byte inside a signature of input `i`, if the input carries one.
fn signature_byte(tx: &Transaction<'_>, i: usize) -> Option<usize> {
    let raw = tx.raw();
    let base = raw.as_ptr() as usize;
    let input = &tx.inputs[i];
    let mut pc = 0;
    let s = input.script_sig;
    while pc < s.len() {
        let Ok((_, data)) = sluice_consensus::script::read_op(s, &mut pc) else {
            break;
        };
        if (9..=73).contains(&data.len()) && data[0] == 0x30 {
            return Some(data.as_ptr() as usize - base + 6);
        }
    }
    let items: Vec<&[u8]> = input.witness.iter().collect();
    for item in &items {
        if (9..=73).contains(&item.len()) && item[0] == 0x30 {
            return Some(item.as_ptr() as usize - base + 6);
        }
    }
    // Taproot key path: one 64/65-byte item (an annex may follow).
    if let Some(first) = items.first() {
        if (items.len() == 1 || (items.len() == 2 && items[1].first() == Some(&0x50)))
            && (64..=65).contains(&first.len())
        {
            return Some(first.as_ptr() as usize - base + 10);
        }
    }
    None
}

/// Each input's error (`None`: valid), in place; for the inputs `deferred_too` selects, with
/// ECDSA deferred to every backend the results must be the same (a difference is reported as
/// that input's error). One input at a time through a lane backend is slow (a whole lane group
/// for one check), hence the selection.
fn verify_all(
    tx: &Transaction<'_>,
    spent: &[SpentOutput<'_>],
    flags: ScriptFlags,
    keys: &PubkeyCache,
    deferred_too: impl Fn(usize) -> bool,
) -> Vec<Option<String>> {
    let pre = PrecomputedTxData::new(tx, spent);
    (0..tx.inputs.len())
        .map(|i| {
            let direct =
                verify_input_cached(tx, i, spent, &pre, flags, SchnorrMode::Verify, Some(keys))
                    .err();
            let backends = if deferred_too(i) {
                common::ecdsa_backends()
            } else {
                Vec::new()
            };
            for b in backends {
                let deferred = verify_input_with_backend(tx, i, spent, &pre, flags, b, Some(keys))
                    .err()
                    .map(|e| e.to_string());
                if deferred != direct.map(|e| e.to_string()) {
                    return Some(format!(
                        "deferred to {b:?}: {deferred:?}, in place {direct:?}"
                    ));
                }
            }
            direct.map(|e| e.name().to_owned())
        })
        .collect()
}

fn run_block(name: &str, height: u32, spent_all: &[(i64, Vec<u8>)], flip_every: usize) {
    let bytes = std::fs::read(data().join(format!("blocks/{name}.block"))).unwrap();
    let block = Block::parse(&bytes).unwrap();
    let flags = ScriptFlags::mainnet_block_flags(height, &block.header.block_hash());
    let mut failures = Vec::new();
    let mut total = 0usize;
    let mut cursor = 0usize;
    let mut flips = 0usize;
    let mut sig_inputs = 0usize;
    let mut deferred: Vec<SchnorrItem> = Vec::new();
    let mut ecdsa = Vec::new();
    let mut sigops = 0u64;
    // One key memo for the whole block, as the node's script stage shares one: a flipped
    // signature must still fail with every key already remembered.
    let keys = PubkeyCache::default();
    for (t, tx) in block.transactions.iter().enumerate() {
        if let Err(e) = check_transaction(tx) {
            failures.push(format!("tx {t}: CheckTransaction {e}"));
        }
        if tx.is_coinbase() {
            sigops += sigop_cost(tx, &[], flags);
            continue;
        }
        let owned = &spent_all[cursor..cursor + tx.inputs.len()];
        cursor += tx.inputs.len();
        let spent: Vec<SpentOutput<'_>> = owned
            .iter()
            .map(|(v, s)| SpentOutput {
                value: *v,
                script_pubkey: s,
            })
            .collect();
        sigops += sigop_cost(tx, &spent, flags);
        let pre = PrecomputedTxData::new(tx, &spent);
        for i in 0..tx.inputs.len() {
            total += 1;
            if let Err(e) = verify_input_deferring(
                tx,
                i,
                &spent,
                &pre,
                flags,
                Deferral {
                    schnorr: Some(&mut deferred),
                    ecdsa: Some(&mut ecdsa),
                },
                Some(&keys),
            ) {
                failures.push(format!("tx {t} input {i}: {}", e.name()));
            }
        }
        // Flip one signature byte in a sample of inputs: exactly that input must fail.
        for i in 0..tx.inputs.len() {
            let Some(at) = signature_byte(tx, i) else {
                continue;
            };
            sig_inputs += 1;
            if !sig_inputs.is_multiple_of(flip_every) {
                continue;
            }
            flips += 1;
            total += 1;
            let mut raw = tx.raw().to_vec();
            raw[at] ^= 0x01;
            let (bad, _) = Transaction::parse(&raw).unwrap();
            let results = verify_all(&bad, &spent, flags, &keys, |k| k == i);
            let failing: Vec<usize> = results
                .iter()
                .enumerate()
                .filter(|(_, r)| r.is_some())
                .map(|(k, _)| k)
                .collect();
            if failing != [i] {
                failures.push(format!(
                    "tx {t} input {i}: flipped signature, failing inputs {failing:?}"
                ));
            }
        }
    }
    assert_eq!(cursor, spent_all.len(), "spent outputs not all used");
    total += 1;
    let bad_schnorr = deferred
        .iter()
        .filter(|it| !verify_schnorr(&it.msg, &it.sig, &it.pubkey))
        .count();
    if bad_schnorr != 0 {
        failures.push(format!(
            "{bad_schnorr} of {} deferred Schnorr checks failed",
            deferred.len()
        ));
    }
    // The block's deferred ECDSA checks as one group per backend (as the script stage hands them
    // over); every one holds.
    for b in common::ecdsa_backends() {
        total += 1;
        match verify_ecdsa_items(b, &ecdsa) {
            Ok(bad) if bad.is_empty() => {}
            other => failures.push(format!(
                "{b:?}: deferred ECDSA checks {other:?} of {}",
                ecdsa.len()
            )),
        }
    }
    total += 1;
    // MAX_BLOCK_SIGOPS_COST; every real block has some.
    if sigops == 0 || sigops > 80_000 {
        failures.push(format!("block sigop cost {sigops} out of range"));
    }
    println!(
        "{name}: sigop cost {sigops}, {flips} signature flips, {} deferred Schnorr checks, {} deferred ECDSA checks, {} distinct compressed keys",
        deferred.len(),
        ecdsa.len(),
        keys.len()
    );
    report(name, total, &failures);
}

#[test]
fn mainnet_866342_all_inputs() {
    run_block("mainnet-866342", 866_342, &spent_json("mainnet-866342"), 10);
}

#[test]
fn mainnet_367891_all_inputs() {
    run_block("mainnet-367891", 367_891, &spent_json("mainnet-367891"), 4);
}

#[test]
fn mainnet_300025_all_inputs() {
    run_block("mainnet-300025", 300_025, &spent_undo("mainnet-300025"), 5);
}

/// Blocks 0..=438 carry their own history: every spend in them has its output earlier in the
/// file (block 170 onwards), so the whole run verifies with an in-memory UTXO map.
#[test]
fn mainnet_0_438_spends_verify() {
    use std::collections::HashMap;
    let raw = std::fs::read(data().join("chains/mainnet-0-438.blk")).unwrap();
    let mut utxo: HashMap<([u8; 32], u32), (i64, Vec<u8>)> = HashMap::new();
    let mut at = 0;
    let mut height = 0u32;
    let mut total = 0;
    let mut failures = Vec::new();
    let keys = PubkeyCache::default();
    while at < raw.len() {
        let size = u32::from_le_bytes(raw[at + 4..at + 8].try_into().unwrap()) as usize;
        let block = Block::parse(&raw[at + 8..at + 8 + size]).unwrap();
        let flags = ScriptFlags::mainnet_block_flags(height, &block.header.block_hash());
        for tx in &block.transactions {
            let txid = tx.txid();
            if !tx.is_coinbase() {
                let owned: Vec<(i64, Vec<u8>)> = tx
                    .inputs
                    .iter()
                    .map(|i| {
                        utxo.remove(&(*i.prev_txid, i.prev_vout))
                            .expect("spent output in the file")
                    })
                    .collect();
                let spent: Vec<SpentOutput<'_>> = owned
                    .iter()
                    .map(|(v, s)| SpentOutput {
                        value: *v,
                        script_pubkey: s,
                    })
                    .collect();
                for (i, r) in verify_all(tx, &spent, flags, &keys, |_| true)
                    .into_iter()
                    .enumerate()
                {
                    total += 1;
                    if let Some(e) = r {
                        failures.push(format!("height {height} input {i}: {e}"));
                    }
                }
            }
            for (n, o) in tx.outputs.iter().enumerate() {
                utxo.insert((txid, n as u32), (o.value, o.script_pubkey.to_vec()));
            }
        }
        at += 8 + size;
        height += 1;
    }
    assert!(total > 0);
    report("mainnet 0..=438 spends", total, &failures);
}
