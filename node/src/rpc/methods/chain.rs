//! Blockchain methods: getblockchaininfo, getblockcount, getbestblockhash, getblockhash,
//! getblockheader, getblock, getchaintips, gettxout, gettxoutsetinfo, submitblock.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use sluice_consensus::block::Block;
use sluice_consensus::chain::pow::derive_target;
use sluice_consensus::chain::{Network, U256};
use sluice_consensus::coin::{Coin, OutPoint};
use sluice_consensus::hash::{to_display_hex, Hash256};

use super::super::error::{
    RpcError, RPC_DESERIALIZATION_ERROR, RPC_INTERNAL_ERROR, RPC_INVALID_ADDRESS_OR_KEY,
    RPC_INVALID_PARAMETER, RPC_MISC_ERROR, RPC_TYPE_ERROR,
};
use super::super::registry::{Arg, ArgType, Params, Registry};
use super::super::script::script_pubkey_json;
use super::super::tx::{amount, block_json, header_json, u256_hex, HeaderFacts, TxDetail};
use super::super::{parse_hash, Context};
use super::add;
use crate::run::Submitted;

const CAT: &str = "Blockchain";

pub(super) fn register(reg: &mut Registry, ctx: &Arc<Context>) {
    use ArgType::{Any, Bool, Num, Str};
    add(
        reg,
        ctx,
        (
            "getblockchaininfo",
            CAT,
            "Returns an object containing various state info regarding blockchain processing.",
        ),
        &[],
        getblockchaininfo,
    );
    add(
        reg,
        ctx,
        (
            "getblockcount",
            CAT,
            "Returns the height of the most-work fully-validated chain.",
        ),
        &[],
        |c, _| Ok(c.tip().0.into()),
    );
    add(
        reg,
        ctx,
        (
            "getbestblockhash",
            CAT,
            "Returns the hash of the best (tip) block in the most-work fully-validated chain.",
        ),
        &[],
        |c, _| Ok(to_display_hex(&c.tip().1).into()),
    );
    add(
        reg,
        ctx,
        (
            "getblockhash",
            CAT,
            "Returns hash of block in best-block-chain at height provided.",
        ),
        &[Arg::req("height", Num)],
        getblockhash,
    );
    add(reg, ctx, ("getblockheader", CAT, "If verbose is false, returns a string that is serialized, hex-encoded data for blockheader 'hash'. If verbose is true, returns an Object with information about blockheader <hash>."), &[Arg::req("blockhash", Str), Arg::opt("verbose", Bool)], getblockheader);
    add(reg, ctx, ("getblock", CAT, "If verbosity is 0, returns a string that is serialized, hex-encoded data for block 'hash'. If verbosity is 1, returns an Object with information about block <hash>. If verbosity is 2, returns an Object with information about block <hash> and information about each transaction."), &[Arg::req("blockhash", Str), Arg::opt("verbosity|verbose", Any)], getblock);
    add(reg, ctx, ("getchaintips", CAT, "Return information about all known tips in the block tree, including the main chain as well as orphaned branches."), &[], getchaintips);
    add(
        reg,
        ctx,
        (
            "gettxout",
            CAT,
            "Returns details about an unspent transaction output.",
        ),
        &[
            Arg::req("txid", Str),
            Arg::req("n", Num),
            Arg::opt("include_mempool", Bool),
        ],
        gettxout,
    );
    add(
        reg,
        ctx,
        (
            "gettxoutsetinfo",
            CAT,
            "Returns statistics about the unspent transaction output set.",
        ),
        &[
            Arg::opt("hash_type", Str),
            Arg::opt("hash_or_height", Any),
            Arg::opt("use_index", Bool),
        ],
        gettxoutsetinfo,
    );
    add(
        reg,
        ctx,
        (
            "submitblock",
            "Mining",
            "Attempts to submit new block to network.",
        ),
        &[Arg::req("hexdata", Str), Arg::opt("dummy", Any)],
        submitblock,
    );
}

fn chain_name(n: Network) -> &'static str {
    match n {
        Network::Mainnet => "main",
        Network::Testnet4 => "testnet4",
        Network::Signet => "signet",
        Network::Regtest => "regtest",
    }
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A header as the header tree and the active chain know it; `None`: unknown hash.
pub(super) fn facts(ctx: &Context, hash: Hash256) -> Result<Option<HeaderFacts>, RpcError> {
    let known = ctx.query(move |l| {
        let t = l.headers();
        let id = t.get(&hash)?;
        Some((
            *t.header(id)?,
            t.height(id),
            t.median_time_past(id),
            t.work(id),
        ))
    })?;
    let Some((header, height, median_time, chainwork)) = known else {
        return Ok(None);
    };
    let (tip_height, on_active, next) = {
        let store = ctx.store();
        let tip = store.tip().map_or(0, |t| t.0);
        let at = |h| store.hash_at_height(h).ok().flatten();
        let active = height <= tip && at(height) == Some(hash);
        let next = if active && height < tip {
            at(height + 1)
        } else {
            None
        };
        (tip, active, next)
    };
    let target = derive_target(header.bits, &ctx.params.pow_limit).unwrap_or(U256::ZERO);
    Ok(Some(HeaderFacts {
        header,
        height,
        median_time,
        chainwork,
        n_tx: ctx.tx_count(&hash),
        confirmations: on_active.then(|| tip_height - height + 1),
        next,
        target,
    }))
}

fn getblockchaininfo(ctx: &Context, _: &Params) -> Result<Value, RpcError> {
    let (height, hash) = ctx.tip();
    let f = facts(ctx, hash)?
        .ok_or_else(|| RpcError::new(RPC_INTERNAL_ERROR, "the tip is not in the header tree"))?;
    let headers = ctx.query(|l| l.headers().best_height())?;
    let ibd = initial_block_download(ctx, &f);
    let size_on_disk: u64 = std::fs::read_dir(ctx.datadir.join("blocks"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    let progress = if height >= headers {
        1.0
    } else {
        f64::from(height) / f64::from(headers.max(1))
    };
    let mut o = serde_json::Map::new();
    o.insert("chain".into(), chain_name(ctx.params.network).into());
    o.insert("blocks".into(), height.into());
    o.insert("headers".into(), headers.into());
    o.insert("bestblockhash".into(), to_display_hex(&hash).into());
    let h = header_json(&f);
    for k in ["bits", "target", "difficulty", "time", "mediantime"] {
        o.insert(k.into(), h[k].clone());
    }
    o.insert("verificationprogress".into(), progress.into());
    o.insert("initialblockdownload".into(), ibd.into());
    o.insert("chainwork".into(), u256_hex(&f.chainwork).into());
    o.insert("size_on_disk".into(), size_on_disk.into());
    o.insert("pruned".into(), false.into());
    if let Some(ch) = &ctx.params.signet_challenge {
        o.insert("signet_challenge".into(), hex::encode(ch).into());
    }
    o.insert("warnings".into(), json!([]));
    Ok(o.into())
}

/// Core's latch: in initial block download until the tip is less than a day old and has the
/// network's minimum chain work; never again after.
fn initial_block_download(ctx: &Context, tip: &HeaderFacts) -> bool {
    static LEFT_IBD: AtomicBool = AtomicBool::new(false);
    if LEFT_IBD.load(Ordering::Relaxed) {
        return false;
    }
    let min_work = sluice_net::sync::minimum_chain_work(ctx.params.network);
    let recent = i64::from(tip.header.time) > now_secs() - 24 * 60 * 60;
    if recent && tip.chainwork >= min_work {
        LEFT_IBD.store(true, Ordering::Relaxed);
        return false;
    }
    true
}

fn getblockhash(ctx: &Context, p: &Params) -> Result<Value, RpcError> {
    let out_of_range = || RpcError::new(RPC_INVALID_PARAMETER, "Block height out of range");
    let h: i64 = p.int(0)?.unwrap_or(-1);
    let h = u32::try_from(h).map_err(|_| out_of_range())?;
    if h > ctx.tip().0 {
        return Err(out_of_range());
    }
    let hash = ctx.hash_at(h)?.ok_or_else(out_of_range)?;
    Ok(to_display_hex(&hash).into())
}

fn block_not_found() -> RpcError {
    RpcError::new(RPC_INVALID_ADDRESS_OR_KEY, "Block not found")
}

fn getblockheader(ctx: &Context, p: &Params) -> Result<Value, RpcError> {
    let hash = parse_hash(p.str(0).unwrap_or_default(), "hash")?;
    let f = facts(ctx, hash)?.ok_or_else(block_not_found)?;
    if !p.bool(1).unwrap_or(true) {
        return Ok(hex::encode(f.header.encode()).into());
    }
    Ok(header_json(&f).into())
}

/// Core's `ParseVerbosity(arg, default, allow_bool = true)`.
fn verbosity(p: &Params, i: usize, default: i64) -> Result<i64, RpcError> {
    match p.get(i) {
        None => Ok(default),
        Some(Value::Bool(b)) => Ok(i64::from(*b)),
        Some(Value::Number(n)) => n
            .as_i64()
            .filter(|v| i32::try_from(*v).is_ok())
            .ok_or_else(|| RpcError::new(RPC_TYPE_ERROR, "JSON integer out of range")),
        Some(v) => Err(RpcError::new(
            RPC_TYPE_ERROR,
            format!(
                "JSON value of type {} is not of expected type number",
                type_name(v)
            ),
        )),
    }
}

pub(super) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The coins a block's inputs spent (its undo data), in input order.
pub(super) fn spent_coins(ctx: &Context, hash: &Hash256) -> Result<Option<Vec<Coin>>, RpcError> {
    let undo = ctx.store().undo(hash).map_err(|e| {
        RpcError::new(
            RPC_INTERNAL_ERROR,
            format!("Undo data expected but can't be read: {e}"),
        )
    })?;
    Ok(undo.map(|u| u.spent.into_iter().map(|(_, c)| c).collect()))
}

fn getblock(ctx: &Context, p: &Params) -> Result<Value, RpcError> {
    let hash = parse_hash(p.str(0).unwrap_or_default(), "blockhash")?;
    let level = verbosity(p, 1, 1)?;
    let f = facts(ctx, hash)?.ok_or_else(block_not_found)?;
    let bytes = ctx.block_bytes(&hash)?.ok_or_else(|| {
        RpcError::new(RPC_MISC_ERROR, "Block not available (not fully downloaded)")
    })?;
    if level <= 0 {
        return Ok(hex::encode(&bytes).into());
    }
    let block = Block::parse(&bytes).map_err(|e| {
        RpcError::new(
            RPC_INTERNAL_ERROR,
            format!("a stored block no longer parses: {e}"),
        )
    })?;
    let (detail, spent) = match level {
        1 => (None, None),
        2 => (Some(TxDetail::Details), spent_coins(ctx, &hash)?),
        _ => (Some(TxDetail::WithPrevout), spent_coins(ctx, &hash)?),
    };
    Ok(block_json(
        &f,
        &block,
        detail,
        spent.as_deref(),
        ctx.params.network,
    ))
}

fn getchaintips(ctx: &Context, _: &Params) -> Result<Value, RpcError> {
    let (tip_height, tip) = ctx.tip();
    // Candidates from the header tree: every header no other header builds on.
    let rows = ctx.query(move |l| {
        let t = l.headers();
        let mut has_child = vec![false; t.len()];
        for id in 0..t.len() {
            if let Some(p) = t.header(id).and_then(|h| t.get(&h.prev_blockhash)) {
                if p != id {
                    has_child[p] = true;
                }
            }
        }
        let tip_id = t.get(&tip);
        let mut rows = Vec::new();
        for id in (0..t.len()).filter(|&id| !has_child[id] || Some(id) == tip_id) {
            let hash = t.hash(id);
            let fork = tip_id.map_or(0, |tid| t.height(t.fork_point(tid, id)));
            rows.push((
                id,
                hash,
                t.height(id),
                fork,
                t.is_invalid(id),
                l.was_disconnected(&hash),
                ancestors_to(t, id, fork),
            ));
        }
        rows
    })?;
    let blocks = ctx
        .blocks
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut tips: Vec<(u32, Value)> = Vec::new();
    for (_, hash, height, fork, invalid, disconnected, branch) in rows {
        let status = if hash == tip {
            "active"
        } else if invalid {
            "invalid"
        } else if branch.iter().any(|h| blocks.get(h).is_none()) {
            "headers-only"
        } else if disconnected {
            "valid-fork"
        } else {
            "valid-headers"
        };
        let branchlen = if hash == tip { 0 } else { height - fork };
        tips.push((
            height,
            json!({"height": height, "hash": to_display_hex(&hash), "branchlen": branchlen, "status": status}),
        ));
    }
    drop(blocks);
    let _ = tip_height;
    tips.sort_by_key(|t| std::cmp::Reverse(t.0));
    Ok(tips.into_iter().map(|(_, v)| v).collect::<Vec<_>>().into())
}

/// Hashes of `id` and its ancestors above height `fork`.
fn ancestors_to(t: &sluice_net::sync::HeaderTree, mut id: usize, fork: u32) -> Vec<Hash256> {
    let mut out = Vec::new();
    while t.height(id) > fork {
        out.push(t.hash(id));
        match t.header(id).and_then(|h| t.get(&h.prev_blockhash)) {
            Some(p) => id = p,
            None => break,
        }
    }
    out
}

fn gettxout(ctx: &Context, p: &Params) -> Result<Value, RpcError> {
    let txid = parse_hash(p.str(0).unwrap_or_default(), "txid")?;
    let vout: u32 = p.int(1)?.unwrap_or(0);
    let op = OutPoint { txid, vout };
    let include_mempool = p.bool(2).unwrap_or(true);
    if include_mempool && ctx.mempool().is_some_and(|m| m.spends(&op)) {
        return Ok(Value::Null);
    }
    let (coin, tip) = {
        let store = ctx.store();
        let coin = store
            .peek_coin(&op)
            .map_err(|e| RpcError::new(RPC_INTERNAL_ERROR, format!("reading the UTXO set: {e}")))?;
        (coin, store.tip().unwrap_or((0, ctx.params.genesis_hash)))
    };
    let Some(coin) = coin else {
        return Ok(Value::Null);
    };
    Ok(json!({
        "bestblock": to_display_hex(&tip.1),
        "confirmations": tip.0 - coin.height + 1,
        "value": amount(coin.value),
        "scriptPubKey": script_pubkey_json(&coin.script_pubkey, ctx.params.network),
        "coinbase": coin.coinbase,
    }))
}

fn gettxoutsetinfo(ctx: &Context, p: &Params) -> Result<Value, RpcError> {
    let hash_type = p.str(0).unwrap_or("hash_serialized_3");
    match hash_type {
        "muhash" | "none" => {}
        "hash_serialized_3" => {
            return Err(RpcError::new(
                RPC_INVALID_PARAMETER,
                "hash_serialized_3 is not supported by Sluice: use hash_type muhash or none",
            ))
        }
        other => {
            return Err(RpcError::new(
                RPC_INVALID_PARAMETER,
                format!("'{other}' is not a valid hash_type"),
            ))
        }
    }
    if p.get(1).is_some() {
        return Err(RpcError::new(
            RPC_INVALID_PARAMETER,
            "Querying specific block heights requires coinstatsindex",
        ));
    }
    // One consistent view: the read lock holds the apply stage off while the set is scanned.
    let store = ctx.store();
    let (height, hash) = store.tip().unwrap_or((0, ctx.params.genesis_hash));
    let mut txouts: u64 = 0;
    let mut bogosize: u64 = 0;
    let mut total: i64 = 0;
    store
        .for_each_coin(|_, c| {
            txouts += 1;
            // Core's bogosize: 32 + 4 + 4 + 8 + 2 + script length per output.
            bogosize += 50 + c.script_pubkey.len() as u64;
            total += c.value;
        })
        .map_err(|e| RpcError::new(RPC_INTERNAL_ERROR, format!("Unable to read UTXO set: {e}")))?;
    let muhash = if hash_type == "muhash" {
        Some(match store.muhash() {
            Some(m) => m,
            None => store.recompute_muhash().map_err(|e| {
                RpcError::new(RPC_INTERNAL_ERROR, format!("Unable to read UTXO set: {e}"))
            })?,
        })
    } else {
        None
    };
    drop(store);
    let mut o = serde_json::Map::new();
    o.insert("height".into(), height.into());
    o.insert("bestblock".into(), to_display_hex(&hash).into());
    o.insert("txouts".into(), txouts.into());
    o.insert("bogosize".into(), bogosize.into());
    if let Some(m) = muhash {
        o.insert("muhash".into(), to_display_hex(&m).into());
    }
    o.insert("total_amount".into(), amount(total));
    Ok(o.into())
}

/// How long `submitblock` waits for the chain thread's verdict.
const SUBMIT_WAIT: Duration = Duration::from_secs(60);

fn submitblock(ctx: &Context, p: &Params) -> Result<Value, RpcError> {
    let bytes = hex::decode(p.str(0).unwrap_or_default())
        .map_err(|_| RpcError::new(RPC_DESERIALIZATION_ERROR, "Block decode failed"))?;
    let block = Block::parse(&bytes)
        .map_err(|_| RpcError::new(RPC_DESERIALIZATION_ERROR, "Block decode failed"))?;
    if !block
        .transactions
        .first()
        .is_some_and(sluice_consensus::tx::Transaction::is_coinbase)
    {
        return Err(RpcError::new(
            RPC_DESERIALIZATION_ERROR,
            "Block does not start with a coinbase",
        ));
    }
    let hash = block.header.block_hash();
    drop(block);
    let bytes: Arc<[u8]> = bytes.into();
    let submitted = ctx
        .query(move |l| l.submit_block(bytes))?
        .map_err(|e| RpcError::new(RPC_INTERNAL_ERROR, format!("{e:#}")))?;
    let height = match submitted {
        Submitted::Answer(a) => return Ok(a.into()),
        Submitted::Queued { height } => height,
    };
    let start = Instant::now();
    while start.elapsed() < SUBMIT_WAIT {
        if ctx.hash_at(height)? == Some(hash) {
            return Ok(Value::Null);
        }
        if let Some(reason) = ctx.query(move |l| l.invalid_reason(&hash))? {
            return Ok(reason.into());
        }
        // A valid block on a branch with less work is stored but not connected.
        let behind = ctx.query(move |l| {
            let t = l.headers();
            t.get(&hash)
                .is_some_and(|id| t.work(id) < t.work(t.best_tip()))
        })?;
        if behind {
            return Ok("inconclusive".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok("inconclusive".into())
}
