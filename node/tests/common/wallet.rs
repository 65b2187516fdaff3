//! Spending the loadgen wallet's coins in tests: find unspent wallet outputs on a bitcoind's
//! chain and build signed transactions from them.

use bitcoin::absolute::LockTime;
use bitcoin::consensus::encode::{deserialize, serialize};
use bitcoin::transaction::Version;
use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness};
use sluice_bitcoind::Bitcoind;
use sluice_loadgen::sign::{sign_tx, Spend};
use sluice_loadgen::wallet::{SpendKind, Wallet};

/// A spendable wallet output.
#[derive(Debug, Clone)]
pub struct Coin {
    pub outpoint: OutPoint,
    pub txout: TxOut,
    pub kind: SpendKind,
    pub key: u16,
}

/// Up to `n` unspent, mature, non-coinbase wallet outputs worth more than 100,000 sat, found
/// by walking `core`'s blocks down from the tip (bounded by the chain's length).
pub fn find_coins(core: &Bitcoind, wallet: &Wallet, n: usize) -> Vec<Coin> {
    let mut out = Vec::new();
    let tip = core.height();
    for h in (1..=tip).rev() {
        let hash = core.cli(&["getblockhash", &h.to_string()]);
        let raw = hex::decode(core.cli(&["getblock", &hash, "0"]).trim()).unwrap();
        let block: bitcoin::Block = deserialize(&raw).unwrap();
        for tx in block.txdata.iter().skip(1) {
            let txid = tx.compute_txid();
            for (vout, o) in tx.output.iter().enumerate() {
                let Some((kind, key)) = wallet.owner(&o.script_pubkey) else {
                    continue;
                };
                if o.value.to_sat() <= 100_000 {
                    continue;
                }
                let unspent = core
                    .try_cli(&["gettxout", &txid.to_string(), &vout.to_string(), "true"])
                    .is_some_and(|s| !s.trim().is_empty() && s.trim() != "null");
                if unspent {
                    out.push(Coin {
                        outpoint: OutPoint {
                            txid,
                            vout: u32::try_from(vout).unwrap(),
                        },
                        txout: o.clone(),
                        kind,
                        key,
                    });
                    if out.len() >= n {
                        return out;
                    }
                }
            }
        }
    }
    out
}

/// A signed transaction spending `coin` to the wallet's key 0 (P2WPKH) less `fee`.
/// The one output of a [`spend`], as a coin to spend next (an unconfirmed child).
pub fn output_of(tx: &Transaction) -> Coin {
    Coin {
        outpoint: bitcoin::OutPoint {
            txid: tx.compute_txid(),
            vout: 0,
        },
        txout: tx.output[0].clone(),
        kind: SpendKind::P2wpkh,
        key: 0,
    }
}

pub fn spend(wallet: &Wallet, coin: &Coin, fee: u64) -> Transaction {
    let mut tx = Transaction {
        version: Version(2),
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: coin.outpoint,
            script_sig: ScriptBuf::new(),
            sequence: Sequence(0xffff_fffd),
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value: Amount::from_sat(coin.txout.value.to_sat() - fee),
            script_pubkey: wallet.spk(SpendKind::P2wpkh, 0).clone(),
        }],
    };
    sign_tx(
        &mut tx,
        std::slice::from_ref(&coin.txout),
        &[Spend::Wallet {
            kind: coin.kind,
            key: coin.key,
        }],
        wallet,
        &[3; 32],
    )
    .unwrap();
    tx
}

/// Hex of a transaction's serialisation.
pub fn hex_of(tx: &Transaction) -> String {
    hex::encode(serialize(tx))
}
