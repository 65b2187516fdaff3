//! Sans-IO transaction relay bookkeeping (Core's net_processing tx parts, simplified): which
//! announced transactions to request from whom, what each peer already knows, its BIP133
//! `feefilter`, and whom to announce an accepted transaction to (BIP339 `MSG_WTX` to
//! `wtxidrelay` peers, `MSG_TX` to the rest).
//!
//! The caller owns the mempool and the sockets: it passes announcements, arrivals and the
//! clock in, and sends the `getdata` and `inv` items this returns.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

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

/// Peers are named by the caller.
pub type PeerId = u64;

#[derive(Debug)]
struct PeerRelay {
    /// It wants announcements (its `version` relay flag).
    relay: bool,
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
#[derive(Debug, Default)]
pub struct TxRelay {
    peers: HashMap<PeerId, PeerRelay>,
}

impl TxRelay {
    /// A peer finished its handshake. `relay`: its `version` relay flag; `wtxid`: both sides
    /// sent `wtxidrelay`.
    pub fn peer_connected(&mut self, peer: PeerId, relay: bool, wtxid: bool) {
        self.peers.insert(
            peer,
            PeerRelay {
                relay,
                wtxid,
                fee_filter: 0,
                known: HashSet::new(),
                known_order: VecDeque::new(),
                queued: VecDeque::new(),
                queued_set: HashSet::new(),
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

    /// Moves queued announcements to requests while the peer has room.
    fn fill(p: &mut PeerRelay, now: Instant) -> Vec<Inventory> {
        let mut out = Vec::new();
        while p.in_flight.len() < MAX_IN_FLIGHT {
            let Some(h) = p.queued.pop_front() else { break };
            p.queued_set.remove(&h);
            p.in_flight.insert(h, now);
            let kind = if p.wtxid {
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

    /// An accepted transaction paying `feerate` sat/kvB: the `inv` to send each peer that
    /// wants announcements, passes its fee filter, and does not know it yet (`except`: the
    /// peer it came from).
    pub fn announce(
        &mut self,
        txid: Hash256,
        wtxid: Hash256,
        feerate: i64,
        except: Option<PeerId>,
    ) -> Vec<(PeerId, Inventory)> {
        let mut out = Vec::new();
        for (id, p) in &mut self.peers {
            if Some(*id) == except || !p.relay || feerate < p.fee_filter {
                continue;
            }
            let hash = if p.wtxid { wtxid } else { txid };
            if p.known.contains(&hash) {
                continue;
            }
            p.learn(hash);
            out.push((
                *id,
                Inventory {
                    kind: p.inv_kind(),
                    hash,
                },
            ));
        }
        out
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
