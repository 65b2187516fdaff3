//! The pool's state: entries, the spend index, cluster queries, removal (block, conflict,
//! expiry, size limit) and the rolling minimum fee.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use sluice_consensus::coin::{Amount, OutPoint};
use sluice_consensus::hash::Hash256;

use crate::cluster::{chunks, Chunk, Node};
use crate::entry::{Entry, EntryInfo, PoolInfo};
use crate::feerate::{FeeFrac, FeeRate};
use crate::options::{MempoolOptions, ROLLING_FEE_HALFLIFE};

/// Why a transaction left the pool (Core's `MemPoolRemovalReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RemovalReason {
    Expiry,
    SizeLimit,
    Reorg,
    Block,
    Conflict,
    Replaced,
}

/// A transaction that left the pool, for the caller's notifications and relay bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub txid: Hash256,
    pub wtxid: Hash256,
    pub reason: RemovalReason,
}

/// The transaction memory pool. Sans-IO: callers pass chain facts, coins and time in.
#[derive(Debug)]
pub struct Mempool {
    pub(crate) opts: MempoolOptions,
    pub(crate) entries: HashMap<Hash256, Entry>,
    pub(crate) by_wtxid: HashMap<Hash256, Hash256>,
    /// Outpoint -> txid of the in-pool transaction spending it.
    pub(crate) spenders: HashMap<OutPoint, Hash256>,
    pub(crate) deltas: HashMap<Hash256, Amount>,
    pub(crate) total_vsize: i64,
    pub(crate) total_usage: usize,
    pub(crate) total_fee: Amount,
    pub(crate) next_sequence: u64,
    rolling_min_fee: f64,
    last_rolling_update: i64,
    block_since_bump: bool,
    /// Secret for the Schnorr batch verifier's randomness (from the caller's OS RNG).
    pub(crate) batch_seed: [u8; 32],
    /// Package staging only ([`Mempool::test_package`], empty otherwise): the package's
    /// transactions staged in the pool so far, and the first package-level TRUC violation.
    pub(crate) staged: HashSet<Hash256>,
    pub(crate) deferred_truc: Option<String>,
}

impl Mempool {
    /// An empty pool. `batch_seed` must come from a secure random source: it keys the
    /// coefficients of batched Schnorr verification.
    #[must_use]
    pub fn new(opts: MempoolOptions, batch_seed: [u8; 32]) -> Self {
        Self {
            opts,
            entries: HashMap::new(),
            by_wtxid: HashMap::new(),
            spenders: HashMap::new(),
            deltas: HashMap::new(),
            total_vsize: 0,
            total_usage: 0,
            total_fee: 0,
            next_sequence: 1,
            rolling_min_fee: 0.0,
            last_rolling_update: 0,
            block_since_bump: false,
            batch_seed,
            staged: HashSet::new(),
            deferred_truc: None,
        }
    }

    #[must_use]
    pub fn options(&self) -> &MempoolOptions {
        &self.opts
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    #[must_use]
    pub fn get(&self, txid: &Hash256) -> Option<&Entry> {
        self.entries.get(txid)
    }

    #[must_use]
    pub fn get_by_wtxid(&self, wtxid: &Hash256) -> Option<&Entry> {
        self.by_wtxid.get(wtxid).and_then(|t| self.entries.get(t))
    }

    #[must_use]
    pub fn contains_txid(&self, txid: &Hash256) -> bool {
        self.entries.contains_key(txid)
    }

    #[must_use]
    pub fn contains_wtxid(&self, wtxid: &Hash256) -> bool {
        self.by_wtxid.contains_key(wtxid)
    }

    /// The in-pool transaction spending `outpoint`, if any.
    #[must_use]
    pub fn spender(&self, outpoint: &OutPoint) -> Option<&Hash256> {
        self.spenders.get(outpoint)
    }

    /// Txids in entry order (sequence, then txid): `getrawmempool`'s set.
    #[must_use]
    pub fn txids(&self) -> Vec<Hash256> {
        let mut v: Vec<(u64, Hash256)> = self
            .entries
            .values()
            .map(|e| (e.sequence, e.txid))
            .collect();
        v.sort_unstable();
        v.into_iter().map(|(_, t)| t).collect()
    }

    /// `prioritisetransaction`: adds `delta` to the modified fee of `txid` (now or when it
    /// enters).
    pub fn prioritise(&mut self, txid: Hash256, delta: Amount) {
        *self.deltas.entry(txid).or_insert(0) += delta;
        if let Some(e) = self.entries.get_mut(&txid) {
            e.fee_delta += delta;
        }
    }

    /// In-pool ancestors of `txid` (excluding itself).
    #[must_use]
    pub fn ancestors(&self, txid: &Hash256) -> BTreeSet<Hash256> {
        self.walk(txid, |e| &e.parents)
    }

    /// In-pool descendants of `txid` (excluding itself).
    #[must_use]
    pub fn descendants(&self, txid: &Hash256) -> BTreeSet<Hash256> {
        self.walk(txid, |e| &e.children)
    }

    fn walk(
        &self,
        txid: &Hash256,
        next: impl Fn(&Entry) -> &BTreeSet<Hash256>,
    ) -> BTreeSet<Hash256> {
        let mut out = BTreeSet::new();
        let mut todo: Vec<Hash256> = self
            .entries
            .get(txid)
            .map(|e| next(e).iter().copied().collect())
            .unwrap_or_default();
        while let Some(t) = todo.pop() {
            if out.insert(t) {
                if let Some(e) = self.entries.get(&t) {
                    todo.extend(next(e).iter().copied());
                }
            }
        }
        out
    }

    /// The cluster (connected component) containing `txid`.
    #[must_use]
    pub fn cluster(&self, txid: &Hash256) -> BTreeSet<Hash256> {
        let mut out = BTreeSet::new();
        let mut todo = vec![*txid];
        while let Some(t) = todo.pop() {
            let Some(e) = self.entries.get(&t) else {
                continue;
            };
            if out.insert(t) {
                todo.extend(e.parents.iter().chain(&e.children).copied());
            }
        }
        out
    }

    pub(crate) fn node(&self, e: &Entry) -> Node {
        Node {
            fee_size: FeeFrac::new(
                e.modified_fee(),
                e.adjusted_weight(self.opts.bytes_per_sigop),
            ),
            parents: e.parents.iter().copied().collect(),
        }
    }

    /// Chunks of the cluster holding `txid`, in mining order.
    #[must_use]
    pub fn cluster_chunks(&self, txid: &Hash256) -> Vec<Chunk> {
        let graph: BTreeMap<Hash256, Node> = self
            .cluster(txid)
            .iter()
            .filter_map(|t| self.entries.get(t).map(|e| (*t, self.node(e))))
            .collect();
        chunks(&graph)
    }

    /// The figures `getmempoolentry` reports.
    #[must_use]
    pub fn entry_info(&self, txid: &Hash256) -> Option<EntryInfo> {
        let e = self.entries.get(txid)?;
        let anc = self.ancestors(txid);
        let desc = self.descendants(txid);
        let sum = |s: &BTreeSet<Hash256>| {
            s.iter()
                .filter_map(|t| self.entries.get(t))
                .fold((0i64, 0i64), |(v, f), x| {
                    (v + x.vsize, f + x.modified_fee())
                })
        };
        let (anc_size, anc_fee) = sum(&anc);
        let (desc_size, desc_fee) = sum(&desc);
        let chunk = self
            .cluster_chunks(txid)
            .into_iter()
            .find(|c| c.txids.contains(txid));
        let (chunk_fee, chunk_weight) = chunk.map_or((0, 0), |c| (c.feerate.fee, c.feerate.size));
        let bip125 = e.signals_rbf
            || anc
                .iter()
                .filter_map(|t| self.entries.get(t))
                .any(|a| a.signals_rbf);
        Some(EntryInfo {
            txid: e.txid,
            wtxid: e.wtxid,
            vsize: e.vsize,
            weight: e.weight,
            time: e.time,
            height: e.height,
            descendant_count: desc.len() + 1,
            descendant_size: desc_size + e.vsize,
            ancestor_count: anc.len() + 1,
            ancestor_size: anc_size + e.vsize,
            fee_base: e.fee,
            fee_modified: e.modified_fee(),
            fee_ancestor: anc_fee + e.modified_fee(),
            fee_descendant: desc_fee + e.modified_fee(),
            chunk_fee,
            chunk_weight,
            depends: e.parents.iter().copied().collect(),
            spent_by: e.children.iter().copied().collect(),
            bip125_replaceable: bip125,
        })
    }

    /// The figures `getmempoolinfo` reports at time `now`.
    #[must_use]
    pub fn info(&mut self, now: i64) -> PoolInfo {
        let min = self.min_fee(now).max(self.opts.min_relay_feerate);
        PoolInfo {
            size: self.entries.len(),
            bytes: self.total_vsize,
            usage: self.total_usage,
            total_fee: self.total_fee,
            max_mempool: self.opts.max_size_bytes,
            mempool_min_fee: min.sat_per_kvb(),
            min_relay_tx_fee: self.opts.min_relay_feerate.sat_per_kvb(),
            incremental_relay_fee: self.opts.incremental_relay_feerate.sat_per_kvb(),
            permit_bare_multisig: self.opts.permit_bare_multisig,
            max_datacarrier_size: self.opts.max_datacarrier_bytes.unwrap_or(0),
            limit_cluster_count: self.opts.cluster_count,
            limit_cluster_size: self.opts.cluster_size_vbytes,
            full_rbf: true,
        }
    }

    /// Core's `GetMinFee`: the rolling minimum after trims, decaying with a 12-hour half-life
    /// (faster while the pool is small) once a block has arrived since the last bump.
    pub fn min_fee(&mut self, now: i64) -> FeeRate {
        if !self.block_since_bump || self.rolling_min_fee == 0.0 {
            return FeeRate::per_kvb(self.rolling_min_fee.round() as i64);
        }
        if now > self.last_rolling_update + 10 {
            let mut halflife = ROLLING_FEE_HALFLIFE as f64;
            if self.total_usage < self.opts.max_size_bytes / 4 {
                halflife /= 4.0;
            } else if self.total_usage < self.opts.max_size_bytes / 2 {
                halflife /= 2.0;
            }
            self.rolling_min_fee /= 2f64.powf((now - self.last_rolling_update) as f64 / halflife);
            self.last_rolling_update = now;
            if self.rolling_min_fee < self.opts.incremental_relay_feerate.sat_per_kvb() as f64 / 2.0
            {
                self.rolling_min_fee = 0.0;
                return FeeRate::default();
            }
        }
        FeeRate::per_kvb(self.rolling_min_fee.round() as i64)
            .max(self.opts.incremental_relay_feerate)
    }

    fn track_removed(&mut self, rate: FeeRate, now: i64) {
        let r = rate.sat_per_kvb() as f64;
        if r > self.rolling_min_fee {
            self.rolling_min_fee = r;
            self.block_since_bump = false;
            self.last_rolling_update = self.last_rolling_update.max(now);
        }
    }

    pub(crate) fn insert(&mut self, mut e: Entry) {
        for p in &e.prevouts {
            if self.entries.contains_key(&p.txid) {
                e.parents.insert(p.txid);
            }
            self.spenders.insert(*p, e.txid);
        }
        for p in e.parents.clone() {
            if let Some(pe) = self.entries.get_mut(&p) {
                pe.children.insert(e.txid);
            }
        }
        // Re-added transactions (reorg) may already have children in the pool.
        for vout in 0..e.outputs.len() as u32 {
            let op = OutPoint { txid: e.txid, vout };
            if let Some(child) = self.spenders.get(&op).copied() {
                e.children.insert(child);
                if let Some(ce) = self.entries.get_mut(&child) {
                    ce.parents.insert(e.txid);
                }
            }
        }
        self.total_vsize += e.vsize;
        self.total_usage += e.usage();
        self.total_fee += e.fee;
        self.by_wtxid.insert(e.wtxid, e.txid);
        self.entries.insert(e.txid, e);
    }

    /// Removes exactly `txid` (no descendants), unlinking it.
    pub(crate) fn remove_one(
        &mut self,
        txid: &Hash256,
        reason: RemovalReason,
        out: &mut Vec<Removed>,
    ) {
        let Some(e) = self.entries.remove(txid) else {
            return;
        };
        for p in &e.prevouts {
            if self.spenders.get(p) == Some(txid) {
                self.spenders.remove(p);
            }
        }
        for p in &e.parents {
            if let Some(pe) = self.entries.get_mut(p) {
                pe.children.remove(txid);
            }
        }
        for c in &e.children {
            if let Some(ce) = self.entries.get_mut(c) {
                ce.parents.remove(txid);
            }
        }
        self.by_wtxid.remove(&e.wtxid);
        self.total_vsize -= e.vsize;
        self.total_usage -= e.usage();
        self.total_fee -= e.fee;
        out.push(Removed {
            txid: e.txid,
            wtxid: e.wtxid,
            reason,
        });
    }

    /// Removes `txid` and all its descendants.
    pub(crate) fn remove_recursive(
        &mut self,
        txid: &Hash256,
        reason: RemovalReason,
        out: &mut Vec<Removed>,
    ) {
        if !self.entries.contains_key(txid) {
            return;
        }
        let mut set = self.descendants(txid);
        set.insert(*txid);
        for t in set {
            self.remove_one(&t, reason, out);
        }
    }

    /// A block was connected: its transactions leave the pool, in-pool spends of the same
    /// coins (conflicts) leave with their descendants, and the rolling minimum fee may decay.
    /// `block_txs` lists each block transaction's txid and spent outpoints.
    pub fn remove_for_block(&mut self, block_txs: &[(Hash256, Vec<OutPoint>)]) -> Vec<Removed> {
        let mut out = Vec::new();
        for (txid, prevouts) in block_txs {
            self.remove_one(txid, RemovalReason::Block, &mut out);
            for p in prevouts {
                if let Some(conflict) = self.spenders.get(p).copied() {
                    if conflict != *txid {
                        self.remove_recursive(&conflict, RemovalReason::Conflict, &mut out);
                    }
                }
            }
            self.deltas.remove(txid);
        }
        self.block_since_bump = true;
        out
    }

    /// Core's `Expire`: entries that entered before `now - expiry` leave with descendants.
    pub fn expire(&mut self, now: i64) -> Vec<Removed> {
        let cutoff = now - self.opts.expiry_secs;
        let old: Vec<Hash256> = self
            .entries
            .values()
            .filter(|e| e.time < cutoff)
            .map(|e| e.txid)
            .collect();
        let mut out = Vec::new();
        for t in old {
            self.remove_recursive(&t, RemovalReason::Expiry, &mut out);
        }
        out
    }

    /// Core's `TrimToSize`: while over the memory budget, evict the chunk with the lowest
    /// feerate and raise the rolling minimum fee to its rate plus the incremental relay fee.
    pub fn trim_to_size(&mut self, now: i64) -> Vec<Removed> {
        let mut out = Vec::new();
        while !self.entries.is_empty() && self.total_usage > self.opts.max_size_bytes {
            let Some(worst) = self.worst_chunk() else {
                break;
            };
            // Chunk feerates are per weight; Core turns them into per-vbyte rounding the size up.
            let vsize = (worst.feerate.size + 3) / 4;
            let removed = FeeRate::from_fee(worst.feerate.fee, vsize);
            let bumped = FeeRate::per_kvb(
                removed.sat_per_kvb() + self.opts.incremental_relay_feerate.sat_per_kvb(),
            );
            self.track_removed(bumped, now);
            for t in &worst.txids {
                self.remove_one(t, RemovalReason::SizeLimit, &mut out);
            }
        }
        out
    }

    fn worst_chunk(&self) -> Option<Chunk> {
        let mut seen = BTreeSet::new();
        let mut worst: Option<Chunk> = None;
        for t in self.entries.keys() {
            if seen.contains(t) {
                continue;
            }
            let cl = self.cluster(t);
            seen.extend(cl.iter().copied());
            if let Some(last) = self.cluster_chunks(t).pop() {
                if worst.as_ref().is_none_or(|w| last.feerate < w.feerate) {
                    worst = Some(last);
                }
            }
        }
        worst
    }
}
