#![allow(clippy::unwrap_used)]

use super::*;
use sluice_consensus::chain::check_proof_of_work;

pub(super) const NOW_SECS: i64 = i64::MAX / 2;

pub(super) fn mine(prev: &Header, tag: u32, p: &Params) -> Header {
    mine_bits(prev, tag, prev.bits, p)
}

/// A header on `prev` with target `bits`, ten minutes later.
pub(super) fn mine_bits(prev: &Header, tag: u32, bits: u32, p: &Params) -> Header {
    let mut h = Header {
        version: 4,
        prev_blockhash: prev.block_hash(),
        merkle_root: [u8::try_from(tag % 251).unwrap(); 32],
        time: prev.time + 600,
        bits,
        nonce: 0,
    };
    while !check_proof_of_work(&h.block_hash(), h.bits, p) {
        h.nonce += 1;
    }
    h
}

pub(super) fn chain(from: &Header, n: u32, tag: u32, p: &Params) -> Vec<Header> {
    let mut prev = *from;
    (0..n)
        .map(|i| {
            prev = mine(&prev, tag * 1000 + i, p);
            prev
        })
        .collect()
}

pub(super) fn small(window: u32, per_peer: usize) -> SyncConfig {
    SyncConfig {
        window,
        max_in_flight_per_peer: per_peer,
        ..SyncConfig::default()
    }
}

pub(super) fn actions(s: &mut Sync) -> Vec<SyncAction> {
    std::iter::from_fn(|| s.poll_action()).collect()
}

pub(super) fn requested(acts: &[SyncAction], peer: PeerId) -> Vec<Hash256> {
    acts.iter()
        .filter_map(|a| match a {
            SyncAction::GetBlocks { peer: p, hashes } if *p == peer => Some(hashes.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

#[test]
fn headers_then_blocks_within_the_window_and_per_peer_limit() {
    let p = Params::regtest();
    let t0 = Instant::now();
    let mut s = Sync::new(&p, small(8, 3), U256::ZERO, [7; 32]);
    s.peer_connected(1, true, t0);
    let acts = actions(&mut s);
    assert_eq!(
        acts,
        vec![SyncAction::GetHeaders {
            peer: 1,
            locator: vec![p.genesis_hash]
        }]
    );
    let hs = chain(&p.genesis_header(), 20, 1, &p);
    s.on_headers(1, &hs, NOW_SECS, t0);
    assert_eq!(s.headers().best_height(), 20);
    let got = requested(&actions(&mut s), 1);
    assert_eq!(
        got,
        hs[..3].iter().map(Header::block_hash).collect::<Vec<_>>()
    );
    // A second peer takes the next ones, never beyond the window (8 past height 0).
    s.peer_connected(2, true, t0);
    s.on_headers(2, &hs, NOW_SECS, t0);
    let got2 = requested(&actions(&mut s), 2);
    assert_eq!(
        got2,
        hs[3..6].iter().map(Header::block_hash).collect::<Vec<_>>()
    );
    // Delivering block 1 moves the window.
    assert_eq!(s.on_block(1, &hs[0], t0), BlockArrival::Requested);
    s.block_stored(&hs[0], NOW_SECS, t0);
    assert_eq!(s.downloaded_height(), 1);
    let got = requested(&actions(&mut s), 1);
    assert_eq!(got, vec![hs[6].block_hash()]);
    assert_eq!(s.blocks_in_flight(), 6);
}

#[test]
fn a_full_headers_message_asks_for_more_and_unconnected_headers_ask_again() {
    let p = Params::regtest();
    let t0 = Instant::now();
    let mut s = Sync::new(&p, small(4, 1), U256::ZERO, [7; 32]);
    s.peer_connected(1, true, t0);
    actions(&mut s);
    let hs = chain(&p.genesis_header(), 2001, 1, &p);
    s.on_headers(1, &hs[..2000], NOW_SECS, t0);
    let acts = actions(&mut s);
    assert!(
        matches!(&acts[0], SyncAction::GetHeaders { locator, .. } if locator[0] == hs[1999].block_hash())
    );
    // Headers that do not connect: ask again from our best header, no punishment.
    let far = chain(&hs[2000], 2, 2, &p);
    s.on_headers(1, &far[1..], NOW_SECS, t0);
    let acts = actions(&mut s);
    assert!(acts
        .iter()
        .all(|a| !matches!(a, SyncAction::Disconnect { .. })));
    assert!(acts.iter().any(|a| matches!(a, SyncAction::GetHeaders { locator, .. } if locator[0] == hs[1999].block_hash())));
}

#[test]
fn invalid_or_non_continuous_headers_discourage_the_peer() {
    let p = Params::regtest();
    let t0 = Instant::now();
    let mut s = Sync::new(&p, SyncConfig::default(), U256::ZERO, [7; 32]);
    s.peer_connected(1, true, t0);
    s.peer_connected(2, true, t0);
    actions(&mut s);
    let hs = chain(&p.genesis_header(), 3, 1, &p);
    s.on_headers(1, &[hs[0], hs[2]], NOW_SECS, t0);
    let mut bad = mine(&p.genesis_header(), 9, &p);
    bad.bits = 0x1d00_ffff;
    s.on_headers(2, &[bad], NOW_SECS, t0);
    let acts = actions(&mut s);
    assert!(acts.contains(&SyncAction::Disconnect {
        peer: 1,
        reason: "non-continuous headers sequence".into(),
        discourage: true
    }));
    assert!(acts.contains(&SyncAction::Disconnect {
        peer: 2,
        reason: "invalid header: high-hash".into(),
        discourage: true
    }));
    assert_eq!(s.headers().best_height(), 0);
}

#[test]
fn a_stalling_peer_is_dropped_and_its_blocks_go_to_another() {
    let p = Params::regtest();
    let t0 = Instant::now();
    let mut s = Sync::new(&p, small(4, 2), U256::ZERO, [7; 32]);
    let hs = chain(&p.genesis_header(), 10, 1, &p);
    for peer in [1, 2] {
        s.peer_connected(peer, true, t0);
        s.on_headers(peer, &hs, NOW_SECS, t0);
    }
    let acts = actions(&mut s);
    assert_eq!(
        requested(&acts, 1),
        vec![hs[0].block_hash(), hs[1].block_hash()]
    );
    assert_eq!(
        requested(&acts, 2),
        vec![hs[2].block_hash(), hs[3].block_hash()]
    );
    // Peer 2 delivers; peer 1 holds block 1, the window's start: it stalls peer 2.
    for h in &hs[2..4] {
        s.on_block(2, h, t0);
        s.block_stored(h, NOW_SECS, t0);
    }
    actions(&mut s);
    s.tick(t0 + Duration::from_millis(1500));
    assert!(actions(&mut s).is_empty(), "within 2 s nothing happens");
    s.tick(t0 + Duration::from_millis(2600));
    let acts = actions(&mut s);
    assert_eq!(
        acts[0],
        SyncAction::Disconnect {
            peer: 1,
            reason: "stalled block download for 2s".into(),
            discourage: false
        }
    );
    // The stalled blocks are asked of peer 2 at once, and the timeout doubled.
    assert_eq!(
        requested(&acts, 2),
        vec![hs[0].block_hash(), hs[1].block_hash()]
    );
    assert_eq!(s.stall_timeout(), Duration::from_secs(4));
    s.peer_disconnected(1, t0);
}

#[test]
fn the_stall_timeout_doubles_to_64_s_and_decays_on_delivery() {
    let p = Params::regtest();
    let t0 = Instant::now();
    let mut s = Sync::new(&p, small(2, 1), U256::ZERO, [7; 32]);
    let hs = chain(&p.genesis_header(), 4, 1, &p);
    let mut t = t0;
    for round in 0..8u64 {
        let (a, b) = (round * 2 + 10, round * 2 + 11);
        s.peer_connected(a, true, t);
        s.on_headers(a, &hs, NOW_SECS, t);
        s.peer_connected(b, true, t);
        s.on_headers(b, &hs, NOW_SECS, t);
        actions(&mut s);
        // b delivers block 2; a holds block 1 and stalls b.
        s.on_block(b, &hs[1], t);
        s.block_stored(&hs[1], NOW_SECS, t);
        actions(&mut s);
        t += s.stall_timeout() + Duration::from_millis(10);
        s.tick(t);
        let acts = actions(&mut s);
        assert!(
            acts.iter()
                .any(|x| matches!(x, SyncAction::Disconnect { peer, .. } if *peer == a)),
            "round {round}: {acts:?}"
        );
        s.peer_disconnected(a, t);
        s.peer_disconnected(b, t);
        actions(&mut s);
    }
    assert_eq!(s.stall_timeout(), Duration::from_secs(64));
    s.peer_connected(99, true, t);
    s.on_headers(99, &hs, NOW_SECS, t);
    let got = requested(&actions(&mut s), 99);
    assert_eq!(got, vec![hs[0].block_hash()]);
    s.on_block(99, &hs[0], t);
    assert!(s.stall_timeout() < Duration::from_secs(64));
}

#[test]
fn not_found_and_disconnect_free_blocks_for_other_peers() {
    let p = Params::regtest();
    let t0 = Instant::now();
    let mut s = Sync::new(&p, small(16, 4), U256::ZERO, [7; 32]);
    let hs = chain(&p.genesis_header(), 4, 1, &p);
    s.peer_connected(1, true, t0);
    s.on_headers(1, &hs, NOW_SECS, t0);
    assert_eq!(requested(&actions(&mut s), 1).len(), 4);
    s.peer_connected(2, true, t0);
    s.on_headers(2, &hs, NOW_SECS, t0);
    assert!(requested(&actions(&mut s), 2).is_empty());
    s.on_not_found(1, &[hs[0].block_hash()], t0);
    assert_eq!(requested(&actions(&mut s), 2), vec![hs[0].block_hash()]);
    s.peer_disconnected(1, t0);
    assert_eq!(requested(&actions(&mut s), 2).len(), 3);
}

#[test]
fn an_invalid_block_abandons_its_chain_and_discourages_the_sender() {
    let p = Params::regtest();
    let t0 = Instant::now();
    let mut s = Sync::new(&p, small(16, 16), U256::ZERO, [7; 32]);
    let a = chain(&p.genesis_header(), 3, 1, &p);
    let b = chain(&p.genesis_header(), 2, 2, &p);
    s.peer_connected(1, true, t0);
    s.on_headers(1, &a, NOW_SECS, t0);
    s.peer_connected(2, true, t0);
    s.on_headers(2, &b, NOW_SECS, t0);
    // Peer 2's own chain is fetched from it at once (as Core does: it has more work than what
    // is held), while the longer one is fetched from peer 1.
    let first = actions(&mut s);
    assert_eq!(
        requested(&first, 2),
        vec![b[0].block_hash(), b[1].block_hash()]
    );
    s.block_invalid(
        &a[1].block_hash(),
        Some(1),
        "bad-txns-inputs-missingorspent",
        t0,
    );
    let acts = actions(&mut s);
    assert!(acts.contains(&SyncAction::Disconnect {
        peer: 1,
        reason: "sent an invalid block: bad-txns-inputs-missingorspent".into(),
        discourage: true
    }));
    assert_eq!(s.headers().hash(s.headers().best_tip()), b[1].block_hash());
    assert!(requested(&acts, 2).is_empty(), "already in flight");
}

#[test]
fn low_work_chains_are_not_downloaded() {
    let p = Params::regtest();
    let t0 = Instant::now();
    let hs = chain(&p.genesis_header(), 3, 1, &p);
    let mut s = Sync::new(
        &p,
        SyncConfig::default(),
        U256::from_be_hex(&format!("{:0>64}", "100")).unwrap(),
        [7; 32],
    );
    s.peer_connected(1, true, t0);
    s.on_headers(1, &hs, NOW_SECS, t0);
    assert!(!s.enough_work());
    assert!(requested(&actions(&mut s), 1).is_empty());
}

#[test]
fn locators_are_dense_then_exponential_and_end_at_genesis() {
    let p = Params::regtest();
    let hs = chain(&p.genesis_header(), 100, 1, &p);
    let mut t = HeaderTree::new(&p);
    for h in &hs {
        t.insert(h, NOW_SECS).unwrap();
    }
    let loc = t.locator(t.best_tip());
    let heights: Vec<u32> = loc.iter().map(|h| t.height(t.get(h).unwrap())).collect();
    assert_eq!(
        &heights[..11],
        &[100, 99, 98, 97, 96, 95, 94, 93, 92, 91, 90]
    );
    assert_eq!(heights[11..], [88, 84, 76, 60, 28, 0]);
    assert_eq!(
        t.find_fork_in_best(&[[7; 32], hs[41].block_hash()]),
        t.get(&hs[41].block_hash()).unwrap()
    );
}

#[test]
fn blocks_a_peer_sent_mutated_are_fetched_from_another_after_it_is_dropped() {
    let p = Params::regtest();
    let t0 = Instant::now();
    let mut s = Sync::new(&p, SyncConfig::default(), U256::ZERO, [7; 32]);
    let hs = chain(&p.genesis_header(), 40, 1, &p);
    s.peer_connected(1, true, t0);
    s.on_headers(1, &hs, NOW_SECS, t0);
    // Peer 1 delivers fast: every block ends up requested from it and stored.
    loop {
        let got = requested(&actions(&mut s), 1);
        if got.is_empty() {
            break;
        }
        for h in hs.iter().filter(|h| got.contains(&h.block_hash())) {
            assert_eq!(s.on_block(1, h, t0), BlockArrival::Requested);
            s.block_stored(h, NOW_SECS, t0);
        }
    }
    assert_eq!(s.downloaded_height(), 40);
    // Peer 2 is asked from our best header's parent, so its answer shows it has our best.
    s.peer_connected(2, true, t0);
    let acts = actions(&mut s);
    assert!(acts.iter().any(|a| matches!(a, SyncAction::GetHeaders { peer: 2, locator } if locator[0] == hs[38].block_hash())));
    s.on_headers(2, &hs[39..], NOW_SECS, t0);
    assert!(
        requested(&actions(&mut s), 2).is_empty(),
        "nothing left to fetch"
    );
    // Its copies turn out mutated; it is dropped; peer 2 is asked for them.
    for h in &hs[..5] {
        s.block_mutated(&h.block_hash(), Some(1), t0);
    }
    let acts = actions(&mut s);
    assert!(acts.iter().any(|a| matches!(
        a,
        SyncAction::Disconnect {
            peer: 1,
            discourage: true,
            ..
        }
    )));
    s.peer_disconnected(1, t0);
    let mut got = requested(&acts, 2);
    got.extend(requested(&actions(&mut s), 2));
    let want: Vec<Hash256> = hs[..5].iter().map(Header::block_hash).collect();
    assert_eq!(got, want);
}

/// A peer with a longer header chain it never delivers must not stop the download of another
/// peer's chain (Core downloads along each peer's best known chain, not only the best header
/// chain): after the withholding peer is gone, nothing would ever be fetched otherwise.
#[test]
fn each_peer_serves_its_own_chain_when_the_best_header_chain_has_no_blocks() {
    let p = Params::regtest();
    let t0 = Instant::now();
    let mut s = Sync::new(&p, small(16, 16), U256::ZERO, [7; 32]);
    let honest = chain(&p.genesis_header(), 5, 1, &p);
    let longer = chain(&p.genesis_header(), 8, 2, &p);
    // The longer chain is known first.
    s.peer_connected(2, true, t0);
    s.on_headers(2, &longer, NOW_SECS, t0);
    s.peer_connected(1, true, t0);
    s.on_headers(1, &honest, NOW_SECS, t0);
    let acts = actions(&mut s);
    assert_eq!(
        requested(&acts, 2),
        longer.iter().map(Header::block_hash).collect::<Vec<_>>()
    );
    assert_eq!(
        requested(&acts, 1),
        honest.iter().map(Header::block_hash).collect::<Vec<_>>(),
        "the honest peer's chain is fetched from it"
    );
    // Delivered and held, the honest chain is not asked again; the withholder leaves.
    for h in &honest {
        assert_eq!(s.on_block(1, h, t0), BlockArrival::Requested);
        s.block_stored(h, NOW_SECS, t0);
    }
    s.peer_disconnected(2, t0);
    assert!(requested(&actions(&mut s), 1).is_empty());
}

#[test]
fn a_fork_with_less_work_than_the_held_best_chain_is_not_downloaded() {
    let p = Params::regtest();
    let t0 = Instant::now();
    let mut s = Sync::new(&p, small(16, 16), U256::ZERO, [7; 32]);
    let best = chain(&p.genesis_header(), 5, 1, &p);
    s.peer_connected(1, true, t0);
    s.on_headers(1, &best, NOW_SECS, t0);
    actions(&mut s);
    for h in &best {
        s.on_block(1, h, t0);
        s.block_stored(h, NOW_SECS, t0);
    }
    let short = chain(&p.genesis_header(), 3, 3, &p);
    s.peer_connected(3, true, t0);
    s.on_headers(3, &short, NOW_SECS, t0);
    assert!(requested(&actions(&mut s), 3).is_empty());
}
