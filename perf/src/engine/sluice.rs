//! Sluice's engine: `sluice_pipeline::import`, the entry point `sluice import` uses.
//!
//! The pipeline's library entry point has not landed on this branch yet, so this engine reports
//! that plainly instead of pretending to run.

use super::{EngineConfig, EngineRun};

/// Imports the chain with Sluice's pipeline.
///
/// # Errors
/// Always, until `sluice_pipeline::import` exists.
pub fn run(config: &EngineConfig) -> anyhow::Result<EngineRun> {
    anyhow::bail!(
        "sluice engine unavailable: sluice_pipeline::import has not landed (chain {})",
        config.chain.display()
    )
}
