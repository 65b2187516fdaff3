//! Against a real bitcoind on regtest, on loopback: handshake over v1 and over v2 (BIP324),
//! then `getheaders` → `headers`. Skips (with a message) when bitcoind has not been built; CI
//! builds it first with `bash scripts/bitcoind`.
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

async fn sync_headers(node: &Bitcoind, v2: bool, magic: [u8; 4], genesis: [u8; 32]) {
    let mut config = NetworkConfig::new(PeerConfig::new(magic));
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
    let expected = if v2 {
        TransportKind::V2
    } else {
        TransportKind::V1
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_and_headers_with_bitcoind_over_v1_and_v2() {
    let node = tokio::task::block_in_place(|| Bitcoind::start(&["-v2transport=1".into()]));
    let blocks = BLOCKS.to_string();
    tokio::task::block_in_place(|| node.cli(&["generatetoaddress", &blocks, OP_TRUE_ADDRESS]));
    // The P2P port is open once RPC answers (the node is fully started).
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(node.p2p).is_err() {
        assert!(Instant::now() < deadline, "bitcoind P2P port never opened");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let params = Params::regtest();
    sync_headers(&node, false, params.magic, params.genesis_hash).await;
    sync_headers(&node, true, params.magic, params.genesis_hash).await;
}
