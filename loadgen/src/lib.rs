//! Chain and transaction generator library (see README.md). No code has landed yet.
