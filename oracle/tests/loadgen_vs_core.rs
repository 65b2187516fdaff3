//! Differential test: chains and mutants from `sluice-loadgen` judged by Bitcoin Core's kernel.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;

use bitcoin::OutPoint;

use bitcoin::consensus::serialize;
use sluice_consensus::hash::to_display_hex;
use sluice_loadgen::{generate, mutate, read_chain, ChainSpec};
use sluice_oracle::{BlockVerdict, CoreConfig, CoreNode};

fn check_profile(profile: &str, blocks: u32, seed: u64) {
    let tmp = tempfile::tempdir().unwrap();
    let chain_dir = tmp.path().join("chain");
    let spec = ChainSpec::small(profile, blocks, seed);
    let manifest = generate(&spec, &chain_dir).unwrap();
    assert!(manifest.totals.inputs > 0, "{profile}: no spends generated");
    let mutants = mutate(&chain_dir, &tmp.path().join("mutants")).unwrap();
    assert_eq!(
        mutants.len(),
        19,
        "{profile}: every mutant rule must be built"
    );

    let (_, chain) = read_chain(&chain_dir).unwrap();
    let chain: Vec<Vec<u8>> = chain.iter().map(serialize).collect();
    let tip = chain.len() - 1;
    assert_eq!(tip as u32, manifest.tip_height);
    let node = node_with_prefix(profile, &tmp.path().join("core"), &chain[..tip]);
    let prefix = node.tip();
    assert_eq!(prefix.height, i32::try_from(tip).unwrap() - 1);
    for m in &mutants {
        assert_eq!(
            m.label.prefix_hash,
            to_display_hex(&prefix.hash),
            "{}",
            m.label.rule
        );
        let verdict = node.process_block(&m.block).unwrap();
        match &verdict {
            BlockVerdict::Rejected { reason, .. } => assert!(
                reason.starts_with(&m.label.expected_reason),
                "{profile}/{}: Core rejected with {reason:?}, label expects {:?}",
                m.label.rule,
                m.label.expected_reason
            ),
            other => panic!("{profile}/{}: Core did not reject: {other:?}", m.label.rule),
        }
        assert_eq!(node.tip(), prefix, "{profile}/{}: tip moved", m.label.rule);
    }
    let verdict = node.process_block(&chain[tip]).unwrap();
    assert_eq!(
        verdict,
        BlockVerdict::Accepted,
        "{profile}: tip block rejected after mutants"
    );
    assert_eq!(to_display_hex(&node.tip().hash), manifest.tip_hash);
    assert_eq!(
        node.tip().height,
        i32::try_from(manifest.tip_height).unwrap()
    );

    // Core's undo data agrees with the generator on what the tip block spent.
    let spent = node.spent_outputs(&node.tip().hash).unwrap();
    let tip_block: bitcoin::Block = bitcoin::consensus::deserialize(&chain[tip]).unwrap();
    let tip_inputs: usize = tip_block.txdata.iter().skip(1).map(|t| t.input.len()).sum();
    assert_eq!(spent.iter().map(Vec::len).sum::<usize>(), tip_inputs);

    // Each mutant's boundary twin (the rule just respected) is accepted on the same prefix,
    // so the mutant breaks only its labelled rule. One fresh node per twin.
    let mut twins = 0;
    for m in &mutants {
        let Some(twin) = &m.twin else { continue };
        let dir = tmp.path().join(format!("twin-{}", m.label.rule));
        let node = node_with_prefix(profile, &dir, &chain[..tip]);
        let verdict = node.process_block(twin).unwrap();
        assert_eq!(
            verdict,
            BlockVerdict::Accepted,
            "{profile}/{}: twin rejected",
            m.label.rule
        );
        twins += 1;
    }
    assert_eq!(twins, 19, "{profile}: every rule has a boundary twin");
}

/// A fresh regtest kernel node that has accepted `blocks` (genesis first).
fn node_with_prefix(profile: &str, dir: &Path, blocks: &[Vec<u8>]) -> CoreNode {
    let node = CoreNode::new(&CoreConfig::regtest(dir)).unwrap();
    for (h, block) in blocks.iter().enumerate().skip(1) {
        let verdict = node.process_block(block).unwrap();
        assert_eq!(
            verdict,
            BlockVerdict::Accepted,
            "{profile}: block {h} rejected by Core"
        );
    }
    node
}

#[test]
fn mainnet_mix_chain_and_mutants() {
    check_profile("mainnet-mix", 130, 11);
}

#[test]
fn taproot_chain_and_mutants() {
    check_profile("taproot", 120, 12);
}

#[test]
fn legacy_chain_and_mutants() {
    check_profile("legacy", 120, 13);
}

/// A chain whose tip block already spends the coinbase maturing at its height: the
/// immature-coinbase twin once spent that coinbase a second time, and Core rejected it.
#[test]
fn twin_when_the_tip_spends_the_just_mature_coinbase() {
    check_profile("legacy", 104, 0);
}

#[test]
fn utxo_heavy_chain_and_mutants() {
    check_profile("utxo-heavy", 115, 14);
}

#[test]
fn import_dir_accepts_whole_chain_and_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let chain_dir = tmp.path().join("chain");
    let spec = ChainSpec::small("mainnet-mix", 105, 5);
    let manifest = generate(&spec, &chain_dir).unwrap();
    let node = CoreNode::new(&CoreConfig::regtest(&tmp.path().join("core"))).unwrap();
    let imported = node.import_dir(&chain_dir).unwrap();
    assert_eq!(imported.len(), 106, "genesis + 105 blocks");
    assert_eq!(
        imported[0].verdict,
        Ok(BlockVerdict::Duplicate),
        "genesis is built in"
    );
    assert!(imported[1..]
        .iter()
        .all(|b| b.verdict == Ok(BlockVerdict::Accepted)));
    assert_eq!(to_display_hex(&node.tip().hash), manifest.tip_hash);
    let again = node.import_dir(&chain_dir).unwrap();
    assert!(again
        .iter()
        .all(|b| b.verdict == Ok(BlockVerdict::Duplicate)));
    assert!(node
        .process_block(&[0u8; 10])
        .is_err_and(|e| e.to_string().contains("decode")));
    assert!(Path::new(&chain_dir.join("manifest.json")).exists());
}

/// Full blocks (close to 4,000,000 WU; the legacy profile is bound by the 80,000 sigop cost)
/// are accepted by Core: the generator's weight and sigop accounting stays within the limits.
#[test]
fn full_blocks_are_accepted() {
    for (profile, seed) in [("mainnet-mix", 21), ("legacy", 22)] {
        let tmp = tempfile::tempdir().unwrap();
        let chain_dir = tmp.path().join("chain");
        let spec = ChainSpec::new(profile, 104, seed);
        let manifest = generate(&spec, &chain_dir).unwrap();
        let node = CoreNode::new(&CoreConfig::regtest(&tmp.path().join("core"))).unwrap();
        let imported = node.import_dir(&chain_dir).unwrap();
        assert!(imported[1..]
            .iter()
            .all(|b| b.verdict == Ok(BlockVerdict::Accepted)));
        assert_eq!(to_display_hex(&node.tip().hash), manifest.tip_hash);
        let (_, blocks) = read_chain(&chain_dir).unwrap();
        let mut created = HashMap::new();
        let (mut max_weight, mut max_sigops) = (0, 0);
        for b in &blocks {
            for tx in &b.txdata {
                let txid = tx.compute_txid();
                for (n, o) in tx.output.iter().enumerate() {
                    created.insert(OutPoint::new(txid, n as u32), o.clone());
                }
            }
            let sigops: usize = b
                .txdata
                .iter()
                .map(|tx| tx.total_sigop_cost(|op| created.get(op).cloned()))
                .sum();
            max_sigops = max_sigops.max(sigops);
            max_weight = max_weight.max(b.weight().to_wu());
        }
        assert!(
            max_weight > 3_950_000 || max_sigops > 79_000,
            "{profile}: heaviest block {max_weight} WU, most sigops {max_sigops}"
        );
    }
}

/// Long run (ignored by default): Core validates a whole generated chain given in
/// `LOADGEN_CHAIN`, e.g. `loadgen chain --blocks 1000 --out DIR`, then
/// `LOADGEN_CHAIN=DIR cargo test -p sluice-oracle --test loadgen_vs_core -- --ignored`.
#[test]
#[ignore = "needs LOADGEN_CHAIN pointing at a generated chain; takes minutes"]
fn core_accepts_chain_from_env() {
    let dir = std::path::PathBuf::from(std::env::var("LOADGEN_CHAIN").expect("LOADGEN_CHAIN"));
    let (manifest, _) = read_chain(&dir).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut config = CoreConfig::regtest(tmp.path());
    config.worker_threads = 2;
    let node = CoreNode::new(&config).unwrap();
    let start = std::time::Instant::now();
    let imported = node.import_dir(&dir).unwrap();
    let secs = start.elapsed().as_secs_f64();
    for (h, b) in imported.iter().enumerate().skip(1) {
        assert_eq!(b.verdict, Ok(BlockVerdict::Accepted), "block {h}");
    }
    assert_eq!(to_display_hex(&node.tip().hash), manifest.tip_hash);
    eprintln!(
        "Core accepted {} blocks ({} inputs) in {secs:.1}s",
        imported.len() - 1,
        manifest.totals.inputs
    );
}
