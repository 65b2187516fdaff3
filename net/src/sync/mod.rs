//! Headers-first sync as a sans-IO state machine: which headers to ask which peer for, which
//! blocks to download from whom (Core's window: 1,024 blocks ahead of the last block we have, 16
//! in flight per peer), when a peer stalls the window (2 s, doubling to 64 s) or times out, and
//! which peer to disconnect or discourage. It takes events and the time, and queues
//! [`SyncAction`]s; the node's shell turns them into messages. Block data goes to the
//! coordinator (pipeline/), which reports back what it stored, committed or found invalid.
//!
//! Headers are stored only for chains that show enough work: a peer's chain that connects to
//! ours with less (Core's anti-DoS threshold: the minimum chain work, or near our tip's) is
//! first presynced with O(1) state and 1-bit commitments, then downloaded again and stored
//! (`presync.rs`, driven from `receive_headers.rs`), so no peer can fill our memory with a
//! cheap header chain.

mod headers;
mod peer_state;
mod presync;
#[cfg(test)]
mod presync_tests;
mod receive_headers;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use sluice_consensus::chain::{Network, Params, U256};
use sluice_consensus::hash::Hash256;
use sluice_consensus::header::Header;

pub use headers::{HeaderId, HeaderRefused, HeaderTree};
use peer_state::PeerSync;
pub use presync::{
    random_salt, PresyncAbort, PresyncParams, PresyncPhase, PresyncSalt, PresyncStatus,
};

/// Peers are named by the shell.
pub type PeerId = u64;

/// Most headers in one `headers` message (Core's `MAX_HEADERS_RESULTS`).
pub const MAX_HEADERS_RESULTS: usize = 2000;

/// Sync limits; the defaults are Core's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncConfig {
    /// Blocks beyond the last one we have that may be requested (`BLOCK_DOWNLOAD_WINDOW`).
    pub window: u32,
    /// Blocks in flight per peer (`MAX_BLOCKS_IN_TRANSIT_PER_PEER`).
    pub max_in_flight_per_peer: usize,
    /// First stall timeout (`BLOCK_STALLING_TIMEOUT_DEFAULT`).
    pub stall_timeout: Duration,
    /// The stall timeout doubles after each stall up to this (`BLOCK_STALLING_TIMEOUT_MAX`).
    pub stall_timeout_max: Duration,
    /// A requested block not received in this long (plus half as much per other downloading
    /// peer) disconnects the peer: Core's `BLOCK_DOWNLOAD_TIMEOUT_BASE` of one target spacing.
    pub block_timeout: Duration,
    /// A `getheaders` unanswered this long disconnects the peer (`HEADERS_RESPONSE_TIME`).
    pub headers_timeout: Duration,
    /// Memory parameters of the headers presync; `None` for Core's values for the network.
    pub presync: Option<PresyncParams>,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            window: 1024,
            max_in_flight_per_peer: 16,
            stall_timeout: Duration::from_secs(2),
            stall_timeout_max: Duration::from_secs(64),
            block_timeout: Duration::from_secs(600),
            headers_timeout: Duration::from_secs(120),
            presync: None,
        }
    }
}

/// Core's `nMinimumChainWork` per network: a header chain with less work is not downloaded.
#[must_use]
pub fn minimum_chain_work(network: Network) -> U256 {
    let hex = match network {
        Network::Mainnet => "0000000000000000000000000000000000000001128750f82f4c366153a3a030",
        Network::Testnet4 => "0000000000000000000000000000000000000000000009a0fe15d0177d086304",
        Network::Signet => "00000000000000000000000000000000000000000000000000000b463ea0a4b8",
        Network::Regtest => return U256::ZERO,
    };
    U256::from_be_hex(hex).unwrap_or(U256::ZERO)
}

/// What the shell must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncAction {
    /// Send `getheaders` with this locator (stop hash zero: as many as the peer has).
    GetHeaders {
        /// To whom.
        peer: PeerId,
        /// Our chain, densest near its tip.
        locator: Vec<Hash256>,
    },
    /// Send `getdata` for these blocks (with witnesses).
    GetBlocks {
        /// To whom.
        peer: PeerId,
        /// The blocks, in chain order.
        hashes: Vec<Hash256>,
    },
    /// Disconnect the peer; `discourage` when it misbehaved (Core's boolean, no scores).
    Disconnect {
        /// Whom.
        peer: PeerId,
        /// Why, for the log.
        reason: String,
        /// Refuse its address for the rest of the session.
        discourage: bool,
    },
}

/// How a received block relates to what was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockArrival {
    /// It was in flight from this peer.
    Requested,
    /// Not asked for, but its header extends a chain we know: worth processing.
    Unrequested,
    /// Its header is unknown or invalid: ignore it.
    Unknown,
}

/// The sync state machine (see the module documentation).
#[derive(Debug)]
pub struct Sync {
    cfg: SyncConfig,
    headers: HeaderTree,
    min_work: U256,
    peers: HashMap<PeerId, PeerSync>,
    /// Blocks in flight: who was asked and when.
    in_flight: HashMap<Hash256, (PeerId, Instant)>,
    /// Blocks whose data we hold (stored, in the pipeline or committed).
    have: HashSet<Hash256>,
    /// Every best-chain block at or below this height is in `have`.
    cursor: u32,
    stall_timeout: Duration,
    actions: VecDeque<SyncAction>,
    presync_params: PresyncParams,
    /// The secret behind every presync's commitments.
    salt: PresyncSalt,
    /// Presyncs started so far: each gets its own secret from the salt and this count.
    presyncs_started: u64,
}

impl Sync {
    /// A sync for `params`' chain; `min_work` is the least work a header chain needs before its
    /// blocks are downloaded, and before a peer's headers are stored rather than presynced.
    /// `salt` keeps the presync commitments secret: give it random bytes ([`random_salt`]).
    #[must_use]
    pub fn new(params: &Params, cfg: SyncConfig, min_work: U256, salt: PresyncSalt) -> Self {
        let headers = HeaderTree::new(params);
        let presync_params = cfg
            .presync
            .unwrap_or_else(|| PresyncParams::for_network(params.network));
        let mut have = HashSet::new();
        have.insert(params.genesis_hash);
        Self {
            stall_timeout: cfg.stall_timeout,
            cfg,
            headers,
            min_work,
            peers: HashMap::new(),
            in_flight: HashMap::new(),
            have,
            cursor: 0,
            actions: VecDeque::new(),
            presync_params,
            salt,
            presyncs_started: 0,
        }
    }

    /// The header tree.
    #[must_use]
    pub fn headers(&self) -> &HeaderTree {
        &self.headers
    }

    /// Progress of `peer`'s headers presync, if one is under way.
    #[must_use]
    pub fn presync_status(&self, peer: PeerId) -> Option<PresyncStatus> {
        self.peers
            .get(&peer)
            .and_then(|p| p.presync.as_ref())
            .and_then(|s| s.status())
    }

    /// The next action for the shell.
    pub fn poll_action(&mut self) -> Option<SyncAction> {
        self.actions.pop_front()
    }

    /// Blocks requested and not yet received.
    #[must_use]
    pub fn blocks_in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// The current stall timeout.
    #[must_use]
    pub fn stall_timeout(&self) -> Duration {
        self.stall_timeout
    }

    /// Adds a header we already hold the block of (a restarted node's stored blocks).
    pub fn add_stored(&mut self, header: &Header, adjusted_time: i64) {
        if self.headers.insert(header, adjusted_time).is_ok() {
            self.have.insert(header.block_hash());
        }
        self.advance_cursor();
    }

    /// A peer finished its handshake; `serves_blocks` when it offers the full chain with
    /// witnesses (NODE_NETWORK | NODE_WITNESS).
    pub fn peer_connected(&mut self, peer: PeerId, serves_blocks: bool, now: Instant) {
        self.peers.insert(peer, PeerSync::new(serves_blocks));
        // From our best header's parent, as Core does: a peer that has our best header then
        // answers with at least that header, so we learn that it has it (an empty answer would
        // tell us nothing and leave it out of the download).
        let best = self.headers.best_tip();
        let height = self.headers.height(best);
        let from = self
            .headers
            .ancestor(best, height.saturating_sub(1))
            .unwrap_or(best);
        self.request_headers(peer, from, now);
    }

    /// A peer is gone: its blocks in flight go back to the pool.
    pub fn peer_disconnected(&mut self, peer: PeerId, now: Instant) {
        if let Some(p) = self.peers.remove(&peer) {
            for h in p.in_flight {
                self.in_flight.remove(&h);
            }
        }
        self.schedule(now);
    }

    fn request_headers(&mut self, peer: PeerId, from: HeaderId, now: Instant) {
        let locator = self.headers.locator(from);
        self.send_getheaders(peer, locator, now);
    }

    fn send_getheaders(&mut self, peer: PeerId, locator: Vec<Hash256>, now: Instant) {
        if let Some(p) = self.peers.get_mut(&peer) {
            p.headers_asked = Some(now);
            self.actions
                .push_back(SyncAction::GetHeaders { peer, locator });
        }
    }

    fn misbehaved(&mut self, peer: PeerId, reason: String) {
        self.actions.push_back(SyncAction::Disconnect {
            peer,
            reason,
            discourage: true,
        });
    }

    /// An `inv` announcing `hash` as a block: ask for headers when it is new.
    pub fn on_block_announced(&mut self, peer: PeerId, hash: &Hash256, now: Instant) {
        match self.headers.get(hash) {
            Some(id) => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.saw(&self.headers, id);
                }
                self.schedule(now);
            }
            // A presyncing peer already has a getheaders of the presync outstanding; one from
            // our tip would bring an answer that does not continue its presync.
            None if self.peers.get(&peer).is_some_and(|p| p.presync.is_some()) => {}
            None => {
                let tip = self.headers.best_tip();
                self.request_headers(peer, tip, now);
            }
        }
    }

    /// A `block` arrived from `peer` with this header (the shell decoded it).
    pub fn on_block(&mut self, peer: PeerId, header: &Header, now: Instant) -> BlockArrival {
        let hash = header.block_hash();
        let requested = self.in_flight.get(&hash).is_some_and(|(p, _)| *p == peer);
        if requested {
            self.in_flight.remove(&hash);
            if let Some(p) = self.peers.get_mut(&peer) {
                p.in_flight.retain(|h| *h != hash);
                p.stalling_since = None;
            }
            // Deliveries bring the stall timeout back down (Core: ×0.85, not below 2 s).
            self.stall_timeout = self.stall_timeout.mul_f64(0.85).max(self.cfg.stall_timeout);
        }
        let known = match self.headers.get(&hash) {
            Some(id) => !self.headers.is_invalid(id),
            None => self.headers.get(&header.prev_blockhash).is_some(),
        };
        if requested {
            BlockArrival::Requested
        } else if known {
            let _ = now;
            BlockArrival::Unrequested
        } else {
            BlockArrival::Unknown
        }
    }

    /// A block submitted locally (RPC `submitblock`): its header is checked and added like a
    /// peer's, and the block counts as held.
    ///
    /// # Errors
    /// The header's rule failure (Core's reject reason), and nothing is added.
    pub fn add_submitted(
        &mut self,
        header: &Header,
        adjusted_time: i64,
        now: Instant,
    ) -> Result<(), HeaderRefused> {
        self.headers.insert(header, adjusted_time)?;
        self.have.insert(header.block_hash());
        self.advance_cursor();
        self.schedule(now);
        Ok(())
    }

    /// The block `hash` is held (stored or in the pipeline): it is not needed again.
    pub fn block_stored(&mut self, header: &Header, adjusted_time: i64, now: Instant) {
        let _ = self.headers.insert(header, adjusted_time);
        self.have.insert(header.block_hash());
        self.advance_cursor();
        self.schedule(now);
    }

    /// The block `hash` was found invalid: its header chain is abandoned; `sender`, when known,
    /// is discouraged.
    pub fn block_invalid(
        &mut self,
        hash: &Hash256,
        sender: Option<PeerId>,
        reason: &str,
        now: Instant,
    ) {
        self.headers.mark_invalid(hash);
        if let Some(peer) = sender {
            self.misbehaved(peer, format!("sent an invalid block: {reason}"));
        }
        self.cursor = 0;
        self.advance_cursor();
        self.schedule(now);
    }

    /// The block was a mutated copy: the real block may be fine, so it is fetched again, and the
    /// peer that sent it is discouraged.
    pub fn block_mutated(&mut self, hash: &Hash256, sender: Option<PeerId>, now: Instant) {
        self.have.remove(hash);
        if let Some(peer) = sender {
            self.misbehaved(peer, "sent a mutated block".into());
        }
        self.cursor = 0;
        self.advance_cursor();
        self.schedule(now);
    }

    /// `notfound` for blocks: they can be asked of another peer.
    pub fn on_not_found(&mut self, peer: PeerId, hashes: &[Hash256], now: Instant) {
        for h in hashes {
            if self.in_flight.get(h).is_some_and(|(p, _)| *p == peer) {
                self.in_flight.remove(h);
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.in_flight.retain(|x| x != h);
                    p.lacks.insert(*h);
                }
            }
        }
        self.schedule(now);
    }

    fn advance_cursor(&mut self) {
        let best = self.headers.best_height();
        // Walk back first if the best chain changed below the cursor.
        while self.cursor > 0
            && self
                .headers
                .best_at(self.cursor)
                .is_none_or(|id| !self.have.contains(&self.headers.hash(id)))
        {
            self.cursor -= 1;
        }
        while self.cursor < best {
            let Some(next) = self.headers.best_at(self.cursor + 1) else {
                break;
            };
            if !self.have.contains(&self.headers.hash(next)) {
                break;
            }
            self.cursor += 1;
        }
    }

    /// Height up to which the best header chain's blocks are all held.
    #[must_use]
    pub fn downloaded_height(&self) -> u32 {
        self.cursor
    }

    /// Whether the best header chain has at least the minimum chain work, so that its blocks
    /// may be downloaded.
    #[must_use]
    pub fn enough_work(&self) -> bool {
        self.headers.work(self.headers.best_tip()) >= self.min_work
    }

    /// Hands out block requests to peers with room, within the window.
    fn schedule(&mut self, now: Instant) {
        if !self.enough_work() {
            return;
        }
        let best = self.headers.best_height();
        let window_end = self.cursor.saturating_add(self.cfg.window).min(best);
        let mut peers: Vec<PeerId> = self.peers.keys().copied().collect();
        peers.sort_unstable();
        for peer in peers {
            self.schedule_peer(peer, window_end, now);
        }
    }

    /// Core's `FindNextBlocksToDownload`: blocks along the peer's own best chain, from where it
    /// leaves the best header chain's held part, when that chain has at least that part's work. Walking the best header chain alone would let a peer with a longer header chain
    /// it never delivers stop the download of every other peer's chain.
    fn schedule_peer(&mut self, peer: PeerId, window_end: u32, now: Instant) {
        let Some(p) = self.peers.get(&peer) else {
            return;
        };
        let room = self
            .cfg
            .max_in_flight_per_peer
            .saturating_sub(p.in_flight.len());
        if !p.serves_blocks || room == 0 {
            return;
        }
        let Some(peer_best) = p.best_known else {
            return;
        };
        let Some(cursor_id) = self.headers.best_at(self.cursor) else {
            return;
        };
        // Less work than the best chain's held part (Core: than the active tip): not worth it.
        if self.headers.work(peer_best) < self.headers.work(cursor_id)
            || self.headers.is_invalid(peer_best)
        {
            return;
        }
        let start = self
            .headers
            .height(self.headers.fork_point(peer_best, cursor_id));
        let end = if start == self.cursor {
            window_end.min(self.headers.height(peer_best))
        } else {
            start
                .saturating_add(self.cfg.window)
                .min(self.headers.height(peer_best))
        };
        let mut want = Vec::new();
        let mut window_full = true;
        for height in start + 1..=end {
            if want.len() >= room {
                window_full = false;
                break;
            }
            let Some(id) = self.headers.ancestor(peer_best, height) else {
                window_full = false;
                break;
            };
            if self.headers.is_invalid(id) {
                window_full = false;
                break;
            }
            let hash = self.headers.hash(id);
            if self.have.contains(&hash)
                || self.in_flight.contains_key(&hash)
                || p.lacks.contains(&hash)
            {
                continue;
            }
            want.push(hash);
        }
        let window_end = end;
        if want.is_empty() {
            if window_full {
                self.note_stall(peer, window_end, now);
            }
            return;
        }
        if let Some(p) = self.peers.get_mut(&peer) {
            for h in &want {
                p.in_flight.push(*h);
                self.in_flight.insert(*h, (peer, now));
            }
        }
        self.actions
            .push_back(SyncAction::GetBlocks { peer, hashes: want });
    }

    /// `peer` could fetch nothing because every block in the window is held or in flight: if
    /// the block at the window's start is in flight from another peer, that peer is stalling
    /// the download and gets `stall_timeout` to deliver (Core's stalling logic).
    fn note_stall(&mut self, peer: PeerId, window_end: u32, now: Instant) {
        if window_end < self.cursor + self.cfg.window {
            return;
        }
        let Some(first) = self.headers.best_at(self.cursor + 1) else {
            return;
        };
        let first = self.headers.hash(first);
        let Some(&(staller, _)) = self.in_flight.get(&first) else {
            return;
        };
        if staller == peer {
            return;
        }
        if let Some(s) = self.peers.get_mut(&staller) {
            s.stalling_since.get_or_insert(now);
        }
    }

    /// Timers: stalling peers, blocks and headers not delivered in time. Call regularly.
    pub fn tick(&mut self, now: Instant) {
        let downloading = self
            .peers
            .values()
            .filter(|p| !p.in_flight.is_empty())
            .count();
        let per_other = self.cfg.block_timeout / 2
            * u32::try_from(downloading.saturating_sub(1)).unwrap_or(u32::MAX);
        let block_timeout = self.cfg.block_timeout + per_other;
        let mut drop = Vec::new();
        for (&id, p) in &self.peers {
            if p.stalling_since
                .is_some_and(|t| now.duration_since(t) > self.stall_timeout)
            {
                drop.push((
                    id,
                    format!("stalled block download for {:?}", self.stall_timeout),
                    true,
                ));
            } else if p
                .in_flight
                .first()
                .and_then(|h| self.in_flight.get(h))
                .is_some_and(|(_, t)| now.duration_since(*t) > block_timeout)
            {
                drop.push((id, "block download timeout".into(), false));
            } else if p
                .headers_asked
                .is_some_and(|t| now.duration_since(t) > self.cfg.headers_timeout)
            {
                drop.push((id, "headers request timeout".into(), false));
            }
        }
        drop.sort();
        for (peer, reason, stall) in drop {
            if stall {
                self.stall_timeout = (self.stall_timeout * 2).min(self.cfg.stall_timeout_max);
            }
            self.actions.push_back(SyncAction::Disconnect {
                peer,
                reason,
                discourage: false,
            });
            // Its blocks become available to others at once, not when the socket closes.
            if let Some(p) = self.peers.get_mut(&peer) {
                for h in std::mem::take(&mut p.in_flight) {
                    self.in_flight.remove(&h);
                }
                p.serves_blocks = false;
                p.headers_asked = None;
                p.stalling_since = None;
            }
        }
        self.schedule(now);
    }
}
