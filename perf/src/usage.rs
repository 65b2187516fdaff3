//! CPU time and peak memory of this process, from `getrusage(RUSAGE_SELF)`, or of another
//! running process (a bitcoind under test) from /proc.
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

    /// The counters of the running process `pid` since it started: user and system time from
    /// `/proc/PID/stat` (in clock ticks), peak RSS from `VmHWM` in `/proc/PID/status`.
    ///
    /// # Errors
    /// The process is gone, or its /proc files do not have the expected fields.
    pub fn of_process(pid: u32) -> std::io::Result<Self> {
        let bad =
            |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        // Fields after the parenthesised command name start at field 3 (state); utime and
        // stime are fields 14 and 15.
        let rest = stat
            .rsplit_once(')')
            .map(|(_, r)| r)
            .ok_or_else(|| bad("no ')' in /proc/PID/stat"))?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| -> std::io::Result<f64> {
            let t: u64 = fields
                .get(i)
                .and_then(|f| f.parse().ok())
                .ok_or_else(|| bad("short /proc/PID/stat"))?;
            #[allow(clippy::cast_precision_loss)] // ticks fit easily
            let t = t as f64;
            Ok(t)
        };
        let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .and_then(|v| u32::try_from(v).ok())
            .filter(|v| *v > 0)
            .map_or(100.0, f64::from);
        let hwm_kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| bad("no VmHWM in /proc/PID/status"))?;
        Ok(Self {
            user_s: ticks(11)? / hz,
            system_s: ticks(12)? / hz,
            max_rss_bytes: hwm_kib * 1024,
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

    #[test]
    fn another_process_is_read_from_proc() {
        // This process seen through /proc agrees with getrusage.
        let own = Usage::of_process(std::process::id()).unwrap();
        let now = Usage::now().unwrap();
        assert!(own.max_rss_bytes > 0);
        assert!(own.user_s <= now.user_s + 0.05, "{own:?} {now:?}");
        assert!(Usage::of_process(u32::MAX).is_err());
    }
}
