//! Package test acceptance (Core's `ProcessNewPackage` with `test_accept`, i.e.
//! `MemPoolAccept::AcceptMultipleTransactions` under `PackageTestAccept` arguments): the
//! context-free package rules of `policy/packages.cpp`, every transaction's PreChecks with
//! the earlier package transactions' outputs available, then the package-wide cluster limit,
//! ephemeral dust spends and the script checks. Nothing in the pool changes.
//!

use std::collections::HashSet;

use sluice_consensus::coin::{Coin, OutPoint};
use sluice_consensus::hash::Hash256;
use sluice_consensus::tx::Transaction;

use crate::accept::{AcceptArgs, Accepted, ChainTip};
use crate::pool::{Mempool, RemovalReason};
use crate::reject::{Reject, RejectKind};

/// Core's `MAX_PACKAGE_COUNT`.
pub const MAX_PACKAGE_COUNT: usize = 25;
/// Core's `MAX_PACKAGE_WEIGHT`.
pub const MAX_PACKAGE_WEIGHT: u64 = 404_000;

/// The outcome of a package test (Core's `PackageMempoolAcceptResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageResult {
    /// A package-wide policy failure (Core's `PCKG_POLICY` state: testmempoolaccept's
    /// `package-error`, shown as `Reject`'s `Display`). No transaction has a result then.
    pub package_error: Option<Reject>,
    /// One slot per transaction, in package order. `None`: not fully validated because
    /// another transaction failed first (Core leaves `allowed` out).
    pub results: Vec<Option<Result<Accepted, Reject>>>,
}

impl PackageResult {
    fn policy(n: usize, reason: &str, details: String) -> Self {
        Self {
            package_error: Some(Reject::with(RejectKind::MempoolPolicy, reason, details)),
            results: vec![None; n],
        }
    }

    fn failed(n: usize, i: usize, r: Reject) -> Self {
        let mut results = vec![None; n];
        results[i] = Some(Err(r));
        Self {
            package_error: None,
            results,
        }
    }
}

/// Core's `IsWellFormedPackage`: count, total weight, duplicates (by txid), topological
/// order, no two transactions spending one coin. Returns the reason of the first rule broken.
fn well_formed(txs: &[Transaction<'_>]) -> Option<&'static str> {
    if txs.len() > MAX_PACKAGE_COUNT {
        return Some("package-too-many-transactions");
    }
    let weight: u64 = txs.iter().map(|t| t.weight() as u64).sum();
    // A single transaction's weight is better reported by its own standardness check.
    if txs.len() > 1 && weight > MAX_PACKAGE_WEIGHT {
        return Some("package-too-large");
    }
    let mut later: HashSet<Hash256> = txs.iter().map(Transaction::txid).collect();
    if later.len() != txs.len() {
        return Some("package-contains-duplicates");
    }
    for t in txs {
        if t.inputs.iter().any(|i| later.contains(i.prev_txid)) {
            return Some("package-not-sorted");
        }
        later.remove(&t.txid());
    }
    let mut seen: HashSet<OutPoint> = HashSet::new();
    for t in txs {
        if t.inputs.is_empty() {
            return Some("conflict-in-package");
        }
        let ins: Vec<OutPoint> = t
            .inputs
            .iter()
            .map(sluice_consensus::tx::TxIn::prevout)
            .collect();
        if ins.iter().any(|o| seen.contains(o)) {
            return Some("conflict-in-package");
        }
        seen.extend(ins);
    }
    None
}

impl Mempool {
    /// `testmempoolaccept` of several transactions, parents before children. The pool is
    /// left as it was: the package is staged in it while checked, then taken out again
    /// (package transactions neither replace nor duplicate pool entries, so removal restores
    /// every index exactly; no copy of the pool is made).
    pub fn test_package(
        &mut self,
        raws: &[Vec<u8>],
        chain: &ChainTip<'_>,
        now: i64,
    ) -> PackageResult {
        let sequence = self.next_sequence;
        self.staged.clear();
        self.deferred_truc = None;
        let r = self.check_package(raws, chain, now);
        let staged: Vec<Hash256> = self.staged.drain().collect();
        let mut gone = Vec::new();
        for t in staged {
            self.remove_one(&t, RemovalReason::Replaced, &mut gone);
        }
        self.next_sequence = sequence;
        self.deferred_truc = None;
        r
    }

    fn check_package(&mut self, raws: &[Vec<u8>], chain: &ChainTip<'_>, now: i64) -> PackageResult {
        let n = raws.len();
        let mut txs = Vec::with_capacity(n);
        for (i, raw) in raws.iter().enumerate() {
            match Transaction::parse_exact(raw) {
                Ok(t) => txs.push(t),
                Err(e) => {
                    let r = Reject::with(RejectKind::Consensus, "tx-decode-failed", e.to_string());
                    return PackageResult::failed(n, i, r);
                }
            }
        }
        if let Some(reason) = well_formed(&txs) {
            return PackageResult::policy(n, reason, String::new());
        }
        // PreChecks of each transaction in order, each staged so its children find its
        // outputs (Core's `PackageAddTransaction`); the first failure ends the package.
        // TRUC rules involving a package parent are package-wide (checked after them all).
        let args = AcceptArgs {
            now,
            test_only: false,
            bypass_limits: false,
            package: true,
        };
        let mut accepted: Vec<Accepted> = Vec::with_capacity(n);
        for (i, tx) in txs.iter().enumerate() {
            match self.accept_parsed(tx, chain, args) {
                Ok(a) => {
                    self.staged.insert(a.txid);
                    accepted.push(a);
                }
                Err(r) => return PackageResult::failed(n, i, r),
            }
        }
        if let Some(msg) = self.deferred_truc.take() {
            return PackageResult::policy(n, "TRUC-violation", msg);
        }
        // Cluster limits over the staged package (Core's `CheckMemPoolPolicyLimits`).
        for tx in &txs {
            let cluster = self.cluster(&tx.txid());
            let weight: i64 = cluster
                .iter()
                .filter_map(|t| self.entries.get(t))
                .map(|e| e.adjusted_weight(self.opts.bytes_per_sigop))
                .sum();
            if cluster.len() > self.opts.cluster_count || weight > self.opts.cluster_size_vbytes * 4
            {
                return PackageResult::policy(n, "too-large-cluster", String::new());
            }
        }
        // Ephemeral dust: every dust output of a parent (in the pool or the package) spent.
        if self.opts.require_standard {
            for (i, tx) in txs.iter().enumerate() {
                let txid = tx.txid();
                let parents = self
                    .entries
                    .get(&txid)
                    .map(|e| e.parents.clone())
                    .unwrap_or_default();
                if let Err(r) = self.check_ephemeral_spends(tx, &txid, &tx.wtxid(), &parents) {
                    return PackageResult::failed(n, i, r);
                }
            }
        }
        // Scripts, in order: the transactions before a failure keep their verdicts.
        let mut results: Vec<Option<Result<Accepted, Reject>>> = vec![None; n];
        for (i, (tx, a)) in txs.iter().zip(accepted).enumerate() {
            let coins: Vec<Coin> = tx
                .inputs
                .iter()
                .filter_map(|input| self.coin_for(&input.prevout(), chain))
                .collect();
            if coins.len() != tx.inputs.len() {
                // PreChecks found every input; only a chain read fault can lose one.
                results[i] = Some(Err(Reject::new(
                    RejectKind::MissingInputs,
                    "bad-txns-inputs-missingorspent",
                )));
                break;
            }
            if let Err(r) = self.script_checks(tx, &coins, chain) {
                results[i] = Some(Err(r));
                break;
            }
            results[i] = Some(Ok(a));
        }
        PackageResult {
            package_error: None,
            results,
        }
    }

    /// The coin `op` names: an in-pool output first, then the chain's.
    fn coin_for(&self, op: &OutPoint, chain: &ChainTip<'_>) -> Option<Coin> {
        let from_pool = self.entries.get(&op.txid).and_then(|p| {
            p.outputs.get(op.vout as usize).map(|(v, s)| Coin {
                value: *v,
                script_pubkey: s.clone(),
                height: chain.view.tip_height() + 1,
                coinbase: false,
            })
        });
        from_pool.or_else(|| chain.coins.coin(op))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A transaction with the given inputs (txid, vout) and one output.
    fn tx(ins: &[([u8; 32], u32)], tag: u8) -> Vec<u8> {
        padded(ins, tag, 0)
    }

    /// As [`tx`], the output script padded with `pad` more bytes.
    fn padded(ins: &[([u8; 32], u32)], tag: u8, pad: usize) -> Vec<u8> {
        let mut v = vec![2, 0, 0, 0];
        v.push(ins.len() as u8);
        for (txid, vout) in ins {
            v.extend_from_slice(txid);
            v.extend_from_slice(&vout.to_le_bytes());
            v.push(0);
            v.extend_from_slice(&0xffff_fffdu32.to_le_bytes());
        }
        v.push(1);
        v.extend_from_slice(&1000u64.to_le_bytes());
        let len = 2 + pad;
        if len < 0xfd {
            v.push(len as u8);
        } else if len <= 0xffff {
            v.push(0xfd);
            v.extend_from_slice(&(len as u16).to_le_bytes());
        } else {
            v.push(0xfe);
            v.extend_from_slice(&(len as u32).to_le_bytes());
        }
        v.extend_from_slice(&[0x51, tag]);
        v.extend(std::iter::repeat_n(0u8, pad));
        v.extend_from_slice(&[0; 4]);
        v
    }

    fn parse(raws: &[Vec<u8>]) -> Vec<Transaction<'_>> {
        raws.iter()
            .map(|r| Transaction::parse_exact(r).expect("test tx"))
            .collect()
    }

    #[test]
    fn well_formed_rules_in_cores_order() {
        let a = tx(&[([1; 32], 0)], 1);
        let a_id = Transaction::parse_exact(&a).expect("a").txid();
        let child = tx(&[(a_id, 0)], 2);
        let other = tx(&[([1; 32], 1)], 3);
        assert_eq!(well_formed(&parse(&[a.clone(), child.clone()])), None);
        assert_eq!(
            well_formed(&parse(&[child.clone(), a.clone()])),
            Some("package-not-sorted")
        );
        assert_eq!(
            well_formed(&parse(&[a.clone(), a.clone()])),
            Some("package-contains-duplicates")
        );
        // Same coin as `a`, another transaction.
        let double = tx(&[([1; 32], 0)], 4);
        assert_eq!(
            well_formed(&parse(&[a.clone(), other.clone(), double])),
            Some("conflict-in-package")
        );
        let many: Vec<Vec<u8>> = (0..26u8).map(|i| tx(&[([i; 32], 0)], i)).collect();
        assert_eq!(
            well_formed(&parse(&many)),
            Some("package-too-many-transactions")
        );
        // Weight: exactly 404,000 passes, 4 more (one byte) do not. Both paddings are
        // in the 3-byte script length range (0xfd) either way.
        let one = padded(&[([9; 32], 0)], 9, 50_000);
        let base = Transaction::parse_exact(&one).expect("one").weight() - 4 * 50_000;
        let pad = (MAX_PACKAGE_WEIGHT as usize / 2 - base) / 4;
        let pair = |extra: usize| {
            vec![
                padded(&[([9; 32], 0)], 9, pad),
                padded(&[([8; 32], 0)], 8, pad + extra),
            ]
        };
        let w: usize = parse(&pair(0)).iter().map(Transaction::weight).sum();
        assert_eq!(w, MAX_PACKAGE_WEIGHT as usize);
        assert_eq!(well_formed(&parse(&pair(0))), None);
        assert_eq!(well_formed(&parse(&pair(1))), Some("package-too-large"));
        // Duplicates are reported before order (weight first of all).
        assert_eq!(
            well_formed(&parse(&[child.clone(), a.clone(), child])),
            Some("package-contains-duplicates")
        );
    }
}
