//! A `headers` message: its checks, the presync of chains with too little work to be stored
//! (see [`super::presync`]; Core's `ProcessHeadersMessage`, `TryLowWorkHeadersSync` and
//! `IsContinuationOfLowWorkHeadersSync`), and the insertion of the rest into the header tree.

use std::time::Instant;

use sluice_consensus::chain::{block_proof, check_proof_of_work, U256};
use sluice_consensus::hash::Hash256;
use sluice_consensus::header::Header;

use super::headers::{HeaderId, HeaderRefused};
use super::presync::{ChainStart, HeadersPresync, PresyncAbort, Processed};
use super::{PeerId, Sync, SyncAction, MAX_HEADERS_RESULTS};

/// Blocks of work below our tip within which a fork is stored without a presync (Core's
/// 144-block buffer in `GetAntiDoSWorkThreshold`): forks near the tip are cheap to follow.
const NEAR_TIP_BLOCKS: u64 = 144;

/// What the peer's presync made of a message.
enum Presynced {
    /// No presync with this peer (or it ended because the message does not continue it): the
    /// message is ordinary headers.
    No,
    /// Taken in (or the peer dropped): nothing for the tree.
    Consumed,
    /// Headers whose chain has shown enough work, for the tree.
    Released(Vec<Header>),
}

impl Sync {
    /// A `headers` message from `peer`; `adjusted_time` is the node's clock in seconds.
    pub fn on_headers(
        &mut self,
        peer: PeerId,
        headers: &[Header],
        adjusted_time: i64,
        now: Instant,
    ) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        p.headers_asked = None;
        if headers.len() > MAX_HEADERS_RESULTS {
            self.misbehaved(
                peer,
                format!("headers message with {} headers", headers.len()),
            );
            return;
        }
        if headers.is_empty() {
            // The peer has nothing more (perhaps it moved onto our chain): a presync with it
            // ends, as in Core.
            p.presync = None;
            self.schedule(now);
            return;
        }
        let hashes: Vec<Hash256> = headers.iter().map(Header::block_hash).collect();
        // Proof of work first (Core's `CheckHeadersPoW`): every later check then costs the
        // sender real hashing, and the presync relies on it.
        let params = self.headers.params();
        if headers
            .iter()
            .zip(&hashes)
            .any(|(h, hash)| !check_proof_of_work(hash, h.bits, params))
        {
            self.misbehaved(peer, "invalid header: high-hash".into());
            return;
        }
        if headers
            .iter()
            .skip(1)
            .zip(&hashes)
            .any(|(h, prev)| h.prev_blockhash != *prev)
        {
            self.misbehaved(peer, "non-continuous headers sequence".into());
            return;
        }
        let full = headers.len() == MAX_HEADERS_RESULTS;
        let released;
        let (batch, work_shown) = match self.continue_presync(peer, headers, &hashes, full, now) {
            Presynced::No => (headers, false),
            Presynced::Consumed => return,
            Presynced::Released(r) => {
                released = r;
                (released.as_slice(), true)
            }
        };
        let Some(start) = batch
            .first()
            .and_then(|h| self.headers.get(&h.prev_blockhash))
        else {
            // Core answers headers that do not connect with a getheaders from our best header,
            // so that the peer can send the missing ones.
            let tip = self.headers.best_tip();
            self.request_headers(peer, tip, now);
            return;
        };
        // Headers we already hold on our best chain cost no memory: no work check (Core).
        let known = !work_shown
            && hashes
                .last()
                .and_then(|h| self.headers.get(h))
                .is_some_and(|id| self.headers.on_best_chain(id));
        if !work_shown && !known {
            let threshold = self.anti_dos_threshold();
            let claimed = batch.iter().fold(self.headers.work(start), |w, h| {
                w.wrapping_add(&block_proof(h.bits))
            });
            if claimed < threshold {
                // A short message means the peer's chain ends there: nothing worth syncing.
                if full {
                    self.start_presync(
                        peer,
                        start,
                        threshold,
                        headers,
                        &hashes,
                        adjusted_time,
                        now,
                    );
                }
                return;
            }
        }
        self.accept_headers(peer, batch, work_shown, full, adjusted_time, now);
    }

    /// The least work a chain must show before its headers are stored (Core's
    /// `GetAntiDoSWorkThreshold`): the minimum chain work, or near our tip's when that is more.
    /// The tip is the last block we hold on the best header chain.
    fn anti_dos_threshold(&self) -> U256 {
        let tip = self.headers.best_at(self.cursor).unwrap_or(0);
        let work = self.headers.work(tip);
        let proof = self
            .headers
            .header(tip)
            .map_or(U256::ZERO, |h| block_proof(h.bits));
        // min(144 × proof, work), without overflowing the product.
        let per_block_cap = work
            .checked_div(&U256::from_u64(NEAR_TIP_BLOCKS))
            .unwrap_or(U256::ZERO);
        let margin = if proof > per_block_cap {
            work
        } else {
            proof.wrapping_mul_u64(NEAR_TIP_BLOCKS)
        };
        let near_tip = if margin > work {
            U256::ZERO
        } else {
            work.wrapping_sub(&margin)
        };
        near_tip.max(self.min_work)
    }

    #[allow(clippy::too_many_arguments)]
    fn start_presync(
        &mut self,
        peer: PeerId,
        start: HeaderId,
        min_work: U256,
        headers: &[Header],
        hashes: &[Hash256],
        adjusted_time: i64,
        now: Instant,
    ) {
        let chain_start = ChainStart {
            id: start,
            hash: self.headers.hash(start),
            height: self.headers.height(start),
            work: self.headers.work(start),
            bits: self.headers.header(start).map_or(0, |h| h.bits),
            median_time_past: self.headers.median_time_past(start),
        };
        self.presyncs_started += 1;
        let mut presync = HeadersPresync::new(
            self.presync_params,
            chain_start,
            min_work,
            &self.salt,
            self.presyncs_started,
            adjusted_time,
        );
        let result = presync.process(headers, hashes, true, self.headers.params());
        if let Some(p) = self.peers.get_mut(&peer) {
            p.presync = Some(Box::new(presync));
        }
        // The message starts at the chain start and has less than the work: it can neither
        // break continuity nor release anything.
        let _ = self.presync_done(peer, result, now);
    }

    fn continue_presync(
        &mut self,
        peer: PeerId,
        headers: &[Header],
        hashes: &[Hash256],
        full: bool,
        now: Instant,
    ) -> Presynced {
        let params = self.headers.params();
        let Some(presync) = self.peers.get_mut(&peer).and_then(|p| p.presync.as_mut()) else {
            return Presynced::No;
        };
        let result = presync.process(headers, hashes, full, params);
        self.presync_done(peer, result, now)
    }

    /// Acts on a presync's verdict on one message.
    fn presync_done(
        &mut self,
        peer: PeerId,
        result: Result<Processed, PresyncAbort>,
        now: Instant,
    ) -> Presynced {
        let Some(p) = self.peers.get_mut(&peer) else {
            return Presynced::Consumed;
        };
        let processed = match result {
            Err(e) if e.is_discontinuity() => {
                // Core gives up the presync and handles the message as ordinary headers: an
                // honest peer announcing a new block mid-sync does this.
                p.presync = None;
                return Presynced::No;
            }
            Err(e) => {
                // Not discouraged (Core does not punish these), but dropped: a peer that
                // showed one chain and served another, or an impossible one, has nothing we
                // can sync from.
                p.presync = None;
                self.actions.push_back(SyncAction::Disconnect {
                    peer,
                    reason: e.to_string(),
                    discourage: false,
                });
                return Presynced::Consumed;
            }
            Ok(processed) => processed,
        };
        let next = p
            .presync
            .as_ref()
            .and_then(|s| (!s.is_done()).then(|| (s.request_from(), s.chain_start())));
        match next {
            Some((from, chain_start)) if processed.request_more => {
                let mut locator = vec![from];
                locator.extend(
                    self.headers
                        .locator(chain_start)
                        .into_iter()
                        .filter(|h| *h != from),
                );
                self.send_getheaders(peer, locator, now);
            }
            _ => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.presync = None;
                }
            }
        }
        if processed.released.is_empty() {
            Presynced::Consumed
        } else {
            Presynced::Released(processed.released)
        }
    }

    /// Inserts headers that connect to the tree and have shown enough work.
    fn accept_headers(
        &mut self,
        peer: PeerId,
        batch: &[Header],
        from_presync: bool,
        full: bool,
        adjusted_time: i64,
        now: Instant,
    ) {
        let mut last = None;
        let mut complete = true;
        for h in batch {
            match self.headers.insert(h, adjusted_time) {
                Ok((id, _)) => last = Some(id),
                Err(HeaderRefused::UnknownParent) => {
                    let tip = self.headers.best_tip();
                    self.request_headers(peer, tip, now);
                    return;
                }
                Err(HeaderRefused::Rule {
                    permanent: false, ..
                }) => {
                    complete = false;
                    break;
                }
                Err(e) => {
                    if let Some(p) = self.peers.get_mut(&peer) {
                        p.presync = None;
                    }
                    self.misbehaved(peer, format!("invalid header: {e}"));
                    return;
                }
            }
        }
        if from_presync && !complete {
            // The rest of the presync's headers would not connect: give it up (the peer is
            // asked again from our tip when its next headers do not connect).
            if let Some(p) = self.peers.get_mut(&peer) {
                p.presync = None;
            }
        }
        let Some(last) = last else { return };
        let presyncing = match self.peers.get_mut(&peer) {
            Some(p) => {
                p.saw(&self.headers, last);
                p.presync.is_some()
            }
            None => false,
        };
        // A presync asks for its own next headers.
        if full && !presyncing {
            self.request_headers(peer, last, now);
        }
        self.cursor = self.cursor.min(
            self.headers
                .height(self.headers.fork_point(last, self.headers.best_tip())),
        );
        self.advance_cursor();
        self.schedule(now);
    }
}
