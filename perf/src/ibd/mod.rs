//! `perf ibd`: initial block download over loopback P2P. A seed bitcoind serves a loadgen
//! chain; a fresh bitcoind and a fresh Sluice node, with the same script threads and cache,
//! each sync it from the seed, alternating, and the report gives bitcoind's median time to
//! the tip over Sluice's.

pub mod bitcoind;
pub mod chain;
pub mod render;
pub mod report;
pub mod sluice;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use sluice_loadgen::{ChainSpec, FULL_BLOCK_WEIGHT};

use self::chain::ChainSource;
use self::report::{Engine, IbdReport, Settings, SyncRun};
use self::sluice::NodeRunArgs;
use crate::chain::{ChainFiles, ChainStats, Network};
use crate::engine::Tip;
use crate::machine::{self, default_threads, Machine};
use crate::report::{utc_now, ChainInfo};

/// `perf ibd` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct IbdArgs {
    /// An existing loadgen chain directory (regtest blk?????.dat + manifest.json).
    #[arg(long, conflicts_with = "blocks")]
    pub chain: Option<PathBuf>,
    /// Generate a chain of this many blocks in the work directory instead (reused when a
    /// complete chain of the same spec is already there).
    #[arg(long, required_unless_present = "chain")]
    pub blocks: Option<u32>,
    /// loadgen profile of a generated chain.
    #[arg(long, default_value = "mainnet-mix")]
    pub profile: String,
    /// Block weight a generated chain fills to (4,000,000 = full blocks).
    #[arg(long, default_value_t = FULL_BLOCK_WEIGHT)]
    pub weight: u64,
    /// loadgen seed of a generated chain.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Script threads: Sluice `script_workers` and bitcoind `-par`.
    #[arg(long, default_value_t = default_threads())]
    pub threads: usize,
    /// Cache, MiB: Sluice `cache_mb` and bitcoind `-dbcache` (bitcoind's default 450).
    #[arg(long, default_value_t = 450)]
    pub cache_mb: usize,
    /// Runs per engine (alternating bitcoind, Sluice).
    #[arg(long, default_value_t = 2)]
    pub runs: usize,
    /// Report directory (report.json, report.md, height_over_time.svg).
    #[arg(long, default_value = "ibd-report")]
    pub out: PathBuf,
    /// Where the generated chain, the seed's and every run's datadir go (default: a temporary
    /// directory removed afterwards). Run datadirs are removed after each run.
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Both engines connect over BIP324 v2 instead of v1.
    #[arg(long)]
    pub v2: bool,
    /// Sluice maintains MuHash while syncing (its default) instead of the race's setting, which
    /// turns it off like bitcoind's UTXO hash and recomputes it after the sync.
    #[arg(long)]
    pub sluice_muhash: bool,
    #[command(flatten)]
    pub limits: Limits,
}

/// How often heights are sampled, and the time limits of every wait (flags of both `perf ibd`
/// and `perf ibd-node`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct Limits {
    /// Height sampling interval, ms.
    #[arg(long, default_value_t = 200)]
    pub sample_ms: u64,
    /// Longest a seed load or one sync may take, seconds.
    #[arg(long, default_value_t = 3600)]
    pub timeout_s: u64,
    /// A node showing no progress for this long fails the race, seconds.
    #[arg(long, default_value_t = 300)]
    pub stall_s: u64,
}

impl Limits {
    /// The sampling interval (at least 10 ms).
    #[must_use]
    pub fn sample(&self) -> Duration {
        Duration::from_millis(self.sample_ms.max(10))
    }

    /// Longest one seed load or sync may take.
    #[must_use]
    pub fn run(&self) -> Duration {
        Duration::from_secs(self.timeout_s)
    }

    /// Longest a node may show no progress.
    #[must_use]
    pub fn stall(&self) -> Duration {
        Duration::from_secs(self.stall_s)
    }

    /// The flags that pass these limits on to a child.
    #[must_use]
    pub fn to_args(&self) -> Vec<String> {
        vec![
            format!("--sample-ms={}", self.sample_ms),
            format!("--timeout-s={}", self.timeout_s),
            format!("--stall-s={}", self.stall_s),
        ]
    }
}

/// What `perf ibd` was asked to do.
#[derive(Debug, Clone)]
pub struct IbdConfig {
    pub chain: ChainSource,
    pub threads: usize,
    pub cache_mb: usize,
    pub runs: usize,
    pub out: PathBuf,
    pub work_dir: Option<PathBuf>,
    pub v2: bool,
    pub sluice_muhash: bool,
    pub limits: Limits,
    /// The `perf` executable that serves `ibd-node` (normally this one).
    pub exe: PathBuf,
    /// The command line, for the report.
    pub command: String,
}

impl IbdArgs {
    /// The race configuration.
    ///
    /// # Errors
    /// Neither `--chain` nor `--blocks`, or the current executable is unknown.
    pub fn into_config(self, command: String) -> anyhow::Result<IbdConfig> {
        let chain = match (self.chain, self.blocks) {
            (Some(dir), _) => ChainSource::Dir(dir),
            (None, Some(blocks)) => ChainSource::Generate(ChainSpec {
                target_weight: self.weight,
                ..ChainSpec::new(&self.profile, blocks, self.seed)
            }),
            (None, None) => anyhow::bail!("give --chain DIR or --blocks N"),
        };
        Ok(IbdConfig {
            chain,
            threads: self.threads,
            cache_mb: self.cache_mb,
            runs: self.runs,
            out: self.out,
            work_dir: self.work_dir,
            v2: self.v2,
            sluice_muhash: self.sluice_muhash,
            limits: self.limits,
            exe: std::env::current_exe()?,
            command,
        })
    }
}

fn progress_bar(len: u64) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:24} {bar:30} {pos}/{len} blocks [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// The chain's last block in file order, and its height.
fn chain_tip(stats: &ChainStats) -> anyhow::Result<Tip> {
    let hash = stats.order.last().context("the chain has no blocks")?;
    let height = *stats.heights.get(hash).context("tip height")?;
    Ok(Tip {
        height,
        hash: hash.clone(),
    })
}

/// Runs the race and writes the report into `cfg.out`.
///
/// # Errors
/// A node ending on another tip or (Sluice) another UTXO set than the seed's (no report is
/// written then), or any start-up, RPC, time-limit or I/O failure.
pub fn race(cfg: &IbdConfig) -> anyhow::Result<IbdReport> {
    anyhow::ensure!(cfg.runs >= 1, "--runs must be at least 1");
    anyhow::ensure!(cfg.threads >= 1, "--threads must be at least 1");
    let tmp;
    let work: &Path = match &cfg.work_dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d
        }
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path()
        }
    };
    let chain_dir = chain::prepare(&cfg.chain, work)?;
    let files = ChainFiles::open(&chain_dir)?;
    anyhow::ensure!(
        files.network == Network::Regtest,
        "the seed runs regtest; {} is {:?}",
        chain_dir.display(),
        files.network
    );
    // The seed loads the block files in its own process while this one counts their work.
    let bar = progress_bar(0);
    bar.set_message("seed: loading");
    let stats = ChainStats::measure(&files)?;
    let tip = chain_tip(&stats)?;
    bar.set_length(tip.height);
    let seed = bitcoind::seed(&chain_dir, &tip, work, &cfg.limits, |_, h| {
        bar.set_position(u64::from(h));
    })?;
    tracing::info!(load_s = seed.info.load_s, tip = %tip.hash, "seed ready");
    let tip_height = u32::try_from(tip.height).context("tip height")?;
    let bitcoind_args = bitcoind::args(seed.node.p2p, cfg.threads, cfg.cache_mb, cfg.v2);
    let load_average_start = machine::load_average();
    let mut runs: Vec<SyncRun> = Vec::new();
    for i in 1..=cfg.runs {
        for engine in [Engine::Bitcoind, Engine::Sluice] {
            bar.reset();
            bar.set_message(format!("{} run {i}/{}", engine.name(), cfg.runs));
            let show = |h: u32| bar.set_position(u64::from(h));
            let run = match engine {
                Engine::Bitcoind => bitcoind::sync(&seed, &bitcoind_args, work, &cfg.limits, show)?,
                Engine::Sluice => {
                    let datadir = work.join(format!("sluice-run{i}"));
                    if datadir.exists() {
                        std::fs::remove_dir_all(&datadir)?;
                    }
                    let a = NodeRunArgs {
                        connect: seed.node.p2p.to_string(),
                        datadir: datadir.clone(),
                        threads: cfg.threads,
                        cache_mb: cfg.cache_mb,
                        tip_height,
                        v2: cfg.v2,
                        muhash_live: cfg.sluice_muhash,
                        limits: cfg.limits,
                    };
                    let r = sluice::run_child(&cfg.exe, &a, show);
                    std::fs::remove_dir_all(&datadir).ok();
                    r?
                }
            };
            tracing::info!(
                engine = engine.name(),
                run = i,
                wall_s = run.wall_s,
                "synced"
            );
            if let Err(e) = report::verify(&run, i, &seed.info) {
                bar.abandon();
                return Err(e.into());
            }
            runs.push(run);
        }
    }
    bar.finish_and_clear();
    let load_average_end = machine::load_average();
    let seed_addr = seed.node.p2p.to_string();
    let settings = Settings {
        threads: cfg.threads,
        cache_mb: cfg.cache_mb,
        runs: cfg.runs,
        transport: if cfg.v2 { "v2" } else { "v1" }.into(),
        sample_ms: cfg.limits.sample_ms,
        sluice_muhash: if cfg.sluice_muhash {
            "maintained live while syncing (the node's default)".into()
        } else {
            "off while syncing (bitcoind keeps no UTXO hash either), recomputed from the \
             stopped node's UTXO set after the run"
                .into()
        },
        bitcoind_command: format!(
            "bitcoind -regtest {} (after the harness defaults in bitcoind/src/lib.rs)",
            bitcoind_args.join(" ")
        ),
        sluice_command: sluice::command_line(
            &seed_addr,
            cfg.threads,
            cfg.cache_mb,
            cfg.v2,
            cfg.sluice_muhash,
        ),
    };
    let chain = ChainInfo {
        path: chain_dir.display().to_string(),
        network: files.network,
        manifest: files.manifest.clone(),
        stats,
        tip,
    };
    let b = report::engine_result(
        Engine::Bitcoind,
        settings.bitcoind_command.clone(),
        &runs,
        &chain,
    )?;
    let s = report::engine_result(
        Engine::Sluice,
        settings.sluice_command.clone(),
        &runs,
        &chain,
    )?;
    let rep = IbdReport {
        command: cfg.command.clone(),
        bitcoind_over_sluice: report::ratio(&b, &s)?,
        results: vec![b, s],
        settings,
        chain,
        seed: seed.info.clone(),
        runs,
        machine: Machine::detect(),
        commit: machine::commit(),
        date: utc_now(),
        load_average_start,
        load_average_end,
        method: report::METHOD.into(),
    };
    report::write_outputs(&rep, &cfg.out)?;
    Ok(rep)
}
