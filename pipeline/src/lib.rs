//! The staged block-validation engine (see README.md).
//!
//! [`engine`] is generic: it knows nothing of Bitcoin, only sequence numbers, epochs and stages.

pub mod engine;
pub mod tree;
