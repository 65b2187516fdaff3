//! `sluice demo`: builds a chain in a temporary directory and imports it through the pipeline.
//!
//! Until the `sluice-loadgen` library is available to this crate the chain is the pipeline's
//! synthetic regtest chain (real proof of work, BIP34 coinbases, many transactions spending
//! `OP_TRUE` outputs — no signatures). The summary says which kind was used.

use clap::Args;
use sluice_consensus::chain::Params;
use sluice_pipeline::testchain;

use crate::config::{NetworkArg, NodeConfig};

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Blocks to generate.
    #[arg(long, default_value_t = 400)]
    pub blocks: u32,
    /// Spending transactions per block (once coinbases mature).
    #[arg(long, default_value_t = 40)]
    pub txs_per_block: usize,
    /// Keep the generated files and datadir here instead of a temporary directory.
    #[arg(long)]
    pub keep: Option<std::path::PathBuf>,
}

impl Default for DemoArgs {
    fn default() -> Self {
        Self {
            blocks: 400,
            txs_per_block: 40,
            keep: None,
        }
    }
}

/// Generates and imports the demo chain, printing the import summary.
///
/// # Errors
/// I/O or import failures.
pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let root = args
        .keep
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&root)?;
    let params = Params::regtest();
    eprintln!(
        "sluice demo: generating {} synthetic regtest blocks ({} spends per block, OP_TRUE outputs, no signatures)",
        args.blocks, args.txs_per_block
    );
    let blocks = testchain::linear(&params, args.blocks, args.txs_per_block);
    let file = root.join("blk00000.dat");
    std::fs::write(&file, testchain::frame(params.magic, &blocks))?;
    let cfg = NodeConfig {
        network: NetworkArg::Regtest,
        datadir: root.join("datadir"),
        ..NodeConfig::default()
    };
    let report = sluice_pipeline::import(&cfg.import_config(), &[file])?;
    print!("{}", report.summary());
    Ok(())
}
