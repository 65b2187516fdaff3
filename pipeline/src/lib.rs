//! The staged block-validation engine (see README.md). No code has landed yet.
