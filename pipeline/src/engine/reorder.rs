//! Reorder buffer: items arrive tagged with a sequence number in any order and leave in order.
//!
//! Ordered stages (coin fetch, apply) sit behind one of these so that
//! parallel stages upstream may finish blocks out of order.

use std::collections::BTreeMap;

/// Holds early arrivals until every earlier sequence number has been released.
#[derive(Debug)]
pub struct ReorderBuffer<T> {
    next: u64,
    waiting: BTreeMap<u64, T>,
}

/// A sequence number was pushed twice or is older than what was already released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("sequence number {seq} is stale or duplicate (next expected {next})")]
pub struct StaleSequence {
    pub seq: u64,
    pub next: u64,
}

impl<T> ReorderBuffer<T> {
    /// A buffer that releases `first` first.
    #[must_use]
    pub fn new(first: u64) -> Self {
        Self {
            next: first,
            waiting: BTreeMap::new(),
        }
    }

    /// Accepts an item.
    ///
    /// # Errors
    /// [`StaleSequence`] when `seq` was already released or is already waiting.
    pub fn push(&mut self, seq: u64, item: T) -> Result<(), StaleSequence> {
        if seq < self.next || self.waiting.contains_key(&seq) {
            return Err(StaleSequence {
                seq,
                next: self.next,
            });
        }
        self.waiting.insert(seq, item);
        Ok(())
    }

    /// Releases the next item in order, if it has arrived.
    pub fn pop_ready(&mut self) -> Option<(u64, T)> {
        let item = self.waiting.remove(&self.next)?;
        let seq = self.next;
        self.next += 1;
        Some((seq, item))
    }

    /// The sequence number released next.
    #[must_use]
    pub fn next_seq(&self) -> u64 {
        self.next
    }

    /// Items that arrived early and wait for a gap to fill.
    #[must_use]
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_in_order_whatever_the_arrival_order() {
        let mut r = ReorderBuffer::new(10);
        for s in [13, 11, 12] {
            r.push(s, s * 100).unwrap();
        }
        assert_eq!(r.pop_ready(), None, "10 has not arrived");
        r.push(10, 1000).unwrap();
        let out: Vec<_> = std::iter::from_fn(|| r.pop_ready()).collect();
        assert_eq!(out, vec![(10, 1000), (11, 1100), (12, 1200), (13, 1300)]);
        assert_eq!(r.next_seq(), 14);
        assert_eq!(r.waiting(), 0);
    }

    #[test]
    fn stale_and_duplicate_sequences_are_refused() {
        let mut r = ReorderBuffer::new(0);
        r.push(0, ()).unwrap();
        r.push(2, ()).unwrap();
        assert_eq!(r.push(2, ()), Err(StaleSequence { seq: 2, next: 0 }));
        assert!(r.pop_ready().is_some());
        assert_eq!(r.push(0, ()), Err(StaleSequence { seq: 0, next: 1 }));
    }
}
