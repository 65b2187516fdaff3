//! Sans-IO Bitcoin consensus rules.
//!
//! Nothing in this crate performs I/O, spawns threads or reads the clock: callers feed it bytes,
//! chain context and time, and it answers with verdicts. Everything here agrees with Bitcoin
//! Core; a divergence is a chain split, so every rule carries a test.

pub mod block;
pub mod chain;
pub mod coin;
pub mod encode;
pub mod hash;
pub mod header;
pub mod keycache;
pub mod merkle;
pub mod script;
pub mod secp;
pub mod sigcheck;
pub mod sighash;
pub mod tx;
pub mod tx_check;
