//! The tokio shell over real loopback sockets: two Sluice networks talk to each other.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sluice_net::wire::GetHeaders;
use sluice_net::{
    ConnInfo, Direction, DisconnectReason, Message, NetError, Network, NetworkConfig, Peer,
    PeerConfig, PeerEvent, PeerId, TransportKind,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc::Receiver;

const MAGIC: [u8; 4] = [0xfa, 0xbf, 0xb5, 0xda];

fn config(listen: bool, v2: bool) -> NetworkConfig {
    let mut c = NetworkConfig::new(PeerConfig::new(MAGIC));
    if listen {
        c.listen = vec!["127.0.0.1:0".parse().unwrap()];
    }
    c.v2 = v2;
    c
}

async fn next(rx: &mut Receiver<(PeerId, PeerEvent)>) -> (PeerId, PeerEvent) {
    tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("event within 20 s")
        .expect("event stream open")
}

/// Skips application messages (sendheaders) until an event matching `f`.
async fn wait_for(
    rx: &mut Receiver<(PeerId, PeerEvent)>,
    f: impl Fn(&PeerEvent) -> bool,
) -> (PeerId, PeerEvent) {
    loop {
        let (id, ev) = next(rx).await;
        if f(&ev) {
            return (id, ev);
        }
    }
}

fn is_connected(ev: &PeerEvent) -> bool {
    matches!(ev, PeerEvent::Connected(_))
}

fn is_disconnect(ev: &PeerEvent) -> bool {
    matches!(ev, PeerEvent::Disconnect { .. })
}

async fn talk(v2_server: bool, v2_client: bool, expect: TransportKind) {
    let (server, mut server_rx) = Network::start(config(true, v2_server)).await.unwrap();
    let (client, mut client_rx) = Network::start(config(false, v2_client)).await.unwrap();
    let addr = server.local_addrs()[0];
    let id = client.connect(addr).unwrap();
    let (cid, ev) = wait_for(&mut client_rx, is_connected).await;
    assert_eq!(cid, id);
    let PeerEvent::Connected(info) = ev else {
        unreachable!()
    };
    assert_eq!(info.transport, expect);
    assert!(info.can_serve_blocks());
    let (sid, _) = wait_for(&mut server_rx, is_connected).await;

    let gh = Message::GetHeaders(GetHeaders {
        version: 70016,
        locator: vec![[7; 32]],
        stop: [0; 32],
    });
    let (received, sent) = (server.traffic().0, client.traffic().1);
    assert!(
        received > 0 && sent >= received,
        "the handshake's bytes are counted"
    );
    client.send(id, gh.clone()).await.unwrap();
    let (_, ev) = wait_for(&mut server_rx, |e| {
        matches!(e, PeerEvent::Message(Message::GetHeaders(_)))
    })
    .await;
    assert_eq!(ev, PeerEvent::Message(gh));
    // The getheaders payload alone is 69 bytes (version, count, locator, stop).
    assert!(server.traffic().0 >= received + 69);
    assert!(client.traffic().1 >= sent + 69);
    server.send(sid, Message::Headers(vec![])).await.unwrap();
    let (_, ev) = wait_for(&mut client_rx, |e| {
        matches!(e, PeerEvent::Message(Message::Headers(_)))
    })
    .await;
    assert_eq!(ev, PeerEvent::Message(Message::Headers(vec![])));

    client.disconnect(id);
    let (_, ev) = wait_for(&mut client_rx, is_disconnect).await;
    assert_eq!(
        ev,
        PeerEvent::Disconnect {
            reason: DisconnectReason::Local,
            discourage: false
        }
    );
    let (_, ev) = wait_for(&mut server_rx, is_disconnect).await;
    assert!(matches!(
        ev,
        PeerEvent::Disconnect {
            reason: DisconnectReason::Closed | DisconnectReason::Io(_),
            discourage: false
        }
    ));
    assert_eq!(
        client.send(id, Message::Verack).await,
        Err(NetError::UnknownPeer)
    );
    server.shutdown();
    client.shutdown();
}

#[tokio::test]
async fn v1_networks_exchange_messages() {
    talk(false, false, TransportKind::V1).await;
}

#[tokio::test]
async fn v2_networks_exchange_messages() {
    talk(true, true, TransportKind::V2).await;
}

#[tokio::test]
async fn v1_client_is_detected_by_v2_server() {
    talk(true, false, TransportKind::V1).await;
}

#[tokio::test]
async fn v2_client_falls_back_to_v1_against_v1_only_server() {
    talk(false, true, TransportKind::V1).await;
}

#[tokio::test]
async fn discouraged_address_is_refused_for_the_session() {
    let (server, _server_rx) = Network::start(config(true, false)).await.unwrap();
    let (client, mut client_rx) = Network::start(config(false, false)).await.unwrap();
    let addr = server.local_addrs()[0];
    let id = client.connect(addr).unwrap();
    wait_for(&mut client_rx, is_connected).await;
    client.discourage(id);
    let (_, ev) = wait_for(&mut client_rx, is_disconnect).await;
    assert_eq!(
        ev,
        PeerEvent::Disconnect {
            reason: DisconnectReason::Local,
            discourage: true
        }
    );
    assert!(client.is_discouraged(addr));
    assert_eq!(client.connect(addr), Err(NetError::Discouraged));
}

#[tokio::test]
async fn inbound_limit_refuses_extra_connections() {
    let mut c = config(true, false);
    c.max_inbound = 1;
    let (server, mut server_rx) = Network::start(c).await.unwrap();
    let (client, mut client_rx) = Network::start(config(false, false)).await.unwrap();
    let addr = server.local_addrs()[0];
    client.connect(addr).unwrap();
    wait_for(&mut client_rx, is_connected).await;
    wait_for(&mut server_rx, is_connected).await;
    let second = client.connect(addr).unwrap();
    let (id, ev) = wait_for(&mut client_rx, is_disconnect).await;
    assert_eq!(id, second);
    assert!(matches!(
        ev,
        PeerEvent::Disconnect {
            reason: DisconnectReason::Closed | DisconnectReason::Io(_),
            ..
        }
    ));
    assert_eq!(server.connection_counts(), (1, 0));
}

#[tokio::test]
async fn outbound_limit_and_connect_failure() {
    let mut c = config(false, false);
    c.max_outbound = 1;
    let (client, mut rx) = Network::start(c).await.unwrap();
    // Nothing listens on this port (bound then dropped).
    let dead: SocketAddr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let id = client.connect(dead).unwrap();
    assert_eq!(client.connect(dead), Err(NetError::TooManyConnections));
    let (got, ev) = next(&mut rx).await;
    assert_eq!(got, id);
    assert!(matches!(
        ev,
        PeerEvent::Disconnect {
            reason: DisconnectReason::ConnectFailed(_),
            ..
        }
    ));
}

/// A peer that completes the handshake and then never reads is cut off once its unsent bytes
/// exceed the limit.
#[tokio::test]
async fn peer_that_does_not_read_is_disconnected() {
    let mut c = config(true, false);
    c.max_send_queue = 1 << 20;
    let (server, mut server_rx) = Network::start(c).await.unwrap();
    let addr = server.local_addrs()[0];
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let info = ConnInfo {
        direction: Direction::Outbound,
        addr,
        transport: TransportKind::V1,
        start_height: 0,
        unix_time: 0,
    };
    let mut peer = Peer::new(Arc::new(PeerConfig::new(MAGIC)), info, Instant::now());
    let mut buf = vec![0u8; 65536];
    while !peer.is_connected() {
        while let Some(b) = peer.poll_transmit() {
            stream.write_all(&b).await.unwrap();
        }
        let n = stream.read(&mut buf).await.unwrap();
        peer.handle_bytes(&buf[..n], Instant::now());
    }
    while let Some(b) = peer.poll_transmit() {
        stream.write_all(&b).await.unwrap();
    }
    let (sid, _) = wait_for(&mut server_rx, is_connected).await;
    let block: Arc<[u8]> = vec![0u8; 1 << 20].into();
    let mut sent = 0;
    loop {
        match server.try_send(sid, Message::Block(block.clone())) {
            Ok(()) => sent += 1,
            Err(NetError::Full) => tokio::task::yield_now().await,
            Err(NetError::UnknownPeer) => break,
            Err(e) => panic!("{e}"),
        }
        assert!(sent < 10_000, "never disconnected");
    }
    let (_, ev) = wait_for(&mut server_rx, is_disconnect).await;
    assert_eq!(
        ev,
        PeerEvent::Disconnect {
            reason: DisconnectReason::SendBufferFull,
            discourage: false
        }
    );
}
