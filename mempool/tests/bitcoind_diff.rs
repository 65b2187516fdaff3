//! The proof: a generated corpus of transactions on a chain both sides share goes
//! through bitcoind's `testmempoolaccept` and through the pool; every verdict and reject
//! reason must match. Accepted ones are also submitted to both (sendrawtransaction / submit)
//! so later transactions meet the same mempool: chains of unconfirmed parents, double
//! spends, replacements good and bad, cluster limits, TRUC.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bitcoin::hashes::Hash;
use bitcoin::{Amount, ScriptBuf, TxOut};
use common::{build, build_with_fee, coins_of, outputs_of, raw, Chain, Shape, Shared, Utxo};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use sluice_bitcoind::Bitcoind;
use sluice_loadgen::wallet::{SpendKind, Wallet};
use sluice_mempool::{AcceptArgs, Mempool, MempoolOptions};

const BLOCKS: u32 = 140;
const SEED: u64 = 13;
/// Corpus size (the issue asks for at least 2,000).
const CORPUS: usize = 2_100;

struct Harness {
    core: Bitcoind,
    chain: Chain,
    pool: Mempool,
    now: i64,
    mismatches: Vec<String>,
    seen: usize,
    by_reason: std::collections::BTreeMap<String, usize>,
}

impl Harness {
    /// Offers `tx` to both sides; compares. Submits to both when accepted and `submit`.
    fn offer(&mut self, label: &str, tx: &bitcoin::Transaction, submit: bool) -> bool {
        let hex = hex::encode(raw(tx));
        let res = self
            .core
            .rpc("testmempoolaccept", &json!([[hex], 0]))
            .unwrap();
        let r = &res[0];
        let core_ok = r["allowed"].as_bool().unwrap_or(false);
        let core_reason = r["reject-reason"].as_str().unwrap_or("").to_string();
        let ours = self
            .pool
            .accept(&raw(tx), &self.chain.tip(), AcceptArgs::test(self.now));
        self.seen += 1;
        let key = if core_ok {
            "allowed".to_string()
        } else {
            core_reason.clone()
        };
        *self.by_reason.entry(key).or_default() += 1;
        match (&ours, core_ok) {
            (Ok(a), true) => {
                let vsize = r["vsize"].as_i64().unwrap_or(-1);
                let fee = (r["fees"]["base"].as_f64().unwrap_or(-1.0) * 1e8).round() as i64;
                if a.vsize != vsize || a.fee != fee {
                    self.mismatches.push(format!(
                        "{label}: vsize/fee ours {}/{} core {vsize}/{fee}",
                        a.vsize, a.fee
                    ));
                }
            }
            (Err(e), false) if e.testmempoolaccept_reason() == core_reason => {}
            (Err(e), false) => self.mismatches.push(format!(
                "{label}: reason ours {:?} ({}) core {core_reason:?} ({})",
                e.testmempoolaccept_reason(),
                e,
                r["reject-details"]
            )),
            (Ok(_), false) => self.mismatches.push(format!(
                "{label}: we accept, core rejects {core_reason:?} ({})",
                r["reject-details"]
            )),
            (Err(e), true) => self
                .mismatches
                .push(format!("{label}: we reject ({e}), core accepts")),
        }
        if submit && core_ok {
            self.core
                .rpc("sendrawtransaction", &json!([hex, 0]))
                .unwrap();
            let ours = self
                .pool
                .accept(&raw(tx), &self.chain.tip(), AcceptArgs::submit(self.now));
            if let Err(e) = ours {
                self.mismatches
                    .push(format!("{label}: submit rejected by us: {e}"));
            }
        }
        core_ok
    }
}

fn out(wallet: &Wallet, kind: SpendKind, key: u16, sat: u64) -> TxOut {
    TxOut {
        value: Amount::from_sat(sat),
        script_pubkey: wallet.spk(kind, key).clone(),
    }
}

fn script_out(hex_script: &str, sat: u64) -> TxOut {
    TxOut {
        value: Amount::from_sat(sat),
        script_pubkey: ScriptBuf::from_bytes(hex::decode(hex_script).unwrap()),
    }
}

const KINDS: [SpendKind; 8] = SpendKind::ALL;

#[test]
fn corpus_matches_bitcoind_testmempoolaccept() {
    let Shared {
        dir: _dir,
        core,
        chain,
        wallet,
        now,
    } = Shared::start(BLOCKS, SEED);
    let tip = BLOCKS;
    let (mut mature, immature) = coins_of(&chain, &wallet, 100_000);
    assert!(mature.len() > 600, "{} mature wallet coins", mature.len());
    assert!(!immature.is_empty());
    let mut h = Harness {
        core,
        chain,
        pool: Mempool::new(MempoolOptions::default(), [7; 32]),
        now,
        mismatches: Vec::new(),
        seen: 0,
        by_reason: Default::default(),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    // Unconfirmed wallet outputs (in both mempools), and submitted transactions by the coin
    // they spend.
    let mut unconfirmed: Vec<Utxo> = Vec::new();
    let mut submitted: Vec<(Utxo, bitcoin::Transaction)> = Vec::new();
    let mut salt = 0u64;
    let next = |rng: &mut ChaCha8Rng, v: &mut Vec<Utxo>| -> Utxo {
        let i = rng.gen_range(0..v.len());
        v.swap_remove(i)
    };
    let dflt = Shape::default();
    let mut i = 0usize;
    while h.seen < CORPUS {
        i += 1;
        salt += 1;
        let kind = KINDS[rng.gen_range(0..KINDS.len())];
        let key = rng.gen_range(0..256u16);
        let case = i % 24;
        let label = format!("#{i} case {case}");
        // A coin for test-only cases (not consumed).
        let peek = mature[rng.gen_range(0..mature.len())].clone();
        let v = peek.txout.value.to_sat();
        match case {
            // Standard spends, submitted: they become parents, conflicts and RBF targets.
            0 | 1 => {
                let u = next(&mut rng, &mut mature);
                let rate = rng.gen_range(1_000..20_000);
                let tx = build_with_fee(
                    &wallet,
                    std::slice::from_ref(&u),
                    vec![out(&wallet, kind, key, 10_000)],
                    Some((SpendKind::P2wpkh, key)),
                    rate,
                    &dflt,
                    salt,
                );
                if h.offer(&label, &tx, true) {
                    unconfirmed.extend(outputs_of(&tx, &wallet));
                    submitted.push((u, tx));
                }
            }
            // Standard test-only spends of 1-3 coins of every kind.
            2 | 3 => {
                let n = rng.gen_range(1..=3);
                let ins: Vec<Utxo> = (0..n)
                    .map(|_| mature[rng.gen_range(0..mature.len())].clone())
                    .collect();
                let mut ins2 = ins.clone();
                ins2.dedup_by_key(|u| u.outpoint);
                let tx = build_with_fee(
                    &wallet,
                    &ins2,
                    vec![],
                    Some((kind, key)),
                    rng.gen_range(100..50_000),
                    &dflt,
                    salt,
                );
                h.offer(&label, &tx, false);
            }
            // Fee below the minimum relay fee (0.1 sat/vB).
            4 => {
                let tx = build_with_fee(
                    &wallet,
                    &[peek],
                    vec![],
                    Some((kind, key)),
                    rng.gen_range(0..90),
                    &dflt,
                    salt,
                );
                h.offer(&label, &tx, false);
            }
            // Dust: one dust output with a fee, or two dust outputs.
            5 => {
                let d = rng.gen_range(1..290);
                let mut pay = vec![out(&wallet, SpendKind::P2wpkh, key, d)];
                if rng.gen_bool(0.5) {
                    pay.push(out(&wallet, SpendKind::P2pkh, key, rng.gen_range(1..540)));
                }
                let tx =
                    build_with_fee(&wallet, &[peek], pay, Some((kind, key)), 2_000, &dflt, salt);
                h.offer(&label, &tx, false);
            }
            // Non-standard output scripts.
            6 => {
                let k = format!("21{}", hex::encode(wallet.key(key).pubkey.to_bytes()));
                let scripts = [
                    "51".to_string(),
                    format!("51{k}{k}{k}{k}54ae"),
                    "6a61".to_string(),
                    format!("0015{}", "00".repeat(21)),
                    format!("{}ac", "4c21".to_string() + &"02".repeat(33)),
                ];
                let s = &scripts[rng.gen_range(0..scripts.len())];
                let tx = build_with_fee(
                    &wallet,
                    &[peek],
                    vec![script_out(s, 10_000)],
                    Some((kind, key)),
                    2_000,
                    &dflt,
                    salt,
                );
                h.offer(&label, &tx, false);
            }
            // Standard output scripts of other templates: data carriers, P2A, future witness.
            7 => {
                let scripts = [
                    ("6a0401020304", 0u64),
                    ("6a", 0),
                    ("51024e73", 240),
                    (&*format!("5220{}", "11".repeat(32)), 1_000),
                    (&*format!("6a4c50{}", "ab".repeat(80)), 0),
                ];
                let (s, val) = scripts[rng.gen_range(0..scripts.len())];
                let tx = build_with_fee(
                    &wallet,
                    &[peek],
                    vec![script_out(s, val)],
                    Some((kind, key)),
                    2_000,
                    &dflt,
                    salt,
                );
                h.offer(&label, &tx, false);
            }
            // Versions outside 1..=3, and TRUC without unconfirmed parents.
            8 => {
                let version = [0, 1, 3, 4, -1][rng.gen_range(0..5)];
                let shape = Shape {
                    version,
                    ..Shape::default()
                };
                let tx = build_with_fee(
                    &wallet,
                    &[peek],
                    vec![],
                    Some((kind, key)),
                    2_000,
                    &shape,
                    salt,
                );
                h.offer(&label, &tx, false);
            }
            // Absolute lock times around the next block.
            9 => {
                let lock = tip - 1 + rng.gen_range(0..4);
                let shape = Shape {
                    lock_time: lock,
                    ..Shape::default()
                };
                let tx = build_with_fee(
                    &wallet,
                    &[peek],
                    vec![],
                    Some((kind, key)),
                    2_000,
                    &shape,
                    salt,
                );
                h.offer(&label, &tx, false);
            }
            // BIP68 relative locks (blocks) against confirmation depth.
            10 => {
                let depth = tip + 1 - peek.height.unwrap_or(tip);
                let seq = depth.saturating_sub(1) + rng.gen_range(0..3);
                let shape = Shape {
                    sequence: seq,
                    ..Shape::default()
                };
                let tx = build_with_fee(
                    &wallet,
                    &[peek],
                    vec![],
                    Some((kind, key)),
                    2_000,
                    &shape,
                    salt,
                );
                h.offer(&label, &tx, false);
            }
            // Missing inputs.
            11 => {
                let mut fake = peek.clone();
                fake.outpoint.vout += 1000;
                let tx = build_with_fee(
                    &wallet,
                    &[fake],
                    vec![],
                    Some((kind, key)),
                    2_000,
                    &dflt,
                    salt,
                );
                h.offer(&label, &tx, false);
            }
            // Double spends of submitted transactions: fee too low, barely enough, ample,
            // or more fee but a worse feerate diagram.
            12 | 13 if !submitted.is_empty() => {
                let j = rng.gen_range(0..submitted.len());
                let (coin, old) = submitted[j].clone();
                let old_fee = coin.txout.value.to_sat()
                    - old.output.iter().map(|o| o.value.to_sat()).sum::<u64>();
                let choice = rng.gen_range(0..4);
                let tx = match choice {
                    0 => build_with_fee(
                        &wallet,
                        std::slice::from_ref(&coin),
                        vec![],
                        Some((kind, key)),
                        500,
                        &dflt,
                        salt,
                    ),
                    1 | 2 => {
                        let extra = if choice == 1 {
                            rng.gen_range(0..30)
                        } else {
                            3_000
                        };
                        let total = coin.txout.value.to_sat();
                        build(
                            &wallet,
                            std::slice::from_ref(&coin),
                            vec![out(
                                &wallet,
                                SpendKind::P2wpkh,
                                key,
                                total.saturating_sub(old_fee + extra),
                            )],
                            &dflt,
                            salt,
                        )
                    }
                    _ => {
                        // Many outputs: more absolute fee, lower feerate.
                        let total = coin.txout.value.to_sat();
                        let outs: Vec<TxOut> = (0..40)
                            .map(|k| out(&wallet, SpendKind::P2wpkh, k, 1_000))
                            .collect();
                        let mut outs = outs;
                        outs.push(out(
                            &wallet,
                            SpendKind::P2wpkh,
                            key,
                            total.saturating_sub(40_000 + old_fee + 200),
                        ));
                        build(&wallet, std::slice::from_ref(&coin), outs, &dflt, salt)
                    }
                };
                let submit = case == 13;
                if h.offer(&label, &tx, submit) && submit {
                    // The old transaction and its descendants left both pools.
                    let gone = old.compute_txid();
                    unconfirmed.retain(|u| u.outpoint.txid != gone);
                    submitted[j].1 = tx.clone();
                    unconfirmed.extend(outputs_of(&tx, &wallet));
                }
            }
            // Children of unconfirmed parents (chains, submitted), with relative locks at times.
            14..=16 if !unconfirmed.is_empty() => {
                let u = next(&mut rng, &mut unconfirmed);
                let shape = if rng.gen_bool(0.1) {
                    Shape {
                        sequence: 1,
                        ..Shape::default()
                    }
                } else {
                    dflt.clone()
                };
                let tx = build_with_fee(
                    &wallet,
                    std::slice::from_ref(&u),
                    vec![],
                    Some((SpendKind::P2wpkh, key)),
                    rng.gen_range(1_000..5_000),
                    &shape,
                    salt,
                );
                if h.offer(&label, &tx, true) {
                    unconfirmed.extend(outputs_of(&tx, &wallet));
                } else if h.pool.get(&u.outpoint.txid.to_byte_array()).is_some() {
                    unconfirmed.push(u);
                }
            }
            // Immature coinbase spends.
            17 => {
                let u = immature[rng.gen_range(0..immature.len())].clone();
                let tx =
                    build_with_fee(&wallet, &[u], vec![], Some((kind, key)), 2_000, &dflt, salt);
                h.offer(&label, &tx, false);
            }
            // Outputs above inputs; duplicate inputs; no outputs; negative / too large output.
            18 => {
                let tx = match rng.gen_range(0..4) {
                    0 => build(
                        &wallet,
                        std::slice::from_ref(&peek),
                        vec![out(&wallet, kind, key, v + 1)],
                        &dflt,
                        salt,
                    ),
                    1 => build(
                        &wallet,
                        &[peek.clone(), peek.clone()],
                        vec![out(&wallet, kind, key, v / 2)],
                        &dflt,
                        salt,
                    ),
                    2 => build(&wallet, std::slice::from_ref(&peek), vec![], &dflt, salt),
                    _ => build(
                        &wallet,
                        std::slice::from_ref(&peek),
                        vec![out(&wallet, kind, key, 21_000_000 * 100_000_000 + 1)],
                        &dflt,
                        salt,
                    ),
                };
                h.offer(&label, &tx, false);
            }
            // Broken signatures and stripped witnesses.
            19 => {
                let mut tx = build_with_fee(
                    &wallet,
                    std::slice::from_ref(&peek),
                    vec![],
                    Some((kind, key)),
                    2_000,
                    &dflt,
                    salt,
                );
                let input = &mut tx.input[0];
                if rng.gen_bool(0.5) && !input.witness.is_empty() {
                    input.witness = bitcoin::Witness::new();
                } else if !input.witness.is_empty() {
                    let mut items: Vec<Vec<u8>> =
                        input.witness.iter().map(<[u8]>::to_vec).collect();
                    let first = items.iter_mut().find(|w| w.len() >= 64).unwrap();
                    first[10] ^= 1;
                    input.witness = bitcoin::Witness::from_slice(&items);
                } else {
                    let mut s = input.script_sig.to_bytes();
                    s[10] ^= 1;
                    input.script_sig = ScriptBuf::from_bytes(s);
                }
                h.offer(&label, &tx, false);
            }
            // Non-push scriptSig; oversized scriptSig; too small; too heavy.
            20 => {
                let choice = rng.gen_range(0..4);
                let tx = match choice {
                    0 | 1 => {
                        let mut tx = build_with_fee(
                            &wallet,
                            std::slice::from_ref(&peek),
                            vec![],
                            Some((kind, key)),
                            2_000,
                            &dflt,
                            salt,
                        );
                        let mut s = tx.input[0].script_sig.to_bytes();
                        if choice == 0 {
                            s.push(0x61);
                        } else {
                            for _ in 0..4 {
                                s.extend_from_slice(&[0x4d, 0xc8, 0x01]);
                                s.extend_from_slice(&[0u8; 456]);
                            }
                        }
                        tx.input[0].script_sig = ScriptBuf::from_bytes(s);
                        tx
                    }
                    2 => build(
                        &wallet,
                        std::slice::from_ref(&peek),
                        vec![script_out("6a", v.saturating_sub(5_000))],
                        &dflt,
                        salt,
                    ),
                    _ => build(
                        &wallet,
                        std::slice::from_ref(&peek),
                        vec![
                            script_out(
                                &format!(
                                    "6a4e{}{}",
                                    hex::encode(100_001u32.to_le_bytes()),
                                    "00".repeat(100_001)
                                ),
                                0,
                            ),
                            out(&wallet, kind, key, v.saturating_sub(500_000)),
                        ],
                        &dflt,
                        salt,
                    ),
                };
                h.offer(&label, &tx, false);
            }
            // Too many sigops (bare multisig outputs cost 80 each).
            21 => {
                let n = rng.gen_range(195..205);
                let u = mature
                    .iter()
                    .find(|u| u.txout.value.to_sat() > 1_000_000)
                    .cloned()
                    .unwrap_or(peek);
                let pay: Vec<TxOut> = (0..n)
                    .map(|k| out(&wallet, SpendKind::BareMultisig, k, 1_000))
                    .collect();
                let tx = build_with_fee(
                    &wallet,
                    &[u],
                    pay,
                    Some((SpendKind::P2wpkh, key)),
                    1_500,
                    &dflt,
                    salt,
                );
                h.offer(&label, &tx, false);
            }
            // TRUC: version 3 children of unconfirmed parents (which are not v3), and
            // non-v3 spends of v3 parents.
            22 if !unconfirmed.is_empty() => {
                let u = unconfirmed[rng.gen_range(0..unconfirmed.len())].clone();
                let shape = Shape {
                    version: 3,
                    ..Shape::default()
                };
                let tx = build_with_fee(
                    &wallet,
                    &[u],
                    vec![],
                    Some((kind, key)),
                    3_000,
                    &shape,
                    salt,
                );
                h.offer(&label, &tx, false);
            }
            23 => {
                let u = next(&mut rng, &mut mature);
                let shape = Shape {
                    version: 3,
                    ..Shape::default()
                };
                let parent = build_with_fee(
                    &wallet,
                    &[u],
                    vec![],
                    Some((SpendKind::P2wpkh, key)),
                    3_000,
                    &shape,
                    salt,
                );
                if h.offer(&label, &parent, true) {
                    let outs = outputs_of(&parent, &wallet);
                    let version = [2, 3][rng.gen_range(0..2)];
                    let child = build_with_fee(
                        &wallet,
                        &outs,
                        vec![],
                        Some((kind, key)),
                        5_000,
                        &Shape {
                            version,
                            ..Shape::default()
                        },
                        salt + 1_000_000,
                    );
                    let label = format!("{label} child v{version}");
                    if h.offer(&label, &child, true) && version == 3 {
                        // A second child: TRUC sibling eviction or a descendant-limit reject.
                        let sib = build_with_fee(
                            &wallet,
                            &outs,
                            vec![],
                            Some((SpendKind::P2trKey, key)),
                            rng.gen_range(1_000..20_000),
                            &Shape {
                                version: 3,
                                ..Shape::default()
                            },
                            salt + 2_000_000,
                        );
                        h.offer(&format!("{label} sibling"), &sib, false);
                    }
                }
            }
            _ => {}
        }
    }
    // Already-known transactions.
    for (_, tx) in submitted.iter().take(20) {
        h.offer("resubmit", tx, false);
    }
    eprintln!("{} transactions; verdicts by reason:", h.seen);
    for (r, n) in &h.by_reason {
        eprintln!("  {n:5}  {r}");
    }
    let size = h.core.rpc("getmempoolinfo", &json!([])).unwrap()["size"]
        .as_u64()
        .unwrap();
    if size != h.pool.len() as u64 {
        h.mismatches
            .push(format!("mempool size ours {} core {size}", h.pool.len()));
    }
    assert!(
        h.mismatches.is_empty(),
        "{} mismatches:\n{}",
        h.mismatches.len(),
        h.mismatches.join("\n")
    );
}
