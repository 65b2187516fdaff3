//! The write-back layer in front of the on-disk UTXO set (Core's `CCoinsViewCache` idea).
//!
//! Entries are clean copies of disk coins, dirty coins, coins spilled to the heap past the last
//! checkpoint, or dirty deletions. A FRESH entry is one the committed index does not hold, so
//! spending it simply forgets it: a coin created and spent between checkpoints never touches
//! disk.

use std::collections::HashMap;

use sluice_consensus::coin::{Coin, OutPoint};

/// One cached outpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// Same as the committed disk state.
    Clean(Coin),
    /// Created or overwritten since the last checkpoint, held in RAM.
    Dirty { coin: Coin, fresh: bool },
    /// Created since the last checkpoint and already written to the heap at `off` (not yet
    /// indexed) because the cache went over budget. Costs ~70 B of RAM instead of the coin.
    Spilled { off: u64, fresh: bool },
    /// Spent since the last checkpoint; the committed index still holds it.
    Spent,
}

/// Rough heap footprint of one map entry (key, enum, script buffer, table overhead).
#[must_use]
pub fn entry_cost(e: &Entry) -> usize {
    const BASE: usize = std::mem::size_of::<OutPoint>() + std::mem::size_of::<Entry>() + 16;
    match e {
        Entry::Clean(c) | Entry::Dirty { coin: c, .. } => BASE + c.script_pubkey.capacity(),
        Entry::Spilled { .. } | Entry::Spent => BASE,
    }
}

/// The map plus its memory accounting.
#[derive(Debug, Default)]
pub struct Cache {
    map: HashMap<OutPoint, Entry>,
    bytes: usize,
    dirty: usize,
}

fn is_dirty(e: &Entry) -> bool {
    !matches!(e, Entry::Clean(_))
}

impl Cache {
    #[must_use]
    pub fn get(&self, op: &OutPoint) -> Option<&Entry> {
        self.map.get(op)
    }

    pub fn insert(&mut self, op: OutPoint, e: Entry) {
        self.bytes += entry_cost(&e);
        self.dirty += usize::from(is_dirty(&e));
        if let Some(old) = self.map.insert(op, e) {
            self.account_removed(&old);
        }
    }

    pub fn remove(&mut self, op: &OutPoint) -> Option<Entry> {
        let old = self.map.remove(op)?;
        self.account_removed(&old);
        Some(old)
    }

    fn account_removed(&mut self, e: &Entry) {
        self.bytes -= entry_cost(e);
        self.dirty -= usize::from(is_dirty(e));
    }

    /// Approximate bytes held.
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    #[must_use]
    pub fn dirty_len(&self) -> usize {
        self.dirty
    }

    /// Drops clean entries and turns dirty coins into spilled ones via `spill(op, coin) -> off`.
    pub fn shrink<E>(
        &mut self,
        mut spill: impl FnMut(&OutPoint, &Coin) -> Result<u64, E>,
    ) -> Result<(), E> {
        let mut err = None;
        self.map.retain(|op, e| {
            if err.is_some() {
                return true;
            }
            match e {
                Entry::Clean(_) => false,
                Entry::Dirty { coin, fresh } => {
                    match spill(op, coin) {
                        Ok(off) => *e = Entry::Spilled { off, fresh: *fresh },
                        Err(x) => err = Some(x),
                    }
                    true
                }
                Entry::Spilled { .. } | Entry::Spent => true,
            }
        });
        self.recount();
        err.map_or(Ok(()), Err)
    }

    fn recount(&mut self) {
        self.bytes = self.map.values().map(entry_cost).sum();
        self.dirty = self.map.values().filter(|e| is_dirty(e)).count();
    }

    /// Visits every dirty entry (for building a checkpoint journal).
    pub fn for_each_dirty<E>(
        &self,
        mut f: impl FnMut(&OutPoint, &Entry) -> Result<(), E>,
    ) -> Result<(), E> {
        for (op, e) in &self.map {
            if is_dirty(e) {
                f(op, e)?;
            }
        }
        Ok(())
    }

    /// After a checkpoint: everything on disk now; dirty coins become clean copies.
    pub fn mark_all_clean(&mut self) {
        self.map.retain(|_, e| match e {
            Entry::Dirty { coin, .. } => {
                *e = Entry::Clean(std::mem::replace(
                    coin,
                    Coin {
                        value: 0,
                        script_pubkey: Vec::new(),
                        height: 0,
                        coinbase: false,
                    },
                ));
                true
            }
            Entry::Clean(_) => true,
            Entry::Spilled { .. } | Entry::Spent => false,
        });
        self.recount();
    }
}
