//! The RPC server's request path under arbitrary bytes: HTTP/1.1 parsing (whole and split) and
//! JSON-RPC 1.0/2.0 handling of whatever body comes out (see node/src/rpc/fuzz_harness.rs).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sluice_node::rpc::fuzz_harness::request(data);
});
