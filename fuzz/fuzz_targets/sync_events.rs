//! See `sluice_net::fuzz_harness::sync_events`: its module documentation lists the invariants.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sluice_net::fuzz_harness::sync_events(data);
});
