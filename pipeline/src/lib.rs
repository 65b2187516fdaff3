//! The staged block-validation engine (see README.md).
//!
//! [`engine`] is generic: it knows nothing of Bitcoin, only sequence numbers, epochs and stages.

pub mod bitcoin;
pub mod chainstate;
pub mod coordinator;
pub mod engine;
pub mod import;
pub mod tree;
pub use import::{import, ImportConfig, ImportError, ImportReport};
pub mod testchain;
