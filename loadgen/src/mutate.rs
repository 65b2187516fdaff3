//! Invalid-block mutants: each breaks exactly one consensus rule on top of a valid prefix.
//!
//! Every mutant replaces the chain's last block (it extends the prefix ending at the tip's
//! parent). Mutants that add transactions sign them properly, and every mutant except the
//! bad-PoW one has its nonce re-ground, so only the labelled rule is broken.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use bitcoin::absolute::LockTime;
use bitcoin::consensus::{deserialize, serialize};
use bitcoin::hashes::{sha256, Hash};
use bitcoin::opcodes::all::{OP_CHECKSIG, OP_DROP};
use bitcoin::script::{Builder, PushBytesBuf};
use bitcoin::{
    Amount, Block, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid, Witness,
};
use serde::{Deserialize, Serialize};
use sluice_storage::blockfile::{
    list_block_files, read_block_file, BlockFileWriter, MAGIC_REGTEST,
};

use crate::block::{
    self, block_time, median_time_past, subsidy, CoinbaseSpec, COINBASE_MATURITY, MAX_BLOCK_WEIGHT,
};
use crate::generate::aux_seed;
use crate::sign::{sign_tx, Spend};
use crate::wallet::{SpendKind, Wallet};
use crate::{LoadgenError, Manifest};

/// Label written next to each mutant block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MutantLabel {
    /// Rule identifier, e.g. `immature-coinbase-spend`.
    pub rule: String,
    pub description: String,
    /// Core's reject reason (for script failures, the prefix before the script error).
    pub expected_reason: String,
    /// Height and display-order hash of the valid block this mutant builds on.
    pub prefix_height: u32,
    pub prefix_hash: String,
    pub block_hash: String,
    /// Block file holding the mutant, relative to the mutants directory.
    pub file: String,
}

/// One mutant: its label and serialized block.
#[derive(Debug, Clone)]
pub struct Mutant {
    pub label: MutantLabel,
    pub block: Vec<u8>,
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
struct Coin {
    out: TxOut,
    height: u32,
    coinbase: bool,
}

struct Ctx<'a> {
    wallet: &'a Wallet,
    seed: u64,
    height: u32,
    prefix: &'a Block,
    base_txs: Vec<Transaction>,
    base_fees: u64,
    prev_times: Vec<u32>,
    spare: Vec<(OutPoint, Coin, SpendKind, u16)>,
    immature_cb: Option<(OutPoint, Coin, SpendKind, u16)>,
    spent_earlier: Option<(OutPoint, Coin, SpendKind, u16)>,
    counter: std::cell::Cell<u64>,
}

fn chain_err(dir: &Path, msg: impl Into<String>) -> LoadgenError {
    LoadgenError::Chain {
        path: dir.to_path_buf(),
        msg: msg.into(),
    }
}

fn mutant_err(rule: &str, msg: impl Into<String>) -> LoadgenError {
    LoadgenError::Mutant {
        rule: rule.to_owned(),
        msg: msg.into(),
    }
}

impl Ctx<'_> {
    fn spare(
        &self,
        n: usize,
        rule: &str,
    ) -> Result<&(OutPoint, Coin, SpendKind, u16), LoadgenError> {
        self.spare
            .get(n)
            .ok_or_else(|| mutant_err(rule, "not enough spare mature coins in the chain"))
    }

    /// A signed transaction spending `inputs` to `outputs`.
    fn tx(
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
    fn simple_spend(
        &self,
        coin: &(OutPoint, Coin, SpendKind, u16),
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

    fn coinbase(&self) -> CoinbaseSpec {
        CoinbaseSpec {
            bip34_height: self.height,
            value: subsidy(self.height) + self.base_fees,
            script_pubkey: self.wallet.spk(SpendKind::P2wpkh, 0).clone(),
            commitment_override: None,
        }
    }

    fn with_txs(&self, extra: Vec<Transaction>) -> Block {
        let mut txs = self.base_txs.clone();
        txs.extend(extra);
        block::assemble(
            self.prefix.block_hash(),
            block_time(self.height),
            &self.coinbase(),
            txs,
        )
    }
}

/// Flips the last byte of the signature's `s` (keeps DER valid, breaks the signature).
fn corrupt_sig(sig: &mut [u8], ecdsa: bool) {
    let n = sig.len();
    let i = if ecdsa {
        n.saturating_sub(2)
    } else {
        40.min(n.saturating_sub(1))
    };
    if let Some(b) = sig.get_mut(i) {
        *b ^= 0x01;
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
            inv += utxo
                .get(&i.previous_output)
                .map_or(0, |c| c.out.value.to_sat());
        }
        let outv: u64 = tx.output.iter().map(|o| o.value.to_sat()).sum();
        base_fees += inv.saturating_sub(outv);
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
        .filter(|(_, c)| c.coinbase && c.height + COINBASE_MATURITY > height)
        .filter_map(|(op, c)| owned(op, c))
        .max_by_key(|(op, c, _, _)| (c.height, op.txid));
    let prev_times: Vec<u32> = blocks[..tip].iter().map(|b| b.header.time).collect();
    let ctx = Ctx {
        wallet: &wallet,
        seed: manifest.seed,
        height,
        prefix,
        base_txs,
        base_fees,
        prev_times,
        spare,
        immature_cb,
        spent_earlier,
        counter: std::cell::Cell::new(0),
    };
    let builders: Vec<(&str, &str, &str, Builder_)> = vec![
        (
            "bad-signature-ecdsa",
            "an ECDSA (P2WPKH) signature with one bit flipped, among valid transactions",
            "block-script-verify-flag-failed",
            bad_sig_ecdsa,
        ),
        (
            "bad-signature-schnorr",
            "a Schnorr (P2TR key path) signature with one bit flipped, among valid transactions",
            "block-script-verify-flag-failed",
            bad_sig_schnorr,
        ),
        (
            "missing-output",
            "spends an outpoint that never existed",
            "bad-txns-inputs-missingorspent",
            missing_output,
        ),
        (
            "spent-output",
            "spends an output already spent in an earlier block",
            "bad-txns-inputs-missingorspent",
            spent_output,
        ),
        (
            "double-spend-in-block",
            "two transactions in the block spend the same output",
            "bad-txns-inputs-missingorspent",
            double_spend,
        ),
        (
            "immature-coinbase-spend",
            "spends a coinbase output with fewer than 100 confirmations",
            "bad-txns-premature-spend-of-coinbase",
            immature,
        ),
        (
            "outputs-exceed-inputs",
            "a transaction whose outputs exceed its inputs by 1 sat",
            "bad-txns-in-belowout",
            outputs_exceed,
        ),
        (
            "coinbase-over-subsidy",
            "coinbase claims subsidy + fees + 1 sat",
            "bad-cb-amount",
            coinbase_over,
        ),
        (
            "bad-merkle-root",
            "header merkle root does not match the transactions",
            "bad-txnmrklroot",
            bad_merkle,
        ),
        (
            "merkle-duplicate-txs",
            "last transaction duplicated without changing the merkle root (CVE-2012-2459)",
            "bad-txns-duplicate",
            merkle_dup,
        ),
        (
            "bad-witness-commitment",
            "BIP141 witness commitment hash is wrong",
            "bad-witness-merkle-match",
            bad_commitment,
        ),
        (
            "weight-over-limit",
            "block weight just above 4,000,000 (taproot annex), stripped size within limits",
            "bad-blk-weight",
            weight_over,
        ),
        (
            "sigops-over-limit",
            "an output script of 20,001 OP_CHECKSIG pushes the sigop cost above 80,000",
            "bad-blk-sigops",
            sigops_over,
        ),
        (
            "bad-bip34-height",
            "coinbase scriptSig commits to height + 1",
            "bad-cb-height",
            bad_bip34,
        ),
        (
            "bad-pow",
            "header hash above the regtest target",
            "high-hash",
            bad_pow,
        ),
        (
            "time-not-above-mtp",
            "timestamp equal to the median time past of the previous 11 blocks",
            "time-too-old",
            time_mtp,
        ),
        (
            "non-final-locktime",
            "a transaction with nLockTime = block height and a non-final sequence",
            "bad-txns-nonfinal",
            nonfinal_locktime,
        ),
        (
            "bip68-relative-locktime",
            "an input's BIP68 relative height lock exceeds its confirmations",
            "bad-txns-nonfinal",
            bip68,
        ),
        (
            "oversized-script-element",
            "a P2WSH witness script pushes a 521-byte element (limit 520)",
            "block-script-verify-flag-failed",
            oversized_push,
        ),
    ];
    std::fs::create_dir_all(out_dir).map_err(|source| LoadgenError::OutputDir {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for (rule, description, reason, build) in builders {
        let block = build(&ctx, rule)?;
        let bytes = serialize(&block);
        let dir = out_dir.join(rule);
        let mut writer = BlockFileWriter::create(&dir, MAGIC_REGTEST)?;
        writer.append(&bytes)?;
        writer.flush()?;
        let label = MutantLabel {
            rule: rule.to_owned(),
            description: description.to_owned(),
            expected_reason: reason.to_owned(),
            prefix_height: height - 1,
            prefix_hash: prefix.block_hash().to_string(),
            block_hash: block.block_hash().to_string(),
            file: format!("{rule}/blk00000.dat"),
        };
        write_json(&dir.join("label.json"), &label)?;
        out.push(Mutant {
            label,
            block: bytes,
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

type Builder_ = fn(&Ctx<'_>, &str) -> Result<Block, LoadgenError>;

const FEE: u64 = 2_000;
const RBF: Sequence = Sequence::ENABLE_RBF_NO_LOCKTIME;

/// Funds a fresh output of `kind` (key 7) from a spare coin, then spends it back; returns both
/// transactions with the second's spend description.
fn chain_pair(
    ctx: &Ctx<'_>,
    rule: &str,
    kind: SpendKind,
) -> Result<(Transaction, Transaction), LoadgenError> {
    let coin = ctx.spare(0, rule)?;
    let spk = ctx.wallet.spk(kind, 7).clone();
    let a = ctx.simple_spend(coin, spk.clone(), FEE, RBF, LockTime::ZERO)?;
    let a_out = a.output[0].clone();
    let b = ctx.tx(
        &[(
            OutPoint::new(a.compute_txid(), 0),
            a_out.clone(),
            Spend::Wallet { kind, key: 7 },
            RBF,
        )],
        vec![TxOut {
            value: a_out.value - Amount::from_sat(FEE),
            script_pubkey: ctx.wallet.spk(SpendKind::P2wpkh, 8).clone(),
        }],
        LockTime::ZERO,
    )?;
    Ok((a, b))
}

fn bad_sig_ecdsa(ctx: &Ctx<'_>, rule: &str) -> Result<Block, LoadgenError> {
    let (a, mut b) = chain_pair(ctx, rule, SpendKind::P2wpkh)?;
    let mut items: Vec<Vec<u8>> = b.input[0].witness.iter().map(<[u8]>::to_vec).collect();
    if let Some(sig) = items.get_mut(0) {
        corrupt_sig(sig, true);
    }
    b.input[0].witness = Witness::from_slice(&items);
    Ok(ctx.with_txs(vec![a, b]))
}

fn bad_sig_schnorr(ctx: &Ctx<'_>, rule: &str) -> Result<Block, LoadgenError> {
    let (a, mut b) = chain_pair(ctx, rule, SpendKind::P2trKey)?;
    let mut items: Vec<Vec<u8>> = b.input[0].witness.iter().map(<[u8]>::to_vec).collect();
    if let Some(sig) = items.get_mut(0) {
        corrupt_sig(sig, false);
    }
    b.input[0].witness = Witness::from_slice(&items);
    Ok(ctx.with_txs(vec![a, b]))
}

fn missing_output(ctx: &Ctx<'_>, rule: &str) -> Result<Block, LoadgenError> {
    let (_, c, kind, key) = ctx.spare(0, rule)?;
    let fake = OutPoint::new(
        Txid::from_byte_array(sha256::Hash::hash(b"missing").to_byte_array()),
        0,
    );
    let tx = ctx.simple_spend(
        &(fake, c.clone(), *kind, *key),
        ctx.wallet.spk(SpendKind::P2wpkh, 9).clone(),
        FEE,
        RBF,
        LockTime::ZERO,
    )?;
    Ok(ctx.with_txs(vec![tx]))
}

fn spent_output(ctx: &Ctx<'_>, rule: &str) -> Result<Block, LoadgenError> {
    let coin = ctx
        .spent_earlier
        .as_ref()
        .ok_or_else(|| mutant_err(rule, "no wallet coin was spent before the tip"))?;
    let tx = ctx.simple_spend(
        coin,
        ctx.wallet.spk(SpendKind::P2wpkh, 9).clone(),
        FEE,
        RBF,
        LockTime::ZERO,
    )?;
    Ok(ctx.with_txs(vec![tx]))
}

fn double_spend(ctx: &Ctx<'_>, rule: &str) -> Result<Block, LoadgenError> {
    let coin = ctx.spare(0, rule)?;
    let t1 = ctx.simple_spend(
        coin,
        ctx.wallet.spk(SpendKind::P2wpkh, 9).clone(),
        FEE,
        RBF,
        LockTime::ZERO,
    )?;
    let t2 = ctx.simple_spend(
        coin,
        ctx.wallet.spk(SpendKind::P2wpkh, 10).clone(),
        FEE,
        RBF,
        LockTime::ZERO,
    )?;
    Ok(ctx.with_txs(vec![t1, t2]))
}

fn immature(ctx: &Ctx<'_>, rule: &str) -> Result<Block, LoadgenError> {
    let coin = ctx
        .immature_cb
        .as_ref()
        .ok_or_else(|| mutant_err(rule, "no immature wallet coinbase"))?;
    let tx = ctx.simple_spend(
        coin,
        ctx.wallet.spk(SpendKind::P2wpkh, 9).clone(),
        FEE,
        RBF,
        LockTime::ZERO,
    )?;
    Ok(ctx.with_txs(vec![tx]))
}

fn outputs_exceed(ctx: &Ctx<'_>, rule: &str) -> Result<Block, LoadgenError> {
    let (op, c, kind, key) = ctx.spare(0, rule)?;
    let tx = ctx.tx(
        &[(
            *op,
            c.out.clone(),
            Spend::Wallet {
                kind: *kind,
                key: *key,
            },
            RBF,
        )],
        vec![TxOut {
            value: c.out.value + Amount::from_sat(1),
            script_pubkey: ctx.wallet.spk(SpendKind::P2wpkh, 9).clone(),
        }],
        LockTime::ZERO,
    )?;
    Ok(ctx.with_txs(vec![tx]))
}

fn coinbase_over(ctx: &Ctx<'_>, _rule: &str) -> Result<Block, LoadgenError> {
    let mut cb = ctx.coinbase();
    cb.value += 1;
    Ok(block::assemble(
        ctx.prefix.block_hash(),
        block_time(ctx.height),
        &cb,
        ctx.base_txs.clone(),
    ))
}

fn bad_merkle(ctx: &Ctx<'_>, _rule: &str) -> Result<Block, LoadgenError> {
    let mut b = ctx.with_txs(vec![]);
    let mut root = b.header.merkle_root.to_byte_array();
    root[0] ^= 1;
    b.header.merkle_root = bitcoin::TxMerkleNode::from_byte_array(root);
    block::grind(&mut b.header, true);
    Ok(b)
}

fn merkle_dup(ctx: &Ctx<'_>, rule: &str) -> Result<Block, LoadgenError> {
    // An odd transaction count (coinbase included) whose last entry is then duplicated keeps
    // the same merkle root.
    let mut txs = ctx.base_txs.clone();
    if txs.len() % 2 == 1 {
        // coinbase + odd = even: add one valid transaction to make the count odd
        txs.push(ctx.simple_spend(
            ctx.spare(1, rule)?,
            ctx.wallet.spk(SpendKind::P2wpkh, 9).clone(),
            FEE,
            RBF,
            LockTime::ZERO,
        )?);
    }
    if txs.is_empty() {
        txs.push(ctx.simple_spend(
            ctx.spare(1, rule)?,
            ctx.wallet.spk(SpendKind::P2wpkh, 9).clone(),
            FEE,
            RBF,
            LockTime::ZERO,
        )?);
        txs.push(ctx.simple_spend(
            ctx.spare(2, rule)?,
            ctx.wallet.spk(SpendKind::P2wpkh, 9).clone(),
            FEE,
            RBF,
            LockTime::ZERO,
        )?);
    }
    let mut b = block::assemble(
        ctx.prefix.block_hash(),
        block_time(ctx.height),
        &ctx.coinbase(),
        txs,
    );
    let root = b.header.merkle_root;
    if let Some(last) = b.txdata.last().cloned() {
        b.txdata.push(last);
    }
    if b.compute_merkle_root() != Some(root) {
        return Err(mutant_err(
            rule,
            "duplicate did not preserve the merkle root",
        ));
    }
    Ok(b)
}

fn bad_commitment(ctx: &Ctx<'_>, rule: &str) -> Result<Block, LoadgenError> {
    // A witness transaction guarantees the commitment is required (legacy profiles have none).
    let (a, b) = chain_pair(ctx, rule, SpendKind::P2wpkh)?;
    let mut txs = ctx.base_txs.clone();
    txs.extend([a, b]);
    let mut cb = ctx.coinbase();
    cb.commitment_override = Some(sha256::Hash::hash(b"bad commitment").to_byte_array());
    Ok(block::assemble(
        ctx.prefix.block_hash(),
        block_time(ctx.height),
        &cb,
        txs,
    ))
}

fn weight_over(ctx: &Ctx<'_>, rule: &str) -> Result<Block, LoadgenError> {
    let coin = ctx.spare(0, rule)?;
    let spk = ctx.wallet.spk(SpendKind::P2trKey, 7).clone();
    let a = ctx.simple_spend(coin, spk, FEE, RBF, LockTime::ZERO)?;
    let a_out = a.output[0].clone();
    let a_txid = a.compute_txid();
    let mk = |annex_len: usize| {
        let mut annex = vec![0u8; annex_len.max(1)];
        annex[0] = 0x50;
        ctx.tx(
            &[(
                OutPoint::new(a_txid, 0),
                a_out.clone(),
                Spend::P2trKeyAnnex { key: 7, annex },
                RBF,
            )],
            vec![TxOut {
                value: a_out.value - Amount::from_sat(FEE),
                script_pubkey: ctx.wallet.spk(SpendKind::P2wpkh, 8).clone(),
            }],
            LockTime::ZERO,
        )
    };
    let probe = ctx.with_txs(vec![a.clone(), mk(1)?]);
    let w = probe.weight().to_wu();
    let annex_len = usize::try_from(MAX_BLOCK_WEIGHT + 500 - w.min(MAX_BLOCK_WEIGHT)).unwrap_or(1);
    let b = ctx.with_txs(vec![a, mk(annex_len)?]);
    let w = b.weight().to_wu();
    if w <= MAX_BLOCK_WEIGHT || serialize(&b).len() > 4_000_000 {
        return Err(mutant_err(
            rule,
            format!("weight {w} not just above the limit"),
        ));
    }
    Ok(b)
}

fn sigops_over(ctx: &Ctx<'_>, rule: &str) -> Result<Block, LoadgenError> {
    let spk = ScriptBuf::from_bytes(vec![OP_CHECKSIG.to_u8(); 20_001]);
    let tx = ctx.simple_spend(ctx.spare(0, rule)?, spk, 30_000, RBF, LockTime::ZERO)?;
    Ok(ctx.with_txs(vec![tx]))
}

fn bad_bip34(ctx: &Ctx<'_>, _rule: &str) -> Result<Block, LoadgenError> {
    let mut cb = ctx.coinbase();
    cb.bip34_height += 1;
    Ok(block::assemble(
        ctx.prefix.block_hash(),
        block_time(ctx.height),
        &cb,
        ctx.base_txs.clone(),
    ))
}

fn bad_pow(ctx: &Ctx<'_>, _rule: &str) -> Result<Block, LoadgenError> {
    let mut b = ctx.with_txs(vec![]);
    block::grind(&mut b.header, false);
    Ok(b)
}

fn time_mtp(ctx: &Ctx<'_>, _rule: &str) -> Result<Block, LoadgenError> {
    let mut b = ctx.with_txs(vec![]);
    b.header.time = median_time_past(&ctx.prev_times);
    block::grind(&mut b.header, true);
    Ok(b)
}

fn nonfinal_locktime(ctx: &Ctx<'_>, rule: &str) -> Result<Block, LoadgenError> {
    let lock = LockTime::from_height(ctx.height).map_err(|e| mutant_err(rule, e.to_string()))?;
    let tx = ctx.simple_spend(
        ctx.spare(0, rule)?,
        ctx.wallet.spk(SpendKind::P2wpkh, 9).clone(),
        FEE,
        Sequence::ENABLE_LOCKTIME_NO_RBF,
        lock,
    )?;
    Ok(ctx.with_txs(vec![tx]))
}

fn bip68(ctx: &Ctx<'_>, rule: &str) -> Result<Block, LoadgenError> {
    let coin = ctx.spare(0, rule)?;
    let confirmations = ctx.height - coin.1.height;
    let lock = u16::try_from(confirmations + 1)
        .map_err(|_| mutant_err(rule, "coin too old for a 16-bit lock"))?;
    let tx = ctx.simple_spend(
        coin,
        ctx.wallet.spk(SpendKind::P2wpkh, 9).clone(),
        FEE,
        Sequence::from_height(lock),
        LockTime::ZERO,
    )?;
    Ok(ctx.with_txs(vec![tx]))
}

fn oversized_push(ctx: &Ctx<'_>, rule: &str) -> Result<Block, LoadgenError> {
    let big = PushBytesBuf::try_from(vec![0x42u8; 521]).map_err(|_| mutant_err(rule, "push"))?;
    let script = Builder::new()
        .push_slice(big)
        .push_opcode(OP_DROP)
        .push_key(&ctx.wallet.key(7).pubkey)
        .push_opcode(OP_CHECKSIG)
        .into_script();
    let a = ctx.simple_spend(
        ctx.spare(0, rule)?,
        ScriptBuf::new_p2wsh(&script.wscript_hash()),
        FEE,
        RBF,
        LockTime::ZERO,
    )?;
    let a_out = a.output[0].clone();
    let b = ctx.tx(
        &[(
            OutPoint::new(a.compute_txid(), 0),
            a_out.clone(),
            Spend::P2wshSingleSig { script, key: 7 },
            RBF,
        )],
        vec![TxOut {
            value: a_out.value - Amount::from_sat(FEE),
            script_pubkey: ctx.wallet.spk(SpendKind::P2wpkh, 8).clone(),
        }],
        LockTime::ZERO,
    )?;
    Ok(ctx.with_txs(vec![a, b]))
}
