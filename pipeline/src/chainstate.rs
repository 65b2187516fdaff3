//! The chainstate: the UTXO store, the running pipeline and the [`Coordinator`], with the thin
//! shell that carries out the coordinator's commands. Block sources — the file importer, the
//! network sync — offer blocks and call [`Chainstate::drive`]; where block bytes live is theirs
//! to say, through [`BlockReader`].

use std::path::Path;
use std::sync::{Arc, PoisonError, RwLockReadGuard};

use sluice_consensus::block::Block;
use sluice_consensus::chain::Params;
use sluice_consensus::hash::{to_display_hex, Hash256};
use sluice_consensus::header::Header;
use sluice_storage::{ChainStore, StoreConfig};

use crate::bitcoin::{BitcoinStages, BlockJob, ChainSnapshot};
use crate::coordinator::{Command, Coordinator, CoordinatorLimits, Resolved};
use crate::engine::{Pipeline, PipelineProbe, PipelineStats};
use crate::import::{ImportConfig, ImportError};

/// Reads a block's bytes back from where its source put them.
pub trait BlockReader<L> {
    /// The bytes stored at `loc`.
    ///
    /// # Errors
    /// The read failed: a fault, never a verdict on the block.
    fn read(&mut self, loc: &L) -> std::io::Result<Vec<u8>>;
}

/// Whether [`Chainstate::drive`] may block waiting for the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Wait for feedback whenever the coordinator says so (importing files: nothing else to do).
    Block,
    /// Return instead (a network sync has peers to serve meanwhile).
    Return,
}

/// The store, the pipeline and the coordinator of one datadir.
#[derive(Debug)]
pub struct Chainstate<L> {
    params: Params,
    coord: Coordinator<L>,
    stages: Arc<BitcoinStages>,
    pipeline: Option<Pipeline<BitcoinStages>>,
    resumed_from: u32,
}

impl<L: Clone> Chainstate<L> {
    /// Opens (or creates) the store in `cfg.datadir` and starts the pipeline.
    ///
    /// # Errors
    /// Storage and I/O failures; an ECDSA backend this CPU cannot run.
    pub fn open(cfg: &ImportConfig, limits: CoordinatorLimits) -> Result<Self, ImportError> {
        if let Some(b) = cfg.ecdsa.filter(|b| !b.is_available()) {
            return Err(ImportError::Pipeline(format!(
                "ECDSA backend {b:?} is not available on this CPU"
            )));
        }
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
        let coord = Coordinator::new(params.clone(), limits, snapshot.clone(), Some(stored_tip));
        let stages = Arc::new(
            BitcoinStages::new(params.clone(), store, snapshot, cfg.key_cache_entries)
                .with_ecdsa(cfg.ecdsa),
        );
        Ok(Self {
            pipeline: Some(Pipeline::start(&stages, &cfg.shell)),
            params,
            coord,
            stages,
            resumed_from,
        })
    }

    /// The chain parameters.
    #[must_use]
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The coordinator (block tree, orphans, what is in flight).
    #[must_use]
    pub fn coordinator(&self) -> &Coordinator<L> {
        &self.coord
    }

    /// Height of the store when it was opened.
    #[must_use]
    pub fn resumed_from(&self) -> u32 {
        self.resumed_from
    }

    /// The stages' shared state (the UTXO store behind its lock), for readers on other threads
    /// such as the RPC server.
    #[must_use]
    pub fn shared(&self) -> Arc<BitcoinStages> {
        self.stages.clone()
    }

    /// The UTXO store, for reading.
    pub fn store(&self) -> RwLockReadGuard<'_, ChainStore> {
        self.stages
            .store
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Figures of the running pipeline.
    #[must_use]
    pub fn stats(&self) -> PipelineStats {
        self.pipeline
            .as_ref()
            .map(Pipeline::stats)
            .unwrap_or_default()
    }

    /// Live counters of the running pipeline (for metrics); `None` once it has finished.
    #[must_use]
    pub fn probe(&self) -> Option<PipelineProbe> {
        self.pipeline.as_ref().map(Pipeline::probe)
    }

    /// The coordinator, to offer blocks ([`Coordinator::offer`]) and take refusals
    /// ([`Coordinator::take_refused`]); its commands are carried out by [`Chainstate::drive`].
    pub fn coordinator_mut(&mut self) -> &mut Coordinator<L> {
        &mut self.coord
    }

    /// Carries out the coordinator's commands until it has nothing to do (or, with
    /// [`Wait::Return`], until it would have to wait), passing every resolved block to
    /// `on_resolved`.
    ///
    /// # Errors
    /// Faults — storage, a block that cannot be read back as itself, a stopped stage — stop the
    /// chainstate; nothing is marked invalid for them.
    pub fn drive(
        &mut self,
        reader: &mut impl BlockReader<L>,
        wait: Wait,
        on_resolved: &mut impl FnMut(Resolved),
    ) -> Result<(), ImportError> {
        loop {
            self.poll_feedback(on_resolved)?;
            match self.coord.next_command() {
                None => return Ok(()),
                Some(Command::WaitFeedback) => {
                    if wait == Wait::Return {
                        return Ok(());
                    }
                    self.wait_feedback(on_resolved)?;
                }
                Some(Command::Dispatch {
                    ticket,
                    hash,
                    height,
                    loc,
                    bytes,
                }) => {
                    let bytes = match bytes {
                        Some(b) => b,
                        None => read_checked(reader, &loc, &hash)?.into(),
                    };
                    let job = BlockJob {
                        bytes,
                        hash,
                        height,
                    };
                    if !self
                        .pipeline
                        .as_ref()
                        .is_some_and(|p| p.submit(ticket, job))
                    {
                        return Err(ImportError::Pipeline("pipeline input closed".into()));
                    }
                }
                Some(Command::Disconnect { hash, height }) => {
                    tracing::info!(
                        "reorg: disconnecting {} at height {height}",
                        to_display_hex(&hash)
                    );
                    self.stages
                        .store
                        .write()
                        .unwrap_or_else(PoisonError::into_inner)
                        .disconnect_block(&hash)?;
                    on_resolved(self.coord.disconnected());
                }
            }
        }
    }

    /// Applies whatever feedback is ready, without waiting.
    ///
    /// # Errors
    /// A fault reported by the pipeline.
    pub fn poll_feedback(
        &mut self,
        on_resolved: &mut impl FnMut(Resolved),
    ) -> Result<(), ImportError> {
        loop {
            let Some(Ok(msg)) = self.pipeline.as_ref().map(|p| p.feedback().try_recv()) else {
                return Ok(());
            };
            on_resolved(self.coord.on_feedback(msg).map_err(ImportError::from)?);
        }
    }

    /// Applies one message taken from [`Chainstate::feedback`].
    ///
    /// # Errors
    /// A fault reported by the pipeline.
    pub fn apply_feedback(
        &mut self,
        msg: crate::engine::FeedbackOf<BitcoinStages>,
    ) -> Result<Resolved, ImportError> {
        self.coord.on_feedback(msg).map_err(ImportError::from)
    }

    /// Blocks until one message of feedback arrives and applies it.
    ///
    /// # Errors
    /// A fault, or a stage that stopped.
    pub fn wait_feedback(
        &mut self,
        on_resolved: &mut impl FnMut(Resolved),
    ) -> Result<(), ImportError> {
        let msg = self
            .pipeline
            .as_ref()
            .map(|p| p.feedback().recv())
            .ok_or_else(|| ImportError::Pipeline("pipeline gone".into()))?
            .map_err(|_| ImportError::Pipeline("a stage stopped unexpectedly".into()))?;
        on_resolved(self.coord.on_feedback(msg).map_err(ImportError::from)?);
        Ok(())
    }

    /// The pipeline's feedback channel, for shells that select over several sources.
    #[must_use]
    pub fn feedback(
        &self,
    ) -> Option<&crossbeam::channel::Receiver<crate::engine::FeedbackOf<BitcoinStages>>> {
        self.pipeline.as_ref().map(Pipeline::feedback)
    }

    /// Stops the pipeline (every block in flight resolves first) and checkpoints the store.
    ///
    /// # Errors
    /// A fault in the last feedback, or the checkpoint failing.
    pub fn finish(
        &mut self,
        on_resolved: &mut impl FnMut(Resolved),
    ) -> Result<PipelineStats, ImportError> {
        let mut stats = PipelineStats::default();
        if let Some(p) = self.pipeline.take() {
            let (rest, s) = p.finish();
            stats = s;
            for msg in rest {
                on_resolved(self.coord.on_feedback(msg).map_err(ImportError::from)?);
            }
        }
        self.stages
            .store
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .checkpoint()?;
        Ok(stats)
    }

    /// The best committed block: height and hash.
    #[must_use]
    pub fn tip(&self) -> (u32, Hash256) {
        self.store().tip().unwrap_or((0, self.params.genesis_hash))
    }
}

/// Reads a block back and checks it is the block `hash` and still decodes: bytes that changed
/// on disk are a fault that stops the node, never a reason to mark a block invalid.
fn read_checked<L>(
    reader: &mut impl BlockReader<L>,
    loc: &L,
    hash: &Hash256,
) -> Result<Vec<u8>, ImportError> {
    let bytes = reader.read(loc)?;
    let same = Header::decode(&bytes).is_ok_and(|h| h.block_hash() == *hash);
    if !same || Block::parse(&bytes).is_err() {
        return Err(ImportError::Corrupt(format!(
            "stored block {} no longer reads back as itself",
            to_display_hex(hash)
        )));
    }
    Ok(bytes)
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
    let tmp = std::path::PathBuf::from(tmp_name);
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    struct Fixed(Vec<u8>);

    impl BlockReader<()> for Fixed {
        fn read(&mut self, (): &()) -> std::io::Result<Vec<u8>> {
            Ok(self.0.clone())
        }
    }

    #[test]
    fn a_block_that_reads_back_damaged_is_a_fault_not_a_verdict() {
        let params = Params::regtest();
        let genesis = params.genesis_block();
        let hash = params.genesis_hash;
        assert_eq!(
            read_checked(&mut Fixed(genesis.clone()), &(), &hash).unwrap(),
            genesis
        );
        // Truncated after a reorg, or overwritten by another block: both stop with Corrupt.
        let truncated = genesis[..genesis.len() - 3].to_vec();
        let err = read_checked(&mut Fixed(truncated), &(), &hash).unwrap_err();
        assert!(matches!(err, ImportError::Corrupt(_)), "{err}");
        let mut other = genesis.clone();
        other[4] ^= 1;
        let err = read_checked(&mut Fixed(other), &(), &hash).unwrap_err();
        assert!(matches!(err, ImportError::Corrupt(_)), "{err}");
    }
}
