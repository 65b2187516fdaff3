//! The file importer: a thin shell around the [`Chainstate`] that scans Core-framed block files
//! (like Core's `-loadblock`), offers every block it finds, and reports what happened.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use indicatif::{ProgressBar, ProgressStyle};
use sluice_consensus::block::Block;
use sluice_consensus::hash::to_display_hex;
use sluice_consensus::header::Header;

use super::reader::{expand, read_at, scan_file, Record};
use super::{ImportConfig, ImportError, ImportReport, Rejection};
use crate::chainstate::{BlockReader, Chainstate, Wait};
use crate::coordinator::{CoordinatorLimits, Offered, Resolved};

/// Where a block's bytes live in the imported files.
#[derive(Debug, Clone, Copy)]
struct BlockLoc {
    file: usize,
    offset: u64,
    len: usize,
}

struct Files(Vec<PathBuf>);

impl BlockReader<BlockLoc> for Files {
    fn read(&mut self, loc: &BlockLoc) -> std::io::Result<Vec<u8>> {
        let path = self.0.get(loc.file).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "block file index out of range",
            )
        })?;
        read_at(path, loc.offset, loc.len)
    }
}

/// Imports the blocks in `paths` (files, or directories of `blk?????.dat`) into
/// `cfg.datadir`, resuming from whatever the datadir already holds.
///
/// # Errors
/// Storage or I/O failures, or a datadir whose tip is not among the imported blocks. Invalid
/// blocks are not errors: they are listed in [`ImportReport::rejected`].
pub fn import(cfg: &ImportConfig, paths: &[PathBuf]) -> Result<ImportReport, ImportError> {
    let started = Instant::now();
    let mut chain = Chainstate::open(cfg, CoordinatorLimits::default())?;
    let mut files = Files(expand(paths)?);
    let mut report = ImportReport {
        resumed_from: chain.resumed_from(),
        files: files.0.len(),
        ..ImportReport::default()
    };
    let bar = progress_bar(cfg.progress);
    let adjusted_time = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let result = run(&mut chain, &mut files, &mut report, &bar, adjusted_time);
    let finished = chain.finish(&mut |r| record(&mut report, &bar, r));
    bar.finish_and_clear();
    result?;
    report.stats = finished?;
    if let Some(t) = chain.coordinator().waiting_for() {
        return Err(ImportError::TipNotFound(to_display_hex(&t)));
    }
    report.orphans_left = chain.coordinator().orphan_count() as u64;
    report.reorgs = chain.coordinator().reorgs();
    let store = chain.store();
    if let Some((h, hash)) = store.tip() {
        report.tip_height = h;
        report.tip_hash = hash;
    }
    report.utxo_count = store.coin_count();
    report.muhash = store.muhash().map(|m| to_display_hex(&m));
    drop(store);
    report.elapsed = started.elapsed();
    Ok(report)
}

fn progress_bar(show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(0);
    b.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] height {pos} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    b
}

fn run(
    chain: &mut Chainstate<BlockLoc>,
    files: &mut Files,
    report: &mut ImportReport,
    bar: &ProgressBar,
    adjusted_time: i64,
) -> Result<(), ImportError> {
    let magic = chain.params().magic;
    for file_no in 0..files.0.len() {
        let scan = scan_file(&files.0[file_no], file_no, magic)?;
        report.skipped_garbage_bytes += scan.skipped_bytes;
        if let Some(w) = scan.truncated {
            tracing::warn!("{w}");
            report.file_warnings.push(w);
        }
        for rec in scan.records {
            report.blocks_read += 1;
            offer(chain, rec, report, adjusted_time);
            chain.drive(files, Wait::Block, &mut |r| record(report, bar, r))?;
        }
    }
    // Let everything in flight resolve, dispatching the rest of the best chain.
    loop {
        chain.drive(files, Wait::Block, &mut |r| record(report, bar, r))?;
        if chain.coordinator().in_flight() == 0 {
            return Ok(());
        }
        chain.wait_feedback(&mut |r| record(report, bar, r))?;
    }
}

fn offer(
    chain: &mut Chainstate<BlockLoc>,
    rec: Record,
    report: &mut ImportReport,
    adjusted_time: i64,
) {
    // Core's -loadblock skips records that do not deserialize as a block.
    let Ok(header) = Header::decode(&rec.bytes) else {
        report.undecodable += 1;
        return;
    };
    if Block::parse(&rec.bytes).is_err() {
        report.undecodable += 1;
        tracing::warn!("skipping undecodable block record in file {}", rec.file);
        return;
    }
    let loc = BlockLoc {
        file: rec.file,
        offset: rec.offset,
        len: rec.bytes.len(),
    };
    let hash = header.block_hash();
    let bytes: Arc<[u8]> = rec.bytes.into();
    match chain
        .coordinator_mut()
        .offer(&header, loc, Some(bytes), adjusted_time)
    {
        Offered::Duplicate => report.duplicates += 1,
        Offered::Refused { reason } => reject(report, &hash, None, reason),
        Offered::OrphanPoolFull => tracing::warn!("orphan pool full: dropped a block"),
        Offered::Accepted { .. } | Offered::Orphan => {}
    }
    for (child, reason) in chain.coordinator_mut().take_refused() {
        reject(report, &child, None, reason);
    }
}

fn reject(report: &mut ImportReport, hash: &[u8; 32], height: Option<u32>, reason: String) {
    let hash = to_display_hex(hash);
    tracing::warn!("block {hash} rejected: {reason}");
    report.rejected.push(Rejection {
        hash,
        height,
        reason,
    });
}

fn record(report: &mut ImportReport, bar: &ProgressBar, resolved: Resolved) {
    match resolved {
        Resolved::Committed(info) => {
            report.blocks_connected += 1;
            report.txs += info.txs as u64;
            report.inputs += info.inputs as u64;
            report.schnorr_sigs += info.schnorr_sigs as u64;
            report.bytes += info.bytes as u64;
            bar.set_position(u64::from(info.height));
        }
        Resolved::Rejected {
            hash,
            height,
            reason,
            spare_used,
            ..
        } => {
            if spare_used {
                // The copy read meanwhile was counted a duplicate; it takes the block's place.
                report.duplicates = report.duplicates.saturating_sub(1);
            }
            reject(report, &hash, Some(height), reason);
        }
        Resolved::Disconnected { .. } => report.blocks_disconnected += 1,
        Resolved::Discarded => {}
        Resolved::Checkpointed => report.checkpoints += 1,
    }
}
