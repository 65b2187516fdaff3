//! Progress during initial block download: a bar with an ETA when stderr is a terminal, else a
//! summary line through `tracing` every [`SUMMARY_INTERVAL`]. Both read [`NodeMetrics`]; what
//! to say is decided by [`Progress`], a plain state machine fed samples with their time.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::watch;

use super::{NodeMetrics, Snapshot};

/// Time between summary lines (no terminal).
pub const SUMMARY_INTERVAL: Duration = Duration::from_secs(10);
/// Time between bar updates (terminal).
const BAR_INTERVAL: Duration = Duration::from_millis(250);

/// A snapshot and when it was taken (time since any fixed start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub at: Duration,
    pub snap: Snapshot,
}

/// Whether the node is still catching up: no headers yet, or blocks behind the headers.
#[must_use]
pub fn in_ibd(s: &Snapshot) -> bool {
    s.headers == 0 || u64::from(s.height) < s.headers
}

/// Blocks per second between two samples.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn rate(prev: &Sample, now: &Sample) -> f64 {
    let secs = now.at.saturating_sub(prev.at).as_secs_f64();
    let blocks = now
        .snap
        .blocks_connected
        .saturating_sub(prev.snap.blocks_connected);
    if secs > 0.0 {
        blocks as f64 / secs
    } else {
        0.0
    }
}

/// A duration as `1h02m03s` / `4m05s` / `6s`.
#[must_use]
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s:02}s"),
        (h, m, s) => format!("{h}h{m:02}m{s:02}s"),
    }
}

/// One summary: the figures and the line a person reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub height: u32,
    pub headers: u64,
    pub peers: usize,
    pub blocks_per_sec: f64,
    /// Blocks validated over headers known, 0 to 1.
    pub progress: f64,
    /// Time left at the current rate; `None` when nothing is moving or nothing is left.
    pub eta: Option<Duration>,
    pub line: String,
}

/// The summary of the interval from `prev` to `now`.
#[must_use]
pub fn summarize(prev: &Sample, now: &Sample) -> Summary {
    let s = now.snap;
    let bps = rate(prev, now);
    let left = s.headers.saturating_sub(u64::from(s.height));
    #[allow(clippy::cast_precision_loss)]
    let progress = if s.headers == 0 {
        0.0
    } else {
        (f64::from(s.height) / s.headers as f64).min(1.0)
    };
    #[allow(clippy::cast_precision_loss)]
    let eta = (bps > 0.0 && left > 0).then(|| Duration::from_secs_f64(left as f64 / bps));
    let mut line = if s.headers == 0 {
        format!("height {}, waiting for headers", s.height)
    } else {
        format!(
            "height {}/{} ({:.2}%)",
            s.height,
            s.headers,
            progress * 100.0
        )
    };
    line.push_str(&format!(", {} peers, {bps:.1} blocks/s", s.peers));
    if let Some(eta) = eta {
        line.push_str(&format!(", eta {}", human_duration(eta)));
    }
    Summary {
        height: s.height,
        headers: s.headers,
        peers: s.peers,
        blocks_per_sec: bps,
        progress,
        eta,
        line,
    }
}

/// Decides when to report: every interval while catching up, once when caught up, then only
/// when the tip moved (at most once per interval).
#[derive(Debug)]
pub struct Progress {
    interval: Duration,
    last: Option<Sample>,
    caught_up: bool,
}

/// What to report now.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// Still catching up.
    Syncing(Summary),
    /// Reached the best header (first time, or again after falling behind).
    CaughtUp(Summary),
    /// Following the tip: it moved.
    Tip(Summary),
}

impl Progress {
    #[must_use]
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last: None,
            caught_up: false,
        }
    }

    /// A new sample; returns what to report, if anything.
    pub fn on_sample(&mut self, now: Sample) -> Option<Report> {
        let Some(prev) = self.last else {
            self.last = Some(now);
            return None;
        };
        if now.at.saturating_sub(prev.at) < self.interval {
            return None;
        }
        self.last = Some(now);
        let summary = summarize(&prev, &now);
        if in_ibd(&now.snap) {
            self.caught_up = false;
            Some(Report::Syncing(summary))
        } else if !self.caught_up {
            self.caught_up = true;
            Some(Report::CaughtUp(summary))
        } else if now.snap.height != prev.snap.height {
            Some(Report::Tip(summary))
        } else {
            None
        }
    }
}

fn log(report: &Report) {
    let (kind, s) = match report {
        Report::Syncing(s) => ("syncing", s),
        Report::CaughtUp(s) => ("caught up", s),
        Report::Tip(s) => ("tip", s),
    };
    tracing::info!(
        target: "sluice::progress",
        height = s.height,
        headers = s.headers,
        peers = s.peers,
        blocks_per_sec = s.blocks_per_sec,
        progress = s.progress,
        eta_secs = s.eta.map(|d| d.as_secs()),
        "{kind}: {}",
        s.line
    );
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} blocks {per_sec} eta {eta} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// Reports progress until `stop` turns true: a bar on a terminal when `bar` is allowed,
/// summary lines otherwise.
pub async fn report(metrics: Arc<NodeMetrics>, bar: bool, mut stop: watch::Receiver<bool>) {
    let start = Instant::now();
    let use_bar = bar && std::io::stderr().is_terminal();
    let mut progress = Progress::new(SUMMARY_INTERVAL);
    let mut bar: Option<ProgressBar> = None;
    let mut tick = tokio::time::interval(if use_bar {
        BAR_INTERVAL
    } else {
        Duration::from_secs(1)
    });
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        let sample = Sample {
            at: start.elapsed(),
            snap: metrics.snapshot(),
        };
        if use_bar && in_ibd(&sample.snap) {
            let b = bar.get_or_insert_with(|| {
                let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                b.set_style(bar_style());
                crate::logging::set_bar(Some(b.clone()));
                b
            });
            b.set_length(sample.snap.headers);
            b.set_position(u64::from(sample.snap.height));
            b.set_message(format!("{} peers", sample.snap.peers));
        } else if let Some(b) = bar.take() {
            b.finish_and_clear();
            crate::logging::set_bar(None);
        }
        if let Some(r) = progress.on_sample(sample) {
            // With the bar drawn, catching up is on screen already.
            if !(bar.is_some() && matches!(r, Report::Syncing(_))) {
                log(&r);
            }
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
        crate::logging::set_bar(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(secs: u64, height: u32, headers: u64, peers: usize, connected: u64) -> Sample {
        Sample {
            at: Duration::from_secs(secs),
            snap: Snapshot {
                height,
                headers,
                peers,
                blocks_connected: connected,
            },
        }
    }

    #[test]
    fn summary_line_has_height_progress_rate_and_eta() {
        let s = summarize(&sample(0, 100, 1000, 3, 0), &sample(10, 300, 1000, 3, 200));
        assert_eq!(s.blocks_per_sec, 20.0);
        assert_eq!(s.progress, 0.3);
        assert_eq!(s.eta, Some(Duration::from_secs(35)));
        assert_eq!(
            s.line,
            "height 300/1000 (30.00%), 3 peers, 20.0 blocks/s, eta 35s"
        );
    }

    #[test]
    fn summary_without_headers_or_movement() {
        let s = summarize(&sample(0, 5, 0, 0, 0), &sample(10, 5, 0, 0, 0));
        assert_eq!(
            s.line,
            "height 5, waiting for headers, 0 peers, 0.0 blocks/s"
        );
        assert_eq!(s.eta, None);
        let s = summarize(&sample(0, 900, 1000, 1, 0), &sample(10, 900, 1000, 1, 0));
        assert_eq!(s.eta, None, "no rate, no estimate");
        assert!(s.line.ends_with("1 peers, 0.0 blocks/s"), "{}", s.line);
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_secs(6)), "6s");
        assert_eq!(human_duration(Duration::from_secs(245)), "4m05s");
        assert_eq!(human_duration(Duration::from_secs(3723)), "1h02m03s");
    }

    #[test]
    fn reports_every_interval_while_syncing_then_on_tip_changes() {
        let mut p = Progress::new(Duration::from_secs(10));
        assert_eq!(
            p.on_sample(sample(0, 0, 0, 0, 0)),
            None,
            "the first sample is a base"
        );
        assert_eq!(
            p.on_sample(sample(5, 10, 100, 1, 10)),
            None,
            "before the interval"
        );
        let Some(Report::Syncing(s)) = p.on_sample(sample(10, 50, 100, 1, 50)) else {
            panic!("syncing report expected")
        };
        assert_eq!(s.blocks_per_sec, 5.0);
        let r = p.on_sample(sample(20, 100, 100, 1, 100));
        assert!(matches!(r, Some(Report::CaughtUp(_))), "{r:?}");
        assert_eq!(
            p.on_sample(sample(30, 100, 100, 1, 100)),
            None,
            "nothing moved"
        );
        let r = p.on_sample(sample(40, 101, 101, 1, 101));
        assert!(
            matches!(r, Some(Report::Tip(ref s)) if s.height == 101),
            "{r:?}"
        );
        let r = p.on_sample(sample(50, 101, 150, 2, 101));
        assert!(matches!(r, Some(Report::Syncing(_))), "fell behind: {r:?}");
        let r = p.on_sample(sample(60, 150, 150, 2, 150));
        assert!(matches!(r, Some(Report::CaughtUp(_))), "{r:?}");
    }
}
