//! A small synthetic regtest chain builder for tests and the fallback demo: real proof of work,
//! BIP34 coinbases, and transactions spending anyone-can-spend (`OP_TRUE`) outputs, so blocks
//! are fully valid without signatures. Forks are built by starting from any earlier tip.
//!
//! It exercises every stage except signature checking; signed chains come from `sluice-loadgen`.

use sluice_consensus::chain::block_check::bip34_height_push;
use sluice_consensus::chain::params::COINBASE_MATURITY;
use sluice_consensus::chain::{check_proof_of_work, subsidy, Params};
use sluice_consensus::coin::{Amount, OutPoint};
use sluice_consensus::encode::write_compact_size;
use sluice_consensus::hash::{sha256d, Hash256};
use sluice_consensus::header::Header;
use sluice_consensus::merkle::merkle_root;

/// `OP_TRUE`: anyone can spend.
pub const OP_TRUE: [u8; 1] = [0x51];

/// A spendable output the builder knows about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spendable {
    pub outpoint: OutPoint,
    pub value: Amount,
    pub height: u32,
    pub coinbase: bool,
}

/// The tip of one branch being built.
#[derive(Debug, Clone)]
pub struct Branch {
    pub header: Header,
    pub height: u32,
    /// Unspent outputs on this branch, oldest first.
    pub utxos: Vec<Spendable>,
}

fn tx_bytes(inputs: &[(OutPoint, Vec<u8>)], outputs: &[(Amount, &[u8])]) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(&1i32.to_le_bytes());
    write_compact_size(&mut t, inputs.len() as u64);
    for (op, script_sig) in inputs {
        t.extend_from_slice(&op.txid);
        t.extend_from_slice(&op.vout.to_le_bytes());
        write_compact_size(&mut t, script_sig.len() as u64);
        t.extend_from_slice(script_sig);
        t.extend_from_slice(&u32::MAX.to_le_bytes());
    }
    write_compact_size(&mut t, outputs.len() as u64);
    for (v, spk) in outputs {
        t.extend_from_slice(&v.to_le_bytes());
        write_compact_size(&mut t, spk.len() as u64);
        t.extend_from_slice(spk);
    }
    t.extend_from_slice(&0u32.to_le_bytes());
    t
}

impl Branch {
    /// The genesis block of `params` as a branch start.
    #[must_use]
    pub fn genesis(params: &Params) -> Self {
        Self {
            header: params.genesis_header(),
            height: 0,
            utxos: Vec::new(),
        }
    }

    /// Mines the next block: a coinbase tagged `tag` (so sibling branches differ) and `spends`
    /// transactions, each spending the oldest mature output into two `OP_TRUE` outputs.
    /// Returns the serialised block.
    pub fn mine(&mut self, params: &Params, tag: u8, spends: usize) -> Vec<u8> {
        let height = self.height + 1;
        let mut txs = Vec::new();
        let mut created = Vec::new();
        let mut taken = 0;
        let mature = |u: &Spendable| !u.coinbase || height - u.height >= COINBASE_MATURITY;
        let mut i = 0;
        while taken < spends && i < self.utxos.len() {
            if !mature(&self.utxos[i]) || self.utxos[i].value < 2 {
                i += 1;
                continue;
            }
            let u = self.utxos.remove(i);
            let half = u.value / 2;
            let tx = tx_bytes(
                &[(u.outpoint, Vec::new())],
                &[(half, &OP_TRUE), (u.value - half, &OP_TRUE)],
            );
            let txid = sha256d(&tx);
            for (vout, value) in [(0, half), (1, u.value - half)] {
                created.push(Spendable {
                    outpoint: OutPoint { txid, vout },
                    value,
                    height,
                    coinbase: false,
                });
            }
            txs.push(tx);
            taken += 1;
        }
        let mut script_sig = bip34_height_push(height);
        script_sig.extend_from_slice(&[tag, 0x51]);
        let reward = subsidy(height, params);
        let cb = tx_bytes(&[(OutPoint::NULL, script_sig)], &[(reward, &OP_TRUE)]);
        let cb_txid = sha256d(&cb);
        txs.insert(0, cb);
        let txids: Vec<Hash256> = txs.iter().map(|t| sha256d(t)).collect();
        let mut header = Header {
            version: 4,
            prev_blockhash: self.header.block_hash(),
            merkle_root: merkle_root(&txids).0,
            time: self.header.time + 600,
            bits: self.header.bits,
            nonce: 0,
        };
        while !check_proof_of_work(&header.block_hash(), header.bits, params) {
            header.nonce += 1;
        }
        let mut block = header.encode().to_vec();
        write_compact_size(&mut block, txs.len() as u64);
        for t in &txs {
            block.extend_from_slice(t);
        }
        self.utxos.push(Spendable {
            outpoint: OutPoint {
                txid: cb_txid,
                vout: 0,
            },
            value: reward,
            height,
            coinbase: true,
        });
        self.utxos.extend(created);
        self.header = header;
        self.height = height;
        block
    }
}

/// Frames blocks as a Core block file for `magic`.
#[must_use]
pub fn frame(magic: [u8; 4], blocks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for b in blocks {
        out.extend_from_slice(&magic);
        out.extend_from_slice(&u32::try_from(b.len()).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(b);
    }
    out
}

/// A linear regtest chain of `n` blocks after genesis, spending `spends` outputs per block.
#[must_use]
pub fn linear(params: &Params, n: u32, spends: usize) -> Vec<Vec<u8>> {
    let mut b = Branch::genesis(params);
    (0..n).map(|_| b.mine(params, 0, spends)).collect()
}

/// A regtest import configuration for tests: a small (32 MiB) UTXO cache, otherwise defaults.
#[must_use]
pub fn test_import_config(datadir: std::path::PathBuf) -> crate::ImportConfig {
    let mut c = crate::ImportConfig::new(sluice_consensus::chain::Network::Regtest, datadir);
    c.cache_bytes = 32 << 20;
    c
}

/// Copies a directory tree (a datadir, so each candidate block can be tried on a fresh copy).
///
/// # Errors
/// Any I/O error.
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let dest = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &dest)?;
        } else {
            std::fs::copy(e.path(), dest)?;
        }
    }
    Ok(())
}

/// A regtest chain prefix imported once, on top of which single candidate blocks are tried,
/// each on its own copy of the datadir (mutants and their twins in the differential tests).
#[derive(Debug)]
pub struct PrefixFixture {
    work: std::path::PathBuf,
    file: std::path::PathBuf,
    datadir: std::path::PathBuf,
    /// The import of the prefix itself.
    pub report: crate::ImportReport,
}

impl PrefixFixture {
    /// Frames `blocks` (genesis first) into `work/prefix.dat` and imports them.
    ///
    /// # Errors
    /// Unwritable `work` or a failed import.
    pub fn new(
        work: &std::path::Path,
        blocks: &[Vec<u8>],
    ) -> Result<Self, Box<dyn std::error::Error>> {
        let file = work.join("prefix.dat");
        std::fs::write(&file, frame(Params::regtest().magic, blocks))?;
        let datadir = work.join("prefix");
        let report = crate::import(
            &test_import_config(datadir.clone()),
            std::slice::from_ref(&file),
        )?;
        Ok(Self {
            work: work.to_path_buf(),
            file,
            datadir,
            report,
        })
    }

    /// Imports `block` on a fresh copy of the prefix datadir (under `work/name`).
    ///
    /// # Errors
    /// I/O errors or a failed import.
    pub fn try_block(
        &self,
        name: &str,
        block: &[u8],
    ) -> Result<crate::ImportReport, Box<dyn std::error::Error>> {
        self.try_block_with(name, block, |_| {})
    }

    /// [`Self::try_block`] with the import configuration changed by `configure` (e.g. the ECDSA
    /// backend).
    ///
    /// # Errors
    /// I/O errors or a failed import.
    pub fn try_block_with(
        &self,
        name: &str,
        block: &[u8],
        configure: impl FnOnce(&mut crate::ImportConfig),
    ) -> Result<crate::ImportReport, Box<dyn std::error::Error>> {
        let dir = self.work.join(name);
        copy_dir(&self.datadir, &dir.join("data"))?;
        let file = dir.join("block.dat");
        std::fs::write(&file, frame(Params::regtest().magic, &[block.to_vec()]))?;
        let mut cfg = test_import_config(dir.join("data"));
        configure(&mut cfg);
        Ok(crate::import(&cfg, &[self.file.clone(), file])?)
    }
}
