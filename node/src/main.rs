//! `sluice`: the Sluice node binary.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use sluice_node::config::{ConfigFlags, NodeConfig};
use sluice_node::{demo, run};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Sluice: a Bitcoin full-validation node built around a high-throughput validation pipeline.
#[derive(Debug, Parser)]
#[command(name = "sluice", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Import Core-framed block files (like Core's -loadblock): files, or directories of
    /// blk?????.dat. Resumes from what the datadir holds.
    Import {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        flags: ConfigFlags,
    },
    /// Run the node: sync from peers (headers first), validate, serve the chain, follow the
    /// tip. Stops cleanly on SIGINT or SIGTERM; the next start resumes.
    Run {
        #[command(flatten)]
        flags: ConfigFlags,
    },
    /// Generate a chain into a temporary directory and import it (no flags or network needed).
    Demo(demo::DemoArgs),
    /// Print this node's QUIC key fingerprint (creating the key in the datadir on first use),
    /// for other nodes' `quic_peer = "<fingerprint>@host:port"`.
    QuicId {
        #[command(flatten)]
        flags: ConfigFlags,
    },
    /// Print the version.
    Version,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let start_logs = |cfg: &NodeConfig, default: &str| {
        sluice_node::logging::init(cfg.log_format, cfg.log_filter.as_deref(), default)
    };
    match cli.command {
        Some(Command::Import { paths, flags }) => {
            let cfg = NodeConfig::resolve(&flags)?;
            start_logs(&cfg, "warn")?;
            sluice_node::release::check(&cfg, sluice_governance::now())?;
            let report = sluice_pipeline::import(&cfg.import_config(), &paths)?;
            print!("{}", report.summary());
        }
        Some(Command::Run { flags }) => {
            let cfg = NodeConfig::resolve(&flags)?;
            start_logs(&cfg, "info")?;
            sluice_node::release::check(&cfg, sluice_governance::now())?;
            run::run_until_signal(&cfg)?;
        }
        None => {
            start_logs(&NodeConfig::default(), "warn")?;
            demo::run(&demo::DemoArgs::default())?;
        }
        Some(Command::Demo(args)) => {
            start_logs(&NodeConfig::default(), "warn")?;
            demo::run(&args)?;
        }
        Some(Command::QuicId { flags }) => {
            let cfg = NodeConfig::resolve(&flags)?;
            start_logs(&cfg, "warn")?;
            println!("{}", run::quic_fingerprint(&cfg)?);
        }
        Some(Command::Version) => println!("sluice {}", env!("CARGO_PKG_VERSION")),
    }
    Ok(())
}
