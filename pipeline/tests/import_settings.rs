//! Settings that must not change a verdict: the same really-signed chain imported with MuHash
//! tracked and not, and with one and two script workers, ends at the same tip with the same
//! UTXO set, compared by MuHash recomputed from each store by a full scan (and, where tracked,
//! equal to the incremental value).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sluice_consensus::hash::to_display_hex;
use sluice_loadgen::{generate, ChainSpec};
use sluice_pipeline::import;
use sluice_pipeline::testchain::test_import_config;
use sluice_storage::{ChainStore, StoreConfig};

#[test]
fn muhash_on_or_off_and_one_or_two_script_workers_give_the_same_utxo_set() {
    let tmp = tempfile::tempdir().unwrap();
    let chain = tmp.path().join("chain");
    let manifest = generate(&ChainSpec::small("mainnet-mix", 140, 61), &chain).unwrap();
    let mut seen = Vec::new();
    for (muhash, workers) in [(true, 1), (true, 2), (false, 1), (false, 2)] {
        let dir = tmp.path().join(format!("m{muhash}-w{workers}"));
        let mut cfg = test_import_config(dir.clone());
        cfg.muhash = muhash;
        cfg.shell.script_workers = workers;
        let r = import(&cfg, std::slice::from_ref(&chain)).unwrap();
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        assert_eq!(r.tip_hex(), manifest.tip_hash);
        assert_eq!(r.muhash.is_some(), muhash);
        let store = ChainStore::open(
            &dir,
            &StoreConfig {
                track_muhash: false,
                ..StoreConfig::default()
            },
        )
        .unwrap();
        let scanned = to_display_hex(&store.recompute_muhash().unwrap());
        if let Some(tracked) = &r.muhash {
            assert_eq!(tracked, &scanned, "incremental MuHash against a full scan");
        }
        seen.push((r.tip_height, r.utxo_count, scanned));
    }
    assert!(
        seen.windows(2).all(|w| w[0] == w[1]),
        "settings changed the result: {seen:?}"
    );
}
