//! Really-signed loadgen chains of every profile import to the generator's tip and UTXO count;
//! every loadgen mutant is rejected with Core's reason (as labelled from Core's kernel) and
//! its boundary twin is accepted. Seeds and sizes are those of the oracle's loadgen_vs_core test,
//! where Core's kernel confirmed every verdict.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use bitcoin::consensus::serialize;
use sluice_consensus::chain::{Network, Params};
use sluice_loadgen::{generate, mutate, read_chain, ChainSpec};
use sluice_pipeline::testchain::frame;
use sluice_pipeline::{import, ImportConfig, ImportReport};

const TEST_WEIGHT: u64 = 60_000;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn cfg(datadir: PathBuf) -> ImportConfig {
    let mut c = ImportConfig::new(Network::Regtest, datadir);
    c.cache_bytes = 32 << 20;
    c
}

/// Imports `block` on top of a copy of the prefix datadir.
fn try_block(
    work: &Path,
    prefix_dir: &Path,
    prefix_file: &Path,
    name: &str,
    block: &[u8],
) -> ImportReport {
    let dir = work.join(name);
    copy_dir(prefix_dir, &dir.join("data"));
    let file = dir.join("block.dat");
    std::fs::write(&file, frame(Params::regtest().magic, &[block.to_vec()])).unwrap();
    import(&cfg(dir.join("data")), &[prefix_file.to_path_buf(), file]).unwrap()
}

fn check_profile(profile: &str, blocks: u32, seed: u64) {
    let tmp = tempfile::tempdir().unwrap();
    let chain_dir = tmp.path().join("chain");
    let spec = ChainSpec {
        profile: profile.to_owned(),
        blocks,
        seed,
        target_weight: TEST_WEIGHT,
        threads: 2,
    };
    let manifest = generate(&spec, &chain_dir).unwrap();

    // The whole chain.
    let full = import(
        &cfg(tmp.path().join("full")),
        std::slice::from_ref(&chain_dir),
    )
    .unwrap();
    assert!(full.rejected.is_empty(), "{profile}: {:?}", full.rejected);
    assert_eq!(full.tip_height, manifest.tip_height);
    assert_eq!(full.tip_hex(), manifest.tip_hash);
    assert_eq!(
        full.utxo_count, manifest.final_utxo_count,
        "{profile}: UTXO count"
    );
    assert!(full.inputs > 0);

    // Mutants and twins on the prefix (the chain without its tip).
    let (_, chain) = read_chain(&chain_dir).unwrap();
    let chain: Vec<Vec<u8>> = chain.iter().map(serialize).collect();
    let tip = chain.len() - 1;
    let prefix_file = tmp.path().join("prefix.dat");
    std::fs::write(&prefix_file, frame(Params::regtest().magic, &chain[..tip])).unwrap();
    let prefix_dir = tmp.path().join("prefix");
    let pre = import(&cfg(prefix_dir.clone()), std::slice::from_ref(&prefix_file)).unwrap();
    assert_eq!(pre.tip_height as usize, tip - 1);
    let mutants = mutate(&chain_dir, &tmp.path().join("mutants")).unwrap();
    assert_eq!(mutants.len(), 19);
    let mut failures = Vec::new();
    for m in &mutants {
        let rule = &m.label.rule;
        let r = try_block(
            tmp.path(),
            &prefix_dir,
            &prefix_file,
            &format!("m-{rule}"),
            &m.block,
        );
        let reason = r.rejected.first().map(|x| x.reason.clone());
        let ok = r.tip_hash == pre.tip_hash
            && reason
                .as_deref()
                .is_some_and(|x| x.starts_with(&m.label.expected_reason));
        if !ok {
            failures.push(format!(
                "{rule}: expected {:?}, sluice {:?} (tip {})",
                m.label.expected_reason, reason, r.tip_height
            ));
        }
        if let Some(twin) = &m.twin {
            let r = try_block(
                tmp.path(),
                &prefix_dir,
                &prefix_file,
                &format!("t-{rule}"),
                twin,
            );
            if !r.rejected.is_empty() || r.tip_height as usize != tip {
                failures.push(format!("{rule} twin: sluice rejected {:?}", r.rejected));
            }
        }
    }
    assert!(failures.is_empty(), "{profile}:\n{}", failures.join("\n"));
}

#[test]
fn mainnet_mix_chain_mutants_and_twins() {
    check_profile("mainnet-mix", 130, 11);
}

#[test]
fn taproot_chain_mutants_and_twins() {
    check_profile("taproot", 120, 12);
}

#[test]
fn legacy_chain_mutants_and_twins() {
    check_profile("legacy", 120, 13);
}

#[test]
fn utxo_heavy_chain_mutants_and_twins() {
    check_profile("utxo-heavy", 115, 14);
}

/// The memo of parsed ECDSA keys changes no result: off, one entry (cleared on every new key)
/// and the default give the same tip, UTXO count and MuHash.
#[test]
fn key_memo_size_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let chain_dir = tmp.path().join("chain");
    let spec = ChainSpec {
        profile: "legacy".to_owned(),
        blocks: 110,
        seed: 13,
        target_weight: TEST_WEIGHT,
        threads: 2,
    };
    let manifest = generate(&spec, &chain_dir).unwrap();
    let mut results = Vec::new();
    for entries in [0, 1, 65_536] {
        let mut c = cfg(tmp.path().join(format!("keys-{entries}")));
        c.key_cache_entries = entries;
        let r = import(&c, std::slice::from_ref(&chain_dir)).unwrap();
        assert!(r.rejected.is_empty(), "{entries}: {:?}", r.rejected);
        assert_eq!(r.tip_hex(), manifest.tip_hash);
        results.push((r.tip_hash, r.utxo_count, r.muhash));
    }
    assert!(results.windows(2).all(|w| w[0] == w[1]), "{results:?}");
}
