//! The two engines of a race and the result one engine run reports.
//!
//! An engine run imports a whole chain from its Core-framed block files into a fresh data
//! directory and says where its tip ended. `perf race` runs each one in a child process
//! (`perf engine-run`) which prints an [`EngineRun`] as JSON on stdout.

#[cfg(feature = "kernel")]
pub mod kernel;
pub mod sluice;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Which validation engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// Bitcoin Core's validation engine (libbitcoinkernel `ChainstateManager`).
    Core,
    /// Sluice's pipeline (`sluice_pipeline::import`, as `sluice import` uses it).
    Sluice,
}

impl EngineKind {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Core => "core",
            Self::Sluice => "sluice",
        }
    }
}

/// What an engine run is asked to do.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Directory holding `blk?????.dat` files (a loadgen output dir) or one block file.
    pub chain: PathBuf,
    /// Threads for validation: Sluice's worker count; Core gets the same total (see core.rs).
    pub threads: usize,
    /// Fresh, empty directory the engine keeps its on-disk state in.
    pub data_dir: PathBuf,
    /// Sluice only: who verifies deferrable ECDSA checks (`None`: every check in place).
    pub sluice_ecdsa: Option<sluice_consensus::script::deferred::EcdsaBackend>,
}

/// Where an engine's chain ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tip {
    pub height: u64,
    /// Block hash, display (reversed) hex.
    pub hash: String,
}

/// The first block an engine refused, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub hash: String,
    pub reason: String,
}

/// The measured outcome of one engine run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineRun {
    pub engine: EngineKind,
    pub threads: usize,
    /// Wall-clock seconds of the import itself (engine set-up excluded).
    pub wall_s: f64,
    /// User CPU seconds of the child process during the import.
    pub user_s: f64,
    /// System CPU seconds of the child process during the import.
    pub system_s: f64,
    /// Peak RSS of the child process (whole run).
    pub peak_rss_bytes: u64,
    pub tip: Tip,
    pub first_rejected: Option<Rejection>,
    /// Seconds since import start at which each block height was connected, when the engine
    /// reports per-block progress (for the blocks/s plot); may be sparse.
    pub connected_at: Vec<(u64, f64)>,
    /// Seconds per pipeline stage (Sluice only; empty for Core).
    pub stages: Vec<(String, f64)>,
}

/// Runs `kind` on `config` in this process.
///
/// # Errors
/// Engine set-up or I/O failures (not block rejections, which are part of the result).
pub fn run(kind: EngineKind, config: &EngineConfig) -> anyhow::Result<EngineRun> {
    match kind {
        #[cfg(feature = "kernel")]
        EngineKind::Core => kernel::run(config),
        #[cfg(not(feature = "kernel"))]
        EngineKind::Core => anyhow::bail!(
            "perf was built without its `kernel` feature: no Core engine ({})",
            config.chain.display()
        ),
        EngineKind::Sluice => sluice::run(config),
    }
}
