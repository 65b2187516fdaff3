//! The importer's coordinator: reads files, feeds headers to the block tree, dispatches blocks
//! into the pipeline in chain order, and applies the pipeline's feedback (commit, reject,
//! discard) and the tree's reorganisations. Single-threaded; the stages do the heavy work.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use indicatif::{ProgressBar, ProgressStyle};
use sluice_consensus::block::Block;
use sluice_consensus::chain::{AncestorInfo, Params};
use sluice_consensus::hash::{to_display_hex, Hash256};
use sluice_consensus::header::Header;
use sluice_storage::{ChainStore, StoreConfig};

use super::reader::{expand, read_at, scan_file, Record};
use super::{ImportConfig, ImportError, ImportReport, Rejection};
use crate::bitcoin::{BitcoinStages, BlockJob, BlockReject, ChainSnapshot};
use crate::engine::{Feedback, Outcome, Pipeline, Schedule};
use crate::tree::{Action, BlockId, BlockTree, InsertError};

/// Where a block's bytes live, to re-read it if a reorganisation needs it again.
#[derive(Debug, Clone, Copy)]
struct BlockLoc {
    file: usize,
    offset: u64,
    len: usize,
}

struct Driver {
    params: Params,
    files: Vec<PathBuf>,
    tree: BlockTree<BlockLoc>,
    sched: Schedule<BlockId>,
    stages: Arc<BitcoinStages>,
    pipeline: Option<Pipeline<BitcoinStages>>,
    snapshot: ChainSnapshot,
    /// Bytes of inserted blocks not yet dispatched.
    pending: HashMap<BlockId, Arc<[u8]>>,
    /// Blocks waiting for their parent, by parent hash.
    orphans: HashMap<Hash256, Vec<Record>>,
    /// A second copy of a block still being validated: kept in case the first copy turns out
    /// to be mutated in transit, so that this one can take its place.
    spares: HashMap<Hash256, Record>,
    /// A reopened datadir's tip: nothing is dispatched until it is in the tree.
    waiting_for: Option<Hash256>,
    report: ImportReport,
    bar: ProgressBar,
    adjusted_time: i64,
}

fn info(h: &Header) -> AncestorInfo {
    AncestorInfo {
        hash: h.block_hash(),
        time: h.time,
        bits: h.bits,
    }
}

/// Imports the blocks in `paths` (files, or directories of `blk?????.dat`) into
/// `cfg.datadir`, resuming from whatever the datadir already holds.
///
/// # Errors
/// Storage or I/O failures, or a datadir whose tip is not among the imported blocks. Invalid
/// blocks are not errors: they are listed in [`ImportReport::rejected`].
pub fn import(cfg: &ImportConfig, paths: &[PathBuf]) -> Result<ImportReport, ImportError> {
    let started = Instant::now();
    let params = Params::new(cfg.network);
    let store_cfg = StoreConfig {
        mem_budget_bytes: cfg.cache_bytes,
        track_muhash: cfg.muhash,
        ..StoreConfig::default()
    };
    init_datadir(&cfg.datadir, &store_cfg, &params)?;
    let store = ChainStore::open(&cfg.datadir, &store_cfg)?;
    let (resumed_from, stored_tip) = store.tip().unwrap_or((0, params.genesis_hash));
    tracing::info!(
        "datadir at height {resumed_from} ({}), checkpointed {:?}",
        to_display_hex(&stored_tip),
        store.checkpointed_tip().map(|t| t.0)
    );
    let snapshot = ChainSnapshot::default();
    snapshot.set(0, info(&params.genesis_header()));
    let stages = Arc::new(BitcoinStages::new(
        params.clone(),
        store,
        snapshot.clone(),
        cfg.key_cache_entries,
    ));
    let files = expand(paths)?;
    let bar = if cfg.progress {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] height {pos} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let mut d = Driver {
        tree: BlockTree::new(&params),
        params,
        files,
        sched: Schedule::default(),
        pipeline: Some(Pipeline::start(&stages, &cfg.shell)),
        stages,
        snapshot,
        pending: HashMap::new(),
        orphans: HashMap::new(),
        spares: HashMap::new(),
        waiting_for: (resumed_from > 0).then_some(stored_tip),
        report: ImportReport {
            resumed_from,
            ..ImportReport::default()
        },
        bar,
        adjusted_time: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
    };
    d.report.files = d.files.len();
    let result = d.run();
    let finished = d.finish();
    let mut report = match (result, finished) {
        (Err(e), _) | (Ok(()), Err(e)) => return Err(e),
        (Ok(()), Ok(r)) => r,
    };
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Creates a datadir holding just the (empty) genesis block, atomically: it is built under a
/// temporary name and renamed into place, so a kill during creation leaves either nothing or a
/// complete store, never a half-initialised database.
fn init_datadir(datadir: &Path, cfg: &StoreConfig, params: &Params) -> Result<(), ImportError> {
    let occupied = std::fs::read_dir(datadir).is_ok_and(|mut d| d.next().is_some());
    if occupied {
        return Ok(());
    }
    let mut tmp_name = datadir.as_os_str().to_owned();
    tmp_name.push(".init");
    let tmp = PathBuf::from(tmp_name);
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    std::fs::create_dir_all(&tmp)?;
    {
        let mut store = ChainStore::open(&tmp, cfg)?;
        // The genesis block's outputs are not spendable: it is connected empty, as in Core.
        store.connect_block(0, params.genesis_hash, &[], &[])?;
        store.checkpoint()?;
    }
    if datadir.exists() {
        std::fs::remove_dir(datadir)?;
    }
    std::fs::rename(&tmp, datadir)?;
    if let Some(parent) = datadir.parent() {
        // Make the rename durable before anything is written into the new datadir.
        if let Ok(d) = std::fs::File::open(parent) {
            d.sync_all()?;
        }
    }
    Ok(())
}

impl Driver {
    fn run(&mut self) -> Result<(), ImportError> {
        let magic = self.params.magic;
        for file_no in 0..self.files.len() {
            let scan = scan_file(&self.files[file_no], file_no, magic)?;
            self.report.skipped_garbage_bytes += scan.skipped_bytes;
            if let Some(w) = scan.truncated {
                tracing::warn!("{w}");
                self.report.file_warnings.push(w);
            }
            for rec in scan.records {
                self.report.blocks_read += 1;
                self.accept(rec);
                self.drive()?;
            }
        }
        // Let everything in flight resolve, dispatching the rest of the best chain.
        loop {
            self.drive()?;
            if self.sched.in_flight() == 0 {
                break;
            }
            self.wait_feedback()?;
        }
        Ok(())
    }

    /// Puts one block into the tree (or the orphan pool), then its waiting children.
    fn accept(&mut self, first: Record) {
        let mut queue = vec![first];
        while let Some(rec) = queue.pop() {
            let Ok(header) = Header::decode(&rec.bytes) else {
                self.report.undecodable += 1;
                continue;
            };
            // Core's -loadblock skips records that do not deserialize as a block.
            if Block::parse(&rec.bytes).is_err() {
                self.report.undecodable += 1;
                tracing::warn!("skipping undecodable block record in file {}", rec.file);
                continue;
            }
            let hash = header.block_hash();
            let loc = BlockLoc {
                file: rec.file,
                offset: rec.offset,
                len: rec.bytes.len(),
            };
            match self
                .tree
                .insert(&header, loc, &self.params, self.adjusted_time)
            {
                Ok(id) => {
                    // While looking for a resumed datadir's tip, blocks are most likely already
                    // committed: keep only their location (re-read if needed), not their bytes.
                    if self.waiting_for.is_none() {
                        self.pending.insert(id, rec.bytes.into());
                    }
                    if self.waiting_for == Some(hash) {
                        self.adopt(id);
                    }
                    if let Some(children) = self.orphans.remove(&hash) {
                        queue.extend(children);
                    }
                }
                Err(InsertError::Duplicate) => {
                    self.report.duplicates += 1;
                    if self
                        .tree
                        .get(&hash)
                        .is_some_and(|id| !self.tree.is_committed(id))
                    {
                        self.spares.entry(hash).or_insert(rec);
                    }
                }
                Err(InsertError::UnknownParent) => {
                    self.orphans
                        .entry(header.prev_blockhash)
                        .or_default()
                        .push(rec);
                }
                Err(e) => {
                    let reason = e.to_string();
                    tracing::warn!("block {} rejected: {reason}", to_display_hex(&hash));
                    self.report.rejected.push(Rejection {
                        hash: to_display_hex(&hash),
                        height: None,
                        reason,
                    });
                    // Its waiting children are refused as bad-prevblk when they are retried.
                    if let Some(children) = self.orphans.remove(&hash) {
                        queue.extend(children);
                    }
                }
            }
        }
    }

    /// The reopened datadir's tip is in the tree: its chain is already committed.
    fn adopt(&mut self, id: BlockId) {
        if self.tree.adopt_committed(id) {
            tracing::info!("resuming after height {}", self.tree.height(id));
            for &b in self.tree.committed_chain() {
                if let Some(h) = self.tree.header(b) {
                    self.snapshot.set(self.tree.height(b), info(h));
                }
                self.pending.remove(&b);
            }
            self.waiting_for = None;
            self.bar.set_position(u64::from(self.tree.height(id)));
        }
    }

    fn block_bytes(&mut self, id: BlockId) -> Result<Arc<[u8]>, ImportError> {
        if let Some(b) = self.pending.remove(&id) {
            return Ok(b);
        }
        let loc = *self
            .tree
            .data(id)
            .ok_or_else(|| ImportError::Pipeline("block data missing".into()))?;
        let path = self
            .files
            .get(loc.file)
            .ok_or_else(|| ImportError::Pipeline("block file index out of range".into()))?;
        Ok(read_at(path, loc.offset, loc.len)?.into())
    }

    /// Does whatever the tree wants until it has nothing more to do right now.
    fn drive(&mut self) -> Result<(), ImportError> {
        loop {
            self.drain_feedback()?;
            if self.waiting_for.is_some() {
                return Ok(());
            }
            match self.tree.next_action(self.sched.in_flight()) {
                Action::Idle => return Ok(()),
                Action::Drain => self.wait_feedback()?,
                Action::Dispatch(id) => self.dispatch(id)?,
                Action::Reorg { disconnect } => self.reorg(&disconnect)?,
            }
        }
    }

    fn dispatch(&mut self, id: BlockId) -> Result<(), ImportError> {
        let bytes = self.block_bytes(id)?;
        let height = self.tree.height(id);
        if let Some(h) = self.tree.header(id) {
            self.snapshot.set(height, info(h));
        }
        self.tree.mark_dispatched(id);
        let ticket = self.sched.dispatch(id);
        let job = BlockJob {
            bytes,
            hash: self.tree.hash(id),
            height,
        };
        let ok = self
            .pipeline
            .as_ref()
            .is_some_and(|p| p.submit(ticket, job));
        if ok {
            Ok(())
        } else {
            Err(ImportError::Pipeline("pipeline input closed".into()))
        }
    }

    fn reorg(&mut self, disconnect: &[BlockId]) -> Result<(), ImportError> {
        self.report.reorgs += 1;
        for &id in disconnect {
            let hash = self.tree.hash(id);
            tracing::info!(
                "reorg: disconnecting {} at height {}",
                to_display_hex(&hash),
                self.tree.height(id)
            );
            self.stages
                .store
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .disconnect_block(&hash)?;
            self.tree.mark_disconnected();
            self.report.blocks_disconnected += 1;
        }
        self.snapshot.truncate(self.tree.committed_chain().len());
        Ok(())
    }

    fn drain_feedback(&mut self) -> Result<(), ImportError> {
        loop {
            let Some(Ok(msg)) = self.pipeline.as_ref().map(|p| p.feedback().try_recv()) else {
                return Ok(());
            };
            self.on_feedback(msg)?;
        }
    }

    fn wait_feedback(&mut self) -> Result<(), ImportError> {
        let msg = self
            .pipeline
            .as_ref()
            .map(|p| p.feedback().recv())
            .ok_or_else(|| ImportError::Pipeline("pipeline gone".into()))?
            .map_err(|_| ImportError::Pipeline("a stage stopped unexpectedly".into()))?;
        self.on_feedback(msg)
    }

    fn on_feedback(
        &mut self,
        msg: Feedback<crate::bitcoin::Committed, BlockReject>,
    ) -> Result<(), ImportError> {
        match msg {
            Feedback::Committed { seq, info } => {
                if let Some(id) = self.sched.resolve(seq, Outcome::Committed) {
                    self.tree.mark_committed(id);
                    self.spares.remove(&self.tree.hash(id));
                }
                let r = &mut self.report;
                r.blocks_connected += 1;
                r.txs += info.txs as u64;
                r.inputs += info.inputs as u64;
                r.schnorr_sigs += info.schnorr_sigs as u64;
                r.bytes += info.bytes as u64;
                self.bar.set_position(u64::from(info.height));
            }
            Feedback::Rejected {
                seq,
                new_epoch,
                error,
            } => {
                let id = self.sched.resolve(seq, Outcome::Rejected { new_epoch });
                if let BlockReject::Storage(e) = error {
                    return Err(ImportError::Pipeline(format!("storage failed: {e}")));
                }
                if let Some(id) = id {
                    let hash = to_display_hex(&self.tree.hash(id));
                    let height = self.tree.height(id);
                    tracing::warn!("block {hash} at height {height} rejected: {error}");
                    self.report.rejected.push(Rejection {
                        hash,
                        height: Some(height),
                        reason: error.to_string(),
                    });
                    if matches!(error, BlockReject::Consensus { mutation: true, .. }) {
                        self.pending.remove(&id);
                        self.tree.forget_data(id);
                        // A copy read while this one was in flight takes its place.
                        if let Some(spare) = self.spares.remove(&self.tree.hash(id)) {
                            self.report.duplicates = self.report.duplicates.saturating_sub(1);
                            self.accept(spare);
                        }
                    } else {
                        self.tree.mark_invalid(id, error.to_string());
                    }
                    self.snapshot.truncate(self.tree.committed_chain().len());
                }
            }
            Feedback::Discarded { seq } => {
                self.sched.resolve(seq, Outcome::Discarded);
            }
            Feedback::Checkpointed { .. } => self.report.checkpoints += 1,
            Feedback::CheckpointFailed(e) => {
                return Err(ImportError::Pipeline(format!("checkpoint failed: {e}")));
            }
        }
        Ok(())
    }

    /// Stops the pipeline, checkpoints, and fills in the report.
    fn finish(&mut self) -> Result<ImportReport, ImportError> {
        if let Some(p) = self.pipeline.take() {
            let (rest, stats) = p.finish();
            for msg in rest {
                self.on_feedback(msg)?;
            }
            self.report.stats = stats;
        }
        self.bar.finish_and_clear();
        let mut store = self
            .stages
            .store
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        store.checkpoint()?;
        if let Some(t) = self.waiting_for {
            return Err(ImportError::TipNotFound(to_display_hex(&t)));
        }
        let mut r = std::mem::take(&mut self.report);
        r.orphans_left = self.orphans.values().map(|v| v.len() as u64).sum();
        if let Some((h, hash)) = store.tip() {
            r.tip_height = h;
            r.tip_hash = hash;
        }
        r.utxo_count = store.coin_count();
        r.muhash = store.muhash().map(|m| to_display_hex(&m));
        Ok(r)
    }
}
