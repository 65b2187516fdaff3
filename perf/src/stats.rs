//! Summary statistics over repeated runs: what report.json and report.md print.
//!
//! Ratios are computed pair by pair (run i of Sluice against run i of Core, which ran next to
//! each other in time) so slow drift of the machine affects both sides of each ratio equally.

use serde::{Deserialize, Serialize};

/// Errors computing statistics.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StatsError {
    #[error("no samples")]
    Empty,
    #[error("sample {0} is not a finite number")]
    NotFinite(usize),
    #[error("pairwise ratio needs the same number of runs per engine (got {a} and {b})")]
    UnequalRuns { a: usize, b: usize },
    #[error("run {0} of the denominator took zero time")]
    ZeroDenominator(usize),
}

/// Median, mean, standard deviation, min and max of a set of samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub mean: f64,
    /// Sample standard deviation (n − 1 in the denominator; 0 for a single sample).
    pub stddev: f64,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

fn checked(samples: &[f64]) -> Result<Vec<f64>, StatsError> {
    if samples.is_empty() {
        return Err(StatsError::Empty);
    }
    if let Some(i) = samples.iter().position(|x| !x.is_finite()) {
        return Err(StatsError::NotFinite(i));
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    Ok(sorted)
}

/// The median: middle sample, or the mean of the two middle samples for an even count.
///
/// # Errors
/// Empty input or a non-finite sample.
pub fn median(samples: &[f64]) -> Result<f64, StatsError> {
    let sorted = checked(samples)?;
    let n = sorted.len();
    let mid = n / 2;
    Ok(if n % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    })
}

/// All summary figures of `samples`.
///
/// # Errors
/// Empty input or a non-finite sample.
pub fn summarize(samples: &[f64]) -> Result<Summary, StatsError> {
    let sorted = checked(samples)?;
    #[allow(clippy::cast_precision_loss)] // run counts are tiny
    let n = sorted.len() as f64;
    let mean = sorted.iter().sum::<f64>() / n;
    let stddev = if sorted.len() > 1 {
        (sorted.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    Ok(Summary {
        mean,
        stddev,
        median: median(&sorted)?,
        min: sorted[0],
        max: sorted[sorted.len() - 1],
    })
}

/// `a[i] / b[i]` for every pair of runs.
///
/// # Errors
/// Different run counts, an empty input, or a zero denominator.
pub fn pairwise_ratios(a: &[f64], b: &[f64]) -> Result<Vec<f64>, StatsError> {
    if a.len() != b.len() {
        return Err(StatsError::UnequalRuns {
            a: a.len(),
            b: b.len(),
        });
    }
    if a.is_empty() {
        return Err(StatsError::Empty);
    }
    a.iter()
        .zip(b)
        .enumerate()
        .map(|(i, (x, y))| {
            if *y == 0.0 {
                Err(StatsError::ZeroDenominator(i))
            } else {
                Ok(x / y)
            }
        })
        .collect()
}

/// `count / seconds`, or 0 when no time passed (an empty chain).
#[must_use]
pub fn rate(count: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        #[allow(clippy::cast_precision_loss)] // counts far below 2^52
        let c = count as f64;
        c / seconds
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Ok(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Ok(2.5));
        assert_eq!(median(&[7.0]), Ok(7.0));
    }

    #[test]
    fn median_rejects_empty_and_nan() {
        assert_eq!(median(&[]), Err(StatsError::Empty));
        assert_eq!(median(&[1.0, f64::NAN]), Err(StatsError::NotFinite(1)));
    }

    #[test]
    fn summary_figures() {
        let s = summarize(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!(s.mean, 5.0);
        assert_eq!(s.median, 4.5);
        assert_eq!(s.min, 2.0);
        assert_eq!(s.max, 9.0);
        // Sample stddev of this classic set: sqrt(32/7).
        assert!((s.stddev - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!(summarize(&[3.0]).unwrap().stddev, 0.0);
    }

    #[test]
    fn ratios_are_pairwise_not_of_medians() {
        // Medians are 2 and 2 (ratio 1) but every pair says A is half of B.
        let a = [1.0, 2.0, 4.0];
        let b = [2.0, 4.0, 8.0];
        assert_eq!(pairwise_ratios(&a, &b).unwrap(), vec![0.5, 0.5, 0.5]);
        assert_eq!(
            pairwise_ratios(&a, &b[..2]),
            Err(StatsError::UnequalRuns { a: 3, b: 2 })
        );
        assert_eq!(
            pairwise_ratios(&[1.0], &[0.0]),
            Err(StatsError::ZeroDenominator(0))
        );
    }

    #[test]
    fn rate_handles_zero_time() {
        assert_eq!(rate(10, 2.0), 5.0);
        assert_eq!(rate(10, 0.0), 0.0);
    }
}
