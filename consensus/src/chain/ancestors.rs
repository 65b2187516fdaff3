//! How consensus sees the chain it extends: a small read-only view of ancestor blocks.
//!
//! Rules that look back (difficulty, median time past, BIP68, BIP30's BIP34 shortcut) ask this
//! trait instead of walking pointers, so the pipeline can back it with whatever index it keeps.

use crate::hash::Hash256;

/// Number of blocks whose times form the median time past (`nMedianTimeSpan`).
pub const MEDIAN_TIME_SPAN: u32 = 11;

/// What the rules need to know about one ancestor block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AncestorInfo {
    /// Block hash, internal byte order.
    pub hash: Hash256,
    pub time: u32,
    pub bits: u32,
}

/// An ancestor the rules needed was not supplied by the view (a caller or index bug, or a
/// view that starts at a checkpoint too recent for the rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("ancestor at height {0} is not available")]
pub struct MissingAncestor(pub u32);

/// Read-only access to the chain ending at the tip being extended.
pub trait AncestorView {
    /// Height of the tip: the parent of the block or header under validation.
    fn tip_height(&self) -> u32;

    /// The block at `height` on the tip's chain; `None` above the tip or where unknown.
    fn ancestor(&self, height: u32) -> Option<AncestorInfo>;

    /// `ancestor` as a `Result`, for `?`.
    ///
    /// # Errors
    /// [`MissingAncestor`] when the view does not have that height.
    fn get(&self, height: u32) -> Result<AncestorInfo, MissingAncestor> {
        self.ancestor(height).ok_or(MissingAncestor(height))
    }

    /// Median time past of the block at `height`: the median of its time and up to ten
    /// predecessors' (fewer near genesis), as Core's `GetMedianTimePast`. Implementations may
    /// override this with a cached value.
    ///
    /// # Errors
    /// [`MissingAncestor`] when one of those blocks is unavailable.
    fn median_time_past(&self, height: u32) -> Result<i64, MissingAncestor> {
        let first = height.saturating_sub(MEDIAN_TIME_SPAN - 1);
        let mut times = [0i64; MEDIAN_TIME_SPAN as usize];
        let mut n = 0;
        for h in first..=height {
            if let Some(slot) = times.get_mut(n) {
                *slot = i64::from(self.get(h)?.time);
                n += 1;
            }
        }
        let times = &mut times[..n];
        times.sort_unstable();
        Ok(times[n / 2])
    }
}
