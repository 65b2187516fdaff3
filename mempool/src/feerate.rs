//! Fee rates as exact fractions (Core's `FeeFrac` / `CFeeRate`).

use std::cmp::Ordering;

use sluice_consensus::coin::Amount;

/// `fee` satoshis over `size` units (virtual bytes or weight, as the caller decides). Compared
/// exactly by cross-multiplication, as Core's `FeeFrac`; a zero size compares as zero.
#[derive(Debug, Clone, Copy, Default)]
pub struct FeeFrac {
    pub fee: Amount,
    pub size: i64,
}

impl FeeFrac {
    #[must_use]
    pub fn new(fee: Amount, size: i64) -> Self {
        Self { fee, size }
    }

    /// Fee for `size` units at this rate, rounded up (Core's `EvaluateFeeUp`).
    #[must_use]
    pub fn fee_up(self, size: i64) -> Amount {
        if self.size <= 0 {
            return 0;
        }
        let num = i128::from(self.fee) * i128::from(size);
        let d = i128::from(self.size);
        let q = num.div_euclid(d) + i128::from(num.rem_euclid(d) != 0);
        i64::try_from(q).unwrap_or(i64::MAX)
    }

    /// Fee for `size` units, rounded down (Core's `EvaluateFeeDown`).
    #[must_use]
    pub fn fee_down(self, size: i64) -> Amount {
        if self.size <= 0 {
            return 0;
        }
        let num = i128::from(self.fee) * i128::from(size);
        i64::try_from(num.div_euclid(i128::from(self.size))).unwrap_or(i64::MAX)
    }
}

impl std::ops::Add for FeeFrac {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        Self::new(self.fee + o.fee, self.size + o.size)
    }
}

impl PartialEq for FeeFrac {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for FeeFrac {}
impl PartialOrd for FeeFrac {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for FeeFrac {
    /// Rate order (fee/size); rates with an empty size count as zero.
    fn cmp(&self, o: &Self) -> Ordering {
        let (a_fee, a_size) = if self.size > 0 {
            (self.fee, self.size)
        } else {
            (0, 1)
        };
        let (b_fee, b_size) = if o.size > 0 { (o.fee, o.size) } else { (0, 1) };
        (i128::from(a_fee) * i128::from(b_size)).cmp(&(i128::from(b_fee) * i128::from(a_size)))
    }
}

/// Core's `CFeeRate`: a rate per 1,000 virtual bytes, or constructed from a fee and a size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct FeeRate(pub FeeFrac);

impl FeeRate {
    /// `sat_per_kvb` satoshis per 1,000 vbytes.
    #[must_use]
    pub fn per_kvb(sat_per_kvb: Amount) -> Self {
        Self(FeeFrac::new(sat_per_kvb, 1000))
    }

    /// The rate of paying `fee` for `vsize` vbytes (zero for an empty size).
    #[must_use]
    pub fn from_fee(fee: Amount, vsize: i64) -> Self {
        if vsize > 0 {
            Self(FeeFrac::new(fee, vsize))
        } else {
            Self::default()
        }
    }

    /// Core's `GetFee`: rounded up; -1 for a negative rate that rounds to zero.
    #[must_use]
    pub fn fee(self, vsize: i64) -> Amount {
        if self.0.size == 0 {
            return 0;
        }
        let f = self.0.fee_up(vsize);
        if f == 0 && vsize != 0 && self.0.fee < 0 {
            return -1;
        }
        f
    }

    /// Satoshis per 1,000 vbytes, rounded down (Core's `GetFeePerK`).
    #[must_use]
    pub fn sat_per_kvb(self) -> Amount {
        self.0.fee_down(1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fee_rounds_up_like_core() {
        let r = FeeRate::per_kvb(100);
        assert_eq!(r.fee(141), 15);
        assert_eq!(r.fee(1000), 100);
        assert_eq!(r.fee(0), 0);
        assert_eq!(FeeRate::from_fee(1, 3).sat_per_kvb(), 333);
        assert!(FeeFrac::new(1, 3) < FeeFrac::new(1, 2));
        assert_eq!(FeeFrac::new(2, 4), FeeFrac::new(1, 2));
        assert_eq!(FeeRate::from_fee(-1, 10_000).fee(1), -1);
    }
}
