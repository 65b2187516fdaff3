//! The operations files under `ops/` are checked by tools, not only written down:
//! - `promtool check rules` and `promtool test rules` (synthetic series) on the alerting rules;
//! - every `sluice_*` metric the rules and the Grafana dashboard use is one a live node
//!   exports (scraped from a started node's `/metrics`, not a hand-kept list);
//! - every runbook link of the rules names a file and a heading that exist.
//!
//! promtool comes with Debian's `prometheus` package, which `scripts/deps` installs: a missing
//! promtool fails the test (CI must run it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sluice_consensus::chain::Params;
use sluice_consensus::hash::to_display_hex;
use sluice_consensus::header::Header;
use sluice_node::run;
use sluice_storage::blockstore::BlockStore;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn promtool(args: &[&str]) -> String {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap_or_else(|e| panic!("promtool not runnable ({e}): run scripts/deps (it installs Debian's prometheus package, which has promtool)"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

#[test]
fn alert_rules_pass_promtool_check_and_unit_tests() {
    let checked = promtool(&["check", "rules", "ops/prometheus/alerts.yml"]);
    assert!(checked.contains("SUCCESS"), "{checked}");
    let tested = promtool(&["test", "rules", "ops/prometheus/alerts_test.yml"]);
    assert!(tested.contains("SUCCESS"), "{tested}");
}

/// `sluice_*` names in `text` (identifiers: letters, digits, `_`).
fn sluice_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find("sluice_") {
        let start = i + at;
        let boundary =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let mut end = start;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
            end += 1;
        }
        if boundary {
            out.insert(text[start..end].to_owned());
        }
        i = end;
    }
    out
}

/// Every PromQL expression of the Grafana dashboard (`targets[].expr`, nested rows too).
fn dashboard_exprs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            if let Some(serde_json::Value::String(e)) = m.get("expr") {
                out.push(e.clone());
            }
            m.values().for_each(|v| dashboard_exprs(v, out));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| dashboard_exprs(v, out)),
        _ => {}
    }
}

/// The series names a scrape exposes: each family, and a histogram's `_bucket`/`_sum`/`_count`.
fn exported(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let (name, kind) = (it.next().unwrap(), it.next().unwrap());
            names.insert(name.to_owned());
            if kind == "histogram" {
                for s in ["_bucket", "_sum", "_count"] {
                    names.insert(format!("{name}{s}"));
                }
            }
        }
    }
    names
}

fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_and_dashboard_use_only_metrics_a_live_node_exports() {
    common::init_logs();
    let dir = tempfile::tempdir().unwrap();
    // A few blocks, so the pipeline runs and its families are present.
    let params = Params::regtest();
    let blocks = sluice_pipeline::testchain::linear(&params, 5, 1);
    let (mut store, _) = BlockStore::open(&dir.path().join("blocks"), params.magic).unwrap();
    for b in &blocks {
        store.append(b).unwrap();
    }
    store.sync().unwrap();
    drop(store);
    let tip = to_display_hex(&Header::decode(blocks.last().unwrap()).unwrap().block_hash());
    let mut cfg = common::node_config(dir.path(), &[], true);
    cfg.metrics_bind = Some("127.0.0.1:0".into());
    let node = run::start(&cfg).await.unwrap();
    common::wait_tip(&node, &tip, Duration::from_secs(60)).await;
    // One RPC call (timed) and one wrong password (counted), so those series have samples.
    let rpc = node.rpc_addrs[0];
    let auth = common::rpc::cookie_auth(node.rpc_cookie.as_ref().unwrap());
    let (status, _) = common::rpc::call(rpc, &auth, "getblockcount", &serde_json::json!([]));
    assert_eq!(status, 200);
    let wrong = format!("Basic {}", common::rpc::base64(b"__cookie__:wrong"));
    assert_eq!(common::rpc::post(rpc, Some(&wrong), "{}").status, 401);
    let scrape = http_get(node.metrics_addr.unwrap(), "/metrics");
    node.shutdown().await.unwrap();

    let names = exported(&scrape);
    assert!(names.contains("sluice_chain_height"), "{scrape}");
    assert!(
        scrape.contains("sluice_rpc_request_duration_seconds_count{method=\"getblockcount\"} 1"),
        "the RPC server times methods:\n{scrape}"
    );
    assert!(
        scrape.contains("sluice_rpc_auth_failures_total 1\n"),
        "the RPC server counts wrong credentials:\n{scrape}"
    );
    assert!(names.contains("sluice_datadir_free_bytes"), "{scrape}");

    let rules = std::fs::read_to_string(repo().join("ops/prometheus/alerts.yml")).unwrap();
    let used = sluice_names(&rules);
    assert!(used.len() >= 8, "the rules use {used:?}");
    let missing: Vec<_> = used.difference(&names).collect();
    assert!(
        missing.is_empty(),
        "alerts.yml uses metrics Sluice does not export: {missing:?}"
    );

    let text = std::fs::read_to_string(repo().join("ops/grafana/sluice.json")).unwrap();
    let dash: serde_json::Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let mut exprs = Vec::new();
    dashboard_exprs(&dash, &mut exprs);
    assert!(exprs.len() >= 10, "dashboard queries: {exprs:?}");
    for e in &exprs {
        let used = sluice_names(e);
        assert!(
            !used.is_empty(),
            "a dashboard query without a Sluice metric: {e}"
        );
        let missing: Vec<_> = used.difference(&names).collect();
        assert!(
            missing.is_empty(),
            "dashboard query {e} uses unexported {missing:?}"
        );
    }
    // Every query is valid PromQL: promtool checks them as recording rules (Grafana's
    // variables replaced by values).
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, e) in exprs.iter().enumerate() {
        let e = e
            .replace("$__rate_interval", "5m")
            .replace("$instance", ".*");
        rules.push_str(&format!(
            "      - record: dashboard:q{i}\n        expr: {}\n",
            serde_json::Value::String(e)
        ));
    }
    let file = dir.path().join("dashboard_rules.yml");
    std::fs::write(&file, rules).unwrap();
    let checked = promtool(&["check", "rules", file.to_str().unwrap()]);
    assert!(
        checked.contains(&format!("SUCCESS: {} rules found", exprs.len())),
        "{checked}"
    );
}

/// GitHub's heading anchor: lower case, spaces to `-`, other punctuation dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn every_runbook_link_names_an_existing_file_and_heading() {
    let rules = std::fs::read_to_string(repo().join("ops/prometheus/alerts.yml")).unwrap();
    let links: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("runbook_url: "))
        .collect();
    let alerts = rules
        .lines()
        .filter(|l| l.trim().starts_with("- alert: "))
        .count();
    assert_eq!(links.len(), alerts, "every alert has a runbook_url");
    for link in links {
        let (file, anchor) = link.split_once('#').unwrap_or((link, ""));
        let path = repo().join(file);
        let doc = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("runbook {link}: {} ({e})", path.display()));
        if !anchor.is_empty() {
            let found = doc
                .lines()
                .filter_map(|l| l.strip_prefix('#'))
                .any(|h| slug(h.trim_start_matches('#')) == anchor);
            assert!(found, "runbook {link}: no heading with anchor #{anchor}");
        }
    }
}
