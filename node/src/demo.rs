//! `sluice demo`: generates a chain into a temporary directory with the loadgen library
//! (really-signed regtest blocks, `mainnet-mix` profile by default) and imports it through the
//! pipeline. No flags and no network needed; flags scale it up.

use clap::Args;
use sluice_consensus::chain::Params;
use sluice_loadgen::{generate, ChainSpec};
use sluice_pipeline::testchain;

use crate::config::{ConfigFlags, NetworkArg, NodeConfig};

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Blocks to generate after genesis.
    #[arg(long, default_value_t = 400)]
    pub blocks: u32,
    /// loadgen profile: mainnet-mix, taproot, legacy, utxo-heavy.
    #[arg(long, default_value = "mainnet-mix")]
    pub profile: String,
    /// Block weight loadgen fills to after warm-up (4,000,000 = full blocks).
    #[arg(long, default_value_t = 400_000)]
    pub weight: u64,
    /// loadgen seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Use the pipeline's unsigned synthetic chain (OP_TRUE spends) instead of loadgen.
    #[arg(long)]
    pub synthetic: bool,
    /// Keep the generated files and datadir here instead of a temporary directory.
    #[arg(long)]
    pub keep: Option<std::path::PathBuf>,
    /// The node's settings (file and flags) for the import; the network is always regtest and
    /// the datadir the demo's own.
    #[command(flatten)]
    pub config: ConfigFlags,
}

impl Default for DemoArgs {
    fn default() -> Self {
        Self {
            blocks: 400,
            profile: "mainnet-mix".into(),
            weight: 400_000,
            seed: 1,
            synthetic: false,
            keep: None,
            config: ConfigFlags::default(),
        }
    }
}

/// Generates and imports the demo chain, printing the import summary.
///
/// # Errors
/// Generation, I/O or import failures.
pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.config.network.is_none() && args.config.datadir.is_none(),
        "the demo always imports on regtest into its own datadir (see --keep)"
    );
    let tmp = tempfile::tempdir()?;
    let root = args
        .keep
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    if let Some(dir) = &args.keep {
        // A second run would mix its blocks with the first run's files and datadir.
        let used = std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some());
        anyhow::ensure!(!used, "--keep {}: directory is not empty", dir.display());
    }
    let chain_dir = root.join("chain");
    std::fs::create_dir_all(&chain_dir)?;
    let t = std::time::Instant::now();
    if args.synthetic {
        eprintln!(
            "sluice demo: {} synthetic regtest blocks (OP_TRUE spends, no signatures)",
            args.blocks
        );
        let params = Params::regtest();
        let blocks = testchain::linear(&params, args.blocks, 40);
        std::fs::write(
            chain_dir.join("blk00000.dat"),
            testchain::frame(params.magic, &blocks),
        )?;
    } else {
        eprintln!(
            "sluice demo: generating {} signed regtest blocks, profile {}, weight {} (loadgen)",
            args.blocks, args.profile, args.weight
        );
        let spec = ChainSpec {
            target_weight: args.weight,
            ..ChainSpec::new(&args.profile, args.blocks, args.seed)
        };
        generate(&spec, &chain_dir)?;
    }
    eprintln!(
        "sluice demo: chain generated in {:.1} s; importing",
        t.elapsed().as_secs_f64()
    );
    let mut cfg = NodeConfig::resolve(&args.config)?;
    cfg.network = NetworkArg::Regtest;
    cfg.datadir = root.join("datadir");
    let report = sluice_pipeline::import(&cfg.import_config(), &[chain_dir])?;
    print!("{}", report.summary());
    Ok(())
}
