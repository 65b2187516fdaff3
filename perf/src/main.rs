//! `perf`: races Sluice against Bitcoin Core's kernel.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

/// Races Sluice against Bitcoin Core's validation engine on the same blocks.
#[derive(Debug, Parser)]
#[command(name = "perf", version, about)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    let _cli = Cli::parse();
    println!("perf {}", env!("CARGO_PKG_VERSION"));
    Ok(())
}
