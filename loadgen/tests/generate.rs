//! Generator behaviour: determinism across thread counts, argument errors, manifest contents.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use sluice_loadgen::{generate, mutate, read_chain, ChainSpec, LoadgenError};

fn spec(profile: &str, blocks: u32, seed: u64, threads: usize) -> ChainSpec {
    ChainSpec {
        profile: profile.to_owned(),
        blocks,
        seed,
        target_weight: 40_000,
        threads,
    }
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn same_seed_is_byte_identical_with_one_and_two_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let ma = generate(&spec("mainnet-mix", 106, 7, 1), &a).unwrap();
    let mb = generate(&spec("mainnet-mix", 106, 7, 2), &b).unwrap();
    assert_eq!(ma.tip_hash, mb.tip_hash);
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(fa.len(), 2, "blk00000.dat and manifest.json");
    assert_eq!(fa, fb);
    // A different seed gives a different chain.
    let c = tmp.path().join("c");
    let mc = generate(&spec("mainnet-mix", 106, 8, 2), &c).unwrap();
    assert_ne!(mc.tip_hash, ma.tip_hash);
}

#[test]
fn manifest_counts_match_the_blocks() {
    let tmp = tempfile::tempdir().unwrap();
    let m = generate(&spec("mainnet-mix", 110, 3, 2), tmp.path()).unwrap();
    let (read_m, blocks) = read_chain(tmp.path()).unwrap();
    let mut written = m.clone();
    written.timing = sluice_loadgen::Timing::default(); // wall-clock figures are not serialized
    assert_eq!(read_m, written);
    assert_eq!(blocks.len(), 111, "genesis + 110 blocks");
    let txs: u64 = blocks.iter().skip(1).map(|b| b.txdata.len() as u64).sum();
    let inputs: u64 = blocks
        .iter()
        .skip(1)
        .flat_map(|b| b.txdata.iter().skip(1))
        .map(|t| t.input.len() as u64)
        .sum();
    assert_eq!(m.totals.txs, txs);
    assert_eq!(m.totals.inputs, inputs);
    assert_eq!(m.totals.inputs_by_type.values().sum::<u64>(), inputs);
    assert_eq!(m.ranges.len(), 2);
    assert!(blocks.iter().all(|b| b.weight().to_wu() <= 40_000 + 4_000));
    assert!(m.final_utxo_count > 100);
}

#[test]
fn bad_arguments_give_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let e = generate(&spec("mainnet", 10, 1, 1), tmp.path()).unwrap_err();
    assert!(matches!(e, LoadgenError::UnknownProfile { .. }));
    assert!(e.to_string().contains("mainnet-mix"), "{e}");
    let e = generate(&spec("taproot", 0, 1, 1), tmp.path()).unwrap_err();
    assert!(matches!(e, LoadgenError::ZeroBlocks), "{e}");
    let e = generate(&spec("taproot", 5, 1, 0), tmp.path()).unwrap_err();
    assert!(matches!(e, LoadgenError::ZeroThreads), "{e}");
    let mut s = spec("taproot", 5, 1, 1);
    s.target_weight = 5_000_000;
    assert!(matches!(
        generate(&s, tmp.path()).unwrap_err(),
        LoadgenError::TargetWeight(_)
    ));
    // A directory below a regular file cannot be created.
    let file = tmp.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let e = generate(&spec("taproot", 5, 1, 1), &file.join("sub")).unwrap_err();
    assert!(matches!(e, LoadgenError::OutputDir { .. }), "{e}");
    // Mutants need a chain past coinbase maturity.
    let short = tmp.path().join("short");
    generate(&spec("legacy", 20, 1, 1), &short).unwrap();
    let e = mutate(&short, &tmp.path().join("m")).unwrap_err();
    assert!(e.to_string().contains("at least 102"), "{e}");
    let e = mutate(&tmp.path().join("nothing"), &tmp.path().join("m")).unwrap_err();
    assert!(e.to_string().contains("manifest.json"), "{e}");
}
