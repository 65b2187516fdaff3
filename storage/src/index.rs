//! The hot UTXO index: an open-addressing (linear probing) hash table in a memory-mapped file.
//!
//! Each 16-byte slot holds a 64-bit salted hash of the outpoint (its home slot is the low bits)
//! and a 48-bit pointer into the record heap guarded by a 16-bit check, so the index costs
//! 16 B / load factor per coin (20-48 B: the load stays between 1/3 and 4/5 while the set
//! grows) and a flipped byte is detected when the slot is read.
//! Deletion writes a tombstone; growth (doubling) or a tombstone purge rebuilds into a new
//! file that is renamed over the old one.
//!
//! Crash safety: the index is only mutated while applying a journal that is already durable
//! (see `store.rs`). Every mutation is a single aligned 8-byte store of the slot's pointer word
//! (the hash word is written first), so a kill leaves each slot either old or new; replaying
//! the journal is idempotent.

use std::path::{Path, PathBuf};
use std::sync::atomic::{compiler_fence, Ordering};

use sluice_consensus::coin::OutPoint;

use crate::error::{corrupt, io_at, Result};
use crate::mmap::MappedFile;

const MAGIC: &[u8; 8] = b"SLUIDX01";
const HEADER: usize = 4096;
const SLOT: usize = 16;
const EMPTY: u64 = 0;
const TOMB: u64 = 1;
const STATE_OFF: usize = 64;
const OCC_OFF: usize = 72;
const TOMBS_OFF: usize = 80;
/// The largest heap offset a slot can hold.
pub const MAX_HEAP_OFFSET: u64 = (1 << 48) - 3;

fn mix(mut x: u64) -> u64 {
    // splitmix64 finaliser.
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn check16(v: u64, tag: u64) -> u64 {
    mix(v ^ tag.wrapping_mul(0x9e37_79b9_7f4a_7c15)) >> 48
}

/// A 48-bit value with a 16-bit check in the top bits, so a torn or flipped word is visible.
fn seal(v: u64, tag: u64) -> u64 {
    v | (check16(v, tag) << 48)
}

fn unseal(w: u64, tag: u64) -> Option<u64> {
    let v = w & ((1 << 48) - 1);
    (check16(v, tag) == w >> 48).then_some(v)
}

fn rd(b: &[u8], off: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(w)
}

fn wr(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

/// Where the index is in applying checkpoint journals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApplyState {
    pub gen: u64,
    /// True while journal `gen` is being applied (a crash then needs a repair + replay).
    pub applying: bool,
}

/// The memory-mapped hash table.
#[derive(Debug)]
pub struct UtxoIndex {
    path: PathBuf,
    map: MappedFile,
    mask: u64,
    salt: u64,
    occupied: u64,
    tombs: u64,
}

impl UtxoIndex {
    /// Creates an empty index with `capacity` (a power of two) slots.
    pub fn create(path: &Path, capacity: u64, salt: u64) -> Result<Self> {
        let cap = capacity.next_power_of_two().max(64);
        let mut map =
            MappedFile::create(path, HEADER as u64 + cap * SLOT as u64).map_err(io_at(path))?;
        let b = map.bytes_mut();
        b[..8].copy_from_slice(MAGIC);
        wr(b, 8, cap);
        wr(b, 16, salt);
        let crc = crc32fast::hash(&b[..24]);
        b[24..28].copy_from_slice(&crc.to_le_bytes());
        let mut idx = Self {
            path: path.to_path_buf(),
            map,
            mask: cap - 1,
            salt,
            occupied: 0,
            tombs: 0,
        };
        idx.set_state(ApplyState {
            gen: 0,
            applying: false,
        });
        idx.store_counts();
        Ok(idx)
    }

    /// Opens an existing index, checking its header.
    pub fn open(path: &Path) -> Result<Self> {
        let map = MappedFile::open(path).map_err(io_at(path))?;
        let b = map.bytes();
        if b.len() < HEADER || &b[..8] != MAGIC {
            return Err(corrupt(path, "bad index header magic or length"));
        }
        if crc32fast::hash(&b[..24]).to_le_bytes() != b[24..28] {
            return Err(corrupt(path, "index header checksum mismatch"));
        }
        let cap = rd(b, 8);
        if !cap.is_power_of_two() || b.len() as u64 != HEADER as u64 + cap * SLOT as u64 {
            return Err(corrupt(path, "index capacity does not match file length"));
        }
        let salt = rd(b, 16);
        let occupied = unseal(rd(b, OCC_OFF), 2)
            .ok_or_else(|| corrupt(path, "index occupied count check failed"))?;
        let tombs = unseal(rd(b, TOMBS_OFF), 3)
            .ok_or_else(|| corrupt(path, "index tombstone count check failed"))?;
        let idx = Self {
            path: path.to_path_buf(),
            map,
            mask: cap - 1,
            salt,
            occupied,
            tombs,
        };
        idx.state()?;
        Ok(idx)
    }

    #[must_use]
    pub fn capacity(&self) -> u64 {
        self.mask + 1
    }

    #[must_use]
    pub fn len(&self) -> u64 {
        self.occupied
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.occupied == 0
    }

    #[must_use]
    pub fn file_bytes(&self) -> u64 {
        self.map.bytes().len() as u64
    }

    pub fn state(&self) -> Result<ApplyState> {
        let v = unseal(rd(self.map.bytes(), STATE_OFF), 1)
            .ok_or_else(|| corrupt(&self.path, "index apply-state check failed"))?;
        Ok(ApplyState {
            gen: v >> 1,
            applying: v & 1 == 1,
        })
    }

    pub fn set_state(&mut self, s: ApplyState) {
        let v = (s.gen << 1) | u64::from(s.applying);
        wr(self.map.bytes_mut(), STATE_OFF, seal(v, 1));
    }

    fn store_counts(&mut self) {
        let (o, t) = (self.occupied, self.tombs);
        let b = self.map.bytes_mut();
        wr(b, OCC_OFF, seal(o, 2));
        wr(b, TOMBS_OFF, seal(t, 3));
    }

    /// The salted 64-bit hash of an outpoint; its low bits pick the home slot.
    #[must_use]
    pub fn key_hash(&self, op: &OutPoint) -> u64 {
        let mut h = self.salt;
        for c in op.txid.chunks_exact(8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = mix(h ^ u64::from_le_bytes(w));
        }
        // Never 0, so an empty slot's zero hash word is distinguishable in the repair scan.
        mix(h ^ u64::from(op.vout)) | 1
    }

    fn slot(&self, i: u64) -> (u64, u64) {
        let off = HEADER + (i as usize) * SLOT;
        let b = self.map.bytes();
        (rd(b, off), rd(b, off + 8))
    }

    fn decode(&self, i: u64, w0: u64, h: u64) -> Result<u64> {
        unseal(w0, h)
            .and_then(|v| v.checked_sub(2))
            .ok_or_else(|| corrupt(&self.path, format!("index slot {i} failed its check")))
    }

    /// Finds `op`: `is_key(heap_offset)` confirms a hash match against the record's key.
    /// Returns (slot, heap offset).
    pub fn find(
        &self,
        op: &OutPoint,
        mut is_key: impl FnMut(u64) -> Result<bool>,
    ) -> Result<Option<(u64, u64)>> {
        let h = self.key_hash(op);
        let mut i = h & self.mask;
        for _ in 0..=self.mask {
            let (w0, w1) = self.slot(i);
            if w0 == EMPTY {
                return Ok(None);
            }
            if w0 != TOMB && w1 == h {
                let off = self.decode(i, w0, w1)?;
                if is_key(off)? {
                    return Ok(Some((i, off)));
                }
            } else if w0 != TOMB {
                self.decode(i, w0, w1)?;
            }
            i = (i + 1) & self.mask;
        }
        Ok(None)
    }

    fn write_slot_ptr(&mut self, i: u64, w0: u64) {
        let off = HEADER + (i as usize) * SLOT;
        wr(self.map.bytes_mut(), off, w0);
    }

    fn sealed_ptr(off: u64, h: u64) -> u64 {
        seal(off + 2, h)
    }

    /// Sets `op` to point at `heap_off` (insert or update). May grow the table first.
    pub fn put(
        &mut self,
        op: &OutPoint,
        heap_off: u64,
        is_key: impl FnMut(u64) -> Result<bool>,
    ) -> Result<()> {
        if heap_off > MAX_HEAP_OFFSET {
            return Err(crate::error::StoreError::HeapFull(heap_off));
        }
        if let Some((i, _)) = self.find(op, is_key)? {
            let h = self.slot(i).1;
            self.write_slot_ptr(i, Self::sealed_ptr(heap_off, h));
            return Ok(());
        }
        // Rebuild above 4/5 load (live + tombstones). Double only when live coins exceed 2/3,
        // so the doubled table is still at least 1/3 full (<= 48 B per coin); otherwise just
        // purge the tombstones.
        if (self.occupied + self.tombs + 1) * 5 > self.capacity() * 4 {
            let new_cap = if (self.occupied + 1) * 3 > self.capacity() * 2 {
                self.capacity() * 2
            } else {
                self.capacity()
            };
            self.rebuild(new_cap)?;
        }
        let h = self.key_hash(op);
        let mut i = h & self.mask;
        loop {
            let (w0, _) = self.slot(i);
            if w0 == EMPTY || w0 == TOMB {
                let off = HEADER + (i as usize) * SLOT;
                wr(self.map.bytes_mut(), off + 8, h);
                // The hash word must land before the pointer word makes the slot live.
                compiler_fence(Ordering::Release);
                self.write_slot_ptr(i, Self::sealed_ptr(heap_off, h));
                if w0 == TOMB {
                    self.tombs -= 1;
                }
                self.occupied += 1;
                self.store_counts();
                return Ok(());
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Removes `op` if present (tombstone). Returns whether it was present.
    pub fn delete(
        &mut self,
        op: &OutPoint,
        is_key: impl FnMut(u64) -> Result<bool>,
    ) -> Result<bool> {
        let Some((i, _)) = self.find(op, is_key)? else {
            return Ok(false);
        };
        self.write_slot_ptr(i, TOMB);
        self.occupied -= 1;
        self.tombs += 1;
        self.store_counts();
        Ok(true)
    }

    /// Calls `f(heap_offset)` for every live slot, checking every slot on the way.
    pub fn for_each(&self, mut f: impl FnMut(u64) -> Result<()>) -> Result<()> {
        for i in 0..self.capacity() {
            let (w0, w1) = self.slot(i);
            if w0 != EMPTY && w0 != TOMB {
                f(self.decode(i, w0, w1)?)?;
            }
        }
        Ok(())
    }

    /// After a crash in the middle of applying a journal: recount slots and clear hash words a
    /// torn insert left in empty slots. Live slots are checked.
    pub fn repair(&mut self) -> Result<()> {
        let (mut occ, mut tombs) = (0, 0);
        for i in 0..self.capacity() {
            let (w0, w1) = self.slot(i);
            match w0 {
                EMPTY if w1 != 0 => {
                    let off = HEADER + (i as usize) * SLOT + 8;
                    wr(self.map.bytes_mut(), off, 0);
                }
                EMPTY => {}
                TOMB => tombs += 1,
                _ => {
                    self.decode(i, w0, w1)?;
                    occ += 1;
                }
            }
        }
        self.occupied = occ;
        self.tombs = tombs;
        self.store_counts();
        Ok(())
    }

    /// Strict check for `verify`: empty slots must be all zero, live slots must pass.
    pub fn verify(&self) -> Result<()> {
        let (mut occ, mut tombs) = (0, 0);
        for i in 0..self.capacity() {
            let (w0, w1) = self.slot(i);
            match w0 {
                EMPTY if w1 != 0 => {
                    return Err(corrupt(
                        &self.path,
                        format!("empty index slot {i} is not zero"),
                    ))
                }
                EMPTY => {}
                TOMB => tombs += 1,
                _ => {
                    self.decode(i, w0, w1)?;
                    occ += 1;
                }
            }
        }
        if occ != self.occupied || tombs != self.tombs {
            return Err(corrupt(
                &self.path,
                "index slot counts do not match the header",
            ));
        }
        Ok(())
    }

    /// Makes the mapped bytes durable.
    pub fn sync(&self) -> Result<()> {
        self.map.flush().map_err(io_at(&self.path))
    }

    /// Writes a copy at `path` holding the same keys with heap offsets mapped through
    /// `relocate` (compaction), sized so the load is between 2/5 and 4/5. Synced on return.
    pub fn copy_relocated(
        &self,
        path: &Path,
        mut relocate: impl FnMut(u64) -> Result<u64>,
    ) -> Result<Self> {
        let cap = (self.occupied * 5 / 4 + 1).next_power_of_two();
        let mut next = Self::create(path, cap, self.salt)?;
        for i in 0..self.capacity() {
            let (w0, w1) = self.slot(i);
            if w0 == EMPTY || w0 == TOMB {
                continue;
            }
            let off = relocate(self.decode(i, w0, w1)?)?;
            if off > MAX_HEAP_OFFSET {
                return Err(crate::error::StoreError::HeapFull(off));
            }
            let mut j = w1 & next.mask;
            while next.slot(j).0 != EMPTY {
                j = (j + 1) & next.mask;
            }
            let at = HEADER + (j as usize) * SLOT;
            let b = next.map.bytes_mut();
            wr(b, at + 8, w1);
            wr(b, at, Self::sealed_ptr(off, w1));
        }
        next.occupied = self.occupied;
        next.store_counts();
        next.set_state(self.state()?);
        next.sync()?;
        Ok(next)
    }

    /// Rebuilds into a fresh file of `new_cap` slots (dropping tombstones), then renames it over
    /// the current file. A crash before the rename leaves the old file intact.
    fn rebuild(&mut self, new_cap: u64) -> Result<()> {
        let tmp = self.path.with_extension("rebuild");
        let mut next = Self::create(&tmp, new_cap, self.salt)?;
        for i in 0..self.capacity() {
            let (w0, w1) = self.slot(i);
            if w0 == EMPTY || w0 == TOMB {
                continue;
            }
            self.decode(i, w0, w1)?;
            let mut j = w1 & next.mask;
            while next.slot(j).0 != EMPTY {
                j = (j + 1) & next.mask;
            }
            let off = HEADER + (j as usize) * SLOT;
            let b = next.map.bytes_mut();
            wr(b, off + 8, w1);
            wr(b, off, w0);
        }
        next.occupied = self.occupied;
        next.tombs = 0;
        next.store_counts();
        next.set_state(self.state()?);
        next.sync()?;
        std::fs::rename(&tmp, &self.path).map_err(io_at(&self.path))?;
        crate::fsutil::sync_dir(&self.path)?;
        next.path = self.path.clone();
        tracing::debug!(
            capacity = new_cap,
            coins = self.occupied,
            "utxo index rebuilt"
        );
        *self = next;
        Ok(())
    }
}
