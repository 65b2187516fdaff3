//! Really-signed loadgen chains of every profile import to the generator's tip and UTXO count;
//! every loadgen mutant is rejected with Core's reason (as labelled from Core's kernel) and
//! its boundary twin is accepted. Seeds and sizes are those of the oracle's loadgen_vs_core test,
//! where Core's kernel confirmed every verdict.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bitcoin::consensus::serialize;
use sluice_loadgen::{generate, mutate, read_chain, ChainSpec};
use sluice_pipeline::import;
use sluice_pipeline::testchain::{test_import_config, PrefixFixture};

fn check_profile(profile: &str, blocks: u32, seed: u64) {
    let tmp = tempfile::tempdir().unwrap();
    let chain_dir = tmp.path().join("chain");
    let manifest = generate(&ChainSpec::small(profile, blocks, seed), &chain_dir).unwrap();

    // The whole chain.
    let full = import(
        &test_import_config(tmp.path().join("full")),
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
    let prefix = PrefixFixture::new(tmp.path(), &chain[..tip]).unwrap();
    let pre = &prefix.report;
    assert_eq!(pre.tip_height as usize, tip - 1);
    let mutants = mutate(&chain_dir, &tmp.path().join("mutants")).unwrap();
    assert_eq!(mutants.len(), 19);
    let mut failures = Vec::new();
    for m in &mutants {
        let rule = &m.label.rule;
        let r = prefix.try_block(&format!("m-{rule}"), &m.block).unwrap();
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
            let r = prefix.try_block(&format!("t-{rule}"), twin).unwrap();
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
    let manifest = generate(&ChainSpec::small("legacy", 110, 13), &chain_dir).unwrap();
    let mut results = Vec::new();
    for entries in [0, 1, 65_536] {
        let mut c = test_import_config(tmp.path().join(format!("keys-{entries}")));
        c.key_cache_entries = entries;
        let r = import(&c, std::slice::from_ref(&chain_dir)).unwrap();
        assert!(r.rejected.is_empty(), "{entries}: {:?}", r.rejected);
        assert_eq!(r.tip_hex(), manifest.tip_hash);
        results.push((r.tip_hash, r.utxo_count, r.muhash));
    }
    assert!(results.windows(2).all(|w| w[0] == w[1]), "{results:?}");
}

/// Every ECDSA verifier the script stage can use (deferral off, libsecp256k1, the portable
/// lanes, IFMA where this CPU has it) gives the same results: a mainnet-mix chain (mostly
/// deferred ECDSA) imports to the generator's tip; a block with one flipped P2WPKH signature
/// among valid transactions (a deferred check), and one with a flipped taproot key-path
/// signature (deferred Schnorr: in lanes with a vector backend), are rejected with Core's
/// reason, and their twins are accepted.
#[test]
fn every_signature_backend_gives_the_same_verdicts() {
    use sluice_consensus::script::deferred::EcdsaBackend;
    let tmp = tempfile::tempdir().unwrap();
    let chain_dir = tmp.path().join("chain");
    let manifest = generate(&ChainSpec::small("mainnet-mix", 130, 11), &chain_dir).unwrap();
    let (_, chain) = read_chain(&chain_dir).unwrap();
    let chain: Vec<Vec<u8>> = chain.iter().map(serialize).collect();
    let tip = chain.len() - 1;
    let prefix = PrefixFixture::new(tmp.path(), &chain[..tip]).unwrap();
    let mutants = mutate(&chain_dir, &tmp.path().join("mutants")).unwrap();
    let bad: Vec<_> = ["bad-signature-ecdsa", "bad-signature-schnorr"]
        .iter()
        .map(|rule| {
            mutants
                .iter()
                .find(|m| m.label.rule == *rule)
                .expect("the bad-signature mutants")
        })
        .collect();
    let backends = std::iter::once(None).chain(
        EcdsaBackend::ALL
            .into_iter()
            .filter(|b| b.is_available())
            .map(Some),
    );
    for backend in backends {
        let name = format!("{backend:?}");
        let mut cfg = test_import_config(tmp.path().join(format!("full-{name}")));
        cfg.ecdsa = backend;
        let full = import(&cfg, std::slice::from_ref(&chain_dir)).unwrap();
        assert!(full.rejected.is_empty(), "{name}: {:?}", full.rejected);
        assert_eq!(full.tip_hex(), manifest.tip_hash, "{name}");
        assert_eq!(full.utxo_count, manifest.final_utxo_count, "{name}");

        for bad in &bad {
            let rule = &bad.label.rule;
            let r = prefix
                .try_block_with(&format!("m-{rule}-{name}"), &bad.block, |c| {
                    c.ecdsa = backend;
                })
                .unwrap();
            assert_eq!(
                r.tip_hash, prefix.report.tip_hash,
                "{name}: {rule} mutant connected"
            );
            let reason = r.rejected.first().map(|x| x.reason.clone());
            assert!(
                reason
                    .as_deref()
                    .is_some_and(|x| x.starts_with(&bad.label.expected_reason)),
                "{name}, {rule}: expected {:?}, got {reason:?}",
                bad.label.expected_reason
            );
            let twin = bad.twin.as_ref().expect("its twin");
            let r = prefix
                .try_block_with(&format!("t-{rule}-{name}"), twin, |c| c.ecdsa = backend)
                .unwrap();
            assert!(
                r.rejected.is_empty(),
                "{name}: {rule} twin {:?}",
                r.rejected
            );
            assert_eq!(r.tip_height as usize, tip, "{name}: {rule} twin");
        }
    }
}
