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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Import { paths, flags }) => {
            let cfg = NodeConfig::resolve(&flags)?;
            sluice_node::release::check(&cfg, sluice_governance::now())?;
            let report = sluice_pipeline::import(&cfg.import_config(), &paths)?;
            print!("{}", report.summary());
        }
        Some(Command::Run { flags }) => {
            let cfg = NodeConfig::resolve(&flags)?;
            sluice_node::release::check(&cfg, sluice_governance::now())?;
            run::run_until_signal(&cfg)?;
        }
        None => demo::run(&demo::DemoArgs::default())?,
        Some(Command::Demo(args)) => demo::run(&args)?,
        Some(Command::QuicId { flags }) => {
            let cfg = NodeConfig::resolve(&flags)?;
            println!("{}", run::quic_fingerprint(&cfg)?);
        }
        Some(Command::Version) => println!("sluice {}", env!("CARGO_PKG_VERSION")),
    }
    Ok(())
}
