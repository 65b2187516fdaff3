//! Reorganisations: a competing branch with more work replaces the tip, and the UTXO set then
//! equals that of importing the winning branch alone (MuHash and coin by coin). A better branch
//! that turns out invalid is abandoned for the best valid one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sluice_consensus::chain::{Network, Params};
use sluice_consensus::coin::{Coin, OutPoint};
use sluice_pipeline::testchain::{frame, Branch, Spendable};
use sluice_pipeline::{import, ImportConfig, ImportReport};
use sluice_storage::{ChainStore, StoreConfig};

fn import_blocks(
    dir: &Path,
    name: &str,
    blocks: &[Vec<u8>],
) -> (ImportReport, BTreeMap<OutPoint, Coin>) {
    let p = Params::regtest();
    let file: PathBuf = dir.join(format!("{name}.dat"));
    std::fs::write(&file, frame(p.magic, blocks)).unwrap();
    let datadir = dir.join(name);
    let r = import(
        &ImportConfig::new(Network::Regtest, datadir.clone()),
        &[file],
    )
    .unwrap();
    let store = ChainStore::open(&datadir, &StoreConfig::default()).unwrap();
    let mut coins = BTreeMap::new();
    store
        .for_each_coin(|op, c| {
            coins.insert(*op, c.clone());
        })
        .unwrap();
    assert_eq!(coins.len() as u64, r.utxo_count);
    (r, coins)
}

struct Fork {
    base: Vec<Vec<u8>>,
    a: Vec<Vec<u8>>,
    b: Vec<Vec<u8>>,
}

fn fork(a_len: u32, b_len: u32, poison_b_at: Option<u32>) -> Fork {
    let p = Params::regtest();
    let mut base = Branch::genesis(&p);
    let base_blocks: Vec<Vec<u8>> = (0..105).map(|_| base.mine(&p, 0, 2)).collect();
    let mut a = base.clone();
    let a_blocks = (0..a_len).map(|_| a.mine(&p, 1, 3)).collect();
    let mut b = base;
    let b_blocks = (0..b_len)
        .map(|i| {
            if Some(i) == poison_b_at {
                // Spend an output that does not exist: bad-txns-inputs-missingorspent.
                b.utxos.insert(
                    0,
                    Spendable {
                        outpoint: OutPoint {
                            txid: [0xee; 32],
                            vout: 7,
                        },
                        value: 1000,
                        height: 1,
                        coinbase: false,
                    },
                );
            }
            b.mine(&p, 2, 1)
        })
        .collect();
    Fork {
        base: base_blocks,
        a: a_blocks,
        b: b_blocks,
    }
}

fn cat(parts: &[&[Vec<u8>]]) -> Vec<Vec<u8>> {
    parts.iter().flat_map(|p| p.iter().cloned()).collect()
}

#[test]
fn branch_with_more_work_wins_and_state_equals_importing_it_alone() {
    let f = fork(5, 8, None);
    let tmp = tempfile::tempdir().unwrap();
    let (r, coins) = import_blocks(tmp.path(), "both", &cat(&[&f.base, &f.a, &f.b]));
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert_eq!(r.reorgs, 1);
    assert_eq!(r.blocks_disconnected, 5);
    assert_eq!(r.tip_height, 113);
    let (alone, coins_alone) = import_blocks(tmp.path(), "b_only", &cat(&[&f.base, &f.b]));
    assert_eq!(r.tip_hash, alone.tip_hash);
    assert_eq!(r.muhash, alone.muhash);
    assert_eq!(coins, coins_alone, "coin by coin");
}

#[test]
fn equal_work_keeps_the_first_seen_branch() {
    let f = fork(6, 6, None);
    let tmp = tempfile::tempdir().unwrap();
    let (r, coins) = import_blocks(tmp.path(), "both", &cat(&[&f.base, &f.a, &f.b]));
    assert_eq!(r.reorgs, 0);
    let (alone, coins_alone) = import_blocks(tmp.path(), "a_only", &cat(&[&f.base, &f.a]));
    assert_eq!(r.tip_hash, alone.tip_hash);
    assert_eq!(coins, coins_alone);
}

#[test]
fn invalid_better_branch_is_abandoned_for_the_best_valid_chain() {
    let f = fork(5, 8, Some(2));
    let tmp = tempfile::tempdir().unwrap();
    let (r, coins) = import_blocks(tmp.path(), "both", &cat(&[&f.base, &f.a, &f.b]));
    assert_eq!(r.rejected[0].reason, "bad-txns-inputs-missingorspent");
    assert_eq!(r.rejected[0].height, Some(108));
    let (alone, coins_alone) = import_blocks(tmp.path(), "a_only", &cat(&[&f.base, &f.a]));
    assert_eq!(r.tip_hash, alone.tip_hash, "back on branch A");
    assert_eq!(r.muhash, alone.muhash);
    assert_eq!(coins, coins_alone);
}
