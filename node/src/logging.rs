//! Logging: `tracing` events to stderr, human-readable by default or one JSON object per line
//! (`--log-format json`). While the IBD progress bar is drawn, log lines are written around it
//! (the bar is hidden, the line printed, the bar redrawn) instead of through it.
//!
//! Secrets never reach logs because config values that are secret are [`crate::secret::Secret`],
//! whose `Debug`/`Display` print a placeholder.

use std::io::{IsTerminal, Write};
use std::sync::{Mutex, PoisonError};

use clap::ValueEnum;
use indicatif::ProgressBar;
use serde::Deserialize;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// How log lines look.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line per event.
    #[default]
    Human,
    /// One JSON object per event (timestamp, level, target, fields), for log collectors.
    Json,
}

/// The progress bar currently drawn on stderr, if any.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Registers (or, with `None`, removes) the bar log lines must be written around.
pub fn set_bar(bar: Option<ProgressBar>) {
    *BAR.lock().unwrap_or_else(PoisonError::into_inner) = bar;
}

/// Stderr, written around the progress bar.
#[derive(Debug, Clone, Copy)]
struct Stderr;

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bar = BAR.lock().unwrap_or_else(PoisonError::into_inner).clone();
        match bar {
            Some(bar) => bar.suspend(|| std::io::stderr().write_all(buf))?,
            None => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl MakeWriter<'_> for Stderr {
    type Writer = Self;
    fn make_writer(&self) -> Self {
        *self
    }
}

/// A subscriber writing `format` to `writer`, keeping events that `filter` (`EnvFilter`
/// directives, e.g. `info,sluice_net=debug`) lets through.
///
/// # Errors
/// The filter does not parse.
pub fn subscriber_to<W>(
    format: LogFormat,
    filter: &str,
    writer: W,
) -> anyhow::Result<Box<dyn tracing::Subscriber + Send + Sync>>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    build(format, filter, writer, false)
}

fn build<W>(
    format: LogFormat,
    filter: &str,
    writer: W,
    ansi: bool,
) -> anyhow::Result<Box<dyn tracing::Subscriber + Send + Sync>>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter)
        .map_err(|e| anyhow::anyhow!("invalid log filter {filter:?}: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    Ok(match format {
        LogFormat::Human => Box::new(builder.with_ansi(ansi).finish()),
        LogFormat::Json => Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .finish(),
        ),
    })
}

/// Installs the process's subscriber: `filter`, else `RUST_LOG`, else `default_filter`.
/// Human logs are coloured only when stderr is a terminal.
///
/// # Errors
/// The filter does not parse, or a subscriber is already installed.
pub fn init(format: LogFormat, filter: Option<&str>, default_filter: &str) -> anyhow::Result<()> {
    let env = std::env::var("RUST_LOG").ok();
    let filter = filter.or(env.as_deref()).unwrap_or(default_filter);
    let sub = build(format, filter, Stderr, std::io::stderr().is_terminal())?;
    tracing::subscriber::set_global_default(sub)
        .map_err(|e| anyhow::anyhow!("installing the log subscriber: {e}"))
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A writer tests read back.
    #[derive(Debug, Clone, Default)]
    pub(crate) struct Capture(Arc<Mutex<Vec<u8>>>);

    impl Capture {
        pub(crate) fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
        }
    }

    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl MakeWriter<'_> for Capture {
        type Writer = Self;
        fn make_writer(&self) -> Self {
            self.clone()
        }
    }

    #[test]
    fn json_lines_are_objects_with_fields() {
        let buf = Capture::default();
        let sub = subscriber_to(LogFormat::Json, "info", buf.clone()).unwrap();
        tracing::subscriber::with_default(sub, || {
            tracing::info!(height = 7u32, peers = 2u64, "ibd progress");
            tracing::debug!("filtered out");
        });
        let text = buf.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text}");
        let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["message"], "ibd progress");
        assert_eq!(v["height"], 7);
        assert_eq!(v["peers"], 2);
        assert!(v["timestamp"].is_string());
    }

    #[test]
    fn human_lines_are_plain_text() {
        let buf = Capture::default();
        let sub = subscriber_to(LogFormat::Human, "info", buf.clone()).unwrap();
        tracing::subscriber::with_default(sub, || tracing::info!(height = 7u32, "ibd progress"));
        let text = buf.text();
        assert!(
            text.contains(" INFO ") && text.contains("ibd progress height=7"),
            "{text}"
        );
        assert!(
            !text.contains('{') && !text.contains('\u{1b}'),
            "no JSON, no colour: {text}"
        );
    }

    #[test]
    fn bad_filter_is_an_error() {
        assert!(subscriber_to(LogFormat::Human, "info,[", Capture::default()).is_err());
    }
}
