//! SVG plots of a race (plotters, SVG backend only): blocks/s against height for both engines,
//! and Sluice's time per stage.

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

/// Draws blocks/s against height, one line per `(label, points)` series.
///
/// # Errors
/// Drawing or file errors.
pub fn blocks_per_second(path: &Path, series: &[(&str, Vec<(u64, f64)>)]) -> anyhow::Result<()> {
    let max_h = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|(h, _)| *h))
        .max()
        .unwrap_or(1)
        .max(1);
    let max_r = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|(_, r)| *r))
        .fold(1.0f64, f64::max);
    let root = SVGBackend::new(path, (900, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Blocks per second against height", ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0u64..max_h, 0f64..max_r * 1.1)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc("height")
        .y_desc("blocks/s")
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let colors = [RED, BLUE, GREEN, MAGENTA];
    for (i, (label, points)) in series.iter().enumerate() {
        let color = colors[i % colors.len()];
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .label(*label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
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
        for p in [a, b] {
            let text = std::fs::read_to_string(p).unwrap();
            assert!(text.starts_with("<svg"), "{text}");
        }
    }
}
