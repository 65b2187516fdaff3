//! Per-block latencies: reading the nodes' `connected` log events and summarising latencies
//! with an HDR histogram.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// The log target and message prefix of a node's "block connected" event
/// (node/src/run/events.rs), enabled with `--log-filter warn,sluice_node::run::events=debug`.
pub const EVENTS_TARGET: &str = "sluice_node::run::events";

/// A block connected on a node: its hash (display hex) and when, in microseconds since the
/// Unix epoch (the node's log timestamp; both nodes share this machine's clock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    pub hash: String,
    pub height: u32,
    pub at_us: i64,
}

/// Parses one JSON log line of a node; `None` unless it is a "connected" event.
#[must_use]
pub fn parse_connected(line: &str) -> Option<Connected> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    if v.get("target")?.as_str()? != EVENTS_TARGET {
        return None;
    }
    let msg = v.get("message")?.as_str()?;
    let rest = msg.strip_prefix("connected ")?;
    let (hash, height) = rest.split_once(" at height ")?;
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(Connected {
        hash: hash.to_owned(),
        height: height.trim().parse().ok()?,
        at_us: parse_rfc3339_us(v.get("timestamp")?.as_str()?)?,
    })
}

/// `YYYY-MM-DDTHH:MM:SS[.frac]Z` (tracing-subscriber's UTC timestamps) to microseconds since
/// the Unix epoch.
#[must_use]
pub fn parse_rfc3339_us(ts: &str) -> Option<i64> {
    let ts = ts.strip_suffix('Z')?;
    let (date, time) = ts.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Microseconds: the first six fractional digits, right-padded.
    let mut us = 0i64;
    for i in 0..6 {
        us = us * 10 + frac.as_bytes().get(i).map_or(0, |b| i64::from(b - b'0'));
    }
    let days = days_from_civil(y, m, day);
    Some(((days * 86_400 + hh * 3_600 + mm * 60 + ss) * 1_000_000) + us)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Percentiles of one run's latencies, milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub count: u64,
    pub min_ms: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

/// Summarises latencies given in microseconds (3 significant figures, 1 µs to 10 min).
///
/// # Errors
/// No samples, or a sample outside the histogram's range.
pub fn summarize(latencies_us: &[u64]) -> anyhow::Result<Summary> {
    anyhow::ensure!(!latencies_us.is_empty(), "no latencies to summarise");
    let mut h = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    for &v in latencies_us {
        h.record(v.max(1))?;
    }
    #[allow(clippy::cast_precision_loss)] // microseconds below 2^53
    let ms = |v: u64| v as f64 / 1_000.0;
    Ok(Summary {
        count: h.len(),
        min_ms: ms(h.min()),
        mean_ms: h.mean() / 1_000.0,
        p50_ms: ms(h.value_at_quantile(0.5)),
        p90_ms: ms(h.value_at_quantile(0.9)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        p999_ms: ms(h.value_at_quantile(0.999)),
        max_ms: ms(h.max()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_to_unix_microseconds() {
        assert_eq!(parse_rfc3339_us("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_us("2026-12-02T14:30:00.123456Z"),
            Some(1_796_221_800_123_456)
        );
        // Fewer or more fractional digits.
        assert_eq!(parse_rfc3339_us("1970-01-01T00:00:01.5Z"), Some(1_500_000));
        assert_eq!(
            parse_rfc3339_us("1970-01-01T00:00:01.123456789Z"),
            Some(1_123_456)
        );
        assert_eq!(
            parse_rfc3339_us("2000-03-01T00:00:00Z"),
            Some(951_868_800_000_000)
        );
        for bad in [
            "",
            "2026-12-02 14:30:00Z",
            "2026-13-02T14:30:00Z",
            "2026-12-02T14:30:0x.1Z",
        ] {
            assert_eq!(parse_rfc3339_us(bad), None, "{bad}");
        }
    }

    #[test]
    fn connected_events_are_recognised() {
        let hash = "ab".repeat(32);
        let line = format!(
            r#"{{"timestamp":"1970-01-01T00:00:02.000250Z","level":"DEBUG","message":"connected {hash} at height 7","target":"sluice_node::run::events"}}"#
        );
        assert_eq!(
            parse_connected(&line),
            Some(Connected {
                hash: hash.clone(),
                height: 7,
                at_us: 2_000_250
            })
        );
        let other = line.replace("sluice_node::run::events", "sluice_net::peer");
        assert_eq!(parse_connected(&other), None);
        assert_eq!(
            parse_connected(&line.replace("connected", "disconnected")),
            None
        );
        assert_eq!(parse_connected("not json"), None);
    }

    #[test]
    fn percentiles_come_from_the_histogram() {
        // 1..=1000 ms: p50 500, p99 990, p999 999 (within the histogram's 0.1 %).
        let v: Vec<u64> = (1..=1000).map(|ms| ms * 1_000).collect();
        let s = summarize(&v).unwrap();
        assert_eq!(s.count, 1000);
        let near = |a: f64, b: f64| (a - b).abs() <= b * 0.001 + 1e-9;
        assert!(near(s.p50_ms, 500.0), "{s:?}");
        assert!(near(s.p99_ms, 990.0), "{s:?}");
        assert!(near(s.p999_ms, 999.0), "{s:?}");
        assert!(near(s.max_ms, 1000.0) && near(s.min_ms, 1.0), "{s:?}");
        assert!(near(s.mean_ms, 500.5), "{s:?}");
        assert!(summarize(&[]).is_err());
    }
}
