//! Where and on what code a report was measured.

use std::process::Command;

use serde::{Deserialize, Serialize};

/// The machine a report was measured on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Machine {
    pub cpu: String,
    pub logical_cores: usize,
    pub memory_bytes: u64,
    pub os: String,
}

impl Machine {
    /// Reads /proc (Linux); fields it cannot read are "unknown"/0.
    #[must_use]
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or_else(|| "unknown".to_owned(), |(_, v)| v.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_bytes = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kib| kib.parse::<u64>().ok())
            .map_or(0, |kib| kib * 1024);
        let os = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".to_owned(), |r| format!("Linux {}", r.trim()));
        Self {
            cpu,
            logical_cores: std::thread::available_parallelism().map_or(0, usize::from),
            memory_bytes,
            os,
        }
    }
}

/// This machine's hardware threads (1 if unknown): the default thread count of every command.
#[must_use]
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The 1-, 5- and 15-minute load averages from /proc/loadavg ("" when unreadable): how busy the
/// machine was around a measurement.
#[must_use]
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The git commit of the source tree `perf` was built from, read when the report is written (so
/// a commit made after the build shows up here), with "-dirty" when the tree has uncommitted
/// changes; "unknown" outside a git checkout.
#[must_use]
pub fn commit() -> String {
    let dir = env!("CARGO_MANIFEST_DIR");
    let run = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    match run(&["rev-parse", "HEAD"]) {
        Some(head) => {
            let dirty = run(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty {
                format!("{head}-dirty")
            } else {
                head
            }
        }
        None => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_this_machine() {
        let m = Machine::detect();
        assert!(m.logical_cores >= 1);
        assert!(m.memory_bytes > 0);
        assert_ne!(m.cpu, "");
        assert_eq!(load_average().split(' ').count(), 3);
        // The tests run inside the repository, so git must name a real commit.
        let c = commit();
        assert_ne!(c, "unknown");
        let hash = c.trim_end_matches("-dirty");
        assert!(
            hash.len() >= 7 && hash.chars().all(|ch| ch.is_ascii_hexdigit()),
            "{c}"
        );
    }
}
