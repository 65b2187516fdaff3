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

use crate::block_inputs::BlockInputs;
use crate::stats::{self, Summary};

/// One engine's figures for the block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockEngineResult {
    pub engine: String,
    pub times: Vec<f64>,
    pub summary: Summary,
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
}

/// The kernel's view of a block's inputs, built once outside the timed region.
#[derive(Debug)]
pub struct KernelInputs {
    txs: Vec<(Transaction, Vec<TxOut>)>,
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
            .map(|(tx, outs)| PrecomputedTransactionData::new(tx, outs))
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
    inputs: usize,
) -> Result<BlockEngineResult, stats::StatsError> {
    let summary = stats::summarize(&times)?;
    let rates: Vec<f64> = times.iter().map(|t| stats::rate(inputs as u64, *t)).collect();
    Ok(BlockEngineResult {
        engine: engine.to_owned(),
        inputs_per_s: stats::median(&rates)?,
        summary,
        times,
    })
}

/// Verifies every input with Sluice (`verify_input` + batch Schnorr) on `pool`.
///
/// # Errors
/// Always, until the `core` branch's `script::verify_input` lands on this branch.
pub fn run_sluice(
    block: &BlockInputs,
    _pool: &rayon::ThreadPool,
) -> anyhow::Result<(f64, Vec<(usize, usize)>)> {
    anyhow::bail!(
        "sluice script verification unavailable: sluice_consensus::script::verify_input has not \
         landed ({} inputs not verified)",
        block.input_count()
    )
}

/// The race as a small Markdown table.
#[must_use]
pub fn render(r: &BlockRace) -> String {
    let mut s = format!(
        "race-block {} — {} inputs, {} threads\n\n| engine | median ms | min ms | max ms | inputs/s |\n|---|---|---|---|---|\n",
        r.block, r.inputs, r.threads
    );
    for e in &r.results {
        s.push_str(&format!(
            "| {} | {:.2} | {:.2} | {:.2} | {:.0} |\n",
            e.engine,
            e.summary.median * 1e3,
            e.summary.min * 1e3,
            e.summary.max * 1e3,
            e.inputs_per_s
        ));
    }
    s.push_str(&format!(
        "\nCore/Sluice time, pair by pair: median {:.3}× (target ≥ 1.3×)\n",
        r.speedup_median
    ));
    s
}
