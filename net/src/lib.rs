//! Networking (see README.md). No code has landed yet.
