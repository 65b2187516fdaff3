//! Times and durations as the files write them: `2026-11-22T01:11:37Z` (UTC, seconds, nothing
//! else accepted so a time has exactly one spelling) and `14d` / `12h` / `30m` / `45s`.
//!
//! The rule code never reads the clock: every check takes `now` as an argument.

use std::fmt;

use crate::error::Error;

/// Seconds since the Unix epoch, UTC.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Timestamp(pub u64);

const SECS_PER_DAY: u64 = 86_400;

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SSZ` strictly (years 1970–9999).
    pub fn parse(s: &str) -> Result<Self, Error> {
        let bad = || Error::BadTime {
            value: s.to_string(),
        };
        let b = s.as_bytes();
        // ASCII first: the byte offsets below must be char boundaries.
        let shape_ok = s.is_ascii()
            && b.len() == 20
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[13] == b':'
            && b[16] == b':'
            && b[19] == b'Z';
        if !shape_ok {
            return Err(bad());
        }
        let num = |from: usize, to: usize| -> Result<u64, Error> {
            let part = &s[from..to];
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse::<u64>().map_err(|_| bad())
        };
        let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
        let (hour, min, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
        if year < 1970 || !(1..=12).contains(&month) || hour > 23 || min > 59 || sec > 59 {
            return Err(bad());
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(bad());
        }
        let days = days_from_civil(year, month, day);
        Ok(Timestamp(
            days * SECS_PER_DAY + hour * 3600 + min * 60 + sec,
        ))
    }

    /// Adds a duration, saturating (a far-future bound is still a bound).
    pub fn plus(self, secs: u64) -> Self {
        Timestamp(self.0.saturating_add(secs))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0 / SECS_PER_DAY;
        let rem = self.0 % SECS_PER_DAY;
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60
        )
    }
}

fn is_leap(y: u64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: u64, m: u64) -> u64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (years ≥ 1970 only, so unsigned).
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    // Count from 1 March of year 0 so that the leap day is the last day of the counted year.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: u64) -> (u64, u64, u64) {
    let z = z + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// Parses `<n>s`, `<n>m`, `<n>h` or `<n>d` into seconds.
pub fn parse_duration(s: &str) -> Result<u64, Error> {
    let bad = || Error::BadDuration {
        value: s.to_string(),
    };
    if !s.is_ascii() {
        return Err(bad());
    }
    let (num, unit) = s.split_at(s.len().checked_sub(1).ok_or_else(bad)?);
    if num.is_empty() || !num.bytes().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u64 = num.parse().map_err(|_| bad())?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => SECS_PER_DAY,
        _ => return Err(bad()),
    };
    n.checked_mul(mult).ok_or_else(bad)
}

/// Writes seconds back in the largest unit that divides them.
pub fn format_duration(secs: u64) -> String {
    if secs != 0 && secs % SECS_PER_DAY == 0 {
        format!("{}d", secs / SECS_PER_DAY)
    } else if secs != 0 && secs % 3600 == 0 {
        format!("{}h", secs / 3600)
    } else if secs != 0 && secs % 60 == 0 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_times() {
        assert_eq!(
            Timestamp::parse("1970-01-01T00:00:00Z").ok(),
            Some(Timestamp(0))
        );
        // 6578f63's commit time, as `git log --format=%ct` prints it.
        let t = Timestamp::parse("2026-11-22T01:11:37Z");
        assert_eq!(t.ok(), Some(Timestamp(1_795_309_897)));
        assert_eq!(Timestamp(1_795_309_897).to_string(), "2026-11-22T01:11:37Z");
        assert_eq!(
            Timestamp::parse("2000-02-29T23:59:59Z").ok(),
            Some(Timestamp(951_868_799))
        );
    }

    #[test]
    fn round_trip_many_days() {
        for days in (0..200_000u64).step_by(37) {
            let t = Timestamp(days * SECS_PER_DAY + 3_723);
            assert_eq!(Timestamp::parse(&t.to_string()).ok(), Some(t));
        }
    }

    #[test]
    fn rejects_other_spellings() {
        for s in [
            "2026-11-22 01:11:37Z",
            "2026-11-22T01:11:37",
            "2026-11-22T01:11:37+00:00",
            "2026-02-30T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2026-13-01T00:00:00Z",
            "2026-11-22T24:00:00Z",
            "+026-11-22T01:11:37Z",
        ] {
            assert!(
                matches!(Timestamp::parse(s), Err(Error::BadTime { .. })),
                "{s}"
            );
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("14d").ok(), Some(14 * 86_400));
        assert_eq!(parse_duration("0s").ok(), Some(0));
        assert_eq!(format_duration(3 * 3600), "3h");
        for s in ["", "d", "1w", "-1d", "1.5h", "99999999999999999999d"] {
            assert!(
                matches!(parse_duration(s), Err(Error::BadDuration { .. })),
                "{s}"
            );
        }
    }
}
