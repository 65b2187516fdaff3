//! Errors of the generator.

use std::path::PathBuf;

/// What went wrong generating or mutating a chain.
#[derive(Debug, thiserror::Error)]
pub enum LoadgenError {
    #[error("unknown profile {name:?} (known: {known})")]
    UnknownProfile { name: String, known: String },
    #[error("zero blocks requested: a chain needs at least one block")]
    ZeroBlocks,
    #[error("{0} blocks requested: at most 1,000,000 (block times must fit 32 bits)")]
    TooManyBlocks(u32),
    #[error("zero threads requested")]
    ZeroThreads,
    #[error("target weight {0} is outside 4,000..=4,000,000 WU")]
    TargetWeight(u64),
    #[error("output directory {path} is not usable: {source}")]
    OutputDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("i/o error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("block file error: {0}")]
    BlockFile(#[from] sluice_storage::blockfile::BlockFileError),
    #[error("manifest {path}: {msg}")]
    Manifest { path: PathBuf, msg: String },
    #[error("chain in {path} is unusable: {msg}")]
    Chain { path: PathBuf, msg: String },
    #[error("signing failed: {0}")]
    Sign(String),
    #[error("thread pool: {0}")]
    ThreadPool(String),
    #[error("cannot build mutant {rule}: {msg}")]
    Mutant { rule: String, msg: String },
}
