//! The mempool's methods, as Core's src/rpc/mempool.cpp: sendrawtransaction,
//! testmempoolaccept, getmempoolinfo, getrawmempool, getmempoolentry.

use std::sync::Arc;

use serde_json::{json, Map, Value};
use sluice_consensus::hash::{to_display_hex, Hash256};
use sluice_consensus::script::Instructions;
use sluice_consensus::tx::Transaction;
use sluice_mempool::{Accepted, FeeRate, PackageResult, Reject, RejectKind, MAX_PACKAGE_COUNT};

use super::super::error::{
    RpcError, RPC_DESERIALIZATION_ERROR, RPC_INTERNAL_ERROR, RPC_INVALID_ADDRESS_OR_KEY,
    RPC_INVALID_PARAMETER, RPC_TYPE_ERROR, RPC_VERIFY_ALREADY_IN_UTXO_SET, RPC_VERIFY_ERROR,
    RPC_VERIFY_REJECTED,
};
use super::super::registry::{Arg, ArgType, Method, Params, Registry};
use super::super::tx::amount;
use super::super::{parse_hash, Context};
use crate::run::{MempoolFault, NodeMempool, Offer, Pool};

const CAT: &str = "Rawtransactions";
const CAT_CHAIN: &str = "Blockchain";
/// Core's `DEFAULT_MAX_RAW_TX_FEE_RATE`: 0.10 BTC/kvB.
const DEFAULT_MAX_FEE_RATE: i64 = 10_000_000;
const COIN: i64 = 100_000_000;
const MAX_MONEY: i64 = 21_000_000 * COIN;
/// Core's `MAX_OPCODE` (OP_CHECKSIGADD): `HasValidOps` refuses anything above.
const MAX_OPCODE: u8 = 0xba;
const MAX_SCRIPT_SIZE: usize = 10_000;
const OP_RETURN: u8 = 0x6a;

type Handler = fn(&Context, &NodeMempool, &Params) -> Result<Value, RpcError>;

/// Registers the mempool's methods over `ctx` and the node's pool.
pub fn register(reg: &mut Registry, ctx: &Arc<Context>, pool: &Arc<NodeMempool>) {
    use ArgType::{Any, Arr, Bool, Str};
    let methods: [(&'static str, &'static str, &'static str, Vec<Arg>, Handler); 5] = [
        (
            "sendrawtransaction",
            CAT,
            "Submit a raw transaction (serialized, hex-encoded) to the local node and network.",
            vec![
                Arg::req("hexstring", Str),
                Arg::opt("maxfeerate", Any),
                Arg::opt("maxburnamount", Any),
            ],
            sendrawtransaction,
        ),
        (
            "testmempoolaccept",
            CAT,
            "Returns result of mempool acceptance tests indicating if raw transaction(s) (serialized, hex-encoded) would be accepted by mempool.",
            vec![Arg::req("rawtxs", Arr), Arg::opt("maxfeerate", Any)],
            testmempoolaccept,
        ),
        (
            "getmempoolinfo",
            CAT_CHAIN,
            "Returns details on the active state of the TX memory pool.",
            vec![],
            getmempoolinfo,
        ),
        (
            "getrawmempool",
            CAT_CHAIN,
            "Returns all transaction ids in memory pool as a json array of string transaction ids.",
            vec![Arg::opt("verbose", Bool), Arg::opt("mempool_sequence", Bool)],
            getrawmempool,
        ),
        (
            "getmempoolentry",
            CAT_CHAIN,
            "Returns mempool data for given transaction",
            vec![Arg::req("txid", Str)],
            getmempoolentry,
        ),
    ];
    for (name, category, summary, args, f) in methods {
        let ctx = ctx.clone();
        let pool = pool.clone();
        reg.add(Method {
            name,
            category,
            args,
            summary,
            handler: Arc::new(move |p: &Params| f(&ctx, &pool, p)),
        });
    }
}

fn fault(e: &MempoolFault) -> RpcError {
    RpcError::new(RPC_INTERNAL_ERROR, format!("mempool: {e}"))
}

/// Core's `AmountFromValue` (numbers or strings, at most 8 decimals, within the money range).
fn amount_from_value(v: &Value) -> Result<i64, RpcError> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => {
            return Err(RpcError::new(
                RPC_TYPE_ERROR,
                "Amount is not a number or string",
            ))
        }
    };
    let invalid = || RpcError::new(RPC_TYPE_ERROR, "Invalid amount");
    let (mantissa, exp) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().map_err(|_| invalid())?),
        None => (text.as_str(), 0),
    };
    if mantissa.starts_with('-') {
        return Err(RpcError::new(RPC_TYPE_ERROR, "Amount out of range"));
    }
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return Err(invalid());
    }
    // Digits as an integer scaled by 10^-(frac.len() - exp - 8): must come out whole.
    let digits: String = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    let shift = 8 + exp - i32::try_from(frac.len()).map_err(|_| invalid())?;
    let mut value: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| invalid())?
    };
    if shift >= 0 {
        for _ in 0..shift {
            value = value.checked_mul(10).ok_or_else(invalid)?;
            if value > i128::from(MAX_MONEY) * 10 {
                return Err(RpcError::new(RPC_TYPE_ERROR, "Amount out of range"));
            }
        }
    } else {
        for _ in 0..-shift {
            if value % 10 != 0 {
                return Err(invalid());
            }
            value /= 10;
        }
    }
    if value > i128::from(MAX_MONEY) {
        return Err(RpcError::new(RPC_TYPE_ERROR, "Amount out of range"));
    }
    i64::try_from(value).map_err(|_| invalid())
}

/// Core's `ParseFeeRate`: `maxfeerate` in BTC/kvB, below 1 BTC/kvB.
fn max_fee_rate(p: &Params, i: usize) -> Result<i64, RpcError> {
    let Some(v) = p.get(i) else {
        return Ok(DEFAULT_MAX_FEE_RATE);
    };
    let rate = amount_from_value(v)?;
    if rate >= COIN {
        return Err(RpcError::new(
            RPC_INVALID_PARAMETER,
            "Fee rates larger than or equal to 1BTC/kvB are not accepted",
        ));
    }
    Ok(rate)
}

/// Core's `CScript::IsUnspendable() || !HasValidOps()`: outputs `maxburnamount` limits.
fn is_burn(script: &[u8]) -> bool {
    if script.first() == Some(&OP_RETURN) || script.len() > MAX_SCRIPT_SIZE {
        return true;
    }
    let mut ops = Instructions::new(script);
    let bad_op = ops.by_ref().any(|(op, _)| op > MAX_OPCODE);
    bad_op || ops.failed()
}

fn sendrawtransaction(ctx: &Context, mp: &NodeMempool, p: &Params) -> Result<Value, RpcError> {
    let decode_failed = || {
        RpcError::new(
            RPC_DESERIALIZATION_ERROR,
            "TX decode failed. Make sure the tx has at least one input.",
        )
    };
    let raw = hex::decode(p.str(0).unwrap_or_default()).map_err(|_| decode_failed())?;
    let tx = Transaction::parse_exact(&raw).map_err(|_| decode_failed())?;
    if tx.inputs.is_empty() {
        return Err(decode_failed());
    }
    let max_burn = p.get(2).map(amount_from_value).transpose()?.unwrap_or(0);
    if tx
        .outputs
        .iter()
        .any(|o| is_burn(o.script_pubkey) && o.value > max_burn)
    {
        return Err(RpcError::new(
            RPC_VERIFY_ERROR,
            "Unspendable output exceeds maximum configured by user (maxburnamount)",
        ));
    }
    let max_rate = max_fee_rate(p, 1)?;
    let vsize = tx.weight().div_ceil(4);
    let max_fee = FeeRate::per_kvb(max_rate).fee(i64::try_from(vsize).unwrap_or(i64::MAX));
    let txid = tx.txid();
    let outputs = u32::try_from(tx.outputs.len()).unwrap_or(u32::MAX);
    if mp
        .has_unspent_output(&txid, outputs)
        .map_err(|e| fault(&e))?
    {
        return Err(RpcError::new(
            RPC_VERIFY_ALREADY_IN_UTXO_SET,
            "Transaction outputs already in utxo set",
        ));
    }
    let in_pool = mp.lock().pool.contains_txid(&txid);
    if !in_pool {
        if max_fee > 0 {
            match mp.offer(&raw, true).map_err(|e| fault(&e))? {
                Offer::Rejected(r) => return Err(atmp_error(&r)),
                Offer::Accepted(a) if a.fee > max_fee => {
                    return Err(RpcError::new(
                        RPC_VERIFY_ERROR,
                        "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)",
                    ))
                }
                Offer::Accepted(_) => {}
            }
        }
        match mp.offer(&raw, false).map_err(|e| fault(&e))? {
            Offer::Rejected(r) => return Err(atmp_error(&r)),
            Offer::Accepted(_) => {
                mp.lock().unbroadcast.insert(txid);
            }
        }
    }
    // Announce (again, if it was in the pool already) to every peer.
    let wtxid = mp.lock().pool.get(&txid).map(|e| e.wtxid);
    if let Some(wtxid) = wtxid {
        ctx.query(move |l| l.relay_transaction(txid, wtxid))?;
    }
    Ok(to_display_hex(&txid).into())
}

/// Core's `HandleATMPError` through `JSONRPCTransactionError`: missing inputs -25, every
/// other rejection -26, with the validation state's text.
fn atmp_error(r: &sluice_mempool::Reject) -> RpcError {
    let code = if r.kind == RejectKind::MissingInputs {
        RPC_VERIFY_ERROR
    } else {
        RPC_VERIFY_REJECTED
    };
    RpcError::new(code, r.to_string())
}

fn testmempoolaccept(_: &Context, mp: &NodeMempool, p: &Params) -> Result<Value, RpcError> {
    let rawtxs = p
        .get(0)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if rawtxs.is_empty() || rawtxs.len() > MAX_PACKAGE_COUNT {
        return Err(RpcError::new(
            RPC_INVALID_PARAMETER,
            format!("Array must contain between 1 and {MAX_PACKAGE_COUNT} transactions."),
        ));
    }
    let max_rate = max_fee_rate(p, 1)?;
    let mut raws = Vec::with_capacity(rawtxs.len());
    for v in &rawtxs {
        let s = v.as_str().ok_or_else(|| {
            RpcError::new(
                RPC_TYPE_ERROR,
                "JSON value of type non-string is not of expected type string",
            )
        })?;
        let failed = || {
            RpcError::new(
                RPC_DESERIALIZATION_ERROR,
                format!("TX decode failed: {s} Make sure the tx has at least one input."),
            )
        };
        let raw = hex::decode(s).map_err(|_| failed())?;
        match Transaction::parse_exact(&raw) {
            Ok(t) if !t.inputs.is_empty() => {}
            _ => return Err(failed()),
        }
        raws.push(raw);
    }
    if raws.len() > 1 {
        let r = mp.test_package(&raws).map_err(|e| fault(&e))?;
        return Ok(package_answer(&raws, &r, max_rate));
    }
    let raw = &raws[0];
    let tx = Transaction::parse_exact(raw).map_err(|_| RpcError::misc("decode"))?;
    let mut o = Map::new();
    o.insert("txid".into(), to_display_hex(&tx.txid()).into());
    o.insert("wtxid".into(), to_display_hex(&tx.wtxid()).into());
    let verdict = match mp.offer(raw, true).map_err(|e| fault(&e))? {
        Offer::Accepted(a) => Ok(a),
        Offer::Rejected(r) => Err(r),
    };
    verdict_fields(&mut o, &verdict, max_rate);
    Ok(Value::Array(vec![o.into()]))
}

/// One transaction's verdict as testmempoolaccept shows it; `false` when the client's
/// maximum fee rate is exceeded (Core then leaves the later transactions blank).
fn verdict_fields(
    o: &mut Map<String, Value>,
    verdict: &Result<Accepted, Reject>,
    max_rate: i64,
) -> bool {
    match verdict {
        Ok(a) => {
            let max_fee = FeeRate::per_kvb(max_rate).fee(a.vsize);
            if max_fee != 0 && a.fee > max_fee {
                o.insert("allowed".into(), false.into());
                o.insert("reject-reason".into(), "max-fee-exceeded".into());
                return false;
            }
            o.insert("allowed".into(), true.into());
            o.insert("vsize".into(), a.vsize.into());
            o.insert(
                "fees".into(),
                json!({
                    "base": amount(a.fee),
                    "effective-feerate": amount(a.effective_feerate.sat_per_kvb()),
                    "effective-includes": [to_display_hex(&a.wtxid)],
                }),
            );
        }
        Err(r) => {
            o.insert("allowed".into(), false.into());
            if r.kind == RejectKind::MissingInputs {
                o.insert("reject-reason".into(), "missing-inputs".into());
            } else {
                o.insert("reject-reason".into(), r.reason.clone().into());
                o.insert("reject-details".into(), r.to_string().into());
            }
        }
    }
    true
}

/// Core's answer for a package: every transaction's txid and wtxid, the package error when
/// a package-wide rule failed, and verdicts in order up to the first failure.
fn package_answer(raws: &[Vec<u8>], r: &PackageResult, max_rate: i64) -> Value {
    let mut out = Vec::with_capacity(raws.len());
    let mut exit_early = false;
    for (i, raw) in raws.iter().enumerate() {
        let mut o = Map::new();
        if let Ok(tx) = Transaction::parse_exact(raw) {
            o.insert("txid".into(), to_display_hex(&tx.txid()).into());
            o.insert("wtxid".into(), to_display_hex(&tx.wtxid()).into());
        }
        if let Some(e) = &r.package_error {
            o.insert("package-error".into(), e.to_string().into());
        }
        if let Some(Some(verdict)) = r.results.get(i).filter(|_| !exit_early) {
            exit_early = !verdict_fields(&mut o, verdict, max_rate);
        }
        out.push(Value::Object(o));
    }
    Value::Array(out)
}

fn getmempoolinfo(_: &Context, mp: &NodeMempool, _: &Params) -> Result<Value, RpcError> {
    let mut p = mp.lock();
    let unbroadcast = p.unbroadcast.len();
    let i = p.pool.info(crate::run::now_secs());
    Ok(json!({
        "loaded": true,
        "size": i.size,
        "bytes": i.bytes,
        "usage": i.usage,
        "total_fee": amount(i.total_fee),
        "maxmempool": i.max_mempool,
        "mempoolminfee": amount(i.mempool_min_fee),
        "minrelaytxfee": amount(i.min_relay_tx_fee),
        "incrementalrelayfee": amount(i.incremental_relay_fee),
        "unbroadcastcount": unbroadcast,
        "permitbaremultisig": i.permit_bare_multisig,
        "maxdatacarriersize": i.max_datacarrier_size,
        "limitclustercount": i.limit_cluster_count,
        "limitclustersize": i.limit_cluster_size,
        // Sluice's linearization is optimal for the clusters it builds chunks for exactly
        // (chains and trees); see docs/rpc.md.
        "optimal": true,
    }))
}

/// Core's `entryToJSON` (without the deprecated `bip125-replaceable`).
fn entry_json(p: &Pool, txid: &Hash256) -> Option<Value> {
    let e = p.pool.entry_info(txid)?;
    let sorted = |v: &[Hash256]| {
        let mut s: Vec<String> = v.iter().map(to_display_hex).collect();
        s.sort();
        s
    };
    Some(json!({
        "vsize": e.vsize,
        "weight": e.weight,
        "time": e.time,
        "height": e.height,
        "descendantcount": e.descendant_count,
        "descendantsize": e.descendant_size,
        "ancestorcount": e.ancestor_count,
        "ancestorsize": e.ancestor_size,
        "wtxid": to_display_hex(&e.wtxid),
        "chunkweight": e.chunk_weight,
        "fees": {
            "base": amount(e.fee_base),
            "modified": amount(e.fee_modified),
            "ancestor": amount(e.fee_ancestor),
            "descendant": amount(e.fee_descendant),
            "chunk": amount(e.chunk_fee),
        },
        "depends": sorted(&e.depends),
        "spentby": sorted(&e.spent_by),
        "unbroadcast": p.unbroadcast.contains(txid),
    }))
}

fn getrawmempool(_: &Context, mp: &NodeMempool, p: &Params) -> Result<Value, RpcError> {
    let verbose = p.bool(0).unwrap_or(false);
    let with_sequence = p.bool(1).unwrap_or(false);
    let pool = mp.lock();
    let txids = pool.pool.txids();
    if verbose {
        if with_sequence {
            return Err(RpcError::new(
                RPC_INVALID_PARAMETER,
                "Verbose results cannot contain mempool sequence values.",
            ));
        }
        let mut o = Map::new();
        for t in &txids {
            if let Some(e) = entry_json(&pool, t) {
                o.insert(to_display_hex(t), e);
            }
        }
        return Ok(o.into());
    }
    let list: Vec<Value> = txids.iter().map(|t| to_display_hex(t).into()).collect();
    if with_sequence {
        return Ok(json!({"txids": list, "mempool_sequence": pool.sequence}));
    }
    Ok(list.into())
}

fn getmempoolentry(_: &Context, mp: &NodeMempool, p: &Params) -> Result<Value, RpcError> {
    let txid = parse_hash(p.str(0).unwrap_or_default(), "txid")?;
    let pool = mp.lock();
    entry_json(&pool, &txid)
        .ok_or_else(|| RpcError::new(RPC_INVALID_ADDRESS_OR_KEY, "Transaction not in mempool"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_as_core_does() {
        let ok = |v: Value, sat: i64| assert_eq!(amount_from_value(&v), Ok(sat), "{v}");
        ok(json!(0.1), 10_000_000);
        ok(json!(1e-8), 1);
        ok(json!("0.00000001"), 1);
        ok(json!(21_000_000), MAX_MONEY);
        ok(json!(0), 0);
        ok(json!("1.5e-3"), 150_000);
        for bad in [json!(1e-9), json!("0.000000001"), json!("x"), json!("")] {
            assert_eq!(
                amount_from_value(&bad).map_err(|e| e.code),
                Err(RPC_TYPE_ERROR),
                "{bad}"
            );
        }
        for out in [json!(-1), json!(21_000_001), json!("1e20")] {
            let e = amount_from_value(&out).unwrap_err();
            assert_eq!(e.message, "Amount out of range", "{out}");
        }
        assert_eq!(
            amount_from_value(&json!(true)).unwrap_err().message,
            "Amount is not a number or string"
        );
    }

    #[test]
    fn burn_outputs_are_op_return_oversized_or_undecodable() {
        assert!(is_burn(&[OP_RETURN, 1, 0]));
        assert!(is_burn(&[0x4c])); // OP_PUSHDATA1 without its length
        assert!(is_burn(&[0xff])); // above MAX_OPCODE
        assert!(is_burn(&vec![0x51; MAX_SCRIPT_SIZE + 1]));
        assert!(!is_burn(&[
            0x00, 0x14, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20
        ]));
        assert!(!is_burn(&[0x51]));
    }
}
