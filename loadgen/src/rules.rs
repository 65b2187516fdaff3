//! One builder per broken rule. Each builds the mutant (`broken = true`) or, where one exists,
//! its boundary twin (`broken = false`): the same construction with the rule just respected
//! (e.g. a 520-byte push instead of 521, weight exactly 4,000,000 instead of 4,000,001), which
//! Core must accept. A twin accepted next to a rejected mutant shows that only the labelled rule
//! is broken.

use bitcoin::absolute::LockTime;
use bitcoin::consensus::serialize;
use bitcoin::hashes::{sha256, Hash};
use bitcoin::opcodes::all::{OP_CHECKSIG, OP_DROP};
use bitcoin::script::{Builder, PushBytesBuf};
use bitcoin::{Amount, Block, OutPoint, ScriptBuf, Sequence, Transaction, TxOut, Txid, Witness};

use crate::block::{self, median_time_past, MAX_BLOCK_SIGOPS_COST, MAX_BLOCK_WEIGHT};
use crate::mutate::{mutant_err, Ctx};
use crate::sign::Spend;
use crate::wallet::SpendKind;
use crate::LoadgenError;

/// Builds the mutant (`broken`) or its twin; `Ok(None)` = this rule has no twin.
pub(crate) type RuleFn = fn(&Ctx<'_>, &str, bool) -> Result<Option<Block>, LoadgenError>;

/// (rule, description, Core's expected reject reason, builder)
pub(crate) const RULES: [(&str, &str, &str, RuleFn); 19] = [
    (
        "bad-signature-ecdsa",
        "an ECDSA (P2WPKH) signature with one bit flipped, among valid transactions",
        "block-script-verify-flag-failed (Script evaluated without error but finished with a false/empty top stack element)",
        bad_sig_ecdsa,
    ),
    (
        "bad-signature-schnorr",
        "a Schnorr (P2TR key path) signature with one bit flipped, among valid transactions",
        "block-script-verify-flag-failed (Invalid Schnorr signature)",
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
        "spends a coinbase output with 99 or fewer confirmations",
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
        "block weight exactly 4,000,001 (taproot annex), stripped size within limits",
        "bad-blk-weight",
        weight_over,
    ),
    (
        "sigops-over-limit",
        "an output script of OP_CHECKSIGs brings the block's sigop cost to just above 80,000",
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
        "an input's BIP68 relative height lock is one more than its confirmations",
        "bad-txns-nonfinal",
        bip68,
    ),
    (
        "oversized-script-element",
        "a P2WSH witness script pushes a 521-byte element (limit 520)",
        "block-script-verify-flag-failed (Push value size limit exceeded)",
        oversized_push,
    ),
];

const FEE: u64 = 2_000;
const RBF: Sequence = Sequence::ENABLE_RBF_NO_LOCKTIME;

fn p2wpkh(ctx: &Ctx<'_>, key: u16) -> ScriptBuf {
    ctx.wallet.spk(SpendKind::P2wpkh, key).clone()
}

/// Funds a fresh output of `kind` (key 7) from a spare coin and spends it in a second
/// transaction; `corrupt` flips a bit in the second transaction's signature.
fn chain_pair(
    ctx: &Ctx<'_>,
    rule: &str,
    kind: SpendKind,
    corrupt: bool,
) -> Result<Vec<Transaction>, LoadgenError> {
    let a = ctx.simple_spend(
        ctx.spare(0, rule)?,
        ctx.wallet.spk(kind, 7).clone(),
        FEE,
        RBF,
        LockTime::ZERO,
    )?;
    let a_out = a.output[0].clone();
    let mut b = ctx.tx(
        &[(
            OutPoint::new(a.compute_txid(), 0),
            a_out.clone(),
            Spend::Wallet { kind, key: 7 },
            RBF,
        )],
        vec![TxOut {
            value: a_out.value - Amount::from_sat(FEE),
            script_pubkey: p2wpkh(ctx, 8),
        }],
        LockTime::ZERO,
    )?;
    if corrupt {
        let mut items: Vec<Vec<u8>> = b.input[0].witness.iter().map(<[u8]>::to_vec).collect();
        if let Some(sig) = items.get_mut(0) {
            // ECDSA: last byte of s (DER stays valid); Schnorr: a byte of s.
            let i = if kind == SpendKind::P2trKey {
                40
            } else {
                sig.len().saturating_sub(2)
            };
            if let Some(byte) = sig.get_mut(i) {
                *byte ^= 0x01;
            }
        }
        b.input[0].witness = Witness::from_slice(&items);
    }
    Ok(vec![a, b])
}

fn bad_sig_ecdsa(ctx: &Ctx<'_>, rule: &str, broken: bool) -> Result<Option<Block>, LoadgenError> {
    Ok(Some(ctx.with_txs(chain_pair(
        ctx,
        rule,
        SpendKind::P2wpkh,
        broken,
    )?)))
}

fn bad_sig_schnorr(ctx: &Ctx<'_>, rule: &str, broken: bool) -> Result<Option<Block>, LoadgenError> {
    Ok(Some(ctx.with_txs(chain_pair(
        ctx,
        rule,
        SpendKind::P2trKey,
        broken,
    )?)))
}

fn missing_output(ctx: &Ctx<'_>, rule: &str, broken: bool) -> Result<Option<Block>, LoadgenError> {
    let (op, c, kind, key) = ctx.spare(0, rule)?;
    let op = if broken {
        OutPoint::new(
            Txid::from_byte_array(sha256::Hash::hash(b"missing").to_byte_array()),
            0,
        )
    } else {
        *op
    };
    let tx = ctx.simple_spend(
        &(op, c.clone(), *kind, *key),
        p2wpkh(ctx, 9),
        FEE,
        RBF,
        LockTime::ZERO,
    )?;
    Ok(Some(ctx.with_txs(vec![tx])))
}

fn spent_output(ctx: &Ctx<'_>, rule: &str, broken: bool) -> Result<Option<Block>, LoadgenError> {
    let coin = if broken {
        ctx.spent_earlier
            .as_ref()
            .ok_or_else(|| mutant_err(rule, "no wallet coin was spent before the tip"))?
    } else {
        ctx.spare(0, rule)?
    };
    let tx = ctx.simple_spend(coin, p2wpkh(ctx, 9), FEE, RBF, LockTime::ZERO)?;
    Ok(Some(ctx.with_txs(vec![tx])))
}

fn double_spend(ctx: &Ctx<'_>, rule: &str, broken: bool) -> Result<Option<Block>, LoadgenError> {
    let t1 = ctx.simple_spend(
        ctx.spare(0, rule)?,
        p2wpkh(ctx, 9),
        FEE,
        RBF,
        LockTime::ZERO,
    )?;
    let second = ctx.spare(usize::from(!broken), rule)?;
    let t2 = ctx.simple_spend(second, p2wpkh(ctx, 10), FEE, RBF, LockTime::ZERO)?;
    Ok(Some(ctx.with_txs(vec![t1, t2])))
}

fn immature(ctx: &Ctx<'_>, rule: &str, broken: bool) -> Result<Option<Block>, LoadgenError> {
    // Twin: the coinbase exactly 100 blocks below (just mature).
    if !broken && ctx.just_mature_cb.is_none() && ctx.base_spends_just_mature {
        // The block's own transactions already spend it: that block is the boundary case.
        return Ok(Some(ctx.with_txs(Vec::new())));
    }
    let coin = if broken {
        ctx.immature_cb.as_ref()
    } else {
        ctx.just_mature_cb.as_ref()
    };
    let coin = coin.ok_or_else(|| mutant_err(rule, "no suitable wallet coinbase"))?;
    let tx = ctx.simple_spend(coin, p2wpkh(ctx, 9), FEE, RBF, LockTime::ZERO)?;
    Ok(Some(ctx.with_txs(vec![tx])))
}

fn outputs_exceed(ctx: &Ctx<'_>, rule: &str, broken: bool) -> Result<Option<Block>, LoadgenError> {
    let (op, c, kind, key) = ctx.spare(0, rule)?;
    let value = if broken {
        c.out.value + Amount::from_sat(1)
    } else {
        c.out.value
    };
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
            value,
            script_pubkey: p2wpkh(ctx, 9),
        }],
        LockTime::ZERO,
    )?;
    Ok(Some(ctx.with_txs(vec![tx])))
}

fn coinbase_over(ctx: &Ctx<'_>, _rule: &str, broken: bool) -> Result<Option<Block>, LoadgenError> {
    let mut cb = ctx.coinbase();
    cb.value += u64::from(broken);
    Ok(Some(ctx.assemble(&cb, ctx.base_txs.clone())))
}

fn bad_merkle(ctx: &Ctx<'_>, _rule: &str, broken: bool) -> Result<Option<Block>, LoadgenError> {
    let mut b = ctx.with_txs(vec![]);
    if broken {
        let mut root = b.header.merkle_root.to_byte_array();
        root[0] ^= 1;
        b.header.merkle_root = bitcoin::TxMerkleNode::from_byte_array(root);
        block::grind(&mut b.header, true);
    }
    Ok(Some(b))
}

fn merkle_dup(ctx: &Ctx<'_>, rule: &str, broken: bool) -> Result<Option<Block>, LoadgenError> {
    // With an odd transaction count (coinbase included), duplicating the last transaction keeps
    // the merkle root.
    let mut txs = ctx.base_txs.clone();
    let extra = |n: usize| {
        ctx.simple_spend(
            ctx.spare(n, rule)?,
            p2wpkh(ctx, 9),
            FEE,
            RBF,
            LockTime::ZERO,
        )
    };
    if txs.is_empty() {
        txs.push(extra(1)?);
    }
    if txs.len() % 2 == 1 {
        txs.push(extra(2)?);
    }
    let mut b = ctx.assemble(&ctx.coinbase(), txs);
    if broken {
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
    }
    Ok(Some(b))
}

fn bad_commitment(ctx: &Ctx<'_>, rule: &str, broken: bool) -> Result<Option<Block>, LoadgenError> {
    // A witness transaction makes the commitment mandatory (legacy blocks have none).
    let mut txs = ctx.base_txs.clone();
    txs.extend(chain_pair(ctx, rule, SpendKind::P2wpkh, false)?);
    let mut cb = ctx.coinbase();
    if broken {
        cb.commitment_override = Some(sha256::Hash::hash(b"bad commitment").to_byte_array());
    }
    Ok(Some(ctx.assemble(&cb, txs)))
}

fn weight_over(ctx: &Ctx<'_>, rule: &str, broken: bool) -> Result<Option<Block>, LoadgenError> {
    let a = ctx.simple_spend(
        ctx.spare(0, rule)?,
        ctx.wallet.spk(SpendKind::P2trKey, 7).clone(),
        FEE,
        RBF,
        LockTime::ZERO,
    )?;
    let a_out = a.output[0].clone();
    let a_txid = a.compute_txid();
    let build = |annex_len: u64| -> Result<Block, LoadgenError> {
        let mut annex = vec![0u8; usize::try_from(annex_len.max(1)).unwrap_or(1)];
        annex[0] = 0x50;
        let b = ctx.tx(
            &[(
                OutPoint::new(a_txid, 0),
                a_out.clone(),
                Spend::P2trKeyAnnex { key: 7, annex },
                RBF,
            )],
            vec![TxOut {
                value: a_out.value - Amount::from_sat(FEE),
                script_pubkey: p2wpkh(ctx, 8),
            }],
            LockTime::ZERO,
        )?;
        Ok(ctx.with_txs(vec![a.clone(), b]))
    };
    let target = MAX_BLOCK_WEIGHT + u64::from(broken);
    let mut len = 1u64;
    for _ in 0..6 {
        let w = build(len)?.weight().to_wu();
        if w == target {
            break;
        }
        len = (len + target).saturating_sub(w).max(1);
    }
    let b = build(len)?;
    let w = b.weight().to_wu();
    if w != target || serialize(&b).len() > 4_000_000 {
        return Err(mutant_err(rule, format!("weight {w} instead of {target}")));
    }
    Ok(Some(b))
}

/// Sigop cost of a block as Core counts it (legacy x4 + P2SH x4 + witness), using the prefix's
/// coins and the block's own outputs for the spent scripts.
fn block_sigop_cost(ctx: &Ctx<'_>, b: &Block) -> u64 {
    let mut created = std::collections::HashMap::new();
    for tx in &b.txdata {
        let txid = tx.compute_txid();
        for (n, o) in tx.output.iter().enumerate() {
            created.insert(OutPoint::new(txid, n as u32), o.clone());
        }
    }
    b.txdata
        .iter()
        .map(|tx| {
            tx.total_sigop_cost(|op| {
                ctx.utxo
                    .get(op)
                    .map(|c| c.out.clone())
                    .or_else(|| created.get(op).cloned())
            }) as u64
        })
        .sum()
}

fn sigops_over(ctx: &Ctx<'_>, rule: &str, broken: bool) -> Result<Option<Block>, LoadgenError> {
    let build = |n: usize| -> Result<Block, LoadgenError> {
        let spk = ScriptBuf::from_bytes(vec![OP_CHECKSIG.to_u8(); n]);
        let tx = ctx.simple_spend(ctx.spare(0, rule)?, spk, 30_000, RBF, LockTime::ZERO)?;
        Ok(ctx.with_txs(vec![tx]))
    };
    let base = block_sigop_cost(ctx, &build(0)?);
    let room = MAX_BLOCK_SIGOPS_COST
        .checked_sub(base)
        .ok_or_else(|| mutant_err(rule, format!("base block already costs {base} sigops")))?;
    // Each OP_CHECKSIG in an output costs 4: the twin sits at or just below the limit.
    let n = usize::try_from(room / 4).unwrap_or(0) + usize::from(broken);
    let b = build(n)?;
    let cost = block_sigop_cost(ctx, &b);
    if (cost > MAX_BLOCK_SIGOPS_COST) != broken {
        return Err(mutant_err(
            rule,
            format!("sigop cost {cost} on the wrong side of the limit"),
        ));
    }
    Ok(Some(b))
}

fn bad_bip34(ctx: &Ctx<'_>, _rule: &str, broken: bool) -> Result<Option<Block>, LoadgenError> {
    let mut cb = ctx.coinbase();
    cb.bip34_height += u32::from(broken);
    Ok(Some(ctx.assemble(&cb, ctx.base_txs.clone())))
}

fn bad_pow(ctx: &Ctx<'_>, _rule: &str, broken: bool) -> Result<Option<Block>, LoadgenError> {
    let mut b = ctx.with_txs(vec![]);
    block::grind(&mut b.header, !broken);
    Ok(Some(b))
}

fn time_mtp(ctx: &Ctx<'_>, _rule: &str, broken: bool) -> Result<Option<Block>, LoadgenError> {
    let mut b = ctx.with_txs(vec![]);
    b.header.time = median_time_past(&ctx.prev_times) + u32::from(!broken);
    block::grind(&mut b.header, true);
    Ok(Some(b))
}

fn nonfinal_locktime(
    ctx: &Ctx<'_>,
    rule: &str,
    broken: bool,
) -> Result<Option<Block>, LoadgenError> {
    // Final iff nLockTime < height: the twin uses height - 1.
    let lock = LockTime::from_height(ctx.height - u32::from(!broken))
        .map_err(|e| mutant_err(rule, e.to_string()))?;
    let tx = ctx.simple_spend(
        ctx.spare(0, rule)?,
        p2wpkh(ctx, 9),
        FEE,
        Sequence::ENABLE_LOCKTIME_NO_RBF,
        lock,
    )?;
    Ok(Some(ctx.with_txs(vec![tx])))
}

fn bip68(ctx: &Ctx<'_>, rule: &str, broken: bool) -> Result<Option<Block>, LoadgenError> {
    let coin = ctx.spare(0, rule)?;
    let confirmations = ctx.height - coin.1.height;
    let lock = u16::try_from(confirmations + u32::from(broken))
        .map_err(|_| mutant_err(rule, "coin too old for a 16-bit lock"))?;
    let tx = ctx.simple_spend(
        coin,
        p2wpkh(ctx, 9),
        FEE,
        Sequence::from_height(lock),
        LockTime::ZERO,
    )?;
    Ok(Some(ctx.with_txs(vec![tx])))
}

fn oversized_push(ctx: &Ctx<'_>, rule: &str, broken: bool) -> Result<Option<Block>, LoadgenError> {
    let size = 520 + usize::from(broken);
    let big = PushBytesBuf::try_from(vec![0x42u8; size]).map_err(|_| mutant_err(rule, "push"))?;
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
            script_pubkey: p2wpkh(ctx, 8),
        }],
        LockTime::ZERO,
    )?;
    Ok(Some(ctx.with_txs(vec![a, b])))
}
