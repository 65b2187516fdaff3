#![allow(clippy::unwrap_used)]

//! The headers presync driven through `Sync`, with a simulated peer answering its getheaders.

use super::tests::{actions, chain, mine, mine_bits, requested, small, NOW_SECS};
use super::*;
use sluice_consensus::chain::block_proof;

const PEER: PeerId = 1;

/// Work of a regtest chain from genesis to `height`.
fn work_at(p: &Params, height: u64) -> U256 {
    block_proof(p.genesis_header().bits).wrapping_mul_u64(height + 1)
}

/// `headers` after genesis, genesis first: index = height.
fn with_genesis(p: &Params, headers: &[Header]) -> Vec<Header> {
    let mut all = vec![p.genesis_header()];
    all.extend_from_slice(headers);
    all
}

/// A peer's answer to `getheaders`: up to 2,000 headers after the first locator entry it has.
fn serve(all: &[Header], locator: &[Hash256]) -> Vec<Header> {
    let from = locator
        .iter()
        .find_map(|h| all.iter().position(|x| x.block_hash() == *h))
        .unwrap_or(0);
    all[from + 1..all.len().min(from + 1 + MAX_HEADERS_RESULTS)].to_vec()
}

/// Answers the sync's getheaders to `PEER` from `all` until it asks no more, the peer is
/// disconnected or `stop` holds after a message; `check` sees the sync after each message.
/// Returns every action other than those getheaders.
fn drive(
    s: &mut Sync,
    all: &[Header],
    now_secs: i64,
    stop: impl Fn(&Sync) -> bool,
    mut check: impl FnMut(&Sync),
) -> Vec<SyncAction> {
    let t0 = Instant::now();
    let mut others = Vec::new();
    loop {
        let mut locator = None;
        for a in actions(s) {
            match a {
                SyncAction::GetHeaders {
                    peer: PEER,
                    locator: l,
                } => locator = Some(l),
                other => others.push(other),
            }
        }
        let dropped = others
            .iter()
            .any(|a| matches!(a, SyncAction::Disconnect { peer: PEER, .. }));
        let Some(locator) = locator.filter(|_| !dropped) else {
            return others;
        };
        s.on_headers(PEER, &serve(all, &locator), now_secs, t0);
        check(s);
        if stop(s) {
            return others;
        }
    }
}

/// A sync needing `min_work` to which `PEER` connected and sent `hs` (the getheaders of the
/// connection already taken).
fn sent(p: &Params, min_work: U256, hs: &[Header]) -> Sync {
    let mut s = Sync::new(p, small(16, 16), min_work, [7; 32]);
    let t0 = Instant::now();
    s.peer_connected(PEER, true, t0);
    actions(&mut s);
    s.on_headers(PEER, hs, NOW_SECS, t0);
    s
}

fn disconnects(acts: &[SyncAction]) -> Vec<(String, bool)> {
    acts.iter()
        .filter_map(|a| match a {
            SyncAction::Disconnect {
                peer: PEER,
                reason,
                discourage,
            } => Some((reason.clone(), *discourage)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_low_work_chain_is_presynced_redownloaded_then_stored_and_its_blocks_fetched() {
    let p = Params::regtest();
    let hs = chain(&p.genesis_header(), 9000, 1, &p);
    let all = with_genesis(&p, &hs);
    // Regtest's presync parameters (275 headers a commitment, 7,017 held back), and a minimum
    // work first reached at height 8,500.
    let mut s = Sync::new(&p, small(16, 16), work_at(&p, 8500), [7; 32]);
    let buffer = PresyncParams::for_network(Network::Regtest).redownload_buffer_size;
    s.peer_connected(PEER, true, Instant::now());
    let mut phases = Vec::new();
    let others = drive(
        &mut s,
        &all,
        NOW_SECS,
        |_| false,
        |s| {
            let stored = s.headers().len() - 1;
            if let Some(st) = s.presync_status(PEER) {
                phases.push((st.phase, st.height));
                assert!(st.buffered <= buffer + MAX_HEADERS_RESULTS);
                // Nothing reaches the tree without `buffer` checked headers after it.
                if st.phase == PresyncPhase::Redownload {
                    assert_eq!(stored, (st.height as usize).saturating_sub(buffer));
                }
            } else {
                assert!(phases.len() >= 8, "presync ended early: {phases:?}");
            }
            if phases
                .last()
                .is_some_and(|(ph, _)| *ph == PresyncPhase::Presync)
            {
                assert_eq!(stored, 0, "presync stores no header");
            }
        },
    );
    use PresyncPhase::{Presync, Redownload};
    assert_eq!(
        phases,
        vec![
            (Presync, 2000),
            (Presync, 4000),
            (Presync, 6000),
            (Presync, 8000),
            // The last, short message brings the work: the chain is fetched again.
            (Redownload, 0),
            (Redownload, 2000),
            (Redownload, 4000),
            (Redownload, 6000),
            (Redownload, 8000),
        ]
    );
    assert!(disconnects(&others).is_empty(), "{others:?}");
    assert_eq!(s.headers().best_height(), 9000);
    assert_eq!(
        s.headers().hash(s.headers().best_tip()),
        hs[8999].block_hash()
    );
    assert!(s.enough_work());
    assert_eq!(
        requested(&others, PEER),
        hs[..16].iter().map(Header::block_hash).collect::<Vec<_>>()
    );
}

#[test]
fn a_peer_serving_another_chain_in_redownload_is_caught_by_the_commitments() {
    let p = Params::regtest();
    let honest = chain(&p.genesis_header(), 6000, 1, &p);
    // The same first 100 headers, then a different chain of the same length.
    let mut other = honest[..100].to_vec();
    other.extend(chain(&honest[99], 5900, 2, &p));
    let mut s = Sync::new(&p, small(16, 16), work_at(&p, 5500), [7; 32]);
    s.peer_connected(PEER, true, Instant::now());
    let in_redownload = |s: &Sync| {
        s.presync_status(PEER)
            .is_some_and(|st| st.phase == PresyncPhase::Redownload)
    };
    let first = drive(
        &mut s,
        &with_genesis(&p, &honest),
        NOW_SECS,
        in_redownload,
        |_| {},
    );
    assert!(disconnects(&first).is_empty());
    let acts = drive(
        &mut s,
        &with_genesis(&p, &other),
        NOW_SECS,
        |_| false,
        |_| {},
    );
    let dropped = disconnects(&acts);
    assert_eq!(dropped.len(), 1, "{acts:?}");
    assert!(
        dropped[0]
            .0
            .starts_with("presync: commitment mismatch at height"),
        "{dropped:?}"
    );
    assert!(!dropped[0].1, "Core does not discourage a failed presync");
    // Not one header of either chain was stored.
    assert_eq!(s.headers().len(), 1);
    assert!(s.presync_status(PEER).is_none());
}

#[test]
fn a_peer_that_stops_serving_its_chain_in_redownload_ends_the_presync_unpunished() {
    let p = Params::regtest();
    let hs = chain(&p.genesis_header(), 4000, 1, &p);
    let mut s = Sync::new(&p, small(16, 16), work_at(&p, 3500), [7; 32]);
    s.peer_connected(PEER, true, Instant::now());
    let in_redownload = |s: &Sync| {
        s.presync_status(PEER)
            .is_some_and(|st| st.phase == PresyncPhase::Redownload)
    };
    drive(
        &mut s,
        &with_genesis(&p, &hs),
        NOW_SECS,
        in_redownload,
        |_| {},
    );
    // The second time round the peer's chain ends early (a short message below the work):
    // Core gives up on it; nothing is stored, nothing is punished.
    let acts = drive(
        &mut s,
        &with_genesis(&p, &hs[..1500]),
        NOW_SECS,
        |_| false,
        |_| {},
    );
    assert!(acts.is_empty(), "{acts:?}");
    assert!(s.presync_status(PEER).is_none());
    assert_eq!(s.headers().len(), 1);
}

#[test]
fn a_low_work_chain_longer_than_time_allows_is_dropped_and_memory_stays_bounded() {
    let p = Params::regtest();
    // With the clock at genesis' time, the median-time-past rule allows 6 × 7,200 s of future
    // blocks: 157 commitments of 275 headers, about 43,200 headers.
    let now_secs = i64::from(p.genesis_header().time);
    let hs = chain(&p.genesis_header(), 44_000, 1, &p);
    let mut s = Sync::new(&p, small(16, 16), U256::MAX, [7; 32]);
    s.peer_connected(PEER, true, Instant::now());
    let mut max_heap = 0;
    let mut max_commitments = 0;
    let acts = drive(
        &mut s,
        &with_genesis(&p, &hs),
        now_secs,
        |_| false,
        |s| {
            assert_eq!(s.headers().len(), 1, "presync stores no header");
            if let Some(st) = s.presync_status(PEER) {
                assert_eq!(st.max_commitments, 157);
                assert!(st.commitments <= st.max_commitments);
                assert_eq!(st.buffered, 0);
                max_heap = max_heap.max(st.heap_bytes);
                max_commitments = max_commitments.max(st.commitments);
            }
        },
    );
    assert!(max_commitments > 100);
    assert!(max_heap <= 32, "{max_heap} bytes of commitments");
    let dropped = disconnects(&acts);
    assert_eq!(dropped.len(), 1, "{acts:?}");
    assert!(
        dropped[0]
            .0
            .starts_with("presync: chain longer than possible"),
        "{dropped:?}"
    );
    assert!(!dropped[0].1);
    assert!(s.presync_status(PEER).is_none());
}

#[test]
fn a_chain_with_enough_work_from_the_start_skips_presync() {
    let p = Params::regtest();
    let hs = chain(&p.genesis_header(), 2000, 1, &p);
    let mut s = sent(&p, work_at(&p, 1500), &hs);
    assert!(s.presync_status(PEER).is_none());
    assert_eq!(s.headers().best_height(), 2000);
    let acts = actions(&mut s);
    // A full message: the next headers are asked from its last, as without presync.
    assert!(acts.iter().any(|a| matches!(a,
        SyncAction::GetHeaders { locator, .. } if locator[0] == hs[1999].block_hash())));
    assert_eq!(requested(&acts, PEER).len(), 16);
}

#[test]
fn a_short_low_work_chain_is_ignored_without_presync() {
    let p = Params::regtest();
    let hs = chain(&p.genesis_header(), 1999, 1, &p);
    let mut s = sent(&p, work_at(&p, 5000), &hs);
    assert!(s.presync_status(PEER).is_none());
    assert_eq!(s.headers().len(), 1);
    assert!(actions(&mut s).is_empty());
}

#[test]
fn an_impossible_difficulty_change_in_presync_drops_the_peer() {
    // Regtest allows any difficulty; these params enforce the retarget rules.
    let mut p = Params::regtest();
    p.pow_allow_min_difficulty_blocks = false;
    // Height 100 is not a retarget height (every 144 blocks here): its difficulty may not
    // change. (Not later: at 144 the clamp's product overflows for regtest's easy target, in
    // Core too, which regtest never sees because it allows any difficulty.)
    let mut hs = chain(&p.genesis_header(), 99, 1, &p);
    hs.push(mine_bits(&hs[98], 5, 0x2000_ffff, &p));
    let tail = chain(&hs[99], 1900, 2, &p);
    hs.extend(tail);
    let mut s = sent(&p, U256::MAX, &hs);
    assert_eq!(
        actions(&mut s),
        vec![SyncAction::Disconnect {
            peer: PEER,
            reason: "presync: impossible difficulty transition at height 100".into(),
            discourage: false,
        }]
    );
    assert_eq!(s.headers().len(), 1);
}

#[test]
fn headers_that_do_not_continue_a_presync_end_it_as_ordinary_headers() {
    let p = Params::regtest();
    let hs = chain(&p.genesis_header(), 2000, 1, &p);
    let mut s = sent(&p, U256::MAX, &hs);
    assert!(s.presync_status(PEER).is_some());
    actions(&mut s);
    // An announcement from elsewhere in the peer's chain (as after a reorganisation): Core
    // gives up the presync without punishment and asks again from our best header.
    let t0 = Instant::now();
    let stray = mine(&hs[10], 77, &p);
    s.on_headers(PEER, &[stray], NOW_SECS, t0);
    assert!(s.presync_status(PEER).is_none());
    assert_eq!(
        actions(&mut s),
        vec![SyncAction::GetHeaders {
            peer: PEER,
            locator: vec![p.genesis_hash]
        }]
    );
    // An empty answer also ends a presync.
    s.on_headers(PEER, &hs, NOW_SECS, t0);
    assert!(s.presync_status(PEER).is_some());
    s.on_headers(PEER, &[], NOW_SECS, t0);
    assert!(s.presync_status(PEER).is_none());
    assert_eq!(s.headers().len(), 1);
}

#[test]
fn an_announcement_during_presync_does_not_interrupt_it() {
    let p = Params::regtest();
    let hs = chain(&p.genesis_header(), 2000, 1, &p);
    let mut s = sent(&p, U256::MAX, &hs);
    actions(&mut s);
    s.on_block_announced(PEER, &[9; 32], Instant::now());
    assert!(actions(&mut s).is_empty());
    assert!(s.presync_status(PEER).is_some());
}

#[test]
fn each_presync_commits_to_different_heights_and_bits() {
    // The secret differs per presync even with one salt, so a peer learns nothing from one
    // failed presync about the next: the offsets of many presyncs spread over the period.
    let p = Params::regtest();
    let hs = chain(&p.genesis_header(), 2000, 1, &p);
    let mut s = Sync::new(&p, small(16, 16), U256::MAX, [7; 32]);
    let t0 = Instant::now();
    let mut counts = std::collections::HashSet::new();
    for peer in 0..20 {
        s.peer_connected(peer, true, t0);
        s.on_headers(peer, &hs, NOW_SECS, t0);
        counts.insert(s.presync_status(peer).unwrap().commitments);
    }
    // 2,000 headers leave 7 or 8 commitments depending on the offset.
    assert!(counts.contains(&7) && counts.contains(&8), "{counts:?}");
}
