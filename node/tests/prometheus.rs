//! A real Prometheus server (Debian's `prometheus` package, installed by `scripts/deps`) scrapes
//! a Sluice node that synced a small chain from another Sluice node over loopback; the height
//! queried back through Prometheus' HTTP API equals the node's. `promtool check metrics` lints
//! the exposition text. Everything is loopback, in temporary directories, bounded in time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sluice_consensus::chain::Params;
use sluice_consensus::hash::to_display_hex;
use sluice_consensus::header::Header;
use sluice_node::run;
use sluice_storage::blockstore::BlockStore;

const BLOCKS: u32 = 30;
const LIMIT: Duration = Duration::from_secs(90);

/// Kills the child when dropped (the test may panic half way).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A plain HTTP/1.0 GET (no chunking, the server closes): status line and body.
fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(String, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    Ok((
        head.lines().next().unwrap_or_default().to_owned(),
        body.to_owned(),
    ))
}

/// Percent-encodes a PromQL query for a URL.
fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of an instant query's only series, once Prometheus has one.
fn query(prom: SocketAddr, q: &str) -> Option<f64> {
    let (status, body) = http_get(prom, &format!("/api/v1/query?query={}", encode(q))).ok()?;
    assert!(status.contains("200"), "{status}: {body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "success", "{body}");
    let result = v["data"]["result"].as_array()?;
    assert!(result.len() <= 1, "one series expected: {body}");
    result.first()?["value"][1].as_str()?.parse().ok()
}

/// Writes `n` regtest blocks into a fresh datadir's block files (a node replays them at start).
fn seed_datadir(datadir: &Path, n: u32) -> (u32, String) {
    let params = Params::regtest();
    let blocks = sluice_pipeline::testchain::linear(&params, n, 1);
    let (mut store, _) = BlockStore::open(&datadir.join("blocks"), params.magic).unwrap();
    for b in &blocks {
        store.append(b).unwrap();
    }
    store.sync().unwrap();
    let tip = Header::decode(blocks.last().unwrap()).unwrap().block_hash();
    (n, to_display_hex(&tip))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_the_height_of_a_synced_node() {
    common::init_logs();
    if Command::new("prometheus")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("SKIPPED: prometheus is not installed (scripts/deps installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();

    // Node A holds the chain; node B syncs it over P2P and serves /metrics.
    let (height, tip) = seed_datadir(&dir.path().join("a"), BLOCKS);
    let a = run::start(&common::node_config(&dir.path().join("a"), &[], true))
        .await
        .unwrap();
    common::wait_tip(&a, &tip, LIMIT).await;
    let mut cfg_b = common::node_config(&dir.path().join("b"), &[a.p2p_addrs[0].to_string()], true);
    cfg_b.metrics_bind = Some("127.0.0.1:0".into());
    let b = run::start(&cfg_b).await.unwrap();
    let metrics_addr = b.metrics_addr.expect("metrics enabled");
    assert!(metrics_addr.ip().is_loopback());
    common::wait_tip(&b, &tip, LIMIT).await;

    // The text lints clean with Prometheus' own tool.
    let (status, text) = http_get(metrics_addr, "/metrics").unwrap();
    assert!(status.contains("200"), "{status}");
    let mut lint = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    lint.stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = lint.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics:\n{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // Prometheus, scraping every second, in its own directory on loopback.
    let prom_dir = dir.path().join("prometheus");
    std::fs::create_dir_all(&prom_dir).unwrap();
    let config = prom_dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: sluice\n    scrape_timeout: 1s\n    \
             static_configs:\n      - targets: ['{metrics_addr}']\n"
        ),
    )
    .unwrap();
    let prom_addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let _prom = Killed(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                prom_dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={prom_addr}"))
            .arg("--log.level=warn")
            .current_dir(&prom_dir)
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );

    let start = Instant::now();
    let want = f64::from(height);
    loop {
        let up = query(prom_addr, "up{job=\"sluice\"}");
        let got = query(prom_addr, "sluice_chain_height{job=\"sluice\"}");
        if up == Some(1.0) && got == Some(want) {
            break;
        }
        assert!(
            start.elapsed() < LIMIT,
            "Prometheus did not report height {want} in {LIMIT:?}: up {up:?}, height {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(f64::from(b.status.borrow().height), want);
    // A few more series, through Prometheus too.
    let headers = query(prom_addr, "sluice_header_height").unwrap();
    assert_eq!(headers, want);
    let connected = query(prom_addr, "sluice_blocks_connected_total").unwrap();
    assert_eq!(
        connected, want,
        "every block of the chain was connected once"
    );
    let received = query(prom_addr, "sluice_net_bytes_total{direction=\"in\"}").unwrap();
    assert!(received > 0.0);
    let peers = query(prom_addr, "sum(sluice_peers{direction=\"outbound\"})").unwrap();
    assert_eq!(peers, 1.0);
    let applied = query(prom_addr, "sluice_stage_items_total{stage=\"apply\"}").unwrap();
    assert_eq!(applied, want);

    b.shutdown().await.unwrap();
    a.shutdown().await.unwrap();
}
