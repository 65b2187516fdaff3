use std::net::{Ipv4Addr, Ipv6Addr};

use sluice_consensus::encode::write_compact_size;

use super::*;
use crate::wire::addr::{AddrV2, MAX_ADDR_ENTRIES};
use crate::wire::inv::{InvType, MAX_HEADERS, MAX_INV_SIZE, MAX_LOCATOR_SIZE};
use crate::wire::version::{services, NetAddr, PROTOCOL_VERSION};

fn header(n: u32) -> Header {
    Header {
        version: 0x2000_0000,
        prev_blockhash: [n as u8; 32],
        merkle_root: [0xab; 32],
        time: 1_600_000_000 + n,
        bits: 0x207f_ffff,
        nonce: n,
    }
}

fn inv(n: u8) -> Inventory {
    Inventory {
        kind: InvType::WITNESS_BLOCK,
        hash: [n; 32],
    }
}

pub(crate) fn samples() -> Vec<Message> {
    vec![
        Message::Version(VersionMessage {
            version: PROTOCOL_VERSION,
            services: services::NODE_NETWORK | services::NODE_WITNESS,
            timestamp: 1_700_000_000,
            receiver: NetAddr::from_socket(0, "[::1]:8333".parse().unwrap()),
            sender: NetAddr::unspecified(),
            nonce: 99,
            user_agent: "/Sluice:0.1.0/".into(),
            start_height: 7,
            relay: true,
        }),
        Message::Verack,
        Message::WtxidRelay,
        Message::SendAddrV2,
        Message::SendHeaders,
        Message::GetAddr,
        Message::Ping(u64::MAX),
        Message::Pong(0),
        Message::GetHeaders(GetHeaders {
            version: 70016,
            locator: vec![[1; 32], [2; 32]],
            stop: [0; 32],
        }),
        Message::Headers(vec![header(1), header(2)]),
        Message::Headers(vec![]),
        Message::GetData(vec![inv(1), inv(2)]),
        Message::Inv(vec![Inventory {
            kind: InvType::WTX,
            hash: [3; 32],
        }]),
        Message::NotFound(vec![Inventory {
            kind: InvType(0xdead),
            hash: [4; 32],
        }]),
        Message::Block(vec![1, 2, 3, 4].into()),
        Message::Tx(vec![5, 6].into()),
        Message::FeeFilter(1000),
        Message::AddrV2(vec![
            AddrV2Entry {
                time: 1,
                services: services::NODE_NETWORK,
                addr: AddrV2::Ipv4(Ipv4Addr::new(10, 0, 0, 1)),
                port: 8333,
            },
            AddrV2Entry {
                time: 2,
                services: u64::MAX,
                addr: AddrV2::Ipv6(Ipv6Addr::LOCALHOST),
                port: 1,
            },
            AddrV2Entry {
                time: 3,
                services: 0,
                addr: AddrV2::TorV3([7; 32]),
                port: 9050,
            },
            AddrV2Entry {
                time: 4,
                services: 0,
                addr: AddrV2::I2p([8; 32]),
                port: 0,
            },
            AddrV2Entry {
                time: 5,
                services: 0,
                addr: AddrV2::Cjdns([0xfc; 16]),
                port: 2,
            },
            AddrV2Entry {
                time: 6,
                services: 0,
                addr: AddrV2::Unknown {
                    network: 3,
                    bytes: vec![1; 10],
                },
                port: 3,
            },
        ]),
        Message::SendCmpct {
            announce: true,
            version: 2,
        },
        Message::Unknown {
            command: Command::new("feature").unwrap(),
            payload: vec![9; 3],
        },
    ]
}

#[test]
fn every_message_round_trips() {
    for m in samples() {
        let payload = m.payload();
        let back = Message::decode(m.command(), payload).unwrap();
        assert_eq!(back, m);
    }
}

#[test]
fn every_fixed_message_rejects_every_truncation() {
    for m in samples() {
        let payload = m.payload();
        let variable = matches!(
            m,
            Message::Block(_) | Message::Tx(_) | Message::Unknown { .. } | Message::Version(_)
        );
        if variable {
            continue;
        }
        for cut in 0..payload.len() {
            let r = Message::decode(m.command(), payload[..cut].to_vec());
            assert!(r.is_err(), "{} cut at {cut} decoded", m.command());
        }
    }
}

#[test]
fn empty_messages_ignore_payload_like_core() {
    assert_eq!(
        Message::decode(names::VERACK, vec![1, 2, 3]),
        Ok(Message::Verack)
    );
}

fn list(count: u64, item: &[u8]) -> Vec<u8> {
    let mut p = Vec::new();
    write_compact_size(&mut p, count);
    for _ in 0..count {
        p.extend_from_slice(item);
    }
    p
}

fn too_many(r: Result<Message, PayloadError>) -> (u64, bool) {
    match r {
        Err(e @ PayloadError::TooMany { count, .. }) => (count, e.discourage()),
        other => panic!("expected TooMany, got {other:?}"),
    }
}

#[test]
fn list_limits_are_enforced_at_the_boundary() {
    let item = [0u8; 36];
    for cmd in [names::INV, names::GETDATA, names::NOTFOUND] {
        let max = MAX_INV_SIZE as u64;
        assert!(Message::decode(cmd, list(max, &item)).is_ok());
        let (count, disc) = too_many(Message::decode(cmd, list(max + 1, &item)));
        assert_eq!(count, max + 1);
        assert_eq!(disc, cmd != names::NOTFOUND);
    }
    let mut hdr = [0u8; 81].to_vec();
    hdr[80] = 0;
    assert!(Message::decode(names::HEADERS, list(MAX_HEADERS as u64, &hdr)).is_ok());
    let (_, disc) = too_many(Message::decode(
        names::HEADERS,
        list(MAX_HEADERS as u64 + 1, &hdr),
    ));
    assert!(disc);

    let mut gh = 70016u32.to_le_bytes().to_vec();
    gh.extend(list(MAX_LOCATOR_SIZE as u64, &[0; 32]));
    gh.extend([0; 32]);
    assert!(Message::decode(names::GETHEADERS, gh).is_ok());
    let mut gh = 70016u32.to_le_bytes().to_vec();
    gh.extend(list(MAX_LOCATOR_SIZE as u64 + 1, &[0; 32]));
    gh.extend([0; 32]);
    let (_, disc) = too_many(Message::decode(names::GETHEADERS, gh));
    assert!(!disc, "Core only disconnects for a long locator");

    let addr = [0, 0, 0, 0, 0, 1, 4, 1, 2, 3, 4, 0, 1];
    assert!(Message::decode(names::ADDRV2, list(MAX_ADDR_ENTRIES as u64, &addr)).is_ok());
    too_many(Message::decode(
        names::ADDRV2,
        list(MAX_ADDR_ENTRIES as u64 + 1, &addr),
    ));
}

#[test]
fn huge_counts_with_short_payloads_fail_without_allocating() {
    // A count within limits but no items: truncated, and capacity was bounded by the input.
    let mut p = Vec::new();
    write_compact_size(&mut p, 50_000);
    assert!(matches!(
        Message::decode(names::INV, p),
        Err(PayloadError::Decode(_))
    ));
    // A count far above MAX_SIZE.
    let mut p = Vec::new();
    write_compact_size(&mut p, u64::MAX);
    assert!(Message::decode(names::HEADERS, p).is_err());
}

#[test]
fn addrv2_address_lengths_are_checked() {
    let entry = |network: u8, len: u8| {
        let mut p = vec![1, 0, 0, 0, 0, network, len];
        p.extend(std::iter::repeat_n(0, len as usize));
        p.extend([0, 0]);
        list(1, &p)
    };
    assert!(Message::decode(names::ADDRV2, entry(1, 4)).is_ok());
    assert!(Message::decode(names::ADDRV2, entry(1, 5)).is_err());
    assert!(Message::decode(names::ADDRV2, entry(4, 16)).is_err());
    assert!(Message::decode(names::ADDRV2, entry(9, 200)).is_ok());
    // Unknown networks are still bounded by 512 bytes.
    let mut p = vec![1, 0, 0, 0, 0, 9];
    write_compact_size(&mut p, 513);
    p.extend(std::iter::repeat_n(0, 515));
    assert!(matches!(
        Message::decode(names::ADDRV2, list(1, &p)),
        Err(PayloadError::AddrLength { len: 513, .. })
    ));
}

#[test]
fn sendcmpct_announce_must_be_boolean() {
    let mut p = vec![2];
    p.extend(1u64.to_le_bytes());
    assert_eq!(
        Message::decode(names::SENDCMPCT, p),
        Err(PayloadError::SendCmpctAnnounce(2))
    );
}
