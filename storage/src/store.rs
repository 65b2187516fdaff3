//! [`ChainStore`]: the UTXO set, block index, undo data and checkpoints behind one API.
//!
//! Durability model: nothing is durable until [`ChainStore::checkpoint`]. A checkpoint
//! 1. appends the dirty coins to the heap and fsyncs it,
//! 2. writes the index changes to `journal-<gen>.dat` and fsyncs it,
//! 3. commits ONE redb transaction holding the block index / chain / undo changes and the
//!    manifest (generation, heap length, journal length + crc32, coin count, tip, MuHash) —
//!    this commit is the atomic publish point,
//! 4. applies the journal to the memory-mapped index, msyncs, records the generation in the
//!    index header and deletes the journal.
//!
//! A crash before 3 leaves the previous manifest, whose heap length truncates the torn tail and
//! whose index is untouched; a crash after 3 is finished on open by replaying the journal.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use redb::{Database, ReadableTable, TableDefinition};
use sluice_consensus::coin::{Coin, OutPoint};
use sluice_consensus::hash::Hash256;

use crate::cache::Cache;
use crate::error::{corrupt, db, io_at, Result, StoreError};
use crate::faults::FaultInjector;
use crate::fsutil::sync_dir;
use crate::heap::Heap;
use crate::index::{ApplyState, UtxoIndex};
use crate::muhash::{coin_element, MuHash3072};
use crate::records::{
    decode_journal, encode_journal, status, BlockIndexEntry, BlockUndo, JournalOp, Manifest,
};
use crate::utxo::UtxoSet;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const BLOCKS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("blocks");
const CHAIN: TableDefinition<u32, &[u8]> = TableDefinition::new("chain");
const UNDO: TableDefinition<&[u8], &[u8]> = TableDefinition::new("undo");
const DB_FILE: &str = "index.redb";
/// File names of the heap/index pair `files_id` (0 keeps the plain names).
pub(crate) fn index_file(files_id: u64) -> String {
    if files_id == 0 {
        "utxo.idx".to_owned()
    } else {
        format!("utxo-{files_id}.idx")
    }
}

pub(crate) fn heap_file(files_id: u64) -> String {
    if files_id == 0 {
        "heap.dat".to_owned()
    } else {
        format!("heap-{files_id}.dat")
    }
}

/// Store configuration.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Memory the write-back cache may use before spilling/evicting.
    pub mem_budget_bytes: usize,
    /// Maintain the MuHash of the UTXO set (about 3-5 µs per created or spent coin).
    pub track_muhash: bool,
    /// Initial index capacity in slots (rounded up to a power of two; it grows by doubling).
    pub initial_index_slots: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            mem_budget_bytes: 256 << 20,
            track_muhash: true,
            initial_index_slots: 1 << 16,
        }
    }
}

/// Figures for monitoring and the benchmark report.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreStats {
    pub coins: u64,
    pub generation: u64,
    pub index_slots: u64,
    pub index_file_bytes: u64,
    /// Hot index bytes per coin (index file size / committed coins in it).
    pub index_bytes_per_coin: f64,
    pub heap_bytes: u64,
    pub cache_entries: usize,
    pub cache_bytes: usize,
    pub dirty_entries: usize,
    pub pending_undo_blocks: usize,
}

/// Where [`ChainStore::checkpoint_then_crash`] stops, to test torn checkpoints.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// Heap appended and synced, journal not written.
    AfterHeap,
    /// Journal written, manifest not committed.
    AfterJournal,
    /// Manifest committed, journal not applied to the index.
    AfterCommit,
    /// Half of the journal applied to the index.
    MidApply,
}

/// The chain state store. See the module docs for the durability model.
#[derive(Debug)]
pub struct ChainStore {
    pub(crate) dir: PathBuf,
    pub(crate) db: Database,
    pub(crate) utxo: UtxoSet,
    pub(crate) manifest: Manifest,
    pub(crate) tip: Option<(u32, Hash256)>,
    pub(crate) pending_blocks: HashMap<Hash256, BlockIndexEntry>,
    pub(crate) pending_chain: BTreeMap<u32, Option<Hash256>>,
    pub(crate) pending_undo: HashMap<Hash256, BlockUndo>,
    /// Set when an error interrupts a block after it began changing the set: the in-memory
    /// state is then neither block's, so nothing more may be applied or checkpointed.
    pub(crate) poisoned: bool,
    pub(crate) faults: FaultInjector,
}

fn journal_path(dir: &Path, gen: u64) -> PathBuf {
    dir.join(format!("journal-{gen:020}.dat"))
}

/// Creates the redb file under a temporary name with every table, then renames it into place
/// (so every store's database has all its tables from birth),
/// so that a kill during creation can never leave a half-written database at `db_path` (redb
/// cannot open a file torn inside its header).
fn create_db_atomically(dir: &Path, db_path: &Path) -> Result<()> {
    let tmp = db_path.with_extension("redb.creating");
    if tmp.exists() {
        fs::remove_file(&tmp).map_err(io_at(&tmp))?;
    }
    {
        let database = Database::create(&tmp).map_err(db)?;
        let wtx = database.begin_write().map_err(db)?;
        {
            wtx.open_table(META).map_err(db)?;
            wtx.open_table(BLOCKS).map_err(db)?;
            wtx.open_table(CHAIN).map_err(db)?;
            wtx.open_table(UNDO).map_err(db)?;
        }
        wtx.commit().map_err(db)?;
    }
    fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io_at(&tmp))?;
    fs::rename(&tmp, db_path).map_err(io_at(db_path))?;
    fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(io_at(dir))
}

/// The first non-empty heap, index or journal file in `dir`, if any.
fn leftover_store_file(dir: &Path) -> Result<Option<String>> {
    for e in fs::read_dir(dir).map_err(io_at(dir))?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = name.starts_with("heap") && name.ends_with(".dat")
            || name.starts_with("utxo") && name.ends_with(".idx")
            || name.starts_with("journal-");
        if ours && e.metadata().map_or(true, |m| m.len() > 0) {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

impl ChainStore {
    /// Opens or creates the store in `dir`, finishing an interrupted checkpoint if needed.
    pub fn open(dir: &Path, config: &StoreConfig) -> Result<Self> {
        fs::create_dir_all(dir).map_err(io_at(dir))?;
        let db_path = dir.join(DB_FILE);
        // redb takes an exclusive flock on its file: it is the store's directory lock, held for
        // as long as the ChainStore lives (the mmap soundness argument relies on it).
        if !db_path.exists() {
            // A store starts with its database, so UTXO files without one mean the database
            // was lost: starting afresh would truncate them. Refuse instead.
            if let Some(name) = leftover_store_file(dir)? {
                return Err(corrupt(
                    &db_path,
                    format!(
                        "missing, but {name} holds data; refusing to start a new store over it"
                    ),
                ));
            }
            create_db_atomically(dir, &db_path)?;
        }
        let database = Database::create(&db_path).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => StoreError::Locked(dir.to_path_buf()),
            e => db(e),
        })?;
        let manifest = {
            let rtx = database.begin_read().map_err(db)?;
            let t = rtx.open_table(META).map_err(db)?;
            let got = t.get("manifest").map_err(db)?;
            match got {
                Some(v) => Manifest::decode(v.value())
                    .ok_or_else(|| corrupt(&db_path, "manifest record fails its crc32"))?,
                None => Manifest {
                    gen: 0,
                    heap_len: 0,
                    journal_len: 0,
                    journal_crc: 0,
                    files_id: 0,
                    coin_count: 0,
                    tip: None,
                    muhash: Some(MuHash3072::new()),
                },
            }
        };
        let index_path = dir.join(index_file(manifest.files_id));
        // Before the first checkpoint nothing is durable: whatever index a killed first session
        // left (possibly torn inside its header) is discarded and made afresh, as the heap is.
        let index = if manifest.gen == 0 {
            UtxoIndex::create(&index_path, config.initial_index_slots, rand::random())?
        } else if index_path.exists() {
            UtxoIndex::open(&index_path)?
        } else {
            return Err(corrupt(&index_path, "index file missing"));
        };
        let heap = Heap::open(&dir.join(heap_file(manifest.files_id)), manifest.heap_len)?;
        let state = index.state()?;
        let gen = manifest.gen;
        let replay = match state {
            ApplyState {
                gen: g,
                applying: false,
            } if g == gen => false,
            ApplyState {
                gen: g,
                applying: true,
            } if g == gen => true,
            ApplyState {
                gen: g,
                applying: false,
            } if g + 1 == gen => true,
            s => {
                return Err(corrupt(
                    &index_path,
                    format!(
                        "index is at generation {} but the checkpoint is {gen}",
                        s.gen
                    ),
                ))
            }
        };
        let mut utxo = UtxoSet {
            index,
            heap,
            cache: Cache::default(),
            muhash: None,
            hash_pending: Vec::new(),
            count: manifest.coin_count,
            budget: config.mem_budget_bytes,
        };
        if replay {
            // Recount and clear torn inserts first: after a power loss the header page may be
            // older than some slot pages, so do this even when the header says "not applying".
            utxo.index.repair()?;
            let jp = journal_path(dir, gen);
            let bytes = fs::read(&jp).map_err(io_at(&jp))?;
            if bytes.len() as u64 != manifest.journal_len
                || crc32fast::hash(&bytes) != manifest.journal_crc
            {
                return Err(corrupt(
                    &jp,
                    "journal length or crc32 does not match the manifest",
                ));
            }
            let ops = decode_journal(&bytes).map_err(|e| corrupt(&jp, e.to_string()))?;
            tracing::info!(gen, ops = ops.len(), "finishing interrupted checkpoint");
            utxo.apply_journal(gen, &ops)?;
        }
        // Journals of other generations belong to torn or finished checkpoints.
        for e in fs::read_dir(dir).map_err(io_at(dir))?.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            // Journals are done with; heap/index files of other ids are a finished or torn
            // compaction.
            let stale_pair = (name.starts_with("heap") && name.ends_with(".dat")
                || name.starts_with("utxo")
                    && (name.ends_with(".idx") || name.ends_with(".rebuild")))
                && name != heap_file(manifest.files_id)
                && name != index_file(manifest.files_id);
            if name.starts_with("journal-") || stale_pair {
                fs::remove_file(e.path()).map_err(io_at(&e.path()))?;
            }
        }
        if utxo.index.len() != manifest.coin_count {
            return Err(corrupt(
                &index_path,
                format!(
                    "index holds {} coins, checkpoint says {}",
                    utxo.index.len(),
                    manifest.coin_count
                ),
            ));
        }
        if config.track_muhash {
            utxo.muhash = match &manifest.muhash {
                Some(m) => Some(m.clone()),
                None => {
                    let mut m = MuHash3072::new();
                    utxo.for_each_coin(|op, c| m.insert(&coin_element(op, c)))?;
                    Some(m)
                }
            };
        }
        let tip = manifest.tip;
        Ok(Self {
            dir: dir.to_path_buf(),

            db: database,
            utxo,
            manifest,
            tip,
            pending_blocks: HashMap::new(),
            pending_chain: BTreeMap::new(),
            pending_undo: HashMap::new(),
            poisoned: false,
            faults: FaultInjector::default(),
        })
    }

    /// The active chain tip (including uncheckpointed blocks).
    #[must_use]
    pub fn tip(&self) -> Option<(u32, Hash256)> {
        self.tip
    }

    /// The tip as of the last durable checkpoint.
    #[must_use]
    pub fn checkpointed_tip(&self) -> Option<(u32, Hash256)> {
        self.manifest.tip
    }

    /// Number of unspent coins.
    #[must_use]
    pub fn coin_count(&self) -> u64 {
        self.utxo.count
    }

    /// Core's `gettxoutsetinfo muhash` value in internal byte order (reverse for display);
    /// `None` if the store was opened without MuHash tracking.
    #[must_use]
    pub fn muhash(&self) -> Option<Hash256> {
        self.utxo.muhash.as_ref().map(MuHash3072::finalize)
    }

    /// MuHash of the set recomputed by a full scan (for stores run with `track_muhash: false`,
    /// and as a cross-check of the incremental value).
    pub fn recompute_muhash(&self) -> Result<Hash256> {
        let mut m = MuHash3072::new();
        self.utxo
            .for_each_coin(|op, c| m.insert(&coin_element(op, c)))?;
        Ok(m.finalize())
    }

    /// The coin at `op`, if unspent. Caches what it reads.
    pub fn get_coin(&mut self, op: &OutPoint) -> Result<Option<Coin>> {
        self.utxo.get(op)
    }

    /// Like [`Self::get_coin`] but without populating the cache (usable through `&self`).
    pub fn peek_coin(&self, op: &OutPoint) -> Result<Option<Coin>> {
        self.utxo.peek(op)
    }

    /// Looks up many coins in parallel (rayon) and caches the disk hits, e.g. all inputs of a
    /// block before `connect_block`. Results are in the order of `ops`.
    pub fn fetch_coins(&mut self, ops: &[OutPoint]) -> Result<Vec<Option<Coin>>> {
        use rayon::prelude::*;
        let utxo = &self.utxo;
        let found: Vec<Option<Coin>> = ops
            .par_iter()
            .map(|op| utxo.peek(op))
            .collect::<Result<_>>()?;
        for (op, coin) in ops.iter().zip(&found) {
            if let Some(c) = coin {
                self.utxo.cache_clean(op, c);
            }
        }
        self.utxo.enforce_budget()?;
        Ok(found)
    }

    /// Visits every unspent coin, in no particular order.
    pub fn for_each_coin(&self, f: impl FnMut(&OutPoint, &Coin)) -> Result<()> {
        self.utxo.for_each_coin(f)
    }

    /// Connects the block at `height` (must be tip + 1): spends `spends` (in input order; a
    /// spend may consume a coin from `creates`), then adds the unspent `creates`. Checks every
    /// spend before changing anything, so a missing coin leaves the set untouched; an I/O or
    /// corruption error after that poisons the store ([`StoreError::Poisoned`] from then on;
    /// reopening resumes from the last checkpoint).
    pub fn connect_block(
        &mut self,
        height: u32,
        hash: Hash256,
        spends: &[OutPoint],
        creates: &[(OutPoint, Coin)],
    ) -> Result<BlockUndo> {
        if self.poisoned {
            return Err(StoreError::Poisoned);
        }
        let expected = self.tip.map_or(0, |(h, _)| h + 1);
        if height != expected {
            return Err(StoreError::NotNextBlock { height, hash });
        }
        let created: HashMap<OutPoint, &Coin> = creates.iter().map(|(o, c)| (*o, c)).collect();
        let mut seen = HashSet::with_capacity(spends.len());
        let mut undo = BlockUndo {
            spent: Vec::with_capacity(spends.len()),
            created: creates.iter().map(|(o, _)| *o).collect(),
        };
        for s in spends {
            if !seen.insert(*s) {
                return Err(StoreError::MissingCoin(*s));
            }
            let coin = match created.get(s) {
                Some(c) => (*c).clone(),
                None => {
                    self.faults.step(&self.dir, "connect: read a spent coin")?;
                    self.utxo.get(s)?.ok_or(StoreError::MissingCoin(*s))?
                }
            };
            undo.spent.push((*s, coin));
        }
        // Every read happens before the set changes, so an error up to here leaves it untouched.
        self.faults
            .step(&self.dir, "connect: read the block index")?;
        let index_entry = self.block_index(&hash)?;
        let applied = (|| {
            for s in spends {
                if !created.contains_key(s) {
                    self.faults.step(&self.dir, "connect: spend")?;
                    self.utxo.spend(s)?;
                }
            }
            for (op, coin) in creates {
                if !seen.contains(op) {
                    self.faults.step(&self.dir, "connect: add")?;
                    self.utxo.add(*op, coin.clone())?;
                }
            }
            self.utxo.flush_hash();
            self.faults.step(&self.dir, "connect: enforce the budget")?;
            self.utxo.enforce_budget()
        })();
        if let Err(e) = applied {
            self.poisoned = true;
            return Err(e);
        }
        self.pending_undo.insert(hash, undo.clone());
        self.pending_chain.insert(height, Some(hash));
        if let Some(mut e) = index_entry {
            e.status |= status::HAVE_UNDO | status::VALID;
            self.pending_blocks.insert(hash, e);
        }
        self.tip = Some((height, hash));
        Ok(undo)
    }

    /// Disconnects the tip block `hash` using its undo data, restoring the exact previous set.
    pub fn disconnect_block(&mut self, hash: &Hash256) -> Result<()> {
        if self.poisoned {
            return Err(StoreError::Poisoned);
        }
        let Some((height, tip_hash)) = self.tip else {
            return Err(StoreError::NotTip(*hash));
        };
        if tip_hash != *hash {
            return Err(StoreError::NotTip(*hash));
        }
        self.faults
            .step(&self.dir, "disconnect: read the undo data")?;
        let undo = self.undo(hash)?.ok_or(StoreError::NoUndo(*hash))?;
        let created: HashSet<OutPoint> = undo.created.iter().copied().collect();
        let spent: HashSet<OutPoint> = undo.spent.iter().map(|(o, _)| *o).collect();
        for op in &undo.created {
            if spent.contains(op) {
                continue;
            }
            self.faults
                .step(&self.dir, "disconnect: read a created coin")?;
            if self.utxo.get(op)?.is_none() {
                return Err(StoreError::UndoMismatch {
                    hash: *hash,
                    what: format!(
                        "created coin {}:{} is not in the set",
                        sluice_consensus::hash::to_display_hex(&op.txid),
                        op.vout
                    ),
                });
            }
        }
        // The new tip is read before the set changes, like every other read here.
        let new_tip = match height.checked_sub(1) {
            Some(h) => {
                self.faults
                    .step(&self.dir, "disconnect: read the previous block's hash")?;
                Some((
                    h,
                    self.hash_at_height(h)?.ok_or_else(|| {
                        corrupt(
                            &self.dir.join(DB_FILE),
                            format!("no active-chain hash at height {h}"),
                        )
                    })?,
                ))
            }
            None => None,
        };
        let applied = (|| {
            for op in &undo.created {
                if !spent.contains(op) {
                    self.faults.step(&self.dir, "disconnect: spend")?;
                    self.utxo.spend(op)?;
                }
            }
            for (op, coin) in undo.spent.iter().rev() {
                if !created.contains(op) {
                    self.faults.step(&self.dir, "disconnect: add")?;
                    self.utxo.add(*op, coin.clone())?;
                }
            }
            self.utxo.flush_hash();
            self.faults
                .step(&self.dir, "disconnect: enforce the budget")?;
            self.utxo.enforce_budget()
        })();
        if let Err(e) = applied {
            self.poisoned = true;
            return Err(e);
        }
        self.pending_chain.insert(height, None);
        self.tip = new_tip;
        Ok(())
    }

    /// Records (or replaces) a block index entry; durable at the next checkpoint.
    pub fn put_block_index(&mut self, hash: Hash256, entry: BlockIndexEntry) {
        self.pending_blocks.insert(hash, entry);
    }

    /// The block index entry for `hash`.
    pub fn block_index(&self, hash: &Hash256) -> Result<Option<BlockIndexEntry>> {
        if let Some(e) = self.pending_blocks.get(hash) {
            return Ok(Some(e.clone()));
        }
        let rtx = self.db.begin_read().map_err(db)?;
        let t = rtx.open_table(BLOCKS).map_err(db)?;
        let got = t.get(hash.as_slice()).map_err(db)?;
        got.map(|v| {
            BlockIndexEntry::decode(v.value()).ok_or_else(|| {
                corrupt(&self.dir.join(DB_FILE), "block index entry fails its crc32")
            })
        })
        .transpose()
    }

    /// The active chain's block hash at `height`.
    pub fn hash_at_height(&self, height: u32) -> Result<Option<Hash256>> {
        if let Some(h) = self.pending_chain.get(&height) {
            return Ok(*h);
        }
        let rtx = self.db.begin_read().map_err(db)?;
        let t = rtx.open_table(CHAIN).map_err(db)?;
        let got = t.get(height).map_err(db)?;
        got.map(|v| {
            <Hash256>::try_from(v.value())
                .map_err(|_| corrupt(&self.dir.join(DB_FILE), "chain entry is not 32 bytes"))
        })
        .transpose()
    }

    /// The undo data of a connected block.
    pub fn undo(&self, hash: &Hash256) -> Result<Option<BlockUndo>> {
        if let Some(u) = self.pending_undo.get(hash) {
            return Ok(Some(u.clone()));
        }
        let rtx = self.db.begin_read().map_err(db)?;
        let t = rtx.open_table(UNDO).map_err(db)?;
        let got = t.get(hash.as_slice()).map_err(db)?;
        got.map(|v| {
            BlockUndo::decode(v.value())
                .map_err(|e| corrupt(&self.dir.join(DB_FILE), format!("undo record: {e}")))
        })
        .transpose()
    }

    /// Makes everything so far durable (see the module docs). On error, drop and reopen.
    pub fn checkpoint(&mut self) -> Result<()> {
        self.checkpoint_inner(None)
    }

    /// Test hook: the next fallible step `after` steps from now fails with an I/O error.
    #[doc(hidden)]
    pub fn inject_fault_after(&self, after: u64) {
        self.faults.arm(after);
    }

    /// Test hook: no injected fault from now on.
    #[doc(hidden)]
    pub fn clear_injected_fault(&self) {
        self.faults.disarm();
    }

    /// Test hook: fallible steps taken since the store opened.
    #[doc(hidden)]
    #[must_use]
    pub fn fault_steps(&self) -> u64 {
        self.faults.steps()
    }

    /// Whether an error left a block half-applied (see [`StoreError::Poisoned`]).
    #[must_use]
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// Test hook: runs a checkpoint up to `at`, then drops the store as a crash would.
    #[doc(hidden)]
    pub fn checkpoint_then_crash(mut self, at: CrashPoint) -> Result<()> {
        self.checkpoint_inner(Some(at))
    }

    fn checkpoint_inner(&mut self, crash: Option<CrashPoint>) -> Result<()> {
        if self.poisoned {
            return Err(StoreError::Poisoned);
        }
        // Until the manifest commit starts, a failed checkpoint changed nothing a retry (which
        // appends the heap records again and rewrites this uncommitted journal) depends on.
        let gen = self.manifest.gen + 1;
        self.faults.step(&self.dir, "checkpoint: write the heap")?;
        let ops = self.utxo.checkpoint_ops()?;
        self.faults.step(&self.dir, "checkpoint: sync the heap")?;
        self.utxo.heap.sync()?;
        if crash == Some(CrashPoint::AfterHeap) {
            return Ok(());
        }
        let body = encode_journal(&ops);
        let jp = journal_path(&self.dir, gen);
        self.faults
            .step(&self.dir, "checkpoint: write the journal")?;
        let mut f = File::create(&jp).map_err(io_at(&jp))?;
        f.write_all(&body)
            .and_then(|()| f.sync_all())
            .map_err(io_at(&jp))?;
        self.faults
            .step(&self.dir, "checkpoint: sync the directory")?;
        sync_dir(&jp)?;
        if crash == Some(CrashPoint::AfterJournal) {
            return Ok(());
        }
        // From the commit on, generation `gen` may be durable (a failed commit can still have
        // reached the disk) and the index is changed in place: any error poisons the store, so
        // the only way on is to reopen, which finishes or discards the checkpoint. A retry
        // would reuse `gen` and overwrite the journal a committed manifest points to.
        let done = self.commit_and_apply(gen, &ops, &body, &jp, crash);
        if done.is_err() {
            self.poisoned = true;
        }
        done
    }

    fn commit_and_apply(
        &mut self,
        gen: u64,
        ops: &[JournalOp],
        body: &[u8],
        jp: &Path,
        crash: Option<CrashPoint>,
    ) -> Result<()> {
        let manifest = Manifest {
            gen,
            heap_len: self.utxo.heap.len(),
            journal_len: body.len() as u64,
            journal_crc: crc32fast::hash(body),
            files_id: self.manifest.files_id,
            coin_count: self.utxo.count,
            tip: self.tip,
            muhash: self.utxo.muhash.clone(),
        };
        self.faults
            .step(&self.dir, "checkpoint: commit the manifest")?;
        self.commit_db(&manifest)?;
        if crash == Some(CrashPoint::AfterCommit) {
            return Ok(());
        }
        if crash == Some(CrashPoint::MidApply) {
            // Apply the first half, then put the header back to "applying", which is what a
            // kill in the middle of the loop leaves behind.
            self.utxo.apply_journal(gen, &ops[..ops.len() / 2])?;
            self.utxo.index.set_state(ApplyState {
                gen,
                applying: true,
            });
            return Ok(());
        }
        self.faults
            .step(&self.dir, "checkpoint: apply the journal")?;
        self.utxo.apply_journal(gen, ops)?;
        self.faults
            .step(&self.dir, "checkpoint: remove the journal")?;
        fs::remove_file(jp).map_err(io_at(jp))?;
        self.utxo.cache.mark_all_clean();
        self.pending_blocks.clear();
        self.pending_chain.clear();
        self.pending_undo.clear();
        self.manifest = manifest;
        tracing::debug!(gen, ops = ops.len(), coins = self.utxo.count, "checkpoint");
        Ok(())
    }

    pub(crate) fn commit_db(&self, manifest: &Manifest) -> Result<()> {
        let wtx = self.db.begin_write().map_err(db)?;
        {
            let mut blocks = wtx.open_table(BLOCKS).map_err(db)?;
            for (h, e) in &self.pending_blocks {
                blocks
                    .insert(h.as_slice(), e.encode().as_slice())
                    .map_err(db)?;
            }
            let mut undo = wtx.open_table(UNDO).map_err(db)?;
            for (h, u) in &self.pending_undo {
                undo.insert(h.as_slice(), u.encode().as_slice())
                    .map_err(db)?;
            }
            let mut chain = wtx.open_table(CHAIN).map_err(db)?;
            for (height, h) in &self.pending_chain {
                match h {
                    Some(h) => {
                        chain.insert(*height, h.as_slice()).map_err(db)?;
                    }
                    None => {
                        chain.remove(*height).map_err(db)?;
                    }
                }
            }
            let mut meta = wtx.open_table(META).map_err(db)?;
            meta.insert("manifest", manifest.encode().as_slice())
                .map_err(db)?;
        }
        wtx.commit().map_err(db)
    }

    /// Full integrity scan: every index slot, every live heap record, every redb record.
    pub fn verify(&self) -> Result<()> {
        self.utxo.index.verify()?;
        let mut n = 0u64;
        self.utxo.index.for_each(|off| {
            let (op, _) = self.utxo.heap.read(off)?;
            match self.utxo.index.find(&op, |at| Ok(at == off))? {
                Some(_) => {
                    n += 1;
                    Ok(())
                }
                None => Err(corrupt(
                    &self.dir.join(index_file(self.manifest.files_id)),
                    "live record not reachable from its key",
                )),
            }
        })?;
        if n != self.manifest.coin_count {
            return Err(corrupt(
                &self.dir.join(index_file(self.manifest.files_id)),
                "coin count mismatch",
            ));
        }
        let db_path = self.dir.join(DB_FILE);
        let rtx = self.db.begin_read().map_err(db)?;
        for r in rtx.open_table(BLOCKS).map_err(db)?.iter().map_err(db)? {
            let (_, v) = r.map_err(db)?;
            BlockIndexEntry::decode(v.value())
                .ok_or_else(|| corrupt(&db_path, "block index entry fails its crc32"))?;
        }
        for r in rtx.open_table(UNDO).map_err(db)?.iter().map_err(db)? {
            let (_, v) = r.map_err(db)?;
            BlockUndo::decode(v.value())
                .map_err(|e| corrupt(&db_path, format!("undo record: {e}")))?;
        }
        Ok(())
    }

    /// Sizes and counts.
    #[must_use]
    pub fn stats(&self) -> StoreStats {
        let idx = &self.utxo.index;
        StoreStats {
            coins: self.utxo.count,
            generation: self.manifest.gen,
            index_slots: idx.capacity(),
            index_file_bytes: idx.file_bytes(),
            index_bytes_per_coin: if idx.is_empty() {
                0.0
            } else {
                idx.file_bytes() as f64 / idx.len() as f64
            },
            heap_bytes: self.utxo.heap.len(),
            cache_entries: self.utxo.cache.len(),
            cache_bytes: self.utxo.cache.bytes(),
            dirty_entries: self.utxo.cache.dirty_len(),
            pending_undo_blocks: self.pending_undo.len(),
        }
    }
}
