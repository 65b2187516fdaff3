//! Against a real bitcoind on regtest, on loopback: handshake over v1 and over v2 (BIP324),
//! then `getheaders` → `headers`; bitcoind connecting to us; v2 falling back to v1. bitcoind
//! comes from `bash scripts/bitcoind`, which `scripts/test` runs first.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use sluice_bitcoind::Bitcoind;

use sluice_consensus::chain::params::Params;
use sluice_net::wire::services::{NODE_NETWORK, NODE_P2P_V2, NODE_WITNESS};
use sluice_net::wire::GetHeaders;
use sluice_net::{Message, Network, NetworkConfig, PeerConfig, PeerEvent, PeerId, TransportKind};
use tokio::sync::mpsc::Receiver;

/// Core's test framework address paying to a P2WSH of `OP_TRUE` on regtest.
const OP_TRUE_ADDRESS: &str = "bcrt1qft5p2uhsdcdc3l2ua4ap5qqfg4pjaqlp250x7us7a8qqhrxrxfsqseac85";
const BLOCKS: usize = 5;

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
/// `getheaders`), offering v2 or not.
async fn node(v2: bool) -> Bitcoind {
    let node = tokio::task::block_in_place(|| {
        let node = Bitcoind::start(&[format!("-v2transport={}", u8::from(v2))]);
        node.cli(&["generatetoaddress", &BLOCKS.to_string(), OP_TRUE_ADDRESS]);
        node
    });
    // The P2P port is open once RPC answers (the node is fully started).
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(node.p2p).is_err() {
        assert!(Instant::now() < deadline, "bitcoind P2P port never opened");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    node
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_to_bitcoind_over_v1_and_v2_gets_headers() {
    let node = node(true).await;
    sync_headers(&node, false, TransportKind::V1).await;
    sync_headers(&node, true, TransportKind::V2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_v2_falls_back_to_v1_against_bitcoind_without_v2() {
    let node = node(false).await;
    sync_headers(&node, true, TransportKind::V1).await;
}

/// bitcoind connects to us (`addnode … onetry`, with and without v2): it accepts our
/// handshake and asks for our headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_from_bitcoind_over_v1_and_v2() {
    let node = node(true).await;
    let params = Params::regtest();
    let mut config = NetworkConfig::new(PeerConfig::new(params.magic));
    config.listen = vec!["127.0.0.1:0".parse().unwrap()];
    let (net, mut rx) = Network::start(config).await.unwrap();
    let ours = net.local_addrs()[0].to_string();
    for (v2, expected) in [("false", TransportKind::V1), ("true", TransportKind::V2)] {
        tokio::task::block_in_place(|| node.cli(&["addnode", &ours, "onetry", v2]));
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
