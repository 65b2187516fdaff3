//! Errors of the oracle wrapper (never validation outcomes: those are [`crate::BlockVerdict`]s).

use std::path::PathBuf;

/// What went wrong talking to the kernel or reading input.
#[derive(Debug, thiserror::Error)]
pub enum OracleError {
    #[error("kernel error: {0}")]
    Kernel(String),
    #[error("bytes do not decode as a block: {0}")]
    BlockDecode(String),
    #[error("bytes do not decode as a transaction: {0}")]
    TxDecode(String),
    #[error("path {0} is not valid UTF-8 (the kernel takes UTF-8 paths)")]
    NonUtf8Path(PathBuf),
    #[error("i/o error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("block file error: {0}")]
    BlockFile(#[from] sluice_storage::blockfile::BlockFileError),
    #[error("block {0} is not in the kernel's block index")]
    UnknownBlock(String),
    #[error("input index {index} out of range for a transaction with {inputs} inputs")]
    InputIndex { index: usize, inputs: usize },
    #[error("script flags {0:#x} are not a valid consensus flag set")]
    InvalidFlags(u32),
    #[error(
        "script flag combination {0:#x} is rejected by the kernel (e.g. WITNESS without P2SH)"
    )]
    InvalidFlagsCombination(u32),
    #[error("taproot verification needs the spent outputs of every input")]
    SpentOutputsRequired,
    #[error("{given} spent outputs given for a transaction with {inputs} inputs")]
    SpentOutputsCount { given: usize, inputs: usize },
}

impl From<bitcoinkernel::KernelError> for OracleError {
    fn from(e: bitcoinkernel::KernelError) -> Self {
        OracleError::Kernel(e.to_string())
    }
}
