//! Byte amounts with Core's unit suffixes (`ParseByteUnits` in util/strencodings.cpp): `k`,
//! `m`, `g`, `t` are powers of 1000, `K`, `M`, `G`, `T` powers of 1024, and a bare number is in
//! the default unit, MiB (`-maxuploadtarget=5000` is 5000 MiB). In the config file a string
//! (`"5G"`) or an integer (MiB).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct ByteSize(pub u64);

const MIB: u64 = 1 << 20;
/// Largest unit first, so `Display` picks the shortest exact spelling.
const UNITS: [(char, u64); 8] = [
    ('T', 1 << 40),
    ('t', 1_000_000_000_000),
    ('G', 1 << 30),
    ('g', 1_000_000_000),
    ('M', MIB),
    ('m', 1_000_000),
    ('K', 1 << 10),
    ('k', 1000),
];

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (digits, unit) = match s.chars().last() {
            Some(c) if c.is_ascii_alphabetic() => {
                let unit = UNITS
                    .iter()
                    .find(|(u, _)| *u == c)
                    .map(|(_, n)| *n)
                    .ok_or_else(|| {
                        format!("{s:?}: unknown unit {c:?} (k, K, m, M, g, G, t or T)")
                    })?;
                (&s[..s.len() - 1], unit)
            }
            _ => (s, MIB),
        };
        let n: u64 = digits.parse().map_err(|_| {
            format!("{s:?}: not a whole number with an optional unit (e.g. 5000M, 5G)")
        })?;
        n.checked_mul(unit)
            .map(ByteSize)
            .ok_or_else(|| format!("{s:?}: too large"))
    }
}

impl fmt::Display for ByteSize {
    /// The largest unit that divides the amount exactly (`0` as `0M`); amounts that no unit
    /// divides (never parsed from the syntax above) fall back to kB, rounded up.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return write!(f, "0M");
        }
        match UNITS.iter().find(|(_, n)| self.0 % n == 0) {
            Some((u, n)) => write!(f, "{}{u}", self.0 / n),
            None => write!(f, "{}k", self.0.div_ceil(1000)),
        }
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Mib(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Mib(n) => n
                .checked_mul(MIB)
                .map(ByteSize)
                .ok_or_else(|| serde::de::Error::custom(format!("{n} MiB: too large"))),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_units() {
        let p = |s: &str| s.parse::<ByteSize>().map(|b| b.0);
        assert_eq!(
            p("5000"),
            Ok(5000 << 20),
            "bare numbers are MiB, as in Core"
        );
        assert_eq!(p("0"), Ok(0));
        assert_eq!(p("1k"), Ok(1000));
        assert_eq!(p("1K"), Ok(1024));
        assert_eq!(p("2m"), Ok(2_000_000));
        assert_eq!(p("3G"), Ok(3 << 30));
        assert_eq!(p("1t"), Ok(1_000_000_000_000));
        for bad in ["", "G", "5x", "-1", "1.5G", " 5G", "99999999999999T"] {
            assert!(p(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in ["0M", "5G", "500G", "1k", "3K", "7m", "1t", "5000M", "1025K"] {
            let b: ByteSize = s.parse().unwrap_or_default();
            assert_eq!(b.to_string().parse::<ByteSize>(), Ok(b), "{s}");
        }
        assert_eq!(ByteSize(5 << 30).to_string(), "5G");
        assert_eq!(ByteSize(1536 << 20).to_string(), "1536M");
        assert_eq!(ByteSize(0).to_string(), "0M");
    }

    #[test]
    fn config_file_forms() {
        #[derive(Deserialize, Serialize, PartialEq, Debug)]
        struct C {
            v: ByteSize,
        }
        let c: C = toml::from_str("v = 250").unwrap_or(C { v: ByteSize(1) });
        assert_eq!(c.v, ByteSize(250 << 20), "integer: MiB");
        let c: C = toml::from_str("v = \"2G\"").unwrap_or(C { v: ByteSize(1) });
        assert_eq!(c.v, ByteSize(2 << 30));
        let err = toml::from_str::<C>("v = \"2Q\"")
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("unknown unit")));
        assert_eq!(
            toml::to_string(&C {
                v: ByteSize(2 << 30)
            })
            .ok()
            .as_deref(),
            Some("v = \"2G\"\n")
        );
    }
}
