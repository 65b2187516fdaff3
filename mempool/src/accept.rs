//! Acceptance of one transaction (Core's `MemPoolAccept::AcceptSingleTransaction`): PreChecks,
//! replacement checks, cluster limits, ephemeral dust, policy script checks, then submission
//! and trimming.

use std::collections::{BTreeMap, BTreeSet};

use sluice_consensus::chain::locktime::{
    calculate_sequence_locks, evaluate_sequence_locks, is_final_tx,
};
use sluice_consensus::chain::tx_inputs::{check_tx_inputs, tx_version_u32};
use sluice_consensus::chain::AncestorView;
use sluice_consensus::coin::{Amount, Coin, OutPoint};
use sluice_consensus::hash::{sha256, to_display_hex, Hash256};
use sluice_consensus::script::sigops::sigop_cost;
use sluice_consensus::script::{verify_input, ScriptError, ScriptFlags};
use sluice_consensus::secp::BatchVerifier;
use sluice_consensus::sigcheck::{SchnorrItem, SchnorrMode};
use sluice_consensus::sighash::{PrecomputedTxData, SpentOutput};
use sluice_consensus::tx::Transaction;
use sluice_consensus::tx_check::check_transaction;

use crate::cluster::{chunks, compare_diagrams, Node};
use crate::entry::Entry;
use crate::feerate::{FeeFrac, FeeRate};
use crate::options::{
    MAX_REPLACEMENT_CANDIDATES, MAX_STANDARD_TX_SIGOPS_COST, MIN_STANDARD_TX_NONWITNESS_SIZE,
    STANDARD_SCRIPT_VERIFY_FLAGS,
};
use crate::policy::{
    dust_outputs, is_standard_tx, is_witness_standard, spends_non_anchor_witness_prog,
    validate_inputs_standardness, virtual_size,
};
use crate::pool::{Mempool, RemovalReason, Removed};
use crate::reject::{Reject, RejectKind};
use crate::truc::single_truc_checks;

/// Confirmed coins at the chain tip (the UTXO set), as the caller stores them.
pub trait CoinSource {
    fn coin(&self, outpoint: &OutPoint) -> Option<Coin>;
}

/// The chain facts acceptance needs: the tip (height, median time past, ancestors for BIP68
/// time locks), its coins, and the script flags of the tip block (Core's
/// `GetBlockScriptFlags(tip)`, the consensus re-check).
pub struct ChainTip<'a> {
    pub view: &'a dyn AncestorView,
    pub coins: &'a dyn CoinSource,
    pub script_flags: ScriptFlags,
}

impl std::fmt::Debug for ChainTip<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainTip")
            .field("height", &self.view.tip_height())
            .field("script_flags", &self.script_flags)
            .finish_non_exhaustive()
    }
}

/// How a transaction is offered.
#[derive(Debug, Clone, Copy)]
pub struct AcceptArgs {
    /// Caller's current time (seconds since the epoch).
    pub now: i64,
    /// Validate only (`testmempoolaccept`): the pool is not changed.
    pub test_only: bool,
    /// Re-adding from a disconnected block: no fee, TRUC or size limits.
    pub bypass_limits: bool,
    /// A step of package test acceptance ([`Mempool::test_package`]): PreChecks only, no
    /// replacement (Core's `PackageTestAccept` arguments); the package-wide checks and the
    /// scripts run afterwards over the whole package.
    pub(crate) package: bool,
}

impl AcceptArgs {
    #[must_use]
    pub fn submit(now: i64) -> Self {
        Self {
            now,
            test_only: false,
            bypass_limits: false,
            package: false,
        }
    }

    #[must_use]
    pub fn test(now: i64) -> Self {
        Self {
            now,
            test_only: true,
            bypass_limits: false,
            package: false,
        }
    }
}

/// An accepted (or, in test mode, acceptable) transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub txid: Hash256,
    pub wtxid: Hash256,
    /// Sigop-adjusted virtual size.
    pub vsize: i64,
    pub fee: Amount,
    /// Modified fee over vsize (testmempoolaccept's `effective-feerate`).
    pub effective_feerate: FeeRate,
    /// Transactions replaced (in test mode: that would be replaced).
    pub replaced: Vec<Hash256>,
    /// Everything that left the pool on submission (replacements and trimming).
    pub removed: Vec<Removed>,
}

/// Core's `ScriptErrorString`.
#[must_use]
pub fn script_error_string(e: ScriptError) -> String {
    match e {
        ScriptError::ScriptNum => "Script number overflowed or is non-minimally encoded".into(),
        ScriptError::TaprootWrongControlSize => "Invalid Taproot control block size".into(),
        ScriptError::UnknownError | ScriptError::BadInputContext => "unknown error".into(),
        other => {
            let s = other.to_string();
            let mut c = s.chars();
            c.next()
                .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
        }
    }
}

/// Core's `FormatMoney` (at least 2 decimals, trailing zeros trimmed).
fn format_money(v: Amount) -> String {
    let neg = v < 0;
    let a = v.unsigned_abs();
    let mut s = format!("{}.{:08}", a / 100_000_000, a % 100_000_000);
    while s.ends_with('0') && s.len() - s.find('.').map_or(0, |p| p) > 3 {
        s.pop();
    }
    if neg {
        format!("-{s}")
    } else {
        s
    }
}

fn hex_id(h: &Hash256) -> String {
    to_display_hex(h)
}

impl Mempool {
    /// Offers one serialized transaction.
    ///
    /// # Errors
    /// A [`Reject`] with Core's reason; undecodable bytes give reason "tx-decode-failed".
    pub fn accept(
        &mut self,
        raw: &[u8],
        chain: &ChainTip<'_>,
        args: AcceptArgs,
    ) -> Result<Accepted, Reject> {
        let tx = Transaction::parse_exact(raw)
            .map_err(|e| Reject::with(RejectKind::Consensus, "tx-decode-failed", e.to_string()))?;
        self.accept_parsed(&tx, chain, args)
    }

    pub(crate) fn accept_parsed(
        &mut self,
        tx: &Transaction<'_>,
        chain: &ChainTip<'_>,
        args: AcceptArgs,
    ) -> Result<Accepted, Reject> {
        let txid = tx.txid();
        let wtxid = tx.wtxid();
        // ---- PreChecks ----
        check_transaction(tx).map_err(|e| Reject::new(RejectKind::Consensus, e.reject_reason()))?;
        if tx.is_coinbase() {
            return Err(Reject::new(RejectKind::Consensus, "coinbase"));
        }
        if self.opts.require_standard {
            is_standard_tx(tx, &self.opts).map_err(|r| Reject::new(RejectKind::NotStandard, r))?;
        }
        if tx.base_size() < MIN_STANDARD_TX_NONWITNESS_SIZE {
            return Err(Reject::new(RejectKind::NotStandard, "tx-size-small"));
        }
        let tip = chain.view.tip_height();
        let next = tip + 1;
        let mtp = chain
            .view
            .median_time_past(tip)
            .map_err(|e| Reject::with(RejectKind::PrematureSpend, "non-final", e.to_string()))?;
        if !is_final_tx(
            tx.lock_time,
            tx.inputs.iter().map(|i| i.sequence),
            next,
            mtp,
        ) {
            return Err(Reject::new(RejectKind::PrematureSpend, "non-final"));
        }
        if self.contains_wtxid(&wtxid) {
            return Err(Reject::new(RejectKind::Conflict, "txn-already-in-mempool"));
        }
        if self.contains_txid(&txid) {
            return Err(Reject::new(
                RejectKind::Conflict,
                "txn-same-nonwitness-data-in-mempool",
            ));
        }
        let mut conflicts: BTreeSet<Hash256> = BTreeSet::new();
        for input in &tx.inputs {
            if let Some(c) = self.spenders.get(&input.prevout()) {
                if args.package {
                    // Package testmempoolaccept never replaces (Core: allow_replacement off).
                    return Err(Reject::new(
                        RejectKind::MempoolPolicy,
                        "bip125-replacement-disallowed",
                    ));
                }
                conflicts.insert(*c);
            }
        }
        // Coins: in-pool outputs first, then the chain's.
        let mut coins: Vec<Coin> = Vec::with_capacity(tx.inputs.len());
        let mut parents: BTreeSet<Hash256> = BTreeSet::new();
        for input in &tx.inputs {
            let op = input.prevout();
            let pool_coin = self.entries.get(&op.txid).and_then(|p| {
                p.outputs.get(op.vout as usize).map(|(v, s)| Coin {
                    value: *v,
                    script_pubkey: s.clone(),
                    // In-pool outputs count as created by the next block.
                    height: next,
                    coinbase: false,
                })
            });
            let coin = match pool_coin {
                Some(c) => {
                    parents.insert(op.txid);
                    Some(c)
                }
                None => chain.coins.coin(&op),
            };
            let Some(coin) = coin else {
                let known = (0..tx.outputs.len() as u32)
                    .any(|vout| chain.coins.coin(&OutPoint { txid, vout }).is_some());
                if known {
                    return Err(Reject::new(RejectKind::Conflict, "txn-already-known"));
                }
                return Err(Reject::new(
                    RejectKind::MissingInputs,
                    "bad-txns-inputs-missingorspent",
                ));
            };
            coins.push(coin);
        }
        // BIP68 for the next block (always enforced by policy).
        let lock = calculate_sequence_locks(
            tx_version_u32(tx),
            tx.inputs
                .iter()
                .zip(&coins)
                .map(|(i, c)| (i.sequence, c.height)),
            true,
            chain.view,
        )
        .and_then(|l| evaluate_sequence_locks(l, chain.view));
        if !matches!(lock, Ok(true)) {
            return Err(Reject::new(RejectKind::PrematureSpend, "non-BIP68-final"));
        }
        let fee = check_tx_inputs(tx, &coins, next).map_err(|e| {
            let details = match e {
                sluice_consensus::chain::TxInputError::PrematureCoinbaseSpend => {
                    let depth = coins
                        .iter()
                        .filter(|c| c.coinbase)
                        .map(|c| i64::from(next) - i64::from(c.height))
                        .min()
                        .unwrap_or(0);
                    format!("tried to spend coinbase at depth {depth}")
                }
                _ => String::new(),
            };
            Reject::with(RejectKind::Consensus, e.to_string(), details)
        })?;
        if self.opts.require_standard {
            validate_inputs_standardness(tx, &coins)?;
            if tx.has_witness() && !is_witness_standard(tx, &coins) {
                return Err(Reject::new(
                    RejectKind::WitnessMutated,
                    "bad-witness-nonstandard",
                ));
            }
        }
        let spent: Vec<SpentOutput<'_>> = spent_outputs(&coins);
        let sigops = sigop_cost(tx, &spent, STANDARD_SCRIPT_VERIFY_FLAGS);
        let sigops_i = i64::try_from(sigops).unwrap_or(i64::MAX);
        let weight = i64::try_from(tx.weight()).unwrap_or(i64::MAX);
        let vsize = virtual_size(weight, sigops_i, self.opts.bytes_per_sigop);
        let delta = self.deltas.get(&txid).copied().unwrap_or(0);
        let modified = fee + delta;
        if self.opts.require_standard
            && (fee != 0 || modified != 0)
            && !dust_outputs(tx, self.opts.dust_relay_feerate).is_empty()
        {
            return Err(Reject::with(
                RejectKind::NotStandard,
                "dust",
                "tx with dust output must be 0-fee".into(),
            ));
        }
        if sigops > MAX_STANDARD_TX_SIGOPS_COST {
            return Err(Reject::with(
                RejectKind::NotStandard,
                "bad-txns-too-many-sigops",
                sigops.to_string(),
            ));
        }
        if !args.bypass_limits {
            self.check_fee_rate(vsize, modified, args.now)?;
        }
        let mut sibling_eviction = false;
        if !args.bypass_limits {
            if let Some((msg, sibling)) =
                single_truc_checks(self, tx, &txid, &wtxid, &parents, &conflicts, vsize)
            {
                match sibling {
                    Some(s) if !args.package => {
                        conflicts.insert(s);
                        sibling_eviction = true;
                    }
                    // With a parent from the package, this is Core's `PackageTRUCChecks`: a
                    // package error, reported once every transaction passed its PreChecks.
                    _ if args.package && parents.iter().any(|p| self.staged.contains(p)) => {
                        self.deferred_truc.get_or_insert(msg);
                    }
                    _ => {
                        return Err(Reject::with(
                            RejectKind::MempoolPolicy,
                            "TRUC-violation",
                            msg,
                        ))
                    }
                }
            }
        }
        // ---- ReplacementChecks ----
        let mut all_conflicts: BTreeSet<Hash256> = BTreeSet::new();
        let sib = if sibling_eviction {
            " (including sibling eviction)"
        } else {
            ""
        };
        if !conflicts.is_empty() {
            let clusters: BTreeSet<Hash256> = conflicts
                .iter()
                .filter_map(|c| self.cluster(c).first().copied())
                .collect();
            if clusters.len() > MAX_REPLACEMENT_CANDIDATES {
                return Err(Reject::with(
                    RejectKind::MempoolPolicy,
                    format!("too many potential replacements{sib}"),
                    format!(
                        "rejecting replacement {}; too many conflicting clusters ({} > {})",
                        hex_id(&txid),
                        clusters.len(),
                        MAX_REPLACEMENT_CANDIDATES
                    ),
                ));
            }
            for c in &conflicts {
                all_conflicts.insert(*c);
                all_conflicts.extend(self.descendants(c));
            }
            let (orig_fees, _size) = all_conflicts
                .iter()
                .filter_map(|t| self.entries.get(t))
                .fold((0i64, 0i64), |(f, s), e| {
                    (f + e.modified_fee(), s + e.vsize)
                });
            if modified < orig_fees {
                return Err(Reject::with(
                    RejectKind::Reconsiderable,
                    format!("insufficient fee{sib}"),
                    format!(
                        "rejecting replacement {}, less fees than conflicting txs; {} < {}",
                        hex_id(&txid),
                        format_money(modified),
                        format_money(orig_fees)
                    ),
                ));
            }
            let additional = modified - orig_fees;
            let relay = self.opts.incremental_relay_feerate.fee(vsize);
            if additional < relay {
                return Err(Reject::with(
                    RejectKind::Reconsiderable,
                    format!("insufficient fee{sib}"),
                    format!(
                        "rejecting replacement {}, not enough additional fees to relay; {} < {}",
                        hex_id(&txid),
                        format_money(additional),
                        format_money(relay)
                    ),
                ));
            }
        }
        // A package step leaves the cluster, ephemeral dust and script checks to the
        // package-wide pass (Core runs them after every transaction's PreChecks).
        if !args.package {
            // ---- Cluster limits and the feerate diagram ----
            let new_node = Node {
                fee_size: FeeFrac::new(
                    modified,
                    crate::policy::sigops_adjusted_weight(
                        weight,
                        sigops_i,
                        self.opts.bytes_per_sigop,
                    ),
                ),
                parents: parents.iter().copied().collect(),
            };
            let (old_graph, new_graph) =
                self.staged_graphs(&parents, &all_conflicts, txid, new_node);
            let new_cluster = component(&new_graph, txid);
            let cluster_weight: i64 = new_cluster
                .iter()
                .filter_map(|t| new_graph.get(t))
                .map(|n| n.fee_size.size)
                .sum();
            if new_cluster.len() > self.opts.cluster_count
                || cluster_weight > self.opts.cluster_size_vbytes * 4
            {
                return Err(Reject::new(RejectKind::MempoolPolicy, "too-large-cluster"));
            }
            if !conflicts.is_empty() {
                let old: Vec<FeeFrac> = chunks(&old_graph).iter().map(|c| c.feerate).collect();
                let new: Vec<FeeFrac> = chunks(&new_graph).iter().map(|c| c.feerate).collect();
                if compare_diagrams(&new, &old) != Some(std::cmp::Ordering::Greater) {
                    return Err(Reject::with(
                        RejectKind::Reconsiderable,
                        "replacement-failed",
                        "insufficient feerate: does not improve feerate diagram".into(),
                    ));
                }
                // A transaction spending what it replaces is inconsistent.
                let mut ancestors: BTreeSet<Hash256> = BTreeSet::new();
                for p in &parents {
                    ancestors.insert(*p);
                    ancestors.extend(self.ancestors(p));
                }
                if let Some(a) = ancestors.iter().find(|a| conflicts.contains(*a)) {
                    return Err(Reject::with(
                        RejectKind::Consensus,
                        "bad-txns-spends-conflicting-tx",
                        format!(
                            "{} spends conflicting transaction {}",
                            hex_id(&txid),
                            hex_id(a)
                        ),
                    ));
                }
            }
            if !args.bypass_limits && self.opts.require_standard {
                self.check_ephemeral_spends(tx, &txid, &wtxid, &parents)?;
            }
            self.script_checks(tx, &coins, chain)?;
        }
        let replaced: Vec<Hash256> = all_conflicts.iter().copied().collect();
        let effective_feerate = FeeRate::from_fee(modified, vsize);
        if args.test_only {
            return Ok(Accepted {
                txid,
                wtxid,
                vsize,
                fee,
                effective_feerate,
                replaced,
                removed: Vec::new(),
            });
        }
        // ---- Submit ----
        let mut removed = Vec::new();
        for c in &conflicts {
            self.remove_recursive(c, RemovalReason::Replaced, &mut removed);
        }
        let sequence = if args.bypass_limits {
            0
        } else {
            self.next_sequence += 1;
            self.next_sequence
        };
        let entry = Entry {
            raw: tx.raw().to_vec(),
            txid,
            wtxid,
            fee,
            fee_delta: delta,
            vsize,
            weight,
            sigop_cost: sigops_i,
            time: args.now,
            height: tip,
            sequence,
            spends_coinbase: coins.iter().any(|c| c.coinbase),
            version: tx.version,
            signals_rbf: tx.inputs.iter().any(|i| i.sequence < 0xffff_fffe),
            prevouts: tx
                .inputs
                .iter()
                .map(sluice_consensus::tx::TxIn::prevout)
                .collect(),
            outputs: tx
                .outputs
                .iter()
                .map(|o| (o.value, o.script_pubkey.to_vec()))
                .collect(),
            parents: BTreeSet::new(),
            children: BTreeSet::new(),
        };
        self.insert(entry);
        if !args.bypass_limits && !args.package {
            removed.extend(self.trim_to_size(args.now));
            if !self.contains_txid(&txid) {
                return Err(Reject::new(RejectKind::Reconsiderable, "mempool full"));
            }
        }
        Ok(Accepted {
            txid,
            wtxid,
            vsize,
            fee,
            effective_feerate,
            replaced,
            removed,
        })
    }

    /// Core's `PolicyScriptChecks` then `ConsensusScriptChecks` over the spent `coins`.
    pub(crate) fn script_checks(
        &self,
        tx: &Transaction<'_>,
        coins: &[Coin],
        chain: &ChainTip<'_>,
    ) -> Result<(), Reject> {
        let wtxid = tx.wtxid();
        let spent: Vec<SpentOutput<'_>> = spent_outputs(coins);
        if let Err((e, i)) = self.check_scripts(tx, &spent, &wtxid, STANDARD_SCRIPT_VERIFY_FLAGS) {
            let kind = if !tx.has_witness() && spends_non_anchor_witness_prog(tx, coins) {
                RejectKind::WitnessStripped
            } else {
                RejectKind::NotStandard
            };
            return Err(Reject::with(
                kind,
                format!(
                    "mempool-script-verify-flag-failed ({})",
                    script_error_string(e)
                ),
                input_details(tx, i),
            ));
        }
        // ConsensusScriptChecks: the standard flags include every consensus flag of a tip
        // past taproot; re-run only when the tip's flags are not covered.
        if !STANDARD_SCRIPT_VERIFY_FLAGS.contains(chain.script_flags) {
            if let Err((e, i)) = self.check_scripts(tx, &spent, &wtxid, chain.script_flags) {
                return Err(Reject::with(
                    RejectKind::Consensus,
                    format!(
                        "block-script-verify-flag-failed ({})",
                        script_error_string(e)
                    ),
                    input_details(tx, i),
                ));
            }
        }
        Ok(())
    }

    /// Core's `CheckFeeRate`: the rolling mempool minimum, then the minimum relay fee.
    fn check_fee_rate(&mut self, vsize: i64, fee: Amount, now: i64) -> Result<(), Reject> {
        let min = self.min_fee(now).fee(vsize);
        if min > 0 && fee < min {
            return Err(Reject::with(
                RejectKind::Reconsiderable,
                "mempool min fee not met",
                format!("{fee} < {min}"),
            ));
        }
        let relay = self.opts.min_relay_feerate.fee(vsize);
        if fee < relay {
            return Err(Reject::with(
                RejectKind::Reconsiderable,
                "min relay fee not met",
                format!("{fee} < {relay}"),
            ));
        }
        Ok(())
    }

    /// The graphs before and after staging: the clusters touched by the new transaction's
    /// parents and its conflicts, without and with the change.
    fn staged_graphs(
        &self,
        parents: &BTreeSet<Hash256>,
        removals: &BTreeSet<Hash256>,
        txid: Hash256,
        node: Node,
    ) -> (BTreeMap<Hash256, Node>, BTreeMap<Hash256, Node>) {
        let mut touched: BTreeSet<Hash256> = BTreeSet::new();
        for t in parents.iter().chain(removals) {
            if !touched.contains(t) {
                touched.extend(self.cluster(t));
            }
        }
        let old: BTreeMap<Hash256, Node> = touched
            .iter()
            .filter_map(|t| self.entries.get(t).map(|e| (*t, self.node(e))))
            .collect();
        let mut new: BTreeMap<Hash256, Node> = old
            .iter()
            .filter(|(t, _)| !removals.contains(*t))
            .map(|(t, n)| {
                let mut n = n.clone();
                n.parents.retain(|p| !removals.contains(p));
                (*t, n)
            })
            .collect();
        new.insert(txid, node);
        (old, new)
    }

    /// Core's `CheckEphemeralSpends` for one transaction: every dust output of an in-pool
    /// parent must be spent by it.
    pub(crate) fn check_ephemeral_spends(
        &self,
        tx: &Transaction<'_>,
        txid: &Hash256,
        wtxid: &Hash256,
        parents: &BTreeSet<Hash256>,
    ) -> Result<(), Reject> {
        let spent: BTreeSet<OutPoint> = tx
            .inputs
            .iter()
            .map(sluice_consensus::tx::TxIn::prevout)
            .collect();
        for p in parents {
            let Some(pe) = self.entries.get(p) else {
                continue;
            };
            let Ok(ptx) = Transaction::parse_exact(&pe.raw) else {
                continue;
            };
            for vout in dust_outputs(&ptx, self.opts.dust_relay_feerate) {
                if !spent.contains(&OutPoint { txid: *p, vout }) {
                    return Err(Reject::with(
                        RejectKind::MempoolPolicy,
                        "missing-ephemeral-spends",
                        format!(
                            "tx {} (wtxid={}) did not spend parent's ephemeral dust",
                            hex_id(txid),
                            hex_id(wtxid)
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Verifies every input under `flags`, Schnorr signatures batched. Reports the error and
    /// index of the first failing input, as Core's input-by-input check does.
    fn check_scripts(
        &self,
        tx: &Transaction<'_>,
        spent: &[SpentOutput<'_>],
        wtxid: &Hash256,
        flags: ScriptFlags,
    ) -> Result<(), (ScriptError, usize)> {
        let pre = PrecomputedTxData::new(tx, spent);
        let mut items: Vec<SchnorrItem> = Vec::new();
        let mut first_error: Option<(ScriptError, usize)> = None;
        for i in 0..tx.inputs.len() {
            let before = items.len();
            if let Err(e) = verify_input(tx, i, spent, &pre, flags, SchnorrMode::Defer(&mut items))
            {
                items.truncate(before);
                first_error = Some((e, i));
                break;
            }
        }
        if !items.is_empty() {
            let mut batch = BatchVerifier::with_capacity(items.len());
            for it in &items {
                batch.push(it.msg, it.pubkey, it.sig);
            }
            let mut seed = self.batch_seed.to_vec();
            seed.extend_from_slice(wtxid);
            // Only inputs before the first failing one contributed items: an invalid
            // Schnorr signature among them is the first failure, as Core would see it. The
            // batch does not say which: the inputs are checked one by one to name it.
            if batch.verify(sha256(&seed)).is_err() {
                let end = first_error.map_or(tx.inputs.len(), |(_, i)| i);
                let found = (0..end).find_map(|i| {
                    verify_input(tx, i, spent, &pre, flags, SchnorrMode::Verify)
                        .err()
                        .map(|e| (e, i))
                });
                return Err(found.unwrap_or((ScriptError::SchnorrSig, 0)));
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Core's `CScriptCheck` debug text for a failing input.
fn input_details(tx: &Transaction<'_>, i: usize) -> String {
    let (prev, vout) = tx
        .inputs
        .get(i)
        .map_or(([0u8; 32], 0), |x| (*x.prev_txid, x.prev_vout));
    format!(
        "input {i} of {} (wtxid {}), spending {}:{vout}",
        hex_id(&tx.txid()),
        hex_id(&tx.wtxid()),
        hex_id(&prev)
    )
}

/// The connected component of `start` in `graph`.
fn component(graph: &BTreeMap<Hash256, Node>, start: Hash256) -> BTreeSet<Hash256> {
    let mut children: BTreeMap<Hash256, Vec<Hash256>> = BTreeMap::new();
    for (t, n) in graph {
        for p in &n.parents {
            children.entry(*p).or_default().push(*t);
        }
    }
    let mut out = BTreeSet::new();
    let mut todo = vec![start];
    while let Some(t) = todo.pop() {
        if !graph.contains_key(&t) || !out.insert(t) {
            continue;
        }
        if let Some(n) = graph.get(&t) {
            todo.extend(n.parents.iter().copied());
        }
        if let Some(c) = children.get(&t) {
            todo.extend(c.iter().copied());
        }
    }
    out
}

/// The coins a transaction spends, as the script checks take them.
fn spent_outputs(coins: &[Coin]) -> Vec<SpentOutput<'_>> {
    coins
        .iter()
        .map(|c| SpentOutput {
            value: c.value,
            script_pubkey: &c.script_pubkey,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_format_as_core() {
        assert_eq!(format_money(0), "0.00");
        assert_eq!(format_money(100_000_000), "1.00");
        assert_eq!(format_money(1), "0.00000001");
        assert_eq!(format_money(-1_500), "-0.000015");
        assert_eq!(
            script_error_string(ScriptError::EvalFalse),
            "Script evaluated without error but finished with a false/empty top stack element"
        );
    }
}
