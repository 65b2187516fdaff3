//! Differential fuzz target: the fuzz input seeds the script generator shared with
//! oracle/tests/script_vs_core.rs; Sluice's verdict must equal Core's kernel's.

#![no_main]

#[path = "../../oracle/tests/common/core_verdict.rs"]
mod core_verdict;
#[path = "../../oracle/tests/common/scriptgen.rs"]
mod scriptgen;
#[path = "../../oracle/tests/common/sluice_verdict.rs"]
mod sluice_verdict;

use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fuzz_target!(|data: &[u8]| {
    // Fold the input into a 32-byte seed: every input byte influences the case.
    let mut seed = [0u8; 32];
    for (i, b) in data.iter().enumerate() {
        seed[i % 32] ^= b.rotate_left((i / 32 % 8) as u32);
    }
    let mut rng = ChaCha8Rng::from_seed(seed);
    let case = scriptgen::random_case(&mut rng);
    let core = core_verdict::core_verdict(&case);
    let sluice = sluice_verdict::sluice_verdict(&case);
    assert_eq!(core, sluice, "core {core}, sluice {sluice}:\n{}", case.hex());
});
