//! The race report: `report.json` (hyperfine-like: one entry per engine with command, mean,
//! stddev, median, user, system, min, max and times[], plus machine, commit, chain and threads).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::chain::{ChainStats, Network};
use crate::engine::{EngineKind, EngineRun, Tip};
use crate::machine::Machine;
use crate::stats::{self, StatsError, Summary};

/// How the figures were taken; copied into every report so it reads on its own.
pub const METHOD: &str = "Each run is a fresh child process (`perf engine-run`) with a fresh data \
directory; engines alternate A B A B. Wall time covers the import from the block files to a \
flushed on-disk state (engine set-up excluded). User/system CPU are getrusage(RUSAGE_SELF) deltas \
around the import in the child; peak RSS is the child's ru_maxrss. Rates are chain totals divided \
by each run's wall time. Ratios are Sluice/Core wall time computed pair by pair.";

/// Per-run costs of one engine and the chain's totals per second of its runs; shared by the
/// import race and the IBD race reports (flattened into their JSON entries).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFigures {
    /// Wall seconds per run, in run order.
    pub times: Vec<f64>,
    pub user_times: Vec<f64>,
    pub system_times: Vec<f64>,
    pub peak_rss_bytes: Vec<u64>,
    /// Median over runs of chain blocks / wall seconds.
    pub blocks_per_s: f64,
    pub tx_per_s: f64,
    pub inputs_per_s: f64,
    pub signatures_per_s: f64,
}

impl RunFigures {
    /// Collects `(wall s, user s, system s, peak RSS bytes)` per run and the chain's rates.
    ///
    /// # Errors
    /// No runs, or non-finite timings.
    pub fn collect(
        stats: &ChainStats,
        runs: impl IntoIterator<Item = (f64, f64, f64, u64)>,
    ) -> Result<Self, StatsError> {
        let (mut times, mut user_times, mut system_times, mut peak_rss_bytes) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (wall, user, system, rss) in runs {
            times.push(wall);
            user_times.push(user);
            system_times.push(system);
            peak_rss_bytes.push(rss);
        }
        let per = |count: u64| -> Result<f64, StatsError> {
            let v: Vec<f64> = times.iter().map(|t| stats::rate(count, *t)).collect();
            stats::median(&v)
        };
        Ok(Self {
            blocks_per_s: per(stats.blocks)?,
            tx_per_s: per(stats.transactions)?,
            inputs_per_s: per(stats.inputs)?,
            signatures_per_s: per(stats.signatures.total())?,
            times,
            user_times,
            system_times,
            peak_rss_bytes,
        })
    }
}

/// One engine's figures over all runs (hyperfine's `results[]` entry plus throughput).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineResult {
    pub command: String,
    pub engine: EngineKind,
    pub mean: f64,
    pub stddev: f64,
    pub median: f64,
    /// Mean user CPU seconds.
    pub user: f64,
    /// Mean system CPU seconds.
    pub system: f64,
    pub min: f64,
    pub max: f64,
    #[serde(flatten)]
    pub figures: RunFigures,
    /// Median seconds per stage over runs (Sluice only).
    pub stages: Vec<(String, f64)>,
}

/// Sluice/Core wall-time ratio, pair by pair (below 1 means Sluice is faster).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ratio {
    pub pairs: Vec<f64>,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

/// The chain that was raced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainInfo {
    pub path: String,
    pub network: Network,
    pub manifest: Option<serde_json::Value>,
    pub stats: ChainStats,
    pub tip: Tip,
}

/// The signature-verification floor: no engine on these cores can beat it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LowerBound {
    pub ecdsa_verify_us: f64,
    pub schnorr_verify_us: f64,
    /// How the Schnorr cost was measured (batch or single verification).
    pub schnorr_method: String,
    pub cores: usize,
    /// (ECDSA·cost + Schnorr·cost) / cores.
    pub seconds: f64,
    /// Sluice's median wall time divided by the bound (1.0 would be perfect).
    pub sluice_over_bound: f64,
}

/// Everything `report.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub results: Vec<EngineResult>,
    pub sluice_over_core: Ratio,
    pub lower_bound: Option<LowerBound>,
    pub machine: Machine,
    pub commit: String,
    /// UTC date-time of the report (RFC 3339).
    pub date: String,
    pub threads: usize,
    pub runs: usize,
    pub chain: ChainInfo,
    pub method: String,
}

/// Summarises the runs of one engine.
///
/// # Errors
/// No runs, or non-finite timings.
pub fn engine_result(
    command: String,
    engine: EngineKind,
    runs: &[EngineRun],
    stats: &ChainStats,
) -> Result<EngineResult, StatsError> {
    let figures = RunFigures::collect(
        stats,
        runs.iter()
            .map(|r| (r.wall_s, r.user_s, r.system_s, r.peak_rss_bytes)),
    )?;
    let Summary {
        mean,
        stddev,
        median,
        min,
        max,
    } = stats::summarize(&figures.times)?;
    let mut stages = Vec::new();
    if let Some(first) = runs.first() {
        for (name, _) in &first.stages {
            let v: Vec<f64> = runs
                .iter()
                .filter_map(|r| r.stages.iter().find(|(n, _)| n == name).map(|(_, s)| *s))
                .collect();
            stages.push((name.clone(), stats::median(&v)?));
        }
    }
    Ok(EngineResult {
        command,
        engine,
        mean,
        stddev,
        median,
        user: stats::summarize(&figures.user_times)?.mean,
        system: stats::summarize(&figures.system_times)?.mean,
        min,
        max,
        figures,
        stages,
    })
}

/// Sluice/Core ratio of wall times, pair by pair.
///
/// # Errors
/// Unequal run counts, no runs, or a zero Core time.
pub fn ratio(sluice: &EngineResult, core: &EngineResult) -> Result<Ratio, StatsError> {
    let pairs = stats::pairwise_ratios(&sluice.figures.times, &core.figures.times)?;
    let s = stats::summarize(&pairs)?;
    Ok(Ratio {
        median: s.median,
        min: s.min,
        max: s.max,
        pairs,
    })
}

impl Report {
    /// The result of `engine`, if it ran.
    #[must_use]
    pub fn result(&self, engine: EngineKind) -> Option<&EngineResult> {
        self.results.iter().find(|r| r.engine == engine)
    }

    /// Writes `report.json`.
    ///
    /// # Errors
    /// I/O or serialisation failures.
    pub fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        std::fs::write(path, serde_json::to_vec_pretty(self)?)?;
        Ok(())
    }
}

/// Current UTC time as RFC 3339 (seconds precision), without a date crate.
#[must_use]
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc_from_unix(secs)
}

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, civil-from-days).
#[must_use]
pub fn utc_from_unix(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 (all non-negative here).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::sigcount::SigCount;

    fn run(engine: EngineKind, wall: f64) -> EngineRun {
        EngineRun {
            engine,
            threads: 2,
            wall_s: wall,
            user_s: wall * 1.5,
            system_s: 0.1,
            peak_rss_bytes: 1 << 20,
            tip: Tip {
                height: 10,
                hash: "00".repeat(32),
            },
            first_rejected: None,
            connected_at: vec![(1, 0.1), (10, wall)],
            stages: if engine == EngineKind::Sluice {
                vec![("scripts".into(), wall / 2.0), ("apply".into(), wall / 4.0)]
            } else {
                vec![]
            },
        }
    }

    fn stats() -> ChainStats {
        ChainStats {
            blocks: 10,
            transactions: 100,
            inputs: 400,
            signatures: SigCount {
                ecdsa: 300,
                schnorr: 100,
            },
            ..ChainStats::default()
        }
    }

    pub(crate) fn sample_report() -> Report {
        let st = stats();
        let core_runs = [run(EngineKind::Core, 2.0), run(EngineKind::Core, 4.0)];
        let sluice_runs = [run(EngineKind::Sluice, 1.0), run(EngineKind::Sluice, 3.0)];
        let core = engine_result("core".into(), EngineKind::Core, &core_runs, &st).unwrap();
        let sluice = engine_result("sluice".into(), EngineKind::Sluice, &sluice_runs, &st).unwrap();
        let r = ratio(&sluice, &core).unwrap();
        Report {
            results: vec![sluice, core],
            sluice_over_core: r,
            lower_bound: None,
            machine: Machine::detect(),
            commit: "abc".into(),
            date: utc_now(),
            threads: 2,
            runs: 2,
            chain: ChainInfo {
                path: "x".into(),
                network: Network::Regtest,
                manifest: None,
                stats: st,
                tip: Tip {
                    height: 10,
                    hash: "00".repeat(32),
                },
            },
            method: METHOD.into(),
        }
    }

    #[test]
    fn engine_result_summarises_runs() {
        let rep = sample_report();
        let core = rep.result(EngineKind::Core).unwrap();
        assert_eq!(core.median, 3.0);
        assert_eq!(core.figures.times, vec![2.0, 4.0]);
        assert_eq!(core.user, 4.5);
        // Blocks/s per run are 5 and 2.5: median 3.75.
        assert_eq!(core.figures.blocks_per_s, 3.75);
        assert_eq!(core.figures.signatures_per_s, 150.0);
        let sluice = rep.result(EngineKind::Sluice).unwrap();
        assert_eq!(
            sluice.stages,
            vec![("scripts".into(), 1.0), ("apply".into(), 0.5)]
        );
        assert_eq!(rep.sluice_over_core.pairs, vec![0.5, 0.75]);
        assert_eq!(rep.sluice_over_core.median, 0.625);
    }

    #[test]
    fn json_has_the_hyperfine_fields_and_round_trips() {
        let rep = sample_report();
        let text = serde_json::to_string(&rep).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        for key in [
            "command", "mean", "stddev", "median", "user", "system", "min", "max", "times",
        ] {
            assert!(v["results"][0].get(key).is_some(), "missing {key}");
        }
        for key in [
            "machine",
            "commit",
            "threads",
            "chain",
            "sluice_over_core",
            "date",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        let back: Report = serde_json::from_str(&text).unwrap();
        assert_eq!(back.results, rep.results);
    }

    #[test]
    fn utc_formatting() {
        assert_eq!(utc_from_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_from_unix(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc_from_unix(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
