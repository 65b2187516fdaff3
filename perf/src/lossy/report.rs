//! The `perf lossy` report: report.json (every block's latency), report.md (percentiles of
//! both transports side by side per loss level) and one latency CDF plot per loss level.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::latency::{summarize, Summary};
use super::netns::{Counters, Shape};
use super::node::Transport;
use super::LossyArgs;
use crate::machine::{self, Machine};
use crate::markdown::machine_facts;
use crate::plot::{line_chart, Line};
use crate::report::utc_now;

/// One relayed block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockSample {
    pub height: u32,
    pub bytes: usize,
    /// Sender connected → receiver connected, microseconds.
    pub latency_us: u64,
}

/// One transport at one loss level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub loss_pct: f64,
    pub rate_mbit: u32,
    pub transport: Transport,
    /// `transport_protocol_type` of the sender's one peer (`quic` or `v2`).
    pub peer_transport: String,
    /// Height both nodes started at (the imported prefix).
    pub start_height: u64,
    pub summary: Summary,
    /// Ingress counters of the sender's and the receiver's namespace.
    pub sender_ingress: Counters,
    pub receiver_ingress: Counters,
    /// Wall time of the whole relay loop (submissions included), seconds.
    pub relay_s: f64,
    pub blocks: Vec<BlockSample>,
}

impl Run {
    /// Summarises `blocks`.
    ///
    /// # Errors
    /// No blocks.
    pub fn new(
        shape: Shape,
        transport: Transport,
        peer_transport: String,
        start_height: u64,
        blocks: Vec<BlockSample>,
        [sender_ingress, receiver_ingress]: [Counters; 2],
        relay_s: f64,
    ) -> anyhow::Result<Self> {
        let lat: Vec<u64> = blocks.iter().map(|b| b.latency_us).collect();
        Ok(Run {
            loss_pct: shape.loss_pct,
            rate_mbit: shape.rate_mbit,
            transport,
            peer_transport,
            start_height,
            summary: summarize(&lat)?,
            sender_ingress,
            receiver_ingress,
            relay_s,
            blocks,
        })
    }

    /// Share of packets dropped on both sides' ingress, percent (what the rules really did).
    #[must_use]
    #[allow(clippy::cast_precision_loss)] // packet counts below 2^53
    pub fn observed_loss_pct(&self) -> f64 {
        let seen = self.sender_ingress.seen + self.receiver_ingress.seen;
        let dropped = self.sender_ingress.dropped + self.receiver_ingress.dropped;
        if seen == 0 {
            0.0
        } else {
            dropped as f64 * 100.0 / seen as f64
        }
    }
}

/// The relayed blocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayedBlocks {
    pub count: usize,
    pub first_height: u32,
    pub min_weight: u64,
    pub mean_weight: u64,
    pub mean_bytes: u64,
}

/// Everything `perf lossy` measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossyReport {
    pub command: String,
    pub date: String,
    pub commit: String,
    pub machine: Machine,
    pub load_average_end: String,
    pub chain: String,
    pub relayed: RelayedBlocks,
    pub rate_mbit: u32,
    pub script_workers: usize,
    /// TCP congestion control in the namespaces.
    #[serde(default)]
    pub tcp_congestion_control: String,
    /// QUIC congestion control of both nodes (reports before the option: cubic).
    #[serde(default = "default_quic_cc")]
    pub quic_congestion_control: String,
    pub method: String,
    pub runs: Vec<Run>,
}

fn default_quic_cc() -> String {
    "cubic".into()
}

/// How the figures are taken (copied into every report).
pub const METHOD: &str = "Two network namespaces joined by a veth pair (offloads off: one \
    packet per frame). Each side's ingress drops the given share of packets (nftables `numgen \
    random`), each side's egress is rate-limited by `tc tbf`; no added delay. Both nodes start \
    from the same imported prefix of the chain; the relayed blocks are submitted to the sender \
    one at a time with `submitblock`, and the next is submitted only once the receiver has \
    connected the previous one. A block's latency is the receiver's `connected` log event minus \
    the sender's (both nodes' JSON log timestamps, one machine clock): announcement, request, \
    transfer and the receiver's full validation. The nodes checkpoint their UTXO set only \
    hourly (`--checkpoint-secs 3600`), so no flush lands inside a run. Percentiles from an HDR histogram (3 \
    significant digits).";

impl LossyReport {
    /// Builds the report of `runs`.
    #[must_use]
    pub fn new(
        a: &LossyArgs,
        command: String,
        chain: &Path,
        relayed: RelayedBlocks,
        runs: Vec<Run>,
    ) -> Self {
        LossyReport {
            command,
            date: utc_now(),
            commit: machine::commit(),
            machine: Machine::detect(),
            load_average_end: machine::load_average(),
            chain: chain.display().to_string(),
            relayed,
            rate_mbit: a.rate_mbit,
            script_workers: a.script_workers,
            tcp_congestion_control: String::new(),
            quic_congestion_control: default_quic_cc(),
            method: METHOD.into(),
            runs,
        }
    }

    /// The loss levels measured, in order.
    #[must_use]
    pub fn losses(&self) -> Vec<f64> {
        let mut v: Vec<f64> = Vec::new();
        for r in &self.runs {
            if !v.contains(&r.loss_pct) {
                v.push(r.loss_pct);
            }
        }
        v
    }

    fn run(&self, loss: f64, t: Transport) -> Option<&Run> {
        self.runs
            .iter()
            .find(|r| r.loss_pct == loss && r.transport == t)
    }

    /// Writes report.json, report.md and the plots into `out`.
    ///
    /// # Errors
    /// I/O or drawing errors.
    pub fn write(&self, out: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(out)?;
        std::fs::write(out.join("report.json"), serde_json::to_vec_pretty(self)?)?;
        std::fs::write(out.join("report.md"), render(self))?;
        for loss in self.losses() {
            let lines: Vec<Line> = [Transport::Quic, Transport::Tcp]
                .iter()
                .enumerate()
                .filter_map(|(color, &t)| {
                    self.run(loss, t).map(|r| Line {
                        label: t.name().into(),
                        color,
                        opacity: 1.0,
                        points: cdf(&r.blocks),
                    })
                })
                .collect();
            line_chart(
                &out.join(plot_name(loss)),
                &format!(
                    "Block latency CDF, {loss} % loss, {} Mbit/s",
                    self.rate_mbit
                ),
                (
                    "sender connected → receiver connected, ms",
                    "share of blocks",
                ),
                &lines,
            )?;
        }
        Ok(())
    }
}

/// The plot file of one loss level.
#[must_use]
pub fn plot_name(loss: f64) -> String {
    format!(
        "latency_cdf_loss{}.svg",
        format!("{loss}").replace('.', "_")
    )
}

/// `(latency ms, share of blocks at or below it)`, sorted.
#[must_use]
pub fn cdf(blocks: &[BlockSample]) -> Vec<(f64, f64)> {
    let mut ms: Vec<f64> = blocks
        .iter()
        .map(|b| {
            #[allow(clippy::cast_precision_loss)] // microseconds below 2^53
            let v = b.latency_us as f64 / 1_000.0;
            v
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    #[allow(clippy::cast_precision_loss)] // block counts are small
    let n = ms.len() as f64;
    ms.into_iter()
        .enumerate()
        .map(|(i, v)| {
            #[allow(clippy::cast_precision_loss)]
            let share = (i + 1) as f64 / n;
            (v, share)
        })
        .collect()
}

/// Renders report.md.
#[must_use]
pub fn render(r: &LossyReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Block propagation over a lossy link: QUIC vs TCP v2\n");
    let _ = writeln!(
        s,
        "{} · commit `{}` · {} · load average {} at the end\n",
        r.date,
        r.commit,
        machine_facts(&r.machine),
        r.load_average_end
    );
    let _ = writeln!(s, "```\n{}\n```\n", r.command);
    let b = &r.relayed;
    let _ = writeln!(
        s,
        "{} blocks relayed per run (heights {}–{}), weight {} WU mean, {} WU smallest, {:.2} MB \
         mean; chain `{}`. Link: {} each way, script workers {} per node. Congestion control: TCP \
         {}, QUIC {}.\n",
        b.count,
        b.first_height,
        (b.first_height as usize + b.count).saturating_sub(1),
        b.mean_weight,
        b.min_weight,
        mb(b.mean_bytes),
        r.chain,
        if r.rate_mbit == 0 {
            "no rate limit".to_owned()
        } else {
            format!("{} Mbit/s", r.rate_mbit)
        },
        r.script_workers,
        r.tcp_congestion_control,
        r.quic_congestion_control
    );
    let _ = writeln!(
        s,
        "| loss | transport | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | mean ms | dropped \
         (observed) | relay wall s |"
    );
    let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for loss in r.losses() {
        for t in [Transport::Quic, Transport::Tcp] {
            if let Some(run) = r.run(loss, t) {
                let m = &run.summary;
                let _ = writeln!(
                    s,
                    "| {loss} % | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} % | \
                     {:.0} |",
                    t.name(),
                    m.p50_ms,
                    m.p90_ms,
                    m.p99_ms,
                    m.p999_ms,
                    m.max_ms,
                    m.mean_ms,
                    run.observed_loss_pct(),
                    run.relay_s
                );
            }
        }
    }
    let _ = writeln!(
        s,
        "\nQUIC against TCP v2 (TCP ÷ QUIC; above 1: QUIC is faster):\n"
    );
    let _ = writeln!(s, "| loss | p50 | p99 | p99.9 |");
    let _ = writeln!(s, "|---|---:|---:|---:|");
    for loss in r.losses() {
        if let (Some(q), Some(t)) = (r.run(loss, Transport::Quic), r.run(loss, Transport::Tcp)) {
            let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
            let _ = writeln!(
                s,
                "| {loss} % | {:.2} | {:.2} | {:.2} |",
                ratio(t.summary.p50_ms, q.summary.p50_ms),
                ratio(t.summary.p99_ms, q.summary.p99_ms),
                ratio(t.summary.p999_ms, q.summary.p999_ms)
            );
        }
    }
    let _ = writeln!(s);
    for loss in r.losses() {
        let _ = writeln!(s, "![{loss} % loss]({})", plot_name(loss));
    }
    let _ = writeln!(
        s,
        "\nWith {} blocks per run, p99.9 is the largest or second-largest sample: read it as \
         the tail, not as a stable percentile.\n",
        r.relayed.count
    );
    let _ = writeln!(s, "## Method\n\n{}", r.method);
    s
}

#[allow(clippy::cast_precision_loss)] // byte counts below 2^53
fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        a: LossyArgs,
    }

    fn run(loss: f64, t: Transport, base_ms: u64) -> Run {
        let blocks = (0..100)
            .map(|i| BlockSample {
                height: 110 + i,
                bytes: 1_500_000,
                latency_us: (base_ms + u64::from(i)) * 1_000,
            })
            .collect();
        let shape = Shape {
            loss_pct: loss,
            rate_mbit: 50,
        };
        let c = Counters {
            seen: 1000,
            dropped: 30,
        };
        Run::new(shape, t, "quic".into(), 110, blocks, [c, c], 12.0).unwrap()
    }

    #[test]
    fn report_shows_both_transports_side_by_side() {
        let a = Cli::try_parse_from(["perf"]).unwrap().a;
        let runs = vec![
            run(0.0, Transport::Quic, 100),
            run(0.0, Transport::Tcp, 100),
            run(3.0, Transport::Tcp, 400),
            run(3.0, Transport::Quic, 200),
        ];
        let relayed = RelayedBlocks {
            count: 100,
            first_height: 110,
            min_weight: 3_990_000,
            mean_weight: 3_995_000,
            mean_bytes: 1_500_000,
        };
        let rep = LossyReport::new(&a, "perf lossy".into(), Path::new("c"), relayed, runs);
        assert_eq!(rep.losses(), vec![0.0, 3.0]);
        let md = render(&rep);
        // QUIC first within each loss level, whatever order the runs came in.
        let q3 = md.find("| 3 % | QUIC |").unwrap();
        let t3 = md.find("| 3 % | TCP v2 |").unwrap();
        assert!(q3 < t3, "{md}");
        // p50 of 200..=299 ms is 249 ms (249.1 at the histogram's 3 digits); of 400..=499 ms
        // 449 ms: TCP/QUIC 1.80.
        assert!(md.contains("| 3 % | QUIC | 249.1 |"), "{md}");
        assert!(md.contains("| 3 % | TCP v2 | 449.0 |"), "{md}");
        assert!(md.contains("| 3 % | 1.80 |"), "{md}");
        assert!(md.contains("| 0 % | 1.00 | 1.00 | 1.00 |"), "{md}");
        assert!(md.contains("3.00 %"), "observed loss: {md}");
        assert!(md.contains("latency_cdf_loss3.svg"));
        let dir = tempfile::tempdir().unwrap();
        rep.write(dir.path()).unwrap();
        let back: LossyReport =
            serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap())
                .unwrap();
        assert_eq!(back, rep);
        for f in [
            "report.md",
            "latency_cdf_loss0.svg",
            "latency_cdf_loss3.svg",
        ] {
            assert!(dir.path().join(f).is_file(), "{f}");
        }
    }

    #[test]
    fn cdf_is_sorted_and_ends_at_one() {
        let b = |ms: u64| BlockSample {
            height: 1,
            bytes: 1,
            latency_us: ms * 1_000,
        };
        let c = cdf(&[b(30), b(10), b(20), b(40)]);
        assert_eq!(
            c,
            vec![(10.0, 0.25), (20.0, 0.5), (30.0, 0.75), (40.0, 1.0)]
        );
        assert_eq!(plot_name(1.5), "latency_cdf_loss1_5.svg");
    }
}
