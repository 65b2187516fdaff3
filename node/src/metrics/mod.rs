//! The node's metrics: a registry of atomics the running node updates ([`NodeMetrics`]), the
//! Prometheus text encoder ([`encode`]), the `/metrics` HTTP endpoint ([`server`]) and the IBD
//! progress reports ([`progress`]).
//!
//! Updates on hot paths are single relaxed atomic operations; figures that already live
//! elsewhere (the chain tip, the pipeline's stage counters, the network's byte counts) are read
//! when scraped, not copied as they change. No lock is taken while validating: the only locks
//! are the peer table (touched on connect and disconnect) and the RPC method table (read-locked
//! per call, written once per new method).
//!
//! Seams for other parts of the node: [`NodeMetrics::set_mempool`] (the mempool, after every
//! change), [`NodeMetrics::observe_rpc`] (the RPC server, once per request).

pub mod encode;
pub mod progress;
pub mod server;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sluice_net::{Direction, Network, PeerId, TransportKind};
use sluice_pipeline::engine::{Histogram, PipelineProbe};
use tokio::sync::watch;

use crate::run::TipStatus;
use encode::{Encoder, Labels, Value};

/// Upper bounds of RPC latency buckets, microseconds (100 µs to 10 s).
pub const RPC_LATENCY_BOUNDS_US: [u64; 16] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 5_000_000, 10_000_000,
];

/// Distinct RPC method labels kept; calls beyond them are counted under [`OTHER_METHOD`], so
/// callers sending arbitrary method names cannot grow the registry without bound.
pub const MAX_RPC_METHODS: usize = 64;
/// The label of methods past [`MAX_RPC_METHODS`].
pub const OTHER_METHOD: &str = "other";

/// Where figures owned by other parts of the node are read from at scrape time.
#[derive(Debug, Default)]
pub struct Sources {
    /// The committed tip.
    pub status: Option<watch::Receiver<TipStatus>>,
    /// The P2P network (bytes in and out).
    pub network: Option<Network>,
    /// The validation pipeline's counters.
    pub pipeline: Option<PipelineProbe>,
    /// The data directory, whose file system's free space is read at scrape time.
    pub datadir: Option<PathBuf>,
}

/// Every series the node exports. Cheap to share (`Arc`); every method takes `&self`.
#[derive(Debug)]
pub struct NodeMetrics {
    sources: Sources,
    started_unix: u64,
    header_height: AtomicU64,
    blocks_connected: AtomicU64,
    blocks_disconnected: AtomicU64,
    /// Blocks refused: `[invalid, mutated copy]`.
    blocks_invalid: [AtomicU64; 2],
    txs_rejected: AtomicU64,
    peers_discouraged: AtomicU64,
    rpc_auth_failures: AtomicU64,
    peers: Mutex<HashMap<PeerId, (Direction, TransportKind)>>,
    mempool_txs: AtomicU64,
    mempool_bytes: AtomicU64,
    mempool_orphans: AtomicU64,
    /// `[target, sent in the cycle, historical limit reached (0/1), getdata refused]`.
    upload: [AtomicU64; 4],
    rpc: RwLock<BTreeMap<String, Arc<Histogram>>>,
}

/// The figures the progress reports need, read together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub height: u32,
    pub headers: u64,
    pub peers: usize,
    pub blocks_connected: u64,
}

impl NodeMetrics {
    /// A registry reading the given sources.
    #[must_use]
    pub fn new(sources: Sources) -> Self {
        Self {
            sources,
            started_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            header_height: AtomicU64::new(0),
            blocks_connected: AtomicU64::new(0),
            blocks_disconnected: AtomicU64::new(0),
            blocks_invalid: [AtomicU64::new(0), AtomicU64::new(0)],
            txs_rejected: AtomicU64::new(0),
            peers_discouraged: AtomicU64::new(0),
            rpc_auth_failures: AtomicU64::new(0),
            peers: Mutex::new(HashMap::new()),
            mempool_txs: AtomicU64::new(0),
            mempool_bytes: AtomicU64::new(0),
            mempool_orphans: AtomicU64::new(0),
            upload: Default::default(),
            rpc: RwLock::new(BTreeMap::new()),
        }
    }

    /// The best header's height (the sync's header tree).
    pub fn set_header_height(&self, height: u32) {
        self.header_height
            .store(u64::from(height), Ordering::Relaxed);
    }

    /// A block was connected to the active chain.
    pub fn block_connected(&self) {
        self.blocks_connected.fetch_add(1, Ordering::Relaxed);
    }

    /// The tip was disconnected (reorganisation).
    pub fn block_disconnected(&self) {
        self.blocks_disconnected.fetch_add(1, Ordering::Relaxed);
    }

    /// A block was refused: invalid, or (`mutated`) a malleated copy of a possibly valid block.
    pub fn block_invalid(&self, mutated: bool) {
        self.blocks_invalid[usize::from(mutated)].fetch_add(1, Ordering::Relaxed);
    }

    /// Seam for the mempool: a transaction received from a peer was refused.
    pub fn tx_rejected(&self) {
        self.txs_rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// A peer was disconnected and discouraged (misbehaviour).
    pub fn peer_discouraged(&self) {
        self.peers_discouraged.fetch_add(1, Ordering::Relaxed);
    }

    /// The upload target's state (`maxuploadtarget`): the target (0: none), bytes sent in the
    /// current cycle, and whether old blocks are being refused.
    pub fn set_upload(&self, target: u64, sent_in_cycle: u64, limited: bool) {
        self.upload[0].store(target, Ordering::Relaxed);
        self.upload[1].store(sent_in_cycle, Ordering::Relaxed);
        self.upload[2].store(u64::from(limited), Ordering::Relaxed);
    }

    /// A peer asking for an old block past the upload target was disconnected.
    pub fn upload_refused(&self) {
        self.upload[3].fetch_add(1, Ordering::Relaxed);
    }

    /// Seam for the RPC server: a request carried wrong credentials.
    pub fn rpc_auth_failed(&self) {
        self.rpc_auth_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// A peer finished its handshake.
    pub fn peer_connected(&self, peer: PeerId, direction: Direction, transport: TransportKind) {
        self.peer_table().insert(peer, (direction, transport));
    }

    /// A peer's connection ended (whether or not it had finished its handshake).
    pub fn peer_disconnected(&self, peer: PeerId) {
        self.peer_table().remove(&peer);
    }

    fn peer_table(&self) -> std::sync::MutexGuard<'_, HashMap<PeerId, (Direction, TransportKind)>> {
        self.peers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Seam for the mempool: its size after a change (transactions and their serialized bytes).
    pub fn set_mempool(&self, transactions: u64, bytes: u64) {
        self.mempool_txs.store(transactions, Ordering::Relaxed);
        self.mempool_bytes.store(bytes, Ordering::Relaxed);
    }

    /// Seam for the orphan pool: transactions held until their missing parents arrive.
    pub fn set_orphans(&self, orphans: u64) {
        self.mempool_orphans.store(orphans, Ordering::Relaxed);
    }

    /// Seam for the RPC server: one request to `method` took `elapsed` (from the request
    /// being read to the reply being written). Pass only known method names; past
    /// [`MAX_RPC_METHODS`] distinct names the rest count as [`OTHER_METHOD`].
    pub fn observe_rpc(&self, method: &str, elapsed: Duration) {
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let found = self
            .rpc
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(method)
            .cloned();
        let h = found.unwrap_or_else(|| {
            let mut map = self.rpc.write().unwrap_or_else(PoisonError::into_inner);
            let key = if map.len() < MAX_RPC_METHODS - 1 || map.contains_key(method) {
                method
            } else {
                OTHER_METHOD
            };
            map.entry(key.to_owned())
                .or_insert_with(|| Arc::new(Histogram::new(&RPC_LATENCY_BOUNDS_US)))
                .clone()
        });
        h.record(us);
    }

    /// Height, headers, peers and blocks connected, for progress reports.
    #[must_use]
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            height: self
                .sources
                .status
                .as_ref()
                .map_or(0, |s| s.borrow().height),
            headers: self.header_height.load(Ordering::Relaxed),
            peers: self.peer_table().len(),
            blocks_connected: self.blocks_connected.load(Ordering::Relaxed),
        }
    }

    /// Every series in Prometheus' text format.
    #[must_use]
    pub fn render(&self) -> String {
        let mut e = Encoder::default();
        let int = Value::Int;
        let none: Labels<'_> = &[];
        let (height, utxos) = self.sources.status.as_ref().map_or((0, 0), |s| {
            let s = s.borrow();
            (s.height, s.utxo_count)
        });
        e.gauge(
            "sluice_chain_height",
            "Height of the committed (validated) tip.",
            &[(none, int(u64::from(height)))],
        );
        e.gauge(
            "sluice_header_height",
            "Height of the best known header.",
            &[(none, int(self.header_height.load(Ordering::Relaxed)))],
        );
        e.gauge(
            "sluice_utxos",
            "Unspent outputs in the UTXO set.",
            &[(none, int(utxos))],
        );
        e.counter(
            "sluice_blocks_connected_total",
            "Blocks connected to the active chain (rate() gives blocks per second).",
            &[(none, int(self.blocks_connected.load(Ordering::Relaxed)))],
        );
        e.counter(
            "sluice_blocks_disconnected_total",
            "Blocks disconnected from the active chain by reorganisations.",
            &[(none, int(self.blocks_disconnected.load(Ordering::Relaxed)))],
        );
        e.gauge(
            "sluice_start_time_seconds",
            "Start time of the node, seconds since the UNIX epoch.",
            &[(none, int(self.started_unix))],
        );
        e.counter(
            "sluice_blocks_invalid_total",
            "Blocks refused by validation; kind=mutated: a malleated copy (the block may be valid).",
            &[
                (&[("kind", "invalid")], int(self.blocks_invalid[0].load(Ordering::Relaxed))),
                (&[("kind", "mutated")], int(self.blocks_invalid[1].load(Ordering::Relaxed))),
            ],
        );
        e.counter(
            "sluice_transactions_rejected_total",
            "Transactions from peers refused by the mempool.",
            &[(none, int(self.txs_rejected.load(Ordering::Relaxed)))],
        );
        e.counter(
            "sluice_rpc_auth_failures_total",
            "JSON-RPC requests refused for wrong credentials.",
            &[(none, int(self.rpc_auth_failures.load(Ordering::Relaxed)))],
        );
        self.render_datadir(&mut e);
        self.render_peers(&mut e);
        self.render_pipeline(&mut e);
        e.gauge(
            "sluice_mempool_transactions",
            "Transactions in the mempool.",
            &[(none, int(self.mempool_txs.load(Ordering::Relaxed)))],
        );
        e.gauge(
            "sluice_mempool_bytes",
            "Serialized size of the mempool's transactions, bytes.",
            &[(none, int(self.mempool_bytes.load(Ordering::Relaxed)))],
        );
        e.gauge(
            "sluice_mempool_orphans",
            "Orphan transactions (parents missing) held until their parents arrive.",
            &[(none, int(self.mempool_orphans.load(Ordering::Relaxed)))],
        );
        let rpc: Vec<(String, _)> = self
            .rpc
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(m, h)| (m.clone(), h.snapshot()))
            .collect();
        let rows: Vec<([(&str, &str); 1], _)> = rpc
            .iter()
            .map(|(m, h)| ([("method", m.as_str())], h))
            .collect();
        let samples: Vec<(Labels<'_>, _)> = rows.iter().map(|(l, h)| (&l[..], *h)).collect();
        e.histogram(
            "sluice_rpc_request_duration_seconds",
            "Time to answer JSON-RPC requests, by method.",
            1e6,
            &samples,
        );
        e.finish()
    }

    fn render_datadir(&self, e: &mut Encoder) {
        let Some(dir) = &self.sources.datadir else {
            return;
        };
        // A failed statvfs leaves the series out (absent() alerts on it) rather than reporting
        // a made-up figure.
        match free_space(dir) {
            Ok((free, total)) => {
                e.gauge(
                    "sluice_datadir_free_bytes",
                    "Bytes available to the node on the data directory's file system.",
                    &[(&[], Value::Int(free))],
                );
                e.gauge(
                    "sluice_datadir_size_bytes",
                    "Size of the data directory's file system, bytes.",
                    &[(&[], Value::Int(total))],
                );
            }
            Err(err) => tracing::debug!("statvfs {}: {err}", dir.display()),
        }
    }

    fn render_peers(&self, e: &mut Encoder) {
        let mut counts = [[0u64; 2]; 2];
        for (d, t) in self.peer_table().values() {
            counts[usize::from(*d == Direction::Outbound)][usize::from(*t == TransportKind::V2)] +=
                1;
        }
        let mut samples = Vec::new();
        for (di, d) in ["inbound", "outbound"].iter().enumerate() {
            for (ti, t) in ["v1", "v2"].iter().enumerate() {
                samples.push((
                    [("direction", *d), ("transport", *t)],
                    Value::Int(counts[di][ti]),
                ));
            }
        }
        let samples: Vec<(Labels<'_>, Value)> = samples.iter().map(|(l, v)| (&l[..], *v)).collect();
        e.gauge(
            "sluice_peers",
            "Connected peers (handshake done) by direction and transport.",
            &samples,
        );
        let traffic = self
            .sources
            .network
            .as_ref()
            .map_or((0, 0), Network::traffic);
        e.counter(
            "sluice_peers_discouraged_total",
            "Peers disconnected and discouraged for misbehaviour.",
            &[(
                &[],
                Value::Int(self.peers_discouraged.load(Ordering::Relaxed)),
            )],
        );
        e.counter(
            "sluice_net_bytes_total",
            "Bytes received from and sent to peers (on the wire, all transports).",
            &[
                (&[("direction", "in")], Value::Int(traffic.0)),
                (&[("direction", "out")], Value::Int(traffic.1)),
            ],
        );
        let up = |i: usize| Value::Int(self.upload[i].load(Ordering::Relaxed));
        e.gauge(
            "sluice_upload_target_bytes",
            "The upload target (maxuploadtarget) per 24-hour cycle, bytes; 0: none.",
            &[(&[], up(0))],
        );
        e.gauge(
            "sluice_upload_cycle_sent_bytes",
            "Bytes sent to peers in the current 24-hour upload cycle (as of the last getdata).",
            &[(&[], up(1))],
        );
        e.gauge(
            "sluice_upload_target_reached",
            "1 while blocks older than a week are refused to peers for the upload target.",
            &[(&[], up(2))],
        );
        e.counter(
            "sluice_upload_refused_total",
            "Peers disconnected for asking for an old block past the upload target.",
            &[(&[], up(3))],
        );
    }

    fn render_pipeline(&self, e: &mut Encoder) {
        let Some(p) = &self.sources.pipeline else {
            return;
        };
        let stages: Vec<_> = p.stages().collect();
        let rows = |f: &dyn Fn(&sluice_pipeline::engine::stats::StageCounters, usize) -> Value| {
            stages
                .iter()
                .map(|(n, w, c)| ([("stage", *n)], f(c, *w)))
                .collect::<Vec<_>>()
        };
        let busy = rows(&|c, _| Value::Float(c.busy().as_secs_f64()));
        e.counter(
            "sluice_stage_busy_seconds_total",
            "Worker time spent on items per pipeline stage, summed over the stage's workers.",
            &labelled(&busy),
        );
        let items = rows(&|c, _| Value::Int(c.items()));
        e.counter(
            "sluice_stage_items_total",
            "Items (blocks or batches) each pipeline stage has processed.",
            &labelled(&items),
        );
        let workers = rows(&|_, w| Value::Int(w as u64));
        e.gauge(
            "sluice_stage_workers",
            "Worker threads per pipeline stage.",
            &labelled(&workers),
        );
        let depth = rows(&|c, _| Value::Int(c.depth_now()));
        e.gauge(
            "sluice_stage_queue_depth",
            "Items waiting in each pipeline stage's input queue, at the stage's last look.",
            &labelled(&depth),
        );
        let sigs = p.batches().signatures.snapshot();
        e.histogram(
            "sluice_batch_signatures",
            "Deferred signatures per verification batch.",
            1.0,
            &[(&[], &sigs)],
        );
        let blocks = p.batches().blocks.snapshot();
        e.histogram(
            "sluice_batch_blocks",
            "Blocks per verification batch.",
            1.0,
            &[(&[], &blocks)],
        );
    }
}

/// Bytes available to an unprivileged user and the size of the file system holding `dir`.
// statvfs' fields are u64 on 64-bit Linux, narrower elsewhere.
#[allow(clippy::useless_conversion)]
fn free_space(dir: &Path) -> nix::Result<(u64, u64)> {
    let st = nix::sys::statvfs::statvfs(dir)?;
    let frag = u64::from(st.fragment_size());
    Ok((
        u64::from(st.blocks_available()).saturating_mul(frag),
        u64::from(st.blocks()).saturating_mul(frag),
    ))
}

/// Rows of one-label samples as the encoder takes them.
fn labelled<'a>(rows: &'a [([(&'a str, &'a str); 1], Value)]) -> Vec<(Labels<'a>, Value)> {
    rows.iter().map(|(l, v)| (&l[..], *v)).collect()
}

#[cfg(test)]
mod tests;
