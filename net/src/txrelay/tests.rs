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
    r.peer_connected(1, true, true, false);
    let got = r.on_inv(
        1,
        &[inv(InvType::WTX, 1), inv(InvType::TX, 2)],
        false,
        |_, _| false,
        now,
    );
    assert_eq!(got, vec![inv(InvType::WTX, 1)]);
    r.peer_connected(2, true, false, false);
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
    r.peer_connected(1, true, true, false);
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
    r.peer_connected(1, true, true, false);
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
    r.peer_connected(1, true, true, false);
    r.peer_connected(2, true, true, false);
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
    r.peer_connected(1, true, true, false);
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
    r.peer_connected(1, true, false, false);
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

/// Queues an announcement and flushes every peer (`at`: a time past every flush timer).
fn announce_now(
    r: &mut TxRelay,
    (txid, wtxid, rate): (Hash256, Hash256, i64),
    except: Option<PeerId>,
    at: Instant,
) -> Vec<(PeerId, Inventory)> {
    r.announce(txid, wtxid, rate, 0, except);
    r.flush(at, |_| true)
        .into_iter()
        .flat_map(|(p, items)| items.into_iter().map(move |i| (p, i)))
        .collect()
}

#[test]
fn announcements_respect_relay_flag_fee_filter_known_and_source() {
    let mut r = TxRelay::with_seed(1);
    let t0 = Instant::now();
    let hour = Duration::from_secs(3600);
    r.peer_connected(1, true, true, false);
    r.peer_connected(2, true, false, true);
    r.peer_connected(3, false, true, false);
    r.peer_connected(4, true, true, false);
    r.on_fee_filter(4, 5_000);
    r.peer_connected(5, true, true, true);
    let mut got = announce_now(&mut r, ([1; 32], [2; 32], 1_000), Some(5), t0);
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
    let again = announce_now(&mut r, ([1; 32], [2; 32], 1_000), None, t0 + hour);
    assert!(again.iter().all(|(p, _)| *p == 5), "{again:?}");
    // Out-of-range filters are ignored.
    r.on_fee_filter(4, -1);
    r.on_fee_filter(4, MAX_MONEY + 1);
    let low = announce_now(&mut r, ([3; 32], [4; 32], 4_999), None, t0 + hour * 2);
    assert!(low.iter().all(|(p, _)| *p != 4));
    assert!(low.iter().any(|(p, _)| *p == 1));
    // Gone from the pool before the flush: not announced.
    r.announce([5; 32], [6; 32], 9_000, 0, None);
    assert!(r.flush(t0 + hour * 3, |t| *t != [5; 32]).is_empty());
}

#[test]
fn announcements_wait_for_the_peers_poisson_timer() {
    let mut r = TxRelay::with_seed(7);
    let t0 = Instant::now();
    r.peer_connected(1, true, true, false);
    // The first flush draws the timer.
    assert!(r.flush(t0, |_| true).is_empty());
    let next = r.next_flush(1).expect("drawn");
    assert!(next > t0);
    r.announce([1; 32], [2; 32], 1_000, 0, None);
    // Not before the timer (a time equal to it is not past it, as Core compares).
    assert!(r.flush(next, |_| true).is_empty());
    assert_eq!(r.pending(1), 1);
    let sent = r.flush(next + Duration::from_micros(1), |_| true);
    assert_eq!(
        sent,
        vec![(
            1,
            vec![Inventory {
                kind: InvType::WTX,
                hash: [2; 32]
            }]
        )]
    );
    assert_eq!(r.pending(1), 0);
    assert!(r.next_flush(1).expect("redrawn") > next);
}

/// Mean and maximum of `n` successive gaps of `peer`'s flush timer, flushing just after
/// each deadline.
fn gaps(r: &mut TxRelay, peer: PeerId, n: usize) -> (f64, f64) {
    let mut now = Instant::now();
    r.flush(now, |_| true);
    let (mut sum, mut max) = (0.0, 0.0f64);
    for _ in 0..n {
        let next = r.next_flush(peer).expect("drawn");
        let gap = next.duration_since(now).as_secs_f64();
        sum += gap;
        max = max.max(gap);
        now = next + Duration::from_nanos(1);
        r.flush(now, |_| true);
    }
    (sum / n as f64, max)
}

#[test]
fn flush_intervals_are_exponential_with_cores_means() {
    let mut r = TxRelay::with_seed(42);
    r.peer_connected(1, true, true, false);
    let n = 5_000;
    let (out_mean, out_max) = gaps(&mut r, 1, n);
    // Mean within 5 % of 2 s (the standard error of 5,000 draws is 1.4 %); an exponential
    // has no upper bound but draws past 12 means are one-in-150,000 events.
    assert!((out_mean - 2.0).abs() < 0.1, "outbound mean {out_mean}");
    assert!(out_max > 6.0 && out_max < 24.0, "outbound max {out_max}");
    let mut r = TxRelay::with_seed(44);
    r.peer_connected(1, true, true, false);
    r.peer_connected(2, true, true, true);
    r.peer_connected(3, true, false, true);
    let (in_mean, _) = gaps(&mut r, 2, n);
    eprintln!("outbound mean {out_mean:.3} s max {out_max:.1} s; inbound mean {in_mean:.3} s");
    assert!((in_mean - 5.0).abs() < 0.25, "inbound mean {in_mean}");
    // Inbound peers share one timer.
    assert_eq!(r.next_flush(2), r.next_flush(3));
    assert_ne!(r.next_flush(1), r.next_flush(2));
    // A fraction of gaps under the mean: 1 - 1/e (63 %) for an exponential.
    let mut r = TxRelay::with_seed(43);
    r.peer_connected(1, true, true, false);
    let mut now = Instant::now();
    r.flush(now, |_| true);
    let mut under = 0;
    for _ in 0..n {
        let next = r.next_flush(1).expect("drawn");
        if next.duration_since(now) < OUTBOUND_INVENTORY_INTERVAL {
            under += 1;
        }
        now = next + Duration::from_nanos(1);
        r.flush(now, |_| true);
    }
    let share = f64::from(under) / n as f64;
    assert!((share - 0.632).abs() < 0.03, "share under the mean {share}");
}

#[test]
fn a_flush_is_capped_and_sends_parents_and_higher_feerates_first() {
    let mut r = TxRelay::with_seed(3);
    let t0 = Instant::now();
    r.peer_connected(1, true, true, false);
    let h = |n: u32| {
        let mut x = [0u8; 32];
        x[..4].copy_from_slice(&n.to_le_bytes());
        x
    };
    // 1,500 queued: 70 + 1 * 5 go at once.
    for n in 0..1_500u32 {
        let ancestors = u64::from(n % 3);
        r.announce(h(n), h(n), i64::from(n), ancestors, None);
    }
    let sent = r.flush(t0, |_| true);
    let items = &sent[0].1;
    assert_eq!(items.len(), INVENTORY_BROADCAST_TARGET + 5);
    assert_eq!(r.pending(1), 1_500 - 75);
    // All without ancestors (n % 3 == 0), highest feerate (n) first.
    let expect: Vec<Hash256> = (0..1_500u32)
        .rev()
        .filter(|n| n % 3 == 0)
        .take(75)
        .map(h)
        .collect();
    let got: Vec<Hash256> = items.iter().map(|i| i.hash).collect();
    assert_eq!(got, expect);
    // The rest drain over later flushes, never more than the cap at once.
    let mut now = t0;
    let mut total = 75;
    for _ in 0..100 {
        now = r.next_flush(1).expect("drawn") + Duration::from_nanos(1);
        for (_, items) in r.flush(now, |_| true) {
            assert!(items.len() <= INVENTORY_BROADCAST_TARGET + 5);
            total += items.len();
        }
    }
    assert_eq!(total, 1_500);
    // A 200,000-transaction backlog is capped at INVENTORY_BROADCAST_MAX.
    for n in 0..200_000u32 {
        r.announce(h(n + 10_000), h(n + 10_000), 1, 0, None);
    }
    now += Duration::from_secs(3600);
    let sent = r.flush(now, |_| true);
    assert_eq!(sent[0].1.len(), INVENTORY_BROADCAST_MAX);
}

#[test]
fn orphan_parents_are_requested_by_txid_once() {
    let mut r = TxRelay::default();
    let now = Instant::now();
    r.peer_connected(1, true, true, false);
    r.peer_connected(2, true, false, false);
    let (a, b, held) = (
        inv(InvType::WTX, 1).hash,
        inv(InvType::WTX, 2).hash,
        [7u8; 32],
    );
    // A wtxidrelay peer is still asked by txid (MSG_WITNESS_TX) for an orphan's parents;
    // a parent we hold is not requested.
    let got = r.request_parents(1, &[a, b, held], |h| *h == held, now);
    assert_eq!(
        got,
        vec![
            Inventory {
                kind: InvType::WITNESS_TX,
                hash: a
            },
            Inventory {
                kind: InvType::WITNESS_TX,
                hash: b
            },
        ]
    );
    // Already being fetched from peer 1: peer 2's orphan does not ask again.
    assert!(r.request_parents(2, &[a], |_| false, now).is_empty());
    // The parent arrives as requested; later announcements of other hashes go by wtxid.
    assert_eq!(r.on_tx(1, a, [8; 32], now), Arrival::Requested);
    let got = r.on_inv(1, &[inv(InvType::WTX, 3)], false, |_, _| false, now);
    assert_eq!(got, vec![inv(InvType::WTX, 3)]);
    // Unknown peers get nothing.
    assert!(r.request_parents(9, &[b], |_| false, now).is_empty());
}
