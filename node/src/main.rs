//! `sluice`: the Sluice node binary.

use clap::{Parser, Subcommand};

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
    /// Print the version and the subcommands this build offers.
    Version,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        None | Some(Command::Version) => {
            println!("sluice {}", env!("CARGO_PKG_VERSION"));
            println!("planned subcommands: import (Core-framed block files), demo (IBD of a generated chain)");
        }
    }
    Ok(())
}
