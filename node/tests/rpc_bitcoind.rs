//! Sluice's RPC answers compared field by field with bitcoind's on the same chain, through
//! bitcoin-cli itself and through python-bitcoinlib (a real client from PyPI, installed by
//! scripts/deps). Fields that differ by design are listed in docs/rpc.md and in `ALLOWED`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use bitcoin::hashes::Hash;
use common::{node_config, wait_tip};
use serde_json::Value;
use sluice_bitcoind::Bitcoind;
use sluice_loadgen::wallet::Wallet;
use sluice_loadgen::{generate, ChainSpec};
use sluice_node::run;

const BLOCKS: u32 = 110;
/// The generator's seed, which is also its wallet's.
const WALLET_SEED: u64 = 12;

/// (method, field path) pairs that differ by design (docs/rpc.md says why).
const ALLOWED: &[(&str, &str)] = &[
    ("getblockchaininfo", "/verificationprogress"),
    ("getblockchaininfo", "/initialblockdownload"),
    ("getblockchaininfo", "/size_on_disk"),
    ("getblockchaininfo", "/warnings"),
    ("gettxoutsetinfo", "/transactions"),
    ("gettxoutsetinfo", "/disk_size"),
    // Memory use is Sluice's estimate, not Core's heap accounting.
    ("getmempoolinfo", "/usage"),
    // Entry times are each node's clock when it accepted the transaction.
    ("getmempoolentry", "/time"),
    ("getrawmempool", "/*/time"),
];

/// Whether `field` matches `pattern`, where a `*` segment matches any one segment.
fn field_matches(pattern: &str, field: &str) -> bool {
    let (p, f): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), field.split('/').collect());
    p.len() == f.len() && p.iter().zip(&f).all(|(a, b)| *a == "*" || a == b)
}

/// Methods compared by shape only (Sluice's fields must be among Core's): node-specific
/// values (versions, peers, uptime).
const SHAPE_ONLY: &[&str] = &["getnetworkinfo", "getpeerinfo"];

fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => diff(&format!("{path}/{k}"), v, w, out),
                    None => out.push(format!("{path}/{k}: only in Sluice")),
                }
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                out.push(format!("{path}/{k}: only in bitcoind"));
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}/{i}"), v, w, out);
            }
        }
        (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => {}
        _ if a == b => {}
        _ => out.push(format!("{path}: sluice {a} bitcoind {b}")),
    }
}

fn shape(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    let (a, b) = match (a, b) {
        (Value::Array(x), Value::Array(y)) => match (x.first(), y.first()) {
            (Some(a), Some(b)) => (a, b),
            _ => return,
        },
        _ => (a, b),
    };
    if let (Value::Object(x), Value::Object(y)) = (a, b) {
        for k in x.keys().filter(|k| !y.contains_key(*k)) {
            out.push(format!("{path}/{k}: only in Sluice"));
        }
    }
}

fn parse(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_matches_bitcoind_field_by_field() {
    let chain_dir = tempfile::tempdir().unwrap();
    generate(
        &ChainSpec::small("mainnet-mix", BLOCKS, WALLET_SEED),
        chain_dir.path(),
    )
    .unwrap();
    let seed = tokio::task::block_in_place(|| {
        let a = Bitcoind::start(&[Bitcoind::loadblock(chain_dir.path())]);
        a.wait_height(BLOCKS, Duration::from_secs(120));
        a
    });
    let tip = seed.best_hash();
    let data = tempfile::tempdir().unwrap();
    let mut cfg = node_config(data.path(), &[seed.p2p.to_string()], false);
    cfg.rpcport = Some(0);
    let node = run::start(&cfg).await.unwrap();
    wait_tip(&node, &tip, Duration::from_secs(180)).await;
    let addr = node.rpc_addrs[0];
    let cookie = node.rpc_cookie.clone().unwrap();

    tokio::task::block_in_place(|| {
        let ours_err = |c: &[&str]| match common::rpc::cli(addr, &cookie, c) {
            Ok(s) => Ok(parse(&s)),
            Err(e) => Err(e),
        };
        let core_err = |c: &[&str]| match seed.try_cli(c) {
            Some(s) => Ok(parse(&s)),
            None => Err(seed.cli_err(c)),
        };
        // A block with spending transactions, one of its txids, and an unspent output.
        let spend_height = (1..=BLOCKS)
            .rev()
            .find(|h| {
                let hash = seed.cli(&["getblockhash", &h.to_string()]);
                parse(&seed.cli(&["getblock", &hash]))["nTx"].as_u64() > Some(1)
            })
            .unwrap();
        let bh = seed.cli(&["getblockhash", &spend_height.to_string()]);
        let block = parse(&seed.cli(&["getblock", &bh, "2"]));
        let txid = block["tx"][1]["txid"].as_str().unwrap().to_owned();
        let txhex = block["tx"][1]["hex"].as_str().unwrap().to_owned();
        let cb = parse(&seed.cli(&["getblock", &tip]))["tx"][0]
            .as_str()
            .unwrap()
            .to_owned();
        let calls: Vec<Vec<&str>> = vec![
            vec!["getblockchaininfo"],
            vec!["getblockcount"],
            vec!["getbestblockhash"],
            vec!["getblockhash", "0"],
            vec!["getblockhash", "57"],
            vec!["getblockheader", &bh],
            vec!["getblockheader", &bh, "false"],
            vec!["getblock", &bh, "0"],
            vec!["getblock", &bh, "1"],
            vec!["getblock", &bh, "2"],
            vec!["getblock", &bh, "3"],
            vec!["getblock", &tip],
            vec!["getchaintips"],
            vec!["gettxout", &cb, "0", "false"],
            vec!["gettxoutsetinfo", "muhash"],
            vec!["getrawtransaction", &txid, "0", &bh],
            vec!["getrawtransaction", &txid, "1", &bh],
            vec!["getrawtransaction", &txid, "2", &bh],
            vec!["decoderawtransaction", &txhex],
            vec!["getconnectioncount"],
            vec!["getnetworkinfo"],
            vec!["getpeerinfo"],
            // Errors: compared by text (bitcoin-cli prints code and message).
            vec!["getblockhash", "100000"],
            vec!["getblock", "00"],
        ];
        let mut unexplained = Vec::new();
        let mut all = Vec::new();
        compare(&calls, &ours_err, &core_err, &mut all, &mut unexplained);
        mempool_calls(
            &seed,
            &ours_err,
            &core_err,
            &txhex,
            &mut all,
            &mut unexplained,
        );
        eprintln!("differences (bitcoin-cli):\n{}", all.join("\n"));

        // The same through python-bitcoinlib's RawProxy.
        let py = |url: &str| {
            let script = format!(
                "import json,bitcoin.rpc as r\np=r.RawProxy(service_url='{url}')\nout={{}}\nfor m,a in [('getblockcount',[]),('getbestblockhash',[]),('getblockheader',['{bh}']),('getblock',['{bh}',2]),('gettxoutsetinfo',['muhash']),('getrawtransaction',['{txid}',1,'{bh}'])]:\n    out[m]=p._call(m,*a)\nprint(json.dumps(out,default=float))"
            );
            let o = std::process::Command::new("python3")
                .arg("-c")
                .arg(script)
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "python-bitcoinlib: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            parse(String::from_utf8_lossy(&o.stdout).trim())
        };
        let creds = |p: &std::path::Path| std::fs::read_to_string(p).unwrap().trim().to_owned();
        let a = py(&format!("http://{}@{addr}", creds(&cookie)));
        let b = py(&format!(
            "http://{}@{}",
            creds(&seed.cookie_path()),
            seed.rpc_addr()
        ));
        let mut d = Vec::new();
        diff("", &a, &b, &mut d);
        for x in d {
            let field = x.split(':').next().unwrap_or_default();
            if !field.starts_with("/gettxoutsetinfo/transactions")
                && !field.starts_with("/gettxoutsetinfo/disk_size")
            {
                unexplained.push(format!("python-bitcoinlib: {x}"));
            }
        }
        assert!(
            unexplained.is_empty(),
            "unexplained differences:\n{}",
            unexplained.join("\n")
        );
    });
    node.shutdown().await.unwrap();
}

type Cli<'a> = &'a dyn Fn(&[&str]) -> Result<Value, String>;

/// Runs each call on both nodes and records every differing field (`unexplained` unless in
/// `ALLOWED`); errors are compared by text (bitcoin-cli prints code and message).
fn compare(
    calls: &[Vec<&str>],
    ours: Cli<'_>,
    core: Cli<'_>,
    all: &mut Vec<String>,
    unexplained: &mut Vec<String>,
) {
    for c in calls {
        let (a, b) = match (ours(c), core(c)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e1), Err(e2)) => {
                if e1 != e2 {
                    unexplained.push(format!("{c:?}: error sluice {e1:?} bitcoind {e2:?}"));
                }
                continue;
            }
            (a, b) => {
                unexplained.push(format!("{c:?}: sluice {a:?} bitcoind {b:?}"));
                continue;
            }
        };
        let mut d = Vec::new();
        if SHAPE_ONLY.contains(&c[0]) {
            shape("", &a, &b, &mut d);
        } else {
            diff("", &a, &b, &mut d);
        }
        for x in d {
            let field = x.split(':').next().unwrap_or_default().to_owned();
            let field = if field.is_empty() { "/".into() } else { field };
            all.push(format!("{}: {x}", c.join(" ")));
            if !ALLOWED
                .iter()
                .any(|(m, f)| *m == c[0] && field_matches(f, &field))
            {
                unexplained.push(format!("{}: {x}", c.join(" ")));
            }
        }
    }
}

/// The mempool methods on both nodes: a wallet coin spent (parent) and its output spent
/// again (child), submitted to bitcoind first (so neither node's relay races the comparison),
/// then every query, and the rejections Core names with their codes.
fn mempool_calls(
    seed: &Bitcoind,
    ours: Cli<'_>,
    core: Cli<'_>,
    confirmed_hex: &str,
    all: &mut Vec<String>,
    unexplained: &mut Vec<String>,
) {
    let wallet = Wallet::new(WALLET_SEED);
    let coins = common::wallet::find_coins(seed, &wallet, 2);
    assert_eq!(coins.len(), 2, "wallet coins on the chain");
    let parent = common::wallet::spend(&wallet, &coins[0], 2_000);
    let child_coin = common::wallet::output_of(&parent);
    let child = common::wallet::spend(&wallet, &child_coin, 3_000);
    // Same coin as the parent, same fee: a replacement that fails Core's rule 3/4 checks.
    let conflict = common::wallet::spend(&wallet, &coins[0], 2_001);
    let orphan = common::wallet::spend(
        &wallet,
        &common::wallet::Coin {
            outpoint: bitcoin::OutPoint {
                txid: bitcoin::Txid::from_byte_array([7; 32]),
                vout: 0,
            },
            ..coins[1].clone()
        },
        1_000,
    );
    let (p, c, x, o) = (
        common::wallet::hex_of(&parent),
        common::wallet::hex_of(&child),
        common::wallet::hex_of(&conflict),
        common::wallet::hex_of(&orphan),
    );
    let pid = parent.compute_txid().to_string();
    let cid = child.compute_txid().to_string();
    let p_arr = format!("[\"{p}\"]");
    let c_arr = format!("[\"{c}\"]");
    // Packages: valid, unsorted, duplicated, conflicting inside, an orphan child.
    let pc = format!("[\"{p}\",\"{c}\"]");
    let cp = format!("[\"{c}\",\"{p}\"]");
    let pp = format!("[\"{p}\",\"{p}\"]");
    let px = format!("[\"{p}\",\"{x}\"]");
    let oc = format!("[\"{o}\",\"{c}\"]");
    let before: Vec<Vec<&str>> = vec![
        vec!["getmempoolinfo"],
        vec!["getrawmempool"],
        vec!["testmempoolaccept", &p_arr],
        vec!["testmempoolaccept", &p_arr, "0.00000001"],
        vec!["testmempoolaccept", &c_arr],
        vec!["testmempoolaccept", "[\"00\"]"],
        vec!["testmempoolaccept", "[]"],
        vec!["testmempoolaccept", &pc],
        vec!["testmempoolaccept", &pc, "0.00000001"],
        vec!["testmempoolaccept", &cp],
        vec!["testmempoolaccept", &pp],
        vec!["testmempoolaccept", &px],
        vec!["testmempoolaccept", &oc],
        vec!["sendrawtransaction", "zz"],
        vec!["sendrawtransaction", &p, "0.00000001"],
        vec!["sendrawtransaction", &o],
        vec!["sendrawtransaction", confirmed_hex],
        vec!["getmempoolentry", &pid],
    ];
    compare(&before, ours, core, all, unexplained);
    for h in [&p, &c] {
        core(&["sendrawtransaction", h]).unwrap();
    }
    let after: Vec<Vec<&str>> = vec![
        vec!["sendrawtransaction", &p],
        vec!["sendrawtransaction", &c],
        vec!["getmempoolinfo"],
        vec!["getrawmempool"],
        vec!["getrawmempool", "false", "true"],
        vec!["getrawmempool", "true"],
        vec!["getrawmempool", "true", "true"],
        vec!["getmempoolentry", &pid],
        vec!["getmempoolentry", &cid],
        vec!["testmempoolaccept", &p_arr],
        vec!["sendrawtransaction", &x],
        // Already in the pool: the parent fails, the child is left blank.
        vec!["testmempoolaccept", &pc],
    ];
    compare(&after, ours, core, all, unexplained);
}
