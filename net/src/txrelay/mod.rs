//! Sans-IO transaction relay bookkeeping (Core's net_processing tx parts, simplified): which
//! announced transactions to request from whom, what each peer already knows, its BIP133
//! `feefilter`, and whom to announce an accepted transaction to (BIP339 `MSG_WTX` to
//! `wtxidrelay` peers, `MSG_TX` to the rest).
//!
//! Announcements trickle as Core's do: each peer's queue is flushed at random times (a
//! Poisson process averaging [`OUTBOUND_INVENTORY_INTERVAL`] per outbound peer, and
//! [`INBOUND_INVENTORY_INTERVAL`] on one timer shared by every inbound peer, so inbound
//! spies cannot time us per connection), at most [`INVENTORY_BROADCAST_TARGET`] (growing
//! with the backlog, capped at [`INVENTORY_BROADCAST_MAX`]) per flush, parents and higher
//! feerates first.
//!
//! The caller owns the mempool and the sockets: it passes announcements, arrivals and the
//! clock in, and sends the `getdata` and `inv` items this returns.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sluice_consensus::hash::Hash256;

use crate::wire::{InvType, Inventory};

/// Core's `MAX_PEER_TX_REQUEST_IN_FLIGHT`: requests outstanding to one peer.
pub const MAX_IN_FLIGHT: usize = 100;
/// Core's `MAX_PEER_TX_ANNOUNCEMENTS`: announcements kept per peer before they are requested.
pub const MAX_ANNOUNCEMENTS: usize = 5_000;
/// Core's `GETDATA_TX_INTERVAL`: a request unanswered this long is given up.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Hashes remembered per peer as known to it (not announced to it again).
pub const MAX_KNOWN: usize = 50_000;
/// Transactions a peer may send us without our asking, per [`UNREQUESTED_WINDOW`]; more are
/// dropped unvalidated (validation is the costly part).
pub const MAX_UNREQUESTED: u32 = 100;
/// The window [`MAX_UNREQUESTED`] counts in.
pub const UNREQUESTED_WINDOW: Duration = Duration::from_secs(60);
/// Core's `MAX_MONEY` in satoshis: the largest valid `feefilter`.
pub const MAX_MONEY: i64 = 21_000_000 * 100_000_000;

/// Core's `INBOUND_INVENTORY_BROADCAST_INTERVAL`: mean time between flushes to inbound peers.
pub const INBOUND_INVENTORY_INTERVAL: Duration = Duration::from_secs(5);
/// Core's `OUTBOUND_INVENTORY_BROADCAST_INTERVAL`.
pub const OUTBOUND_INVENTORY_INTERVAL: Duration = Duration::from_secs(2);
/// Core's `INVENTORY_BROADCAST_TARGET` (14 per second over the inbound interval).
pub const INVENTORY_BROADCAST_TARGET: usize = 70;
/// Core's `INVENTORY_BROADCAST_MAX`.
pub const INVENTORY_BROADCAST_MAX: usize = 1_000;

/// Peers are named by the caller.
pub type PeerId = u64;

/// An accepted transaction waiting for a peer's next flush.
#[derive(Debug, Clone, Copy)]
struct Pending {
    txid: Hash256,
    /// Its own feerate, sat/kvB (for the peer's fee filter and the order).
    feerate: i64,
    /// In-pool ancestors: parents go before children.
    ancestors: u64,
}

#[derive(Debug)]
struct PeerRelay {
    /// It wants announcements (its `version` relay flag).
    relay: bool,
    /// It connected to us (shares the inbound flush timer).
    inbound: bool,
    /// Accepted transactions to announce at the next flush, by wtxid.
    to_send: HashMap<Hash256, Pending>,
    /// When its queue is flushed next (`None`: at the first flush).
    next_send: Option<Instant>,
    /// Both sides sent `wtxidrelay`: announce and request by wtxid.
    wtxid: bool,
    /// Its `feefilter` in sat/kvB: announce only transactions paying at least this.
    fee_filter: i64,
    /// Hashes it announced or we announced to it, oldest first for eviction.
    known: HashSet<Hash256>,
    known_order: VecDeque<Hash256>,
    /// Announced but not yet requested (and the same as a set, for lookups).
    queued: VecDeque<Hash256>,
    queued_set: HashSet<Hash256>,
    /// Queued hashes that are txids of an orphan's missing parents: requested by txid
    /// (`MSG_WITNESS_TX`) even from a `wtxidrelay` peer, as Core fetches parents.
    by_txid: HashSet<Hash256>,
    /// Requested and not yet answered, with the request time.
    in_flight: HashMap<Hash256, Instant>,
    /// Unrequested transactions received in the current window.
    unrequested: u32,
    window_start: Option<Instant>,
}

impl PeerRelay {
    fn learn(&mut self, h: Hash256) {
        if self.known.insert(h) {
            self.known_order.push_back(h);
            if self.known_order.len() > MAX_KNOWN {
                if let Some(old) = self.known_order.pop_front() {
                    self.known.remove(&old);
                }
            }
        }
    }

    fn inv_kind(&self) -> InvType {
        if self.wtxid {
            InvType::WTX
        } else {
            InvType::TX
        }
    }
}

/// What arrived in a `tx` message, as relay sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// We asked this peer for it.
    Requested,
    /// Not asked for, within the peer's allowance: validate it.
    Unrequested,
    /// Not asked for and over the allowance: drop it unvalidated.
    OverLimit,
}

/// Transaction relay state for every connected peer.
#[derive(Debug)]
pub struct TxRelay {
    peers: HashMap<PeerId, PeerRelay>,
    /// Draws the flush times.
    rng: StdRng,
    /// The flush timer every inbound peer shares.
    next_inbound: Option<Instant>,
}

impl Default for TxRelay {
    /// Flush times drawn from an OS-seeded generator.
    fn default() -> Self {
        Self::with_seed(rand::random())
    }
}

/// A draw from the exponential distribution with this mean (Core's `rand_exp_duration`):
/// the gaps of a Poisson process.
fn exp_duration(rng: &mut StdRng, mean: Duration) -> Duration {
    let u: f64 = rng.gen();
    mean.mul_f64(-(1.0 - u).ln())
}

impl TxRelay {
    /// Relay state whose flush times come from a generator seeded with `seed` (tests use a
    /// fixed seed for reproducible times).
    #[must_use]
    pub fn with_seed(seed: u64) -> Self {
        Self {
            peers: HashMap::new(),
            rng: StdRng::seed_from_u64(seed),
            next_inbound: None,
        }
    }

    /// A peer finished its handshake. `relay`: its `version` relay flag; `wtxid`: both sides
    /// sent `wtxidrelay`; `inbound`: it connected to us.
    pub fn peer_connected(&mut self, peer: PeerId, relay: bool, wtxid: bool, inbound: bool) {
        self.peers.insert(
            peer,
            PeerRelay {
                relay,
                inbound,
                to_send: HashMap::new(),
                next_send: None,
                wtxid,
                fee_filter: 0,
                known: HashSet::new(),
                known_order: VecDeque::new(),
                queued: VecDeque::new(),
                queued_set: HashSet::new(),
                by_txid: HashSet::new(),
                in_flight: HashMap::new(),
                unrequested: 0,
                window_start: None,
            },
        );
    }

    /// A peer left: its announcements and requests are forgotten.
    pub fn peer_gone(&mut self, peer: PeerId) {
        self.peers.remove(&peer);
    }

    /// The peer's BIP133 `feefilter`; values outside the money range are ignored (Core).
    pub fn on_fee_filter(&mut self, peer: PeerId, rate: i64) {
        if !(0..=MAX_MONEY).contains(&rate) {
            return;
        }
        if let Some(p) = self.peers.get_mut(&peer) {
            p.fee_filter = rate;
        }
    }

    /// A peer's `inv`: transaction entries we do not `have` are queued for request (none
    /// during initial block download, and none by txid from a `wtxidrelay` peer, as Core).
    /// Returns the `getdata` items to send now.
    pub fn on_inv(
        &mut self,
        peer: PeerId,
        items: &[Inventory],
        ibd: bool,
        have: impl Fn(&Hash256, bool) -> bool,
        now: Instant,
    ) -> Vec<Inventory> {
        let in_flight_elsewhere: HashSet<Hash256> = self
            .peers
            .iter()
            .filter(|(id, _)| **id != peer)
            .flat_map(|(_, p)| p.in_flight.keys().copied())
            .collect();
        let Some(p) = self.peers.get_mut(&peer) else {
            return Vec::new();
        };
        for it in items {
            let by_wtxid = match it.kind {
                InvType::WTX => true,
                InvType::TX => false,
                _ => continue,
            };
            p.learn(it.hash);
            // A wtxidrelay peer announces by wtxid only; anything else is ignored (Core).
            if by_wtxid != p.wtxid || ibd || have(&it.hash, by_wtxid) {
                continue;
            }
            if in_flight_elsewhere.contains(&it.hash)
                || p.in_flight.contains_key(&it.hash)
                || p.queued_set.contains(&it.hash)
                || p.queued.len() >= MAX_ANNOUNCEMENTS
            {
                continue;
            }
            p.queued.push_back(it.hash);
            p.queued_set.insert(it.hash);
        }
        Self::fill(p, now)
    }

    /// An orphan from `peer` misses these parents (txids): each one we do not `have` and
    /// nobody is fetching is queued for request from that peer by txid (Core's
    /// `AddTxAnnouncement(peer, Txid)` for an orphan's parents). Returns the `getdata` items to
    /// send now.
    pub fn request_parents(
        &mut self,
        peer: PeerId,
        parents: &[Hash256],
        have: impl Fn(&Hash256) -> bool,
        now: Instant,
    ) -> Vec<Inventory> {
        let busy: HashSet<Hash256> = self
            .peers
            .values()
            .flat_map(|p| p.in_flight.keys().chain(&p.queued).copied())
            .collect();
        let Some(p) = self.peers.get_mut(&peer) else {
            return Vec::new();
        };
        for h in parents {
            p.learn(*h);
            if have(h) || busy.contains(h) || p.queued.len() >= MAX_ANNOUNCEMENTS {
                continue;
            }
            p.queued.push_back(*h);
            p.queued_set.insert(*h);
            p.by_txid.insert(*h);
        }
        Self::fill(p, now)
    }

    /// Moves queued announcements to requests while the peer has room.
    fn fill(p: &mut PeerRelay, now: Instant) -> Vec<Inventory> {
        let mut out = Vec::new();
        while p.in_flight.len() < MAX_IN_FLIGHT {
            let Some(h) = p.queued.pop_front() else { break };
            p.queued_set.remove(&h);
            p.in_flight.insert(h, now);
            let kind = if p.wtxid && !p.by_txid.remove(&h) {
                InvType::WTX
            } else {
                InvType::WITNESS_TX
            };
            out.push(Inventory { kind, hash: h });
        }
        out
    }

    /// A `tx` from `peer` with these ids arrived (before validation).
    pub fn on_tx(&mut self, peer: PeerId, txid: Hash256, wtxid: Hash256, now: Instant) -> Arrival {
        let Some(p) = self.peers.get_mut(&peer) else {
            return Arrival::OverLimit;
        };
        p.learn(txid);
        p.learn(wtxid);
        if p.in_flight.remove(&wtxid).is_some() || p.in_flight.remove(&txid).is_some() {
            return Arrival::Requested;
        }
        if p.window_start
            .is_none_or(|s| now.duration_since(s) >= UNREQUESTED_WINDOW)
        {
            p.window_start = Some(now);
            p.unrequested = 0;
        }
        p.unrequested += 1;
        if p.unrequested > MAX_UNREQUESTED {
            Arrival::OverLimit
        } else {
            Arrival::Unrequested
        }
    }

    /// The peer answered `notfound` for these: the requests are closed.
    pub fn on_not_found(
        &mut self,
        peer: PeerId,
        items: &[Inventory],
        now: Instant,
    ) -> Vec<Inventory> {
        let Some(p) = self.peers.get_mut(&peer) else {
            return Vec::new();
        };
        for it in items {
            p.in_flight.remove(&it.hash);
        }
        Self::fill(p, now)
    }

    /// Gives up requests older than [`REQUEST_TIMEOUT`]; returns the `getdata` items each peer
    /// now has room for.
    pub fn tick(&mut self, now: Instant) -> Vec<(PeerId, Vec<Inventory>)> {
        let mut out = Vec::new();
        for (id, p) in &mut self.peers {
            p.in_flight
                .retain(|_, at| now.duration_since(*at) < REQUEST_TIMEOUT);
            let items = Self::fill(p, now);
            if !items.is_empty() {
                out.push((*id, items));
            }
        }
        out
    }

    /// An accepted transaction paying `feerate` sat/kvB with `ancestors` in-pool ancestors:
    /// queued for every peer that wants announcements and does not know it yet (`except`:
    /// the peer it came from). [`TxRelay::flush`] sends the queues.
    pub fn announce(
        &mut self,
        txid: Hash256,
        wtxid: Hash256,
        feerate: i64,
        ancestors: u64,
        except: Option<PeerId>,
    ) {
        for (id, p) in &mut self.peers {
            if Some(*id) == except || !p.relay {
                continue;
            }
            let hash = if p.wtxid { wtxid } else { txid };
            if !p.known.contains(&hash) {
                p.to_send.insert(
                    wtxid,
                    Pending {
                        txid,
                        feerate,
                        ancestors,
                    },
                );
            }
        }
    }

    /// Core's trickle: every peer whose flush time has passed gets its next time drawn and
    /// an `inv` of its queue's first transactions (fewest ancestors, then highest feerate),
    /// skipping those it knows, those under its fee filter and those `in_pool` (by txid) no
    /// longer holds. Returns the items for each peer.
    pub fn flush(
        &mut self,
        now: Instant,
        in_pool: impl Fn(&Hash256) -> bool,
    ) -> Vec<(PeerId, Vec<Inventory>)> {
        let mut out = Vec::new();
        let mut ids: Vec<PeerId> = self.peers.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            let Some(p) = self.peers.get(&id) else {
                continue;
            };
            if p.next_send.is_some_and(|t| t >= now) {
                continue;
            }
            let next = if p.inbound {
                match self.next_inbound {
                    Some(t) if t >= now => t,
                    _ => {
                        let t = now + exp_duration(&mut self.rng, INBOUND_INVENTORY_INTERVAL);
                        self.next_inbound = Some(t);
                        t
                    }
                }
            } else {
                now + exp_duration(&mut self.rng, OUTBOUND_INVENTORY_INTERVAL)
            };
            let Some(p) = self.peers.get_mut(&id) else {
                continue;
            };
            p.next_send = Some(next);
            if !p.relay {
                p.to_send.clear();
                continue;
            }
            let max = (INVENTORY_BROADCAST_TARGET + p.to_send.len() / 1000 * 5)
                .min(INVENTORY_BROADCAST_MAX);
            let mut queue: Vec<(Hash256, Pending)> =
                p.to_send.iter().map(|(w, x)| (*w, *x)).collect();
            queue.sort_unstable_by(|a, b| {
                (a.1.ancestors, std::cmp::Reverse(a.1.feerate), a.0).cmp(&(
                    b.1.ancestors,
                    std::cmp::Reverse(b.1.feerate),
                    b.0,
                ))
            });
            let mut items = Vec::new();
            for (wtxid, x) in queue {
                if items.len() >= max {
                    break;
                }
                p.to_send.remove(&wtxid);
                let hash = if p.wtxid { wtxid } else { x.txid };
                if !in_pool(&x.txid) || p.known.contains(&hash) || x.feerate < p.fee_filter {
                    continue;
                }
                p.learn(hash);
                items.push(Inventory {
                    kind: p.inv_kind(),
                    hash,
                });
            }
            if !items.is_empty() {
                out.push((id, items));
            }
        }
        out
    }

    /// When `peer`'s queue is flushed next (`None`: unknown peer or not drawn yet).
    #[must_use]
    pub fn next_flush(&self, peer: PeerId) -> Option<Instant> {
        self.peers.get(&peer).and_then(|p| p.next_send)
    }

    /// Transactions queued for `peer`'s next flush.
    #[must_use]
    pub fn pending(&self, peer: PeerId) -> usize {
        self.peers.get(&peer).map_or(0, |p| p.to_send.len())
    }

    /// Whether `peer` negotiated wtxid relay.
    #[must_use]
    pub fn wtxid_relay(&self, peer: PeerId) -> bool {
        self.peers.get(&peer).is_some_and(|p| p.wtxid)
    }

    /// Requests outstanding to `peer` (for tests and metrics).
    #[must_use]
    pub fn in_flight(&self, peer: PeerId) -> usize {
        self.peers.get(&peer).map_or(0, |p| p.in_flight.len())
    }

    /// Announcements from `peer` waiting for room to be requested.
    #[must_use]
    pub fn queued(&self, peer: PeerId) -> usize {
        self.peers.get(&peer).map_or(0, |p| p.queued.len())
    }
}

#[cfg(test)]
mod tests;
