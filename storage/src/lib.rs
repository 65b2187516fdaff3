//! Chain-state storage (see README.md). No code has landed yet.
