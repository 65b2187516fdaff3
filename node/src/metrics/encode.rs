//! Prometheus text exposition format (version 0.0.4), written by hand: one family at a time, so
//! every family gets exactly one `# HELP` and one `# TYPE` line and its samples stay together.
//!
//! Escaping follows the format: in HELP text `\` and newline; in label values `\`, `"` and
//! newline. Metric and label names are ours (constants), checked in debug builds.

use std::fmt::Write;

use sluice_pipeline::engine::HistogramSnapshot;

/// The `Content-Type` of what [`Encoder`] writes.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Label pairs of one sample.
pub type Labels<'a> = &'a [(&'a str, &'a str)];

/// Writes metric families into a string.
#[derive(Debug, Default)]
pub struct Encoder {
    out: String,
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn valid_label(name: &str) -> bool {
    valid_name(name) && !name.contains(':') && !name.starts_with("__")
}

impl Encoder {
    /// The text written so far.
    #[must_use]
    pub fn finish(self) -> String {
        self.out
    }

    fn header(&mut self, name: &str, help: &str, kind: &str) {
        debug_assert!(valid_name(name), "bad metric name {name}");
        let _ = write!(self.out, "# HELP {name} ");
        for c in help.chars() {
            match c {
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                c => self.out.push(c),
            }
        }
        let _ = writeln!(self.out, "\n# TYPE {name} {kind}");
    }

    fn labels(&mut self, labels: Labels<'_>, extra: Option<(&str, &str)>) {
        if labels.is_empty() && extra.is_none() {
            return;
        }
        self.out.push('{');
        for (i, (k, v)) in labels.iter().copied().chain(extra).enumerate() {
            debug_assert!(valid_label(k), "bad label name {k}");
            if i > 0 {
                self.out.push(',');
            }
            let _ = write!(self.out, "{k}=\"");
            for c in v.chars() {
                match c {
                    '\\' => self.out.push_str("\\\\"),
                    '"' => self.out.push_str("\\\""),
                    '\n' => self.out.push_str("\\n"),
                    c => self.out.push(c),
                }
            }
            self.out.push('"');
        }
        self.out.push('}');
    }

    fn sample(&mut self, name: &str, labels: Labels<'_>, extra: Option<(&str, &str)>, v: Value) {
        self.out.push_str(name);
        self.labels(labels, extra);
        let _ = match v {
            Value::Int(i) => writeln!(self.out, " {i}"),
            Value::Float(f) if f.is_nan() => writeln!(self.out, " NaN"),
            Value::Float(f) if f.is_infinite() => {
                writeln!(self.out, " {}Inf", if f > 0.0 { '+' } else { '-' })
            }
            Value::Float(f) => writeln!(self.out, " {f}"),
        };
    }

    /// A counter family (`name` ends in `_total`): values only ever grow.
    pub fn counter(&mut self, name: &str, help: &str, samples: &[(Labels<'_>, Value)]) {
        debug_assert!(
            name.ends_with("_total"),
            "counter {name} must end in _total"
        );
        self.header(name, help, "counter");
        for (labels, v) in samples {
            self.sample(name, labels, None, *v);
        }
    }

    /// A gauge family: values go up and down.
    pub fn gauge(&mut self, name: &str, help: &str, samples: &[(Labels<'_>, Value)]) {
        self.header(name, help, "gauge");
        for (labels, v) in samples {
            self.sample(name, labels, None, *v);
        }
    }

    /// A histogram family. Bounds and the sum are divided by `scale` (e.g. microseconds
    /// recorded, seconds exposed: 1e6); buckets are written cumulative, ending with `+Inf`.
    pub fn histogram(
        &mut self,
        name: &str,
        help: &str,
        scale: f64,
        samples: &[(Labels<'_>, &HistogramSnapshot)],
    ) {
        self.header(name, help, "histogram");
        let bucket = format!("{name}_bucket");
        for (labels, h) in samples {
            let mut cumulative = 0u64;
            for (bound, n) in h.bounds.iter().zip(&h.buckets) {
                cumulative += n;
                #[allow(clippy::cast_precision_loss)]
                let le = format_float(*bound as f64 / scale);
                self.sample(&bucket, labels, Some(("le", &le)), Value::Int(cumulative));
            }
            // The last bucket and the count agree even if a concurrent record was half seen.
            let total = cumulative + h.buckets.last().copied().unwrap_or(0);
            self.sample(&bucket, labels, Some(("le", "+Inf")), Value::Int(total));
            #[allow(clippy::cast_precision_loss)]
            let sum = h.sum as f64 / scale;
            self.sample(&format!("{name}_sum"), labels, None, Value::Float(sum));
            self.sample(&format!("{name}_count"), labels, None, Value::Int(total));
        }
    }
}

/// A float as Prometheus parses it (Rust's shortest round-trip form).
fn format_float(f: f64) -> String {
    format!("{f}")
}

/// A sample's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Int(u64),
    Float(f64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_and_gauge_families() {
        let mut e = Encoder::default();
        e.counter(
            "sluice_blocks_connected_total",
            "Blocks connected.",
            &[(&[], Value::Int(7))],
        );
        e.gauge(
            "sluice_peers",
            "Peers.",
            &[
                (&[("direction", "in"), ("transport", "v1")], Value::Int(1)),
                (
                    &[("direction", "out"), ("transport", "v2")],
                    Value::Float(0.5),
                ),
            ],
        );
        assert_eq!(
            e.finish(),
            "# HELP sluice_blocks_connected_total Blocks connected.\n\
             # TYPE sluice_blocks_connected_total counter\n\
             sluice_blocks_connected_total 7\n\
             # HELP sluice_peers Peers.\n\
             # TYPE sluice_peers gauge\n\
             sluice_peers{direction=\"in\",transport=\"v1\"} 1\n\
             sluice_peers{direction=\"out\",transport=\"v2\"} 0.5\n"
        );
    }

    #[test]
    fn label_values_and_help_are_escaped() {
        let mut e = Encoder::default();
        e.gauge(
            "g",
            "back\\slash\nnew \"quoted\" line",
            &[(&[("m", "a\"b\\c\nd}e,f=")], Value::Int(1))],
        );
        assert_eq!(
            e.finish(),
            "# HELP g back\\\\slash\\nnew \"quoted\" line\n\
             # TYPE g gauge\n\
             g{m=\"a\\\"b\\\\c\\nd}e,f=\"} 1\n"
        );
    }

    #[test]
    fn special_floats() {
        let mut e = Encoder::default();
        e.gauge(
            "g",
            "h",
            &[
                (&[("k", "a")], Value::Float(f64::INFINITY)),
                (&[("k", "b")], Value::Float(f64::NEG_INFINITY)),
                (&[("k", "c")], Value::Float(f64::NAN)),
                (&[("k", "d")], Value::Float(1e-7)),
            ],
        );
        let text = e.finish();
        assert!(text.contains("g{k=\"a\"} +Inf\n"), "{text}");
        assert!(text.contains("g{k=\"b\"} -Inf\n"), "{text}");
        assert!(text.contains("g{k=\"c\"} NaN\n"), "{text}");
        let tiny = text.lines().last().and_then(|l| l.rsplit(' ').next());
        assert_eq!(tiny.map(str::parse::<f64>), Some(Ok(1e-7)));
    }

    #[test]
    fn histogram_is_cumulative_with_inf_sum_and_count() {
        static B: [u64; 2] = [1000, 5000];
        let h = HistogramSnapshot {
            bounds: &B,
            buckets: vec![2, 1, 3],
            sum: 123_500,
            count: 6,
        };
        let mut e = Encoder::default();
        e.histogram("lat_seconds", "Latency.", 1e6, &[(&[("method", "x")], &h)]);
        assert_eq!(
            e.finish(),
            "# HELP lat_seconds Latency.\n\
             # TYPE lat_seconds histogram\n\
             lat_seconds_bucket{method=\"x\",le=\"0.001\"} 2\n\
             lat_seconds_bucket{method=\"x\",le=\"0.005\"} 3\n\
             lat_seconds_bucket{method=\"x\",le=\"+Inf\"} 6\n\
             lat_seconds_sum{method=\"x\"} 0.1235\n\
             lat_seconds_count{method=\"x\"} 6\n"
        );
    }

    #[test]
    fn names_are_checked() {
        assert!(valid_name("sluice_x:y_1"));
        assert!(!valid_name("1abc"));
        assert!(!valid_name("a-b"));
        assert!(!valid_name(""));
        assert!(valid_label("method"));
        assert!(!valid_label("__name__"));
        assert!(!valid_label("a:b"));
    }
}
