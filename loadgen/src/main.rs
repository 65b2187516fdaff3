//! `loadgen`: generator of really-signed regtest chains and invalid-block mutants.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use sluice_loadgen::{generate, mutate, ChainSpec, FULL_BLOCK_WEIGHT};

/// Generates realistic, really-signed regtest chains and invalid-block mutants.
#[derive(Debug, Parser)]
#[command(name = "loadgen", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a regtest chain (blk?????.dat + manifest.json).
    Chain {
        /// mainnet-mix, taproot, legacy or utxo-heavy.
        #[arg(long, default_value = "mainnet-mix")]
        profile: String,
        /// Blocks after genesis.
        #[arg(long)]
        blocks: u32,
        /// Seed of every random choice: the same seed writes the same chain.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Block weight to fill to after warm-up.
        #[arg(long, default_value_t = FULL_BLOCK_WEIGHT)]
        target_weight: u64,
        /// Signing threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Directory to write the block files and manifest.json into.
        #[arg(long)]
        out: PathBuf,
    },
    /// Derive labelled invalid blocks from a generated chain.
    Mutate {
        /// A chain directory written by `loadgen chain`.
        #[arg(long)]
        chain: PathBuf,
        /// Directory for the mutants, their twins and labels.json.
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Chain {
            profile,
            blocks,
            seed,
            target_weight,
            threads,
            out,
        } => {
            let mut spec = ChainSpec::new(&profile, blocks, seed);
            spec.target_weight = target_weight;
            if let Some(t) = threads {
                spec.threads = t;
            }
            let m = generate(&spec, &out)?;
            let t = &m.timing;
            let sigs = m.totals.signatures.ecdsa
                + m.totals.signatures.schnorr_key_path
                + m.totals.signatures.schnorr_script_path;
            println!(
                "{} blocks, {} tx, {} inputs, {} signatures in {:.2}s: {:.1} blocks/s, {:.0} tx/s, {:.0} signed inputs/s, {:.0} signatures/s; tip {} at {}",
                m.tip_height,
                m.totals.txs,
                m.totals.inputs,
                sigs,
                t.elapsed_secs,
                t.blocks_per_sec,
                m.totals.txs as f64 / t.elapsed_secs,
                t.signed_inputs_per_sec,
                t.signatures_per_sec,
                m.tip_hash,
                m.tip_height
            );
        }
        Command::Mutate { chain, out } => {
            let mutants = mutate(&chain, &out)?;
            for m in &mutants {
                println!(
                    "{:28} {:40} {}",
                    m.label.rule, m.label.expected_reason, m.label.file
                );
            }
            println!(
                "{} mutants extending height {}",
                mutants.len(),
                mutants.first().map_or(0, |m| m.label.prefix_height)
            );
        }
    }
    Ok(())
}
