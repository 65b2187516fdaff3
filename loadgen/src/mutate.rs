//! Invalid-block mutants: each breaks exactly one consensus rule on top of a valid prefix.
//!
//! Every mutant replaces the chain's last block (it extends the prefix ending at the tip's
//! parent). Mutants that add transactions sign them properly, and every mutant except the
//! bad-PoW one has its nonce re-ground, so only the labelled rule is broken.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use bitcoin::absolute::LockTime;
use bitcoin::consensus::{deserialize, serialize};
use bitcoin::{Amount, Block, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness};
use serde::{Deserialize, Serialize};
use sluice_storage::blockfile::{
    list_block_files, read_block_file, BlockFileWriter, MAGIC_REGTEST,
};

use crate::block::{self, block_time, subsidy, CoinbaseSpec, COINBASE_MATURITY};
use crate::generate::aux_seed;
use crate::rules::RULES;
use crate::sign::{sign_tx, Spend};
use crate::wallet::{SpendKind, Wallet};
use crate::{LoadgenError, Manifest};

/// Label written next to each mutant block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MutantLabel {
    /// Rule identifier, e.g. `immature-coinbase-spend`.
    pub rule: String,
    pub description: String,
    /// Core's reject reason (`BlockValidationState::GetRejectReason`).
    pub expected_reason: String,
    /// Height and display-order hash of the valid block this mutant builds on.
    pub prefix_height: u32,
    pub prefix_hash: String,
    pub block_hash: String,
    /// Block file holding the mutant, relative to the mutants directory.
    pub file: String,
    /// The boundary twin (same construction, rule just respected), which Core must accept.
    pub twin_file: Option<String>,
}

/// One mutant: its label and serialized block.
#[derive(Debug, Clone)]
pub struct Mutant {
    pub label: MutantLabel,
    pub block: Vec<u8>,
    /// Serialized boundary twin, if the rule has one.
    pub twin: Option<Vec<u8>>,
}

/// Reads a generated chain directory: its manifest and blocks in file order.
///
/// # Errors
/// Missing or malformed manifest, unreadable files, undecodable blocks.
pub fn read_chain(dir: &Path) -> Result<(Manifest, Vec<Block>), LoadgenError> {
    let mpath = dir.join("manifest.json");
    let text = std::fs::read(&mpath).map_err(|source| LoadgenError::Io {
        path: mpath.clone(),
        source,
    })?;
    let manifest: Manifest = serde_json::from_slice(&text).map_err(|e| LoadgenError::Manifest {
        path: mpath.clone(),
        msg: e.to_string(),
    })?;
    let mut blocks = Vec::new();
    for file in list_block_files(dir)? {
        for rec in read_block_file(&file, MAGIC_REGTEST)?.blocks {
            let b: Block = deserialize(&rec.bytes).map_err(|e| LoadgenError::Chain {
                path: file.clone(),
                msg: format!("record at offset {}: {e}", rec.offset),
            })?;
            blocks.push(b);
        }
    }
    Ok((manifest, blocks))
}

#[derive(Debug, Clone)]
pub(crate) struct Coin {
    pub out: TxOut,
    pub height: u32,
    pub coinbase: bool,
}

/// A wallet coin with the kind and key that can spend it.
pub(crate) type Owned = (OutPoint, Coin, SpendKind, u16);

/// What rule builders need: the prefix, its coins, and the tip block's transactions.
pub(crate) struct Ctx<'a> {
    pub wallet: &'a Wallet,
    pub seed: u64,
    /// Height of the mutant (the tip's height).
    pub height: u32,
    pub prefix: &'a Block,
    /// Coins after the prefix.
    pub utxo: HashMap<OutPoint, Coin>,
    /// The tip's transactions (capped at 3 MWU so added transactions fit).
    pub base_txs: Vec<Transaction>,
    pub base_fees: u64,
    pub prev_times: Vec<u32>,
    /// Mature wallet coins not spent by `base_txs`, oldest first.
    pub spare: Vec<Owned>,
    /// The newest wallet coinbase (immature at `height`).
    pub immature_cb: Option<Owned>,
    /// The wallet coinbase exactly 100 blocks below `height` (just mature), unless `base_txs`
    /// already spend it.
    pub just_mature_cb: Option<Owned>,
    /// Whether `base_txs` spend the coinbase exactly 100 blocks below `height`.
    pub base_spends_just_mature: bool,
    /// A wallet coin spent by an earlier block.
    pub spent_earlier: Option<Owned>,
    counter: std::cell::Cell<u64>,
}

fn chain_err(dir: &Path, msg: impl Into<String>) -> LoadgenError {
    LoadgenError::Chain {
        path: dir.to_path_buf(),
        msg: msg.into(),
    }
}

pub(crate) fn mutant_err(rule: &str, msg: impl Into<String>) -> LoadgenError {
    LoadgenError::Mutant {
        rule: rule.to_owned(),
        msg: msg.into(),
    }
}

impl Ctx<'_> {
    pub(crate) fn spare(&self, n: usize, rule: &str) -> Result<&Owned, LoadgenError> {
        self.spare
            .get(n)
            .ok_or_else(|| mutant_err(rule, "not enough spare mature coins in the chain"))
    }

    /// A signed transaction spending `inputs` to `outputs`.
    pub(crate) fn tx(
        &self,
        inputs: &[(OutPoint, TxOut, Spend, Sequence)],
        outputs: Vec<TxOut>,
        lock_time: LockTime,
    ) -> Result<Transaction, LoadgenError> {
        let mut tx = Transaction {
            version: bitcoin::transaction::Version::TWO,
            lock_time,
            input: inputs
                .iter()
                .map(|(op, _, _, seq)| TxIn {
                    previous_output: *op,
                    script_sig: ScriptBuf::new(),
                    sequence: *seq,
                    witness: Witness::new(),
                })
                .collect(),
            output: outputs,
        };
        let prevouts: Vec<TxOut> = inputs.iter().map(|i| i.1.clone()).collect();
        let spends: Vec<Spend> = inputs.iter().map(|i| i.2.clone()).collect();
        let n = self.counter.get();
        self.counter.set(n + 1);
        let aux = aux_seed(self.seed ^ 0x6d75_7461_6e74, self.height, n as usize);
        sign_tx(&mut tx, &prevouts, &spends, self.wallet, &aux)?;
        Ok(tx)
    }

    /// Spends a wallet coin to one output of `spk`, paying `fee`.
    pub(crate) fn simple_spend(
        &self,
        coin: &Owned,
        spk: ScriptBuf,
        fee: u64,
        seq: Sequence,
        lock_time: LockTime,
    ) -> Result<Transaction, LoadgenError> {
        let (op, c, kind, key) = coin;
        let value = c.out.value.to_sat().saturating_sub(fee);
        self.tx(
            &[(
                *op,
                c.out.clone(),
                Spend::Wallet {
                    kind: *kind,
                    key: *key,
                },
                seq,
            )],
            vec![TxOut {
                value: Amount::from_sat(value),
                script_pubkey: spk,
            }],
            lock_time,
        )
    }

    pub(crate) fn coinbase(&self) -> CoinbaseSpec {
        CoinbaseSpec {
            bip34_height: self.height,
            value: subsidy(self.height) + self.base_fees,
            script_pubkey: self.wallet.spk(SpendKind::P2wpkh, 0).clone(),
            commitment_override: None,
        }
    }

    /// The block at this height on the prefix with coinbase `cb` and then `txs`.
    pub(crate) fn assemble(&self, cb: &CoinbaseSpec, txs: Vec<Transaction>) -> Block {
        block::assemble(self.prefix.block_hash(), block_time(self.height), cb, txs)
    }

    /// The base transactions plus `extra`, under the usual coinbase.
    pub(crate) fn with_txs(&self, extra: Vec<Transaction>) -> Block {
        let mut txs = self.base_txs.clone();
        txs.extend(extra);
        self.assemble(&self.coinbase(), txs)
    }
}

/// Builds every mutant of the chain in `chain_dir`, writing `<rule>/blk00000.dat` and
/// `<rule>/label.json` under `out_dir`, plus `mutants.json`.
///
/// # Errors
/// Unreadable chain, a chain too short (needs >= 102 blocks) or unwritable output.
#[allow(clippy::too_many_lines)]
pub fn mutate(chain_dir: &Path, out_dir: &Path) -> Result<Vec<Mutant>, LoadgenError> {
    let (manifest, blocks) = read_chain(chain_dir)?;
    let tip = blocks.len().saturating_sub(1);
    if tip < COINBASE_MATURITY as usize + 2 {
        return Err(chain_err(
            chain_dir,
            format!("{} blocks: mutants need at least 102", tip),
        ));
    }
    let height = tip as u32;
    let wallet = Wallet::new(manifest.seed);
    // Replay the prefix (all but the tip) to know every coin and which were spent when.
    let mut utxo: HashMap<OutPoint, Coin> = HashMap::new();
    let mut spent_earlier = None;
    for (h, b) in blocks.iter().enumerate().take(tip) {
        for (i, tx) in b.txdata.iter().enumerate() {
            if i > 0 {
                for inp in &tx.input {
                    if let Some(c) = utxo.remove(&inp.previous_output) {
                        if !c.coinbase {
                            if let Some((k, key)) = wallet.owner(&c.out.script_pubkey) {
                                spent_earlier = Some((inp.previous_output, c, k, key));
                            }
                        }
                    }
                }
            }
            let txid = tx.compute_txid();
            for (n, o) in tx.output.iter().enumerate() {
                if !o.script_pubkey.is_op_return() {
                    utxo.insert(
                        OutPoint::new(txid, n as u32),
                        Coin {
                            out: o.clone(),
                            height: h as u32,
                            coinbase: i == 0,
                        },
                    );
                }
            }
        }
    }
    let (Some(prefix), Some(tip_block)) = (blocks.get(tip - 1), blocks.get(tip)) else {
        return Err(chain_err(chain_dir, "missing blocks"));
    };
    // Base transactions: the tip's, capped at 3 MWU so added transactions fit.
    let mut base_txs = Vec::new();
    let mut w = 0u64;
    for tx in tip_block.txdata.iter().skip(1) {
        w += tx.weight().to_wu();
        if w > 3_000_000 {
            break;
        }
        base_txs.push(tx.clone());
    }
    let mut base_fees = 0u64;
    let mut used: HashSet<OutPoint> = HashSet::new();
    for tx in &base_txs {
        let mut inv = 0u64;
        for i in &tx.input {
            used.insert(i.previous_output);
            inv = inv.saturating_add(
                utxo.get(&i.previous_output)
                    .map_or(0, |c| c.out.value.to_sat()),
            );
        }
        // Saturating: a hand-made chain directory may hold any amounts.
        let outv = tx
            .output
            .iter()
            .fold(0u64, |a, o| a.saturating_add(o.value.to_sat()));
        base_fees = base_fees.saturating_add(inv.saturating_sub(outv));
    }
    let owned = |op: &OutPoint, c: &Coin| {
        wallet
            .owner(&c.out.script_pubkey)
            .map(|(k, key)| (*op, c.clone(), k, key))
    };
    let mut spare: Vec<_> = utxo
        .iter()
        .filter(|(op, c)| {
            !used.contains(op)
                && c.out.value.to_sat() > 100_000
                && (!c.coinbase || c.height + COINBASE_MATURITY <= height)
        })
        .filter_map(|(op, c)| owned(op, c))
        .collect();
    spare.sort_by_key(|(op, c, _, _)| (c.height, op.txid, op.vout));
    spare.truncate(16);
    let immature_cb = utxo
        .iter()
        .filter(|(op, c)| {
            c.coinbase && c.height + COINBASE_MATURITY > height && !used.contains(*op)
        })
        .filter_map(|(op, c)| owned(op, c))
        .max_by_key(|(op, c, _, _)| (c.height, op.txid));
    let just_mature_cb = utxo
        .iter()
        .filter(|(op, c)| {
            // Not one the block's own transactions already spend: the twin must be valid.
            c.coinbase && c.height + COINBASE_MATURITY == height && !used.contains(*op)
        })
        .find_map(|(op, c)| owned(op, c));
    let base_spends_just_mature = utxo
        .iter()
        .any(|(op, c)| c.coinbase && c.height + COINBASE_MATURITY == height && used.contains(op));
    let prev_times: Vec<u32> = blocks[..tip].iter().map(|b| b.header.time).collect();
    let ctx = Ctx {
        wallet: &wallet,
        seed: manifest.seed,
        height,
        prefix,
        utxo,
        base_txs,
        base_fees,
        prev_times,
        spare,
        immature_cb,
        just_mature_cb,
        base_spends_just_mature,
        spent_earlier,
        counter: std::cell::Cell::new(0),
    };
    std::fs::create_dir_all(out_dir).map_err(|source| LoadgenError::OutputDir {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for (rule, description, reason, build) in RULES {
        let Some(block) = build(&ctx, rule, true)? else {
            return Err(mutant_err(rule, "builder made no mutant"));
        };
        let bytes = serialize(&block);
        let dir = out_dir.join(rule);
        write_block(&dir, &bytes)?;
        let twin = build(&ctx, rule, false)?.map(|b| serialize(&b));
        if let Some(t) = &twin {
            write_block(&dir.join("twin"), t)?;
        }
        let label = MutantLabel {
            rule: rule.to_owned(),
            description: description.to_owned(),
            expected_reason: reason.to_owned(),
            prefix_height: height - 1,
            prefix_hash: prefix.block_hash().to_string(),
            block_hash: block.block_hash().to_string(),
            file: format!("{rule}/blk00000.dat"),
            twin_file: twin.as_ref().map(|_| format!("{rule}/twin/blk00000.dat")),
        };
        write_json(&dir.join("label.json"), &label)?;
        out.push(Mutant {
            label,
            block: bytes,
            twin,
        });
    }
    let labels: Vec<&MutantLabel> = out.iter().map(|m| &m.label).collect();
    write_json(&out_dir.join("mutants.json"), &labels)?;
    Ok(out)
}

fn write_json(path: &PathBuf, v: &impl Serialize) -> Result<(), LoadgenError> {
    let json = serde_json::to_vec_pretty(v).map_err(|e| LoadgenError::Manifest {
        path: path.clone(),
        msg: e.to_string(),
    })?;
    std::fs::write(path, json).map_err(|source| LoadgenError::Io {
        path: path.clone(),
        source,
    })
}

fn write_block(dir: &Path, bytes: &[u8]) -> Result<(), LoadgenError> {
    let mut writer = BlockFileWriter::create(dir, MAGIC_REGTEST)?;
    writer.append(bytes)?;
    writer.flush()?;
    Ok(())
}
