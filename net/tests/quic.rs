//! QUIC between Sluice networks over loopback: pinned mutual authentication, refusals before
//! any Bitcoin message, and abuse bounded by the configured limits.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use sluice_net::quic::protocol::{close, Hello, HELLO_LEN};
use sluice_net::quic::{tls, Fingerprint, Identity, QuicConfig, QuicLimits, ALPN};
use sluice_net::wire::{encode_frame, Command};
use sluice_net::{
    DisconnectReason, Message, Network, NetworkConfig, PeerConfig, PeerEvent, PeerId, TransportKind,
};
use tokio::sync::mpsc::Receiver;

const MAGIC: [u8; 4] = [0xfa, 0xbf, 0xb5, 0xda];

struct Node {
    net: Network,
    rx: Receiver<(PeerId, PeerEvent)>,
    id: Arc<Identity>,
}

impl Node {
    fn addr(&self) -> SocketAddr {
        self.net.quic_addr().unwrap()
    }
    fn fp(&self) -> Fingerprint {
        self.id.fingerprint()
    }
}

async fn start(
    id: Identity,
    listen: bool,
    pinned: &[Fingerprint],
    open: bool,
    limits: QuicLimits,
) -> Node {
    let id = Arc::new(id);
    let mut c = NetworkConfig::new(PeerConfig::new(MAGIC));
    c.quic = Some(QuicConfig {
        listen: listen.then(|| "127.0.0.1:0".parse().unwrap()),
        identity: id.clone(),
        pinned: pinned.to_vec(),
        open,
        limits,
    });
    let (net, rx) = Network::start(c).await.unwrap();
    Node { net, rx, id }
}

async fn next(rx: &mut Receiver<(PeerId, PeerEvent)>) -> (PeerId, PeerEvent) {
    tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("event within 20 s")
        .expect("event stream open")
}

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

fn connected(ev: &PeerEvent) -> bool {
    matches!(ev, PeerEvent::Connected(_))
}

/// Asserts that nothing reaches the layer above for a while.
async fn quiet(rx: &mut Receiver<(PeerId, PeerEvent)>, d: Duration) {
    if let Ok(Some(ev)) = tokio::time::timeout(d, rx.recv()).await {
        panic!("unexpected event {ev:?}");
    }
}

/// Asserts that no connection ends for a while (messages may arrive).
async fn no_disconnect(rx: &mut Receiver<(PeerId, PeerEvent)>, d: Duration) {
    let end = tokio::time::Instant::now() + d;
    while let Ok(Some((_, ev))) = tokio::time::timeout_at(end, rx.recv()).await {
        assert!(
            !matches!(ev, PeerEvent::Disconnect { .. }),
            "unexpected {ev:?}"
        );
    }
}

/// The reason of the `Disconnect` a failed outbound attempt reports.
async fn refused(n: &mut Node, addr: SocketAddr, key: Fingerprint) -> String {
    let id = n.net.connect_quic(addr, key).unwrap();
    let (got, ev) = wait_for(&mut n.rx, |e| matches!(e, PeerEvent::Disconnect { .. })).await;
    assert_eq!(got, id);
    match ev {
        PeerEvent::Disconnect {
            reason: DisconnectReason::Quic(why),
            ..
        } => why,
        other => panic!("expected a quic refusal, got {other:?}"),
    }
}

async fn connect_pair(a: &mut Node, b: &mut Node) -> (PeerId, PeerId) {
    let bid = b.net.connect_quic(a.addr(), a.fp()).unwrap();
    let (_, ev) = wait_for(&mut b.rx, connected).await;
    let PeerEvent::Connected(info) = ev else {
        unreachable!()
    };
    assert_eq!(info.transport, TransportKind::Quic);
    let (aid, ev) = wait_for(&mut a.rx, connected).await;
    let PeerEvent::Connected(info) = ev else {
        unreachable!()
    };
    assert_eq!(info.transport, TransportKind::Quic);
    (aid, bid)
}

fn raw_endpoint() -> quinn::Endpoint {
    quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap()
}

async fn raw_connect(
    ep: &quinn::Endpoint,
    id: &Identity,
    to: SocketAddr,
    key: Fingerprint,
    alpn: &[u8],
) -> Result<quinn::Connection, String> {
    let cc = tls::client_config_with_alpn(id, key, &QuicLimits::default(), alpn)
        .map_err(|e| e.to_string())?;
    let connecting = ep
        .connect_with(cc, to, "sluice")
        .map_err(|e| e.to_string())?;
    connecting.await.map_err(|e| e.to_string())
}

/// Completes the Sluice hello as a raw client, announcing `hello`.
async fn raw_hello(conn: &quinn::Connection, hello: Hello) -> Result<quinn::SendStream, String> {
    let (mut send, mut recv) = conn.open_bi().await.map_err(|e| e.to_string())?;
    send.write_all(&hello.encode())
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; HELLO_LEN];
    recv.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
    Ok(send)
}

/// Waits for the connection to be closed by the node; returns its code and reason.
async fn closed_by_peer(conn: &quinn::Connection, within: Duration) -> (u32, String) {
    let e = tokio::time::timeout(within, conn.closed())
        .await
        .expect("the node closes the connection in time");
    match e {
        quinn::ConnectionError::ApplicationClosed(c) => (
            u32::try_from(c.error_code.into_inner()).unwrap(),
            String::from_utf8_lossy(&c.reason).into_owned(),
        ),
        other => (u32::MAX, other.to_string()),
    }
}

fn frame(command: &str, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    encode_frame(MAGIC, Command::new(command).unwrap(), payload, &mut f);
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_nodes_exchange_small_and_large_messages() {
    let ib = Identity::ephemeral().unwrap();
    let mut a = start(
        Identity::ephemeral().unwrap(),
        true,
        &[ib.fingerprint()],
        false,
        QuicLimits::default(),
    )
    .await;
    let mut b = start(ib, false, &[], false, QuicLimits::default()).await;
    let (aid, bid) = connect_pair(&mut a, &mut b).await;
    // Three full-size blocks (each on its own stream) and a headers-sized message.
    for i in 0..3u8 {
        let block: Arc<[u8]> = vec![i; 3_990_000].into();
        b.net.send(bid, Message::Block(block)).await.unwrap();
    }
    b.net.send(bid, Message::Inv(Vec::new())).await.unwrap();
    let mut blocks = Vec::new();
    let mut inv = false;
    while blocks.len() < 3 || !inv {
        match next(&mut a.rx).await {
            (id, PeerEvent::Message(Message::Block(b))) => {
                assert_eq!(id, aid);
                assert_eq!(b.len(), 3_990_000);
                blocks.push(b[0]);
            }
            (_, PeerEvent::Message(Message::Inv(_))) => inv = true,
            (_, PeerEvent::Message(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    blocks.sort_unstable();
    assert_eq!(blocks, vec![0, 1, 2]);
    let stats = a.net.quic_stats().unwrap();
    assert_eq!(stats.established.load(Ordering::Relaxed), 1);
    assert_eq!(a.net.connection_counts(), (1, 0));
    // The other direction too.
    a.net
        .send(aid, Message::Block(vec![9; 100_000].into()))
        .await
        .unwrap();
    let (_, ev) = wait_for(&mut b.rx, |e| {
        matches!(e, PeerEvent::Message(Message::Block(_)))
    })
    .await;
    assert!(matches!(ev, PeerEvent::Message(Message::Block(b)) if b.len() == 100_000));
    a.net.shutdown();
    b.net.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_and_incompatible_peers_are_refused_before_any_message() {
    let ib = Identity::ephemeral().unwrap();
    let stranger = Identity::ephemeral().unwrap();
    let mut a = start(
        Identity::ephemeral().unwrap(),
        true,
        &[ib.fingerprint()],
        false,
        QuicLimits::default(),
    )
    .await;
    let (a_addr, a_fp) = (a.addr(), a.fp());

    // An unpinned key.
    let mut c = start(stranger.clone(), false, &[], false, QuicLimits::default()).await;
    // (TLS 1.3: the client finishes first, then hears the node's refusal of its certificate.)
    let why = refused(&mut c, a_addr, a_fp).await;
    assert!(why.contains("invalid peer certificate"), "{why}");

    // A pinned address presenting another key: refused by the dialling side.
    let mut b = start(ib.clone(), false, &[], false, QuicLimits::default()).await;
    let why = refused(&mut b, a_addr, stranger.fingerprint()).await;
    assert!(
        why.contains("tls handshake") && why.contains("invalid peer certificate"),
        "{why}"
    );

    // The pinned key in an expired certificate.
    let expired = ib.with_validity((2000, 1, 1), (2001, 1, 1)).unwrap();
    let mut e = start(expired, false, &[], false, QuicLimits::default()).await;
    let why = refused(&mut e, a_addr, a_fp).await;
    assert!(why.contains("Expired"), "{why}");

    // A malformed certificate: rustls may refuse to present it at all; if it does present it,
    // the node refuses the handshake.
    let ep = raw_endpoint();
    let mut bad = ib.cert().to_vec();
    bad.truncate(bad.len() / 2);
    let malformed = ib.with_raw_cert(bad);
    assert!(raw_connect(&ep, &malformed, a_addr, a_fp, ALPN)
        .await
        .is_err());

    // A wrong ALPN.
    let why = raw_connect(&ep, &ib, a_addr, a_fp, b"h3")
        .await
        .unwrap_err();
    assert!(
        why.contains("application protocol") || why.contains("120"),
        "{why}"
    );

    // An unknown hello version: the node refuses with a reason naming both ranges.
    let conn = raw_connect(&ep, &ib, a_addr, a_fp, ALPN).await.unwrap();
    let v7 = Hello {
        min_version: 7,
        max_version: 7,
        features: 1,
    };
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    send.write_all(&v7.encode()).await.unwrap();
    let mut buf = [0u8; HELLO_LEN];
    let _ = recv.read_exact(&mut buf).await;
    let (code, reason) = closed_by_peer(&conn, Duration::from_secs(5)).await;
    assert_eq!(code, close::VERSION);
    assert!(reason.contains("7..=7"), "{reason}");

    // Nothing reached the Bitcoin layer and no peer slot is held.
    quiet(&mut a.rx, Duration::from_millis(300)).await;
    assert_eq!(a.net.connection_counts(), (0, 0));
    assert!(
        a.net
            .quic_stats()
            .unwrap()
            .failed_handshakes
            .load(Ordering::Relaxed)
            >= 4
    );

    // The other side of an unknown version: a server that speaks only version 7.
    let sid = Identity::ephemeral().unwrap();
    let scfg = QuicConfig {
        listen: None,
        identity: Arc::new(sid.clone()),
        pinned: vec![ib.fingerprint()],
        open: false,
        limits: QuicLimits::default(),
    };
    let server = quinn::Endpoint::server(
        tls::server_config(&scfg).unwrap(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();
    let saddr = server.local_addr().unwrap();
    tokio::spawn(async move {
        let conn = server.accept().await.unwrap().await.unwrap();
        let (mut send, mut recv) = conn.accept_bi().await.unwrap();
        let mut buf = [0u8; HELLO_LEN];
        recv.read_exact(&mut buf).await.unwrap();
        send.write_all(&v7.encode()).await.unwrap();
        let _ = conn.closed().await;
    });
    let why = refused(&mut b, saddr, sid.fingerprint()).await;
    assert!(why.contains("7..=7"), "{why}");
    for n in [&a, &b, &c, &e] {
        n.net.shutdown();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abusive_streams_are_cut_off_and_honest_peers_keep_talking() {
    let limits = QuicLimits {
        max_uni_streams: 3,
        message_timeout: Duration::from_secs(2),
        ..QuicLimits::default()
    };
    let ib = Identity::ephemeral().unwrap();
    let mut a = start(
        Identity::ephemeral().unwrap(),
        true,
        &[],
        true,
        limits.clone(),
    )
    .await;
    let mut b = start(ib, false, &[], false, limits.clone()).await;
    let (_, bid) = connect_pair(&mut a, &mut b).await;
    let (a_addr, a_fp) = (a.addr(), a.fp());
    let ep = raw_endpoint();
    let attacker = Identity::ephemeral().unwrap();

    // Streams past the limit: the fourth cannot even be opened while three are unfinished.
    let conn = raw_connect(&ep, &attacker, a_addr, a_fp, ALPN)
        .await
        .unwrap();
    let _control = raw_hello(&conn, Hello::ours()).await.unwrap();
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut s = conn.open_uni().await.unwrap();
        s.write_all(&frame("block", &[0; 100])[..30]).await.unwrap();
        open.push(s);
    }
    let fourth = tokio::time::timeout(Duration::from_millis(500), conn.open_uni()).await;
    assert!(fourth.is_err(), "a fourth concurrent stream was granted");
    // The unfinished messages hit the message timeout.
    let (code, reason) = closed_by_peer(&conn, Duration::from_secs(10)).await;
    assert_eq!(code, close::LIMIT, "{reason}");
    drop(open);

    // A 4 GB message announced: refused from the header, before any payload is read.
    let conn = raw_connect(&raw_endpoint(), &attacker, a_addr, a_fp, ALPN)
        .await
        .unwrap();
    let _control = raw_hello(&conn, Hello::ours()).await.unwrap();
    let mut header = frame("block", &[]);
    header[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut s = conn.open_uni().await.unwrap();
    s.write_all(&header).await.unwrap();
    let (code, reason) = closed_by_peer(&conn, Duration::from_secs(5)).await;
    assert_eq!(code, close::LIMIT);
    assert!(reason.contains("4294967295"), "{reason}");

    // An endless stream: more bytes after the one message a stream may carry.
    let conn = raw_connect(&raw_endpoint(), &attacker, a_addr, a_fp, ALPN)
        .await
        .unwrap();
    let _control = raw_hello(&conn, Hello::ours()).await.unwrap();
    let mut s = conn.open_uni().await.unwrap();
    let endless = tokio::spawn(async move {
        let chunk = vec![0u8; 64 * 1024];
        let _ = s.write_all(&frame("block", &[1; 10])).await;
        // Bounded: at most 64 MiB, and the node cuts it off long before.
        for _ in 0..1024 {
            if s.write_all(&chunk).await.is_err() {
                return;
            }
        }
    });
    let (code, _) = closed_by_peer(&conn, Duration::from_secs(5)).await;
    assert_eq!(code, close::LIMIT);
    endless.abort();

    // A bad checksum inside an otherwise well-formed stream message: the Bitcoin layer's rule.
    let conn = raw_connect(&raw_endpoint(), &attacker, a_addr, a_fp, ALPN)
        .await
        .unwrap();
    let _control = raw_hello(&conn, Hello::ours()).await.unwrap();
    let mut f = frame("block", &[1; 10]);
    f[20] ^= 1;
    let mut s = conn.open_uni().await.unwrap();
    s.write_all(&f).await.unwrap();
    s.finish().unwrap();
    let (code, _) = closed_by_peer(&conn, Duration::from_secs(5)).await;
    assert_eq!(code, close::PEER);

    // The honest peer is still connected and heard.
    b.net
        .send(bid, Message::Block(vec![7; 1_000_000].into()))
        .await
        .unwrap();
    let (_, ev) = wait_for(&mut a.rx, |e| {
        matches!(e, PeerEvent::Message(Message::Block(_)))
    })
    .await;
    assert!(matches!(ev, PeerEvent::Message(Message::Block(b)) if b[0] == 7));
    a.net.shutdown();
    b.net.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_flood_is_bounded() {
    let limits = QuicLimits {
        max_connections_per_ip: 4,
        retry_above_handshakes: 2,
        handshake_timeout: Duration::from_secs(2),
        ..QuicLimits::default()
    };
    let ib = Identity::ephemeral().unwrap();
    let mut a = start(
        Identity::ephemeral().unwrap(),
        true,
        &[ib.fingerprint()],
        false,
        limits.clone(),
    )
    .await;
    let mut b = start(ib.clone(), false, &[], false, limits.clone()).await;
    let (_, bid) = connect_pair(&mut a, &mut b).await;
    let (a_addr, a_fp) = (a.addr(), a.fp());

    // 500 attempts at once from one IP (well over 1,000 per second), by unpinned keys; each attempt has
    // its own deadline, so the whole flood ends in bounded time.
    let ep = raw_endpoint();
    let stranger = Identity::ephemeral().unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..500 {
        let (ep, id) = (ep.clone(), stranger.clone());
        tasks.spawn(async move {
            // Through means: past the node's certificate check, to the hello.
            tokio::time::timeout(Duration::from_secs(3), async {
                let conn = raw_connect(&ep, &id, a_addr, a_fp, ALPN).await?;
                raw_hello(&conn, Hello::ours()).await
            })
            .await
        });
    }
    let mut accepted = 0;
    while let Some(r) = tasks.join_next().await {
        if matches!(r, Ok(Ok(Ok(_)))) {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 0, "no unpinned key gets through");
    let stats = a.net.quic_stats().unwrap();
    let limited =
        stats.refused_per_ip.load(Ordering::Relaxed) + stats.retries.load(Ordering::Relaxed);
    assert!(limited > 0, "the flood met the per-IP limit or Retry");
    assert_eq!(
        a.net.connection_counts(),
        (1, 0),
        "only the honest peer holds a slot"
    );

    // The honest peer still talks, and a new honest connection is admitted.
    b.net
        .send(bid, Message::Block(vec![5; 10_000].into()))
        .await
        .unwrap();
    wait_for(&mut a.rx, |e| {
        matches!(e, PeerEvent::Message(Message::Block(_)))
    })
    .await;
    let mut b2 = start(ib, false, &[], false, limits).await;
    connect_pair(&mut a, &mut b2).await;
    for n in [&a, &b, &b2] {
        n.net.shutdown();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_and_keep_alive() {
    let limits = QuicLimits {
        idle_timeout: Duration::from_millis(1500),
        keep_alive: Duration::from_millis(300),
        handshake_timeout: Duration::from_secs(1),
        ..QuicLimits::default()
    };
    let ib = Identity::ephemeral().unwrap();
    let mut a = start(
        Identity::ephemeral().unwrap(),
        true,
        &[ib.fingerprint()],
        false,
        limits.clone(),
    )
    .await;
    let mut b = start(ib.clone(), false, &[], false, limits.clone()).await;
    connect_pair(&mut a, &mut b).await;
    // No Bitcoin traffic for twice the idle timeout (pings are minutes apart): keep-alive
    // holds the connection.
    no_disconnect(&mut a.rx, Duration::from_secs(3)).await;
    assert_eq!(a.net.connection_counts(), (1, 0));

    // A client that completes TLS but never says hello is dropped at the handshake timeout.
    let ep = raw_endpoint();
    let conn = raw_connect(&ep, &ib, a.addr(), a.fp(), ALPN).await.unwrap();
    let (code, reason) = closed_by_peer(&conn, Duration::from_secs(5)).await;
    assert_eq!(
        (code, reason.as_str()),
        (close::REFUSED, "handshake timeout")
    );

    // Migration is off: a client that moves to another port is not followed; the node
    // hears nothing from the old address and drops the connection at the idle timeout.
    let ep2 = raw_endpoint();
    let conn = raw_connect(&ep2, &ib, a.addr(), a.fp(), ALPN)
        .await
        .unwrap();
    let _control = raw_hello(&conn, Hello::ours()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(a.net.connection_counts(), (2, 0));
    ep2.rebind(std::net::UdpSocket::bind("127.0.0.1:0").unwrap())
        .unwrap();
    let (_, ev) = wait_for(&mut a.rx, |e| matches!(e, PeerEvent::Disconnect { .. })).await;
    assert!(
        matches!(&ev, PeerEvent::Disconnect { reason: DisconnectReason::Quic(why), .. } if why.contains("timed out")),
        "{ev:?}"
    );
    // The slot is released when the connection's task ends, just after it reports the
    // disconnection: allow it a moment (bounded).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while a.net.connection_counts() != (1, 0) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(a.net.connection_counts(), (1, 0));
    a.net.shutdown();
    b.net.shutdown();
}
