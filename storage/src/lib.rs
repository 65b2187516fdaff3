//! Chain-state storage: Core-framed block files, the memory-mapped UTXO set behind a write-back
//! cache, the block index and undo data (redb), crash-consistent checkpoints and the MuHash of
//! the UTXO set. See README.md.

pub mod blockfile;
pub mod blockstore;
mod cache;
mod compact;
pub mod compress;
pub mod error;
mod faults;
mod fsutil;
mod heap;
mod index;
mod mmap;
pub mod muhash;
pub mod records;
pub mod snapshot;
mod store;
mod utxo;

pub use compact::CompactStats;
pub use error::StoreError;
pub use records::{status, BlockIndexEntry, BlockUndo};
pub use store::{ChainStore, CrashPoint, StoreConfig, StoreStats};
