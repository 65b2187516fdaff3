//! Shared fixtures for the criterion benchmarks in `benches/`.

use std::path::{Path, PathBuf};

/// Path of a file under the real-data folder `../shared/data/` (beside the repository root).
#[must_use]
pub fn shared_data_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(rel)
}

/// Reads a file under `../shared/data/`. Benchmarks cannot run without their data, so a missing
/// file stops the benchmark with its path.
///
/// # Panics
/// When the file cannot be read.
#[must_use]
pub fn shared_data(rel: &str) -> Vec<u8> {
    let p = shared_data_path(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
