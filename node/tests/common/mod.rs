//! Shared pieces of the node's integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod rpc;
pub mod scripted;
pub mod wallet;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sluice_consensus::hash::to_display_hex;
use sluice_node::config::{NetworkArg, NodeConfig};
use sluice_node::run::NodeHandle;

/// A regtest node configuration listening on a free loopback port.
pub fn node_config(datadir: &std::path::Path, connect: &[String], v2: bool) -> NodeConfig {
    NodeConfig {
        network: NetworkArg::Regtest,
        datadir: datadir.to_path_buf(),
        connect: connect.to_vec(),
        listen: true,
        bind: vec!["127.0.0.1:0".into()],
        v2transport: v2,
        progress: false,
        cache_mb: 64,
        script_workers: 2,
        // Any free port: tests run several nodes at once.
        rpcport: Some(0),
        ..NodeConfig::default()
    }
}

/// Adds QUIC to a node config: listen on a free loopback port, pin `peers`
/// (`<fingerprint>@host:port`) and connect to `connect` (pinned addresses). Returns the node's
/// fingerprint (its key is created in the datadir now).
pub fn with_quic(cfg: &mut NodeConfig, peers: &[String], connect: &[SocketAddr]) -> String {
    cfg.quic_listen = Some("127.0.0.1:0".into());
    cfg.quic_peer = peers.to_vec();
    cfg.quic_connect = connect.iter().map(ToString::to_string).collect();
    sluice_node::run::quic_fingerprint(cfg).unwrap().to_string()
}

/// `<fingerprint>@addr` of a running node.
pub fn pin_of(node: &NodeHandle) -> String {
    format!(
        "{}@{}",
        node.quic_fingerprint.unwrap(),
        node.quic_addr.unwrap()
    )
}

/// Waits until Sluice's tip is `hash` (display hex); panics after `limit`.
pub async fn wait_tip(node: &NodeHandle, hash: &str, limit: Duration) {
    let start = Instant::now();
    let mut status = node.status.clone();
    loop {
        if to_display_hex(&status.borrow().hash) == hash {
            return;
        }
        let left = limit.saturating_sub(start.elapsed());
        assert!(
            !left.is_zero(),
            "Sluice did not reach {hash} in {limit:?}; at height {}",
            status.borrow().height
        );
        let _ = tokio::time::timeout(left.min(Duration::from_millis(500)), status.changed()).await;
    }
}

/// The `sluice run` binary on regtest, quiet, on free loopback ports, with its datadir and one
/// peer; `extra` arguments follow.
pub fn sluice_run(
    datadir: &std::path::Path,
    peer: SocketAddr,
    extra: &[&str],
) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"));
    c.args([
        "run",
        "--network",
        "regtest",
        "--quiet",
        "--bind",
        "127.0.0.1:0",
        "--rpcport",
        "0",
    ])
    .args(extra)
    .arg("--datadir")
    .arg(datadir)
    .arg("--connect")
    .arg(peer.to_string())
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped());
    c
}

/// Spawns `cmd` (its stderr piped) and a thread forwarding its log lines until it ends.
pub fn spawn_logged(
    cmd: &mut std::process::Command,
) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead as _;
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    (child, rx)
}

/// Sluice's tip in display hex.
pub fn tip_of(node: &NodeHandle) -> String {
    to_display_hex(&node.status.borrow().hash)
}

/// Sluice's MuHash in display hex.
pub fn muhash(node: &NodeHandle) -> String {
    node.status.borrow().muhash.clone().expect("MuHash tracked")
}

/// Logs to the test's captured output (`RUST_LOG` filters; default `info`).
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_test_writer()
        .try_init();
}
