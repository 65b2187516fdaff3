//! The RPC server over real sockets, without bitcoind: a generated chain submitted with
//! `submitblock`, Core's answers to bad input (malformed JSON, unknown method, wrong types,
//! oversized body, missing and wrong credentials, GET), a bounded flood that gets 503s while
//! the node keeps working, and `stop` removing the cookie.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::rpc::{call, cookie_auth, post, raw};
use serde_json::json;
use sluice_consensus::hash::to_display_hex;
use sluice_consensus::header::Header;
use sluice_loadgen::{generate, ChainSpec};
use sluice_node::config::{NetworkArg, NodeConfig};
use sluice_node::run;
use sluice_storage::blockfile::{list_block_files, read_block_file};

// Coinbases mature after 100 blocks: the last ones spend.
const BLOCKS: u32 = 110;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submitblock_bad_input_flood_and_stop() {
    let chain_dir = tempfile::tempdir().unwrap();
    generate(
        &ChainSpec::small("mainnet-mix", BLOCKS, 7),
        chain_dir.path(),
    )
    .unwrap();
    let magic = sluice_consensus::chain::Params::regtest().magic;
    let mut blocks = Vec::new();
    for f in list_block_files(chain_dir.path()).unwrap() {
        blocks.extend(
            read_block_file(&f, magic)
                .unwrap()
                .blocks
                .into_iter()
                .map(|b| b.bytes),
        );
    }
    let data = tempfile::tempdir().unwrap();
    let cfg = NodeConfig {
        network: NetworkArg::Regtest,
        datadir: data.path().to_path_buf(),
        listen: false,
        progress: false,
        cache_mb: 64,
        script_workers: 2,
        rpcport: Some(0),
        rpcthreads: 1,
        rpcworkqueue: 2,
        ..NodeConfig::default()
    };
    let node = run::start(&cfg).await.unwrap();
    let addr = node.rpc_addrs[0];
    let cookie = node.rpc_cookie.clone().unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        let text = std::fs::read_to_string(&cookie).unwrap();
        assert!(
            text.starts_with("__cookie__:") && text.len() == 11 + 64,
            "{text}"
        );
        let mode = std::fs::metadata(&cookie).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let auth = cookie_auth(&cookie);
    tokio::task::block_in_place(|| {
        // Submit the generated chain (genesis is already there).
        let mut mutated = None;
        for (i, b) in blocks.iter().enumerate() {
            let hash = Header::decode(b).unwrap().block_hash();
            if hash == sluice_consensus::chain::Params::regtest().genesis_hash {
                continue;
            }
            if i == 5 {
                // A copy with a changed transaction byte: the merkle root no longer matches.
                let mut m = b.clone();
                let n = m.len();
                m[n - 5] ^= 1;
                mutated = Some(m);
            }
            let (status, r) = call(addr, &auth, "submitblock", &json!([hex::encode(b)]));
            assert_eq!(
                (status, &r["result"]),
                (200, &serde_json::Value::Null),
                "block {i}: {r}"
            );
        }
        let (_, r) = call(addr, &auth, "getblockcount", &json!([]));
        assert_eq!(r["result"], BLOCKS);
        let (_, r) = call(
            addr,
            &auth,
            "submitblock",
            &json!([hex::encode(&blocks[3])]),
        );
        assert_eq!(r["result"], "duplicate");
        let (_, r) = call(
            addr,
            &auth,
            "submitblock",
            &json!([hex::encode(mutated.unwrap())]),
        );
        assert_eq!(r["result"], "duplicate", "same header as a held block");
        let (_, r) = call(addr, &auth, "submitblock", &json!(["00"]));
        assert_eq!(r["error"]["code"], -22);

        // Answers agree with the node's own status.
        let st = node.status.borrow().clone();
        let (_, r) = call(addr, &auth, "getbestblockhash", &json!([]));
        assert_eq!(r["result"], to_display_hex(&st.hash));
        let (_, r) = call(addr, &auth, "gettxoutsetinfo", &json!(["muhash"]));
        assert_eq!(r["result"]["muhash"], st.muhash.clone().unwrap());
        assert_eq!(r["result"]["txouts"], st.utxo_count);
        let (_, r) = call(addr, &auth, "getblockhash", &json!([BLOCKS]));
        assert_eq!(r["result"], to_display_hex(&st.hash));
        let (_, r) = call(
            addr,
            &auth,
            "getblock",
            &json!({"blockhash": to_display_hex(&st.hash), "verbosity": 2}),
        );
        assert_eq!(r["result"]["height"], BLOCKS);
        assert_eq!(r["result"]["confirmations"], 1);
        // The newest block with a spending transaction: undo data gives its fee.
        let (hash, block) = (1..=BLOCKS)
            .rev()
            .find_map(|h| {
                let hash = call(addr, &auth, "getblockhash", &json!([h])).1["result"].clone();
                let b = call(addr, &auth, "getblock", &json!([hash, 3])).1["result"].clone();
                (b["tx"].as_array().unwrap().len() > 1).then_some((hash, b))
            })
            .expect("a block with transactions");
        assert!(block["tx"][1]["fee"].is_number(), "{}", block["tx"][1]);
        assert!(block["tx"][1]["vin"][0]["prevout"]["value"].is_number());
        let txid = block["tx"][1]["txid"].as_str().unwrap().to_owned();
        let (_, r) = call(addr, &auth, "getrawtransaction", &json!([txid, 2, hash]));
        assert_eq!(r["result"]["in_active_chain"], true);
        assert_eq!(r["result"]["fee"], block["tx"][1]["fee"]);
        let hex_tx = r["result"]["hex"].as_str().unwrap().to_owned();
        let (_, d) = call(addr, &auth, "decoderawtransaction", &json!([hex_tx]));
        assert_eq!(d["result"]["txid"], txid);
        let (_, r) = call(addr, &auth, "getchaintips", &json!([]));
        assert_eq!(
            r["result"],
            json!([{"height": BLOCKS, "hash": to_display_hex(&st.hash), "branchlen": 0, "status": "active"}])
        );

        // Bad input, with Core's statuses and codes.
        let r = post(addr, Some(&auth), "{\"method\": ");
        assert_eq!(
            (r.status, r.json()["error"]["code"].clone()),
            (500, json!(-32700))
        );
        let (s, r) = call(addr, &auth, "nosuchmethod", &json!([]));
        assert_eq!((s, r["error"]["code"].clone()), (404, json!(-32601)));
        let (s, r) = call(addr, &auth, "getblockhash", &json!(["x"]));
        assert_eq!((s, r["error"]["code"].clone()), (500, json!(-3)));
        let (_, r) = call(addr, &auth, "getblockhash", &json!([BLOCKS + 1]));
        assert_eq!(
            r["error"],
            json!({"code": -8, "message": "Block height out of range"})
        );
        let (_, r) = call(addr, &auth, "getblock", &json!(["zz"]));
        assert_eq!(r["error"]["code"], -8);
        let (_, r) = call(addr, &auth, "getblock", &json!(["00".repeat(32)]));
        assert_eq!(
            r["error"],
            json!({"code": -5, "message": "Block not found"})
        );
        let r = post(
            addr,
            Some(&auth),
            r#"{"jsonrpc":"2.0","method":"getblockcount"}"#,
        );
        assert_eq!((r.status, r.body.as_str()), (204, ""));
        let r = post(
            addr,
            Some(&auth),
            r#"[{"jsonrpc":"2.0","id":1,"method":"getblockcount"},{"id":2,"method":"nope"}]"#,
        );
        assert_eq!(r.status, 200);
        assert_eq!(r.json()[0]["result"], BLOCKS);
        assert_eq!(r.json()[1]["error"]["code"], -32601);
        let big = format!(
            "POST / HTTP/1.1\r\nAuthorization: {auth}\r\nContent-Length: {}\r\n\r\n",
            (32 << 20) + 1
        );
        assert_eq!(raw(addr, big.as_bytes()).status, 413);
        let r = post(addr, None, "{}");
        assert_eq!(r.status, 401);
        assert!(
            r.head.contains("WWW-Authenticate: Basic realm=\"jsonrpc\""),
            "{}",
            r.head
        );
        let t = Instant::now();
        assert_eq!(
            post(addr, Some("Basic X19jb29raWVfXzp3cm9uZw=="), "{}").status,
            401
        );
        assert!(
            t.elapsed() >= Duration::from_millis(250),
            "a wrong password waits"
        );
        assert_eq!(raw(addr, b"GET / HTTP/1.1\r\n\r\n").status, 405);
    });

    // A bounded flood: 1 worker, a queue of 2, 48 concurrent scans of the UTXO set. Some are
    // refused with 503 at once; the rest are answered; the node still answers afterwards.
    let ok = Arc::new(AtomicUsize::new(0));
    let busy = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..48 {
        let (ok, busy, auth) = (ok.clone(), busy.clone(), auth.clone());
        tasks.push(tokio::task::spawn_blocking(move || {
            let body =
                json!({"id": 1, "method": "gettxoutsetinfo", "params": ["muhash"]}).to_string();
            match post(addr, Some(&auth), &body).status {
                200 => ok.fetch_add(1, Ordering::Relaxed),
                503 => busy.fetch_add(1, Ordering::Relaxed),
                s => panic!("status {s}"),
            };
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let (ok, busy) = (ok.load(Ordering::Relaxed), busy.load(Ordering::Relaxed));
    assert_eq!(ok + busy, 48);
    assert!(ok >= 1 && busy >= 1, "ok {ok}, refused {busy}");
    tokio::task::block_in_place(|| {
        let (_, r) = call(addr, &auth, "getblockcount", &json!([]));
        assert_eq!(r["result"], BLOCKS);
        let (_, r) = call(addr, &auth, "stop", &json!([]));
        assert_eq!(r["result"], "Sluice stopping");
    });
    tokio::time::timeout(Duration::from_secs(60), node.wait())
        .await
        .expect("stop ends the node")
        .unwrap();
    assert!(
        !cookie.exists(),
        "the cookie is removed on a clean shutdown"
    );
}
