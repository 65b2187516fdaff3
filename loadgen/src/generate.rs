//! Chain generation: warm-up (coinbases + fan-out), then profile-shaped blocks up to the target
//! weight, signed in parallel, written as Core-framed `blk?????.dat` files plus `manifest.json`.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::time::Instant;

use bitcoin::absolute::LockTime;
use bitcoin::consensus::serialize;
use bitcoin::hashes::{sha256, Hash};
use bitcoin::{Amount, OutPoint, Sequence, Transaction, TxIn, TxOut, Witness};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sluice_storage::blockfile::{BlockFileWriter, MAGIC_REGTEST};

use crate::block::{
    assemble, block_time, subsidy, CoinbaseSpec, COINBASE_MATURITY, MAX_BLOCK_SIGOPS_COST,
    MAX_BLOCK_WEIGHT,
};
use crate::sign::{sign_tx, SigCounts, Spend};
use crate::wallet::{SpendKind, Wallet, N_KEYS};
use crate::{LoadgenError, Profile};

/// Default block weight target: full blocks with room for the coinbase.
pub const FULL_BLOCK_WEIGHT: u64 = 3_990_000;
/// Blocks per manifest range.
pub const RANGE_BLOCKS: u32 = 100;
/// Smallest output value the generator creates (sat).
const MIN_VALUE: u64 = 10_000;
/// Value of each output of a fan-out transaction (sat) and their maximum number.
const FANOUT_VALUE: u64 = 200_000;
const FANOUT_MAX: u64 = 1_000;
/// Weight kept free for the coinbase.
const COINBASE_RESERVE: u64 = 1_000;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSpec {
    pub profile: String,
    /// Blocks after genesis (>= 1).
    pub blocks: u32,
    pub seed: u64,
    /// Block weight to fill to after warm-up (4,000..=4,000,000).
    pub target_weight: u64,
    /// Signing threads (an explicit rayon pool of this size is built).
    pub threads: usize,
}

impl ChainSpec {
    /// Full blocks, one signing thread per core.
    #[must_use]
    pub fn new(profile: &str, blocks: u32, seed: u64) -> Self {
        ChainSpec {
            profile: profile.to_owned(),
            blocks,
            seed,
            target_weight: FULL_BLOCK_WEIGHT,
            threads: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        }
    }

    /// Small blocks (60 kWU) on 2 threads: the differential tests' chains, which run in
    /// seconds.
    #[must_use]
    pub fn small(profile: &str, blocks: u32, seed: u64) -> Self {
        ChainSpec {
            target_weight: 60_000,
            threads: 2,
            ..Self::new(profile, blocks, seed)
        }
    }
}

/// Signature counts by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigStats {
    pub ecdsa: u64,
    pub schnorr_key_path: u64,
    pub schnorr_script_path: u64,
}

/// Counts over a range of heights (inclusive).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeStats {
    pub from_height: u32,
    pub to_height: u32,
    pub blocks: u64,
    /// Transactions including coinbases.
    pub txs: u64,
    /// Non-coinbase inputs.
    pub inputs: u64,
    pub inputs_by_type: BTreeMap<String, u64>,
    pub outputs: u64,
    pub signatures: SigStats,
    pub bytes: u64,
    pub weight: u64,
}

impl RangeStats {
    fn add(&mut self, o: &RangeStats) {
        self.blocks += o.blocks;
        self.txs += o.txs;
        self.inputs += o.inputs;
        for (k, v) in &o.inputs_by_type {
            *self.inputs_by_type.entry(k.clone()).or_default() += v;
        }
        self.outputs += o.outputs;
        self.signatures.ecdsa += o.signatures.ecdsa;
        self.signatures.schnorr_key_path += o.signatures.schnorr_key_path;
        self.signatures.schnorr_script_path += o.signatures.schnorr_script_path;
        self.bytes += o.bytes;
        self.weight += o.weight;
    }
}

/// Wall-clock figures of one run (not written to `manifest.json`, which is deterministic).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timing {
    pub elapsed_secs: f64,
    pub signed_inputs_per_sec: f64,
    pub signatures_per_sec: f64,
    pub blocks_per_sec: f64,
}

/// `manifest.json`: what was generated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub profile: String,
    pub seed: u64,
    pub target_weight: u64,
    /// Network magic of the block files, hex.
    pub magic: String,
    pub tip_height: u32,
    /// Tip hash in display (RPC) byte order.
    pub tip_hash: String,
    pub ranges: Vec<RangeStats>,
    pub totals: RangeStats,
    /// Unspent outputs after the tip (every non-OP_RETURN output is the wallet's).
    pub final_utxo_count: u64,
    #[serde(skip)]
    pub timing: Timing,
}

/// A wallet coin.
#[derive(Debug, Clone)]
pub(crate) struct Utxo {
    pub outpoint: OutPoint,
    pub value: u64,
    pub kind: SpendKind,
    pub key: u16,
    pub height: u32,
}

struct Planned {
    tx: Transaction,
    prevouts: Vec<TxOut>,
    spends: Vec<Spend>,
    kinds: Vec<SpendKind>,
    out_meta: Vec<(SpendKind, u16)>,
    fee: u64,
}

pub(crate) fn aux_seed(seed: u64, height: u32, index: usize) -> [u8; 32] {
    let mut d = b"sluice-loadgen aux".to_vec();
    d.extend_from_slice(&seed.to_le_bytes());
    d.extend_from_slice(&height.to_le_bytes());
    d.extend_from_slice(&(index as u64).to_le_bytes());
    sha256::Hash::hash(&d).to_byte_array()
}

/// Longest chain generated: block times (genesis + 600 s per block) must fit a u32.
pub const MAX_BLOCKS: u32 = 1_000_000;

fn check_spec(spec: &ChainSpec) -> Result<Profile, LoadgenError> {
    let profile = Profile::by_name(&spec.profile)?;
    if spec.blocks == 0 {
        return Err(LoadgenError::ZeroBlocks);
    }
    if spec.blocks > MAX_BLOCKS {
        return Err(LoadgenError::TooManyBlocks(spec.blocks));
    }
    if spec.threads == 0 {
        return Err(LoadgenError::ZeroThreads);
    }
    if !(4_000..=MAX_BLOCK_WEIGHT).contains(&spec.target_weight) {
        return Err(LoadgenError::TargetWeight(spec.target_weight));
    }
    Ok(profile)
}

/// Generates the chain described by `spec` into `out_dir` (created if missing).
///
/// # Errors
/// Unknown profile, zero blocks/threads, bad target weight, unwritable directory, signing.
pub fn generate(spec: &ChainSpec, out_dir: &Path) -> Result<Manifest, LoadgenError> {
    let profile = check_spec(spec)?;
    std::fs::create_dir_all(out_dir).map_err(|source| LoadgenError::OutputDir {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(spec.threads)
        .build()
        .map_err(|e| LoadgenError::ThreadPool(e.to_string()))?;
    let mut writer = BlockFileWriter::create(out_dir, MAGIC_REGTEST).map_err(|e| match e {
        sluice_storage::blockfile::BlockFileError::Io { path, source } => {
            LoadgenError::OutputDir { path, source }
        }
        other => other.into(),
    })?;
    let wallet = Wallet::new(spec.seed);
    let mut rng = ChaCha20Rng::seed_from_u64(spec.seed);
    let mut coins: Vec<Utxo> = Vec::new();
    let mut immature: VecDeque<Utxo> = VecDeque::new();
    let genesis = bitcoin::blockdata::constants::genesis_block(bitcoin::Network::Regtest);
    let mut prev = genesis.block_hash();
    // Like Core's own blk00000.dat, the files start with the genesis block (height = index).
    writer.append(&serialize(&genesis))?;
    let mut ranges: Vec<RangeStats> = Vec::new();
    let mut totals = RangeStats {
        from_height: 1,
        ..RangeStats::default()
    };
    let bar =
        ProgressBar::with_draw_target(Some(u64::from(spec.blocks)), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} blocks {msg} [{elapsed_precise}<{eta}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let start = Instant::now();
    let want_pool = (spec.target_weight / 250) as usize * 2;
    for h in 1..=spec.blocks {
        while immature
            .front()
            .is_some_and(|c| c.height + COINBASE_MATURITY <= h)
        {
            if let Some(c) = immature.pop_front() {
                coins.push(c);
            }
        }
        let mut planned = plan_block(&profile, spec, &wallet, &mut rng, &mut coins, h, want_pool);
        let signed: Vec<Result<SigCounts, LoadgenError>> = pool.install(|| {
            planned
                .par_iter_mut()
                .enumerate()
                .map(|(i, p)| {
                    sign_tx(
                        &mut p.tx,
                        &p.prevouts,
                        &p.spends,
                        &wallet,
                        &aux_seed(spec.seed, h, i),
                    )
                })
                .collect()
        });
        let mut stats = RangeStats {
            from_height: h,
            to_height: h,
            blocks: 1,
            ..RangeStats::default()
        };
        let mut sigs = SigCounts::default();
        for s in signed {
            sigs.add(s?);
        }
        let fees: u64 = planned.iter().map(|p| p.fee).sum();
        let cb_kind = profile.pick_kind(&mut rng);
        let cb_key = rng.gen_range(0..N_KEYS) as u16;
        let cb = CoinbaseSpec {
            bip34_height: h,
            value: subsidy(h) + fees,
            script_pubkey: wallet.spk(cb_kind, cb_key).clone(),
            commitment_override: None,
        };
        let mut metas = Vec::with_capacity(planned.len());
        let mut txs = Vec::with_capacity(planned.len());
        for p in planned {
            for k in &p.kinds {
                *stats.inputs_by_type.entry(k.name().to_owned()).or_default() += 1;
                stats.inputs += 1;
            }
            metas.push(p.out_meta);
            txs.push(p.tx);
        }
        let block = assemble(prev, block_time(h), &cb, txs);
        let bytes = serialize(&block);
        let weight = block.weight().to_wu();
        if weight > MAX_BLOCK_WEIGHT {
            return Err(LoadgenError::Chain {
                path: out_dir.to_path_buf(),
                msg: format!("generator bug: block {h} weighs {weight} WU"),
            });
        }
        writer.append(&bytes)?;
        // New coins: this block's outputs are spendable from the next block on.
        let txids: Vec<_> = pool.install(|| {
            block
                .txdata
                .par_iter()
                .map(Transaction::compute_txid)
                .collect()
        });
        immature.push_back(Utxo {
            outpoint: OutPoint::new(txids[0], 0),
            value: cb.value,
            kind: cb_kind,
            key: cb_key,
            height: h,
        });
        for ((tx, txid), meta) in block
            .txdata
            .iter()
            .skip(1)
            .zip(txids.iter().skip(1))
            .zip(metas)
        {
            for (n, (out, (kind, key))) in tx.output.iter().zip(meta).enumerate() {
                coins.push(Utxo {
                    outpoint: OutPoint::new(*txid, n as u32),
                    value: out.value.to_sat(),
                    kind,
                    key,
                    height: h,
                });
            }
            stats.outputs += tx.output.len() as u64;
        }
        stats.txs = block.txdata.len() as u64;
        stats.signatures = SigStats {
            ecdsa: sigs.ecdsa,
            schnorr_key_path: sigs.schnorr_key,
            schnorr_script_path: sigs.schnorr_script,
        };
        stats.bytes = bytes.len() as u64;
        stats.weight = weight;
        tracing::debug!(
            height = h,
            txs = stats.txs,
            inputs = stats.inputs,
            weight,
            pool = coins.len(),
            "block"
        );
        totals.add(&stats);
        match ranges.last_mut() {
            Some(r) if (h - 1) / RANGE_BLOCKS == (r.from_height - 1) / RANGE_BLOCKS => {
                r.add(&stats);
                r.to_height = h;
            }
            _ => ranges.push(stats),
        }
        prev = block.block_hash();
        bar.inc(1);
    }
    writer.flush()?;
    bar.finish_and_clear();
    let elapsed = start.elapsed().as_secs_f64().max(1e-9);
    totals.to_height = spec.blocks;
    let sig_total = totals.signatures.ecdsa
        + totals.signatures.schnorr_key_path
        + totals.signatures.schnorr_script_path;
    let manifest = Manifest {
        profile: spec.profile.clone(),
        seed: spec.seed,
        target_weight: spec.target_weight,
        magic: hex::encode(MAGIC_REGTEST),
        tip_height: spec.blocks,
        tip_hash: prev.to_string(),
        timing: Timing {
            elapsed_secs: elapsed,
            signed_inputs_per_sec: totals.inputs as f64 / elapsed,
            signatures_per_sec: sig_total as f64 / elapsed,
            blocks_per_sec: f64::from(spec.blocks) / elapsed,
        },
        ranges,
        totals,
        final_utxo_count: (coins.len() + immature.len()) as u64,
    };
    let path = out_dir.join("manifest.json");
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| LoadgenError::Manifest {
        path: path.clone(),
        msg: e.to_string(),
    })?;
    std::fs::write(&path, json).map_err(|source| LoadgenError::Io { path, source })?;
    tracing::info!(
        "generated {} blocks, {} tx, {} inputs, {} signatures in {:.1}s: {:.0} signed inputs/s, {:.0} signatures/s",
        spec.blocks,
        manifest.totals.txs,
        manifest.totals.inputs,
        sig_total,
        elapsed,
        manifest.timing.signed_inputs_per_sec,
        manifest.timing.signatures_per_sec
    );
    Ok(manifest)
}

/// Chooses this block's transactions (unsigned) until the weight or sigop budget is reached.
fn plan_block(
    profile: &Profile,
    spec: &ChainSpec,
    wallet: &Wallet,
    rng: &mut ChaCha20Rng,
    coins: &mut Vec<Utxo>,
    h: u32,
    want_pool: usize,
) -> Vec<Planned> {
    let budget = spec.target_weight.saturating_sub(COINBASE_RESERVE);
    let sig_budget = MAX_BLOCK_SIGOPS_COST - 400;
    let (mut used_w, mut used_s) = (0u64, 0u64);
    let mut out = Vec::new();
    // Consecutive transactions that did not fit: a few are tolerated so blocks end close to
    // the target.
    let mut misses = 0;
    while !coins.is_empty() && misses < 32 {
        let n_in = (profile.pick_inputs(rng) as usize).min(coins.len());
        let mut n_out = profile.pick_outputs(rng);
        let mut picked: Vec<Utxo> = Vec::with_capacity(n_in);
        if coins.len() < want_pool {
            // Fan-out while the wallet is too small: split the largest of a few random coins.
            let mut best = rng.gen_range(0..coins.len());
            for _ in 0..15 {
                let i = rng.gen_range(0..coins.len());
                if coins[i].value > coins[best].value {
                    best = i;
                }
            }
            picked.push(coins.swap_remove(best));
            // ...into as many outputs as value and the remaining block weight allow.
            let room = budget.saturating_sub(used_w + 400) / 200;
            let parts = (picked[0].value / FANOUT_VALUE).clamp(2, FANOUT_MAX.min(room.max(2)));
            n_out = u32::try_from(parts).unwrap_or(2);
        } else {
            for _ in 0..n_in {
                picked.push(coins.swap_remove(rng.gen_range(0..coins.len())));
            }
        }
        // Consolidate dust: add inputs until the outputs can be funded (bounded).
        while picked.iter().map(|c| c.value).sum::<u64>()
            < 2 * MIN_VALUE + 400 * (picked.len() as u64 + u64::from(n_out))
            && picked.len() < 50
            && !coins.is_empty()
        {
            picked.push(coins.swap_remove(rng.gen_range(0..coins.len())));
        }
        let in_value: u64 = picked.iter().map(|c| c.value).sum();
        let lock_time = if rng.gen_bool(0.25) {
            LockTime::from_height(h - 1).unwrap_or(LockTime::ZERO)
        } else {
            LockTime::ZERO
        };
        let input: Vec<TxIn> = picked
            .iter()
            .map(|c| {
                let sequence = if rng.gen_bool(0.1) {
                    // BIP68 relative lock the coin already satisfies (confirmations >= lock).
                    Sequence::from_height(u16::try_from((h - c.height).min(10)).unwrap_or(1))
                } else {
                    Sequence::ENABLE_RBF_NO_LOCKTIME
                };
                TxIn {
                    previous_output: c.outpoint,
                    script_sig: bitcoin::ScriptBuf::new(),
                    sequence,
                    witness: Witness::new(),
                }
            })
            .collect();
        let mut out_meta: Vec<(SpendKind, u16)> = (0..n_out)
            .map(|_| (profile.pick_kind(rng), rng.gen_range(0..N_KEYS) as u16))
            .collect();
        let mut tx = Transaction {
            version: bitcoin::transaction::Version::TWO,
            lock_time,
            input,
            output: out_meta
                .iter()
                .map(|(k, i)| TxOut {
                    value: Amount::ZERO,
                    script_pubkey: wallet.spk(*k, *i).clone(),
                })
                .collect(),
        };
        let extra: u64 = picked.iter().map(|c| c.kind.input_extra_weight()).sum();
        // Witness transactions add the marker and flag and one count byte per input.
        let witness_extra = if picked.iter().any(|c| c.kind.has_witness()) {
            2 + picked.len() as u64
        } else {
            0
        };
        let in_sigops: u64 = picked.iter().map(|c| c.kind.input_sigop_cost()).sum();
        let estimate = |tx: &Transaction, meta: &[(SpendKind, u16)]| {
            let weight = tx.weight().to_wu() + extra + witness_extra;
            let sigops = in_sigops + meta.iter().map(|(k, _)| k.output_sigop_cost()).sum::<u64>();
            (weight, sigops, weight.div_ceil(4) * profile.feerate)
        };
        let (mut weight, mut sigops, mut fee) = estimate(&tx, &out_meta);
        let max_outs = in_value.saturating_sub(fee) / MIN_VALUE;
        if max_outs > 0 && u64::from(n_out) > max_outs {
            // Too little value for this many outputs: keep the first max_outs (the fee only
            // drops, so they stay funded).
            tx.output.truncate(usize::try_from(max_outs).unwrap_or(1));
            out_meta.truncate(tx.output.len());
            (weight, sigops, fee) = estimate(&tx, &out_meta);
        }
        if used_w + weight > budget || used_s + sigops > sig_budget || max_outs == 0 {
            coins.extend(picked);
            misses += 1;
            continue;
        }
        let spendable = in_value - fee;
        let n = tx.output.len() as u64;
        let share = spendable / n;
        let mut left = spendable;
        for (i, o) in tx.output.iter_mut().enumerate() {
            let v = if i as u64 + 1 == n {
                left
            } else {
                let jitter = rng.gen_range(0..=share / 10);
                (share - jitter).max(MIN_VALUE)
            };
            o.value = Amount::from_sat(v);
            left -= v;
        }
        used_w += weight;
        used_s += sigops;
        misses = 0;
        out.push(Planned {
            prevouts: picked
                .iter()
                .map(|c| TxOut {
                    value: Amount::from_sat(c.value),
                    script_pubkey: wallet.spk(c.kind, c.key).clone(),
                })
                .collect(),
            spends: picked
                .iter()
                .map(|c| Spend::Wallet {
                    kind: c.kind,
                    key: c.key,
                })
                .collect(),
            kinds: picked.iter().map(|c| c.kind).collect(),
            out_meta,
            tx,
            fee,
        });
    }
    out
}
