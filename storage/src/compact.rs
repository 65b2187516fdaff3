//! Heap compaction: spent records are never rewritten in place, so `heap.dat` only grows.
//! [`ChainStore::compact`] checkpoints, copies the live records into a fresh heap and a fresh
//! index (new file pair id), fsyncs them, and publishes the new pair with one redb commit of the
//! manifest. A crash before the commit leaves the old pair current (the new files are deleted
//! on open); after it, the old pair is deleted on open.

use crate::error::Result;
use crate::fsutil::sync_dir;
use crate::heap::Heap;
use crate::store::{heap_file, index_file, ChainStore};

/// What a compaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactStats {
    pub heap_bytes_before: u64,
    pub heap_bytes_after: u64,
    pub records_kept: u64,
}

impl ChainStore {
    /// Checkpoints, then rewrites the heap and index without dead records (see module docs).
    /// Costs one pass over the live set; run it when `stats().heap_bytes` has grown well past
    /// the live size.
    pub fn compact(&mut self) -> Result<CompactStats> {
        self.compact_inner(false)
    }

    /// Test hook: compaction that stops just before publishing the new files.
    #[doc(hidden)]
    pub fn compact_then_crash(mut self) -> Result<()> {
        self.compact_inner(true).map(|_| ())
    }

    fn compact_inner(&mut self, crash_before_commit: bool) -> Result<CompactStats> {
        self.checkpoint()?;
        let old_id = self.manifest.files_id;
        let new_id = old_id + 1;
        let heap_path = self.dir.join(heap_file(new_id));
        let index_path = self.dir.join(index_file(new_id));
        // Leftovers of an earlier torn compaction with the same id.
        for p in [&heap_path, &index_path] {
            if p.exists() {
                std::fs::remove_file(p).map_err(crate::error::io_at(p))?;
            }
        }
        let mut heap = Heap::open(&heap_path, 0)?;
        let mut kept = 0u64;
        let old_heap = &self.utxo.heap;
        let index = self.utxo.index.copy_relocated(&index_path, |off| {
            let (op, coin) = old_heap.read(off)?;
            kept += 1;
            heap.append(&op, &coin)
        })?;
        heap.sync()?;
        sync_dir(&heap_path)?;
        if crash_before_commit {
            return Ok(CompactStats {
                heap_bytes_before: 0,
                heap_bytes_after: 0,
                records_kept: kept,
            });
        }
        let mut manifest = self.manifest.clone();
        manifest.files_id = new_id;
        manifest.heap_len = heap.len();
        manifest.journal_len = 0;
        manifest.journal_crc = 0;
        self.commit_db(&manifest)?;
        let stats = CompactStats {
            heap_bytes_before: self.utxo.heap.len(),
            heap_bytes_after: heap.len(),
            records_kept: kept,
        };
        self.utxo.heap = heap;
        self.utxo.index = index;
        self.manifest = manifest;
        for name in [heap_file(old_id), index_file(old_id)] {
            let p = self.dir.join(name);
            std::fs::remove_file(&p).map_err(crate::error::io_at(&p))?;
        }
        tracing::info!(?stats, "compacted the UTXO heap");
        Ok(stats)
    }
}
