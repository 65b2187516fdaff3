//! Every vector backend against libsecp256k1 on mixed ECDSA and BIP340 checks built from the
//! input (see `sluice_vecsecp::fuzzing`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sluice_vecsecp::differential_check(data);
});
