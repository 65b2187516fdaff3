//! What travels through the Bitcoin stages for one block.

use std::sync::Arc;

use sluice_consensus::block::Block;
use sluice_consensus::chain::tx_inputs::SpendSummary;
use sluice_consensus::coin::{Coin, OutPoint};
use sluice_consensus::hash::Hash256;
use sluice_consensus::sigcheck::SchnorrItem;

/// A block handed to the pipeline by the importer.
#[derive(Debug, Clone)]
pub struct BlockJob {
    pub bytes: Arc<[u8]>,
    pub hash: Hash256,
    pub height: u32,
}

/// Stage 1 output: the block with its transaction ids computed by multi-lane hashing.
#[derive(Debug)]
pub struct Parsed {
    pub job: BlockJob,
    pub txids: Vec<Hash256>,
}

impl Parsed {
    /// The zero-copy view. Parsing succeeded in stage 1, so this cannot fail for the same bytes;
    /// the error is still mapped rather than unwrapped.
    pub fn view(&self) -> Result<Block<'_>, BlockReject> {
        Block::parse(&self.job.bytes)
            .map_err(|e| BlockReject::consensus(format!("bad-blk-decode ({e})")))
    }
}

/// Stage 3 output: every coin the block spends, and its effects on the UTXO set.
#[derive(Debug)]
pub struct Fetched {
    pub parsed: Parsed,
    /// Coins of all non-coinbase inputs, in block order (the undo layout).
    pub spent: Vec<Coin>,
    /// Outpoints spent, in input order (for the store).
    pub spends: Vec<OutPoint>,
    /// Spendable outputs created (unspendable ones never enter the UTXO set, as in Core).
    pub creates: Vec<(OutPoint, Coin)>,
}

/// Stage 4 output: scripts passed except deferred Schnorr signatures.
#[derive(Debug)]
pub struct Checked {
    pub fetched: Fetched,
    pub summary: SpendSummary,
    pub schnorr: Vec<SchnorrItem>,
    pub inputs: usize,
}

/// What the apply stage reports for a committed block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub hash: Hash256,
    pub height: u32,
    pub txs: usize,
    pub inputs: usize,
    pub schnorr_sigs: usize,
    pub bytes: usize,
}

/// Why a block was not committed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockReject {
    /// A consensus rule failed; the text is Core's reject reason.
    #[error("{reason}")]
    Consensus { reason: String, mutation: bool },
    /// Storage failed: not a verdict on the block, the import stops.
    #[error("storage: {0}")]
    Storage(String),
    /// An internal disagreement (two signature verifiers differ): not a verdict, the import
    /// stops.
    #[error("internal fault: {0}")]
    Internal(String),
}

impl BlockReject {
    pub fn consensus(reason: impl Into<String>) -> Self {
        Self::Consensus {
            reason: reason.into(),
            mutation: false,
        }
    }
}

impl From<sluice_consensus::chain::BlockError> for BlockReject {
    fn from(e: sluice_consensus::chain::BlockError) -> Self {
        match e {
            // The pipeline's own ancestor view has a gap: an internal fault, which must stop
            // the import rather than mark a possibly valid block invalid for good.
            sluice_consensus::chain::BlockError::MissingAncestor(_) => {
                Self::Storage(format!("chain snapshot: {e}"))
            }
            e => Self::Consensus {
                mutation: e.is_mutation(),
                reason: e.to_string(),
            },
        }
    }
}

impl From<sluice_storage::StoreError> for BlockReject {
    fn from(e: sluice_storage::StoreError) -> Self {
        Self::Storage(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_consensus::chain::{BlockError, MissingAncestor};

    #[test]
    fn a_gap_in_the_ancestor_view_is_not_a_consensus_verdict() {
        let r = BlockReject::from(BlockError::MissingAncestor(MissingAncestor(5)));
        assert!(matches!(r, BlockReject::Storage(_)), "{r:?}");
        let r = BlockReject::from(BlockError::BadMerkleRoot);
        assert!(
            matches!(r, BlockReject::Consensus { mutation: true, .. }),
            "{r:?}"
        );
    }
}
