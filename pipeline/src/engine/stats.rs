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
    }
}
