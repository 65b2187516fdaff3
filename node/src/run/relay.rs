//! The event loop's transaction relay: peers' `inv`, `tx`, `getdata` (for transactions),
//! `notfound` and `feefilter` through the sans-IO [`TxRelay`] and the node's mempool, and
//! announcements of accepted transactions.

use std::time::{Duration, Instant};

use sluice_consensus::hash::{to_display_hex, Hash256};
use sluice_consensus::tx::Transaction;
use sluice_net::txrelay::{Arrival, MAX_MONEY};
use sluice_net::wire::{InvType, Inventory};
use sluice_net::{Message, PeerId};

use super::events::NodeLoop;
use super::mempool::{now_secs, Offer};
use sluice_mempool::RejectKind;

/// Core's `DEFAULT_MAX_TIP_AGE`: a tip older than this means initial block download.
const MAX_TIP_AGE: i64 = 24 * 60 * 60;
/// How often a small change of our `feefilter` is sent (Core: on average every 10 minutes;
/// within 5 minutes on a change of more than a quarter). Sluice sends large changes at once.
const FEE_FILTER_EVERY: Duration = Duration::from_secs(60);

impl NodeLoop {
    /// Core's `IsInitialBlockDownload`: behind the best header, or the tip older than a day.
    /// Once out, the node stays out (Core latches too).
    pub(crate) fn in_ibd(&mut self) -> bool {
        if self.left_ibd {
            return false;
        }
        let tip = self.status.borrow().clone();
        let headers = self.sync.headers();
        if tip.height < headers.best_height() {
            return true;
        }
        let time = headers
            .get(&tip.hash)
            .and_then(|id| headers.header(id))
            .map_or(0, |h| i64::from(h.time));
        if time < now_secs() - MAX_TIP_AGE {
            return true;
        }
        tracing::info!("leaving initial block download: transaction relay starts");
        self.left_ibd = true;
        false
    }

    /// Queues a transaction now in the mempool for announcement to every peer that wants it
    /// (`from`: the peer it came from, which knows it); `relay_tick` sends each
    /// peer's queue at its randomised flush time.
    pub(crate) fn relay_transaction(&mut self, txid: Hash256, wtxid: Hash256) {
        self.relay_from(txid, wtxid, None);
    }

    fn relay_from(&mut self, txid: Hash256, wtxid: Hash256, from: Option<PeerId>) {
        let (feerate, ancestors) = {
            let p = self.mempool.lock();
            let Some(e) = p.pool.get(&txid) else { return };
            // The feefilter compares the transaction's own modified feerate (Core).
            let rate = sluice_mempool::FeeRate::from_fee(e.modified_fee(), e.vsize).sat_per_kvb();
            (rate, p.pool.ancestors(&txid).len() as u64)
        };
        self.relay
            .announce(txid, wtxid, feerate, ancestors, from.map(|p| p.0));
    }

    /// A peer's `inv` entries for transactions.
    pub(crate) fn on_tx_inv(&mut self, peer: PeerId, items: &[Inventory], now: Instant) {
        if !items
            .iter()
            .any(|i| i.kind == InvType::TX || i.kind == InvType::WTX)
        {
            return;
        }
        let ibd = self.in_ibd();
        let mempool = self.mempool.clone();
        let wanted = {
            let p = mempool.lock();
            let have = |h: &Hash256, by_wtxid: bool| {
                if by_wtxid {
                    p.pool.contains_wtxid(h) || p.orphans.have(h)
                } else {
                    p.pool.contains_txid(h)
                }
            };
            self.relay.on_inv(peer.0, items, ibd, have, now)
        };
        if !wanted.is_empty() {
            self.send(peer, Message::GetData(wanted));
        }
    }

    /// A peer's `tx`: offered to the mempool, and announced onwards when accepted.
    pub(crate) fn on_tx(&mut self, peer: PeerId, raw: &[u8], now: Instant) {
        let Ok(tx) = Transaction::parse_exact(raw) else {
            // Core logs a payload that does not deserialize and moves on.
            tracing::debug!("peer {peer}: tx does not deserialize");
            return;
        };
        let (txid, wtxid) = (tx.txid(), tx.wtxid());
        match self.relay.on_tx(peer.0, txid, wtxid, now) {
            Arrival::OverLimit => {
                tracing::debug!("peer {peer}: unrequested tx over the limit, dropped");
                return;
            }
            Arrival::Requested | Arrival::Unrequested => {}
        }
        if self.in_ibd() {
            return;
        }
        match self.mempool.offer(raw, false) {
            Ok(Offer::Accepted(_)) => {
                tracing::debug!("peer {peer}: accepted tx {}", to_display_hex(&txid));
                self.relay_from(txid, wtxid, Some(peer));
                self.reconsider_orphans(txid, tx.outputs.len());
            }
            // Parents missing: kept as an orphan, its parents asked of the sender (Core).
            Ok(Offer::Rejected(r)) if r.kind == RejectKind::MissingInputs => {
                let parents = self.mempool.add_orphan(raw, &tx, peer.0);
                tracing::debug!(
                    "peer {peer}: orphan tx {}, {} parents to fetch",
                    to_display_hex(&txid),
                    parents.len()
                );
                let mempool = self.mempool.clone();
                let ask = {
                    let p = mempool.lock();
                    let have = |h: &Hash256| p.pool.contains_txid(h);
                    self.relay.request_parents(peer.0, &parents, have, now)
                };
                if !ask.is_empty() {
                    self.send(peer, Message::GetData(ask));
                }
            }
            // Policy rejections are not misbehaviour (Core punishes only consensus-invalid
            // transactions, and not all of them).
            Ok(Offer::Rejected(r)) => {
                self.metrics.tx_rejected();
                tracing::debug!("peer {peer}: tx {} rejected: {r}", to_display_hex(&txid));
            }
            Err(e) => tracing::warn!("mempool fault on a peer's tx: {e}"),
        }
    }

    /// `txid` (with `outputs` outputs) entered the pool: orphans spending it are tried again,
    /// and each one accepted in turn frees its own children (Core's `ProcessOrphanTx`, run
    /// here until no orphan is due). Bounded: every try clears a due flag, and a flag is set
    /// again only by an acceptance, which removes an orphan.
    fn reconsider_orphans(&mut self, txid: Hash256, outputs: usize) {
        let n = u32::try_from(outputs).unwrap_or(u32::MAX);
        if !self.mempool.orphan_parent_arrived(&txid, n) {
            return;
        }
        let peers = self.connected_peers();
        let mut progress = true;
        while progress {
            progress = false;
            for &peer in &peers {
                while let Some(raw) = self.mempool.take_orphan(peer.0) {
                    progress = true;
                    let Ok(tx) = Transaction::parse_exact(&raw) else {
                        continue;
                    };
                    let (otxid, owtxid) = (tx.txid(), tx.wtxid());
                    match self.mempool.offer(&raw, false) {
                        Ok(Offer::Accepted(_)) => {
                            tracing::debug!("orphan tx {} accepted", to_display_hex(&otxid));
                            self.mempool.erase_orphan(&owtxid);
                            self.relay_from(otxid, owtxid, Some(peer));
                            let n = u32::try_from(tx.outputs.len()).unwrap_or(u32::MAX);
                            self.mempool.orphan_parent_arrived(&otxid, n);
                        }
                        // Still missing a parent: it waits on.
                        Ok(Offer::Rejected(r)) if r.kind == RejectKind::MissingInputs => {}
                        Ok(Offer::Rejected(r)) => {
                            tracing::debug!("orphan tx {} rejected: {r}", to_display_hex(&otxid));
                            self.metrics.tx_rejected();
                            self.mempool.erase_orphan(&owtxid);
                        }
                        Err(e) => {
                            tracing::warn!("mempool fault on an orphan: {e}");
                            return;
                        }
                    }
                }
            }
        }
    }

    /// Transaction entries of a `getdata`, answered from the mempool; the rest `notfound`.
    pub(crate) fn serve_tx_getdata(&mut self, peer: PeerId, items: &[Inventory]) {
        let mut missing = Vec::new();
        let mut found = Vec::new();
        {
            let mut p = self.mempool.lock();
            for it in items {
                let entry = match it.kind {
                    InvType::WTX => p.pool.get_by_wtxid(&it.hash),
                    InvType::TX | InvType::WITNESS_TX => p.pool.get(&it.hash),
                    _ => continue,
                };
                match entry {
                    Some(e) => {
                        let txid = e.txid;
                        // MSG_TX asks for the serialisation without witnesses.
                        let raw = if it.kind == InvType::TX {
                            Transaction::parse_exact(&e.raw)
                                .map(|t| t.non_witness_bytes().into_owned())
                                .unwrap_or_else(|_| e.raw.clone())
                        } else {
                            e.raw.clone()
                        };
                        found.push(raw);
                        // A peer asked for it: initial broadcast is done (Core).
                        p.unbroadcast.remove(&txid);
                    }
                    None => missing.push(*it),
                }
            }
        }
        for raw in found {
            self.send(peer, Message::Tx(raw.into()));
        }
        if !missing.is_empty() {
            self.send(peer, Message::NotFound(missing));
        }
    }

    /// A peer's `notfound` for transactions we asked for.
    pub(crate) fn on_tx_not_found(&mut self, peer: PeerId, items: &[Inventory], now: Instant) {
        let more = self.relay.on_not_found(peer.0, items, now);
        if !more.is_empty() {
            self.send(peer, Message::GetData(more));
        }
    }

    /// Periodic relay upkeep: expired requests, and our `feefilter` when it changed (during
    /// initial block download Core sends `MAX_MONEY`: no transactions wanted).
    pub(crate) fn relay_tick(&mut self, now: Instant) {
        for (peer, items) in self.relay.tick(now) {
            self.send(PeerId(peer), Message::GetData(items));
        }
        let mempool = self.mempool.clone();
        let invs = {
            let p = mempool.lock();
            self.relay.flush(now, |txid| p.pool.contains_txid(txid))
        };
        for (peer, items) in invs {
            self.send(PeerId(peer), Message::Inv(items));
        }
        let rate = if self.in_ibd() {
            MAX_MONEY
        } else {
            self.mempool.min_fee()
        };
        if let Some((sent, at)) = self.fee_filter_sent {
            // Core reschedules sooner on a change of more than a quarter (leaving IBD is one).
            let big = rate < sent / 4 * 3 || rate > sent / 3 * 4;
            if sent == rate || (!big && now.duration_since(at) < FEE_FILTER_EVERY) {
                return;
            }
        }
        self.fee_filter_sent = Some((rate, now));
        self.send_fee_filter_all(rate);
    }

    fn send_fee_filter_all(&mut self, rate: i64) {
        let peers: Vec<PeerId> = self.connected_peers();
        for peer in peers {
            self.send(peer, Message::FeeFilter(rate));
        }
    }

    /// Tells a newly connected peer our current fee filter.
    pub(crate) fn send_fee_filter(&mut self, peer: PeerId) {
        if let Some((rate, _)) = self.fee_filter_sent {
            self.send(peer, Message::FeeFilter(rate));
        }
    }
}
