//! The body shared by the `rpc_request` fuzz target (fuzz/) and a bounded random-input unit
//! test: arbitrary bytes through the HTTP parser (whole and split at every fuzzer-chosen
//! point), and any body it yields through the JSON-RPC layer with a small method table.

use std::sync::Arc;

use serde_json::Value;

use super::http::{parse_request, Parsed};
use super::jsonrpc::handle;
use super::registry::{Arg, ArgType, Method, Params, Registry};

fn registry() -> Registry {
    let mut r = Registry::default();
    r.add(Method {
        name: "echo",
        category: "Test",
        args: vec![
            Arg::req("a", ArgType::Any),
            Arg::opt("b|bb", ArgType::Num),
            Arg::opt("c", ArgType::Str),
        ],
        summary: "",
        handler: Arc::new(|p: &Params| Ok(Value::Array(p.0.clone()))),
    });
    r
}

/// Runs one input; panics only on a broken invariant.
pub fn request(data: &[u8]) {
    let whole = parse_request(data);
    if let Ok(Parsed::Done { request, consumed }) = &whole {
        assert!(*consumed <= data.len());
        // The same bytes split in two parse to the same request once complete.
        let split = data.first().map_or(0, |b| usize::from(*b)) % (*consumed).max(1);
        assert!(
            matches!(
                parse_request(&data[..split]),
                Ok(Parsed::Incomplete) | Err(_)
            ) || split == 0
        );
        let reply = handle(&request.body, &registry());
        assert!(
            matches!(reply.status, 200 | 204 | 400 | 404 | 500),
            "{}",
            reply.status
        );
        if let Some(b) = reply.body {
            assert!(
                serde_json::from_str::<Value>(&b).is_ok(),
                "reply is JSON: {b}"
            );
        }
    }
    // The body alone, as JSON-RPC, never panics and always answers JSON or nothing.
    let reply = handle(data, &registry());
    if let Some(b) = reply.body {
        assert!(serde_json::from_str::<Value>(&b).is_ok());
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng as _, SeedableRng as _};

    #[test]
    fn random_and_mutated_requests_keep_the_invariants() {
        let seeds: [&[u8]; 4] = [
            b"POST / HTTP/1.1\r\nContent-Length: 44\r\n\r\n{\"id\":1,\"method\":\"echo\",\"params\":[1,2,\"x\"]}",
            b"POST / HTTP/1.0\r\nContent-Length: 58\r\n\r\n[{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":{\"a\":1,\"bb\":2}}]",
            b"{\"method\":\"echo\",\"params\":{\"args\":[1],\"c\":\"s\"}}",
            b"[1,{\"id\":null,\"jsonrpc\":\"2.0\"},{\"method\":\"nope\"}]",
        ];
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for i in 0..3000 {
            let mut data = seeds[i % seeds.len()].to_vec();
            for _ in 0..rng.gen_range(0..6) {
                let n = data.len();
                match rng.gen_range(0..3) {
                    0 if n > 0 => data[rng.gen_range(0..n)] = rng.gen(),
                    1 if n > 0 => {
                        data.remove(rng.gen_range(0..n));
                    }
                    _ => data.insert(rng.gen_range(0..=n), rng.gen()),
                }
            }
            super::request(&data);
        }
        for _ in 0..500 {
            let len = rng.gen_range(0..200);
            let data: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            super::request(&data);
        }
    }
}
