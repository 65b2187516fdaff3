//! Package `testmempoolaccept` against bitcoind on one chain: generated packages (chains of
//! parents and children, several parents, unsorted, duplicates, conflicts inside the package
//! and with the pool, failures in PreChecks and in scripts at every position, missing
//! inputs, already-known parents, TRUC mixes, oversized packages, cluster limits) through
//! bitcoind's `testmempoolaccept` and `Mempool::test_package`; for every transaction the
//! package error, whether a verdict exists, the verdict, reason, details, vsize and fees
//! must match.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bitcoin::{Amount, TxOut};
use common::{build_with_fee, coins_of, outputs_of, raw, Chain, Shape, Shared, Utxo};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use sluice_bitcoind::Bitcoind;
use sluice_consensus::hash::to_display_hex;
use sluice_loadgen::wallet::SpendKind;
use sluice_mempool::{AcceptArgs, Mempool, MempoolOptions, PackageResult};

const BLOCKS: u32 = 140;
const SEED: u64 = 31;
const PACKAGES: usize = 240;

struct Harness {
    core: Bitcoind,
    chain: Chain,
    pool: Mempool,
    now: i64,
    mismatches: Vec<String>,
    by_outcome: std::collections::BTreeMap<String, usize>,
}

/// Core's amount as satoshis.
fn sat(v: &Value) -> i64 {
    (v.as_f64().unwrap_or(-1.0) * 1e8).round() as i64
}

impl Harness {
    /// Tests `txs` as a package on both sides and compares every transaction's answer.
    fn package(&mut self, label: &str, txs: &[bitcoin::Transaction]) {
        let hexes: Vec<String> = txs.iter().map(|t| hex::encode(raw(t))).collect();
        let core = self
            .core
            .rpc("testmempoolaccept", &json!([hexes, 0]))
            .unwrap();
        let raws: Vec<Vec<u8>> = txs.iter().map(raw).collect();
        let before = (self.pool.txids(), self.pool.info(self.now));
        let ours = self.pool.test_package(&raws, &self.chain.tip(), self.now);
        // The package was staged in the pool and taken out again: nothing changed.
        assert_eq!(
            (self.pool.txids(), self.pool.info(self.now)),
            before,
            "{label}"
        );
        self.compare(label, &core, &ours);
    }

    fn compare(&mut self, label: &str, core: &Value, ours: &PackageResult) {
        let core = core.as_array().unwrap();
        assert_eq!(core.len(), ours.results.len(), "{label}");
        let perr = core[0]["package-error"].as_str().map(str::to_string);
        let our_perr = ours.package_error.as_ref().map(ToString::to_string);
        if perr != our_perr {
            self.mismatches.push(format!(
                "{label}: package-error ours {our_perr:?} core {perr:?}"
            ));
        }
        let mut outcome = perr.clone().unwrap_or_default();
        for (i, (c, o)) in core.iter().zip(&ours.results).enumerate() {
            let c_allowed = c.get("allowed").and_then(Value::as_bool);
            let tag = match c_allowed {
                None => "-".to_string(),
                Some(true) => "ok".to_string(),
                Some(false) => c["reject-reason"].as_str().unwrap_or("?").to_string(),
            };
            outcome.push_str(&format!(" [{tag}]"));
            match (o, c_allowed) {
                (None, None) => {}
                (Some(Ok(a)), Some(true)) => {
                    let (vsize, fee) = (c["vsize"].as_i64().unwrap_or(-1), sat(&c["fees"]["base"]));
                    let rate = sat(&c["fees"]["effective-feerate"]);
                    let inc = &c["fees"]["effective-includes"];
                    if a.vsize != vsize
                        || a.fee != fee
                        || a.effective_feerate.sat_per_kvb() != rate
                        || *inc != json!([to_display_hex(&a.wtxid)])
                    {
                        self.mismatches.push(format!(
                            "{label} tx {i}: vsize/fee/rate ours {}/{}/{} core {vsize}/{fee}/{rate} {inc}",
                            a.vsize,
                            a.fee,
                            a.effective_feerate.sat_per_kvb()
                        ));
                    }
                }
                (Some(Err(e)), Some(false)) => {
                    let reason = c["reject-reason"].as_str().unwrap_or("");
                    let details = c.get("reject-details").and_then(Value::as_str);
                    let ours_details = (reason != "missing-inputs").then(|| e.to_string());
                    if e.testmempoolaccept_reason() != reason
                        || details.map(str::to_string) != ours_details
                    {
                        self.mismatches.push(format!(
                            "{label} tx {i}: ours {e} core {reason:?} ({details:?})"
                        ));
                    }
                }
                (o, _) => self
                    .mismatches
                    .push(format!("{label} tx {i}: ours {o:?} core {c}")),
            }
        }
        *self.by_outcome.entry(outcome).or_default() += 1;
    }

    /// Submits `tx` to both pools (it must be acceptable to both).
    fn submit(&mut self, tx: &bitcoin::Transaction) {
        self.core
            .rpc("sendrawtransaction", &json!([hex::encode(raw(tx)), 0]))
            .unwrap();
        self.pool
            .accept(&raw(tx), &self.chain.tip(), AcceptArgs::submit(self.now))
            .unwrap();
    }
}

fn shape(version: i32) -> Shape {
    Shape {
        version,
        ..Shape::default()
    }
}

/// Flips a byte of the first signature (witness or scriptSig): a script failure.
fn break_sig(tx: &mut bitcoin::Transaction) {
    let input = &mut tx.input[0];
    if input.witness.is_empty() {
        let mut s = input.script_sig.to_bytes();
        s[10] ^= 1;
        input.script_sig = bitcoin::ScriptBuf::from_bytes(s);
    } else {
        let mut items: Vec<Vec<u8>> = input.witness.iter().map(<[u8]>::to_vec).collect();
        if let Some(w) = items.iter_mut().find(|w| w.len() >= 64) {
            w[10] ^= 1;
        }
        input.witness = bitcoin::Witness::from_slice(&items);
    }
}

#[test]
fn packages_match_bitcoind_testmempoolaccept() {
    let Shared {
        dir: _dir,
        core,
        chain,
        wallet,
        now,
    } = Shared::start(BLOCKS, SEED);
    let (mut mature, _) = coins_of(&chain, &wallet, 2_000_000);
    assert!(mature.len() > 300, "{} mature wallet coins", mature.len());
    let mut h = Harness {
        core,
        chain,
        pool: Mempool::new(MempoolOptions::default(), [5; 32]),
        now,
        mismatches: Vec::new(),
        by_outcome: Default::default(),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let mut salt = 0u64;
    // Submitted transactions (coin spent, tx): targets for conflicts and already-known parents.
    let mut submitted: Vec<(Utxo, bitcoin::Transaction)> = Vec::new();
    // Tip of a long unconfirmed chain in both pools (for the cluster limit).
    let mut long_chain: Option<Utxo> = None;
    let mut long_len = 0usize;
    for i in 0..PACKAGES {
        salt += 10;
        let case = i % 16;
        let label = format!("#{i} case {case}");
        let key = rng.gen_range(0..256u16);
        let kind = SpendKind::ALL[rng.gen_range(0..SpendKind::ALL.len())];
        let coin = mature.swap_remove(rng.gen_range(0..mature.len()));
        let rate = |rng: &mut ChaCha8Rng| rng.gen_range(500..20_000u64);
        // A chain of `n` transactions from `coin`, each spending the previous one's change.
        let chain_of = |n: usize, rates: &[u64], versions: &[i32], salt: u64| {
            let mut txs: Vec<bitcoin::Transaction> = Vec::new();
            let mut c = coin.clone();
            for k in 0..n {
                let tx = build_with_fee(
                    &wallet,
                    std::slice::from_ref(&c),
                    vec![],
                    Some((kind, key)),
                    rates[k % rates.len()],
                    &shape(versions[k % versions.len()]),
                    salt + k as u64,
                );
                c = outputs_of(&tx, &wallet).pop().unwrap();
                txs.push(tx);
            }
            txs
        };
        match case {
            // Valid chains of 2-5.
            0 | 1 => {
                let n = rng.gen_range(2..=5);
                let r = [rate(&mut rng), rate(&mut rng)];
                h.package(&label, &chain_of(n, &r, &[2], salt));
            }
            // A child below the minimum relay fee (no CPFP in test acceptance), or a parent.
            2 => {
                let low = rng.gen_range(0..99);
                let r = if rng.gen_bool(0.5) {
                    [5_000, low]
                } else {
                    [low, 50_000]
                };
                h.package(&label, &chain_of(2, &r, &[2], salt));
            }
            // Two or three parents and one child spending all of them.
            3 => {
                let n = rng.gen_range(2..=3usize);
                let mut parents = vec![build_with_fee(
                    &wallet,
                    std::slice::from_ref(&coin),
                    vec![],
                    Some((kind, key)),
                    rate(&mut rng),
                    &shape(2),
                    salt,
                )];
                for k in 1..n {
                    let c = mature.swap_remove(rng.gen_range(0..mature.len()));
                    parents.push(build_with_fee(
                        &wallet,
                        &[c],
                        vec![],
                        Some((SpendKind::P2wpkh, key)),
                        rate(&mut rng),
                        &shape(2),
                        salt + k as u64,
                    ));
                }
                let ins: Vec<Utxo> = parents
                    .iter()
                    .flat_map(|p| outputs_of(p, &wallet))
                    .collect();
                let child = build_with_fee(
                    &wallet,
                    &ins,
                    vec![],
                    Some((kind, key)),
                    rate(&mut rng),
                    &shape(2),
                    salt + 9,
                );
                parents.push(child);
                h.package(&label, &parents);
            }
            // Unsorted, duplicated.
            4 => {
                let mut txs = chain_of(3, &[2_000], &[2], salt);
                if rng.gen_bool(0.5) {
                    txs.swap(0, rng.gen_range(1..3));
                } else {
                    let d = txs[rng.gen_range(0..3)].clone();
                    txs.insert(rng.gen_range(0..=3), d);
                }
                h.package(&label, &txs);
            }
            // Two transactions spending one coin.
            5 => {
                let a = build_with_fee(
                    &wallet,
                    std::slice::from_ref(&coin),
                    vec![],
                    Some((kind, key)),
                    2_000,
                    &shape(2),
                    salt,
                );
                let b = build_with_fee(
                    &wallet,
                    std::slice::from_ref(&coin),
                    vec![],
                    Some((kind, key)),
                    3_000,
                    &shape(2),
                    salt + 1,
                );
                h.package(&label, &[a, b]);
            }
            // A script failure at a random position; sometimes also a PreChecks failure later
            // (Core reports only the PreChecks one).
            6 | 7 => {
                let n = rng.gen_range(2..=4);
                let mut txs = chain_of(n, &[3_000], &[2], salt);
                let bad = rng.gen_range(0..n);
                break_sig(&mut txs[bad]);
                // Re-link children to the broken transaction's new txid.
                for k in bad + 1..n {
                    let prev = outputs_of(&txs[k - 1], &wallet).pop().unwrap();
                    txs[k] = build_with_fee(
                        &wallet,
                        &[prev],
                        vec![],
                        Some((kind, key)),
                        3_000,
                        &shape(2),
                        salt + 100 + k as u64,
                    );
                }
                if case == 7 && bad + 1 < n {
                    // The last one pays a dust output with a fee: non-standard in PreChecks.
                    let prev = outputs_of(&txs[n - 2], &wallet).pop().unwrap();
                    let dust = TxOut {
                        value: Amount::from_sat(100),
                        script_pubkey: wallet.spk(SpendKind::P2wpkh, key).clone(),
                    };
                    txs[n - 1] = build_with_fee(
                        &wallet,
                        &[prev],
                        vec![dust],
                        Some((kind, key)),
                        3_000,
                        &shape(2),
                        salt + 200,
                    );
                }
                h.package(&label, &txs);
            }
            // Missing inputs for the first transaction.
            8 => {
                let mut fake = coin.clone();
                fake.outpoint.vout += 500;
                let p = build_with_fee(
                    &wallet,
                    &[fake],
                    vec![],
                    Some((kind, key)),
                    2_000,
                    &shape(2),
                    salt,
                );
                let c = build_with_fee(
                    &wallet,
                    &outputs_of(&p, &wallet),
                    vec![],
                    Some((kind, key)),
                    2_000,
                    &shape(2),
                    salt + 1,
                );
                h.package(&label, &[p, c]);
            }
            // A parent submitted first: already in the mempool; or a package tx conflicting
            // with a pool transaction (no replacement in packages).
            9 | 10 => {
                let txs = chain_of(2, &[4_000], &[2], salt);
                h.submit(&txs[0]);
                submitted.push((coin.clone(), txs[0].clone()));
                if case == 9 {
                    h.package(&label, &txs);
                } else {
                    let (c, _) = submitted[rng.gen_range(0..submitted.len())].clone();
                    let other = mature.swap_remove(rng.gen_range(0..mature.len()));
                    let r = build_with_fee(
                        &wallet,
                        &[c],
                        vec![],
                        Some((kind, key)),
                        50_000,
                        &shape(2),
                        salt + 5,
                    );
                    let p2 = build_with_fee(
                        &wallet,
                        &[other],
                        vec![],
                        Some((kind, key)),
                        3_000,
                        &shape(2),
                        salt + 6,
                    );
                    let mut pk = vec![p2, r];
                    if rng.gen_bool(0.5) {
                        pk.swap(0, 1);
                    }
                    h.package(&label, &pk);
                }
            }
            // TRUC mixes: v3 parent with a v3 / non-v3 child, v2 parent with a v3 child,
            // v3 grandchildren, a v3 parent with two children.
            11 | 12 => {
                let versions: [&[i32]; 5] = [&[3], &[3, 2], &[2, 3], &[3, 3, 3], &[3]];
                let v = versions[rng.gen_range(0..versions.len())];
                let n = v.len().max(2);
                let mut txs = chain_of(n, &[3_000], v, salt);
                if v.len() == 1 && rng.gen_bool(0.5) {
                    // A second child of the parent.
                    let outs = outputs_of(&txs[0], &wallet);
                    let pay = vec![TxOut {
                        value: Amount::from_sat(outs[0].txout.value.to_sat() / 2),
                        script_pubkey: wallet.spk(SpendKind::P2wpkh, key).clone(),
                    }];
                    txs[0] = build_with_fee(
                        &wallet,
                        std::slice::from_ref(&coin),
                        pay,
                        Some((kind, key)),
                        3_000,
                        &shape(3),
                        salt + 60,
                    );
                    let outs = outputs_of(&txs[0], &wallet);
                    txs.truncate(1);
                    for (k, o) in outs.iter().enumerate() {
                        txs.push(build_with_fee(
                            &wallet,
                            std::slice::from_ref(o),
                            vec![],
                            Some((kind, key)),
                            3_000,
                            &shape(3),
                            salt + 70 + k as u64,
                        ));
                    }
                }
                h.package(&label, &txs);
            }
            // Too heavy: several transactions with many outputs.
            13 => {
                let outs: Vec<TxOut> = (0..700u16)
                    .map(|k| TxOut {
                        value: Amount::from_sat(1_000),
                        script_pubkey: wallet.spk(SpendKind::P2wpkh, k).clone(),
                    })
                    .collect();
                let mut txs = Vec::new();
                let n = rng.gen_range(3..=5);
                for k in 0..n {
                    let c = if k == 0 {
                        coin.clone()
                    } else {
                        mature.swap_remove(rng.gen_range(0..mature.len()))
                    };
                    txs.push(build_with_fee(
                        &wallet,
                        &[c],
                        outs.clone(),
                        Some((kind, key)),
                        1_500,
                        &shape(2),
                        salt + k,
                    ));
                }
                h.package(&label, &txs);
            }
            // The cluster limit: packages on top of a long chain in both pools.
            14 | 15 => {
                let start = long_chain.take().unwrap_or(coin.clone());
                let mut c = start;
                let grow = if long_len < 55 { 8 } else { 0 };
                for k in 0..grow {
                    let tx = build_with_fee(
                        &wallet,
                        std::slice::from_ref(&c),
                        vec![],
                        Some((SpendKind::P2wpkh, 1)),
                        2_000,
                        &shape(2),
                        salt + k,
                    );
                    h.submit(&tx);
                    c = outputs_of(&tx, &wallet).pop().unwrap();
                    long_len += 1;
                }
                let n = rng.gen_range(2..=12);
                let mut txs = Vec::new();
                let mut cc = c.clone();
                for k in 0..n {
                    let tx = build_with_fee(
                        &wallet,
                        std::slice::from_ref(&cc),
                        vec![],
                        Some((SpendKind::P2wpkh, 2)),
                        2_500,
                        &shape(2),
                        salt + 100 + k,
                    );
                    cc = outputs_of(&tx, &wallet).pop().unwrap();
                    txs.push(tx);
                }
                long_chain = Some(c);
                h.package(&format!("{label} on a chain of {long_len}"), &txs);
            }
            _ => unreachable!(),
        }
    }
    let size = h.core.rpc("getmempoolinfo", &json!([])).unwrap()["size"]
        .as_u64()
        .unwrap();
    assert_eq!(size, h.pool.len() as u64, "mempool sizes");
    eprintln!("packages by outcome:");
    for (r, n) in &h.by_outcome {
        eprintln!("  {n:4}  {r}");
    }
    assert!(
        h.mismatches.is_empty(),
        "{} mismatches:\n{}",
        h.mismatches.len(),
        h.mismatches.join("\n")
    );
    // Every kind of answer was exercised.
    let seen: String = h.by_outcome.keys().cloned().collect();
    for want in [
        "[ok] [ok]",
        "package-not-sorted",
        "package-contains-duplicates",
        "conflict-in-package",
        "package-too-large",
        "too-large-cluster",
        "[-]",
        "mempool-script-verify-flag-failed",
        "missing-inputs",
        "txn-already-in-mempool",
        "bip125-replacement-disallowed",
        "TRUC-violation",
        "min relay fee not met",
    ] {
        assert!(seen.contains(want), "no package gave {want:?}");
    }
}
