//! Orphan transactions (inputs missing) kept per announcing peer with Core's DoS limits
//! (`node/txorphanage`): a global latency score (one per announcement plus one per ten inputs
//! of each unique orphan) and memory (weight) reserved per peer; over either limit, the
//! oldest announcement of the peer with the highest DoS score is evicted until back within.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sluice_consensus::coin::OutPoint;
use sluice_consensus::hash::Hash256;
use sluice_consensus::tx::Transaction;

use crate::options::MAX_STANDARD_TX_WEIGHT;

/// Peer identifier chosen by the caller.
pub type PeerId = u64;

/// Core's defaults.
#[derive(Debug, Clone, Copy)]
pub struct OrphanLimits {
    pub max_global_latency_score: u64,
    pub reserved_weight_per_peer: u64,
}

impl Default for OrphanLimits {
    fn default() -> Self {
        Self {
            max_global_latency_score: 3000,
            reserved_weight_per_peer: 404_000,
        }
    }
}

#[derive(Debug)]
struct Orphan {
    raw: Vec<u8>,
    txid: Hash256,
    prevouts: Vec<OutPoint>,
    weight: u64,
    /// Announcers: peer -> (sequence, reconsider).
    announcers: BTreeMap<PeerId, (u64, bool)>,
}

impl Orphan {
    fn input_score(&self) -> u64 {
        self.prevouts.len() as u64 / 10
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct PeerUsage {
    weight: u64,
    latency: u64,
    count: u64,
}

/// The orphan pool.
#[derive(Debug, Default)]
pub struct Orphanage {
    limits: OrphanLimits,
    orphans: HashMap<Hash256, Orphan>,
    by_prevout: HashMap<OutPoint, BTreeSet<Hash256>>,
    peers: BTreeMap<PeerId, PeerUsage>,
    next_seq: u64,
}

impl Orphanage {
    #[must_use]
    pub fn new(limits: OrphanLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.orphans.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.orphans.is_empty()
    }

    #[must_use]
    pub fn have(&self, wtxid: &Hash256) -> bool {
        self.orphans.contains_key(wtxid)
    }

    #[must_use]
    pub fn get(&self, wtxid: &Hash256) -> Option<&[u8]> {
        self.orphans.get(wtxid).map(|o| o.raw.as_slice())
    }

    /// Announcements held for `peer`.
    #[must_use]
    pub fn announcements_from(&self, peer: PeerId) -> u64 {
        self.peers.get(&peer).map_or(0, |p| p.count)
    }

    /// Total latency score: announcements plus the unique orphans' input scores.
    #[must_use]
    pub fn latency_score(&self) -> u64 {
        let ann: u64 = self.peers.values().map(|p| p.count).sum();
        ann + self.orphans.values().map(Orphan::input_score).sum::<u64>()
    }

    fn unique_weight(&self) -> u64 {
        self.orphans.values().map(|o| o.weight).sum()
    }

    /// Adds `raw` as an orphan announced by `peer`; false if it was already held (the peer
    /// is then recorded as another announcer), too heavy, or undecodable. Trims afterwards.
    pub fn add(&mut self, raw: &[u8], peer: PeerId) -> bool {
        let Ok(tx) = Transaction::parse_exact(raw) else {
            return false;
        };
        let wtxid = tx.wtxid();
        if self.orphans.contains_key(&wtxid) {
            self.add_announcer(&wtxid, peer);
            return false;
        }
        if tx.weight() > MAX_STANDARD_TX_WEIGHT {
            return false;
        }
        let prevouts: Vec<OutPoint> = tx
            .inputs
            .iter()
            .map(sluice_consensus::tx::TxIn::prevout)
            .collect();
        for p in &prevouts {
            self.by_prevout.entry(*p).or_default().insert(wtxid);
        }
        self.orphans.insert(
            wtxid,
            Orphan {
                raw: raw.to_vec(),
                txid: tx.txid(),
                prevouts,
                weight: tx.weight() as u64,
                announcers: BTreeMap::new(),
            },
        );
        self.add_announcer(&wtxid, peer);
        self.limit();
        self.orphans.contains_key(&wtxid)
    }

    /// Records another peer announcing a held orphan.
    pub fn add_announcer(&mut self, wtxid: &Hash256, peer: PeerId) -> bool {
        let seq = self.next_seq;
        let Some(o) = self.orphans.get_mut(wtxid) else {
            return false;
        };
        if o.announcers.contains_key(&peer) {
            return false;
        }
        self.next_seq += 1;
        o.announcers.insert(peer, (seq, false));
        let u = self.peers.entry(peer).or_default();
        u.weight += o.weight;
        u.latency += 1 + o.input_score();
        u.count += 1;
        self.limit();
        true
    }

    fn remove_announcement(&mut self, wtxid: &Hash256, peer: PeerId) {
        let Some(o) = self.orphans.get_mut(wtxid) else {
            return;
        };
        if o.announcers.remove(&peer).is_none() {
            return;
        }
        let (w, l) = (o.weight, 1 + o.input_score());
        let empty = o.announcers.is_empty();
        if let Some(u) = self.peers.get_mut(&peer) {
            u.weight -= w;
            u.latency -= l;
            u.count -= 1;
            if u.count == 0 {
                self.peers.remove(&peer);
            }
        }
        if empty {
            self.erase(wtxid);
        }
    }

    /// Removes an orphan and all its announcements.
    pub fn erase(&mut self, wtxid: &Hash256) -> bool {
        let Some(o) = self.orphans.remove(wtxid) else {
            return false;
        };
        for p in &o.prevouts {
            if let Some(s) = self.by_prevout.get_mut(p) {
                s.remove(wtxid);
                if s.is_empty() {
                    self.by_prevout.remove(p);
                }
            }
        }
        let l = 1 + o.input_score();
        for peer in o.announcers.keys() {
            if let Some(u) = self.peers.get_mut(peer) {
                u.weight -= o.weight;
                u.latency -= l;
                u.count -= 1;
                if u.count == 0 {
                    self.peers.remove(peer);
                }
            }
        }
        true
    }

    /// A peer disconnected: its announcements go.
    pub fn erase_for_peer(&mut self, peer: PeerId) {
        let mine: Vec<Hash256> = self
            .orphans
            .iter()
            .filter(|(_, o)| o.announcers.contains_key(&peer))
            .map(|(w, _)| *w)
            .collect();
        for w in mine {
            self.remove_announcement(&w, peer);
        }
    }

    /// A block spent `outpoints`: orphans spending any of them conflict and go.
    pub fn erase_for_block(&mut self, outpoints: &[OutPoint]) -> usize {
        let mut gone: BTreeSet<Hash256> = BTreeSet::new();
        for p in outpoints {
            if let Some(s) = self.by_prevout.get(p) {
                gone.extend(s.iter().copied());
            }
        }
        for w in &gone {
            self.erase(w);
        }
        gone.len()
    }

    /// A transaction `txid` with `n_outputs` outputs entered the pool: orphans spending it
    /// become reconsiderable for their announcers.
    pub fn parent_arrived(&mut self, txid: &Hash256, n_outputs: u32) {
        for vout in 0..n_outputs {
            let Some(s) = self.by_prevout.get(&OutPoint { txid: *txid, vout }) else {
                continue;
            };
            for w in s.clone() {
                if let Some(o) = self.orphans.get_mut(&w) {
                    for a in o.announcers.values_mut() {
                        a.1 = true;
                    }
                }
            }
        }
    }

    /// The next orphan of `peer` to retry, if any (its flag is cleared).
    pub fn take_reconsiderable(&mut self, peer: PeerId) -> Option<Vec<u8>> {
        let w = self
            .orphans
            .iter()
            .filter(|(_, o)| o.announcers.get(&peer).is_some_and(|a| a.1))
            .min_by_key(|(_, o)| o.announcers.get(&peer).map_or(0, |a| a.0))
            .map(|(w, _)| *w)?;
        let o = self.orphans.get_mut(&w)?;
        if let Some(a) = o.announcers.get_mut(&peer) {
            a.1 = false;
        }
        Some(o.raw.clone())
    }

    /// Txid of an orphan (for parent requests).
    #[must_use]
    pub fn txid_of(&self, wtxid: &Hash256) -> Option<Hash256> {
        self.orphans.get(wtxid).map(|o| o.txid)
    }

    fn needs_trim(&self) -> bool {
        let npeers = self.peers.len().max(1) as u64;
        self.latency_score() > self.limits.max_global_latency_score
            || self.unique_weight() > npeers * self.limits.reserved_weight_per_peer
    }

    fn limit(&mut self) {
        while self.needs_trim() {
            let npeers = self.peers.len().max(1) as u64;
            let peer_latency = (self.limits.max_global_latency_score / npeers).max(1);
            let reserved = self.limits.reserved_weight_per_peer.max(1);
            // DoS score = max(latency / allowed, weight / reserved), compared exactly.
            let score = |u: &PeerUsage| -> (u128, u128) {
                let a = (u128::from(u.latency), u128::from(peer_latency));
                let b = (u128::from(u.weight), u128::from(reserved));
                if a.0 * b.1 >= b.0 * a.1 {
                    a
                } else {
                    b
                }
            };
            let Some((&worst, _)) = self.peers.iter().max_by(|x, y| {
                let (a, b) = (score(x.1), score(y.1));
                (a.0 * b.1).cmp(&(b.0 * a.1))
            }) else {
                break;
            };
            // Oldest announcement, non-reconsiderable first.
            let Some(w) = self
                .orphans
                .iter()
                .filter_map(|(w, o)| o.announcers.get(&worst).map(|a| ((a.1, a.0), *w)))
                .min()
                .map(|(_, w)| w)
            else {
                break;
            };
            self.remove_announcement(&w, worst);
        }
    }
}
