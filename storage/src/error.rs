//! The store's typed errors.

use std::path::PathBuf;

use sluice_consensus::coin::OutPoint;
use sluice_consensus::hash::{to_display_hex, Hash256};

/// Everything that can go wrong in the store. Corruption is always reported, never used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("i/o error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("corruption detected in {path}: {what}")]
    Corrupt { path: PathBuf, what: String },
    #[error("store directory {0} is locked by another process")]
    Locked(PathBuf),
    #[error("record heap offset {0} exceeds the index's 48-bit pointer range")]
    HeapFull(u64),
    #[error("block index database error: {0}")]
    Db(String),
    #[error("spend of missing or already spent coin {}:{}", to_display_hex(&.0.txid), .0.vout)]
    MissingCoin(OutPoint),
    #[error("block {} at height {height} does not extend the tip", to_display_hex(.hash))]
    NotNextBlock { height: u32, hash: Hash256 },
    #[error("block {} is not the chain tip, cannot disconnect it", to_display_hex(.0))]
    NotTip(Hash256),
    #[error("no undo data for block {}", to_display_hex(.0))]
    NoUndo(Hash256),
    #[error("undo data of block {} does not match the UTXO set: {what}", to_display_hex(.hash))]
    UndoMismatch { hash: Hash256, what: String },
    #[error("an earlier error interrupted a block half-applied; reopen the store (it resumes from the last checkpoint)")]
    Poisoned,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Maps an `io::Error` on `path` into [`StoreError::Io`].
pub(crate) fn io_at(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) fn corrupt(path: &std::path::Path, what: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        path: path.to_path_buf(),
        what: what.into(),
    }
}

pub(crate) fn db(e: impl std::fmt::Display) -> StoreError {
    StoreError::Db(e.to_string())
}
