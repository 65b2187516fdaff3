//! Against a real bitcoind on regtest, on loopback: handshake over v1 and over v2 (BIP324),
//! then `getheaders` → `headers`. Skips (with a message) when bitcoind has not been built; CI
//! builds it first with `bash scripts/bitcoind`.
#![allow(clippy::unwrap_used)]

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sluice_consensus::chain::params::Params;
use sluice_net::wire::services::{NODE_NETWORK, NODE_P2P_V2, NODE_WITNESS};
use sluice_net::wire::GetHeaders;
use sluice_net::{Message, Network, NetworkConfig, PeerConfig, PeerEvent, PeerId, TransportKind};
use tokio::sync::mpsc::Receiver;

/// Core's test framework address paying to a P2WSH of `OP_TRUE` on regtest.
const OP_TRUE_ADDRESS: &str = "bcrt1qft5p2uhsdcdc3l2ua4ap5qqfg4pjaqlp250x7us7a8qqhrxrxfsqseac85";
const BLOCKS: usize = 5;

/// `SLUICE_BITCOIND_BIN` (the binary or its directory), else the directory where
/// `scripts/bitcoind` publishes its build. The script itself is not run: it would start a
/// 15-minute build inside a test.
fn find_bitcoind() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SLUICE_BITCOIND_BIN").map(PathBuf::from) {
        let bin = if p.is_dir() { p.join("bitcoind") } else { p };
        return bin.is_file().then_some(bin);
    }
    let cache = std::env::var_os("SLUICE_BITCOIND_CACHE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/sluice-bitcoind"))
        })?;
    let mut found: Vec<PathBuf> = std::fs::read_dir(cache)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| !p.to_string_lossy().ends_with(".build"))
        .map(|p| p.join("bin/bitcoind"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A regtest bitcoind, killed on drop.
struct Bitcoind {
    child: Child,
    cli: PathBuf,
    datadir: tempfile::TempDir,
    rpc_port: u16,
    p2p: SocketAddr,
}

impl Bitcoind {
    fn start(bin: &Path, v2: bool) -> Self {
        let datadir = tempfile::tempdir().unwrap();
        let port = free_port();
        let rpc_port = free_port();
        let child = Command::new(bin)
            .args([
                "-regtest",
                &format!("-datadir={}", datadir.path().display()),
                "-listen=1",
                &format!("-bind=127.0.0.1:{port}"),
                &format!("-port={port}"),
                &format!("-rpcport={rpc_port}"),
                "-rpcbind=127.0.0.1",
                "-rpcallowip=127.0.0.1",
                "-server=1",
                if v2 {
                    "-v2transport=1"
                } else {
                    "-v2transport=0"
                },
                "-checkblockindex=0",
                "-dnsseed=0",
                "-fixedseeds=0",
                "-discover=0",
                "-printtoconsole=0",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Self {
            child,
            cli: bin.with_file_name("bitcoin-cli"),
            datadir,
            rpc_port,
            p2p: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    fn cli(&self, args: &[&str]) -> Option<String> {
        let out = Command::new(&self.cli)
            .args([
                "-regtest",
                &format!("-datadir={}", self.datadir.path().display()),
                &format!("-rpcport={}", self.rpc_port),
                "-rpcwait",
                "-rpcwaittimeout=60",
            ])
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

impl Drop for Bitcoind {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn next(rx: &mut Receiver<(PeerId, PeerEvent)>) -> (PeerId, PeerEvent) {
    tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .expect("event within 30 s")
        .expect("event stream open")
}

/// Connects to `node` (trying v2 when `v2`), expects `expected`, and syncs its headers.
async fn sync_headers(node: &Bitcoind, v2: bool, expected: TransportKind) {
    let params = Params::regtest();
    let genesis = params.genesis_hash;
    let mut config = NetworkConfig::new(PeerConfig::new(params.magic));
    config.v2 = v2;
    let (net, mut rx) = Network::start(config).await.unwrap();
    let id = net.connect(node.p2p).unwrap();
    let info = loop {
        match next(&mut rx).await {
            (_, PeerEvent::Connected(info)) => break info,
            (_, PeerEvent::Disconnect { reason, .. }) => panic!("disconnected: {reason}"),
            _ => {}
        }
    };
    assert_eq!(info.transport, expected);
    assert!(info.user_agent.contains("Satoshi"), "{}", info.user_agent);
    assert!(info.services & (NODE_NETWORK | NODE_WITNESS | NODE_P2P_V2) != 0);
    assert!(info.can_serve_blocks());
    assert!(info.wtxidrelay && info.sendaddrv2);
    assert_eq!(info.start_height, i32::try_from(BLOCKS).unwrap());

    net.send(
        id,
        Message::GetHeaders(GetHeaders {
            version: 70016,
            locator: vec![genesis],
            stop: [0; 32],
        }),
    )
    .await
    .unwrap();
    let headers = loop {
        match next(&mut rx).await {
            (_, PeerEvent::Message(Message::Headers(h))) => break h,
            (_, PeerEvent::Disconnect { reason, .. }) => panic!("disconnected: {reason}"),
            _ => {}
        }
    };
    assert_eq!(headers.len(), BLOCKS);
    assert_eq!(headers[0].prev_blockhash, genesis);
    for pair in headers.windows(2) {
        assert_eq!(pair[1].prev_blockhash, pair[0].block_hash());
    }
    net.shutdown();
}

/// A started regtest bitcoind with `BLOCKS` blocks (so it has left IBD and answers
/// `getheaders`), or `None` when bitcoind is not built.
async fn node(v2: bool) -> Option<Bitcoind> {
    let Some(bin) = find_bitcoind() else {
        println!(
            "SKIPPED: bitcoind not built (run `bash scripts/bitcoind` or set SLUICE_BITCOIND_BIN)"
        );
        return None;
    };
    let node = Bitcoind::start(&bin, v2);
    let blocks = BLOCKS.to_string();
    let mined = node.cli(&["generatetoaddress", &blocks, OP_TRUE_ADDRESS]);
    assert!(mined.is_some(), "bitcoin-cli generatetoaddress failed");
    // The P2P port is open once RPC answers (the node is fully started).
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(node.p2p).is_err() {
        assert!(Instant::now() < deadline, "bitcoind P2P port never opened");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Some(node)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_to_bitcoind_over_v1_and_v2_gets_headers() {
    let Some(node) = node(true).await else {
        return;
    };
    sync_headers(&node, false, TransportKind::V1).await;
    sync_headers(&node, true, TransportKind::V2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_v2_falls_back_to_v1_against_bitcoind_without_v2() {
    let Some(node) = node(false).await else {
        return;
    };
    sync_headers(&node, true, TransportKind::V1).await;
}

/// bitcoind connects to us (`addnode … onetry`, with and without v2): it accepts our
/// handshake and asks for our headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_from_bitcoind_over_v1_and_v2() {
    let Some(node) = node(true).await else {
        return;
    };
    let params = Params::regtest();
    let mut config = NetworkConfig::new(PeerConfig::new(params.magic));
    config.listen = vec!["127.0.0.1:0".parse().unwrap()];
    let (net, mut rx) = Network::start(config).await.unwrap();
    let ours = net.local_addrs()[0].to_string();
    for (v2, expected) in [("false", TransportKind::V1), ("true", TransportKind::V2)] {
        assert!(node.cli(&["addnode", &ours, "onetry", v2]).is_some());
        let (id, info) = loop {
            match next(&mut rx).await {
                (id, PeerEvent::Connected(info)) => break (id, info),
                (_, PeerEvent::Disconnect { reason, .. }) => panic!("disconnected: {reason}"),
                _ => {}
            }
        };
        assert_eq!(info.transport, expected);
        assert!(info.can_serve_blocks());
        loop {
            match next(&mut rx).await {
                (got, PeerEvent::Message(Message::GetHeaders(g))) if got == id => {
                    assert!(!g.locator.is_empty());
                    break;
                }
                (got, PeerEvent::Disconnect { reason, .. }) if got == id => {
                    panic!("disconnected: {reason}")
                }
                _ => {}
            }
        }
        net.disconnect(id);
        loop {
            if let (got, PeerEvent::Disconnect { .. }) = next(&mut rx).await {
                if got == id {
                    break;
                }
            }
        }
    }
    net.shutdown();
}
