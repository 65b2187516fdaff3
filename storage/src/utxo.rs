//! The UTXO set: write-back cache over the memory-mapped index and the record heap, with the
//! running MuHash and coin count. Knows nothing of blocks; `store.rs` drives it.

use std::path::Path;

use sluice_consensus::coin::{Coin, OutPoint};

use crate::cache::{Cache, Entry};
use crate::error::{corrupt, Result};
use crate::heap::Heap;
use crate::index::{ApplyState, UtxoIndex};
use crate::muhash::{coin_element, MuHash3072};
use crate::records::JournalOp;

/// The UTXO set and its in-memory overlay.
#[derive(Debug)]
pub struct UtxoSet {
    pub(crate) index: UtxoIndex,
    pub(crate) heap: Heap,
    pub(crate) cache: Cache,
    pub(crate) muhash: Option<MuHash3072>,
    /// MuHash updates of the current block (true = insert), folded in by `flush_hash`.
    pub(crate) hash_pending: Vec<(bool, Vec<u8>)>,
    pub(crate) count: u64,
    pub(crate) budget: usize,
}

impl UtxoSet {
    /// Looks `op` up in the committed index + heap (ignoring the cache).
    pub(crate) fn disk_get(&self, op: &OutPoint) -> Result<Option<Coin>> {
        let mut found = None;
        self.index.find(op, |off| {
            let (key, coin) = self.heap.read(off)?;
            if key == *op {
                found = Some(coin);
                Ok(true)
            } else {
                Ok(false)
            }
        })?;
        Ok(found)
    }

    /// The current coin at `op`, caching disk reads as clean entries.
    pub fn get(&mut self, op: &OutPoint) -> Result<Option<Coin>> {
        match self.cache.get(op) {
            Some(Entry::Clean(c) | Entry::Dirty { coin: c, .. }) => return Ok(Some(c.clone())),
            Some(Entry::Spilled { off, .. }) => return Ok(Some(self.read_spilled(op, *off)?)),
            Some(Entry::Spent) => return Ok(None),
            None => {}
        }
        let coin = self.disk_get(op)?;
        if let Some(c) = &coin {
            self.cache.insert(*op, Entry::Clean(c.clone()));
        }
        Ok(coin)
    }

    /// Read-only lookup that does not populate the cache.
    pub fn peek(&self, op: &OutPoint) -> Result<Option<Coin>> {
        match self.cache.get(op) {
            Some(Entry::Clean(c) | Entry::Dirty { coin: c, .. }) => Ok(Some(c.clone())),
            Some(Entry::Spilled { off, .. }) => Ok(Some(self.read_spilled(op, *off)?)),
            Some(Entry::Spent) => Ok(None),
            None => self.disk_get(op),
        }
    }

    /// Records a coin read from disk as a clean cache entry (no-op if `op` is cached).
    pub fn cache_clean(&mut self, op: &OutPoint, coin: &Coin) {
        if self.cache.get(op).is_none() {
            self.cache.insert(*op, Entry::Clean(coin.clone()));
        }
    }

    fn read_spilled(&self, op: &OutPoint, off: u64) -> Result<Coin> {
        let (key, coin) = self.heap.read(off)?;
        if key != *op {
            return Err(corrupt(
                Path::new("heap.dat"),
                "spilled record has another key",
            ));
        }
        Ok(coin)
    }

    fn hash_insert(&mut self, op: &OutPoint, coin: &Coin) {
        if self.muhash.is_some() {
            self.hash_pending.push((true, coin_element(op, coin)));
        }
    }

    fn hash_remove(&mut self, op: &OutPoint, coin: &Coin) {
        if self.muhash.is_some() {
            self.hash_pending.push((false, coin_element(op, coin)));
        }
    }

    /// Folds the MuHash updates queued by `add`/`spend` into the running value, in parallel
    /// chunks (a block's elements are independent; the product is order-free).
    pub fn flush_hash(&mut self) {
        use rayon::prelude::*;
        const CHUNK: usize = 64;
        let pending = std::mem::take(&mut self.hash_pending);
        let Some(m) = &mut self.muhash else { return };
        let fold = |chunk: &[(bool, Vec<u8>)]| {
            let mut part = MuHash3072::new();
            for (insert, e) in chunk {
                if *insert {
                    part.insert(e);
                } else {
                    part.remove(e);
                }
            }
            part
        };
        if pending.len() <= CHUNK {
            m.combine(&fold(&pending));
        } else {
            for part in pending.par_chunks(CHUNK).map(fold).collect::<Vec<_>>() {
                m.combine(&part);
            }
        }
    }

    /// Adds (or overwrites, like Core's `possible_overwrite`) the coin at `op`.
    pub fn add(&mut self, op: OutPoint, coin: Coin) -> Result<()> {
        let (old, fresh) = match self.cache.get(&op) {
            Some(Entry::Clean(c)) => (Some(c.clone()), false),
            Some(Entry::Dirty { coin: c, fresh }) => (Some(c.clone()), *fresh),
            Some(Entry::Spilled { off, fresh }) => {
                let fresh = *fresh;
                (Some(self.read_spilled(&op, *off)?), fresh)
            }
            Some(Entry::Spent) => (None, false),
            None => {
                let old = self.disk_get(&op)?;
                let fresh = old.is_none();
                (old, fresh)
            }
        };
        if let Some(old) = &old {
            self.hash_remove(&op, old);
        } else {
            self.count += 1;
        }
        self.hash_insert(&op, &coin);
        self.cache.insert(op, Entry::Dirty { coin, fresh });
        Ok(())
    }

    /// Spends the coin at `op`, returning it; error if absent.
    pub fn spend(&mut self, op: &OutPoint) -> Result<Option<Coin>> {
        let Some(coin) = self.get(op)? else {
            return Ok(None);
        };
        let fresh = match self.cache.get(op) {
            Some(Entry::Dirty { fresh, .. } | Entry::Spilled { fresh, .. }) => *fresh,
            _ => false,
        };
        if fresh {
            self.cache.remove(op);
        } else {
            self.cache.insert(*op, Entry::Spent);
        }
        self.hash_remove(op, &coin);
        self.count -= 1;
        Ok(Some(coin))
    }

    /// Keeps the overlay under budget by dropping clean entries and spilling dirty coins.
    pub fn enforce_budget(&mut self) -> Result<()> {
        if self.cache.bytes() <= self.budget {
            return Ok(());
        }
        let heap = &mut self.heap;
        self.cache.shrink(|op, coin| heap.append(op, coin))?;
        if self.cache.bytes() > self.budget {
            tracing::warn!(
                bytes = self.cache.bytes(),
                budget = self.budget,
                "uncheckpointed changes alone exceed the cache budget; checkpoint more often"
            );
        }
        Ok(())
    }

    /// Writes dirty coins to the heap and returns the index changes a checkpoint must log.
    pub fn checkpoint_ops(&mut self) -> Result<Vec<JournalOp>> {
        let mut ops = Vec::with_capacity(self.cache.dirty_len());
        let heap = &mut self.heap;
        self.cache.for_each_dirty(|op, e| {
            ops.push(match e {
                Entry::Dirty { coin, .. } => JournalOp::Put(*op, heap.append(op, coin)?),
                Entry::Spilled { off, .. } => JournalOp::Put(*op, *off),
                Entry::Spent => JournalOp::Delete(*op),
                Entry::Clean(_) => return Ok(()),
            });
            Ok::<_, crate::error::StoreError>(())
        })?;
        Ok(ops)
    }

    /// Applies a durable journal to the index (idempotent), marking progress in its header.
    pub fn apply_journal(&mut self, gen: u64, ops: &[JournalOp]) -> Result<()> {
        self.index.set_state(ApplyState {
            gen,
            applying: true,
        });
        for op in ops {
            let heap = &self.heap;
            match op {
                JournalOp::Put(o, off) => {
                    self.index.put(o, *off, |at| Ok(heap.read(at)?.0 == *o))?;
                }
                JournalOp::Delete(o) => {
                    self.index.delete(o, |at| Ok(heap.read(at)?.0 == *o))?;
                }
            }
        }
        self.index.sync()?;
        self.index.set_state(ApplyState {
            gen,
            applying: false,
        });
        self.index.sync()
    }

    /// Every coin in the set (committed index overlaid with the cache), in no particular order.
    pub fn for_each_coin(&self, mut f: impl FnMut(&OutPoint, &Coin)) -> Result<()> {
        self.index.for_each(|off| {
            let (op, coin) = self.heap.read(off)?;
            // Dirty entries (spent, overwritten, spilled) are visited from the cache below.
            if matches!(self.cache.get(&op), None | Some(Entry::Clean(_))) {
                f(&op, &coin);
            }
            Ok(())
        })?;
        let mut err = None;
        self.cache
            .for_each_dirty(|op, e| {
                match e {
                    Entry::Dirty { coin, .. } => f(op, coin),
                    Entry::Spilled { off, .. } => match self.read_spilled(op, *off) {
                        Ok(c) => f(op, &c),
                        Err(e) => err = Some(e),
                    },
                    Entry::Clean(_) | Entry::Spent => {}
                }
                Ok::<_, ()>(())
            })
            .ok();
        if let Some(e) = err {
            return Err(e);
        }
        Ok(())
    }
}
