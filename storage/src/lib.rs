//! Chain-state storage: Core-framed block files, the memory-mapped UTXO set behind a write-back
//! cache, the block index and undo data (redb), crash-consistent checkpoints and the MuHash of
//! the UTXO set. See README.md.

pub mod blockfile;
pub mod compress;
pub mod muhash;
