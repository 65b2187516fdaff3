//! Each named block rule on small synthetic regtest blocks built from bytes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sluice_consensus::block::Block;
use sluice_consensus::chain::block_check::{bip34_height_push, block_witness_merkle_root};
use sluice_consensus::chain::pow::check_proof_of_work;
use sluice_consensus::chain::tx_inputs::{
    bip30_applies, check_block_spends, check_tx_inputs, is_bip30_repeat, is_bip30_unspendable,
};
use sluice_consensus::chain::{
    check_block, contextual_check_block, script_flags, AncestorInfo, AncestorView, BlockError,
    HeaderChain, Network, Params,
};
use sluice_consensus::coin::{Coin, MAX_MONEY};
use sluice_consensus::encode::write_compact_size;
use sluice_consensus::hash::{sha256d, Hash256};
use sluice_consensus::header::Header;
use sluice_consensus::script::flags::ScriptFlags;

const NOW: i64 = 2_000_000_000;
const FINAL: u32 = 0xffff_ffff;

#[derive(Clone, Debug)]
struct In {
    txid: Hash256,
    vout: u32,
    script_sig: Vec<u8>,
    sequence: u32,
    witness: Vec<Vec<u8>>,
}

#[derive(Clone, Debug)]
struct Tx {
    version: i32,
    ins: Vec<In>,
    outs: Vec<(i64, Vec<u8>)>,
    lock_time: u32,
}

impl Tx {
    fn ser(&self) -> Vec<u8> {
        let wit = self.ins.iter().any(|i| !i.witness.is_empty());
        let mut o = self.version.to_le_bytes().to_vec();
        if wit {
            o.extend_from_slice(&[0, 1]);
        }
        write_compact_size(&mut o, self.ins.len() as u64);
        for i in &self.ins {
            o.extend_from_slice(&i.txid);
            o.extend_from_slice(&i.vout.to_le_bytes());
            write_compact_size(&mut o, i.script_sig.len() as u64);
            o.extend_from_slice(&i.script_sig);
            o.extend_from_slice(&i.sequence.to_le_bytes());
        }
        write_compact_size(&mut o, self.outs.len() as u64);
        for (v, s) in &self.outs {
            o.extend_from_slice(&v.to_le_bytes());
            write_compact_size(&mut o, s.len() as u64);
            o.extend_from_slice(s);
        }
        if wit {
            for i in &self.ins {
                write_compact_size(&mut o, i.witness.len() as u64);
                for item in &i.witness {
                    write_compact_size(&mut o, item.len() as u64);
                    o.extend_from_slice(item);
                }
            }
        }
        o.extend_from_slice(&self.lock_time.to_le_bytes());
        o
    }
}

fn input(n: u8, sequence: u32) -> In {
    In {
        txid: [n; 32],
        vout: 0,
        script_sig: vec![0x51],
        sequence,
        witness: vec![],
    }
}

fn spend(n: u8, value: i64) -> Tx {
    Tx {
        version: 2,
        ins: vec![input(n, FINAL)],
        outs: vec![(value, vec![0x51])],
        lock_time: 0,
    }
}

fn coinbase(height: u32, value: i64) -> Tx {
    let mut sig = bip34_height_push(height);
    sig.push(0x00); // scriptSig must be at least 2 bytes
    Tx {
        version: 1,
        ins: vec![In {
            txid: [0; 32],
            vout: u32::MAX,
            script_sig: sig,
            sequence: FINAL,
            witness: vec![],
        }],
        outs: vec![(value, vec![0x51])],
        lock_time: 0,
    }
}

/// A regtest chain of `n` mined empty-ish headers after genesis, 600 s apart.
fn chain(n: u32) -> (Params, HeaderChain) {
    let p = Params::regtest();
    let mut c = HeaderChain::from_genesis(&p);
    for _ in 0..n {
        let tip = c.get(c.tip_height()).unwrap();
        let h = mine(Header {
            version: 4,
            prev_blockhash: tip.hash,
            merkle_root: [9; 32],
            time: tip.time + 600,
            bits: 0x207f_ffff,
            nonce: 0,
        });
        c.accept(&h, &p, NOW).unwrap();
    }
    (p, c)
}

fn mine(mut h: Header) -> Header {
    let p = Params::regtest();
    while !check_proof_of_work(&h.block_hash(), h.bits, &p) {
        h.nonce += 1;
    }
    h
}

fn merkle(mut level: Vec<Hash256>) -> Hash256 {
    if level.is_empty() {
        return [0; 32];
    }
    while level.len() > 1 {
        if level.len() % 2 == 1 {
            level.push(*level.last().unwrap());
        }
        level = level
            .chunks(2)
            .map(|p| sha256d(&[p[0], p[1]].concat()))
            .collect();
    }
    level[0]
}

/// Serialises a mined block of `txs` on `c`'s tip.
fn build(c: &HeaderChain, txs: &[Tx]) -> Vec<u8> {
    let sers: Vec<Vec<u8>> = txs.iter().map(Tx::ser).collect();
    let txids = sers
        .iter()
        .map(|s| {
            sluice_consensus::tx::Transaction::parse_exact(s)
                .unwrap()
                .txid()
        })
        .collect();
    let tip = c.get(c.tip_height()).unwrap();
    let h = mine(Header {
        version: 4,
        prev_blockhash: tip.hash,
        merkle_root: merkle(txids),
        time: tip.time + 600,
        bits: 0x207f_ffff,
        nonce: 0,
    });
    let mut out = h.encode().to_vec();
    write_compact_size(&mut out, sers.len() as u64);
    for s in sers {
        out.extend_from_slice(&s);
    }
    out
}

/// Full context-free + contextual verdict, as a reject-reason string ("ok" when valid).
fn verdict(c: &HeaderChain, p: &Params, raw: &[u8]) -> String {
    let b = Block::parse(raw).unwrap();
    match check_block(&b, p).and_then(|()| contextual_check_block(&b, c, p)) {
        Ok(()) => "ok".into(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn valid_block_passes() {
    let (p, c) = chain(5);
    let raw = build(&c, &[coinbase(6, 50 * 100_000_000), spend(1, 10)]);
    assert_eq!(verdict(&c, &p, &raw), "ok");
}

#[test]
fn block_structure_rules() {
    let (p, c) = chain(5);
    assert_eq!(verdict(&c, &p, &build(&c, &[])), "bad-blk-length");
    assert_eq!(
        verdict(&c, &p, &build(&c, &[spend(1, 1)])),
        "bad-cb-missing"
    );
    assert_eq!(
        verdict(&c, &p, &build(&c, &[coinbase(6, 1), coinbase(6, 2)])),
        "bad-cb-multiple"
    );
}

#[test]
fn check_transaction_rules() {
    let (p, c) = chain(5);
    let cb = coinbase(6, 1);
    let cases: Vec<(Tx, &str)> = vec![
        (
            Tx {
                outs: vec![],
                ..spend(1, 0)
            },
            "bad-txns-vout-empty",
        ),
        (
            Tx {
                ins: vec![],
                outs: vec![],
                ..spend(1, 0)
            },
            "bad-txns-vin-empty",
        ),
        (spend(1, -1), "bad-txns-vout-negative"),
        (spend(1, MAX_MONEY + 1), "bad-txns-vout-toolarge"),
        (
            Tx {
                outs: vec![(MAX_MONEY, vec![]), (1, vec![])],
                ..spend(1, 0)
            },
            "bad-txns-txouttotal-toolarge",
        ),
        (
            Tx {
                ins: vec![input(1, FINAL), input(1, FINAL)],
                ..spend(1, 0)
            },
            "bad-txns-inputs-duplicate",
        ),
        (
            Tx {
                ins: vec![
                    input(1, FINAL),
                    In {
                        txid: [0; 32],
                        vout: u32::MAX,
                        ..input(0, FINAL)
                    },
                ],
                ..spend(1, 0)
            },
            "bad-txns-prevout-null",
        ),
    ];
    for (tx, reason) in cases {
        let raw = build(&c, &[cb.clone(), tx]);
        assert_eq!(verdict(&c, &p, &raw), reason);
    }
    // Coinbase scriptSig length 2..=100.
    let mut short = coinbase(6, 1);
    short.ins[0].script_sig = vec![0x56];
    assert_eq!(verdict(&c, &p, &build(&c, &[short])), "bad-cb-length");
    let mut long = coinbase(6, 1);
    long.ins[0].script_sig.resize(101, 0);
    assert_eq!(verdict(&c, &p, &build(&c, &[long])), "bad-cb-length");
    let mut max = coinbase(6, 1);
    max.ins[0].script_sig.resize(100, 0);
    assert_eq!(verdict(&c, &p, &build(&c, &[max])), "ok");
}

#[test]
fn legacy_sigop_limit() {
    let (p, c) = chain(5);
    // 1000 CHECKMULTISIG = 20,000 sigops = cost 80,000: at the limit, allowed.
    let at = Tx {
        outs: vec![(0, vec![0xae; 1000])],
        ..spend(1, 0)
    };
    assert_eq!(verdict(&c, &p, &build(&c, &[coinbase(6, 1), at])), "ok");
    let over = Tx {
        outs: vec![(0, vec![0xae; 1000]), (0, vec![0xac])],
        ..spend(1, 0)
    };
    assert_eq!(
        verdict(&c, &p, &build(&c, &[coinbase(6, 1), over])),
        "bad-blk-sigops"
    );
}

#[test]
fn coinbase_height_rule() {
    let (p, c) = chain(20);
    assert_eq!(verdict(&c, &p, &build(&c, &[coinbase(21, 1)])), "ok");
    assert_eq!(
        verdict(&c, &p, &build(&c, &[coinbase(22, 1)])),
        "bad-cb-height"
    );
    // Heights 1..=16 use OP_1..OP_16, larger ones a minimal CScriptNum push.
    assert_eq!(bip34_height_push(1), vec![0x51]);
    assert_eq!(bip34_height_push(16), vec![0x60]);
    assert_eq!(bip34_height_push(17), vec![0x01, 0x11]);
    assert_eq!(bip34_height_push(128), vec![0x02, 0x80, 0x00]);
    assert_eq!(bip34_height_push(227_931), vec![0x03, 0x5b, 0x7a, 0x03]);
    // Before the BIP34 height no prefix is required.
    let mut p2 = p.clone();
    p2.bip34_height = 100;
    assert_eq!(verdict(&c, &p2, &build(&c, &[coinbase(99, 1)])), "ok");
}

#[test]
fn non_final_transactions() {
    let (p, c) = chain(20);
    let h = 21u32;
    let locked = |lock_time: u32, seq: u32| Tx {
        lock_time,
        ins: vec![input(1, seq)],
        ..spend(1, 0)
    };
    let v = |tx: Tx| verdict(&c, &p, &build(&c, &[coinbase(h, 1), tx]));
    assert_eq!(v(locked(h, 0)), "bad-txns-nonfinal");
    assert_eq!(v(locked(h - 1, 0)), "ok");
    assert_eq!(
        v(locked(h, FINAL)),
        "ok",
        "all-final sequences ignore lock time"
    );
    // Time locks compare against the tip's median time past (BIP113, CSV active on regtest).
    let mtp = u32::try_from(c.median_time_past(20).unwrap()).unwrap();
    assert_eq!(v(locked(mtp, 0)), "bad-txns-nonfinal");
    assert_eq!(v(locked(mtp - 1, 0)), "ok");
    // Before CSV the block's own time is the cutoff.
    let mut pre = p.clone();
    pre.csv_height = 1000;
    let raw = build(&c, &[coinbase(h, 1), locked(mtp, 0)]);
    assert_eq!(verdict(&c, &pre, &raw), "ok");
}

/// A coinbase carrying a witness commitment for `txs` (coinbase first) with `nonce`.
fn with_commitment(mut txs: Vec<Tx>, nonce: &[u8], corrupt: bool) -> Vec<Tx> {
    txs[0].ins[0].witness = vec![nonce.to_vec()];
    txs[0].outs.push((0, vec![0; 38])); // placeholder, same size
    let sers: Vec<Vec<u8>> = txs.iter().map(Tx::ser).collect();
    let raw = {
        let mut o = vec![0u8; 80];
        write_compact_size(&mut o, sers.len() as u64);
        for s in &sers {
            o.extend_from_slice(s);
        }
        o
    };
    let root = block_witness_merkle_root(&Block::parse(&raw).unwrap());
    let mut commit = sha256d(&[root.as_slice(), nonce].concat());
    if corrupt {
        commit[0] ^= 1;
    }
    let mut script = vec![0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];
    script.extend_from_slice(&commit);
    let last = txs[0].outs.len() - 1;
    txs[0].outs[last] = (0, script);
    txs
}

fn witness_spend() -> Tx {
    let mut t = spend(1, 0);
    t.ins[0].witness = vec![vec![1, 2, 3]];
    t
}

#[test]
fn witness_commitment_rules() {
    let (p, c) = chain(5);
    let cb = coinbase(6, 1);
    let v = |txs: &[Tx]| verdict(&c, &p, &build(&c, txs));
    assert_eq!(v(&[cb.clone(), witness_spend()]), "unexpected-witness");
    let good = with_commitment(vec![cb.clone(), witness_spend()], &[0; 32], false);
    assert_eq!(v(&good), "ok");
    let bad = with_commitment(vec![cb.clone(), witness_spend()], &[0; 32], true);
    assert_eq!(v(&bad), "bad-witness-merkle-match");
    let short = with_commitment(vec![cb.clone(), witness_spend()], &[0; 31], false);
    assert_eq!(v(&short), "bad-witness-nonce-size");
    let mut two = with_commitment(vec![cb.clone(), witness_spend()], &[0; 32], false);
    two[0].ins[0].witness.push(vec![]);
    assert_eq!(v(&two), "bad-witness-nonce-size");
    // Before segwit the commitment is not consulted: witness data is simply unexpected.
    let mut pre = p.clone();
    pre.segwit_height = 100;
    assert_eq!(verdict(&c, &pre, &build(&c, &good)), "unexpected-witness");
    // A commitment without any witness data in the block is fine.
    let only = with_commitment(vec![cb.clone(), spend(1, 0)], &[0; 32], false);
    assert_eq!(v(&only), "ok");
}

#[test]
fn block_weight_limit() {
    let (p, c) = chain(5);
    let mut heavy = spend(1, 0);
    heavy.ins[0].witness = vec![vec![0u8; 4_000_000]];
    let txs = with_commitment(vec![coinbase(6, 1), heavy], &[0; 32], false);
    assert_eq!(verdict(&c, &p, &build(&c, &txs)), "bad-blk-weight");
    let mut light = spend(1, 0);
    light.ins[0].witness = vec![vec![0u8; 3_000_000]];
    let txs = with_commitment(vec![coinbase(6, 1), light], &[0; 32], false);
    assert_eq!(verdict(&c, &p, &build(&c, &txs)), "ok");
}

fn coin(value: i64, height: u32, coinbase: bool) -> Coin {
    Coin {
        value,
        script_pubkey: vec![0x51],
        height,
        coinbase,
    }
}

#[test]
fn spend_rules() {
    let (p, c) = chain(200);
    let h = 201;
    let subsidy = 50 * 100_000_000 / 2; // regtest halves every 150 blocks
    let spends = |cb_value: i64, txs: Vec<Tx>, coins: &[Coin]| {
        let mut all = vec![coinbase(h, cb_value)];
        all.extend(txs);
        let raw = build(&c, &all);
        let b = Block::parse(&raw).unwrap();
        check_block_spends(&b, coins, &c, &p).map(|s| s.fees)
    };
    // Fee 40, coinbase claims subsidy + 40: ok; one more satoshi: bad-cb-amount.
    assert_eq!(
        spends(subsidy + 40, vec![spend(1, 60)], &[coin(100, 10, false)]),
        Ok(40)
    );
    assert_eq!(
        spends(subsidy + 41, vec![spend(1, 60)], &[coin(100, 10, false)]),
        Err(BlockError::BadCoinbaseAmount)
    );
    // Coinbase maturity: 100 confirmations.
    assert_eq!(
        spends(0, vec![spend(1, 1)], &[coin(100, h - 100, true)]),
        Ok(99)
    );
    assert_eq!(
        spends(0, vec![spend(1, 1)], &[coin(100, h - 99, true)])
            .unwrap_err()
            .to_string(),
        "bad-txns-premature-spend-of-coinbase"
    );
    assert_eq!(
        spends(0, vec![spend(1, 1)], &[coin(-1, 10, false)])
            .unwrap_err()
            .to_string(),
        "bad-txns-inputvalues-outofrange"
    );
    let two_in = Tx {
        ins: vec![input(1, FINAL), input(2, FINAL)],
        ..spend(1, 1)
    };
    assert_eq!(
        spends(
            0,
            vec![two_in],
            &[coin(MAX_MONEY, 10, false), coin(1, 10, false)]
        )
        .unwrap_err()
        .to_string(),
        "bad-txns-inputvalues-outofrange"
    );
    assert_eq!(
        spends(0, vec![spend(1, 101)], &[coin(100, 10, false)])
            .unwrap_err()
            .to_string(),
        "bad-txns-in-belowout"
    );
    // Two transactions each paying MAX_MONEY in fees overflow the block's fee total.
    assert_eq!(
        spends(
            0,
            vec![spend(1, 0), spend(2, 0)],
            &[coin(MAX_MONEY, 10, false), coin(MAX_MONEY, 10, false)]
        )
        .unwrap_err()
        .to_string(),
        "bad-txns-accumulated-fee-outofrange"
    );
    // BIP68 height lock of 10 blocks on a coin from the tip: not yet.
    let mut rel = spend(1, 1);
    rel.ins[0].sequence = 10;
    assert_eq!(
        spends(0, vec![rel.clone()], &[coin(100, 200, false)])
            .unwrap_err()
            .to_string(),
        "bad-txns-nonfinal"
    );
    assert_eq!(spends(0, vec![rel], &[coin(100, 191, false)]), Ok(99));
    // Wrong number of coins.
    assert_eq!(
        spends(0, vec![spend(1, 1)], &[]),
        Err(BlockError::InputsMissing)
    );
}

#[test]
fn check_tx_inputs_returns_fee() {
    let raw = spend(1, 30).ser();
    let tx = sluice_consensus::tx::Transaction::parse_exact(&raw).unwrap();
    assert_eq!(check_tx_inputs(&tx, &[coin(100, 1, true)], 101), Ok(70));
    assert_eq!(
        check_tx_inputs(&tx, &[coin(100, 1, true)], 100)
            .unwrap_err()
            .to_string(),
        "bad-txns-premature-spend-of-coinbase"
    );
    assert_eq!(
        check_tx_inputs(&tx, &[coin(MAX_MONEY + 1, 1, false)], 100)
            .unwrap_err()
            .to_string(),
        "bad-txns-inputvalues-outofrange"
    );
}

/// A sparse view: tip height and a few known ancestors.
struct Sparse {
    tip: u32,
    known: Vec<(u32, Hash256)>,
}

impl AncestorView for Sparse {
    fn tip_height(&self) -> u32 {
        self.tip
    }
    fn ancestor(&self, height: u32) -> Option<AncestorInfo> {
        self.known
            .iter()
            .find(|(h, _)| *h == height)
            .map(|(_, hash)| AncestorInfo {
                hash: *hash,
                time: 0,
                bits: 0,
            })
    }
}

fn display(hex: &str) -> Hash256 {
    let mut b: Vec<u8> = hex::decode(hex).unwrap();
    b.reverse();
    b.try_into().unwrap()
}

#[test]
fn bip30_scope() {
    let p = Params::mainnet();
    let repeat = display("00000000000a4d0a398161ffc163c503763b1f4360639393e0e4c8e300e0caec");
    assert!(is_bip30_repeat(91_842, &repeat));
    assert!(!is_bip30_repeat(91_843, &repeat));
    assert!(is_bip30_unspendable(
        91_722,
        &display("00000000000271a2dc26e7667f8419f2e15416dc6955e5a6c6cdf3f2574dd08e")
    ));
    let early = Sparse {
        tip: 91_841,
        known: vec![],
    };
    assert!(!bip30_applies(&repeat, &early, &p).unwrap());
    assert!(bip30_applies(&[1; 32], &early, &p).unwrap());
    // Past BIP34 on the chain holding the real BIP34 block: skipped ...
    let buried = Sparse {
        tip: 500_000,
        known: vec![(227_931, p.bip34_hash)],
    };
    assert!(!bip30_applies(&[1; 32], &buried, &p).unwrap());
    // ... but not on a fork with another block at that height ...
    let fork = Sparse {
        tip: 500_000,
        known: vec![(227_931, [5; 32])],
    };
    assert!(bip30_applies(&[1; 32], &fork, &p).unwrap());
    // ... and again from BIP34_IMPLIES_BIP30_LIMIT.
    let late = Sparse {
        tip: 1_983_701,
        known: vec![(227_931, p.bip34_hash)],
    };
    assert!(bip30_applies(&[1; 32], &late, &p).unwrap());
    // Regtest's zero BIP34 hash never matches: always enforced.
    let r = Params::regtest();
    let view = Sparse {
        tip: 10,
        known: vec![(1, [3; 32])],
    };
    assert!(bip30_applies(&[1; 32], &view, &r).unwrap());
}

#[test]
fn p2sh_sigops_count_towards_the_block_cost() {
    let (p, c) = chain(5);
    // A P2SH coin whose redeem script (the scriptSig's last push) holds n OP_CHECKSIGs.
    let p2sh = {
        let mut s = vec![0xa9, 0x14];
        s.extend_from_slice(&[7; 20]);
        s.push(0x87);
        s
    };
    let run = |n: usize| {
        let mut sig = vec![0x4d];
        sig.extend_from_slice(&u16::try_from(n).unwrap().to_le_bytes());
        sig.extend(std::iter::repeat_n(0xac, n));
        let mut tx = spend(1, 1);
        tx.ins[0].script_sig = sig;
        let raw = build(&c, &[coinbase(6, 1), tx]);
        let b = Block::parse(&raw).unwrap();
        // Context-free, the push hides the sigops: CheckBlock passes.
        check_block(&b, &p).unwrap();
        let coins = [Coin {
            value: 10,
            script_pubkey: p2sh.clone(),
            height: 1,
            coinbase: false,
        }];
        check_block_spends(&b, &coins, &c, &p)
    };
    let ok = run(19_999).unwrap();
    assert_eq!(ok.sigop_cost, 19_999 * 4);
    assert_eq!(run(20_001), Err(BlockError::TooManySigops));
    assert_eq!(BlockError::TooManySigops.to_string(), "bad-blk-sigops");
}

#[test]
fn script_flags_follow_core() {
    let m = Params::mainnet();
    // Agrees with the interpreter's own mainnet table at every deployment boundary.
    for h in [
        0u32, 1, 170, 227_931, 363_724, 363_725, 388_380, 388_381, 419_327, 419_328, 481_823,
        481_824, 709_632, 900_000,
    ] {
        assert_eq!(
            script_flags(h, &[1; 32], &m),
            ScriptFlags::mainnet_block_flags(h, &[1; 32]),
            "height {h}"
        );
    }
    let bip16 = display("00000000000002dc756eebf4f49723ed8d30cc28a5f108eb94b1ba88ac4f9c22");
    assert_eq!(script_flags(170_060, &bip16, &m), ScriptFlags::NONE);
    let taproot = display("0000000000000000000f14c35b2d841e986ab5441de8c585d5ffe55ea1e395ad");
    assert_eq!(
        script_flags(692_261, &taproot, &m),
        ScriptFlags::P2SH
            | ScriptFlags::WITNESS
            | ScriptFlags::DERSIG
            | ScriptFlags::CHECKLOCKTIMEVERIFY
            | ScriptFlags::CHECKSEQUENCEVERIFY
            | ScriptFlags::NULLDUMMY
    );
    assert_eq!(
        script_flags(692_261, &taproot, &m),
        ScriptFlags::mainnet_block_flags(692_261, &taproot)
    );
    // Regtest: segwit (NULLDUMMY) from 0, the rest from 1; exceptions only on mainnet.
    let r = Params::regtest();
    let base = ScriptFlags::P2SH | ScriptFlags::WITNESS | ScriptFlags::TAPROOT;
    assert_eq!(script_flags(0, &taproot, &r), base | ScriptFlags::NULLDUMMY);
    let all = base
        | ScriptFlags::NULLDUMMY
        | ScriptFlags::DERSIG
        | ScriptFlags::CHECKLOCKTIMEVERIFY
        | ScriptFlags::CHECKSEQUENCEVERIFY;
    assert_eq!(script_flags(1, &[0; 32], &r), all);
    for net in [Network::Testnet4, Network::Signet] {
        let p = Params::new(net);
        assert_eq!(script_flags(0, &[0; 32], &p), base, "{net:?}");
        assert_eq!(script_flags(1, &[0; 32], &p), all, "{net:?}");
    }
}

#[test]
fn mutation_and_permanence_classes_follow_core() {
    use sluice_consensus::chain::HeaderError;
    for e in [
        BlockError::BadMerkleRoot,
        BlockError::DuplicateTx,
        BlockError::BadWitnessNonceSize,
        BlockError::BadWitnessMerkleMatch,
        BlockError::UnexpectedWitness,
    ] {
        assert!(e.is_mutation(), "{e}");
    }
    for e in [
        BlockError::BadLength,
        BlockError::BadWeight,
        BlockError::BadCoinbaseAmount,
        BlockError::Header(HeaderError::HighHash),
    ] {
        assert!(!e.is_mutation(), "{e}");
    }
    assert!(HeaderError::HighHash.is_permanent());
    assert!(HeaderError::BadDiffBits.is_permanent());
    assert!(HeaderError::BadVersion(1).is_permanent());
    assert!(!HeaderError::TimeTooNew.is_permanent());
    assert!(!HeaderError::PrevBlockNotFound.is_permanent());
}
