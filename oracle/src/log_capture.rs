//! Routes the kernel's log lines to `tracing` and captures, per thread, the lines emitted while a
//! block is processed: the kernel's C API exposes only a coarse `BlockValidationResult`, but Core
//! logs the exact reject reason (`state.ToString()`) on the thread that validates the block
//! (the kernel's validation signals run on an immediate task runner, i.e. synchronously).

use std::cell::RefCell;
use std::sync::Once;

use bitcoinkernel::log::logging::{set_logging_options, LoggingOptions};
use bitcoinkernel::{Log, Logger};

thread_local! {
    static CAPTURE: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

struct TracingLog;

impl Log for TracingLog {
    fn log(&self, message: &str) {
        let line = message.trim_end();
        tracing::trace!(target: "bitcoinkernel", "{line}");
        CAPTURE.with(|c| {
            if let Some(lines) = c.borrow_mut().as_mut() {
                lines.push(line.to_owned());
            }
        });
    }
}

static INSTALL: Once = Once::new();

/// Connects the kernel's logging to [`TracingLog`] once per process. Without a connection the
/// kernel buffers log lines in memory, so a connection is needed even to stay quiet.
pub(crate) fn install() {
    INSTALL.call_once(|| {
        set_logging_options(LoggingOptions {
            log_timestamps: false,
            log_time_micros: false,
            log_threadnames: false,
            log_sourcelocations: false,
            always_print_category_levels: false,
        });
        match Logger::new(TracingLog) {
            // The connection must live as long as the process; the kernel owns the callback.
            Ok(logger) => std::mem::forget(logger),
            Err(e) => tracing::warn!("could not connect kernel logging: {e}"),
        }
    });
}

/// Runs `f` while capturing this thread's kernel log lines; returns its result and the lines.
pub(crate) fn capture<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    CAPTURE.with(|c| *c.borrow_mut() = Some(Vec::new()));
    let out = f();
    let lines = CAPTURE.with(|c| c.borrow_mut().take()).unwrap_or_default();
    (out, lines)
}

/// Extracts Core's reject reason (the part of `BlockValidationState::ToString()` before the
/// debug message) from the lines logged while processing one block.
pub(crate) fn reject_reason(lines: &[String]) -> Option<String> {
    // Patterns from validation.cpp: "ConnectBlock <hash> failed, <state>",
    // "AcceptBlock FAILED (<state>)", "AcceptBlock: <state>", "Consensus::CheckBlock: <state>".
    for line in lines {
        let state = if let Some(i) = line.find(" failed, ") {
            line.contains("ConnectBlock")
                .then(|| &line[i + " failed, ".len()..])
        } else if let Some(i) = line.find("AcceptBlock FAILED (") {
            let rest = &line[i + "AcceptBlock FAILED (".len()..];
            Some(rest.strip_suffix(')').unwrap_or(rest))
        } else if let Some(i) = line.find("Consensus::CheckBlock: ") {
            Some(&line[i + "Consensus::CheckBlock: ".len()..])
        } else {
            line.find("AcceptBlock: ")
                .map(|i| &line[i + "AcceptBlock: ".len()..])
        };
        if let Some(state) = state {
            let reason = state.split(", ").next().unwrap_or(state).trim();
            if !reason.is_empty() {
                return Some(reason.to_owned());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::reject_reason;

    #[test]
    fn parses_core_log_shapes() {
        let l = |s: &str| vec![s.to_owned()];
        assert_eq!(
            reject_reason(&l("ConnectTip: ConnectBlock 00ab failed, bad-txns-inputs-missingorspent, CheckTxInputs: inputs missing/spent")).as_deref(),
            Some("bad-txns-inputs-missingorspent")
        );
        assert_eq!(
            reject_reason(&l(
                "ProcessNewBlock: AcceptBlock FAILED (high-hash, proof of work failed)"
            ))
            .as_deref(),
            Some("high-hash")
        );
        assert_eq!(
            reject_reason(&l("ProcessNewBlock: AcceptBlock FAILED (bad-txnmrklroot)")).as_deref(),
            Some("bad-txnmrklroot")
        );
        assert_eq!(reject_reason(&l("UpdateTip: new best=00")), None);
    }
}
