//! Networking (see README.md). No code has landed yet.

pub mod sync;
