//! SVG plots of a race (plotters, SVG backend only): blocks/s against height for both engines,
//! Sluice's time per stage, and (through [`line_chart`]) height against time of IBD runs.

use std::path::Path;

use plotters::prelude::*;

/// Throughput over height: `(height, blocks/s)` per window of `window` heights, from the
/// `(height, seconds since start)` progress points of one run.
#[must_use]
pub fn throughput(connected_at: &[(u64, f64)], window: u64) -> Vec<(u64, f64)> {
    let window = window.max(1);
    let mut out = Vec::new();
    let Some(&(mut h0, mut t0)) = connected_at.first() else {
        return out;
    };
    for &(h, t) in connected_at {
        if h >= h0 + window && t > t0 {
            #[allow(clippy::cast_precision_loss)] // heights fit in f64 exactly
            let rate = (h - h0) as f64 / (t - t0);
            out.push((h, rate));
            h0 = h;
            t0 = t;
        }
    }
    // A run that reports only its start and end gives one average point: draw it as a flat
    // line over the heights it covers.
    if let ([(_, rate)], Some(&(first, _))) = (out.as_slice(), connected_at.first()) {
        let rate = *rate;
        out.insert(0, (first, rate));
    }
    out
}

/// One line of a [`line_chart`].
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub label: String,
    /// Index into the palette (red, blue, green, magenta): one colour per engine.
    pub color: usize,
    /// Opacity, 0–1 (lighter lines for repeated runs of the same engine).
    pub opacity: f64,
    pub points: Vec<(f64, f64)>,
}

/// Draws `lines` on shared axes from 0 to the largest x and y, with a legend.
///
/// # Errors
/// Drawing or file errors.
pub fn line_chart(
    path: &Path,
    caption: &str,
    (x_desc, y_desc): (&str, &str),
    lines: &[Line],
) -> anyhow::Result<()> {
    let max = |f: fn(&(f64, f64)) -> f64| {
        lines
            .iter()
            .flat_map(|l| l.points.iter().map(f))
            .filter(|v| v.is_finite())
            .fold(1e-9f64, f64::max)
    };
    let (max_x, max_y) = (max(|p| p.0), max(|p| p.1));
    // Whole numbers on an axis unless it spans only a few units.
    let decimals = |max: f64| usize::from(max < 10.0);
    let (x_decimals, y_decimals) = (decimals(max_x), decimals(max_y));
    let root = SVGBackend::new(path, (900, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..max_x, 0f64..max_y * 1.1)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&|v| format!("{v:.x_decimals$}"))
        .y_label_formatter(&|v| format!("{v:.y_decimals$}"))
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let palette = [RED, BLUE, GREEN, MAGENTA];
    for line in lines {
        let color = palette[line.color % palette.len()].mix(line.opacity.clamp(0.1, 1.0));
        chart
            .draw_series(LineSeries::new(
                line.points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .label(line.label.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

/// Draws blocks/s against height, one line per `(label, points)` series.
///
/// # Errors
/// Drawing or file errors.
pub fn blocks_per_second(path: &Path, series: &[(&str, Vec<(u64, f64)>)]) -> anyhow::Result<()> {
    let lines: Vec<Line> = series
        .iter()
        .enumerate()
        .map(|(i, (label, points))| Line {
            label: (*label).to_owned(),
            color: i,
            opacity: 1.0,
            #[allow(clippy::cast_precision_loss)] // heights fit in f64 exactly
            points: points.iter().map(|(h, r)| (*h as f64, *r)).collect(),
        })
        .collect();
    line_chart(
        path,
        "Blocks per second against height",
        ("height", "blocks/s"),
        &lines,
    )
}

/// Draws one horizontal bar per stage (median seconds).
///
/// # Errors
/// Drawing or file errors.
pub fn stages(path: &Path, stages: &[(String, f64)]) -> anyhow::Result<()> {
    let max_s = stages.iter().map(|(_, s)| *s).fold(1e-9f64, f64::max);
    let n = stages.len().max(1);
    let root =
        SVGBackend::new(path, (900, 120 + 40 * u32::try_from(n).unwrap_or(20))).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Sluice: median seconds per stage", ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(120)
        .build_cartesian_2d(0f64..max_s * 1.1, (0..n).into_segmented())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let names: Vec<String> = stages.iter().map(|(n, _)| n.clone()).collect();
    chart
        .configure_mesh()
        .x_desc("seconds")
        .y_labels(n)
        .y_label_formatter(&|seg| match seg {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                names.get(*i).cloned().unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        })
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    chart
        .draw_series(stages.iter().enumerate().map(|(i, (_, secs))| {
            Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(i)),
                    (*secs, SegmentValue::Exact(i + 1)),
                ],
                BLUE.mix(0.6).filled(),
            )
        }))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_windows() {
        let pts = [(0, 0.0), (5, 1.0), (10, 2.0), (20, 3.0), (21, 3.5)];
        assert_eq!(throughput(&pts, 10), vec![(10, 5.0), (20, 10.0)]);
        assert!(throughput(&[], 10).is_empty());
        // Start and end only: a flat line at the average rate.
        assert_eq!(
            throughput(&[(0, 0.0), (100, 4.0)], 2),
            vec![(0, 25.0), (100, 25.0)]
        );
    }

    #[test]
    fn svgs_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.svg");
        blocks_per_second(
            &a,
            &[("core", vec![(10, 5.0), (20, 7.0)]), ("sluice", vec![])],
        )
        .unwrap();
        let b = dir.path().join("b.svg");
        stages(&b, &[("scripts".into(), 1.5), ("apply".into(), 0.5)]).unwrap();
        let c = dir.path().join("c.svg");
        line_chart(
            &c,
            "Height over time",
            ("seconds", "height"),
            &[Line {
                label: "sluice run 1".into(),
                color: 1,
                opacity: 0.5,
                points: vec![(0.0, 0.0), (1.5, 120.0)],
            }],
        )
        .unwrap();
        for p in [a, b, c] {
            let text = std::fs::read_to_string(p).unwrap();
            assert!(text.starts_with("<svg"), "{text}");
        }
    }
}
