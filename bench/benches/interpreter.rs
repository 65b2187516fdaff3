//! Script interpreter throughput on every input of mainnet block 866342, with checkers that skip
//! cryptography (benchmark-only), and single ECDSA / Schnorr input verification through the real
//! `TxSignatureChecker`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sluice_consensus::block::Block;
use sluice_consensus::script::{
    verify_input, verify_script, ExecData, ScriptError, ScriptFlags, SigVersion,
};
use sluice_consensus::sigcheck::{SchnorrMode, SignatureChecker};
use sluice_consensus::sighash::bip143::segwit_v0_sighash;
use sluice_consensus::sighash::legacy::legacy_sighash;
use sluice_consensus::sighash::{PrecomputedTxData, SpentOutput};
use sluice_consensus::tx::Transaction;

/// Accepts every signature without hashing or verifying: interpreter cost only.
struct AcceptAll;

impl SignatureChecker for AcceptAll {
    fn check_ecdsa(&mut self, _: &[u8], _: &[u8], _: &[u8], _: SigVersion) -> bool {
        true
    }
    fn check_schnorr(
        &mut self,
        _: &[u8],
        _: &[u8],
        _: SigVersion,
        _: &ExecData,
    ) -> Result<(), ScriptError> {
        Ok(())
    }
    fn check_lock_time(&self, _: i64) -> bool {
        true
    }
    fn check_sequence(&self, _: i64) -> bool {
        true
    }
}

/// Computes the ECDSA sighash (legacy or BIP143) but skips the curve arithmetic.
struct HashOnly<'t, 'a> {
    tx: &'t Transaction<'a>,
    index: usize,
    amount: i64,
    pre: &'t PrecomputedTxData,
    sink: u8,
}

impl SignatureChecker for HashOnly<'_, '_> {
    fn check_ecdsa(&mut self, sig: &[u8], _: &[u8], code: &[u8], v: SigVersion) -> bool {
        let ht = i32::from(*sig.last().unwrap_or(&1));
        let h = if v == SigVersion::WitnessV0 {
            segwit_v0_sighash(self.tx, self.index, code, self.amount, ht, self.pre)
        } else {
            legacy_sighash(self.tx, self.index, code, ht)
        };
        self.sink ^= h[0];
        true
    }
    fn check_schnorr(
        &mut self,
        _: &[u8],
        _: &[u8],
        _: SigVersion,
        _: &ExecData,
    ) -> Result<(), ScriptError> {
        Ok(())
    }
    fn check_lock_time(&self, _: i64) -> bool {
        true
    }
    fn check_sequence(&self, _: i64) -> bool {
        true
    }
}

fn load() -> (Vec<u8>, Vec<(i64, Vec<u8>)>) {
    let dir = sluice_bench::shared_data_path("blocks");
    let block = std::fs::read(dir.join("mainnet-866342.block")).unwrap();
    let v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("mainnet-866342.spent.json")).unwrap(),
    )
    .unwrap();
    let spent = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["txout"]["value"].as_i64().unwrap(),
                hex::decode(e["txout"]["script_pubkey"].as_str().unwrap()).unwrap(),
            )
        })
        .collect();
    (block, spent)
}

struct Prepared<'a> {
    tx: Transaction<'a>,
    spent: Vec<SpentOutput<'a>>,
    pre: PrecomputedTxData,
}

fn bench(c: &mut Criterion) {
    let (raw, spent_owned) = load();
    let block = Block::parse(&raw).unwrap();
    let flags = ScriptFlags::mainnet_consensus(866_342);
    let mut cursor = 0;
    let mut txs = Vec::new();
    for tx in block.transactions.iter().skip(1) {
        let spent: Vec<SpentOutput<'_>> = spent_owned[cursor..cursor + tx.inputs.len()]
            .iter()
            .map(|(v, s)| SpentOutput {
                value: *v,
                script_pubkey: s,
            })
            .collect();
        cursor += tx.inputs.len();
        let pre = PrecomputedTxData::new(tx, &spent);
        txs.push(Prepared {
            tx: tx.clone(),
            spent,
            pre,
        });
    }
    let n_inputs: usize = txs.iter().map(|p| p.tx.inputs.len()).sum();

    let mut g = c.benchmark_group("interpreter_866342");
    g.throughput(Throughput::Elements(n_inputs as u64));
    g.bench_function("no_crypto", |b| {
        b.iter(|| {
            for p in &txs {
                for (i, input) in p.tx.inputs.iter().enumerate() {
                    let w: Vec<&[u8]> = input.witness.iter().collect();
                    verify_script(
                        input.script_sig,
                        p.spent[i].script_pubkey,
                        &w,
                        flags,
                        &mut AcceptAll,
                    )
                    .unwrap();
                }
            }
        });
    });
    g.bench_function("ecdsa_sighash_no_verify", |b| {
        b.iter(|| {
            let mut sink = 0u8;
            for p in &txs {
                for (i, input) in p.tx.inputs.iter().enumerate() {
                    let w: Vec<&[u8]> = input.witness.iter().collect();
                    let mut ck = HashOnly {
                        tx: &p.tx,
                        index: i,
                        amount: p.spent[i].value,
                        pre: &p.pre,
                        sink: 0,
                    };
                    verify_script(
                        input.script_sig,
                        p.spent[i].script_pubkey,
                        &w,
                        flags,
                        &mut ck,
                    )
                    .unwrap();
                    sink ^= ck.sink;
                }
            }
            sink
        });
    });
    g.finish();

    // The whole block with real cryptography on one thread (Schnorr verified one by one).
    let mut g = c.benchmark_group("block_866342");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n_inputs as u64));
    g.bench_function("verify_all_inputs_single_thread", |b| {
        b.iter(|| {
            for p in &txs {
                for i in 0..p.tx.inputs.len() {
                    verify_input(&p.tx, i, &p.spent, &p.pre, flags, SchnorrMode::Verify).unwrap();
                }
            }
        });
    });
    g.finish();

    // Single-input verification through the real checker.
    // First input whose spent script and witness depth match.
    let first = |pred: &dyn Fn(&[u8], usize) -> bool| {
        txs.iter()
            .find_map(|p| {
                (0..p.tx.inputs.len())
                    .find(|&i| pred(p.spent[i].script_pubkey, p.tx.inputs[i].witness.len()))
                    .map(|i| (p, i))
            })
            .unwrap()
    };
    let (p_wpkh, i_wpkh) = first(&|s, _| s.len() == 22 && s[0] == 0 && s[1] == 20);
    // Key path: a single witness item (script-path spends also pay for the tweak check).
    let (p_tr, i_tr) = first(&|s, w| s.len() == 34 && s[0] == 0x51 && w == 1);
    let mut g = c.benchmark_group("verify_input_single");
    g.bench_function("p2wpkh_ecdsa", |b| {
        b.iter(|| {
            verify_input(
                &p_wpkh.tx,
                i_wpkh,
                &p_wpkh.spent,
                &p_wpkh.pre,
                flags,
                SchnorrMode::Verify,
            )
            .unwrap();
        });
    });
    g.bench_function("p2tr_keypath_schnorr", |b| {
        b.iter(|| {
            verify_input(
                &p_tr.tx,
                i_tr,
                &p_tr.spent,
                &p_tr.pre,
                flags,
                SchnorrMode::Verify,
            )
            .unwrap();
        });
    });
    g.bench_function("p2tr_keypath_deferred", |b| {
        let mut items = Vec::with_capacity(1);
        b.iter(|| {
            items.clear();
            verify_input(
                &p_tr.tx,
                i_tr,
                &p_tr.spent,
                &p_tr.pre,
                flags,
                SchnorrMode::Defer(&mut items),
            )
            .unwrap();
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
