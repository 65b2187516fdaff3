//! getrawtransaction (from a given block, or the mempool through its view) and
//! decoderawtransaction.

use std::sync::Arc;

use serde_json::{Map, Value};
use sluice_consensus::block::Block;
use sluice_consensus::hash::to_display_hex;
use sluice_consensus::tx::Transaction;

use super::super::error::{
    RpcError, RPC_DESERIALIZATION_ERROR, RPC_INTERNAL_ERROR, RPC_INVALID_ADDRESS_OR_KEY,
    RPC_MISC_ERROR,
};
use super::super::registry::{Arg, ArgType, Params, Registry};
use super::super::tx::{tx_json, TxDetail};
use super::super::{parse_hash, Context};
use super::add;
use super::chain::{facts, spent_coins, type_name};

const CAT: &str = "Rawtransactions";

pub(super) fn register(reg: &mut Registry, ctx: &Arc<Context>) {
    use ArgType::{Any, Bool, Str};
    add(reg, ctx, ("getrawtransaction", CAT, "By default, this call only returns a transaction if it is in the mempool. If -txindex is enabled and no blockhash argument is passed, it will return the transaction if it is in a block in the blockchain."), &[Arg::req("txid", Str), Arg::opt("verbosity|verbose", Any), Arg::opt("blockhash", Str)], getrawtransaction);
    add(
        reg,
        ctx,
        (
            "decoderawtransaction",
            CAT,
            "Return a JSON object representing the serialized, hex-encoded transaction.",
        ),
        &[Arg::req("hexstring", Str), Arg::opt("iswitness", Bool)],
        decoderawtransaction,
    );
}

fn decode_failed() -> RpcError {
    RpcError::new(RPC_DESERIALIZATION_ERROR, "TX decode failed")
}

fn decoderawtransaction(ctx: &Context, p: &Params) -> Result<Value, RpcError> {
    let bytes = hex::decode(p.str(0).unwrap_or_default()).map_err(|_| decode_failed())?;
    let tx = Transaction::parse_exact(&bytes).map_err(|_| decode_failed())?;
    if p.bool(1) == Some(false) && tx.has_witness() {
        return Err(decode_failed());
    }
    Ok(tx_json(&tx, None, TxDetail::Details, false, ctx.params.network).into())
}

fn verbosity(p: &Params) -> Result<i64, RpcError> {
    match p.get(1) {
        None => Ok(0),
        Some(Value::Bool(b)) => Ok(i64::from(*b)),
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| RpcError::new(-3, "JSON integer out of range")),
        Some(v) => Err(RpcError::new(
            -3,
            format!(
                "JSON value of type {} is not of expected type number",
                type_name(v)
            ),
        )),
    }
}

fn getrawtransaction(ctx: &Context, p: &Params) -> Result<Value, RpcError> {
    let txid = parse_hash(p.str(0).unwrap_or_default(), "parameter 1")?;
    let genesis = ctx.params.genesis_block();
    let genesis_merkle = Block::parse(&genesis)
        .map(|b| b.header.merkle_root)
        .unwrap_or_default();
    if txid == genesis_merkle {
        return Err(RpcError::new(
            RPC_INVALID_ADDRESS_OR_KEY,
            "The genesis block coinbase is not considered an ordinary transaction and cannot be retrieved",
        ));
    }
    let level = verbosity(p)?;
    let Some(block_hash) = p.str(2) else {
        let Some(raw) = ctx.mempool().and_then(|m| m.transaction(&txid)) else {
            return Err(RpcError::new(
                RPC_INVALID_ADDRESS_OR_KEY,
                "No such mempool transaction. Use -txindex or provide a block hash to enable blockchain transaction queries. Use gettransaction for wallet transactions.",
            ));
        };
        if level <= 0 {
            return Ok(hex::encode(raw).into());
        }
        let tx = Transaction::parse_exact(&raw).map_err(|e| {
            RpcError::new(
                RPC_INTERNAL_ERROR,
                format!("a mempool transaction does not parse: {e}"),
            )
        })?;
        return Ok(tx_json(&tx, None, TxDetail::Details, true, ctx.params.network).into());
    };
    let hash = parse_hash(block_hash, "parameter 3")?;
    let f = facts(ctx, hash)?
        .ok_or_else(|| RpcError::new(RPC_INVALID_ADDRESS_OR_KEY, "Block hash not found"))?;
    let bytes = ctx
        .block_bytes(&hash)?
        .ok_or_else(|| RpcError::new(RPC_MISC_ERROR, "Block not available"))?;
    let block = Block::parse(&bytes).map_err(|e| {
        RpcError::new(
            RPC_INTERNAL_ERROR,
            format!("a stored block no longer parses: {e}"),
        )
    })?;
    let mut offset = 0;
    let mut found = None;
    for t in &block.transactions {
        if t.txid() == txid {
            found = Some((t, offset));
            break;
        }
        if !t.is_coinbase() {
            offset += t.inputs.len();
        }
    }
    let Some((tx, offset)) = found else {
        return Err(RpcError::new(
            RPC_INVALID_ADDRESS_OR_KEY,
            "No such transaction found in the provided block. Use gettransaction for wallet transactions.",
        ));
    };
    if level <= 0 {
        return Ok(hex::encode(tx.raw()).into());
    }
    let active = f.confirmations.is_some();
    let spent = if level >= 2 && !tx.is_coinbase() {
        spent_coins(ctx, &hash)?
            .and_then(|s| s.get(offset..offset + tx.inputs.len()).map(<[_]>::to_vec))
    } else {
        None
    };
    let detail = if spent.is_some() {
        TxDetail::WithPrevout
    } else {
        TxDetail::Details
    };
    let mut o = Map::new();
    o.insert("in_active_chain".into(), active.into());
    o.extend(tx_json(
        tx,
        spent.as_deref(),
        detail,
        true,
        ctx.params.network,
    ));
    o.insert("blockhash".into(), to_display_hex(&hash).into());
    match f.confirmations {
        Some(c) => {
            o.insert("confirmations".into(), c.into());
            o.insert("time".into(), f.header.time.into());
            o.insert("blocktime".into(), f.header.time.into());
        }
        None => {
            o.insert("confirmations".into(), 0.into());
        }
    }
    Ok(o.into())
}
