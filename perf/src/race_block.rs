//! `perf race-block`: all inputs of one real block script-verified by Sluice and by Core's
//! kernel (`btck_script_pubkey_verify`), each on a rayon pool of the same size.
//!
//! Each timed run covers the per-transaction precomputation (sighash midstates: Core's
//! `PrecomputedTransactionData`, Sluice's precomputed sighash data) and the verification of every
//! input, with the spent outputs already in memory — the work a block's script stage does.

use std::time::Instant;

use bitcoinkernel::prelude::*;
use bitcoinkernel::{
    verify, PrecomputedTransactionData, ScriptPubkey, Transaction, TxOut, VERIFY_ALL,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use sluice_consensus::keycache::PubkeyCache;
use sluice_consensus::script::deferred::{verify_ecdsa_items, EcdsaBackend, ECDSA_GROUP};
use sluice_consensus::script::{verify_input_deferring, Deferral, ScriptFlags};
use sluice_consensus::secp::BatchVerifier;
use sluice_consensus::sigcheck::{EcdsaItem, SchnorrItem};
use sluice_consensus::sighash::{PrecomputedTxData, SpentOutput};
use sluice_consensus::tx::Transaction as SluiceTx;

use crate::block_inputs::BlockInputs;
use crate::stats::{self, Summary};

/// One engine's figures for the block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockEngineResult {
    pub engine: String,
    /// Wall seconds per run.
    pub times: Vec<f64>,
    pub summary: Summary,
    /// Process CPU seconds (user + system, getrusage deltas) per run: less sensitive than wall
    /// time to other processes competing for the cores.
    pub cpu_times: Vec<f64>,
    pub cpu_median: f64,
    pub inputs_per_s: f64,
}

/// The whole `race-block` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockRace {
    pub block: String,
    pub inputs: usize,
    pub threads: usize,
    pub results: Vec<BlockEngineResult>,
    /// Core time / Sluice time, pair by pair (above 1 means Sluice is faster).
    pub speedup_pairs: Vec<f64>,
    pub speedup_median: f64,
    /// Core CPU / Sluice CPU, pair by pair.
    pub cpu_speedup_median: f64,
    /// Load average (1 min) before the race, from /proc/loadavg.
    pub load_average: String,
}

/// The kernel's view of a block's inputs, built once outside the timed region.
pub struct KernelInputs {
    txs: Vec<(Transaction, Vec<TxOut>)>,
}

impl std::fmt::Debug for KernelInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KernelInputs")
            .field("transactions", &self.txs.len())
            .finish()
    }
}

impl KernelInputs {
    /// Converts the block's transactions and spent outputs into kernel objects.
    ///
    /// # Errors
    /// The kernel refusing a transaction or script serialization.
    pub fn new(block: &BlockInputs) -> anyhow::Result<Self> {
        let mut txs = Vec::with_capacity(block.txs.len());
        for t in &block.txs {
            let tx = Transaction::new(&t.raw).map_err(|e| anyhow::anyhow!("kernel tx: {e}"))?;
            let mut outs = Vec::with_capacity(t.prevouts.len());
            for p in &t.prevouts {
                let spk = ScriptPubkey::new(&p.script_pubkey)
                    .map_err(|e| anyhow::anyhow!("kernel script: {e}"))?;
                let value = i64::try_from(p.value)?;
                outs.push(TxOut::new(&spk, value));
            }
            txs.push((tx, outs));
        }
        Ok(Self { txs })
    }
}

/// Verifies every input with the kernel on `pool`; returns seconds and the failing inputs
/// as (transaction index, input index).
///
/// # Errors
/// The kernel failing to precompute transaction data.
pub fn run_core(
    inputs: &KernelInputs,
    pool: &rayon::ThreadPool,
) -> anyhow::Result<(f64, Vec<(usize, usize)>)> {
    let start = Instant::now();
    let (precomputed, failures) = pool.install(|| {
        let pre: Result<Vec<PrecomputedTransactionData>, _> = inputs
            .txs
            .par_iter()
            .map(|(tx, outs)| PrecomputedTransactionData::new(tx, outs.as_slice()))
            .collect();
        let pre = match pre {
            Ok(p) => p,
            Err(e) => return (Err(e), Vec::new()),
        };
        let failures: Vec<(usize, usize)> = inputs
            .txs
            .par_iter()
            .enumerate()
            .flat_map_iter(|(ti, (tx, outs))| {
                let pre = &pre[ti];
                outs.iter().enumerate().filter_map(move |(ii, out)| {
                    verify(
                        &out.script_pubkey(),
                        Some(out.value()),
                        tx,
                        ii,
                        Some(VERIFY_ALL),
                        pre,
                    )
                    .err()
                    .map(|_| (ti, ii))
                })
            })
            .collect();
        (Ok(pre), failures)
    });
    let secs = start.elapsed().as_secs_f64();
    precomputed.map_err(|e| anyhow::anyhow!("precompute: {e}"))?;
    Ok((secs, failures))
}

/// Summarises per-run times of one engine.
///
/// # Errors
/// No runs or non-finite times.
pub fn engine_result(
    engine: &str,
    times: Vec<f64>,
    cpu_times: Vec<f64>,
    inputs: usize,
) -> Result<BlockEngineResult, stats::StatsError> {
    let summary = stats::summarize(&times)?;
    let cpu_median = stats::median(&cpu_times)?;
    let rates: Vec<f64> = times
        .iter()
        .map(|t| stats::rate(inputs as u64, *t))
        .collect();
    Ok(BlockEngineResult {
        engine: engine.to_owned(),
        inputs_per_s: stats::median(&rates)?,
        summary,
        times,
        cpu_times,
        cpu_median,
    })
}

/// Sluice's parsed view of a block's inputs (zero-copy, borrowing the raw transactions),
/// built once outside the timed region like [`KernelInputs`].
#[derive(Debug)]
pub struct SluiceInputs<'a> {
    txs: Vec<(SluiceTx<'a>, Vec<SpentOutput<'a>>)>,
}

impl<'a> SluiceInputs<'a> {
    /// Parses every transaction with Sluice's consensus parser.
    ///
    /// # Errors
    /// A transaction Sluice cannot parse, or an amount out of range.
    pub fn new(block: &'a BlockInputs) -> anyhow::Result<Self> {
        let mut txs = Vec::with_capacity(block.txs.len());
        for t in &block.txs {
            let tx = SluiceTx::parse_exact(&t.raw)
                .map_err(|e| anyhow::anyhow!("sluice tx parse: {e:?}"))?;
            let spent = t
                .prevouts
                .iter()
                .map(|p| {
                    Ok(SpentOutput {
                        value: i64::try_from(p.value)?,
                        script_pubkey: &p.script_pubkey,
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            txs.push((tx, spent));
        }
        Ok(Self { txs })
    }
}

/// The consensus flags the kernel's `VERIFY_ALL` means (all soft forks through taproot).
#[must_use]
pub fn sluice_flags() -> ScriptFlags {
    ScriptFlags::P2SH
        | ScriptFlags::DERSIG
        | ScriptFlags::NULLDUMMY
        | ScriptFlags::CHECKLOCKTIMEVERIFY
        | ScriptFlags::CHECKSEQUENCEVERIFY
        | ScriptFlags::WITNESS
        | ScriptFlags::TAPROOT
}

/// How Sluice's signature checks are made in a `race-block` run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SluiceMode {
    /// Schnorr signatures deferred and batch-verified (one batch per thread), else in place.
    pub schnorr_batch: bool,
    /// Deferrable ECDSA checks recorded and verified in groups by this backend (what the
    /// pipeline's script stage does), else every check in place.
    pub ecdsa: Option<EcdsaBackend>,
}

impl SluiceMode {
    /// Everything in place, one signature at a time.
    pub const IN_PLACE: SluiceMode = SluiceMode {
        schnorr_batch: false,
        ecdsa: None,
    };

    /// What the pipeline does: Schnorr batched, deferrable ECDSA to the detected backend.
    #[must_use]
    pub fn pipeline() -> SluiceMode {
        SluiceMode {
            schnorr_batch: true,
            ecdsa: Some(EcdsaBackend::detect()),
        }
    }
}

/// Per-thread accumulator of [`run_sluice`]: failing inputs, deferred Schnorr and ECDSA checks,
/// and the input of each ECDSA check.
type Acc = (
    Vec<(usize, usize)>,
    Vec<SchnorrItem>,
    Vec<EcdsaItem>,
    Vec<(usize, usize)>,
);

/// Verifies every input with Sluice on `pool`: `verify_input` per input in parallel, with
/// signatures deferred as `mode` says; then the deferred Schnorr signatures batch-verified (one
/// batch per thread) and the deferred ECDSA checks in groups. Returns seconds and failures
/// (a failed Schnorr batch is reported as `(usize::MAX, index in batch)`, a failed ECDSA check
/// as its input).
///
/// # Errors
/// A vector backend disagreeing with libsecp256k1.
pub fn run_sluice(
    inputs: &SluiceInputs<'_>,
    pool: &rayon::ThreadPool,
    mode: SluiceMode,
) -> anyhow::Result<(f64, Vec<(usize, usize)>)> {
    let flags = sluice_flags();
    let randomness: [u8; 32] = rand::random();
    let start = Instant::now();
    let failures = pool.install(|| -> anyhow::Result<Vec<(usize, usize)>> {
        // A fresh key memo per run, so no run profits from an earlier one.
        let keys = PubkeyCache::default();
        let pre: Vec<PrecomputedTxData> = inputs
            .txs
            .par_iter()
            .map(|(tx, spent)| PrecomputedTxData::new(tx, spent))
            .collect();
        // Inputs, not transactions, are the unit of work: one large transaction must not
        // leave a thread waiting at the end.
        let work: Vec<(usize, usize)> = inputs
            .txs
            .iter()
            .enumerate()
            .flat_map(|(ti, (_, spent))| (0..spent.len()).map(move |ii| (ti, ii)))
            .collect();
        let (mut failures, items, ecdsa, owners) = work
            .par_iter()
            .with_min_len(8)
            .fold(Acc::default, |mut acc, &(ti, ii)| {
                let (fails, items, ecdsa, owners) = &mut acc;
                let deferral = Deferral {
                    schnorr: mode.schnorr_batch.then_some(&mut *items),
                    ecdsa: mode.ecdsa.is_some().then_some(&mut *ecdsa),
                };
                let ok = match (inputs.txs.get(ti), pre.get(ti)) {
                    (Some((tx, spent)), Some(pre)) => {
                        verify_input_deferring(tx, ii, spent, pre, flags, deferral, Some(&keys))
                            .is_ok()
                    }
                    _ => false,
                };
                if !ok {
                    fails.push((ti, ii));
                }
                owners.resize(ecdsa.len(), (ti, ii));
                acc
            })
            .reduce(Acc::default, |mut a, b| {
                a.0.extend(b.0);
                a.1.extend(b.1);
                a.2.extend(b.2);
                a.3.extend(b.3);
                a
            });
        if let Some(backend) = mode.ecdsa {
            let bad: Vec<Vec<usize>> = ecdsa
                .par_chunks(ECDSA_GROUP)
                .enumerate()
                .map(|(c, group)| {
                    verify_ecdsa_items(backend, group)
                        .map(|f| f.into_iter().map(|i| c * ECDSA_GROUP + i).collect())
                })
                .collect::<Result<_, _>>()?;
            failures.extend(bad.into_iter().flatten().filter_map(|i| owners.get(i)));
        }
        if !items.is_empty() {
            let chunk = items.len().div_ceil(rayon::current_num_threads().max(1));
            let batch_failures: Vec<(usize, usize)> = items
                .par_chunks(chunk)
                .flat_map_iter(|c| {
                    let mut bv = BatchVerifier::with_capacity(c.len());
                    for it in c {
                        bv.push(it.msg, it.pubkey, it.sig);
                    }
                    match bv.verify(randomness) {
                        Ok(()) => Vec::new(),
                        // A disagreement with libsecp256k1 counts as a failure: the race
                        // then reports the engines disagreeing instead of a time.
                        Err(f) => f
                            .failing
                            .iter()
                            .chain(&f.disagreements)
                            .map(|i| (usize::MAX, *i))
                            .collect(),
                    }
                })
                .collect();
            failures.extend(batch_failures);
        }
        Ok(failures)
    })?;
    Ok((start.elapsed().as_secs_f64(), failures))
}

/// The race as a small Markdown table.
#[must_use]
pub fn render(r: &BlockRace) -> String {
    let mut s = format!(
        "race-block {} — {} inputs, {} threads, load average {}\n\n| engine | median ms | min ms | max ms | CPU ms (median) | inputs/s |\n|---|---|---|---|---|---|\n",
        r.block, r.inputs, r.threads, r.load_average
    );
    for e in &r.results {
        s.push_str(&format!(
            "| {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.0} |\n",
            e.engine,
            e.summary.median * 1e3,
            e.summary.min * 1e3,
            e.summary.max * 1e3,
            e.cpu_median * 1e3,
            e.inputs_per_s
        ));
    }
    s.push_str(&format!(
        "\nCore/Sluice wall time, pair by pair: median {:.3}× (target ≥ 1.3×); CPU time: median {:.3}×\n",
        r.speedup_median, r.cpu_speedup_median
    ));
    s
}
