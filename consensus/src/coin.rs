//! Owned outpoints and coins: the vocabulary shared by consensus, storage and the pipeline.

use crate::hash::Hash256;

/// Amounts in satoshis. Signed like Core's `CAmount`, so that range checks can see negatives.
pub type Amount = i64;

/// The largest amount any output or sum may hold (21 million BTC).
pub const MAX_MONEY: Amount = 21_000_000 * 100_000_000;

/// Core's `MoneyRange`: 0 ..= [`MAX_MONEY`].
#[must_use]
pub fn money_range(v: Amount) -> bool {
    (0..=MAX_MONEY).contains(&v)
}

/// A reference to a transaction output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutPoint {
    /// Txid in internal byte order.
    pub txid: Hash256,
    pub vout: u32,
}

impl OutPoint {
    /// The null outpoint a coinbase input refers to.
    pub const NULL: Self = Self {
        txid: [0; 32],
        vout: u32::MAX,
    };

    #[must_use]
    pub fn is_null(&self) -> bool {
        *self == Self::NULL
    }
}

/// An unspent output with the context consensus needs to spend it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Coin {
    pub value: Amount,
    pub script_pubkey: Vec<u8>,
    /// Height of the block that created it.
    pub height: u32,
    pub coinbase: bool,
}
