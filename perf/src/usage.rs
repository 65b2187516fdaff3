//! CPU time and peak memory of this process, from `getrusage(RUSAGE_SELF)`.
//!
//! `perf race` runs every engine run in a fresh child process (`perf engine-run`), so the
//! child's own counters are exactly that run's: user/system CPU are deltas taken around the
//! import, and peak RSS (`ru_maxrss`) is the child's high-water mark — which includes the
//! engine's setup, but nothing left over from earlier runs.

use nix::sys::resource::{getrusage, UsageWho};

/// A snapshot of this process's resource counters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage {
    pub user_s: f64,
    pub system_s: f64,
    /// Peak resident set size so far, in bytes.
    pub max_rss_bytes: u64,
}

impl Usage {
    /// Reads the counters now.
    ///
    /// # Errors
    /// The system call failing (it does not on Linux for `RUSAGE_SELF`).
    pub fn now() -> Result<Self, nix::Error> {
        let u = getrusage(UsageWho::RUSAGE_SELF)?;
        let secs = |t: nix::sys::time::TimeVal| {
            #[allow(clippy::cast_precision_loss)] // seconds fit easily
            let s = t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
            s
        };
        // Linux reports ru_maxrss in KiB.
        let kib = u64::try_from(u.max_rss()).unwrap_or(0);
        Ok(Self {
            user_s: secs(u.user_time()),
            system_s: secs(u.system_time()),
            max_rss_bytes: kib * 1024,
        })
    }

    /// CPU spent between `earlier` and `self`.
    #[must_use]
    pub fn cpu_since(&self, earlier: &Self) -> (f64, f64) {
        (
            self.user_s - earlier.user_s,
            self.system_s - earlier.system_s,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_move_forward() {
        let a = Usage::now().unwrap();
        // Burn a little CPU so user time can advance.
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i);
        }
        std::hint::black_box(x);
        let b = Usage::now().unwrap();
        let (user, sys) = b.cpu_since(&a);
        assert!(user >= 0.0 && sys >= 0.0);
        assert!(b.max_rss_bytes > 0);
    }
}
