//! What an IBD race measures and writes: one [`SyncRun`] per node run, the seed's facts, the
//! per-engine summaries and the bitcoind/Sluice ratio (`report.json`), rendered as
//! `report.md` (see `render.rs`) and plotted as `height_over_time.svg`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::engine::Tip;
use crate::machine::Machine;
use crate::plot::{self, Line};
use crate::report::{ChainInfo, RunFigures};
use crate::stats::{self, StatsError, Summary};

/// How the figures are taken; copied into every report so it reads on its own.
pub const METHOD: &str = "A seed bitcoind (regtest, loopback) loads the chain with -loadblock and \
serves it. Each run starts a fresh node with a fresh datadir that connects only to the seed; \
engines alternate bitcoind, Sluice, bitcoind, Sluice …. Time to tip runs from just before the node \
is started (bitcoind: process spawn; Sluice: `sluice_node::run::start` in a fresh `perf ibd-node` \
child process) until the node reports the seed's tip height; the final flush to disk is not \
included for either. Heights are sampled every sample_ms (bitcoind: `waitforblockheight` over \
JSON-RPC with that timeout, which also returns the moment the tip arrives; Sluice: its tip watch \
channel, which also wakes on the tip). CPU and peak RSS are the node process's own from its start \
to the tip (bitcoind: /proc/PID/stat and VmHWM; Sluice: getrusage in its child). A node that ends \
on another tip hash than the seed's, or a Sluice UTXO set whose MuHash differs from the seed's \
`gettxoutsetinfo muhash`, fails the race. Ratio: bitcoind median time to tip / Sluice median; \
pairs are run i of each, back to back.";

/// The node under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Bitcoind,
    Sluice,
}

impl Engine {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Bitcoind => "bitcoind",
            Self::Sluice => "sluice",
        }
    }
}

/// One node syncing the chain from the seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncRun {
    pub engine: Engine,
    /// Seconds from the node's start to the seed's tip height.
    pub wall_s: f64,
    /// `(seconds since start, height)`, every sample interval and at the tip.
    pub samples: Vec<(f64, u32)>,
    /// Where the node's chain ended.
    pub tip: Tip,
    /// MuHash of the node's UTXO set (display hex), when measured (Sluice).
    pub muhash: Option<String>,
    /// CPU of the node process from its start to the tip.
    pub user_s: f64,
    pub system_s: f64,
    /// Peak RSS of the node process up to the tip.
    pub peak_rss_bytes: u64,
}

/// The seed that served the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedInfo {
    pub tip: Tip,
    /// `gettxoutsetinfo muhash` at the tip.
    pub muhash: String,
    /// Seconds from the seed's start until it had loaded the whole chain.
    pub load_s: f64,
    pub p2p: String,
}

/// A synced node that did not end where the seed is: the race has no meaningful ratio.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{engine} run {run} did not sync the seed's chain: {what}")]
pub struct Mismatch {
    pub engine: &'static str,
    pub run: usize,
    pub what: String,
}

/// Checks that `r` (run number `run`, from 1) ended on the seed's tip hash and, when it
/// reports one, with the seed's MuHash; Sluice must report one.
///
/// # Errors
/// A [`Mismatch`] naming what differs.
pub fn verify(r: &SyncRun, run: usize, seed: &SeedInfo) -> Result<(), Mismatch> {
    let fail = |what: String| Mismatch {
        engine: r.engine.name(),
        run,
        what,
    };
    if r.tip != seed.tip {
        return Err(fail(format!(
            "ended at height {} ({}), the seed's tip is height {} ({})",
            r.tip.height, r.tip.hash, seed.tip.height, seed.tip.hash
        )));
    }
    match (&r.muhash, r.engine) {
        (Some(m), _) if *m != seed.muhash => Err(fail(format!(
            "UTXO set MuHash {m}, the seed's is {}",
            seed.muhash
        ))),
        (None, Engine::Sluice) => Err(fail("no MuHash of the UTXO set reported".into())),
        _ => Ok(()),
    }
}

/// The race's fixed settings, as run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Sluice `script_workers` = bitcoind `-par`.
    pub threads: usize,
    /// Sluice `cache_mb` = bitcoind `-dbcache`, MiB.
    pub cache_mb: usize,
    pub runs: usize,
    /// "v1" or "v2" (BIP324), the same for both engines.
    pub transport: String,
    pub sample_ms: u64,
    /// How Sluice's MuHash was obtained ("recomputed after the sync" or "live").
    pub sluice_muhash: String,
    /// The node under test's settings, as a command line.
    pub bitcoind_command: String,
    pub sluice_command: String,
}

/// One engine's figures over all its runs (hyperfine-like fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IbdResult {
    pub engine: Engine,
    pub command: String,
    /// Mean, stddev, median, min and max of the times to tip, seconds.
    #[serde(flatten)]
    pub summary: Summary,
    /// Times to tip (`times`), CPU and peak RSS per run, and chain rates.
    #[serde(flatten)]
    pub figures: RunFigures,
}

/// bitcoind's time over Sluice's (above 1: Sluice is faster).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IbdRatio {
    /// bitcoind median / Sluice median: the headline figure.
    pub of_medians: f64,
    /// Run i of bitcoind over run i of Sluice.
    pub pairs: Vec<f64>,
    pub pairs_median: f64,
}

/// Everything `report.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IbdReport {
    /// The `perf ibd` command line that produced the report.
    pub command: String,
    pub results: Vec<IbdResult>,
    pub bitcoind_over_sluice: IbdRatio,
    pub settings: Settings,
    pub chain: ChainInfo,
    pub seed: SeedInfo,
    /// Every run in the order it ran (engines alternate), with its height samples.
    pub runs: Vec<SyncRun>,
    pub machine: Machine,
    pub commit: String,
    pub date: String,
    /// /proc/loadavg before the first and after the last run.
    pub load_average_start: String,
    pub load_average_end: String,
    pub method: String,
}

/// Summarises the runs of `engine` among `runs`.
///
/// # Errors
/// No runs of that engine, or non-finite timings.
pub fn engine_result(
    engine: Engine,
    command: String,
    runs: &[SyncRun],
    chain: &ChainInfo,
) -> Result<IbdResult, StatsError> {
    let figures = RunFigures::collect(
        &chain.stats,
        runs.iter()
            .filter(|r| r.engine == engine)
            .map(|r| (r.wall_s, r.user_s, r.system_s, r.peak_rss_bytes)),
    )?;
    Ok(IbdResult {
        engine,
        command,
        summary: stats::summarize(&figures.times)?,
        figures,
    })
}

/// bitcoind over Sluice, of medians and pair by pair.
///
/// # Errors
/// Unequal run counts, no runs, or a zero Sluice time.
pub fn ratio(bitcoind: &IbdResult, sluice: &IbdResult) -> Result<IbdRatio, StatsError> {
    let of_medians = stats::pairwise_ratios(&[bitcoind.summary.median], &[sluice.summary.median])?
        .first()
        .copied()
        .ok_or(StatsError::Empty)?;
    let pairs = stats::pairwise_ratios(&bitcoind.figures.times, &sluice.figures.times)?;
    Ok(IbdRatio {
        of_medians,
        pairs_median: stats::median(&pairs)?,
        pairs,
    })
}

impl IbdReport {
    /// The summary of `engine`.
    #[must_use]
    pub fn result(&self, engine: Engine) -> Option<&IbdResult> {
        self.results.iter().find(|r| r.engine == engine)
    }
}

/// The plot's lines: height over time, one per run; bitcoind red, Sluice blue, later runs
/// lighter.
#[must_use]
pub fn height_lines(runs: &[SyncRun]) -> Vec<Line> {
    let mut counts = [0usize; 2];
    runs.iter()
        .map(|r| {
            let slot = usize::from(r.engine == Engine::Sluice);
            counts[slot] += 1;
            let n = counts[slot];
            Line {
                label: format!("{} run {n}", r.engine.name()),
                color: slot,
                #[allow(clippy::cast_precision_loss)] // run counts are tiny
                opacity: 1.0 / (1.0 + 0.6 * (n - 1) as f64),
                points: r
                    .samples
                    .iter()
                    .map(|(t, h)| (*t, f64::from(*h)))
                    .collect(),
            }
        })
        .collect()
}

/// Writes report.json, report.md and height_over_time.svg into `out`.
///
/// # Errors
/// I/O, serialisation or drawing failures.
pub fn write_outputs(rep: &IbdReport, out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join("report.json"), serde_json::to_vec_pretty(rep)?)?;
    std::fs::write(out.join("report.md"), super::render::render(rep))?;
    plot::line_chart(
        &out.join("height_over_time.svg"),
        "IBD from a bitcoind seed: height over time",
        ("seconds", "height"),
        &height_lines(&rep.runs),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::chain::{ChainStats, Network};

    pub(crate) fn tip(h: u64) -> Tip {
        Tip {
            height: h,
            hash: format!("{h:064x}"),
        }
    }

    pub(crate) fn run(engine: Engine, wall: f64) -> SyncRun {
        SyncRun {
            engine,
            wall_s: wall,
            samples: vec![(0.0, 0), (wall / 2.0, 50), (wall, 100)],
            tip: tip(100),
            muhash: (engine == Engine::Sluice).then(|| "ab".repeat(32)),
            user_s: wall * 1.5,
            system_s: 0.2,
            peak_rss_bytes: 300 << 20,
        }
    }

    pub(crate) fn seed() -> SeedInfo {
        SeedInfo {
            tip: tip(100),
            muhash: "ab".repeat(32),
            load_s: 3.0,
            p2p: "127.0.0.1:1".into(),
        }
    }

    pub(crate) fn sample_report() -> IbdReport {
        let runs = vec![
            run(Engine::Bitcoind, 30.0),
            run(Engine::Sluice, 20.0),
            run(Engine::Bitcoind, 40.0),
            run(Engine::Sluice, 16.0),
        ];
        let chain = ChainInfo {
            path: "chain".into(),
            network: Network::Regtest,
            manifest: None,
            stats: ChainStats {
                blocks: 100,
                transactions: 1000,
                inputs: 4000,
                ..ChainStats::default()
            },
            tip: tip(100),
        };
        let b = engine_result(Engine::Bitcoind, "bitcoind".into(), &runs, &chain).unwrap();
        let s = engine_result(Engine::Sluice, "sluice".into(), &runs, &chain).unwrap();
        IbdReport {
            command: "perf ibd --blocks 100".into(),
            bitcoind_over_sluice: ratio(&b, &s).unwrap(),
            results: vec![b, s],
            settings: Settings {
                threads: 2,
                cache_mb: 450,
                runs: 2,
                transport: "v1".into(),
                sample_ms: 200,
                sluice_muhash: "recomputed after the sync".into(),
                bitcoind_command: "bitcoind -par=2".into(),
                sluice_command: "sluice run".into(),
            },
            chain,
            seed: seed(),
            runs,
            machine: Machine::detect(),
            commit: "abc".into(),
            date: crate::report::utc_now(),
            load_average_start: "0.50 0.40 0.30".into(),
            load_average_end: "1.50 0.90 0.40".into(),
            method: METHOD.into(),
        }
    }

    #[test]
    fn summaries_and_ratio() {
        let rep = sample_report();
        let b = rep.result(Engine::Bitcoind).unwrap();
        let s = rep.result(Engine::Sluice).unwrap();
        assert_eq!(b.figures.times, vec![30.0, 40.0]);
        assert_eq!(s.figures.times, vec![20.0, 16.0]);
        assert_eq!(b.summary.median, 35.0);
        assert_eq!(s.summary.median, 18.0);
        // 100 blocks in 20 s and 16 s: 5 and 6.25 blocks/s.
        assert_eq!(s.figures.blocks_per_s, 5.625);
        let r = &rep.bitcoind_over_sluice;
        assert_eq!(r.of_medians, 35.0 / 18.0);
        assert_eq!(r.pairs, vec![1.5, 2.5]);
        assert_eq!(r.pairs_median, 2.0);
    }

    #[test]
    fn json_has_the_fields_and_round_trips() {
        let rep = sample_report();
        let text = serde_json::to_string(&rep).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        for key in ["command", "median", "mean", "stddev", "min", "max", "times"] {
            assert!(v["results"][0].get(key).is_some(), "missing {key}");
        }
        assert!(v["bitcoind_over_sluice"]["of_medians"].is_number());
        assert_eq!(v["runs"][1]["samples"][2], serde_json::json!([20.0, 100]));
        // (serde_json's default float parsing may differ in the last bit of computed rates.)
        let back: IbdReport = serde_json::from_str(&text).unwrap();
        assert_eq!(back.runs, rep.runs);
        assert_eq!(back.bitcoind_over_sluice, rep.bitcoind_over_sluice);
        assert_eq!(back.settings, rep.settings);
    }

    #[test]
    fn verification_catches_a_wrong_tip_or_utxo_set() {
        let seed = seed();
        assert_eq!(verify(&run(Engine::Bitcoind, 1.0), 1, &seed), Ok(()));
        assert_eq!(verify(&run(Engine::Sluice, 1.0), 1, &seed), Ok(()));
        let mut short = run(Engine::Bitcoind, 1.0);
        short.tip = tip(99);
        let e = verify(&short, 2, &seed).unwrap_err();
        assert!(e.to_string().contains("bitcoind run 2"), "{e}");
        assert!(e.to_string().contains("ended at height 99"), "{e}");
        let mut other = run(Engine::Sluice, 1.0);
        other.tip.hash = "ff".repeat(32);
        assert!(verify(&other, 1, &seed).is_err());
        let mut utxo = run(Engine::Sluice, 1.0);
        utxo.muhash = Some("cd".repeat(32));
        let e = verify(&utxo, 1, &seed).unwrap_err();
        assert!(e.to_string().contains("MuHash"), "{e}");
        utxo.muhash = None;
        assert!(
            verify(&utxo, 1, &seed).is_err(),
            "Sluice must report a MuHash"
        );
    }

    #[test]
    fn plot_lines_per_run() {
        let rep = sample_report();
        let lines = height_lines(&rep.runs);
        let labels: Vec<&str> = lines.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "bitcoind run 1",
                "sluice run 1",
                "bitcoind run 2",
                "sluice run 2"
            ]
        );
        assert_eq!((lines[0].color, lines[1].color), (0, 1));
        assert!(lines[2].opacity < lines[0].opacity);
        assert_eq!(lines[3].points.last(), Some(&(16.0, 100.0)));
        let dir = tempfile::tempdir().unwrap();
        write_outputs(&rep, dir.path()).unwrap();
        for f in ["report.json", "report.md", "height_over_time.svg"] {
            assert!(dir.path().join(f).is_file(), "{f}");
        }
    }
}
