//! `perf`: races Sluice against Bitcoin Core's kernel (see the crate README).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use sluice_node::config::EcdsaArg;
use sluice_perf::engine::{self, EngineConfig, EngineKind};
use sluice_perf::machine::default_threads;
use sluice_perf::race::{self, RaceConfig};
#[cfg(feature = "kernel")]
use sluice_perf::race_block::SluiceMode;
#[cfg(feature = "kernel")]
use sluice_perf::race_block::{self, BlockRace, KernelInputs, SluiceInputs};
#[cfg(feature = "kernel")]
use sluice_perf::usage::Usage;
#[cfg(feature = "kernel")]
use sluice_perf::{block_inputs::BlockInputs, stats};

/// Races Sluice against Bitcoin Core's validation engine on the same blocks.
#[derive(Debug, Parser)]
#[command(name = "perf", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Import the same chain with both engines, alternating, and write a report.
    Race {
        /// loadgen output directory (blk?????.dat + manifest.json) or one block file.
        #[arg(long)]
        chain: PathBuf,
        /// Validation threads (Sluice workers; Core gets -par of the same total).
        #[arg(long, default_value_t = default_threads())]
        threads: usize,
        /// Runs per engine.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Report directory.
        #[arg(long, default_value = "perf-report")]
        out: PathBuf,
        /// Where per-run data directories are created (default: system temp dir).
        #[arg(long)]
        work_dir: Option<PathBuf>,
        /// Test hook: Sluice imports this chain instead (exercises the disagreement path).
        #[arg(long, hide = true)]
        sluice_chain: Option<PathBuf>,
        /// Who verifies Sluice's deferrable ECDSA checks: auto, in-place (no deferral), ifma,
        /// avx2, portable or libsecp (vector backends also take Schnorr checks into lanes).
        #[arg(long, value_enum, default_value = "auto")]
        sluice_ecdsa: EcdsaArg,
    },
    /// Initial block download over loopback P2P: a fresh bitcoind and a fresh Sluice node sync
    /// the same chain from a seed bitcoind, alternating, and a report is written.
    Ibd(Box<sluice_perf::ibd::IbdArgs>),
    /// Block propagation between two Sluice nodes over a lossy, rate-limited link (network
    /// namespaces, nftables loss, tc tbf): QUIC against TCP v2, latency percentiles side by
    /// side. Needs root.
    Lossy(Box<sluice_perf::lossy::LossyArgs>),
    /// One Sluice IBD run in this process (used by `ibd`); prints JSON lines.
    #[command(hide = true)]
    IbdNode(sluice_perf::ibd::sluice::NodeRunArgs),
    /// One engine run in this process; prints the result as JSON (used by `race`).
    EngineRun {
        /// Which engine runs.
        #[arg(long, value_enum)]
        engine: EngineKind,
        /// A loadgen chain directory to import.
        #[arg(long)]
        chain: PathBuf,
        /// Script verification threads.
        #[arg(long, default_value_t = default_threads())]
        threads: usize,
        /// Fresh, empty directory for the engine's on-disk state.
        #[arg(long)]
        data_dir: PathBuf,
        /// Sluice's verifier of deferrable ECDSA checks (see `race`).
        #[arg(long, value_enum, default_value = "auto")]
        sluice_ecdsa: EcdsaArg,
    },
    /// Script-verify every input of one real block with both engines.
    #[cfg(feature = "kernel")]
    RaceBlock {
        /// Raw block (e.g. ../shared/data/blocks/mainnet-866342.block).
        #[arg(long)]
        block: PathBuf,
        /// Its spent outputs (e.g. mainnet-866342.spent.json).
        #[arg(long)]
        spent: PathBuf,
        /// Verification threads, the same for both engines.
        #[arg(long, default_value_t = default_threads())]
        threads: usize,
        /// Runs of each engine; the report gives medians.
        #[arg(long, default_value_t = 10)]
        runs: usize,
        /// Write race-block.json here as well as printing the table.
        #[arg(long)]
        out: Option<PathBuf>,
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
        Cmd::Race {
            chain,
            threads,
            runs,
            out,
            work_dir,
            sluice_chain,
            sluice_ecdsa,
        } => {
            let cfg = RaceConfig {
                chain,
                threads,
                runs,
                out: out.clone(),
                work_dir,
                exe: std::env::current_exe()?,
                sluice_chain,
                sluice_ecdsa,
            };
            let rep = race::race(&cfg)?;
            print!("{}", sluice_perf::markdown::render(&rep));
            println!("\nreport written to {}", out.display());
        }
        Cmd::Ibd(args) => {
            let command = std::env::args().collect::<Vec<_>>().join(" ");
            let cfg = args.into_config(command)?;
            let rep = sluice_perf::ibd::race(&cfg)?;
            print!("{}", sluice_perf::ibd::render::render(&rep));
            println!("\nreport written to {}", cfg.out.display());
        }
        Cmd::Lossy(args) => {
            let command = std::env::args().collect::<Vec<_>>().join(" ");
            let rep = sluice_perf::lossy::run::measure(&args, command)?;
            print!("{}", sluice_perf::lossy::report::render(&rep));
            println!("\nreport written to {}", args.out.display());
        }
        Cmd::IbdNode(args) => sluice_perf::ibd::sluice::node_run(&args)?,
        Cmd::EngineRun {
            engine,
            chain,
            threads,
            data_dir,
            sluice_ecdsa,
        } => {
            let run = engine::run(
                engine,
                &EngineConfig {
                    chain,
                    threads,
                    data_dir,
                    sluice_ecdsa: sluice_ecdsa.backend(),
                },
            )?;
            println!("{}", serde_json::to_string(&run)?);
        }
        #[cfg(feature = "kernel")]
        Cmd::RaceBlock {
            block,
            spent,
            threads,
            runs,
            out,
        } => {
            let r = run_race_block(&block, &spent, threads, runs)?;
            println!("{}", race_block::render(&r));
            if let Some(path) = out {
                std::fs::write(path, serde_json::to_vec_pretty(&r)?)?;
            }
        }
    }
    Ok(())
}

#[cfg(feature = "kernel")]
fn run_race_block(
    block: &std::path::Path,
    spent: &std::path::Path,
    threads: usize,
    runs: usize,
) -> anyhow::Result<BlockRace> {
    anyhow::ensure!(threads > 0, "--threads must be at least 1");
    let inputs = BlockInputs::load(block, spent)?;
    let n = inputs.input_count();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let kernel = KernelInputs::new(&inputs)?;
    let sluice = SluiceInputs::new(&inputs)?;
    let mut times: [Vec<f64>; 4] = Default::default();
    let mut cpu: [Vec<f64>; 4] = Default::default();
    let load_average = sluice_perf::machine::load_average();
    for _ in 0..runs.max(1) {
        // Order within a round: Core, Sluice (batched Schnorr, deferred ECDSA), Sluice with
        // ECDSA in place, Sluice with every signature in place.
        for (slot, times, cpu) in times
            .iter_mut()
            .zip(cpu.iter_mut())
            .enumerate()
            .map(|(i, (t, c))| (i, t, c))
        {
            let before = Usage::now()?;
            let (t, failures) = match slot {
                0 => race_block::run_core(&kernel, &pool)?,
                1 => race_block::run_sluice(&sluice, &pool, SluiceMode::pipeline())?,
                2 => race_block::run_sluice(
                    &sluice,
                    &pool,
                    SluiceMode {
                        ecdsa: None,
                        ..SluiceMode::pipeline()
                    },
                )?,
                _ => race_block::run_sluice(&sluice, &pool, SluiceMode::IN_PLACE)?,
            };
            let after = Usage::now()?;
            anyhow::ensure!(
                failures.is_empty(),
                "engine {slot} rejected {} inputs, first {:?}",
                failures.len(),
                failures.first()
            );
            let (user, sys) = after.cpu_since(&before);
            times.push(t);
            cpu.push(user + sys);
        }
    }
    let [core_times, sluice_times, ecdsa_in_place_times, unbatched_times] = times;
    let [core_cpu, sluice_cpu, ecdsa_in_place_cpu, unbatched_cpu] = cpu;
    let speedup_pairs = stats::pairwise_ratios(&core_times, &sluice_times)?;
    let cpu_speedup_median = stats::median(&stats::pairwise_ratios(&core_cpu, &sluice_cpu)?)?;
    Ok(BlockRace {
        block: block.display().to_string(),
        inputs: n,
        threads,
        speedup_median: stats::median(&speedup_pairs)?,
        speedup_pairs,
        cpu_speedup_median,
        load_average,
        results: vec![
            race_block::engine_result("core", core_times, core_cpu, n)?,
            race_block::engine_result("sluice", sluice_times, sluice_cpu, n)?,
            race_block::engine_result(
                "sluice-ecdsa-in-place",
                ecdsa_in_place_times,
                ecdsa_in_place_cpu,
                n,
            )?,
            race_block::engine_result("sluice-no-batch", unbatched_times, unbatched_cpu, n)?,
        ],
    })
}
