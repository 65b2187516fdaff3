//! Fault injection for the store's tests: every fallible step of connect, disconnect and
//! checkpoint first asks the injector, which can be armed to fail the n-th step with an I/O
//! error. Disarmed (always, outside tests) it costs one relaxed atomic increment per step.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Result, StoreError};

const DISARMED: u64 = u64::MAX;

/// Counts fallible steps and fails the armed one.
#[derive(Debug)]
pub(crate) struct FaultInjector {
    /// Steps taken since the store opened.
    steps: AtomicU64,
    /// The step (by `steps` count) that fails, or `DISARMED`.
    fail_at: AtomicU64,
}

impl Default for FaultInjector {
    fn default() -> Self {
        Self {
            steps: AtomicU64::new(0),
            fail_at: AtomicU64::new(DISARMED),
        }
    }
}

impl FaultInjector {
    /// One fallible step at `site`: an injected I/O error if this is the armed step.
    pub(crate) fn step(&self, dir: &Path, site: &'static str) -> Result<()> {
        let n = self.steps.fetch_add(1, Ordering::Relaxed);
        if n == self.fail_at.load(Ordering::Relaxed) {
            return Err(StoreError::Io {
                path: dir.to_path_buf(),
                source: std::io::Error::other(format!("injected fault at {site}")),
            });
        }
        Ok(())
    }

    pub(crate) fn steps(&self) -> u64 {
        self.steps.load(Ordering::Relaxed)
    }

    /// Fails the step `after` steps from now (0: the next one).
    pub(crate) fn arm(&self, after: u64) {
        let at = self.steps().saturating_add(after);
        self.fail_at.store(at, Ordering::Relaxed);
    }

    pub(crate) fn disarm(&self) {
        self.fail_at.store(DISARMED, Ordering::Relaxed);
    }
}
