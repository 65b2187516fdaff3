//! Transactions and blocks as Core's RPC shows them (core_io.cpp `TxToUniv`,
//! rpc/blockchain.cpp `blockheaderToJSON` / `blockToJSON`).

use serde_json::{json, Map, Value};
use sluice_consensus::block::Block;
use sluice_consensus::chain::{Network, U256};
use sluice_consensus::coin::Coin;
use sluice_consensus::hash::to_display_hex;
use sluice_consensus::header::Header;
use sluice_consensus::tx::Transaction;

use super::script::{script_pubkey_json, script_sig_json};

/// Core's `ValueFromAmount`: satoshis as a JSON number of bitcoins.
#[must_use]
pub fn amount(sats: i64) -> Value {
    // sats / 1e8 is the double nearest the 8-decimal number Core prints.
    #[allow(clippy::cast_precision_loss)]
    let btc = sats as f64 / 1e8;
    json!(btc)
}

/// A double as UniValue prints it (16 significant digits), so a client parsing Core's text and
/// ours gets the same number.
#[must_use]
pub fn univalue_double(d: f64) -> f64 {
    format!("{d:.15e}").parse().unwrap_or(d)
}

/// Core's `GetDifficulty` from compact bits.
#[must_use]
pub fn difficulty(bits: u32) -> f64 {
    let mut shift = (bits >> 24) & 0xff;
    let mut diff = f64::from(0xffff) / f64::from(bits & 0x00ff_ffff);
    while shift < 29 {
        diff *= 256.0;
        shift += 1;
    }
    while shift > 29 {
        diff /= 256.0;
        shift -= 1;
    }
    diff
}

/// A 256-bit number as Core's `GetHex` (64 hex digits, most significant first).
#[must_use]
pub fn u256_hex(v: &U256) -> String {
    let mut le = v.to_le_bytes();
    le.reverse();
    hex::encode(le)
}

/// Verbosity of transaction details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxDetail {
    /// Fields only (with `fee` when the spent coins are known).
    Details,
    /// Also each input's `prevout`.
    WithPrevout,
}

/// Core's `TxToUniv`. `spent`: the coins the inputs spend, in order (none for a coinbase or
/// when unknown).
#[must_use]
pub fn tx_json(
    tx: &Transaction<'_>,
    spent: Option<&[Coin]>,
    detail: TxDetail,
    include_hex: bool,
    network: Network,
) -> Map<String, Value> {
    let mut e = Map::new();
    e.insert("txid".into(), to_display_hex(&tx.txid()).into());
    e.insert("hash".into(), to_display_hex(&tx.wtxid()).into());
    e.insert("version".into(), tx.version.into());
    e.insert("size".into(), tx.total_size().into());
    e.insert("vsize".into(), tx.weight().div_ceil(4).into());
    e.insert("weight".into(), tx.weight().into());
    e.insert("locktime".into(), tx.lock_time.into());
    let spent = spent.filter(|s| s.len() == tx.inputs.len() && !tx.is_coinbase());
    let mut total_in: i64 = 0;
    let mut vin = Vec::with_capacity(tx.inputs.len());
    for (i, input) in tx.inputs.iter().enumerate() {
        let mut o = Map::new();
        if tx.is_coinbase() {
            o.insert("coinbase".into(), hex::encode(input.script_sig).into());
        } else {
            o.insert("txid".into(), to_display_hex(input.prev_txid).into());
            o.insert("vout".into(), input.prev_vout.into());
            o.insert("scriptSig".into(), script_sig_json(input.script_sig));
        }
        if !input.witness.is_empty() {
            let items: Vec<Value> = input
                .witness
                .iter()
                .map(|w| hex::encode(w).into())
                .collect();
            o.insert("txinwitness".into(), items.into());
        }
        if let Some(coin) = spent.map(|s| &s[i]) {
            total_in += coin.value;
            if detail == TxDetail::WithPrevout {
                o.insert(
                    "prevout".into(),
                    json!({
                        "generated": coin.coinbase,
                        "height": coin.height,
                        "value": amount(coin.value),
                        "scriptPubKey": script_pubkey_json(&coin.script_pubkey, network),
                    }),
                );
            }
        }
        o.insert("sequence".into(), input.sequence.into());
        vin.push(Value::Object(o));
    }
    e.insert("vin".into(), vin.into());
    let mut total_out: i64 = 0;
    let vout: Vec<Value> = tx
        .outputs
        .iter()
        .enumerate()
        .map(|(n, out)| {
            total_out += out.value;
            json!({
                "value": amount(out.value),
                "n": n,
                "scriptPubKey": script_pubkey_json(out.script_pubkey, network),
            })
        })
        .collect();
    e.insert("vout".into(), vout.into());
    if spent.is_some() {
        e.insert("fee".into(), amount(total_in - total_out));
    }
    if include_hex {
        e.insert("hex".into(), hex::encode(tx.raw()).into());
    }
    e
}

/// What a header's JSON needs besides the header: where it stands.
#[derive(Debug, Clone)]
pub struct HeaderFacts {
    pub header: Header,
    pub height: u32,
    pub median_time: i64,
    pub chainwork: U256,
    /// Transactions in the block (0 when its data is not held).
    pub n_tx: usize,
    /// `None`: not on the active chain (confirmations -1).
    pub confirmations: Option<u32>,
    pub next: Option<[u8; 32]>,
    pub target: U256,
}

/// Core's `blockheaderToJSON`.
#[must_use]
pub fn header_json(f: &HeaderFacts) -> Map<String, Value> {
    let h = &f.header;
    let mut o = Map::new();
    o.insert("hash".into(), to_display_hex(&h.block_hash()).into());
    o.insert(
        "confirmations".into(),
        f.confirmations.map_or(json!(-1), |c| json!(c)),
    );
    o.insert("height".into(), f.height.into());
    o.insert("version".into(), h.version.into());
    o.insert("versionHex".into(), format!("{:08x}", h.version).into());
    o.insert("merkleroot".into(), to_display_hex(&h.merkle_root).into());
    o.insert("time".into(), h.time.into());
    o.insert("mediantime".into(), f.median_time.into());
    o.insert("nonce".into(), h.nonce.into());
    o.insert("bits".into(), format!("{:08x}", h.bits).into());
    o.insert("target".into(), u256_hex(&f.target).into());
    o.insert(
        "difficulty".into(),
        univalue_double(difficulty(h.bits)).into(),
    );
    o.insert("chainwork".into(), u256_hex(&f.chainwork).into());
    o.insert("nTx".into(), f.n_tx.into());
    if f.height > 0 {
        o.insert(
            "previousblockhash".into(),
            to_display_hex(&h.prev_blockhash).into(),
        );
    }
    if let Some(n) = &f.next {
        o.insert("nextblockhash".into(), to_display_hex(n).into());
    }
    o
}

/// Core's `blockToJSON` at verbosity 1 (txids) or 2/3 (transactions; `spent` is the block's
/// undo data: the coins its non-coinbase inputs spend, in order).
#[must_use]
pub fn block_json(
    facts: &HeaderFacts,
    block: &Block<'_>,
    detail: Option<TxDetail>,
    spent: Option<&[Coin]>,
    network: Network,
) -> Value {
    let mut o = header_json(facts);
    o.insert("strippedsize".into(), block.base_size().into());
    o.insert("size".into(), block.total_size().into());
    o.insert("weight".into(), block.weight().into());
    if let Some(cb) = block.transactions.first() {
        let mut c = Map::new();
        c.insert("version".into(), cb.version.into());
        c.insert("locktime".into(), cb.lock_time.into());
        if let Some(input) = cb.inputs.first() {
            c.insert("sequence".into(), input.sequence.into());
            c.insert("coinbase".into(), hex::encode(input.script_sig).into());
            if let Some(w) = input.witness.iter().next() {
                c.insert("witness".into(), hex::encode(w).into());
            }
        }
        o.insert("coinbase_tx".into(), c.into());
    }
    let txs: Vec<Value> = match detail {
        None => block
            .transactions
            .iter()
            .map(|t| to_display_hex(&t.txid()).into())
            .collect(),
        Some(d) => {
            let mut offset = 0;
            block
                .transactions
                .iter()
                .map(|t| {
                    let coins = if t.is_coinbase() {
                        None
                    } else {
                        let s = spent.and_then(|s| s.get(offset..offset + t.inputs.len()));
                        offset += t.inputs.len();
                        s
                    };
                    Value::Object(tx_json(t, coins, d, true, network))
                })
                .collect()
        }
    };
    o.insert("tx".into(), txs.into());
    Value::Object(o)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn difficulty_and_amounts_like_core() {
        assert!((difficulty(0x1d00ffff) - 1.0).abs() < f64::EPSILON);
        assert_eq!(
            univalue_double(difficulty(0x207fffff)),
            4.656542373906925e-10
        );
        assert_eq!(amount(5_000_000_000), json!(50.0));
        assert_eq!(amount(1), json!(0.00000001));
        assert_eq!(amount(2_099_999_997_690_000), json!(20999999.9769));
    }

    #[test]
    fn genesis_coinbase_decodes_like_core() {
        let params = sluice_consensus::chain::Params::regtest();
        let bytes = params.genesis_block();
        let block = Block::parse(&bytes).unwrap();
        let tx = tx_json(
            &block.transactions[0],
            None,
            TxDetail::Details,
            false,
            Network::Regtest,
        );
        assert_eq!(
            tx["txid"],
            "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
        );
        assert_eq!(tx["vsize"], 204);
        assert_eq!(tx["vout"][0]["scriptPubKey"]["type"], "pubkey");
        assert!(tx["vin"][0]["coinbase"]
            .as_str()
            .unwrap()
            .starts_with("04ffff001d"));
        assert!(tx.get("fee").is_none());
    }
}
