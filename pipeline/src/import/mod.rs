//! `import`: Core-framed block files through the pipeline into a datadir — the library entry
//! point behind `sluice import`, `sluice demo` and `perf`.

mod driver;
pub mod reader;

use std::path::PathBuf;
use std::time::Duration;

use sluice_consensus::chain::Network;
use sluice_consensus::hash::Hash256;
use sluice_consensus::keycache::DEFAULT_KEY_CACHE_ENTRIES;
use sluice_consensus::script::deferred::EcdsaBackend;

use crate::engine::{PipelineStats, ShellConfig};

pub use driver::import;

/// Everything an import needs besides the paths.
#[derive(Debug, Clone)]
pub struct ImportConfig {
    pub network: Network,
    /// Directory of the UTXO store (created if missing; reopened to resume).
    pub datadir: PathBuf,
    pub shell: ShellConfig,
    /// Write-back cache budget of the UTXO store.
    pub cache_bytes: usize,
    /// Keep Core's MuHash of the UTXO set up to date.
    pub muhash: bool,
    /// Parsed ECDSA keys the script stage remembers (about 100 bytes each; 0: none).
    pub key_cache_entries: usize,
    /// Verifier of the deferrable ECDSA checks, in groups after a block's scripts ran
    /// (`None`: every check in place, one at a time). Must be available on this CPU.
    pub ecdsa: Option<EcdsaBackend>,
    /// Draw a progress bar on stderr.
    pub progress: bool,
}

impl ImportConfig {
    /// Defaults for `network` into `datadir`, sized for this machine's cores.
    #[must_use]
    pub fn new(network: Network, datadir: PathBuf) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self {
            network,
            datadir,
            shell: ShellConfig {
                script_workers: cores,
                batch_workers: cores,
                ..ShellConfig::default()
            },
            cache_bytes: 512 << 20,
            muhash: true,
            key_cache_entries: DEFAULT_KEY_CACHE_ENTRIES,
            ecdsa: Some(EcdsaBackend::detect()),
            progress: false,
        }
    }
}

/// A block that was not connected, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Block hash in display (RPC) hex.
    pub hash: String,
    pub height: Option<u32>,
    /// Core's reject reason.
    pub reason: String,
}

/// The outcome of an import.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub files: usize,
    pub blocks_read: u64,
    /// Blocks connected by this run (reconnections after a reorg count again).
    pub blocks_connected: u64,
    pub txs: u64,
    pub inputs: u64,
    pub schnorr_sigs: u64,
    pub bytes: u64,
    pub duplicates: u64,
    /// Blocks whose parent never appeared (Core leaves them unconnected too).
    pub orphans_left: u64,
    pub undecodable: u64,
    pub skipped_garbage_bytes: u64,
    pub file_warnings: Vec<String>,
    pub rejected: Vec<Rejection>,
    pub reorgs: u64,
    pub blocks_disconnected: u64,
    pub checkpoints: u64,
    pub tip_height: u32,
    pub tip_hash: Hash256,
    /// Core's `gettxoutsetinfo muhash` (display hex), when tracked.
    pub muhash: Option<String>,
    pub utxo_count: u64,
    pub elapsed: Duration,
    pub stats: PipelineStats,
    /// Height the datadir was at when the import started.
    pub resumed_from: u32,
}

impl ImportReport {
    /// Tip hash in display hex.
    #[must_use]
    pub fn tip_hex(&self) -> String {
        sluice_consensus::hash::to_display_hex(&self.tip_hash)
    }

    /// Human-readable summary.
    #[must_use]
    pub fn summary(&self) -> String {
        use std::fmt::Write;
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let mut s = String::new();
        #[allow(clippy::cast_precision_loss)]
        let rate = |n: u64| n as f64 / secs;
        let _ = writeln!(
            s,
            "files {}  blocks read {}  connected {}  in {:.2} s",
            self.files, self.blocks_read, self.blocks_connected, secs
        );
        let _ = writeln!(
            s,
            "  {:.1} blocks/s  {:.0} tx/s  {:.0} inputs/s (one script check each)  {:.0} schnorr sigs/s (batched)",
            rate(self.blocks_connected),
            rate(self.txs),
            rate(self.inputs),
            rate(self.schnorr_sigs)
        );
        let _ = writeln!(
            s,
            "  txs {}  inputs {}  schnorr {}  MiB {:.1}",
            self.txs,
            self.inputs,
            self.schnorr_sigs,
            self.bytes as f64 / 1048576.0
        );
        let _ = writeln!(
            s,
            "  duplicates {}  orphans left {}  undecodable {}  garbage bytes {}  rejected {}  reorgs {} ({} blocks disconnected)  checkpoints {}",
            self.duplicates, self.orphans_left, self.undecodable, self.skipped_garbage_bytes, self.rejected.len(), self.reorgs, self.blocks_disconnected, self.checkpoints
        );
        for w in &self.file_warnings {
            let _ = writeln!(s, "  warning: {w}");
        }
        for r in self.rejected.iter().take(20) {
            let _ = writeln!(
                s,
                "  rejected {} (height {:?}): {}",
                r.hash, r.height, r.reason
            );
        }
        let _ = writeln!(s, "tip {} at height {}", self.tip_hex(), self.tip_height);
        let _ = writeln!(
            s,
            "UTXO count {}  MuHash {}",
            self.utxo_count,
            self.muhash.as_deref().unwrap_or("(not tracked)")
        );
        s.push_str(&self.stats.table());
        s
    }
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("storage: {0}")]
    Store(#[from] sluice_storage::StoreError),
    #[error("block files: {0}")]
    Files(#[from] sluice_storage::blockfile::BlockFileError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("the datadir's tip {0} is not among the imported blocks")]
    TipNotFound(String),
    #[error("the pipeline stopped: {0}")]
    Pipeline(String),
    /// The pipeline reported a fault (storage, checkpoint, bookkeeping).
    #[error("the pipeline stopped: {0}")]
    Fault(#[from] crate::coordinator::Fault),
    /// Bytes we stored no longer read back as what we stored: a fault, never a verdict.
    #[error("corrupt block data: {0}")]
    Corrupt(String),
}
