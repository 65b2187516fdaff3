//! One real block with the outputs its inputs spend (`*.block` + `*.spent.json` from
//! ../shared/data/blocks): every input of the block, ready to script-verify.

use std::path::{Path, PathBuf};

use bitcoin::consensus::Decodable;
use serde::Deserialize;

/// Errors loading a block and its spent outputs.
#[derive(Debug, thiserror::Error)]
pub enum BlockInputsError {
    #[error("i/o error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("block {path} does not parse: {reason}")]
    BadBlock { path: PathBuf, reason: String },
    #[error("spent outputs {path} are not valid: {reason}")]
    BadSpent { path: PathBuf, reason: String },
    #[error("block has {inputs} non-coinbase inputs but {spent} spent outputs were given")]
    CountMismatch { inputs: usize, spent: usize },
}

#[derive(Debug, Deserialize)]
struct SpentEntry {
    txout: SpentTxOut,
}

#[derive(Debug, Deserialize)]
struct SpentTxOut {
    value: u64,
    script_pubkey: String,
}

/// A spent output: amount in satoshis and scriptPubKey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prevout {
    pub value: u64,
    pub script_pubkey: Vec<u8>,
}

/// A non-coinbase transaction of the block, serialized, with its spent outputs in input order.
#[derive(Debug, Clone)]
pub struct TxWithPrevouts {
    pub tx: bitcoin::Transaction,
    pub raw: Vec<u8>,
    pub prevouts: Vec<Prevout>,
}

/// All the script-verification work of one block.
#[derive(Debug, Clone)]
pub struct BlockInputs {
    pub txs: Vec<TxWithPrevouts>,
}

impl BlockInputs {
    /// Loads `block` (raw consensus serialization) and `spent` (JSON, input order).
    ///
    /// # Errors
    /// Unreadable files, a block that does not parse, bad JSON/hex, or a count mismatch.
    pub fn load(block: &Path, spent: &Path) -> Result<Self, BlockInputsError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| BlockInputsError::Io { path, source }
        };
        let raw = std::fs::read(block).map_err(io(block))?;
        let parsed = bitcoin::Block::consensus_decode(&mut raw.as_slice()).map_err(|e| {
            BlockInputsError::BadBlock {
                path: block.to_path_buf(),
                reason: e.to_string(),
            }
        })?;
        let text = std::fs::read(spent).map_err(io(spent))?;
        let bad = |reason: String| BlockInputsError::BadSpent {
            path: spent.to_path_buf(),
            reason,
        };
        let entries: Vec<SpentEntry> =
            serde_json::from_slice(&text).map_err(|e| bad(e.to_string()))?;
        let inputs: usize = parsed
            .txdata
            .iter()
            .filter(|t| !t.is_coinbase())
            .map(|t| t.input.len())
            .sum();
        if inputs != entries.len() {
            return Err(BlockInputsError::CountMismatch {
                inputs,
                spent: entries.len(),
            });
        }
        let mut spent_iter = entries.into_iter();
        let mut txs = Vec::new();
        for tx in parsed.txdata.into_iter().filter(|t| !t.is_coinbase()) {
            let mut prevouts = Vec::with_capacity(tx.input.len());
            for _ in 0..tx.input.len() {
                let e = spent_iter
                    .next()
                    .ok_or_else(|| bad("fewer entries than inputs".into()))?;
                prevouts.push(Prevout {
                    value: e.txout.value,
                    script_pubkey: hex::decode(&e.txout.script_pubkey)
                        .map_err(|err| bad(err.to_string()))?,
                });
            }
            let raw = bitcoin::consensus::serialize(&tx);
            txs.push(TxWithPrevouts { tx, raw, prevouts });
        }
        Ok(Self { txs })
    }

    /// Number of inputs (script verifications).
    #[must_use]
    pub fn input_count(&self) -> usize {
        self.txs.iter().map(|t| t.prevouts.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_866342() {
        let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/blocks");
        let b = BlockInputs::load(
            &d.join("mainnet-866342.block"),
            &d.join("mainnet-866342.spent.json"),
        )
        .unwrap();
        assert_eq!(b.txs.len(), 4863);
        assert_eq!(b.input_count(), 7972);
    }
}
