//! The BIP324 transport under arbitrary bytes: a responder fed raw input, or a real handshake
//! whose initiator bytes are chunked and corrupted as the input says.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sluice_net::fuzz_harness::v2_handshake(data);
});
