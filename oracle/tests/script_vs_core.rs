//! Script differential (issue 3): random really-signed spends of every standard output type,
//! half of them randomly mutated, verified by Bitcoin Core's kernel and by Sluice under random
//! combinations of the consensus flags the kernel exposes. Any disagreement fails and prints the
//! case as hex. Fixed seed, a few thousand cases per run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::core_verdict::core_verdict;
use common::scriptgen::{random_case, signed_case};
use common::sluice_verdict::sluice_verdict;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Cases per run: a few thousand, well under a minute on two cores.
const CASES: u32 = 5000;

#[test]
fn sluice_and_core_agree_on_random_spends() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x5c41_7e00);
    let (mut agreed, mut valid, mut invalid) = (0u32, 0u32, 0u32);
    let mut disagreements = Vec::new();
    for _ in 0..CASES {
        let case = random_case(&mut rng);
        let core = core_verdict(&case);
        let sluice = sluice_verdict(&case);
        if core == sluice {
            agreed += 1;
        } else {
            disagreements.push(format!("core {core}, sluice {sluice}: {}", case.hex()));
        }
        if core {
            valid += 1;
        } else {
            invalid += 1;
        }
    }
    println!(
        "script_vs_core: {CASES} cases, {agreed} agreed, Core verdicts {valid} valid / {invalid} invalid"
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    assert!(
        valid > CASES / 4 && invalid > CASES / 8,
        "both verdicts are exercised"
    );
}

#[test]
fn signed_spends_of_every_type_are_valid_for_core() {
    // The generator really signs: unmutated spends pass Core under every flag set it draws.
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed_0001);
    let mut kinds = std::collections::BTreeMap::new();
    for _ in 0..400 {
        let case = signed_case(&mut rng);
        assert!(
            core_verdict(&case),
            "Core rejects a correctly signed spend:\n{}",
            case.hex()
        );
        *kinds.entry(format!("{:?}", case.kind)).or_insert(0u32) += 1;
    }
    println!("signed spends per kind: {kinds:?}");
    assert_eq!(
        kinds.len(),
        common::scriptgen::KINDS.len(),
        "every kind generated"
    );
}

#[test]
fn mutations_make_core_reject_some_and_not_all() {
    // Guards the mutator: it must produce both verdicts, or the differential would be vacuous.
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed_0002);
    let (mut valid, mut invalid) = (0u32, 0u32);
    for _ in 0..400 {
        let mut case = signed_case(&mut rng);
        common::scriptgen::mutate(&mut rng, &mut case);
        if core_verdict(&case) {
            valid += 1;
        } else {
            invalid += 1;
        }
    }
    println!("mutated: {valid} still valid, {invalid} invalid");
    assert!(
        invalid > 200 && valid > 0,
        "valid {valid}, invalid {invalid}"
    );
}

#[test]
fn random_cases_replay_deterministically() {
    let a = random_case(&mut ChaCha8Rng::seed_from_u64(7)).hex();
    let b = random_case(&mut ChaCha8Rng::seed_from_u64(7)).hex();
    assert_eq!(a, b);
}
