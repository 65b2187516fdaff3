//! The node's mempool: [`sluice_mempool::Mempool`] behind a lock, fed the committed chain (the
//! UTXO store and the scheduled chain's headers) and kept in step with it as blocks connect
//! and disconnect. RPC worker threads and the event loop share it.
//!
//! Lock order: the UTXO store's read lock, then the pool's mutex (never the reverse), so the
//! chain thread's apply stage (store write lock) cannot deadlock with an acceptance.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use sluice_consensus::block::Block;
use sluice_consensus::chain::{script_flags, AncestorView};
use sluice_consensus::coin::{Coin, OutPoint};
use sluice_consensus::hash::Hash256;
use sluice_consensus::tx::Transaction;
use sluice_mempool::{
    AcceptArgs, Accepted, ChainTip, CoinSource, Mempool, MempoolOptions, OrphanLimits, Orphanage,
    PackageResult, Reject,
};
use sluice_pipeline::bitcoin::BitcoinStages;
use sluice_storage::blockstore::BlockStore;
use sluice_storage::ChainStore;

use crate::metrics::NodeMetrics;
use crate::rpc::MempoolView;

/// Why an acceptance has no verdict: the node could not read its own chain (a fault, never a
/// reason to call the transaction invalid).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MempoolFault(pub String);

/// What offering a transaction gave.
#[derive(Debug)]
pub enum Offer {
    Accepted(Accepted),
    Rejected(Reject),
}

/// The node-owned mempool.
pub struct NodeMempool {
    pool: Mutex<Pool>,
    stages: Arc<BitcoinStages>,
    blocks: Arc<Mutex<BlockStore>>,
    metrics: Arc<NodeMetrics>,
}

/// The pool and what the node tracks beside it.
#[derive(Debug)]
pub struct Pool {
    pub pool: Mempool,
    /// Locally submitted transactions no peer has asked for yet (Core's unbroadcast set).
    pub unbroadcast: HashSet<Hash256>,
    /// Core's mempool sequence: counts every entry and removal (`getrawmempool`'s
    /// `mempool_sequence`).
    pub sequence: u64,
    /// Transactions of disconnected blocks waiting to return (oldest block first): they go
    /// back once the store and the scheduled chain agree on the tip again.
    pending_readd: Vec<Vec<u8>>,
    /// Peers' transactions whose parents are missing, until the parents arrive (Core's
    /// `TxOrphanage`, with its limits).
    pub orphans: Orphanage,
    /// When expiry last ran (it scans every entry, so the loop's tick runs it once a minute).
    last_upkeep: i64,
}

/// Seconds between expiry scans.
const UPKEEP_EVERY: i64 = 60;

impl std::fmt::Debug for NodeMempool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeMempool").finish_non_exhaustive()
    }
}

/// Seconds since the epoch (the pool's clock).
#[must_use]
pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The committed chain as the pool sees it. Store read faults are remembered and turned into
/// a [`MempoolFault`] after the call, so they never become a "missing inputs" verdict.
struct TipView<'a> {
    store: &'a ChainStore,
    fault: RefCell<Option<String>>,
}

impl CoinSource for TipView<'_> {
    fn coin(&self, outpoint: &OutPoint) -> Option<Coin> {
        match self.store.peek_coin(outpoint) {
            Ok(c) => c,
            Err(e) => {
                self.fault
                    .replace(Some(format!("reading the UTXO set: {e}")));
                None
            }
        }
    }
}

impl TipView<'_> {
    fn check(&self) -> Result<(), MempoolFault> {
        match self.fault.take() {
            Some(e) => Err(MempoolFault(e)),
            None => Ok(()),
        }
    }
}

impl NodeMempool {
    #[must_use]
    pub fn new(
        opts: MempoolOptions,
        stages: Arc<BitcoinStages>,
        blocks: Arc<Mutex<BlockStore>>,
        metrics: Arc<NodeMetrics>,
    ) -> Self {
        Self {
            pool: Mutex::new(Pool {
                pool: Mempool::new(opts, rand::random()),
                unbroadcast: HashSet::new(),
                last_upkeep: 0,
                pending_readd: Vec::new(),
                sequence: 1,
                orphans: Orphanage::new(OrphanLimits::default()),
            }),
            stages,
            blocks,
            metrics,
        }
    }

    /// The pool, locked (for RPC queries; keep it short).
    pub fn lock(&self) -> MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` with the committed tip as a [`ChainTip`] and the pool locked.
    fn with_tip<R>(
        &self,
        f: impl FnOnce(&mut Pool, &ChainTip<'_>) -> R,
    ) -> Result<R, MempoolFault> {
        let store = self
            .stages
            .store
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let params = &self.stages.params;
        let (height, hash) = store.tip().unwrap_or((0, params.genesis_hash));
        let headers = self.stages.chain.view(height);
        // The scheduled chain runs ahead of the store; below the store's tip it is the store's
        // chain except while a reorganisation is being applied.
        if headers.ancestor(height).map(|a| a.hash) != Some(hash) {
            return Err(MempoolFault(
                "the chain is being reorganised; try again".into(),
            ));
        }
        let view = TipView {
            store: &store,
            fault: RefCell::new(None),
        };
        let tip = ChainTip {
            view: &headers,
            coins: &view,
            // Core's consensus re-check uses the tip block's flags (`GetBlockScriptFlags(tip)`).
            script_flags: script_flags(height, &hash, params),
        };
        let r = {
            let mut pool = self.lock();
            let r = f(&mut pool, &tip);
            self.publish(&mut pool);
            r
        };
        view.check()?;
        Ok(r)
    }

    /// Core's `AcceptToMemoryPool` for one transaction (`test`: `testmempoolaccept`, nothing
    /// changes). Expires and trims after a submission, as Core's `LimitMempoolSize`.
    ///
    /// # Errors
    /// The chain could not be read.
    pub fn offer(&self, raw: &[u8], test: bool) -> Result<Offer, MempoolFault> {
        let now = now_secs();
        self.with_tip(|p, tip| {
            let args = if test {
                AcceptArgs::test(now)
            } else {
                AcceptArgs::submit(now)
            };
            match p.pool.accept(raw, tip, args) {
                Ok(a) => {
                    if !test {
                        p.sequence += 1;
                        let gone = p.pool.expire(now);
                        forget(p, &gone);
                        forget(p, &a.removed);
                    }
                    Offer::Accepted(a)
                }
                Err(r) => Offer::Rejected(r),
            }
        })
    }

    /// Package `testmempoolaccept` (several transactions, parents first): nothing changes.
    ///
    /// # Errors
    /// The chain could not be read.
    pub fn test_package(&self, raws: &[Vec<u8>]) -> Result<PackageResult, MempoolFault> {
        let now = now_secs();
        self.with_tip(|p, tip| p.pool.test_package(raws, tip, now))
    }

    /// Whether an output of `txid` is unspent in the UTXO set (`sendrawtransaction`'s
    /// "already in utxo set" check looks at every output).
    ///
    /// # Errors
    /// The store could not be read.
    pub fn has_unspent_output(&self, txid: &Hash256, outputs: u32) -> Result<bool, MempoolFault> {
        let store = self
            .stages
            .store
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        for vout in 0..outputs {
            let found = store
                .peek_coin(&OutPoint { txid: *txid, vout })
                .map_err(|e| MempoolFault(format!("reading the UTXO set: {e}")))?;
            if found.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn block(&self, hash: &Hash256) -> Result<Vec<u8>, MempoolFault> {
        let store = self.blocks.lock().unwrap_or_else(PoisonError::into_inner);
        let pos = store
            .get(hash)
            .ok_or_else(|| MempoolFault("a connected block is not in the block files".into()))?;
        store
            .read(&pos)
            .map_err(|e| MempoolFault(format!("reading a connected block: {e}")))
    }

    /// Block `hash` joined the active chain: its transactions and their conflicts leave.
    /// With an empty pool the block is not read (initial sync connects many blocks).
    ///
    /// # Errors
    /// The block could not be read or parsed.
    pub fn block_connected(&self, hash: &Hash256) -> Result<(), MempoolFault> {
        {
            let mut p = self.lock();
            if p.pool.is_empty() && p.orphans.is_empty() {
                p.pool.remove_for_block(&[]);
                return Ok(());
            }
        }
        let bytes = self.block(hash)?;
        let block = Block::parse(&bytes)
            .map_err(|e| MempoolFault(format!("parsing a stored block: {e}")))?;
        let txs: Vec<(Hash256, Vec<OutPoint>)> = block
            .transactions
            .iter()
            .map(|t| {
                let spent = if t.is_coinbase() {
                    Vec::new()
                } else {
                    t.inputs
                        .iter()
                        .map(|i| OutPoint {
                            txid: *i.prev_txid,
                            vout: i.prev_vout,
                        })
                        .collect()
                };
                (t.txid(), spent)
            })
            .collect();
        {
            let mut p = self.lock();
            let gone = p.pool.remove_for_block(&txs);
            forget(&mut p, &gone);
            // Orphans spending what the block spent conflict with it (or are in it).
            let spent: Vec<OutPoint> = txs.iter().flat_map(|(_, s)| s.iter().copied()).collect();
            p.orphans.erase_for_block(&spent);
            self.publish(&mut p);
        }
        self.flush_readd();
        Ok(())
    }

    /// Block `hash` left the active chain: its transactions return to the pool (checked
    /// against the tip once the reorganisation settles) and entries the new tip forbids leave.
    /// Disconnections arrive tip first, so each block's transactions go before those queued.
    ///
    /// # Errors
    /// The block could not be read or parsed.
    pub fn block_disconnected(&self, hash: &Hash256) -> Result<(), MempoolFault> {
        let bytes = self.block(hash)?;
        let block = Block::parse(&bytes)
            .map_err(|e| MempoolFault(format!("parsing a stored block: {e}")))?;
        let mut raws: Vec<Vec<u8>> = block
            .transactions
            .iter()
            .filter(|t| !t.is_coinbase())
            .map(|t| t.raw().to_vec())
            .collect();
        {
            let mut p = self.lock();
            raws.append(&mut p.pending_readd);
            p.pending_readd = raws;
        }
        self.flush_readd();
        Ok(())
    }

    /// Re-adds the queued transactions of disconnected blocks, unless the chain is mid-change
    /// (then the next tick or block tries again).
    fn flush_readd(&self) {
        if self.lock().pending_readd.is_empty() {
            return;
        }
        let now = now_secs();
        let r = self.with_tip(|p, tip| {
            let raws = std::mem::take(&mut p.pending_readd);
            let gone = p.pool.readd_disconnected(&raws, tip, now);
            forget(p, &gone);
        });
        if let Err(e) = r {
            tracing::debug!("re-adding disconnected transactions later: {e}");
        }
    }

    /// Periodic upkeep: expiry and trimming (Core does both after each acceptance and block).
    pub fn tick(&self) {
        self.flush_readd();
        let now = now_secs();
        let mut p = self.lock();
        if now - p.last_upkeep < UPKEEP_EVERY {
            return;
        }
        p.last_upkeep = now;
        let mut gone = p.pool.expire(now);
        gone.extend(p.pool.trim_to_size(now));
        forget(&mut p, &gone);
        self.publish(&mut p);
    }

    /// The feefilter value to send peers: the pool's minimum fee, in sat/kvB.
    #[must_use]
    pub fn min_fee(&self) -> i64 {
        let mut p = self.lock();
        let floor = p.pool.options().min_relay_feerate;
        p.pool.min_fee(now_secs()).max(floor).sat_per_kvb()
    }

    /// A peer's transaction missed inputs: kept as an orphan announced by `peer`. Returns
    /// the parents (txids) the pool lacks, to request from that peer.
    pub fn add_orphan(&self, raw: &[u8], tx: &Transaction<'_>, peer: u64) -> Vec<Hash256> {
        let mut p = self.lock();
        p.orphans.add(raw, peer);
        let mut parents: Vec<Hash256> = tx.inputs.iter().map(|i| *i.prev_txid).collect();
        parents.sort_unstable();
        parents.dedup();
        parents.retain(|t| !p.pool.contains_txid(t));
        self.publish(&mut p);
        parents
    }

    /// Whether `wtxid` is held as an orphan.
    #[must_use]
    pub fn have_orphan(&self, wtxid: &Hash256) -> bool {
        self.lock().orphans.have(wtxid)
    }

    /// A transaction with `outputs` outputs entered the pool: orphans spending it become
    /// due for another try. False when no orphan is held.
    pub fn orphan_parent_arrived(&self, txid: &Hash256, outputs: u32) -> bool {
        let mut p = self.lock();
        p.orphans.parent_arrived(txid, outputs);
        !p.orphans.is_empty()
    }

    /// The next orphan from `peer` due for another try.
    pub fn take_orphan(&self, peer: u64) -> Option<Vec<u8>> {
        self.lock().orphans.take_reconsiderable(peer)
    }

    /// An orphan was accepted or refused for good.
    pub fn erase_orphan(&self, wtxid: &Hash256) {
        let mut p = self.lock();
        p.orphans.erase(wtxid);
        self.publish(&mut p);
    }

    /// A peer left: its orphan announcements go.
    pub fn orphans_peer_gone(&self, peer: u64) {
        let mut p = self.lock();
        p.orphans.erase_for_peer(peer);
        self.publish(&mut p);
    }

    fn publish(&self, p: &mut Pool) {
        self.metrics.set_orphans(p.orphans.len() as u64);
        let info = p.pool.info(now_secs());
        self.metrics.set_mempool(
            u64::try_from(info.size).unwrap_or(u64::MAX),
            u64::try_from(info.bytes).unwrap_or(0),
        );
    }
}

/// Transactions that left the pool leave the unbroadcast set too.
fn forget(p: &mut Pool, gone: &[sluice_mempool::Removed]) {
    p.sequence += gone.len() as u64;
    for r in gone {
        p.unbroadcast.remove(&r.txid);
    }
}

impl MempoolView for NodeMempool {
    fn transaction(&self, txid: &Hash256) -> Option<Vec<u8>> {
        self.lock().pool.get(txid).map(|e| e.raw.clone())
    }

    fn spends(&self, outpoint: &OutPoint) -> bool {
        self.lock().pool.spender(outpoint).is_some()
    }
}
