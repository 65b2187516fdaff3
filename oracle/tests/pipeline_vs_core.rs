//! Differential test: Sluice's pipeline against Bitcoin Core's kernel on loadgen chains of every
//! profile and every mutant. Verdicts and reject reasons must match, tips must be equal, and for
//! every block Core's spent outputs (its undo data) must equal Sluice's undo data coin for coin.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bitcoin::consensus::serialize;
use sluice_loadgen::{generate, mutate, read_chain, ChainSpec};
use sluice_oracle::{BlockVerdict, CoreConfig, CoreNode};
use sluice_pipeline::import;
use sluice_pipeline::testchain::{test_import_config, PrefixFixture};
use sluice_storage::{ChainStore, StoreConfig};

fn check_profile(profile: &str, blocks: u32, seed: u64) {
    let tmp = tempfile::tempdir().unwrap();
    let chain_dir = tmp.path().join("chain");
    let spec = ChainSpec::small(profile, blocks, seed);
    generate(&spec, &chain_dir).unwrap();

    // Whole chain: same tip, and per block the same spent coins.
    let datadir = tmp.path().join("sluice");
    let r = import(
        &test_import_config(datadir.clone()),
        std::slice::from_ref(&chain_dir),
    )
    .unwrap();
    assert!(r.rejected.is_empty(), "{profile}: {:?}", r.rejected);
    let core = CoreNode::new(&CoreConfig::regtest(&tmp.path().join("core"))).unwrap();
    core.import_dir(&chain_dir).unwrap();
    let tip = core.tip();
    assert_eq!(r.tip_hash, tip.hash, "{profile}: tips differ");
    assert_eq!(i64::from(r.tip_height), i64::from(tip.height));
    let store = ChainStore::open(&datadir, &StoreConfig::default()).unwrap();
    let mut compared = 0usize;
    for h in 1..=r.tip_height {
        let hash = core.hash_at(h as usize).unwrap();
        let core_spent: Vec<_> = core
            .spent_outputs(&hash)
            .unwrap()
            .into_iter()
            .flatten()
            .collect();
        let undo = store.undo(&hash).unwrap().unwrap();
        assert_eq!(
            core_spent.len(),
            undo.spent.len(),
            "{profile}: block {h} input count"
        );
        for (i, (c, (_, s))) in core_spent.iter().zip(&undo.spent).enumerate() {
            assert_eq!(
                (c.value, &c.script_pubkey, c.height, c.coinbase),
                (s.value, &s.script_pubkey, s.height, s.coinbase),
                "{profile}: block {h} input {i}"
            );
            compared += 1;
        }
    }
    assert!(compared > 0);
    drop(store);

    // Every mutant: same verdict and reason; every twin accepted by Sluice (Core's verdict on
    // the twins is checked in loadgen_vs_core).
    let (_, chain) = read_chain(&chain_dir).unwrap();
    let chain: Vec<Vec<u8>> = chain.iter().map(serialize).collect();
    let tip_h = chain.len() - 1;
    let prefix = PrefixFixture::new(tmp.path(), &chain[..tip_h]).unwrap();
    let core = CoreNode::new(&CoreConfig::regtest(&tmp.path().join("core-prefix"))).unwrap();
    for b in &chain[1..tip_h] {
        assert_eq!(core.process_block(b).unwrap(), BlockVerdict::Accepted);
    }
    let mut diffs = Vec::new();
    for m in mutate(&chain_dir, &tmp.path().join("mutants")).unwrap() {
        let rule = &m.label.rule;
        let core_reason = match core.process_block(&m.block).unwrap() {
            BlockVerdict::Rejected { reason, .. } => Some(reason),
            _ => None,
        };
        let s = prefix.try_block(&format!("m-{rule}"), &m.block).unwrap();
        let sluice_reason = s.rejected.first().map(|x| x.reason.clone());
        if core_reason != sluice_reason {
            diffs.push(format!(
                "{rule}: core {core_reason:?} sluice {sluice_reason:?}"
            ));
        }
        if let Some(twin) = &m.twin {
            let s = prefix.try_block(&format!("t-{rule}"), twin).unwrap();
            if !s.rejected.is_empty() || s.tip_height as usize != tip_h {
                diffs.push(format!("{rule} twin: sluice {:?}", s.rejected));
            }
        }
    }
    assert!(diffs.is_empty(), "{profile}:\n{}", diffs.join("\n"));
}

#[test]
fn mainnet_mix_matches_core() {
    check_profile("mainnet-mix", 130, 11);
}

#[test]
fn taproot_matches_core() {
    check_profile("taproot", 120, 12);
}

#[test]
fn legacy_matches_core() {
    check_profile("legacy", 120, 13);
}

#[test]
fn utxo_heavy_matches_core() {
    check_profile("utxo-heavy", 115, 14);
}
