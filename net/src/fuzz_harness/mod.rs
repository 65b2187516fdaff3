//! Entry points shared by the cargo-fuzz targets (`fuzz/fuzz_targets/net_*.rs`) and the bounded
//! randomized test (`tests/random_input.rs`). Each takes arbitrary bytes and must neither panic
//! nor allocate beyond the protocol's limits; the assertions in here are invariants, so a
//! failing one is a bug the fuzzer found.

mod quic;
mod sync;

pub use quic::quic_framing;
pub use sync::sync_events;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use crate::peer::{ConnInfo, Direction, Peer, PeerConfig, PeerEvent};
use crate::transport::{TransportKind, V2Transport};
use crate::wire::{FrameDecoder, Message, MAX_MESSAGE_PAYLOAD};

/// Every message type with a typed decoder.
const TYPED: [crate::wire::Command; 18] = {
    use crate::wire::command::names::*;
    [
        VERSION,
        VERACK,
        WTXIDRELAY,
        SENDADDRV2,
        SENDHEADERS,
        PING,
        PONG,
        GETHEADERS,
        HEADERS,
        GETDATA,
        INV,
        NOTFOUND,
        BLOCK,
        TX,
        FEEFILTER,
        ADDRV2,
        GETADDR,
        SENDCMPCT,
    ]
};

/// The regtest magic, used by every harness.
pub const MAGIC: [u8; 4] = [0xfa, 0xbf, 0xb5, 0xda];

/// `data[0]` picks a message type and a chunk size; the rest is decoded as that type's payload
/// and as a v1 byte stream. Every framed message is decoded
/// as its type, and every decoded message must survive encode → decode unchanged. The same
/// stream is then fed to a connected [`Peer`], which must end with at most one `Disconnect`.
pub fn v1_stream(data: &[u8]) {
    let Some((&first, stream)) = data.split_first() else {
        return;
    };
    // Checksums keep a fuzzer from reaching the payload decoders through frames, so the stream
    // is also decoded directly as the payload of a message type the first byte picks.
    let command = TYPED[usize::from(first) % TYPED.len()];
    if let Ok(msg) = Message::decode(command, stream.to_vec()) {
        check_round_trip(&msg);
    }

    let chunk = usize::from(first % 64) + 1;
    let mut decoder = FrameDecoder::new(MAGIC);
    'chunks: for piece in stream.chunks(chunk) {
        let mut input = piece;
        loop {
            match decoder.decode(&mut input) {
                Ok(Some(raw)) => {
                    assert!(raw.payload.len() <= MAX_MESSAGE_PAYLOAD);
                    if let Ok(msg) = Message::decode(raw.command, raw.payload) {
                        check_round_trip(&msg);
                    }
                }
                Ok(None) => break,
                Err(_) => break 'chunks,
            }
        }
        assert!(decoder.buffered() <= crate::wire::HEADER_LEN + MAX_MESSAGE_PAYLOAD);
    }

    let now = Instant::now();
    let (mut a, mut b) = connected_pair(TransportKind::V1, now);
    for piece in stream.chunks(chunk) {
        a.handle_bytes(piece, now);
    }
    check_events(&mut a);
    drop(b.poll_event());
}

/// Fuzzes the BIP324 transport. `data[0]` picks the scenario:
/// - even: a responder is fed `data[1..]` as the initiator's bytes (v1 detection, key, garbage
///   terminator search);
/// - odd: a real initiator and responder shake hands and exchange messages while the
///   initiator's bytes are cut into chunks and corrupted as `data[1..]` dictates: each 3-byte
///   group is (offset, offset, xor) for one byte of the stream. With no corruption the session
///   must come up and carry the message.
pub fn v2_handshake(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let mut out = VecDeque::new();
    if first % 2 == 0 {
        let mut responder = V2Transport::responder(MAGIC);
        let chunk = usize::from(first / 2 % 97) + 1;
        for piece in rest.chunks(chunk) {
            if responder.receive(piece, &mut out).is_err() {
                break;
            }
            while responder.poll_transmit().is_some() {}
        }
        return;
    }
    let flips: Vec<(usize, u8)> = rest
        .chunks_exact(3)
        .map(|c| (usize::from(u16::from_le_bytes([c[0], c[1]])), c[2]))
        .filter(|&(_, x)| x != 0)
        .collect();
    let chunk = usize::from(first / 2 % 61) + 1;
    let mut initiator = V2Transport::initiator(MAGIC);
    let mut responder = V2Transport::responder(MAGIC);
    initiator.send(crate::wire::command::names::PING, &[7; 8]);
    let mut offset = 0usize;
    let mut failed = false;
    let mut to_initiator = VecDeque::new();
    for _round in 0..8 {
        while let Some(mut bytes) = initiator.poll_transmit() {
            for (at, x) in &flips {
                if let Some(b) = at.checked_sub(offset).and_then(|i| bytes.get_mut(i)) {
                    *b ^= x;
                }
            }
            offset += bytes.len();
            for piece in bytes.chunks(chunk) {
                if !failed && responder.receive(piece, &mut out).is_err() {
                    failed = true;
                }
            }
        }
        while let Some(bytes) = responder.poll_transmit() {
            // The responder's bytes are not corrupted; a failure on this side is a bug unless
            // the responder itself derived keys from a corrupted initiator key.
            let _ = initiator.receive(&bytes, &mut to_initiator);
        }
    }
    if flips.is_empty() {
        assert!(!failed && responder.is_ready(), "clean v2 handshake failed");
        let got = out.pop_front().map(|m| (m.command, m.payload));
        assert_eq!(
            got,
            Some((crate::wire::command::names::PING, vec![7; 8])),
            "message lost"
        );
    }
}

fn check_round_trip(msg: &Message) {
    if let Message::Version(v) = msg {
        // A lossily decoded user agent can grow past the 256 bytes `encode` keeps.
        if v.user_agent.len() > crate::wire::version::MAX_USER_AGENT_LEN {
            return;
        }
    }
    let again = Message::decode(msg.command(), msg.payload());
    assert_eq!(again.as_ref(), Ok(msg), "re-encoding changed the message");
}

fn connected_pair(kind: TransportKind, now: Instant) -> (Peer, Peer) {
    let conn = |direction| ConnInfo {
        direction,
        addr: ([127, 0, 0, 1], 18444).into(),
        transport: kind,
        start_height: 0,
        unix_time: 0,
    };
    let mut a = Peer::new(
        Arc::new(PeerConfig::new(MAGIC)),
        conn(Direction::Outbound),
        now,
    );
    let mut b = Peer::new(
        Arc::new(PeerConfig::new(MAGIC)),
        conn(Direction::Inbound),
        now,
    );
    for _ in 0..8 {
        while let Some(bytes) = a.poll_transmit() {
            b.handle_bytes(&bytes, now);
        }
        while let Some(bytes) = b.poll_transmit() {
            a.handle_bytes(&bytes, now);
        }
    }
    assert!(
        a.is_connected() && b.is_connected(),
        "in-memory handshake failed"
    );
    while a.poll_event().is_some() {}
    (a, b)
}

/// At most one `Disconnect`, and it is the last event.
fn check_events(peer: &mut Peer) {
    let mut disconnected = false;
    while let Some(ev) = peer.poll_event() {
        assert!(!disconnected, "event after Disconnect: {ev:?}");
        disconnected = matches!(ev, PeerEvent::Disconnect { .. });
    }
    assert_eq!(disconnected, peer.is_closed());
}
