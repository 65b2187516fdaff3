//! A chain to race: Core-framed block files (a loadgen output directory or a single `.blk`
//! file) plus, when present, loadgen's `manifest.json`, and the work it contains.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bitcoin::consensus::Decodable;
use bitcoin::hashes::Hash;
use serde::{Deserialize, Serialize};
use sluice_storage::blockfile::{
    list_block_files, read_block_file, BlockFileError, MAGIC_MAINNET, MAGIC_REGTEST, MAGIC_SIGNET,
    MAGIC_TESTNET4,
};

use crate::sigcount::{count_input_signatures, SigCount};

/// Errors reading a chain.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error(transparent)]
    BlockFile(#[from] BlockFileError),
    #[error("i/o error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no block files in {0}")]
    NoBlockFiles(PathBuf),
    #[error("{0}: unknown network magic {1}")]
    UnknownMagic(PathBuf, String),
    #[error("block {index} in {path} does not parse: {reason}")]
    BadBlock {
        path: PathBuf,
        index: usize,
        reason: String,
    },
    #[error("manifest {path} is not JSON: {source}")]
    Manifest {
        path: PathBuf,
        source: serde_json::Error,
    },
}

/// The network a chain belongs to, from the magic of its block files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    Mainnet,
    Regtest,
    Testnet4,
    Signet,
}

impl Network {
    #[must_use]
    pub fn magic(self) -> [u8; 4] {
        match self {
            Self::Mainnet => MAGIC_MAINNET,
            Self::Regtest => MAGIC_REGTEST,
            Self::Testnet4 => MAGIC_TESTNET4,
            Self::Signet => MAGIC_SIGNET,
        }
    }

    fn from_magic(magic: [u8; 4]) -> Option<Self> {
        [Self::Mainnet, Self::Regtest, Self::Testnet4, Self::Signet]
            .into_iter()
            .find(|n| n.magic() == magic)
    }
}

/// The block files of a chain, in import order, and its network.
#[derive(Debug, Clone)]
pub struct ChainFiles {
    pub files: Vec<PathBuf>,
    pub network: Network,
    /// loadgen's manifest, kept verbatim for the report (None for a bare block file).
    pub manifest: Option<serde_json::Value>,
}

impl ChainFiles {
    /// Finds the block files under `path` and detects the network from the first magic.
    ///
    /// # Errors
    /// No block files, unreadable files, an unknown magic, or an unparsable manifest.
    pub fn open(path: &Path) -> Result<Self, ChainError> {
        let files: Vec<PathBuf> = list_block_files(path)?;
        let first = files
            .first()
            .ok_or_else(|| ChainError::NoBlockFiles(path.to_path_buf()))?;
        let mut magic = [0u8; 4];
        {
            use std::io::Read;
            let mut f = std::fs::File::open(first).map_err(|source| ChainError::Io {
                path: first.clone(),
                source,
            })?;
            f.read_exact(&mut magic).map_err(|source| ChainError::Io {
                path: first.clone(),
                source,
            })?;
        }
        let network = Network::from_magic(magic)
            .ok_or_else(|| ChainError::UnknownMagic(first.clone(), hex::encode(magic)))?;
        let manifest_path = path.join("manifest.json");
        let manifest = if path.is_dir() && manifest_path.exists() {
            let text = std::fs::read(&manifest_path).map_err(|source| ChainError::Io {
                path: manifest_path.clone(),
                source,
            })?;
            Some(
                serde_json::from_slice(&text).map_err(|source| ChainError::Manifest {
                    path: manifest_path,
                    source,
                })?,
            )
        } else {
            None
        };
        Ok(Self {
            files,
            network,
            manifest,
        })
    }

    /// Calls `f` with every block's bytes in import order, one file in memory at a time.
    ///
    /// # Errors
    /// Block file errors, or the first error `f` returns.
    pub fn for_each_block<E>(
        &self,
        mut f: impl FnMut(&Path, usize, &[u8]) -> Result<(), E>,
    ) -> Result<(), E>
    where
        E: From<ChainError>,
    {
        for path in &self.files {
            let scan = read_block_file(path, self.network.magic()).map_err(ChainError::from)?;
            for (i, rec) in scan.blocks.iter().enumerate() {
                f(path, i, &rec.bytes)?;
            }
        }
        Ok(())
    }
}

/// The validation work in a chain: counted once, shared by both engines' figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainStats {
    pub blocks: u64,
    pub transactions: u64,
    /// Inputs that spend a coin (coinbase inputs excluded).
    pub inputs: u64,
    pub signatures: SigCount,
    /// Height of every block hash (display hex), following prev-hash links from the first
    /// block of the files (height 0 when it is a genesis block).
    #[serde(skip)]
    pub heights: HashMap<String, u64>,
    /// Block hashes in file order.
    #[serde(skip)]
    pub order: Vec<String>,
}

impl ChainStats {
    /// Parses every block of `chain` and counts its work.
    ///
    /// # Errors
    /// A block that does not parse, or block file errors.
    pub fn measure(chain: &ChainFiles) -> Result<Self, ChainError> {
        let mut stats = Self::default();
        chain.for_each_block(|path, index, bytes| {
            let block = bitcoin::Block::consensus_decode(&mut &bytes[..]).map_err(|e| {
                ChainError::BadBlock {
                    path: path.to_path_buf(),
                    index,
                    reason: e.to_string(),
                }
            })?;
            let hash = block.block_hash().to_string();
            let prev = block.header.prev_blockhash;
            let height = if prev == bitcoin::BlockHash::all_zeros() {
                0
            } else {
                stats.heights.get(&prev.to_string()).map_or(0, |h| h + 1)
            };
            stats.heights.insert(hash.clone(), height);
            stats.order.push(hash);
            stats.blocks += 1;
            stats.transactions += block.txdata.len() as u64;
            for tx in block.txdata.iter().filter(|tx| !tx.is_coinbase()) {
                for input in &tx.input {
                    stats.inputs += 1;
                    stats.signatures += count_input_signatures(input);
                }
            }
            Ok::<(), ChainError>(())
        })?;
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
    }

    #[test]
    fn mainnet_prefix_is_detected_and_counted() {
        let chain = ChainFiles::open(&data().join("chains/mainnet-0-438.blk")).unwrap();
        assert_eq!(chain.network, Network::Mainnet);
        let stats = ChainStats::measure(&chain).unwrap();
        assert_eq!(stats.blocks, 439);
        assert_eq!(stats.order.len(), 439);
        // Genesis and the early chain are linked: the last block is at height 438.
        assert_eq!(stats.heights[&stats.order[438]], 438);
        assert!(stats.transactions >= 439);
    }
}
