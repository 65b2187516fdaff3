//! The headers-first [`Sync`] fed a fuzzer-chosen sequence of events over a small fixed tree of
//! real regtest headers (a main chain, a fork from it, and a short low-work branch).
//!
//! Invariants checked after every event, as the node's shell relies on them: requests go only
//! to connected peers, never exceed the per-peer limit, name only headers the tree holds, and
//! the blocks in flight stay within what the connected peers may carry.

use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sluice_consensus::chain::{check_proof_of_work, Params, U256};
use sluice_consensus::header::Header;

use crate::sync::{PeerId, PresyncParams, Sync, SyncAction, SyncConfig};

const MAIN: u32 = 40;
const FORK: u32 = 16;
const FORK_AT: usize = 6;
const LOW: u32 = 5;
const PEERS: u64 = 4;
const PER_PEER: usize = 4;
/// Most events one input plays (bounds the time per input).
const MAX_EVENTS: usize = 256;

struct Tree {
    /// Every header of every branch, main chain first.
    all: Vec<Header>,
    main: Vec<Header>,
    fork: Vec<Header>,
    low: Vec<Header>,
    adjusted_time: i64,
}

fn mine(prev: &Header, tag: u8, p: &Params) -> Header {
    let mut h = Header {
        version: 4,
        prev_blockhash: prev.block_hash(),
        merkle_root: [tag; 32],
        time: prev.time + 600,
        bits: prev.bits,
        nonce: 0,
    };
    while !check_proof_of_work(&h.block_hash(), h.bits, p) {
        h.nonce += 1;
    }
    h
}

fn branch(from: &Header, n: u32, tag: u8, p: &Params) -> Vec<Header> {
    let mut prev = *from;
    (0..n)
        .map(|i| {
            prev = mine(&prev, tag.wrapping_add(i as u8), p);
            prev
        })
        .collect()
}

fn tree() -> &'static Tree {
    static T: OnceLock<Tree> = OnceLock::new();
    T.get_or_init(|| {
        let p = Params::regtest();
        let genesis = p.genesis_header();
        let main = branch(&genesis, MAIN, 1, &p);
        let fork = branch(&main[FORK_AT], FORK, 101, &p);
        let low = branch(&genesis, LOW, 201, &p);
        let all = main.iter().chain(&fork).chain(&low).copied().collect();
        Tree {
            all,
            main,
            fork,
            low,
            adjusted_time: i64::from(genesis.time) + 10_000_000,
        }
    })
}

/// Reads bytes as event parameters; an exhausted input reads zeros.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        let (&b, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        b
    }
    fn peer(&mut self) -> PeerId {
        u64::from(self.next()) % PEERS
    }
}

/// Plays `data` as events against a fresh [`Sync`]; see the module documentation.
pub fn sync_events(data: &[u8]) {
    let t = tree();
    let p = Params::regtest();
    let mut b = Bytes(data);
    let first = b.next();
    // Half the inputs need more work than the short branch has, so its headers are presynced.
    let min_work = if first & 1 == 0 {
        U256::ZERO
    } else {
        U256::from_u64(2 * u64::from(LOW + 3))
    };
    let cfg = SyncConfig {
        window: 12,
        max_in_flight_per_peer: PER_PEER,
        presync: Some(PresyncParams {
            commitment_period: 3,
            redownload_buffer_size: 4,
        }),
        ..SyncConfig::default()
    };
    let mut s = Sync::new(&p, cfg, min_work, [first; 32]);
    let mut now = Instant::now();
    let mut connected: HashSet<PeerId> = HashSet::new();
    let mut events = 0;
    while !b.0.is_empty() && events < MAX_EVENTS {
        events += 1;
        let op = b.next();
        let peer = b.peer();
        let k = usize::from(b.next()) % t.all.len();
        let header = t.all[k];
        let hash = header.block_hash();
        match op % 12 {
            0 => {
                if connected.insert(peer) {
                    s.peer_connected(peer, op & 0x80 != 0, now);
                }
            }
            1 => {
                if connected.remove(&peer) {
                    s.peer_disconnected(peer, now);
                }
            }
            2 | 3 => {
                let branch = match b.next() % 3 {
                    0 => &t.main,
                    1 => &t.fork,
                    _ => &t.low,
                };
                let start = usize::from(b.next()) % branch.len();
                let len = usize::from(b.next()) % (branch.len() - start + 1);
                let mut hs = branch[start..start + len].to_vec();
                if op % 12 == 3 && !hs.is_empty() {
                    // One header's field corrupted: the sync must refuse it, not trust it.
                    let at = usize::from(b.next()) % hs.len();
                    let mut raw = hs[at].encode();
                    let byte = usize::from(b.next()) % raw.len();
                    raw[byte] ^= b.next() | 1;
                    if let Ok(h) = Header::decode(&raw) {
                        hs[at] = h;
                    }
                }
                s.on_headers(peer, &hs, t.adjusted_time, now);
            }
            4 => s.on_block_announced(peer, &hash, now),
            5 => {
                let _ = s.on_block(peer, &header, now);
            }
            6 => s.block_stored(&header, t.adjusted_time, now),
            7 => s.block_invalid(&hash, Some(peer), "fuzz", now),
            8 => s.block_mutated(&hash, Some(peer), now),
            9 => s.on_not_found(peer, &[hash], now),
            10 => {
                now += Duration::from_millis(u64::from(b.next()) * 250);
                s.tick(now);
            }
            _ => {
                let _ = s.add_submitted(&header, t.adjusted_time, now);
            }
        }
        check_actions(&mut s, &mut connected, now);
    }
}

/// Drains the actions and checks them; a disconnect is carried out as the shell would, and what
/// the sync asks after it is drained and checked too.
fn check_actions(s: &mut Sync, connected: &mut HashSet<PeerId>, now: Instant) {
    loop {
        let mut gone = Vec::new();
        while let Some(action) = s.poll_action() {
            match action {
                SyncAction::GetHeaders { peer, locator } => {
                    assert!(
                        connected.contains(&peer),
                        "getheaders to unknown peer {peer}"
                    );
                    assert!(!locator.is_empty(), "empty locator");
                }
                SyncAction::GetBlocks { peer, hashes } => {
                    assert!(connected.contains(&peer), "getdata to unknown peer {peer}");
                    assert!(!hashes.is_empty(), "empty getdata");
                    assert!(
                        hashes.len() <= PER_PEER,
                        "{} blocks asked at once",
                        hashes.len()
                    );
                    for h in &hashes {
                        assert!(
                            s.headers().get(h).is_some(),
                            "block asked without its header"
                        );
                    }
                }
                SyncAction::Disconnect { peer, .. } => gone.push(peer),
            }
        }
        let cap = connected.len() * PER_PEER;
        assert!(
            s.blocks_in_flight() <= cap,
            "{} blocks in flight for {} peers",
            s.blocks_in_flight(),
            connected.len()
        );
        gone.retain(|peer| connected.remove(peer));
        if gone.is_empty() {
            return;
        }
        for peer in gone {
            s.peer_disconnected(peer, now);
        }
    }
}
