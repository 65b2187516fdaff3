use std::time::{Duration, Instant};

use super::*;

fn inv(kind: InvType, n: u32) -> Inventory {
    let mut hash = [0u8; 32];
    hash[..4].copy_from_slice(&n.to_le_bytes());
    Inventory { kind, hash }
}

#[test]
fn wtxid_peer_gets_wtx_requests_and_txid_announcements_are_ignored() {
    let mut r = TxRelay::default();
    let now = Instant::now();
    r.peer_connected(1, true, true);
    let got = r.on_inv(
        1,
        &[inv(InvType::WTX, 1), inv(InvType::TX, 2)],
        false,
        |_, _| false,
        now,
    );
    assert_eq!(got, vec![inv(InvType::WTX, 1)]);
    r.peer_connected(2, true, false);
    let got = r.on_inv(
        2,
        &[inv(InvType::WTX, 3), inv(InvType::TX, 4)],
        false,
        |_, _| false,
        now,
    );
    assert_eq!(got, vec![inv(InvType::WITNESS_TX, 4)]);
}

#[test]
fn nothing_is_requested_during_ibd_or_when_held() {
    let mut r = TxRelay::default();
    let now = Instant::now();
    r.peer_connected(1, true, true);
    assert!(r
        .on_inv(1, &[inv(InvType::WTX, 1)], true, |_, _| false, now)
        .is_empty());
    assert!(r
        .on_inv(1, &[inv(InvType::WTX, 2)], false, |_, _| true, now)
        .is_empty());
    assert_eq!(r.in_flight(1), 0);
}

#[test]
fn in_flight_is_capped_and_refilled_on_answers() {
    let mut r = TxRelay::default();
    let now = Instant::now();
    r.peer_connected(1, true, true);
    let items: Vec<Inventory> = (0..150).map(|n| inv(InvType::WTX, n)).collect();
    let got = r.on_inv(1, &items, false, |_, _| false, now);
    assert_eq!(got.len(), MAX_IN_FLIGHT);
    assert_eq!(r.queued(1), 50);
    let first = items[0].hash;
    assert_eq!(r.on_tx(1, [9; 32], first, now), Arrival::Requested);
    let more = r.on_not_found(1, &items[1..11], now);
    assert_eq!(more.len(), 11);
    assert_eq!(r.in_flight(1), MAX_IN_FLIGHT);
}

#[test]
fn the_same_transaction_is_not_requested_from_two_peers_at_once() {
    let mut r = TxRelay::default();
    let now = Instant::now();
    r.peer_connected(1, true, true);
    r.peer_connected(2, true, true);
    assert_eq!(
        r.on_inv(1, &[inv(InvType::WTX, 7)], false, |_, _| false, now)
            .len(),
        1
    );
    assert!(r
        .on_inv(2, &[inv(InvType::WTX, 7)], false, |_, _| false, now)
        .is_empty());
}

#[test]
fn requests_time_out() {
    let mut r = TxRelay::default();
    let now = Instant::now();
    r.peer_connected(1, true, true);
    let items: Vec<Inventory> = (0..101).map(|n| inv(InvType::WTX, n)).collect();
    r.on_inv(1, &items, false, |_, _| false, now);
    assert!(r.tick(now + Duration::from_secs(1)).is_empty());
    let later = r.tick(now + REQUEST_TIMEOUT);
    assert_eq!(later, vec![(1, vec![items[100]])]);
}

#[test]
fn unrequested_transactions_are_limited_per_window() {
    let mut r = TxRelay::default();
    let now = Instant::now();
    r.peer_connected(1, true, false);
    for n in 0..MAX_UNREQUESTED {
        assert_eq!(
            r.on_tx(1, inv(InvType::TX, n).hash, [0; 32], now),
            Arrival::Unrequested
        );
    }
    assert_eq!(r.on_tx(1, [0xee; 32], [0xef; 32], now), Arrival::OverLimit);
    let later = now + UNREQUESTED_WINDOW;
    assert_eq!(
        r.on_tx(1, [0xed; 32], [0xec; 32], later),
        Arrival::Unrequested
    );
}

#[test]
fn announcements_respect_relay_flag_fee_filter_known_and_source() {
    let mut r = TxRelay::default();
    r.peer_connected(1, true, true);
    r.peer_connected(2, true, false);
    r.peer_connected(3, false, true);
    r.peer_connected(4, true, true);
    r.on_fee_filter(4, 5_000);
    r.peer_connected(5, true, true);
    let mut got = r.announce([1; 32], [2; 32], 1_000, Some(5));
    got.sort_by_key(|(p, _)| *p);
    assert_eq!(
        got,
        vec![
            (
                1,
                Inventory {
                    kind: InvType::WTX,
                    hash: [2; 32]
                }
            ),
            (
                2,
                Inventory {
                    kind: InvType::TX,
                    hash: [1; 32]
                }
            ),
        ]
    );
    assert!(r
        .announce([1; 32], [2; 32], 1_000, None)
        .iter()
        .all(|(p, _)| *p == 5));
    // Out-of-range filters are ignored.
    r.on_fee_filter(4, -1);
    r.on_fee_filter(4, MAX_MONEY + 1);
    assert!(r
        .announce([3; 32], [4; 32], 4_999, None)
        .iter()
        .all(|(p, _)| *p != 4));
}
