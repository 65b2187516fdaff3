//! Bitcoin's work in each pipeline stage: the [`Stages`] implementation the importer runs.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError, RwLock};

use rayon::prelude::*;
use sluice_consensus::block::Block;
use sluice_consensus::chain::block_check::{check_block_with, CheckBlockOptions};
use sluice_consensus::chain::tx_inputs::{bip30_applies, check_bip30, check_block_spends};
use sluice_consensus::chain::{contextual_check_block, Params};
use sluice_consensus::coin::{Coin, OutPoint};
use sluice_consensus::hash::{sha256d_many, to_display_hex, Hash256};
use sluice_consensus::keycache::PubkeyCache;
use sluice_consensus::merkle::merkle_root;
use sluice_consensus::script::deferred::{
    explain_failure, schnorr_in_lanes, verify_ecdsa_items, verify_schnorr_items, EcdsaBackend,
    ECDSA_GROUP,
};
use sluice_consensus::script::{verify_input_deferring, Deferral, ScriptFlags, MAX_SCRIPT_SIZE};
use sluice_consensus::secp::{BatchFailure, BatchVerifier};
use sluice_consensus::sigcheck::{EcdsaItem, SchnorrItem};
use sluice_consensus::sighash::{PrecomputedTxData, SpentOutput};
use sluice_consensus::tx::Transaction;
use sluice_storage::ChainStore;

use super::block::{BlockJob, BlockReject, Checked, Committed, Fetched, Parsed};
use super::snapshot::ChainSnapshot;
use crate::engine::{Epoch, Lookup, Overlay, Stages, Ticket};

/// Core's reject reason for a missing or already spent input.
pub const MISSING_OR_SPENT: &str = "bad-txns-inputs-missingorspent";

/// The Bitcoin stages, sharing the UTXO store, the in-flight overlay and the chain snapshot.
#[derive(Debug)]
pub struct BitcoinStages {
    pub params: Params,
    pub store: RwLock<ChainStore>,
    pub overlay: Mutex<Overlay<OutPoint, Coin>>,
    pub chain: ChainSnapshot,
    /// Parsed ECDSA keys, shared by every script worker and kept across blocks (keys repeat
    /// within and between blocks; parsing one costs a square root). `None`: no memo.
    pub keys: Option<PubkeyCache>,
    /// Who verifies the deferrable ECDSA checks of a block, in groups after its scripts ran
    /// (see `sluice_consensus::script::deferred`); `None`: every check in place.
    pub ecdsa: Option<EcdsaBackend>,
}

impl BitcoinStages {
    /// `key_cache_entries` bounds the memo of parsed ECDSA keys (0: no memo). Deferrable ECDSA
    /// checks go to the detected vector backend ([`Self::with_ecdsa`] to change that).
    #[must_use]
    pub fn new(
        params: Params,
        store: ChainStore,
        chain: ChainSnapshot,
        key_cache_entries: usize,
    ) -> Self {
        Self {
            params,
            store: RwLock::new(store),
            overlay: Mutex::new(Overlay::default()),
            chain,
            keys: (key_cache_entries > 0).then(|| PubkeyCache::new(key_cache_entries)),
            ecdsa: Some(EcdsaBackend::detect()),
        }
    }

    /// Deferred ECDSA checks verified by `backend` (`None`: every check in place).
    ///
    /// # Panics
    /// When `backend` cannot run on this CPU (a configuration error, caught at start).
    #[must_use]
    pub fn with_ecdsa(mut self, backend: Option<EcdsaBackend>) -> Self {
        assert!(
            backend.is_none_or(EcdsaBackend::is_available),
            "ECDSA backend {backend:?} is not available on this CPU"
        );
        self.ecdsa = backend;
        self
    }
}

/// One transaction's deferred checks: Schnorr items, ECDSA items and the input of each.
type TxDeferred = (Vec<SchnorrItem>, Vec<EcdsaItem>, Vec<(usize, usize)>);

/// Outputs that can never be spent are not added to the UTXO set (Core's `IsUnspendable`).
fn is_unspendable(script: &[u8]) -> bool {
    script.first() == Some(&0x6a) || script.len() > MAX_SCRIPT_SIZE
}

/// Txids of every transaction, hashed many at a time across SIMD lanes.
fn txids(block: &Block<'_>) -> Vec<Hash256> {
    let preimages: Vec<std::borrow::Cow<'_, [u8]>> = block
        .transactions
        .iter()
        .map(Transaction::non_witness_bytes)
        .collect();
    let msgs: Vec<&[u8]> = preimages.iter().map(AsRef::as_ref).collect();
    let mut out = vec![[0u8; 32]; msgs.len()];
    sha256d_many(&msgs, &mut out);
    out
}

/// Core's reject reason for a failed script: `block-script-verify-flag-failed (<ScriptErrorString>)`.
/// Core's strings start with a capital letter; the interpreter's `Display` texts are Core's
/// wording otherwise.
fn script_reject(e: impl std::fmt::Display) -> BlockReject {
    let text = e.to_string();
    let mut chars = text.chars();
    let capitalised: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    BlockReject::consensus(format!("block-script-verify-flag-failed ({capitalised})"))
}

impl Stages for BitcoinStages {
    type Input = BlockJob;
    type Parsed = Parsed;
    type Contextual = Parsed;
    type Fetched = Fetched;
    type Checked = Checked;
    type Verified = (Fetched, usize);
    type Committed = Committed;
    type Error = BlockReject;

    /// Decode, txids by multi-lane hashing, merkle root and the rest of `CheckBlock`.
    fn parse(&self, job: BlockJob) -> Result<Parsed, BlockReject> {
        let block = Block::parse(&job.bytes)
            .map_err(|e| BlockReject::consensus(format!("bad-blk-decode ({e})")))?;
        // The bytes must be the block the tree scheduled (they may have been re-read from a
        // file since): anything else is an I/O fault, not a verdict on this block.
        if block.header.block_hash() != job.hash {
            return Err(BlockReject::Storage(format!(
                "bytes read for block {} hash to {}",
                to_display_hex(&job.hash),
                to_display_hex(&block.header.block_hash())
            )));
        }
        let txids = txids(&block);
        let (root, mutated) = merkle_root(&txids);
        if root != block.header.merkle_root {
            return Err(sluice_consensus::chain::BlockError::BadMerkleRoot.into());
        }
        if mutated {
            return Err(sluice_consensus::chain::BlockError::DuplicateTx.into());
        }
        let opts = CheckBlockOptions {
            check_pow: true,
            check_merkle_root: false,
        };
        check_block_with(&block, &self.params, opts)?;
        drop(block);
        Ok(Parsed { job, txids })
    }

    /// `ContextualCheckBlock`: finality, BIP34 height, witness commitment, weight.
    fn context(&self, p: Parsed) -> Result<Parsed, BlockReject> {
        let block = p.view()?;
        let prev = p
            .job
            .height
            .checked_sub(1)
            .ok_or_else(|| BlockReject::consensus("genesis"))?;
        contextual_check_block(&block, &self.chain.view(prev), &self.params)?;
        drop(block);
        Ok(p)
    }

    /// Coins from (1) earlier transactions of the same block, (2) in-flight blocks, (3) the
    /// store. Missing or double-spent inputs (also within the block) are rejected.
    fn fetch(&self, ticket: Ticket, epoch: &Epoch, p: Parsed) -> Result<Fetched, BlockReject> {
        let block = p.view()?;
        let height = p.job.height;
        let mut overlay = self.overlay.lock().unwrap_or_else(PoisonError::into_inner);
        if !epoch.is_current(ticket.epoch) {
            return Err(BlockReject::consensus("discarded"));
        }
        let store = self.store.read().unwrap_or_else(PoisonError::into_inner);
        let lookup = |op: &OutPoint| -> Result<Option<Coin>, BlockReject> {
            Ok(match overlay.lookup(op) {
                Lookup::Created(c) => Some(c.clone()),
                Lookup::Spent => None,
                Lookup::Unknown => store.peek_coin(op)?,
            })
        };
        // BIP30: no transaction may overwrite an unspent output (before BIP34 made txids unique).
        let prev = height.saturating_sub(1);
        let view = self.chain.view(prev);
        if bip30_applies(&p.job.hash, &view, &self.params)
            .map_err(|e| BlockReject::consensus(e.to_string()))?
        {
            let mut lookup_err = None;
            let r = check_bip30(&block, |op| match lookup(op) {
                Ok(c) => c.is_some(),
                Err(e) => {
                    lookup_err = Some(e);
                    false
                }
            });
            if let Some(e) = lookup_err {
                return Err(e);
            }
            r?;
        }
        drop(view);
        let mut in_block: HashMap<OutPoint, Coin> = HashMap::new();
        let mut spent_here: HashSet<OutPoint> = HashSet::new();
        let mut spent = Vec::new();
        let mut spends = Vec::new();
        let mut external = Vec::new();
        let mut creates = Vec::new();
        for (tx, txid) in block.transactions.iter().zip(&p.txids) {
            let coinbase = tx.is_coinbase();
            if !coinbase {
                for input in &tx.inputs {
                    let op = input.prevout();
                    if !spent_here.insert(op) {
                        return Err(BlockReject::consensus(MISSING_OR_SPENT));
                    }
                    let coin = match in_block.remove(&op) {
                        Some(c) => c,
                        None => {
                            let c = lookup(&op)?
                                .ok_or_else(|| BlockReject::consensus(MISSING_OR_SPENT))?;
                            external.push(op);
                            c
                        }
                    };
                    spent.push(coin);
                    spends.push(op);
                }
            }
            for (vout, out) in (0u32..).zip(&tx.outputs) {
                if is_unspendable(out.script_pubkey) {
                    continue;
                }
                let op = OutPoint { txid: *txid, vout };
                let coin = Coin {
                    value: out.value,
                    script_pubkey: out.script_pubkey.to_vec(),
                    height,
                    coinbase,
                };
                creates.push((op, coin.clone()));
                in_block.insert(op, coin);
            }
        }
        drop(store);
        overlay.record(ticket.seq, external, in_block);
        drop(overlay);
        drop(block);
        Ok(Fetched {
            parsed: p,
            spent,
            spends,
            creates,
        })
    }

    /// Fees, BIP68, sigop cost, then every input's scripts in parallel, with Schnorr deferred
    /// to the batch stage and deferrable ECDSA checks recorded; then the recorded ECDSA checks
    /// verified in groups across the pool (see `sluice_consensus::script::deferred`).
    fn script(&self, f: Fetched) -> Result<Checked, BlockReject> {
        let block = f.parsed.view()?;
        let prev = f.parsed.job.height.saturating_sub(1);
        let summary = check_block_spends(&block, &f.spent, &self.chain.view(prev), &self.params)?;
        // Offsets of each transaction's coins in `spent`.
        let mut offsets = Vec::with_capacity(block.transactions.len());
        let mut at = 0usize;
        for tx in &block.transactions {
            offsets.push(at);
            if !tx.is_coinbase() {
                at += tx.inputs.len();
            }
        }
        let flags = summary.flags;
        let spent = &f.spent;
        let defer_ecdsa = self.ecdsa.is_some();
        let per_tx: Result<Vec<TxDeferred>, BlockReject> = block
            .transactions
            .par_iter()
            .zip(offsets.par_iter())
            .enumerate()
            // Small blocks stay on this worker (other workers verify other blocks); big blocks
            // are split across the rayon pool.
            .with_min_len(32)
            .filter(|(_, (tx, _))| !tx.is_coinbase())
            .map(|(ti, (tx, &off))| {
                with_tx_context(tx, spent, off, |outs, pre| {
                    let mut schnorr = Vec::new();
                    let mut ecdsa = Vec::new();
                    let mut owners = Vec::new();
                    for i in 0..tx.inputs.len() {
                        let run = verify_input_deferring(
                            tx,
                            i,
                            outs,
                            pre,
                            flags,
                            Deferral {
                                schnorr: Some(&mut schnorr),
                                ecdsa: defer_ecdsa.then_some(&mut ecdsa),
                            },
                            self.keys.as_ref(),
                        );
                        if let Err(e) = run {
                            // With ECDSA deferred the error may not be Core's (a false deferred
                            // check before it): the input again, every check in place.
                            return Err(if defer_ecdsa {
                                explain_failure(tx, i, outs, pre, flags, self.keys.as_ref())
                                    .map_or_else(
                                        |f| BlockReject::Internal(f.to_string()),
                                        script_reject,
                                    )
                            } else {
                                script_reject(e)
                            });
                        }
                        owners.resize(ecdsa.len(), (ti, i));
                    }
                    Ok((schnorr, ecdsa, owners))
                })
            })
            .collect();
        let per_tx = per_tx?;
        let mut schnorr = Vec::new();
        let mut ecdsa = Vec::new();
        let mut owners = Vec::new();
        for (s, e, o) in per_tx {
            schnorr.extend(s);
            ecdsa.extend(e);
            owners.extend(o);
        }
        if let Some(backend) = self.ecdsa {
            if let Some(first) = first_failing_ecdsa(backend, &ecdsa)? {
                let (ti, ii) = owners.get(first).copied().ok_or_else(|| {
                    BlockReject::Internal("deferred ECDSA check without owner".into())
                })?;
                return Err(self.explain(&block, &offsets, spent, flags, ti, ii));
            }
        }
        let inputs = f.spent.len();
        drop(block);
        Ok(Checked {
            fetched: f,
            summary,
            schnorr,
            inputs,
        })
    }

    fn batch_weight(&self, block: &Checked) -> usize {
        block.schnorr.len()
    }

    /// One batch over the deferred Schnorr signatures of several blocks; a failing batch names
    /// its failing signatures, which fail exactly their blocks.
    fn batch_verify(&self, blocks: Vec<Checked>) -> Vec<Result<(Fetched, usize), BlockReject>> {
        // (owning block, signature) for every deferred check, in block order.
        let items: Vec<(usize, &SchnorrItem)> = blocks
            .iter()
            .enumerate()
            .flat_map(|(i, b)| b.schnorr.iter().map(move |s| (i, s)))
            .collect();
        let mut failed = vec![false; blocks.len()];
        let owners = match failing_schnorr_owners(self.ecdsa, &items) {
            Ok(owners) => owners,
            Err(fault) => {
                tracing::error!("{fault}");
                return blocks
                    .iter()
                    .map(|_| Err(BlockReject::Internal(fault.clone())))
                    .collect();
            }
        };
        for owner in owners {
            if let Some(f) = failed.get_mut(owner) {
                *f = true;
            }
        }
        blocks
            .into_iter()
            .zip(failed)
            .map(|(b, bad)| {
                if bad {
                    Err(script_reject("Invalid Schnorr signature"))
                } else {
                    let n = b.schnorr.len();
                    Ok((b.fetched, n))
                }
            })
            .collect()
    }

    fn apply(
        &self,
        seq: u64,
        (f, schnorr_sigs): (Fetched, usize),
    ) -> Result<Committed, BlockReject> {
        let job = &f.parsed.job;
        let mut store = self.store.write().unwrap_or_else(PoisonError::into_inner);
        store.connect_block(job.height, job.hash, &f.spends, &f.creates)?;
        drop(store);
        self.overlay
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retire(seq);
        Ok(Committed {
            hash: job.hash,
            height: job.height,
            txs: f.parsed.txids.len(),
            inputs: f.spends.len(),
            schnorr_sigs,
            bytes: job.bytes.len(),
        })
    }

    fn rejected(&self, seq: u64) {
        self.overlay
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .discard_from(seq);
    }

    fn checkpoint(&self) -> Result<(), BlockReject> {
        self.store
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .checkpoint()?;
        Ok(())
    }
}

/// Runs `f` with transaction `tx`'s spent outputs (its coins start at `off` in `spent`) and its
/// precomputed sighash data.
fn with_tx_context<T>(
    tx: &Transaction<'_>,
    spent: &[Coin],
    off: usize,
    f: impl FnOnce(&[SpentOutput<'_>], &PrecomputedTxData) -> Result<T, BlockReject>,
) -> Result<T, BlockReject> {
    let coins = spent
        .get(off..off + tx.inputs.len())
        .ok_or_else(|| BlockReject::consensus(MISSING_OR_SPENT))?;
    let outs: Vec<SpentOutput<'_>> = coins
        .iter()
        .map(|c| SpentOutput {
            value: c.value,
            script_pubkey: &c.script_pubkey,
        })
        .collect();
    let pre = PrecomputedTxData::new(tx, &outs);
    f(&outs, &pre)
}

/// Verifies deferred ECDSA checks in groups across the rayon pool; the index of the first
/// false one (confirmed by libsecp256k1), if any.
fn first_failing_ecdsa(
    backend: EcdsaBackend,
    items: &[EcdsaItem],
) -> Result<Option<usize>, BlockReject> {
    items
        .par_chunks(ECDSA_GROUP)
        .enumerate()
        .map(|(c, group)| {
            verify_ecdsa_items(backend, group)
                .map(|failing| failing.first().map(|i| c * ECDSA_GROUP + i))
                .map_err(|e| BlockReject::Internal(e.to_string()))
        })
        .try_reduce(|| None, |a, b| Ok(a.into_iter().chain(b).min()))
}

impl BitcoinStages {
    /// The reject for input `ii` of transaction `ti` whose deferred ECDSA check failed: Core's
    /// error, from the input run again with every check in place.
    fn explain(
        &self,
        block: &Block<'_>,
        offsets: &[usize],
        spent: &[Coin],
        flags: ScriptFlags,
        ti: usize,
        ii: usize,
    ) -> BlockReject {
        let (Some(tx), Some(&off)) = (block.transactions.get(ti), offsets.get(ti)) else {
            return BlockReject::Internal(format!("deferred ECDSA check of unknown tx {ti}"));
        };
        let explained = with_tx_context(tx, spent, off, |outs, pre| {
            explain_failure(tx, ii, outs, pre, flags, self.keys.as_ref())
                .map_err(|e| BlockReject::Internal(e.to_string()))
        });
        match explained {
            Ok(e) => script_reject(e),
            Err(r) => r,
        }
    }
}

/// Verifies deferred Schnorr checks, in vector lanes when `backend` is a vector backend (see
/// [`schnorr_in_lanes`]), else through the batch equation with randomness from the OS; returns
/// the owners of every failing signature, or an internal fault. (Parallelism comes from
/// several batch workers, each with its own batch, see `ShellConfig::batch_workers`, and for
/// lanes from groups across the rayon pool.)
fn failing_schnorr_owners(
    backend: Option<EcdsaBackend>,
    items: &[(usize, &SchnorrItem)],
) -> Result<Vec<usize>, String> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(backend) = backend.filter(|_| schnorr_in_lanes(backend, items.len())) {
        let checks: Vec<SchnorrItem> = items.iter().map(|(_, s)| **s).collect();
        let failing: Vec<usize> = checks
            .par_chunks(ECDSA_GROUP)
            .enumerate()
            .map(|(c, group)| {
                verify_schnorr_items(backend, group)
                    .map(|f| {
                        f.into_iter()
                            .map(|i| c * ECDSA_GROUP + i)
                            .collect::<Vec<_>>()
                    })
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<_>, String>>()?
            .concat();
        return failing
            .iter()
            .map(|&i| items.get(i).map(|(owner, _)| *owner))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| "a Schnorr lane verdict names no signature".to_string());
    }
    let mut batch = BatchVerifier::with_capacity(items.len());
    for (_, s) in items {
        batch.push(s.msg, s.pubkey, s.sig);
    }
    let mut seed = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
    owners_of_failures(items, batch.verify(seed))
}

/// Maps a batch result to the blocks owning its invalid signatures. A disagreement between the
/// batch arithmetic and libsecp256k1, or a failure naming no item, is a bug in the verifier:
/// an internal fault (the import stops, nothing is marked invalid), never a verdict.
fn owners_of_failures(
    items: &[(usize, &SchnorrItem)],
    result: Result<(), BatchFailure>,
) -> Result<Vec<usize>, String> {
    let Err(failure) = result else {
        return Ok(Vec::new());
    };
    if failure.is_fault() {
        return Err(format!(
            "the Schnorr batch equation rejected signatures {:?} that libsecp256k1 accepts",
            failure.disagreements
        ));
    }
    failure
        .failing
        .iter()
        .map(|&i| items.get(i).map(|(owner, _)| *owner))
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(|| {
            format!(
                "the Schnorr batch names signatures {:?} of a batch of {}",
                failure.failing,
                items.len()
            )
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use sluice_storage::StoreConfig;

    #[test]
    fn a_batch_disagreement_is_a_fault_not_a_verdict() {
        let item = SchnorrItem {
            msg: [1; 32],
            pubkey: [2; 32],
            sig: [3; 64],
        };
        let items = [(0, &item), (1, &item), (1, &item)];
        let fail = |failing: Vec<usize>, disagreements: Vec<usize>| {
            Err(BatchFailure {
                failing,
                disagreements,
            })
        };
        assert_eq!(owners_of_failures(&items, Ok(())), Ok(vec![]));
        assert_eq!(
            owners_of_failures(&items, fail(vec![2], vec![])),
            Ok(vec![1])
        );
        // The equation and libsecp256k1 disagree: whatever else failed, no block is judged.
        let r = owners_of_failures(&items, fail(vec![2], vec![0]));
        assert!(r.is_err_and(|e| e.contains("libsecp256k1 accepts")));
        // A failing index outside the batch.
        let r = owners_of_failures(&items, fail(vec![3], vec![]));
        assert!(r.is_err_and(|e| e.contains("of a batch of 3")));
    }

    #[test]
    fn bytes_of_another_block_are_an_io_fault_not_a_verdict() {
        let dir = tempfile::tempdir().unwrap();
        let params = Params::regtest();
        let store = ChainStore::open(dir.path(), &StoreConfig::default()).unwrap();
        let stages = BitcoinStages::new(params.clone(), store, ChainSnapshot::default(), 0);
        let bytes: std::sync::Arc<[u8]> = params.genesis_block().into();
        let job = |hash| BlockJob {
            bytes: bytes.clone(),
            hash,
            height: 0,
        };
        assert!(stages.parse(job(params.genesis_hash)).is_ok());
        match stages.parse(job([7; 32])) {
            Err(BlockReject::Storage(msg)) => assert!(msg.contains("hash to"), "{msg}"),
            other => panic!("expected a storage fault, got {other:?}"),
        }
    }
}
