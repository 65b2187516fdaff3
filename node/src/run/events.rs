//! The node's event loop: network events into the sync state machine and the chain thread,
//! chain events back into the sync and out to peers as announcements, sync actions out as
//! messages. One task owns all of this state, so nothing here is locked but the block files.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use sluice_consensus::block::Block;
use sluice_consensus::hash::{to_display_hex, Hash256};
use sluice_consensus::header::Header;
use sluice_net::peer::PeerInfo;
use sluice_net::quic::Fingerprint;
use sluice_net::sync::{BlockArrival, HeaderTree, Sync, SyncAction};
use sluice_net::txrelay::TxRelay;
use sluice_net::upload::UploadTarget;
use sluice_net::wire::{GetHeaders, InvType, Inventory};
use sluice_net::{Message, Network, PeerEvent, PeerId};
use sluice_storage::blockstore::{BlockPos, BlockStore};
use tokio::sync::{mpsc, oneshot, watch};

use super::chain::{ChainEvent, ChainMsg, ChainThread, TipStatus};
use super::mempool::NodeMempool;
use super::serve;
use crate::metrics::NodeMetrics;

/// Protocol version sent in `getheaders` (Core's `PROTOCOL_VERSION`).
const PROTOCOL_VERSION: u32 = 70016;
/// How often the sync's timers run.
const TICK: Duration = Duration::from_millis(250);
/// First wait before reconnecting a configured peer; doubles up to a minute.
const RECONNECT_FIRST: Duration = Duration::from_secs(1);
const RECONNECT_MAX: Duration = Duration::from_secs(60);

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// What the loop remembers of a connected peer.
#[derive(Debug, Default)]
struct PeerMeta {
    /// Announce new blocks with `headers` (BIP130) rather than `inv`.
    wants_headers: bool,
    /// The configured target this connection is for (to reconnect it).
    target: Option<SocketAddr>,
    connected: bool,
    /// What the handshake told us, and when (unix seconds).
    info: Option<PeerInfo>,
    conn_time: i64,
}

/// A connected peer as RPC's `getpeerinfo` sees it.
#[derive(Debug, Clone)]
pub struct PeerRow {
    pub id: u64,
    pub info: PeerInfo,
    pub conn_time: i64,
    /// Opened for `--addnode`/`--connect` or the `addnode` RPC.
    pub manual: bool,
}

/// What `addnode` asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddNode {
    Add,
    Remove,
    OneTry,
}

impl std::fmt::Debug for NodeLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeLoop")
            .field("peers", &self.peers.len())
            .finish()
    }
}

/// A configured peer to keep connected.
#[derive(Debug)]
struct Target {
    addr: SocketAddr,
    /// Over QUIC, to the node with this key; `None`: TCP.
    quic: Option<Fingerprint>,
    next_try: Instant,
    backoff: Duration,
    connected: bool,
}

/// The node's event loop state (RPC queries run against it through `rpc::NodeQuery`).
pub struct NodeLoop {
    pub(super) sync: Sync,
    network: Network,
    blocks: Arc<Mutex<BlockStore>>,
    chain: ChainThread,
    pub(super) status: watch::Receiver<TipStatus>,
    peers: HashMap<PeerId, PeerMeta>,
    targets: Vec<Target>,
    /// The last tip announced to peers.
    announced: Option<Hash256>,
    pub(super) metrics: Arc<NodeMetrics>,
    pub(crate) mempool: Arc<NodeMempool>,
    /// Transaction relay bookkeeping (requests, what peers know, their fee filters).
    pub(super) relay: TxRelay,
    /// Initial block download ended (it does not restart, as in Core).
    pub(super) left_ibd: bool,
    /// The `feefilter` last sent to peers and when.
    pub(super) fee_filter_sent: Option<(i64, Instant)>,
    /// Blocks disconnected by a reorganisation (validated once: `getchaintips` "valid-fork").
    disconnected: HashSet<Hash256>,
    /// Set by the `stop` RPC: the loop ends after the current step.
    stop_requested: bool,
    /// Reject reasons of recently refused blocks (for `submitblock`), oldest dropped first.
    recent_invalid: std::collections::VecDeque<(Hash256, String)>,
    /// Bytes sent against `maxuploadtarget`, and the IPs exempt from it.
    upload: (UploadTarget, Vec<IpAddr>),
}

/// Reject reasons remembered for `submitblock`.
const RECENT_INVALID: usize = 64;

/// Where a submitted block stands right after submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// Handed to the chain thread: wait for its verdict.
    Queued { height: u32 },
    /// Core's answer already known: "duplicate", "duplicate-invalid" or a header's reject reason.
    Answer(String),
}

impl NodeLoop {
    // The loop owns every part of the node it drives; each is handed over once, here.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        sync: Sync,
        network: Network,
        blocks: Arc<Mutex<BlockStore>>,
        chain: ChainThread,
        status: watch::Receiver<TipStatus>,
        targets: Vec<(SocketAddr, Option<Fingerprint>)>,
        metrics: Arc<NodeMetrics>,
        mempool: Arc<NodeMempool>,
    ) -> Self {
        let now = Instant::now();
        Self {
            sync,
            network,
            blocks,
            chain,
            status,
            peers: HashMap::new(),
            targets: targets
                .into_iter()
                .map(|(addr, quic)| Target {
                    addr,
                    quic,
                    next_try: now,
                    backoff: RECONNECT_FIRST,
                    connected: false,
                })
                .collect(),
            announced: None,
            metrics,
            mempool,
            relay: TxRelay::default(),
            left_ibd: false,
            fee_filter_sent: None,
            disconnected: HashSet::new(),
            stop_requested: false,
            recent_invalid: std::collections::VecDeque::new(),
            upload: (UploadTarget::new(0), Vec::new()),
        }
    }

    /// Sets the upload target (bytes per 24 h, 0: none) and the IPs with the download
    /// permission.
    pub(super) fn set_upload_target(&mut self, limit: u64, exempt: Vec<IpAddr>) {
        self.upload = (UploadTarget::new(limit), exempt);
        self.metrics.set_upload(limit, 0, false);
    }

    /// Core's historical-block limit for one `getdata`: brings the byte count up to date and,
    /// when the peer asks for an old block it may not have, disconnects it (as Core does) and
    /// returns true.
    fn upload_refuses(&mut self, peer: PeerId, items: &[Inventory]) -> bool {
        let now = now_secs().max(0).unsigned_abs();
        let (target, exempt) = &mut self.upload;
        target.observe_total(self.network.traffic().1, now);
        let limited = target.reached(true, now);
        self.metrics
            .set_upload(target.limit(), target.sent_in_cycle(), limited);
        let ip = self
            .peers
            .get(&peer)
            .and_then(|m| m.info.as_ref())
            .map(|i| i.addr.ip());
        let exempt = ip.is_some_and(|ip| exempt.contains(&ip));
        let tree = self.sync.headers();
        let Some(hash) = serve::refused_by_upload_target(tree, items, target, exempt, now) else {
            return false;
        };
        tracing::info!(
            "peer {peer}: historical block {} past the upload target ({} of {} bytes sent this \
             cycle): disconnecting",
            to_display_hex(&hash),
            target.sent_in_cycle(),
            target.limit()
        );
        self.metrics.upload_refused();
        self.network.disconnect(peer);
        true
    }

    /// The reject reason of block `hash`, if it was refused recently.
    pub(crate) fn invalid_reason(&self, hash: &Hash256) -> Option<String> {
        self.recent_invalid
            .iter()
            .find(|(h, _)| h == hash)
            .map(|(_, r)| r.clone())
    }

    /// `submitblock`: stores a block that parses and whose header passes, and hands it to the
    /// chain thread.
    ///
    /// # Errors
    /// Storing it failed (a fault).
    pub(crate) fn submit_block(&mut self, bytes: Arc<[u8]>) -> anyhow::Result<Submitted> {
        let header = Header::decode(&bytes).context("a parsed block has a header")?;
        let hash = header.block_hash();
        let tree = self.sync.headers();
        if let Some(id) = tree.get(&hash) {
            if tree.is_invalid(id) {
                return Ok(Submitted::Answer("duplicate-invalid".into()));
            }
            let held = self
                .blocks
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&hash)
                .is_some();
            if held {
                return Ok(Submitted::Answer("duplicate".into()));
            }
        }
        if let Err(e) = self.sync.add_submitted(&header, now_secs(), Instant::now()) {
            return Ok(Submitted::Answer(e.to_string()));
        }
        let height = self
            .sync
            .headers()
            .get(&hash)
            .map_or(0, |id| self.sync.headers().height(id));
        let pos = self
            .blocks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .append(&bytes)
            .context("storing a submitted block")?;
        self.to_chain(ChainMsg::Block {
            header,
            pos,
            bytes: Some(bytes),
            from: None,
        })?;
        Ok(Submitted::Queued { height })
    }

    /// The header tree (every header accepted, the best header chain).
    pub(crate) fn headers(&self) -> &HeaderTree {
        self.sync.headers()
    }

    /// Whether `hash` was connected once and later disconnected.
    pub(crate) fn was_disconnected(&self, hash: &Hash256) -> bool {
        self.disconnected.contains(hash)
    }

    /// Connected peers, by id.
    pub(crate) fn peer_rows(&self) -> Vec<PeerRow> {
        let mut rows: Vec<PeerRow> = self
            .peers
            .iter()
            .filter_map(|(id, m)| {
                Some(PeerRow {
                    id: id.0,
                    info: m.info.clone()?,
                    conn_time: m.conn_time,
                    manual: m.target.is_some(),
                })
            })
            .collect();
        rows.sort_by_key(|r| r.id);
        rows
    }

    /// Inbound and outbound connection counts.
    pub(crate) fn connection_counts(&self) -> (usize, usize) {
        self.network.connection_counts()
    }

    /// Core's `addnode`: `Err` carries Core's error code and message.
    pub(crate) fn add_node(&mut self, addr: SocketAddr, cmd: AddNode) -> Result<(), (i32, String)> {
        let known = self.targets.iter().position(|t| t.addr == addr);
        match (cmd, known) {
            (AddNode::Add, Some(_)) => Err((-23, "Error: Node already added".into())),
            (AddNode::Add, None) => {
                self.targets.push(Target {
                    addr,
                    quic: None,
                    next_try: Instant::now(),
                    backoff: RECONNECT_FIRST,
                    connected: false,
                });
                Ok(())
            }
            (AddNode::Remove, None) => Err((
                -24,
                "Error: Node could not be removed. It has not been added previously.".into(),
            )),
            (AddNode::Remove, Some(i)) => {
                self.targets.remove(i);
                for m in self.peers.values_mut() {
                    if m.target == Some(addr) {
                        m.target = None;
                    }
                }
                Ok(())
            }
            (AddNode::OneTry, _) => {
                if let Ok(id) = self.network.connect(addr) {
                    self.peers.insert(id, PeerMeta::default());
                }
                Ok(())
            }
        }
    }

    /// Disconnects the peer with this address or id; false when none matches.
    pub(crate) fn disconnect_peer(&mut self, addr: Option<SocketAddr>, id: Option<u64>) -> bool {
        let found = self.peers.iter().find_map(|(pid, m)| {
            let by_addr = addr.is_some_and(|a| m.info.as_ref().is_some_and(|i| i.addr == a));
            (by_addr || id == Some(pid.0)).then_some(*pid)
        });
        if let Some(p) = found {
            self.network.disconnect(p);
        }
        found.is_some()
    }

    /// Asks the loop to stop (the `stop` RPC).
    pub(crate) fn request_stop(&mut self) {
        self.stop_requested = true;
    }

    /// Hands every stored block to the chain thread and the sync (a restart).
    pub(super) fn replay(&mut self, stored: Vec<(Header, BlockPos)>) -> anyhow::Result<()> {
        if !stored.is_empty() {
            tracing::info!("replaying {} stored blocks", stored.len());
        }
        let t = now_secs();
        for (header, pos) in stored {
            self.sync.add_stored(&header, t);
            self.to_chain(ChainMsg::Block {
                header,
                pos,
                bytes: None,
                from: None,
            })?;
        }
        Ok(())
    }

    fn to_chain(&self, msg: ChainMsg) -> anyhow::Result<()> {
        self.chain
            .input
            .send(msg)
            .map_err(|_| anyhow::anyhow!("the chain thread has stopped"))
    }

    pub(super) async fn run(
        mut self,
        mut net: mpsc::Receiver<(PeerId, PeerEvent)>,
        mut chain: mpsc::UnboundedReceiver<ChainEvent>,
        mut stop: oneshot::Receiver<()>,
        mut queries: mpsc::UnboundedReceiver<crate::rpc::NodeQuery>,
    ) -> anyhow::Result<()> {
        let mut tick = tokio::time::interval(TICK);
        let result = loop {
            if self.stop_requested {
                break Ok(());
            }
            let step = tokio::select! {
                ev = net.recv() => match ev {
                    Some((peer, ev)) => self.on_peer(peer, ev),
                    None => Err(anyhow::anyhow!("the network stopped")),
                },
                ev = chain.recv() => match ev {
                    Some(ChainEvent::Fault(e)) => Err(anyhow::anyhow!("chain fault: {e}")),
                    Some(ChainEvent::Stopped) | None => Err(anyhow::anyhow!("the chain thread stopped")),
                    Some(ev) => self.on_chain(ev),
                },
                _ = tick.tick() => {
                    self.sync.tick(Instant::now());
                    self.reconnect();
                    self.metrics.set_header_height(self.sync.headers().best_height());
                    self.mempool.tick();
                    self.relay_tick(Instant::now());
                    Ok(())
                }
                Some(q) = queries.recv() => {
                    q(&mut self);
                    Ok(())
                }
                _ = &mut stop => break Ok(()),
            };
            if let Err(e) = step.and_then(|()| self.flush_actions()) {
                break Err(e);
            }
        };
        self.network.shutdown();
        let finished = self.finish(&mut chain).await;
        result.and(finished)
    }

    /// Stops the chain thread (it checkpoints) and makes the block files durable.
    async fn finish(
        &mut self,
        chain: &mut mpsc::UnboundedReceiver<ChainEvent>,
    ) -> anyhow::Result<()> {
        let _ = self.chain.input.send(ChainMsg::Shutdown);
        let mut outcome = Ok(());
        while let Some(ev) = chain.recv().await {
            match ev {
                ChainEvent::Stopped => break,
                ChainEvent::Fault(e) => {
                    outcome = Err(anyhow::anyhow!("chain fault: {e}"));
                    break;
                }
                _ => {}
            }
        }
        if let Some(handle) = self.chain.handle.take() {
            if handle.join().is_err() {
                outcome = Err(anyhow::anyhow!("the chain thread panicked"));
            }
        }
        self.blocks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .sync()
            .context("syncing block files")?;
        outcome
    }

    fn reconnect(&mut self) {
        let now = Instant::now();
        for t in &mut self.targets {
            if t.connected || now < t.next_try || self.network.is_discouraged(t.addr) {
                continue;
            }
            t.next_try = now + t.backoff;
            t.backoff = (t.backoff * 2).min(RECONNECT_MAX);
            let connected = match t.quic {
                Some(key) => self.network.connect_quic(t.addr, key),
                None => self.network.connect(t.addr),
            };
            match connected {
                Ok(id) => {
                    t.connected = true;
                    self.peers.insert(
                        id,
                        PeerMeta {
                            target: Some(t.addr),
                            ..PeerMeta::default()
                        },
                    );
                }
                Err(e) => tracing::debug!("connecting to {}: {e}", t.addr),
            }
        }
    }

    fn on_peer(&mut self, peer: PeerId, ev: PeerEvent) -> anyhow::Result<()> {
        let now = Instant::now();
        match ev {
            PeerEvent::Connected(info) => {
                tracing::info!(
                    "peer {peer} connected: {} {} {:?} height {}",
                    info.addr,
                    info.user_agent,
                    info.transport,
                    info.start_height
                );
                self.metrics
                    .peer_connected(peer, info.direction, info.transport);
                let meta = self.peers.entry(peer).or_default();
                meta.connected = true;
                meta.conn_time = now_secs();
                meta.info = Some(info.clone());
                meta.wants_headers |= info.sendheaders;
                if let Some(t) = meta.target {
                    if let Some(t) = self.targets.iter_mut().find(|x| x.addr == t) {
                        t.backoff = RECONNECT_FIRST;
                    }
                }
                self.sync
                    .peer_connected(peer.0, info.can_serve_blocks(), now);
                self.relay.peer_connected(
                    peer.0,
                    info.relay,
                    info.wtxidrelay,
                    info.direction == sluice_net::transport::Direction::Inbound,
                );
                self.send_fee_filter(peer);
            }
            PeerEvent::Disconnect { reason, discourage } => {
                tracing::info!("peer {peer} disconnected: {reason} (discouraged: {discourage})");
                self.metrics.peer_disconnected(peer);
                if discourage {
                    self.metrics.peer_discouraged();
                }
                if let Some(meta) = self.peers.remove(&peer) {
                    if let Some(t) = meta.target {
                        if let Some(t) = self.targets.iter_mut().find(|x| x.addr == t) {
                            t.connected = false;
                        }
                    }
                }
                self.sync.peer_disconnected(peer.0, now);
                self.relay.peer_gone(peer.0);
                self.mempool.orphans_peer_gone(peer.0);
            }
            PeerEvent::Message(msg) => self.on_message(peer, msg, now)?,
        }
        Ok(())
    }

    fn on_message(&mut self, peer: PeerId, msg: Message, now: Instant) -> anyhow::Result<()> {
        match msg {
            Message::Headers(headers) => {
                tracing::debug!("peer {peer}: {} headers", headers.len());
                self.sync.on_headers(peer.0, &headers, now_secs(), now);
            }
            Message::Block(bytes) => self.on_block(peer, bytes, now)?,
            Message::Inv(items) => {
                for it in items.iter().filter(|i| i.kind.is_block()) {
                    self.sync.on_block_announced(peer.0, &it.hash, now);
                }
                self.on_tx_inv(peer, &items, now);
            }
            Message::Tx(raw) => self.on_tx(peer, &raw, now),
            Message::FeeFilter(rate) => self.relay.on_fee_filter(peer.0, rate),
            Message::NotFound(items) => {
                let blocks: Vec<Hash256> = items
                    .iter()
                    .filter(|i| i.kind.is_block())
                    .map(|i| i.hash)
                    .collect();
                self.sync.on_not_found(peer.0, &blocks, now);
                self.on_tx_not_found(peer, &items, now);
            }
            Message::SendHeaders => {
                if let Some(m) = self.peers.get_mut(&peer) {
                    m.wants_headers = true;
                }
            }
            Message::GetHeaders(req) => {
                let tip = self.status.borrow().hash;
                let headers =
                    serve::headers_after(self.sync.headers(), &tip, &req.locator, &req.stop);
                self.send(peer, Message::Headers(headers));
            }
            Message::GetData(items) => {
                if self.upload_refuses(peer, &items) {
                    return Ok(());
                }
                self.serve_tx_getdata(peer, &items);
                let (found, missing) = serve::blocks(&self.blocks, self.sync.headers(), &items)?;
                // Blocks wait for room in the peer's send queue (a slow reader slows only its
                // own answers, not the loop); the queue itself is bounded by the network layer.
                let network = self.network.clone();
                tokio::spawn(async move {
                    for bytes in found {
                        if network.send(peer, Message::Block(bytes)).await.is_err() {
                            return;
                        }
                    }
                    if !missing.is_empty() {
                        let _ = network.send(peer, Message::NotFound(missing)).await;
                    }
                });
            }
            _ => {}
        }
        Ok(())
    }

    fn on_block(&mut self, peer: PeerId, bytes: Arc<[u8]>, now: Instant) -> anyhow::Result<()> {
        let Ok(header) = Header::decode(&bytes) else {
            self.misbehaving(peer, "block message shorter than a header");
            return Ok(());
        };
        let arrival = self.sync.on_block(peer.0, &header, now);
        tracing::debug!(
            "peer {peer}: block {} {arrival:?}",
            to_display_hex(&header.block_hash())
        );
        match arrival {
            BlockArrival::Unknown => {
                tracing::debug!("peer {peer}: ignoring unrequested block that does not connect");
                return Ok(());
            }
            BlockArrival::Requested | BlockArrival::Unrequested => {}
        }
        if Block::parse(&bytes).is_err() {
            self.misbehaving(peer, "block does not deserialize");
            return Ok(());
        }
        let pos = self
            .blocks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .append(&bytes)
            .context("storing a received block")?;
        self.sync.block_stored(&header, now_secs(), now);
        self.to_chain(ChainMsg::Block {
            header,
            pos,
            bytes: Some(bytes),
            from: Some(peer.0),
        })
    }

    fn misbehaving(&mut self, peer: PeerId, why: &str) {
        tracing::warn!("peer {peer} misbehaved: {why}; disconnecting and discouraging");
        self.network.discourage(peer);
    }

    fn on_chain(&mut self, ev: ChainEvent) -> anyhow::Result<()> {
        let now = Instant::now();
        match ev {
            ChainEvent::Connected { hash, height } => {
                self.metrics.block_connected();
                self.disconnected.remove(&hash);
                tracing::debug!("connected {} at height {height}", to_display_hex(&hash));
                if let Err(e) = self.mempool.block_connected(&hash) {
                    tracing::error!("mempool: block {}: {e}", to_display_hex(&hash));
                }
                self.network
                    .set_start_height(i32::try_from(height).unwrap_or(i32::MAX));
                self.announce();
            }
            ChainEvent::Disconnected { hash, height } => {
                self.metrics.block_disconnected();
                self.disconnected.insert(hash);
                tracing::info!("disconnected {} at height {height}", to_display_hex(&hash));
                if let Err(e) = self.mempool.block_disconnected(&hash) {
                    tracing::error!("mempool: block {}: {e}", to_display_hex(&hash));
                }
            }
            ChainEvent::Invalid {
                hash,
                reason,
                mutated,
                from,
            } => {
                self.metrics.block_invalid(mutated);
                tracing::warn!(
                    "block {} refused: {reason}{}",
                    to_display_hex(&hash),
                    if mutated { " (mutated copy)" } else { "" }
                );
                if self.recent_invalid.len() >= RECENT_INVALID {
                    self.recent_invalid.pop_front();
                }
                self.recent_invalid.push_back((hash, reason.clone()));
                if mutated {
                    self.blocks
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .forget(&hash);
                    self.sync.block_mutated(&hash, from, now);
                } else {
                    self.sync.block_invalid(&hash, from, &reason, now);
                }
            }
            ChainEvent::Fault(_) | ChainEvent::Stopped => {}
        }
        Ok(())
    }

    /// Tells peers about a new tip once the node has caught up with the best header it knows
    /// (Core does not announce during initial block download).
    fn announce(&mut self) {
        let tip = self.status.borrow().clone();
        let headers = self.sync.headers();
        if tip.height < headers.best_height() || self.announced == Some(tip.hash) {
            return;
        }
        let Some(header) = headers
            .get(&tip.hash)
            .and_then(|id| headers.header(id))
            .copied()
        else {
            return;
        };
        self.announced = Some(tip.hash);
        let peers: Vec<(PeerId, bool)> = self
            .peers
            .iter()
            .filter(|(_, m)| m.connected)
            .map(|(p, m)| (*p, m.wants_headers))
            .collect();
        for (peer, wants_headers) in peers {
            let msg = if wants_headers {
                Message::Headers(vec![header])
            } else {
                Message::Inv(vec![Inventory {
                    kind: InvType::BLOCK,
                    hash: tip.hash,
                }])
            };
            self.send(peer, msg);
        }
    }

    /// Handshaken peers.
    pub(super) fn connected_peers(&self) -> Vec<PeerId> {
        self.peers
            .iter()
            .filter(|(_, m)| m.connected)
            .map(|(p, _)| *p)
            .collect()
    }

    pub(super) fn send(&self, peer: PeerId, msg: Message) {
        if let Err(e) = self.network.try_send(peer, msg) {
            tracing::debug!("peer {peer}: send failed: {e}");
        }
    }

    fn flush_actions(&mut self) -> anyhow::Result<()> {
        while let Some(action) = self.sync.poll_action() {
            match action {
                SyncAction::GetHeaders { peer, locator } => {
                    tracing::debug!("peer {peer}: getheaders");
                    self.send(
                        PeerId(peer),
                        Message::GetHeaders(GetHeaders {
                            version: PROTOCOL_VERSION,
                            locator,
                            stop: [0; 32],
                        }),
                    );
                }
                SyncAction::GetBlocks { peer, hashes } => {
                    tracing::debug!("peer {peer}: asking for {} blocks", hashes.len());
                    self.send(
                        PeerId(peer),
                        Message::GetData(
                            hashes
                                .into_iter()
                                .map(|hash| Inventory {
                                    kind: InvType::WITNESS_BLOCK,
                                    hash,
                                })
                                .collect(),
                        ),
                    );
                }
                SyncAction::Disconnect {
                    peer,
                    reason,
                    discourage,
                } => {
                    tracing::info!("dropping peer {peer}: {reason}");
                    if discourage {
                        self.network.discourage(PeerId(peer));
                    } else {
                        self.network.disconnect(PeerId(peer));
                    }
                }
            }
        }
        Ok(())
    }
}
