//! Core's `dumptxoutset` snapshot reader on arbitrary bytes: no panic, no allocation beyond a
//! bound, and a snapshot that reads holds exactly the coins its metadata claims. (Amounts are
//! not range-checked by the reader: loading a snapshot must check them, as Core does.)

#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_storage::snapshot::read_snapshot;

fuzz_target!(|data: &[u8]| {
    if let Ok((meta, coins)) = read_snapshot(data) {
        assert_eq!(coins.len() as u64, meta.coins_count, "coin count");
    }
});
