//! Helpers shared by the vector suites: Core's `ParseScript`, data paths, tx building.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use sluice_consensus::encode::write_compact_size;
use sluice_consensus::script::num;
use sluice_consensus::script::opcodes::{opcode_from_name, OP_0, OP_1};
use sluice_consensus::script::push_data;

pub fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
}

pub fn read_json(rel: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(data().join(rel)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Core's `CScript::push_int64`.
pub fn push_int(out: &mut Vec<u8>, n: i64) {
    if n == -1 || (1..=16).contains(&n) {
        out.push(u8::try_from(n + i64::from(OP_1) - 1).unwrap());
    } else if n == 0 {
        out.push(OP_0);
    } else {
        push_data(out, &num::encode(n));
    }
}

/// Core's `ParseScript` (core_io.cpp).
pub fn parse_script(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for w in s.split([' ', '\t', '\n']) {
        if w.is_empty() {
            continue;
        }
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if digits(w) || (w.starts_with('-') && digits(&w[1..])) {
            let n: i64 = w.parse().unwrap();
            assert!(
                (-0xffff_ffff..=0xffff_ffff).contains(&n),
                "number out of range: {w}"
            );
            push_int(&mut out, n);
        } else if w.starts_with("0x") && w.len() > 2 && hex::decode(&w[2..]).is_ok() {
            out.extend_from_slice(&hex::decode(&w[2..]).unwrap());
        } else if w.len() >= 2 && w.starts_with('\'') && w.ends_with('\'') {
            push_data(&mut out, &w.as_bytes()[1..w.len() - 1]);
        } else {
            let op = opcode_from_name(w).unwrap_or_else(|| panic!("unknown opcode {w}"));
            out.push(op);
        }
    }
    out
}

pub struct TxIn {
    pub prev_txid: [u8; 32],
    pub vout: u32,
    pub script_sig: Vec<u8>,
    pub sequence: u32,
    pub witness: Vec<Vec<u8>>,
}

pub struct TxOut {
    pub value: i64,
    pub script_pubkey: Vec<u8>,
}

/// Serialises a transaction (extended format when any witness is non-empty).
pub fn build_tx(version: i32, ins: &[TxIn], outs: &[TxOut], lock_time: u32) -> Vec<u8> {
    let mut v = version.to_le_bytes().to_vec();
    let segwit = ins.iter().any(|i| !i.witness.is_empty());
    if segwit {
        v.extend_from_slice(&[0, 1]);
    }
    write_compact_size(&mut v, ins.len() as u64);
    for i in ins {
        v.extend_from_slice(&i.prev_txid);
        v.extend_from_slice(&i.vout.to_le_bytes());
        write_compact_size(&mut v, i.script_sig.len() as u64);
        v.extend_from_slice(&i.script_sig);
        v.extend_from_slice(&i.sequence.to_le_bytes());
    }
    write_compact_size(&mut v, outs.len() as u64);
    for o in outs {
        v.extend_from_slice(&o.value.to_le_bytes());
        write_compact_size(&mut v, o.script_pubkey.len() as u64);
        v.extend_from_slice(&o.script_pubkey);
    }
    if segwit {
        for i in ins {
            write_compact_size(&mut v, i.witness.len() as u64);
            for w in &i.witness {
                write_compact_size(&mut v, w.len() as u64);
                v.extend_from_slice(w);
            }
        }
    }
    v.extend_from_slice(&lock_time.to_le_bytes());
    v
}

/// Prints "name: N/M passed" and the failures; panics unless all passed.
pub fn report(name: &str, total: usize, failures: &[String]) {
    println!("{name}: {}/{total} passed", total - failures.len());
    for f in failures.iter().take(60) {
        println!("  FAIL {f}");
    }
    assert!(
        failures.is_empty(),
        "{name}: {} of {total} failed",
        failures.len()
    );
}

/// Every ECDSA backend this CPU can run (the deferred-check verifiers).
pub fn ecdsa_backends() -> Vec<sluice_consensus::script::deferred::EcdsaBackend> {
    use sluice_consensus::script::deferred::EcdsaBackend;
    EcdsaBackend::ALL
        .into_iter()
        .filter(|b| b.is_available())
        .collect()
}
