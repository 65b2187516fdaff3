//! Sluice's engine: `sluice_pipeline::import`, the entry point `sluice import` uses, into a fresh
//! on-disk datadir.
//!
//! Settings matched to the Core side: `script_workers = threads`, a 450 MiB cache budget (the
//! kernel's `DEFAULT_KERNEL_CACHE`), and MuHash tracking off (Core does not hash the UTXO set
//! while connecting blocks). The import ends with its state checkpointed, like Core's flush.
//! The pipeline reports only whole-run figures, so the blocks/s series for Sluice is the
//! run's average; its per-stage busy times come from the pipeline's own counters.

use std::time::Instant;

use sluice_consensus::chain::params::Network as SluiceNetwork;
use sluice_pipeline::ImportConfig;

use super::{EngineConfig, EngineKind, EngineRun, Rejection, Tip};
use crate::chain::{ChainFiles, Network};
use crate::usage::Usage;

/// The kernel's default total cache (`DEFAULT_KERNEL_CACHE`, 450 MiB), given to Sluice too.
pub const CACHE_BYTES: usize = 450 << 20;

fn network(n: Network) -> SluiceNetwork {
    match n {
        Network::Mainnet => SluiceNetwork::Mainnet,
        Network::Regtest => SluiceNetwork::Regtest,
        Network::Testnet4 => SluiceNetwork::Testnet4,
        Network::Signet => SluiceNetwork::Signet,
    }
}

/// Imports the chain with Sluice's pipeline.
///
/// # Errors
/// Unreadable chain files or an import that stops on a storage/I-O error (block rejections are
/// part of the result, not errors).
pub fn run(config: &EngineConfig) -> anyhow::Result<EngineRun> {
    let chain = ChainFiles::open(&config.chain)?;
    let mut cfg = ImportConfig::new(network(chain.network), config.data_dir.join("sluice"));
    // The same thread budget as Core's: script and batch workers both sized to `threads`.
    cfg.shell.script_workers = config.threads.max(1);
    cfg.shell.batch_workers = config.threads.max(1);
    cfg.cache_bytes = CACHE_BYTES;
    cfg.muhash = false;
    cfg.progress = false;
    cfg.ecdsa = config.sluice_ecdsa;
    let before = Usage::now()?;
    let start = Instant::now();
    let report = sluice_pipeline::import(&cfg, &chain.files)?;
    let wall_s = start.elapsed().as_secs_f64();
    let after = Usage::now()?;
    let (user_s, system_s) = after.cpu_since(&before);
    let tip_height = u64::from(report.tip_height);
    Ok(EngineRun {
        engine: EngineKind::Sluice,
        threads: config.threads,
        wall_s,
        user_s,
        system_s,
        peak_rss_bytes: after.max_rss_bytes,
        tip: Tip {
            height: tip_height,
            hash: report.tip_hex(),
        },
        first_rejected: report.rejected.first().map(|r| Rejection {
            hash: r.hash.clone(),
            reason: r.reason.clone(),
        }),
        connected_at: vec![(0, 0.0), (tip_height, wall_s)],
        stages: report
            .stats
            .stages
            .iter()
            .map(|s| (s.name.to_owned(), s.busy.as_secs_f64()))
            .collect(),
    })
}
