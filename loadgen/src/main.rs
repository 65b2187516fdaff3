//! `loadgen`: generator of really-signed regtest chains.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

/// Generates realistic, really-signed regtest chains and invalid-block mutants.
#[derive(Debug, Parser)]
#[command(name = "loadgen", version, about)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    let _cli = Cli::parse();
    println!("loadgen {}", env!("CARGO_PKG_VERSION"));
    Ok(())
}
