//! Chain-state storage: Core-framed block files, and (as they land) the memory-mapped UTXO set,
//! the block index, undo data and checkpoints. See README.md.

pub mod blockfile;
