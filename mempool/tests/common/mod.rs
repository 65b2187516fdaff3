//! Shared test fixtures: a generated chain's UTXO set and headers as the pool's chain view,
//! and a builder of signed transactions spending the generator's wallet.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;

use bitcoin::absolute::LockTime;
use bitcoin::consensus::encode::serialize;
use bitcoin::hashes::Hash;
use bitcoin::transaction::Version;
use bitcoin::{
    Amount, OutPoint as BOutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness,
};
use sluice_consensus::chain::{AncestorInfo, AncestorView};
use sluice_consensus::coin::{Coin, OutPoint};
use sluice_consensus::script::ScriptFlags;
use sluice_loadgen::sign::{sign_tx, Spend};
use sluice_loadgen::wallet::{SpendKind, Wallet};
use sluice_mempool::{ChainTip, CoinSource};

/// The generated chain as the pool sees it: the tip's UTXO set and every header.
pub struct Chain {
    pub coins: HashMap<OutPoint, Coin>,
    pub headers: Vec<AncestorInfo>,
}

impl AncestorView for Chain {
    fn tip_height(&self) -> u32 {
        self.headers.len() as u32 - 1
    }
    fn ancestor(&self, height: u32) -> Option<AncestorInfo> {
        self.headers.get(height as usize).copied()
    }
}

impl CoinSource for Chain {
    fn coin(&self, outpoint: &OutPoint) -> Option<Coin> {
        self.coins.get(outpoint).cloned()
    }
}

pub fn op(o: &BOutPoint) -> OutPoint {
    OutPoint {
        txid: o.txid.to_byte_array(),
        vout: o.vout,
    }
}

impl Chain {
    /// Replays the blocks of a loadgen chain directory.
    pub fn load(dir: &Path) -> Self {
        let (_, blocks) = sluice_loadgen::read_chain(dir).unwrap();
        let mut chain = Chain {
            coins: HashMap::new(),
            headers: Vec::new(),
        };
        for (h, b) in blocks.iter().enumerate() {
            chain.connect(b, h as u32);
        }
        chain
    }

    pub fn connect(&mut self, b: &bitcoin::Block, height: u32) {
        self.headers.push(AncestorInfo {
            hash: b.block_hash().to_byte_array(),
            time: b.header.time,
            bits: b.header.bits.to_consensus(),
        });
        for tx in &b.txdata {
            let cb = tx.is_coinbase();
            if !cb {
                for i in &tx.input {
                    self.coins.remove(&op(&i.previous_output));
                }
            }
            let txid = tx.compute_txid().to_byte_array();
            for (vout, o) in tx.output.iter().enumerate() {
                self.coins.insert(
                    OutPoint {
                        txid,
                        vout: vout as u32,
                    },
                    Coin {
                        value: o.value.to_sat().cast_signed(),
                        script_pubkey: o.script_pubkey.to_bytes(),
                        height,
                        coinbase: cb,
                    },
                );
            }
        }
    }

    pub fn tip(&self) -> ChainTip<'_> {
        ChainTip {
            view: self,
            coins: self,
            script_flags: ScriptFlags::P2SH
                | ScriptFlags::DERSIG
                | ScriptFlags::CHECKLOCKTIMEVERIFY
                | ScriptFlags::CHECKSEQUENCEVERIFY
                | ScriptFlags::WITNESS
                | ScriptFlags::NULLDUMMY
                | ScriptFlags::TAPROOT,
        }
    }
}

/// A spendable output of the wallet.
#[derive(Debug, Clone)]
pub struct Utxo {
    pub outpoint: BOutPoint,
    pub txout: TxOut,
    pub kind: SpendKind,
    pub key: u16,
    /// Height of the creating block; `None` while unconfirmed.
    pub height: Option<u32>,
    pub coinbase: bool,
}

/// Wallet outputs of `chain`, sorted for determinism.
pub fn wallet_utxos(chain: &Chain, wallet: &Wallet) -> Vec<Utxo> {
    let mut v: Vec<Utxo> = chain
        .coins
        .iter()
        .filter_map(|(o, c)| {
            let spk = ScriptBuf::from_bytes(c.script_pubkey.clone());
            let (kind, key) = wallet.owner(&spk)?;
            Some(Utxo {
                outpoint: BOutPoint {
                    txid: bitcoin::Txid::from_byte_array(o.txid),
                    vout: o.vout,
                },
                txout: TxOut {
                    value: Amount::from_sat(c.value.cast_unsigned()),
                    script_pubkey: spk,
                },
                kind,
                key,
                height: Some(c.height),
                coinbase: c.coinbase,
            })
        })
        .collect();
    v.sort_by_key(|u| (u.height, u.outpoint));
    v
}

/// A generated `mainnet-mix` chain loaded into bitcoind and into a [`Chain`], with the wallet
/// that owns its coins and a clock an hour past its tip: the shared ground of the tests that
/// compare the pool with bitcoind.
pub struct Shared {
    /// The chain's block files (kept for as long as bitcoind may read them).
    pub dir: tempfile::TempDir,
    pub core: sluice_bitcoind::Bitcoind,
    pub chain: Chain,
    pub wallet: Wallet,
    pub now: i64,
}

impl Shared {
    pub fn start(blocks: u32, seed: u64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        sluice_loadgen::generate(
            &sluice_loadgen::ChainSpec::small("mainnet-mix", blocks, seed),
            dir.path(),
        )
        .unwrap();
        let core =
            sluice_bitcoind::Bitcoind::start(&[sluice_bitcoind::Bitcoind::loadblock(dir.path())]);
        core.wait_height(blocks, std::time::Duration::from_secs(120));
        let chain = Chain::load(dir.path());
        assert_eq!(chain.tip_height(), blocks);
        let now = i64::from(chain.headers.last().unwrap().time) + 3600;
        Self {
            dir,
            core,
            chain,
            wallet: Wallet::new(seed),
            now,
        }
    }
}

/// The wallet's coins worth more than `min_sat`: those spendable in the next block, and the
/// coinbase outputs not yet mature.
pub fn coins_of(chain: &Chain, wallet: &Wallet, min_sat: u64) -> (Vec<Utxo>, Vec<Utxo>) {
    let next = chain.tip_height() + 1;
    wallet_utxos(chain, wallet)
        .into_iter()
        .filter(|u| u.txout.value.to_sat() > min_sat)
        .partition(|u| !u.coinbase || next - u.height.unwrap_or(0) >= 100)
}

/// What a built transaction looks like before signing.
#[derive(Debug, Clone)]
pub struct Shape {
    pub version: i32,
    pub lock_time: u32,
    pub sequence: u32,
}

impl Default for Shape {
    fn default() -> Self {
        Self {
            version: 2,
            lock_time: 0,
            sequence: 0xffff_fffd,
        }
    }
}

/// Builds and signs a transaction spending `inputs` to `outputs`.
pub fn build(
    wallet: &Wallet,
    inputs: &[Utxo],
    outputs: Vec<TxOut>,
    shape: &Shape,
    salt: u64,
) -> Transaction {
    let mut tx = Transaction {
        version: Version(shape.version),
        lock_time: LockTime::from_consensus(shape.lock_time),
        input: inputs
            .iter()
            .map(|u| TxIn {
                previous_output: u.outpoint,
                script_sig: ScriptBuf::new(),
                sequence: Sequence(shape.sequence),
                witness: Witness::new(),
            })
            .collect(),
        output: outputs,
    };
    let prevouts: Vec<TxOut> = inputs.iter().map(|u| u.txout.clone()).collect();
    let spends: Vec<Spend> = inputs
        .iter()
        .map(|u| Spend::Wallet {
            kind: u.kind,
            key: u.key,
        })
        .collect();
    let mut aux = [0u8; 32];
    aux[..8].copy_from_slice(&salt.to_le_bytes());
    sign_tx(&mut tx, &prevouts, &spends, wallet, &aux).unwrap();
    tx
}

/// Builds a transaction paying `rate_milli` milli-sat per vbyte: all value to the outputs in
/// `pay` (fixed amounts) and the remainder to a change output of `change_kind`.
pub fn build_with_fee(
    wallet: &Wallet,
    inputs: &[Utxo],
    pay: Vec<TxOut>,
    change: Option<(SpendKind, u16)>,
    rate_milli: u64,
    shape: &Shape,
    salt: u64,
) -> Transaction {
    let total: u64 = inputs.iter().map(|u| u.txout.value.to_sat()).sum();
    let fixed: u64 = pay.iter().map(|o| o.value.to_sat()).sum();
    let mut outs = pay;
    if let Some((k, i)) = change {
        outs.push(TxOut {
            value: Amount::from_sat(total.saturating_sub(fixed)),
            script_pubkey: wallet.spk(k, i).clone(),
        });
    }
    let draft = build(wallet, inputs, outs.clone(), shape, salt);
    let vsize = draft.vsize() as u64 + 1;
    let fee = (vsize * rate_milli).div_ceil(1000);
    if change.is_some() {
        if let Some(last) = outs.last_mut() {
            last.value = Amount::from_sat(total.saturating_sub(fixed).saturating_sub(fee));
        }
    }
    build(wallet, inputs, outs, shape, salt)
}

pub fn raw(tx: &Transaction) -> Vec<u8> {
    serialize(tx)
}

/// The wallet outputs a transaction creates (unconfirmed).
pub fn outputs_of(tx: &Transaction, wallet: &Wallet) -> Vec<Utxo> {
    let txid = tx.compute_txid();
    tx.output
        .iter()
        .enumerate()
        .filter_map(|(i, o)| {
            let (kind, key) = wallet.owner(&o.script_pubkey)?;
            Some(Utxo {
                outpoint: BOutPoint {
                    txid,
                    vout: i as u32,
                },
                txout: o.clone(),
                kind,
                key,
                height: None,
                coinbase: false,
            })
        })
        .collect()
}

/// A synthetic chain of `height` blocks (regtest-like times) whose UTXO set holds `n`
/// wallet coins of every kind, confirmed at height 1, worth `value` each; no blocks are built.
pub fn synthetic(wallet: &Wallet, height: u32, n: u16, value: u64) -> (Chain, Vec<Utxo>) {
    let mut chain = Chain {
        coins: HashMap::new(),
        headers: (0..=height)
            .map(|h| AncestorInfo {
                hash: [h as u8; 32],
                time: 1_296_688_602 + 600 * h,
                bits: 0x207f_ffff,
            })
            .collect(),
    };
    let mut utxos = Vec::new();
    for i in 0..n {
        for (k, kind) in SpendKind::ALL.iter().enumerate() {
            let mut txid = [0u8; 32];
            txid[0] = k as u8;
            txid[1..3].copy_from_slice(&i.to_le_bytes());
            txid[31] = 0xee;
            let spk = wallet.spk(*kind, i).clone();
            chain.coins.insert(
                OutPoint { txid, vout: 0 },
                Coin {
                    value: value.cast_signed(),
                    script_pubkey: spk.to_bytes(),
                    height: 1,
                    coinbase: false,
                },
            );
            utxos.push(Utxo {
                outpoint: BOutPoint {
                    txid: bitcoin::Txid::from_byte_array(txid),
                    vout: 0,
                },
                txout: TxOut {
                    value: Amount::from_sat(value),
                    script_pubkey: spk,
                },
                kind: *kind,
                key: i,
                height: Some(1),
                coinbase: false,
            });
        }
    }
    (chain, utxos)
}
