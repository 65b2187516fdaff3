//! A mempool entry and the figures RPC reports about it.

use std::collections::BTreeSet;

use sluice_consensus::coin::{Amount, OutPoint};
use sluice_consensus::hash::Hash256;

use crate::policy::sigops_adjusted_weight;

/// One transaction in the pool, with what Core's `CTxMemPoolEntry` keeps.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Serialized transaction (with witness).
    pub raw: Vec<u8>,
    pub txid: Hash256,
    pub wtxid: Hash256,
    /// Base fee (inputs - outputs).
    pub fee: Amount,
    /// `prioritisetransaction` delta applied at entry.
    pub fee_delta: Amount,
    /// Sigop-adjusted virtual size.
    pub vsize: i64,
    pub weight: i64,
    pub sigop_cost: i64,
    /// Entry time (caller's clock, seconds).
    pub time: i64,
    /// Chain height when it entered.
    pub height: u32,
    /// Entry order; 0 for transactions re-added from disconnected blocks.
    pub sequence: u64,
    pub spends_coinbase: bool,
    pub version: i32,
    /// BIP125 signal of the transaction itself (any input sequence < 0xfffffffe).
    pub signals_rbf: bool,
    pub prevouts: Vec<OutPoint>,
    /// Outputs `(value, scriptPubKey)`: the coins children spend.
    pub outputs: Vec<(Amount, Vec<u8>)>,
    /// In-pool transactions this one spends.
    pub parents: BTreeSet<Hash256>,
    /// In-pool transactions spending this one.
    pub children: BTreeSet<Hash256>,
}

impl Entry {
    #[must_use]
    pub fn modified_fee(&self) -> Amount {
        self.fee + self.fee_delta
    }

    /// Sigop-adjusted weight: the size unit of clusters and chunks.
    #[must_use]
    pub fn adjusted_weight(&self, bytes_per_sigop: i64) -> i64 {
        sigops_adjusted_weight(self.weight, self.sigop_cost, bytes_per_sigop)
    }

    /// Estimated memory use, the unit of `-maxmempool` (Core counts its heap use; this counts
    /// the bytes held plus a fixed per-entry overhead of indexes).
    #[must_use]
    pub fn usage(&self) -> usize {
        const OVERHEAD: usize = 320;
        self.raw.len()
            + self.prevouts.len() * 2 * 48
            + self
                .outputs
                .iter()
                .map(|(_, s)| s.len() + 40)
                .sum::<usize>()
            + OVERHEAD
    }
}

/// What `getmempoolentry` / `getrawmempool true` report for one entry (amounts in satoshis,
/// hashes in internal byte order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInfo {
    pub txid: Hash256,
    pub wtxid: Hash256,
    pub vsize: i64,
    pub weight: i64,
    pub time: i64,
    pub height: u32,
    pub descendant_count: usize,
    pub descendant_size: i64,
    pub ancestor_count: usize,
    pub ancestor_size: i64,
    pub fee_base: Amount,
    pub fee_modified: Amount,
    pub fee_ancestor: Amount,
    pub fee_descendant: Amount,
    /// Fee and sigop-adjusted weight of the chunk the entry is mined in.
    pub chunk_fee: Amount,
    pub chunk_weight: i64,
    /// In-pool parents (`depends`) and children (`spentby`).
    pub depends: Vec<Hash256>,
    pub spent_by: Vec<Hash256>,
    /// BIP125 signalling by the transaction or an in-pool ancestor (`bip125-replaceable`).
    pub bip125_replaceable: bool,
}

/// What `getmempoolinfo` reports (amounts in satoshis, rates in sat/kvB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolInfo {
    pub size: usize,
    /// Sum of virtual sizes (`bytes`).
    pub bytes: i64,
    pub usage: usize,
    pub total_fee: Amount,
    pub max_mempool: usize,
    pub mempool_min_fee: Amount,
    pub min_relay_tx_fee: Amount,
    pub incremental_relay_fee: Amount,
    pub permit_bare_multisig: bool,
    pub max_datacarrier_size: usize,
    pub limit_cluster_count: usize,
    pub limit_cluster_size: i64,
    pub full_rbf: bool,
}
