//! The pool as a state machine on a synthetic chain (no bitcoind): acceptance and entry
//! figures, chains, replacement, block connection and reorg, expiry, trimming, cluster
//! limits, orphan limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bitcoin::hashes::Hash;
use bitcoin::{Amount, TxOut};
use common::{build, build_with_fee, outputs_of, raw, synthetic, Shape, Utxo};
use sluice_consensus::coin::OutPoint;
use sluice_loadgen::wallet::{SpendKind, Wallet};
use sluice_mempool::{
    AcceptArgs, Mempool, MempoolOptions, OrphanLimits, Orphanage, RejectKind, RemovalReason,
};

const NOW: i64 = 1_296_688_602 + 600 * 200 + 3600;

fn id(tx: &bitcoin::Transaction) -> [u8; 32] {
    tx.compute_txid().to_byte_array()
}

fn pay(wallet: &Wallet, u: &Utxo, rate_milli: u64, salt: u64) -> bitcoin::Transaction {
    build_with_fee(
        wallet,
        std::slice::from_ref(u),
        vec![],
        Some((SpendKind::P2wpkh, u.key)),
        rate_milli,
        &Shape::default(),
        salt,
    )
}

#[test]
fn accepts_chains_and_reports_entries() {
    let wallet = Wallet::new(1);
    let (chain, utxos) = synthetic(&wallet, 200, 2, 100_000);
    let mut pool = Mempool::new(MempoolOptions::default(), [1; 32]);
    // Every spend kind is standard and verifies.
    for (n, u) in utxos.iter().enumerate() {
        let tx = pay(&wallet, u, 2_000, n as u64);
        let a = pool.accept(&raw(&tx), &chain.tip(), AcceptArgs::submit(NOW));
        assert!(a.is_ok(), "{:?}: {a:?}", u.kind);
    }
    assert_eq!(pool.len(), utxos.len());
    // A child of the first, then a grandchild.
    let first = pay(&wallet, &utxos[0], 2_000, 0);
    let child = pay(&wallet, &outputs_of(&first, &wallet)[0], 10_000, 100);
    pool.accept(&raw(&child), &chain.tip(), AcceptArgs::submit(NOW))
        .unwrap();
    let grand = pay(&wallet, &outputs_of(&child, &wallet)[0], 10_000, 101);
    pool.accept(&raw(&grand), &chain.tip(), AcceptArgs::submit(NOW))
        .unwrap();
    let info = pool.entry_info(&id(&child)).unwrap();
    assert_eq!(info.ancestor_count, 2);
    assert_eq!(info.descendant_count, 2);
    assert_eq!(info.depends, vec![id(&first)]);
    assert_eq!(info.spent_by, vec![id(&grand)]);
    let parent = pool.get(&id(&first)).unwrap();
    assert_eq!(info.fee_ancestor, info.fee_base + parent.fee);
    assert!(info.bip125_replaceable);
    let pi = pool.info(NOW);
    assert_eq!(pi.size, utxos.len() + 2);
    assert_eq!(pi.min_relay_tx_fee, 100);
    // Test mode changes nothing; a resubmission is known.
    let again = pool
        .accept(&raw(&grand), &chain.tip(), AcceptArgs::test(NOW))
        .unwrap_err();
    assert_eq!(again.reason, "txn-already-in-mempool");
    // A block confirms the first transaction: it leaves, its child stays with no parent.
    let removed = pool.remove_for_block(&[(id(&first), vec![common::op(&utxos[0].outpoint)])]);
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].reason, RemovalReason::Block);
    assert!(pool.entry_info(&id(&child)).unwrap().depends.is_empty());
}

#[test]
fn replacement_rules() {
    let wallet = Wallet::new(2);
    let (chain, utxos) = synthetic(&wallet, 200, 1, 100_000);
    let mut pool = Mempool::new(MempoolOptions::default(), [2; 32]);
    let u = &utxos[1];
    let orig = pay(&wallet, u, 5_000, 1);
    pool.accept(&raw(&orig), &chain.tip(), AcceptArgs::submit(NOW))
        .unwrap();
    let low = pay(&wallet, u, 4_000, 2);
    let e = pool
        .accept(&raw(&low), &chain.tip(), AcceptArgs::test(NOW))
        .unwrap_err();
    assert_eq!(
        (e.kind, e.reason.as_str()),
        (RejectKind::Reconsiderable, "insufficient fee")
    );
    assert!(e.details.contains("less fees than conflicting txs"), "{e}");
    // More fee but a worse diagram: many outputs, same coin.
    let fee = 100_000 - orig.output.iter().map(|o| o.value.to_sat()).sum::<u64>();
    let mut outs: Vec<TxOut> = (0..40)
        .map(|k| TxOut {
            value: Amount::from_sat(1_000),
            script_pubkey: wallet.spk(SpendKind::P2wpkh, k).clone(),
        })
        .collect();
    outs.push(TxOut {
        value: Amount::from_sat(100_000 - 40_000 - fee - 200),
        script_pubkey: wallet.spk(SpendKind::P2wpkh, 1).clone(),
    });
    let wide = build(&wallet, std::slice::from_ref(u), outs, &Shape::default(), 3);
    let e = pool
        .accept(&raw(&wide), &chain.tip(), AcceptArgs::test(NOW))
        .unwrap_err();
    assert_eq!(e.reason, "replacement-failed");
    let good = pay(&wallet, u, 20_000, 4);
    let a = pool
        .accept(&raw(&good), &chain.tip(), AcceptArgs::submit(NOW))
        .unwrap();
    assert_eq!(a.replaced, vec![id(&orig)]);
    assert!(pool.get(&id(&orig)).is_none());
    assert_eq!(pool.len(), 1);
}

#[test]
fn cluster_limit_and_trimming() {
    let wallet = Wallet::new(3);
    let (chain, utxos) = synthetic(&wallet, 200, 30, 10_000_000);
    let mut pool = Mempool::new(MempoolOptions::default(), [3; 32]);
    let mut u = utxos[1].clone();
    for n in 0..64u64 {
        let tx = pay(&wallet, &u, 1_000, n);
        pool.accept(&raw(&tx), &chain.tip(), AcceptArgs::submit(NOW))
            .unwrap();
        u = outputs_of(&tx, &wallet)[0].clone();
    }
    let tx = pay(&wallet, &u, 1_000, 99);
    let e = pool
        .accept(&raw(&tx), &chain.tip(), AcceptArgs::test(NOW))
        .unwrap_err();
    assert_eq!(e.reason, "too-large-cluster");

    // A small pool: the lowest feerate chunk goes, the minimum fee rises.
    let opts = MempoolOptions {
        max_size_bytes: 20_000,
        ..MempoolOptions::default()
    };
    let mut small = Mempool::new(opts, [4; 32]);
    let mut evicted = 0;
    for (n, u) in utxos
        .iter()
        .filter(|u| u.kind == SpendKind::P2wpkh)
        .enumerate()
    {
        let rate = 1_000 + 1_000 * n as u64;
        let tx = pay(&wallet, u, rate, n as u64);
        match small.accept(&raw(&tx), &chain.tip(), AcceptArgs::submit(NOW)) {
            Ok(a) => {
                evicted += a
                    .removed
                    .iter()
                    .filter(|r| r.reason == RemovalReason::SizeLimit)
                    .count();
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(evicted > 0);
    assert!(small.min_fee(NOW).sat_per_kvb() > 1_000);
    let cheap = pay(
        &wallet,
        &utxos
            .iter()
            .find(|u| u.kind == SpendKind::P2trKey)
            .unwrap()
            .clone(),
        1_000,
        7,
    );
    let e = small
        .accept(&raw(&cheap), &chain.tip(), AcceptArgs::test(NOW))
        .unwrap_err();
    assert_eq!(e.reason, "mempool min fee not met");
    // Expiry removes everything older than two weeks.
    let later = NOW + 336 * 3600 + 1;
    let n = small.len();
    assert_eq!(small.expire(NOW).len(), 0);
    assert_eq!(small.expire(later).len(), n);
    assert!(small.is_empty());
}

#[test]
fn reorg_returns_transactions_and_drops_immature() {
    let wallet = Wallet::new(4);
    let (mut chain, utxos) = synthetic(&wallet, 200, 1, 100_000);
    let mut pool = Mempool::new(MempoolOptions::default(), [5; 32]);
    let a = pay(&wallet, &utxos[1], 2_000, 1);
    let b = pay(&wallet, &outputs_of(&a, &wallet)[0], 4_000, 2);
    pool.accept(&raw(&b), &chain.tip(), AcceptArgs::test(NOW))
        .unwrap_err();
    pool.accept(&raw(&a), &chain.tip(), AcceptArgs::submit(NOW))
        .unwrap();
    pool.accept(&raw(&b), &chain.tip(), AcceptArgs::submit(NOW))
        .unwrap();
    // a confirms; then the block is disconnected and a returns as b's parent.
    pool.remove_for_block(&[(id(&a), vec![common::op(&utxos[1].outpoint)])]);
    assert_eq!(pool.len(), 1);
    let removed = pool.readd_disconnected(&[raw(&a)], &chain.tip(), NOW);
    assert!(removed.is_empty(), "{removed:?}");
    assert_eq!(pool.len(), 2);
    assert_eq!(pool.entry_info(&id(&b)).unwrap().depends, vec![id(&a)]);
    assert_eq!(pool.get(&id(&a)).unwrap().sequence, 0);
    // A coin that becomes an immature coinbase output after a reorg takes its spender out.
    let coin = chain
        .coins
        .get_mut(&common::op(&utxos[1].outpoint))
        .unwrap();
    coin.coinbase = true;
    coin.height = 150;
    let removed = pool.remove_for_reorg(&chain.tip());
    assert_eq!(removed.len(), 2);
    let _ = OutPoint::NULL;
}

#[test]
fn orphanage_limits_per_peer() {
    let wallet = Wallet::new(5);
    let (_, utxos) = synthetic(&wallet, 10, 40, 100_000);
    let mut orphans = Orphanage::new(OrphanLimits {
        max_global_latency_score: 50,
        reserved_weight_per_peer: 404_000,
    });
    for (n, u) in utxos.iter().take(100).enumerate() {
        orphans.add(&raw(&pay(&wallet, u, 2_000, n as u64)), 1);
    }
    // Peer 1 filled the orphanage: it is trimmed to the global latency limit.
    assert!(orphans.latency_score() <= 50);
    assert_eq!(orphans.announcements_from(1), orphans.len() as u64);
    // Another peer's orphans displace peer 1's, not each other.
    for (n, u) in utxos.iter().skip(100).take(10).enumerate() {
        assert!(orphans.add(&raw(&pay(&wallet, u, 2_000, n as u64)), 2));
    }
    assert_eq!(orphans.announcements_from(2), 10);
    orphans.erase_for_peer(1);
    assert_eq!(orphans.len(), 10);
    let tx = pay(&wallet, &utxos[100], 2_000, 0);
    orphans.parent_arrived(&utxos[100].outpoint.txid.to_byte_array(), 1);
    assert_eq!(orphans.take_reconsiderable(2), Some(raw(&tx)));
    assert_eq!(orphans.take_reconsiderable(2), None);
}
