//! `perf race`: the same chain imported by Core's kernel and by Sluice, alternating
//! A B A B …, each run in a fresh child process with a fresh data directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

use crate::chain::{ChainFiles, ChainStats};
use crate::engine::{EngineKind, EngineRun};
use crate::lower_bound;
use crate::machine::{self, Machine};
use crate::report::{self, ChainInfo, Report, METHOD};
use crate::{markdown, plot};
use clap::ValueEnum as _;
use sluice_node::config::EcdsaArg;

/// What `perf race` was asked to do.
#[derive(Debug, Clone)]
pub struct RaceConfig {
    pub chain: PathBuf,
    pub threads: usize,
    pub runs: usize,
    pub out: PathBuf,
    /// Parent of the per-run data directories (a temporary directory by default).
    pub work_dir: Option<PathBuf>,
    /// The `perf` executable that serves `engine-run` (normally this one).
    pub exe: PathBuf,
    /// Test hook: Sluice imports this chain instead of `chain` (e.g. a copy with one block
    /// corrupted), to exercise the disagreement path end to end. `None` in real races.
    pub sluice_chain: Option<PathBuf>,
    /// Who verifies Sluice's deferrable ECDSA checks (`InPlace`: no deferral).
    pub sluice_ecdsa: EcdsaArg,
}

/// The engines ended on different tips: the race has no meaningful ratio.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "engines disagree: first differing block is height {height} ({hash}): core {core}, sluice {sluice}"
)]
pub struct Disagreement {
    pub height: u64,
    pub hash: String,
    pub core: String,
    pub sluice: String,
}

fn verdict(run: &EngineRun, height: u64, hash: &str) -> String {
    if run.tip.height >= height {
        return format!("connected it (tip {} at {})", run.tip.hash, run.tip.height);
    }
    match &run.first_rejected {
        Some(r) if r.hash == hash => format!("rejected it ({})", r.reason),
        Some(r) => format!(
            "stopped at height {} (first rejection {}: {})",
            run.tip.height, r.hash, r.reason
        ),
        None => format!(
            "stopped at height {} without naming a rejection",
            run.tip.height
        ),
    }
}

/// Compares where the two engines ended. `None` when they agree.
#[must_use]
pub fn first_difference(
    stats: &ChainStats,
    core: &EngineRun,
    sluice: &EngineRun,
) -> Option<Disagreement> {
    if core.tip == sluice.tip {
        return None;
    }
    // The first height at which the engines' chains can differ: one past the lower tip, or the
    // tip itself when both reached the same height on different blocks.
    let height = if core.tip.height == sluice.tip.height {
        core.tip.height
    } else {
        core.tip.height.min(sluice.tip.height) + 1
    };
    let hash = stats
        .order
        .iter()
        .find(|h| stats.heights.get(*h) == Some(&height))
        .cloned()
        .unwrap_or_else(|| "unknown".to_owned());
    Some(Disagreement {
        height,
        core: verdict(core, height, &hash),
        sluice: verdict(sluice, height, &hash),
        hash,
    })
}

/// Runs one engine in a child process and reads its JSON result.
///
/// # Errors
/// The child failing to start, exiting non-zero, or printing something that is not a result.
pub fn run_child(
    exe: &Path,
    engine: EngineKind,
    chain: &Path,
    threads: usize,
    data_dir: &Path,
    sluice_ecdsa: EcdsaArg,
) -> anyhow::Result<EngineRun> {
    let out = Command::new(exe)
        .arg("engine-run")
        .args(["--engine", engine.name()])
        .arg("--chain")
        .arg(chain)
        .args(["--threads", &threads.to_string()])
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--sluice-ecdsa", &ecdsa_name(sluice_ecdsa)])
        .output()
        .with_context(|| format!("starting {}", exe.display()))?;
    if !out.status.success() {
        anyhow::bail!(
            "{} engine run failed ({}): {}",
            engine.name(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "{} engine run printed no result: {}",
            engine.name(),
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn command_line(cfg: &RaceConfig, engine: EngineKind) -> String {
    format!(
        "perf engine-run --engine {} --chain {} --threads {} --sluice-ecdsa {}",
        engine.name(),
        cfg.chain.display(),
        cfg.threads,
        ecdsa_name(cfg.sluice_ecdsa)
    )
}

/// The command-line spelling of an [`EcdsaArg`].
#[must_use]
pub fn ecdsa_name(e: EcdsaArg) -> String {
    e.to_possible_value()
        .map_or_else(|| format!("{e:?}"), |v| v.get_name().to_owned())
}

/// The run closest to the median wall time (its progress is what the plot shows).
fn median_run(runs: &[EngineRun], median: f64) -> Option<&EngineRun> {
    runs.iter().min_by(|a, b| {
        (a.wall_s - median)
            .abs()
            .total_cmp(&(b.wall_s - median).abs())
    })
}

/// Runs the race and writes report.json, report.md and the SVG plots into `cfg.out`.
///
/// # Errors
/// A [`Disagreement`] when the engines end on different tips (no ratio is reported), or any
/// engine/I-O failure.
pub fn race(cfg: &RaceConfig) -> anyhow::Result<Report> {
    anyhow::ensure!(cfg.runs >= 1, "--runs must be at least 1");
    anyhow::ensure!(cfg.threads >= 1, "--threads must be at least 1");
    let files = ChainFiles::open(&cfg.chain)?;
    let stats = ChainStats::measure(&files)?;
    tracing::info!(
        blocks = stats.blocks,
        inputs = stats.inputs,
        sigs = stats.signatures.total(),
        "chain measured"
    );
    let work = match &cfg.work_dir {
        Some(d) => tempfile::tempdir_in(d)?,
        None => tempfile::tempdir()?,
    };
    let bar = ProgressBar::new((cfg.runs * 2) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} runs {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut core_runs = Vec::new();
    let mut sluice_runs = Vec::new();
    for i in 0..cfg.runs {
        for engine in [EngineKind::Core, EngineKind::Sluice] {
            bar.set_message(format!("{} run {}", engine.name(), i + 1));
            let dir = work.path().join(format!("{}-{i}", engine.name()));
            std::fs::create_dir_all(&dir)?;
            let chain = match (engine, &cfg.sluice_chain) {
                (EngineKind::Sluice, Some(other)) => other,
                _ => &cfg.chain,
            };
            let r = run_child(&cfg.exe, engine, chain, cfg.threads, &dir, cfg.sluice_ecdsa)?;
            std::fs::remove_dir_all(&dir)?;
            bar.inc(1);
            match engine {
                EngineKind::Core => core_runs.push(r),
                EngineKind::Sluice => sluice_runs.push(r),
            }
        }
        if let (Some(c), Some(s)) = (core_runs.last(), sluice_runs.last()) {
            if let Some(d) = first_difference(&stats, c, s) {
                bar.abandon();
                return Err(d.into());
            }
        }
    }
    bar.finish_and_clear();
    let core = report::engine_result(
        command_line(cfg, EngineKind::Core),
        EngineKind::Core,
        &core_runs,
        &stats,
    )?;
    let sluice = report::engine_result(
        command_line(cfg, EngineKind::Sluice),
        EngineKind::Sluice,
        &sluice_runs,
        &stats,
    )?;
    let ratio = report::ratio(&sluice, &core)?;
    let costs = lower_bound::measure(std::time::Duration::from_millis(300));
    let lower = lower_bound::bound(&costs, stats.signatures, cfg.threads, sluice.median);
    let tip = core_runs
        .first()
        .map(|r| r.tip.clone())
        .context("no runs")?;
    let rep = Report {
        machine: Machine::detect(),
        commit: machine::commit(),
        date: report::utc_now(),
        threads: cfg.threads,
        runs: cfg.runs,
        chain: ChainInfo {
            path: cfg.chain.display().to_string(),
            network: files.network,
            manifest: files.manifest.clone(),
            stats: stats.clone(),
            tip,
        },
        method: METHOD.to_owned(),
        lower_bound: Some(lower),
        sluice_over_core: ratio,
        results: vec![core.clone(), sluice.clone()],
    };
    write_outputs(&rep, &cfg.out, &core_runs, &sluice_runs)?;
    Ok(rep)
}

/// Writes report.json, report.md, blocks_per_second.svg and (when Sluice reported stages)
/// sluice_stages.svg.
///
/// # Errors
/// I/O and drawing failures.
pub fn write_outputs(
    rep: &Report,
    out: &Path,
    core_runs: &[EngineRun],
    sluice_runs: &[EngineRun],
) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    rep.write_json(&out.join("report.json"))?;
    std::fs::write(out.join("report.md"), markdown::render(rep))?;
    let window = (rep.chain.stats.blocks / 50).max(1);
    let mut series = Vec::new();
    for (label, runs, engine) in [
        ("core", core_runs, EngineKind::Core),
        ("sluice", sluice_runs, EngineKind::Sluice),
    ] {
        if let (Some(res), false) = (rep.result(engine), runs.is_empty()) {
            if let Some(run) = median_run(runs, res.median) {
                series.push((label, plot::throughput(&run.connected_at, window)));
            }
        }
    }
    plot::blocks_per_second(&out.join("blocks_per_second.svg"), &series)?;
    if let Some(sl) = rep.result(EngineKind::Sluice) {
        if !sl.stages.is_empty() {
            plot::stages(&out.join("sluice_stages.svg"), &sl.stages)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Rejection, Tip};

    fn run(engine: EngineKind, height: u64, hash: &str, rejected: Option<&str>) -> EngineRun {
        EngineRun {
            engine,
            threads: 1,
            wall_s: 1.0,
            user_s: 1.0,
            system_s: 0.0,
            peak_rss_bytes: 0,
            tip: Tip {
                height,
                hash: hash.into(),
            },
            first_rejected: rejected.map(|h| Rejection {
                hash: h.into(),
                reason: "bad-txns".into(),
            }),
            connected_at: vec![],
            stages: vec![],
        }
    }

    fn stats() -> ChainStats {
        let mut s = ChainStats::default();
        for (i, h) in ["a", "b", "c", "d"].iter().enumerate() {
            s.order.push((*h).into());
            s.heights.insert((*h).into(), i as u64);
        }
        s
    }

    #[test]
    fn agreeing_tips_are_no_difference() {
        let c = run(EngineKind::Core, 3, "d", None);
        let s = run(EngineKind::Sluice, 3, "d", None);
        assert_eq!(first_difference(&stats(), &c, &s), None);
    }

    #[test]
    fn names_the_block_one_past_the_lower_tip() {
        let c = run(EngineKind::Core, 1, "b", Some("c"));
        let s = run(EngineKind::Sluice, 3, "d", None);
        let d = first_difference(&stats(), &c, &s).unwrap();
        assert_eq!(d.height, 2);
        assert_eq!(d.hash, "c");
        assert!(d.core.contains("rejected it (bad-txns)"), "{d:?}");
        assert!(d.sluice.contains("connected it"), "{d:?}");
        assert!(d.to_string().contains("height 2 (c)"));
    }

    #[test]
    fn same_height_different_blocks() {
        let c = run(EngineKind::Core, 2, "c", None);
        let s = run(EngineKind::Sluice, 2, "x", None);
        let d = first_difference(&stats(), &c, &s).unwrap();
        assert_eq!(d.height, 2);
    }
}
