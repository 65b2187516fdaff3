//! Blocks disconnected (reorg): their transactions return to the pool, and entries the new
//! tip no longer allows (lock times, BIP68, coinbase maturity) leave (Core's
//! `MaybeUpdateMempoolForReorg` / `removeForReorg`).

use std::collections::BTreeSet;

use sluice_consensus::chain::locktime::{
    calculate_sequence_locks, evaluate_sequence_locks, is_final_tx,
};
use sluice_consensus::chain::params::COINBASE_MATURITY;
use sluice_consensus::hash::Hash256;
use sluice_consensus::tx::Transaction;

use crate::accept::{AcceptArgs, ChainTip};
use crate::pool::{Mempool, RemovalReason, Removed};

impl Mempool {
    /// `disconnected` holds the non-coinbase transactions of the disconnected blocks, oldest
    /// block first, each in block order; `chain` is the new tip. Returns what left the pool.
    pub fn readd_disconnected(
        &mut self,
        disconnected: &[Vec<u8>],
        chain: &ChainTip<'_>,
        now: i64,
    ) -> Vec<Removed> {
        let mut removed = Vec::new();
        let args = AcceptArgs {
            now,
            test_only: false,
            bypass_limits: true,
            package: false,
        };
        for raw in disconnected {
            if self.accept(raw, chain, args).is_err() {
                // Children already in the pool spend outputs that no longer exist.
                if let Ok(tx) = Transaction::parse_exact(raw) {
                    let txid = tx.txid();
                    for vout in 0..tx.outputs.len() as u32 {
                        let op = sluice_consensus::coin::OutPoint { txid, vout };
                        if let Some(child) = self.spenders.get(&op).copied() {
                            self.remove_recursive(&child, RemovalReason::Reorg, &mut removed);
                        }
                    }
                }
            }
        }
        removed.extend(self.remove_for_reorg(chain));
        removed.extend(self.trim_to_size(now));
        removed
    }

    /// Removes entries (with descendants) that are no longer final, BIP68-final or whose
    /// coinbase spends are immature at the new tip.
    pub fn remove_for_reorg(&mut self, chain: &ChainTip<'_>) -> Vec<Removed> {
        let tip = chain.view.tip_height();
        let next = tip + 1;
        let Ok(mtp) = chain.view.median_time_past(tip) else {
            return Vec::new();
        };
        let mut bad: BTreeSet<Hash256> = BTreeSet::new();
        for e in self.entries.values() {
            let Ok(tx) = Transaction::parse_exact(&e.raw) else {
                continue;
            };
            if !is_final_tx(
                tx.lock_time,
                tx.inputs.iter().map(|i| i.sequence),
                next,
                mtp,
            ) {
                bad.insert(e.txid);
                continue;
            }
            let mut heights = Vec::with_capacity(e.prevouts.len());
            let mut immature = false;
            for p in &e.prevouts {
                if self.entries.contains_key(&p.txid) {
                    heights.push(next);
                } else if let Some(c) = chain.coins.coin(p) {
                    if c.coinbase
                        && i64::from(next) - i64::from(c.height) < i64::from(COINBASE_MATURITY)
                    {
                        immature = true;
                    }
                    heights.push(c.height);
                } else {
                    immature = true;
                }
            }
            let version = u32::from_le_bytes(tx.version.to_le_bytes());
            let ok = calculate_sequence_locks(
                version,
                tx.inputs.iter().map(|i| i.sequence).zip(heights),
                true,
                chain.view,
            )
            .and_then(|l| evaluate_sequence_locks(l, chain.view));
            if immature || !matches!(ok, Ok(true)) {
                bad.insert(e.txid);
            }
        }
        let mut out = Vec::new();
        for t in bad {
            self.remove_recursive(&t, RemovalReason::Reorg, &mut out);
        }
        out
    }
}
