//! race-block plumbing on the real block 866342: both engines accept every input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use sluice_consensus::script::deferred::EcdsaBackend;
use sluice_perf::block_inputs::BlockInputs;
use sluice_perf::race_block::{run_core, run_sluice, KernelInputs, SluiceInputs, SluiceMode};

fn block() -> BlockInputs {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/blocks");
    BlockInputs::load(
        &d.join("mainnet-866342.block"),
        &d.join("mainnet-866342.spent.json"),
    )
    .unwrap()
}

#[test]
fn both_engines_accept_every_input_of_866342() {
    let b = block();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let (t, fails) = run_core(&KernelInputs::new(&b).unwrap(), &pool).unwrap();
    assert!(fails.is_empty(), "core failures {fails:?}");
    assert!(t > 0.0);
    let s = SluiceInputs::new(&b).unwrap();
    for mode in [
        SluiceMode::pipeline(),
        SluiceMode {
            ecdsa: Some(EcdsaBackend::Libsecp),
            ..SluiceMode::pipeline()
        },
        SluiceMode::IN_PLACE,
    ] {
        let (t, fails) = run_sluice(&s, &pool, mode).unwrap();
        assert!(fails.is_empty(), "sluice ({mode:?}) failures {fails:?}");
        assert!(t > 0.0);
    }
}

#[test]
fn a_corrupted_spent_output_fails_in_both_engines() {
    let mut b = block();
    // Change the amount of the first taproot spend's prevout: its signature commits to it.
    let (ti, ii) = b
        .txs
        .iter()
        .enumerate()
        .find_map(|(ti, t)| {
            t.prevouts
                .iter()
                .position(|p| p.script_pubkey.len() == 34 && p.script_pubkey[0] == 0x51)
                .map(|ii| (ti, ii))
        })
        .expect("866342 has taproot spends");
    b.txs[ti].prevouts[ii].value += 1;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let (_, core_fails) = run_core(&KernelInputs::new(&b).unwrap(), &pool).unwrap();
    assert!(core_fails.contains(&(ti, ii)), "core {core_fails:?}");
    let s = SluiceInputs::new(&b).unwrap();
    let (_, direct) = run_sluice(&s, &pool, SluiceMode::IN_PLACE).unwrap();
    assert!(direct.contains(&(ti, ii)), "sluice {direct:?}");
    let (_, batched) = run_sluice(&s, &pool, SluiceMode::pipeline()).unwrap();
    assert!(!batched.is_empty(), "the batch must fail");
}

#[test]
fn a_changed_segwit_v0_amount_fails_the_deferred_ecdsa_check_of_its_input() {
    let mut b = block();
    // A P2WPKH spend: its signature commits to the amount, its CHECKSIG is deferred.
    let (ti, ii) = b
        .txs
        .iter()
        .enumerate()
        .find_map(|(ti, t)| {
            t.prevouts
                .iter()
                .position(|p| p.script_pubkey.len() == 22 && p.script_pubkey[..2] == [0, 20])
                .map(|ii| (ti, ii))
        })
        .expect("866342 has P2WPKH spends");
    b.txs[ti].prevouts[ii].value += 1;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let (_, core_fails) = run_core(&KernelInputs::new(&b).unwrap(), &pool).unwrap();
    assert_eq!(core_fails, vec![(ti, ii)]);
    let s = SluiceInputs::new(&b).unwrap();
    let (_, deferred) = run_sluice(&s, &pool, SluiceMode::pipeline()).unwrap();
    assert_eq!(deferred, vec![(ti, ii)]);
}
