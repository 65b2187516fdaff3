//! Block and transaction-in-block rejections, named by Core's reject reasons.

use super::ancestors::MissingAncestor;
use super::header_check::HeaderError;
pub use crate::tx_check::TxCheckError;

/// Why Core would reject a block (or a transaction while connecting it).
/// `Display` is the reject reason string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// Signet only: the block's solution does not satisfy the challenge.
    #[error("bad-signet-blksig")]
    BadSignetBlockSig,
    #[error("bad-txnmrklroot")]
    BadMerkleRoot,
    #[error("bad-txns-duplicate")]
    DuplicateTx,
    #[error("bad-blk-length")]
    BadLength,
    #[error("bad-cb-missing")]
    CoinbaseMissing,
    #[error("bad-cb-multiple")]
    CoinbaseMultiple,
    #[error(transparent)]
    Tx(#[from] TxCheckError),
    #[error("bad-blk-sigops")]
    TooManySigops,
    #[error("bad-txns-nonfinal")]
    NonFinal,
    #[error("bad-cb-height")]
    BadCoinbaseHeight,
    #[error("bad-witness-nonce-size")]
    BadWitnessNonceSize,
    #[error("bad-witness-merkle-match")]
    BadWitnessMerkleMatch,
    #[error("unexpected-witness")]
    UnexpectedWitness,
    #[error("bad-blk-weight")]
    BadWeight,
    #[error(transparent)]
    Inputs(#[from] TxInputError),
    #[error("bad-txns-accumulated-fee-outofrange")]
    AccumulatedFeeOutOfRange,
    #[error("bad-cb-amount")]
    BadCoinbaseAmount,
    #[error("bad-txns-BIP30")]
    Bip30,
    /// The caller supplied a spent-coin list that does not match the block's inputs.
    #[error("bad-txns-inputs-missingorspent")]
    InputsMissing,
    #[error(transparent)]
    MissingAncestor(#[from] MissingAncestor),
}

impl BlockError {
    /// Whether the block data may just be corrupted or malleated in transit (Core's
    /// `BLOCK_MUTATED`): the header is not to be marked invalid, the same block with the
    /// right transactions can still be valid.
    #[must_use]
    pub fn is_mutation(&self) -> bool {
        matches!(
            self,
            Self::BadMerkleRoot
                | Self::DuplicateTx
                | Self::BadWitnessNonceSize
                | Self::BadWitnessMerkleMatch
                | Self::UnexpectedWitness
        )
    }
}

/// Rejections of `CheckTxInputs`: spending the given coins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TxInputError {
    #[error("bad-txns-premature-spend-of-coinbase")]
    PrematureCoinbaseSpend,
    #[error("bad-txns-inputvalues-outofrange")]
    InputValuesOutOfRange,
    #[error("bad-txns-in-belowout")]
    InBelowOut,
    #[error("bad-txns-fee-outofrange")]
    FeeOutOfRange,
    /// Output total out of range; `CheckTransaction` rejects this first in any real flow.
    #[error("bad-txns-txouttotal-toolarge")]
    OutputTotalOutOfRange,
    /// The number of coins supplied differs from the number of inputs.
    #[error("bad-txns-inputs-missingorspent")]
    InputsMissing,
}
