//! The in-flight overlay: outputs created and spent by blocks that passed coin fetch but are not
//! yet committed. Coin fetch consults it before the UTXO store, so block `k+1` can spend what
//! block `k` created while `k` is still being verified.
//!
//! Every entry is tagged with the sequence number of the block that made it. Committing a block
//! retires its tags (the store now holds the truth); rejecting block `k` drops every tag `>= k`.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

/// What the overlay knows about one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<'a, V> {
    /// Created by an in-flight block and not spent since.
    Created(&'a V),
    /// Spent by an in-flight block.
    Spent,
    /// Not touched in flight: ask the store.
    Unknown,
}

/// Tags in sequence order. Usually one of each at most; more only when a spent output is
/// created again in flight (duplicate txids before BIP34).
#[derive(Debug)]
struct Entry<V> {
    created: Vec<(u64, V)>,
    spent: Vec<u64>,
}

/// Created and spent keys of blocks in flight, tagged by sequence number.
#[derive(Debug)]
pub struct Overlay<K, V> {
    entries: HashMap<K, Entry<V>>,
    touched: BTreeMap<u64, Vec<K>>,
}

impl<V> Default for Entry<V> {
    fn default() -> Self {
        Self {
            created: Vec::new(),
            spent: Vec::new(),
        }
    }
}

impl<K, V> Default for Overlay<K, V> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            touched: BTreeMap::new(),
        }
    }
}

impl<K: Hash + Eq + Clone, V> Overlay<K, V> {
    #[must_use]
    pub fn lookup(&self, key: &K) -> Lookup<'_, V> {
        let Some(e) = self.entries.get(key) else {
            return Lookup::Unknown;
        };
        // The latest block wins: before BIP34 a spent output can be created again (duplicate
        // txids), and a block may spend an outside coin and then recreate it.
        match (e.created.last(), e.spent.last()) {
            (Some((c, v)), Some(s)) if c >= s => Lookup::Created(v),
            (_, Some(_)) => Lookup::Spent,
            (Some((_, v)), None) => Lookup::Created(v),
            (None, None) => Lookup::Unknown,
        }
    }

    /// Records block `seq`'s effects: keys it spends from outside itself, and outputs it creates
    /// that it does not spend itself. Blocks must be recorded in sequence order.
    pub fn record(
        &mut self,
        seq: u64,
        spends: impl IntoIterator<Item = K>,
        creates: impl IntoIterator<Item = (K, V)>,
    ) {
        let touched = self.touched.entry(seq).or_default();
        for k in spends {
            self.entries.entry(k.clone()).or_default().spent.push(seq);
            touched.push(k);
        }
        for (k, v) in creates {
            self.entries
                .entry(k.clone())
                .or_default()
                .created
                .push((seq, v));
            touched.push(k);
        }
    }

    /// Block `seq` is committed: the store holds its effects now.
    pub fn retire(&mut self, seq: u64) {
        if let Some(keys) = self.touched.remove(&seq) {
            self.clear_tags(keys, |tag| tag == seq);
        }
    }

    /// Block `seq` was rejected: forget its effects and those of every later block.
    pub fn discard_from(&mut self, seq: u64) {
        let later = self.touched.split_off(&seq);
        for (_, keys) in later {
            self.clear_tags(keys, |tag| tag >= seq);
        }
    }

    fn clear_tags(&mut self, keys: Vec<K>, matches: impl Fn(u64) -> bool) {
        for k in keys {
            let Some(e) = self.entries.get_mut(&k) else {
                continue;
            };
            e.spent.retain(|t| !matches(*t));
            e.created.retain(|(t, _)| !matches(*t));
            if e.spent.is_empty() && e.created.is_empty() {
                self.entries.remove(&k);
            }
        }
    }

    /// Keys with in-flight state.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_spent_then_created_again_in_flight_is_spendable() {
        let mut o: Overlay<u32, &str> = Overlay::default();
        o.record(1, [7], []);
        assert_eq!(o.lookup(&7), Lookup::Spent);
        o.record(2, [], [(7, "again")]);
        assert_eq!(o.lookup(&7), Lookup::Created(&"again"));
        o.record(3, [7], []);
        assert_eq!(o.lookup(&7), Lookup::Spent);
        o.discard_from(3);
        assert_eq!(o.lookup(&7), Lookup::Created(&"again"));
        o.discard_from(2);
        assert_eq!(o.lookup(&7), Lookup::Spent);
    }

    #[test]
    fn later_block_sees_earlier_creates_and_spends() {
        let mut o: Overlay<u32, &str> = Overlay::default();
        o.record(0, [], [(1, "a"), (2, "b")]);
        o.record(1, [1], [(3, "c")]);
        assert_eq!(o.lookup(&1), Lookup::Spent);
        assert_eq!(o.lookup(&2), Lookup::Created(&"b"));
        assert_eq!(o.lookup(&9), Lookup::Unknown);
    }

    #[test]
    fn retire_keeps_later_spends_visible() {
        let mut o: Overlay<u32, &str> = Overlay::default();
        o.record(0, [], [(1, "a")]);
        o.record(1, [1], []);
        o.retire(0);
        assert_eq!(
            o.lookup(&1),
            Lookup::Spent,
            "store has it, but block 1 spends it"
        );
        o.retire(1);
        assert!(o.is_empty());
    }

    #[test]
    fn discard_from_k_restores_the_view_after_k_minus_1() {
        let mut o: Overlay<u32, &str> = Overlay::default();
        o.record(0, [100], [(1, "a")]);
        o.record(1, [1], [(2, "b")]);
        o.record(2, [2, 101], [(3, "c")]);
        o.discard_from(1);
        assert_eq!(o.lookup(&1), Lookup::Created(&"a"));
        assert_eq!(o.lookup(&2), Lookup::Unknown);
        assert_eq!(o.lookup(&3), Lookup::Unknown);
        assert_eq!(o.lookup(&101), Lookup::Unknown);
        assert_eq!(o.lookup(&100), Lookup::Spent);
        o.retire(0);
        assert!(o.is_empty());
    }
}
