#![allow(clippy::unwrap_used)]

use super::*;
use crate::wire::command::names;
use crate::wire::encode_frame;

const MAGIC: [u8; 4] = [0xfa, 0xbf, 0xb5, 0xda];

/// Moves bytes both ways (in chunks of `chunk` bytes) until quiet; returns what each received.
fn pump(
    a: &mut V2Transport,
    b: &mut V2Transport,
    chunk: usize,
) -> (Vec<RawMessage>, Vec<RawMessage>) {
    let (mut to_a, mut to_b) = (VecDeque::new(), VecDeque::new());
    loop {
        let mut moved = false;
        while let Some(bytes) = a.poll_transmit() {
            for c in bytes.chunks(chunk) {
                b.receive(c, &mut to_b).unwrap();
            }
            moved = true;
        }
        while let Some(bytes) = b.poll_transmit() {
            for c in bytes.chunks(chunk) {
                a.receive(c, &mut to_a).unwrap();
            }
            moved = true;
        }
        if !moved {
            return (to_a.into(), to_b.into());
        }
    }
}

#[test]
fn handshake_and_messages_in_any_chunking() {
    for chunk in [1, 3, 17, 64, 1000, usize::MAX] {
        let mut a = V2Transport::initiator(MAGIC);
        let mut b = V2Transport::responder(MAGIC);
        // Queued before the handshake: held, then sent encrypted.
        a.send(names::VERSION, b"hello");
        let (ra, rb) = pump(&mut a, &mut b, chunk);
        assert!(a.is_ready() && b.is_ready(), "chunk {chunk}");
        assert!(ra.is_empty());
        assert_eq!(rb.len(), 1);
        assert_eq!(rb[0].command, names::VERSION);
        assert_eq!(rb[0].payload, b"hello");
        // A short-id message and a long-form one, both ways.
        b.send(names::HEADERS, &[0]);
        b.send(names::SENDHEADERS, &[]);
        a.send(names::BLOCK, &vec![7u8; 100_000]);
        let (ra, rb) = pump(&mut a, &mut b, chunk);
        assert_eq!(
            ra.iter().map(|m| m.command).collect::<Vec<_>>(),
            vec![names::HEADERS, names::SENDHEADERS]
        );
        assert_eq!(rb[0].payload.len(), 100_000);
        assert_eq!(a.queued_bytes(), 0);
    }
}

#[test]
fn inbound_detects_v1_and_serves_it() {
    let mut frame = Vec::new();
    encode_frame(MAGIC, names::VERSION, b"abc", &mut frame);
    let mut b = V2Transport::responder(MAGIC);
    let mut out = VecDeque::new();
    // Byte by byte: nothing is sent while the prefix still matches.
    for byte in &frame[..15] {
        b.receive(std::slice::from_ref(byte), &mut out).unwrap();
        assert!(b.poll_transmit().is_none());
    }
    b.receive(&frame[15..], &mut out).unwrap();
    assert!(b.is_v1());
    assert_eq!(out.pop_front().unwrap().payload, b"abc");
    b.send(names::VERACK, &[]);
    let bytes = b.poll_transmit().unwrap();
    assert_eq!(&bytes[..4], &MAGIC);
    assert!(!b.should_reconnect_v1());
}

#[test]
fn inbound_non_version_v1_message_is_treated_as_v2() {
    // Core only recognises a v1 `version` header; anything else is taken as a key.
    let mut frame = Vec::new();
    encode_frame(MAGIC, names::PING, &[0; 8], &mut frame);
    let mut b = V2Transport::responder(MAGIC);
    let mut out = VecDeque::new();
    b.receive(&frame[..5], &mut out).unwrap();
    assert!(!b.is_v1());
    assert_eq!(b.poll_transmit().map(|k| k.len()), Some(KEY_LEN));
}

#[test]
fn outbound_fallback_signals() {
    let a = V2Transport::initiator(MAGIC);
    assert!(a.should_reconnect_v1(), "closed before any byte: retry v1");
    // The peer answers with a v1 message: its "key" starts with the magic.
    let mut a = V2Transport::initiator(MAGIC);
    let mut frame = Vec::new();
    encode_frame(MAGIC, names::VERSION, &[0; 60], &mut frame);
    let mut out = VecDeque::new();
    assert_eq!(
        a.receive(&frame, &mut out),
        Err(TransportError::V2(V2Error::PeerIsV1))
    );
    assert!(a.should_reconnect_v1());
    // Any real progress means no fallback.
    let mut a = V2Transport::initiator(MAGIC);
    a.receive(&[1, 2, 3], &mut out).unwrap();
    assert!(!a.should_reconnect_v1());
    assert!(!V2Transport::responder(MAGIC).should_reconnect_v1());
}

#[test]
fn tampering_is_fatal() {
    let mut a = V2Transport::initiator(MAGIC);
    let mut b = V2Transport::responder(MAGIC);
    pump(&mut a, &mut b, usize::MAX);
    a.send(names::PING, &[1; 8]);
    let mut bytes = a.poll_transmit().unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let mut out = VecDeque::new();
    assert!(matches!(
        b.receive(&bytes, &mut out),
        Err(TransportError::V2(V2Error::Decrypt(_)))
    ));
    assert_eq!(
        b.receive(&[0], &mut out),
        Err(TransportError::V2(V2Error::Failed))
    );
}

#[test]
fn missing_garbage_terminator_is_fatal() {
    let mut a = V2Transport::initiator(MAGIC);
    let mut out = VecDeque::new();
    // A key from a real responder, then 4,111 bytes with no terminator.
    let mut b = V2Transport::responder(MAGIC);
    let key = a.poll_transmit().unwrap();
    b.receive(&key, &mut out).unwrap();
    let their_key = b.poll_transmit().unwrap();
    a.receive(&their_key, &mut out).unwrap();
    let r = a.receive(&[0x55; 4095 + 16], &mut out);
    assert!(matches!(
        r,
        Err(TransportError::V2(V2Error::Handshake(
            bip324::Error::NoGarbageTerminator
        )))
    ));
}

#[test]
fn oversized_packet_length_is_refused_before_buffering() {
    let mut a = V2Transport::initiator(MAGIC);
    let mut b = V2Transport::responder(MAGIC);
    pump(&mut a, &mut b, usize::MAX);
    // Short id (1 byte) + payload: one byte over the limit.
    a.send(names::BLOCK, &vec![0u8; MAX_CONTENTS_LEN]);
    let packet = a.poll_transmit().unwrap();
    let mut out = VecDeque::new();
    // Only the three length bytes are needed to refuse it.
    assert_eq!(
        b.receive(&packet[..3], &mut out),
        Err(TransportError::V2(V2Error::PacketTooLarge(
            MAX_CONTENTS_LEN + 1
        )))
    );

    // Exactly the limit is accepted.
    let mut a = V2Transport::initiator(MAGIC);
    let mut b = V2Transport::responder(MAGIC);
    pump(&mut a, &mut b, usize::MAX);
    a.send(names::BLOCK, &vec![0u8; MAX_CONTENTS_LEN - 1]);
    let (_, rb) = pump(&mut a, &mut b, 1 << 16);
    assert_eq!(rb[0].payload.len(), MAX_CONTENTS_LEN - 1);
}

/// The remote side played by the `bip324` crate directly, sending what we never send ourselves:
/// 1,000 bytes of garbage (authenticated as the first packet's associated data) and two decoy
/// packets before its version packet, with everything delivered in small chunks.
#[test]
fn remote_garbage_and_decoys_are_accepted() {
    use bip324::{GarbageResult, Initialized, ReceivedKey, VersionResult};

    let mut a = V2Transport::initiator(MAGIC);
    let mut out = VecDeque::new();
    let our_key = a.poll_transmit().unwrap();

    let garbage = vec![0x42u8; 1000];
    let hs = Handshake::<Initialized>::new(MAGIC, Role::Responder).unwrap();
    let mut key_and_garbage = vec![0u8; Handshake::<Initialized>::send_key_len(Some(&garbage))];
    let hs = hs.send_key(Some(&garbage), &mut key_and_garbage).unwrap();
    let hs = hs
        .receive_key(our_key[..KEY_LEN].try_into().unwrap())
        .unwrap();
    let decoys: [&[u8]; 2] = [b"decoy one", b""];
    let mut version = vec![0u8; Handshake::<ReceivedKey<'_>>::send_version_len(Some(&decoys[..]))];
    let hs = hs.send_version(&mut version, Some(&decoys[..])).unwrap();
    for piece in [key_and_garbage, version].concat().chunks(7) {
        a.receive(piece, &mut out).unwrap();
    }
    assert!(a.is_ready());

    // Finish the crate's side with our terminator and version packet.
    let mut ours = Vec::new();
    while let Some(b) = a.poll_transmit() {
        ours.extend(b);
    }
    let GarbageResult::FoundGarbage {
        handshake: mut hs,
        consumed_bytes,
    } = hs.receive_garbage(&ours).unwrap()
    else {
        panic!("no terminator from us");
    };
    let rest = &ours[consumed_bytes..];
    let len = hs
        .decrypt_packet_len(rest[..NUM_LENGTH_BYTES].try_into().unwrap())
        .unwrap();
    let mut packet = rest[NUM_LENGTH_BYTES..NUM_LENGTH_BYTES + len].to_vec();
    let VersionResult::Complete { mut cipher } = hs.receive_version(&mut packet).unwrap() else {
        panic!("our version packet was a decoy");
    };

    // Their long-form message reaches us; ours reaches them with its short id.
    let mut contents = vec![0u8];
    contents.extend_from_slice(&names::VERSION.to_wire());
    contents.extend_from_slice(b"payload");
    let packet = cipher
        .outbound()
        .encrypt_to_vec(&contents, PacketType::Genuine, None);
    a.receive(&packet, &mut out).unwrap();
    let m = out.pop_front().unwrap();
    assert_eq!(
        (m.command, m.payload.as_slice()),
        (names::VERSION, &b"payload"[..])
    );

    a.send(names::PING, &[5; 8]);
    let bytes = a.poll_transmit().unwrap();
    let len = cipher
        .inbound()
        .decrypt_packet_len(bytes[..NUM_LENGTH_BYTES].try_into().unwrap());
    let (kind, plain) = cipher
        .inbound()
        .decrypt_to_vec(&bytes[NUM_LENGTH_BYTES..NUM_LENGTH_BYTES + len], None)
        .unwrap();
    assert_eq!(kind, PacketType::Genuine);
    assert_eq!(plain[1], 18, "ping's short id");
    assert_eq!(&plain[2..], &[5; 8]);
}
