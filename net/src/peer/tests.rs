#![allow(clippy::unwrap_used)]

use super::*;
use crate::transport::TransportKind;
use crate::wire::command::names;
use crate::wire::services::{NODE_NETWORK, NODE_NETWORK_LIMITED, NODE_WITNESS};
use crate::wire::{encode_frame, Command, GetHeaders};

pub(crate) const MAGIC: [u8; 4] = [0xfa, 0xbf, 0xb5, 0xda];

pub(crate) fn conn(direction: Direction, kind: TransportKind) -> ConnInfo {
    ConnInfo {
        direction,
        addr: "127.0.0.1:18444".parse().unwrap(),
        transport: kind,
        start_height: 10,
        unix_time: 1_700_000_000,
    }
}

/// A peer with its own default node config.
pub(crate) fn peer(direction: Direction, kind: TransportKind, now: Instant) -> Peer {
    Peer::new(Arc::new(PeerConfig::new(MAGIC)), conn(direction, kind), now)
}

/// An outbound and an inbound peer, each with its own node config (so self-connection detection
/// does not fire).
pub(crate) fn pair(kind: TransportKind, now: Instant) -> (Peer, Peer) {
    (
        peer(Direction::Outbound, kind, now),
        peer(Direction::Inbound, kind, now),
    )
}

/// Moves bytes both ways until neither side has anything to write.
pub(crate) fn pump(a: &mut Peer, b: &mut Peer, now: Instant) {
    loop {
        let mut moved = false;
        while let Some(bytes) = a.poll_transmit() {
            b.handle_bytes(&bytes, now);
            moved = true;
        }
        while let Some(bytes) = b.poll_transmit() {
            a.handle_bytes(&bytes, now);
            moved = true;
        }
        if !moved {
            return;
        }
    }
}

pub(crate) fn events(p: &mut Peer) -> Vec<PeerEvent> {
    std::iter::from_fn(|| p.poll_event()).collect()
}

fn connected_info(evs: &[PeerEvent]) -> &PeerInfo {
    match evs.first() {
        Some(PeerEvent::Connected(info)) => info,
        other => panic!("expected Connected first, got {other:?}"),
    }
}

/// Handshake both ways and check what each side learnt.
pub(crate) fn handshake_completes(kind: TransportKind) {
    let now = Instant::now();
    let (mut a, mut b) = pair(kind, now);
    pump(&mut a, &mut b, now);
    assert!(a.is_connected() && b.is_connected());
    let ea = events(&mut a);
    let eb = events(&mut b);
    let ia = connected_info(&ea);
    assert_eq!(ia.version, PROTOCOL_VERSION);
    assert!(ia.wtxidrelay && ia.sendaddrv2 && ia.can_serve_blocks());
    assert_eq!(ia.start_height, 10);
    assert_eq!(ia.direction, Direction::Outbound);
    assert_eq!(ia.transport, kind);
    assert!(ia.user_agent.starts_with("/Sluice:"));
    assert_eq!(connected_info(&eb).direction, Direction::Inbound);
    // sendheaders arrives after the handshake, as an event.
    assert!(ea.contains(&PeerEvent::Message(Message::SendHeaders)));
    assert!(a.prefers_headers() && b.prefers_headers());
    // The first pings were answered.
    assert!(a.ping_rtt().is_some() && b.ping_rtt().is_some());

    // Application messages flow both ways.
    let gh = Message::GetHeaders(GetHeaders {
        version: 70016,
        locator: vec![[1; 32]],
        stop: [0; 32],
    });
    a.send(&gh);
    b.send(&Message::Headers(vec![]));
    pump(&mut a, &mut b, now);
    assert_eq!(events(&mut b), vec![PeerEvent::Message(gh)]);
    assert_eq!(
        events(&mut a),
        vec![PeerEvent::Message(Message::Headers(vec![]))]
    );
}

#[test]
fn v1_handshake_completes() {
    handshake_completes(TransportKind::V1);
}

#[test]
fn v2_handshake_completes() {
    handshake_completes(TransportKind::V2);
}

#[test]
fn v2_outbound_to_v1_only_peer_asks_for_v1_retry() {
    let now = Instant::now();
    let mut a = peer(Direction::Outbound, TransportKind::V2, now);
    let mut b = peer(Direction::Inbound, TransportKind::V1, now);
    pump(&mut a, &mut b, now);
    // The v1 side sees a bad magic: disconnect, no discouragement.
    assert!(matches!(
        &events(&mut b)[..],
        [PeerEvent::Disconnect {
            reason: DisconnectReason::Transport(_),
            discourage: false
        }]
    ));
    // The v2 side got nothing back; when the socket closes it retries with v1.
    assert!(a.should_reconnect_v1());
    assert!(events(&mut a).is_empty());
}

#[test]
fn v1_outbound_to_v2_inbound_is_served_in_v1() {
    let now = Instant::now();
    let mut a = peer(Direction::Outbound, TransportKind::V1, now);
    let mut b = peer(Direction::Inbound, TransportKind::V2, now);
    pump(&mut a, &mut b, now);
    assert!(a.is_connected() && b.is_connected());
    let eb = events(&mut b);
    assert_eq!(connected_info(&eb).transport, TransportKind::V1);
}

#[test]
fn handshake_message_order_follows_bip339_and_bip155() {
    let now = Instant::now();
    let (mut a, _) = pair(TransportKind::V1, now);
    // Play the inbound side by hand and record what the outbound side sends.
    let mut sent = Vec::new();
    let mut decoder = crate::wire::FrameDecoder::new(MAGIC);
    let mut collect = |p: &mut Peer, sent: &mut Vec<Command>| {
        while let Some(bytes) = p.poll_transmit() {
            let mut input = &bytes[..];
            while let Some(m) = decoder.decode(&mut input).unwrap() {
                sent.push(m.command);
            }
        }
    };
    collect(&mut a, &mut sent);
    assert_eq!(sent, vec![names::VERSION]);
    let mut b_version = Vec::new();
    let v = VersionMessage {
        version: PROTOCOL_VERSION,
        services: NODE_NETWORK | NODE_WITNESS,
        timestamp: 0,
        receiver: NetAddr::unspecified(),
        sender: NetAddr::unspecified(),
        nonce: 5,
        user_agent: "/Satoshi:29.0.0/".into(),
        start_height: 100,
        relay: true,
    };
    encode_frame(
        MAGIC,
        names::VERSION,
        &Message::Version(v).payload(),
        &mut b_version,
    );
    a.handle_bytes(&b_version, now);
    collect(&mut a, &mut sent);
    assert_eq!(
        sent,
        vec![
            names::VERSION,
            names::WTXIDRELAY,
            names::SENDADDRV2,
            names::VERACK
        ]
    );
    let mut verack = Vec::new();
    encode_frame(MAGIC, names::VERACK, &[], &mut verack);
    a.handle_bytes(&verack, now);
    collect(&mut a, &mut sent);
    assert_eq!(&sent[4..], &[names::SENDHEADERS, names::PING]);
    let evs = events(&mut a);
    assert_eq!(connected_info(&evs).start_height, 100);
}

#[test]
fn handshake_timeout_is_60_seconds() {
    let now = Instant::now();
    let (mut a, _) = pair(TransportKind::V1, now);
    assert_eq!(a.poll_timeout(), Some(now + HANDSHAKE_TIMEOUT));
    a.handle_timeout(now + HANDSHAKE_TIMEOUT - Duration::from_millis(1));
    assert!(events(&mut a).is_empty());
    a.handle_timeout(now + HANDSHAKE_TIMEOUT);
    assert_eq!(
        events(&mut a),
        vec![PeerEvent::Disconnect {
            reason: DisconnectReason::HandshakeTimeout,
            discourage: false
        }]
    );
    assert_eq!(a.poll_timeout(), None);
}

#[test]
fn pings_every_two_minutes_and_times_out_after_twenty() {
    let t0 = Instant::now();
    let (mut a, mut b) = pair(TransportKind::V1, t0);
    pump(&mut a, &mut b, t0);
    events(&mut a);
    // First ping answered at t0; the next is due two minutes later.
    assert_eq!(a.poll_timeout(), Some(t0 + PING_INTERVAL));
    let t1 = t0 + PING_INTERVAL;
    a.handle_timeout(t1);
    assert!(a.poll_transmit().is_some(), "a ping is sent");
    // Unanswered: the deadline is twenty minutes after sending.
    assert_eq!(a.poll_timeout(), Some(t1 + PING_TIMEOUT));
    a.handle_timeout(t1 + PING_TIMEOUT - Duration::from_secs(1));
    assert!(!a.is_closed());
    a.handle_timeout(t1 + PING_TIMEOUT);
    assert_eq!(
        events(&mut a),
        vec![PeerEvent::Disconnect {
            reason: DisconnectReason::PingTimeout,
            discourage: false
        }]
    );
}

#[test]
fn self_connection_is_detected_by_nonce() {
    let now = Instant::now();
    let config = Arc::new(PeerConfig::new(MAGIC));
    let mut a = Peer::new(
        config.clone(),
        conn(Direction::Outbound, TransportKind::V1),
        now,
    );
    let mut b = Peer::new(
        config.clone(),
        conn(Direction::Inbound, TransportKind::V1),
        now,
    );
    pump(&mut a, &mut b, now);
    assert_eq!(
        events(&mut b),
        vec![PeerEvent::Disconnect {
            reason: DisconnectReason::SelfConnection,
            discourage: false
        }]
    );
    // The nonce is forgotten with the outbound peer.
    drop(a);
    assert!(config.nonces.is_empty());
}

#[test]
fn outbound_requires_block_services() {
    let now = Instant::now();
    let mut limited = PeerConfig::new(MAGIC);
    limited.services = NODE_NETWORK_LIMITED | NODE_WITNESS;
    let mut a = peer(Direction::Outbound, TransportKind::V1, now);
    let mut b = Peer::new(
        Arc::new(limited),
        conn(Direction::Inbound, TransportKind::V1),
        now,
    );
    pump(&mut a, &mut b, now);
    assert_eq!(
        events(&mut a),
        vec![PeerEvent::Disconnect {
            reason: DisconnectReason::MissingServices {
                services: NODE_NETWORK_LIMITED | NODE_WITNESS
            },
            discourage: false
        }]
    );
}

#[test]
fn garbage_and_malformed_messages_discourage() {
    let now = Instant::now();
    let (mut a, mut b) = pair(TransportKind::V1, now);
    pump(&mut a, &mut b, now);
    events(&mut a);
    let mut bad_checksum = Vec::new();
    encode_frame(MAGIC, names::PING, &[0; 8], &mut bad_checksum);
    bad_checksum[20] ^= 1;
    a.handle_bytes(&bad_checksum, now);
    assert!(matches!(
        events(&mut a)[..],
        [PeerEvent::Disconnect {
            reason: DisconnectReason::Transport(_),
            discourage: true
        }]
    ));
    // Bytes after the disconnect are ignored.
    a.handle_bytes(&[0; 100], now);
    assert!(events(&mut a).is_empty());

    let (mut a, mut b) = pair(TransportKind::V1, now);
    pump(&mut a, &mut b, now);
    events(&mut a);
    let mut bad = Vec::new();
    encode_frame(MAGIC, names::HEADERS, &[1, 0, 0], &mut bad);
    a.handle_bytes(&bad, now);
    assert!(matches!(
        &events(&mut a)[..],
        [PeerEvent::Disconnect {
            reason: DisconnectReason::Malformed { .. },
            discourage: true
        }]
    ));
}

#[test]
fn messages_before_the_handshake_are_ignored_and_late_wtxidrelay_disconnects() {
    let now = Instant::now();
    let (mut a, mut b) = pair(TransportKind::V1, now);
    // A malformed headers before version is ignored without parsing, as Core does.
    let mut early = Vec::new();
    encode_frame(MAGIC, names::HEADERS, &[0xff], &mut early);
    b.handle_bytes(&early, now);
    assert!(events(&mut b).is_empty() && !b.is_closed());
    pump(&mut a, &mut b, now);
    assert!(a.is_connected());
    events(&mut a);
    b.send(&Message::WtxidRelay);
    pump(&mut a, &mut b, now);
    assert_eq!(
        events(&mut a),
        vec![PeerEvent::Disconnect {
            reason: DisconnectReason::Protocol("wtxidrelay/sendaddrv2 after verack"),
            discourage: false
        }]
    );
}

#[test]
fn local_disconnect_reports_once() {
    let now = Instant::now();
    let (mut a, _) = pair(TransportKind::V1, now);
    a.disconnect(DisconnectReason::Closed);
    a.disconnect(DisconnectReason::Local);
    assert_eq!(events(&mut a).len(), 1);
    let queued = a.queued_bytes();
    a.send(&Message::Verack);
    assert_eq!(
        a.queued_bytes(),
        queued,
        "nothing is queued after the disconnect"
    );
}
