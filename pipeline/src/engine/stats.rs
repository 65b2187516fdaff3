//! Per-stage timings and queue depths, recorded lock-free by the workers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counters one stage's workers update.
#[derive(Debug, Default)]
pub struct StageCounters {
    busy_nanos: AtomicU64,
    items: AtomicU64,
    depth_max: AtomicU64,
    depth_sum: AtomicU64,
    depth_samples: AtomicU64,
    depth_now: AtomicU64,
}

impl StageCounters {
    /// One item took `busy` of a worker's time.
    pub fn record_item(&self, busy: Duration) {
        let nanos = u64::try_from(busy.as_nanos()).unwrap_or(u64::MAX);
        self.busy_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.items.fetch_add(1, Ordering::Relaxed);
    }

    /// The stage's input queue held `depth` items when a worker looked.
    pub fn sample_depth(&self, depth: usize) {
        let d = depth as u64;
        self.depth_max.fetch_max(d, Ordering::Relaxed);
        self.depth_sum.fetch_add(d, Ordering::Relaxed);
        self.depth_samples.fetch_add(1, Ordering::Relaxed);
        self.depth_now.store(d, Ordering::Relaxed);
    }

    /// Worker time spent on items so far.
    #[must_use]
    pub fn busy(&self) -> Duration {
        Duration::from_nanos(self.busy_nanos.load(Ordering::Relaxed))
    }

    /// Items processed so far.
    #[must_use]
    pub fn items(&self) -> u64 {
        self.items.load(Ordering::Relaxed)
    }

    /// The input queue's depth at the last look (a live gauge for metrics).
    #[must_use]
    pub fn depth_now(&self) -> u64 {
        self.depth_now.load(Ordering::Relaxed)
    }

    /// A snapshot under `name`.
    #[must_use]
    pub fn snapshot(&self, name: &'static str, workers: usize) -> StageStats {
        let samples = self.depth_samples.load(Ordering::Relaxed);
        let sum = self.depth_sum.load(Ordering::Relaxed);
        #[allow(clippy::cast_precision_loss)]
        let mean = if samples == 0 {
            0.0
        } else {
            sum as f64 / samples as f64
        };
        StageStats {
            name,
            workers,
            busy: Duration::from_nanos(self.busy_nanos.load(Ordering::Relaxed)),
            items: self.items.load(Ordering::Relaxed),
            queue_max: self.depth_max.load(Ordering::Relaxed),
            queue_mean: mean,
        }
    }
}

/// A histogram of integer observations over fixed upper bounds, recorded lock-free (one
/// relaxed add per field). Buckets are not cumulative; the last one counts values above every
/// bound.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [u64],
    buckets: Box<[AtomicU64]>,
    sum: AtomicU64,
    count: AtomicU64,
}

/// Powers of two from 1 to 65,536: sizes of signature batches and blocks per batch.
pub const SIZE_BOUNDS: [u64; 17] = [
    1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536,
];

impl Histogram {
    /// An empty histogram; `bounds` must be increasing.
    #[must_use]
    pub fn new(bounds: &'static [u64]) -> Self {
        debug_assert!(bounds.windows(2).all(|w| w[0] < w[1]));
        Self {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    /// Counts one observation.
    pub fn record(&self, value: u64) {
        let i = self.bounds.partition_point(|&b| b < value);
        if let Some(b) = self.buckets.get(i) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        self.sum.fetch_add(value, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// The figures so far (not an atomic snapshot: a concurrent `record` may be half seen).
    #[must_use]
    pub fn snapshot(&self) -> HistogramSnapshot {
        HistogramSnapshot {
            bounds: self.bounds,
            buckets: self
                .buckets
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect(),
            sum: self.sum.load(Ordering::Relaxed),
            count: self.count.load(Ordering::Relaxed),
        }
    }
}

/// What a [`Histogram`] held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistogramSnapshot {
    pub bounds: &'static [u64],
    /// Per bucket (not cumulative), `bounds.len() + 1` of them: the last is above every bound.
    pub buckets: Vec<u64>,
    pub sum: u64,
    pub count: u64,
}

/// Sizes of the batch stage's batches.
#[derive(Debug)]
pub struct BatchCounters {
    /// Deferred signatures per batch.
    pub signatures: Histogram,
    /// Blocks per batch.
    pub blocks: Histogram,
}

impl Default for BatchCounters {
    fn default() -> Self {
        Self {
            signatures: Histogram::new(&SIZE_BOUNDS),
            blocks: Histogram::new(&SIZE_BOUNDS),
        }
    }
}

/// One stage's figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StageStats {
    pub name: &'static str,
    pub workers: usize,
    /// Sum over workers of time spent working (not waiting on queues).
    pub busy: Duration,
    pub items: u64,
    /// Deepest the stage's input queue was seen.
    pub queue_max: u64,
    pub queue_mean: f64,
}

/// Figures of a whole run.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct PipelineStats {
    pub stages: Vec<StageStats>,
    pub wall: Duration,
}

impl PipelineStats {
    /// Busy time of the stage called `name`.
    #[must_use]
    pub fn busy(&self, name: &str) -> Option<Duration> {
        self.stages.iter().find(|s| s.name == name).map(|s| s.busy)
    }

    /// Human-readable table, one stage per line.
    #[must_use]
    pub fn table(&self) -> String {
        use std::fmt::Write;
        let mut s =
            String::from("stage        workers   busy (s)   busy %    items  queue max/mean\n");
        let wall = self.wall.as_secs_f64().max(1e-9);
        for st in &self.stages {
            #[allow(clippy::cast_precision_loss)]
            let pct = 100.0 * st.busy.as_secs_f64() / wall / st.workers.max(1) as f64;
            let _ = writeln!(
                s,
                "{:<12} {:>7} {:>10.3} {:>7.1}% {:>8} {:>6}/{:.1}",
                st.name,
                st.workers,
                st.busy.as_secs_f64(),
                pct,
                st.items,
                st.queue_max,
                st.queue_mean
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_add_up() {
        let c = StageCounters::default();
        c.record_item(Duration::from_millis(3));
        c.record_item(Duration::from_millis(5));
        c.sample_depth(2);
        c.sample_depth(6);
        let s = c.snapshot("apply", 1);
        assert_eq!(s.busy, Duration::from_millis(8));
        assert_eq!(s.items, 2);
        assert_eq!(s.queue_max, 6);
        assert!((s.queue_mean - 4.0).abs() < 1e-9);
        let p = PipelineStats {
            stages: vec![s],
            wall: Duration::from_millis(16),
        };
        assert_eq!(p.busy("apply"), Some(Duration::from_millis(8)));
        assert!(p.table().contains("apply"));
        assert_eq!(c.depth_now(), 6);
        c.sample_depth(1);
        assert_eq!(
            c.depth_now(),
            1,
            "the gauge is the last look, not the maximum"
        );
    }

    #[test]
    fn histogram_buckets_are_upper_bounds() {
        static B: [u64; 3] = [1, 4, 16];
        let h = Histogram::new(&B);
        for v in [0, 1, 2, 4, 5, 16, 17, 1000] {
            h.record(v);
        }
        let s = h.snapshot();
        assert_eq!(
            s.buckets,
            vec![2, 2, 2, 2],
            "le 1: 0,1; le 4: 2,4; le 16: 5,16; above: 17,1000"
        );
        assert_eq!(s.count, 8);
        assert_eq!(s.sum, 1045);
    }
}
