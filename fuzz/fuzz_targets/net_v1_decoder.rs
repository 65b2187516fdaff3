//! The v1 codec under arbitrary bytes: frame decoder in fuzzer-chosen chunks, typed decoding
//! with an encode/decode round-trip invariant, and a connected peer fed the same stream.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sluice_net::fuzz_harness::v1_stream(data);
});
