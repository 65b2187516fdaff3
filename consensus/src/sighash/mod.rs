//! Signature hashes: legacy (with Core's quirks), BIP143 (segwit v0) and BIP341 (taproot),
//! sharing per-transaction precomputed hashes.

pub mod bip143;
pub mod bip341;
pub mod legacy;

use sha2::{Digest, Sha256};

use crate::coin::Amount;
use crate::hash::Hash256;
use crate::tx::Transaction;

pub const SIGHASH_DEFAULT: u8 = 0;
pub const SIGHASH_ALL: u8 = 1;
pub const SIGHASH_NONE: u8 = 2;
pub const SIGHASH_SINGLE: u8 = 3;
pub const SIGHASH_ANYONECANPAY: u8 = 0x80;

/// An output being spent: what signatures commit to besides the spending transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpentOutput<'a> {
    pub value: Amount,
    pub script_pubkey: &'a [u8],
}

/// A streaming SHA-256 writer with Bitcoin serialisation helpers.
#[derive(Debug, Clone, Default)]
pub(crate) struct HashWriter(Sha256);

impl HashWriter {
    pub(crate) fn new() -> Self {
        Self(Sha256::new())
    }

    /// A writer pre-loaded with BIP340's `SHA256(tag) || SHA256(tag)`.
    pub(crate) fn tagged(tag: &[u8]) -> Self {
        let t = crate::hash::sha256(tag);
        let mut h = Sha256::new();
        h.update(t);
        h.update(t);
        Self(h)
    }

    pub(crate) fn write(&mut self, b: &[u8]) -> &mut Self {
        self.0.update(b);
        self
    }

    pub(crate) fn write_compact(&mut self, n: usize) -> &mut Self {
        // CompactSize without a heap buffer: this runs for every scriptCode hashed.
        let n = n as u64;
        let mut buf = [0u8; 9];
        let len = match n {
            0..=0xfc => {
                buf[0] = n as u8;
                1
            }
            0xfd..=0xffff => {
                buf[0] = 0xfd;
                buf[1..3].copy_from_slice(&(n as u16).to_le_bytes());
                3
            }
            0x1_0000..=0xffff_ffff => {
                buf[0] = 0xfe;
                buf[1..5].copy_from_slice(&(n as u32).to_le_bytes());
                5
            }
            _ => {
                buf[0] = 0xff;
                buf[1..9].copy_from_slice(&n.to_le_bytes());
                9
            }
        };
        self.0.update(&buf[..len]);
        self
    }

    pub(crate) fn write_var_bytes(&mut self, b: &[u8]) -> &mut Self {
        self.write_compact(b.len());
        self.write(b)
    }

    pub(crate) fn sha256(self) -> Hash256 {
        self.0.finalize().into()
    }

    pub(crate) fn sha256d(self) -> Hash256 {
        crate::hash::sha256(&self.sha256())
    }
}

/// Hashes computed once per transaction and shared by every input's signature checks
/// (Core's `PrecomputedTransactionData`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrecomputedTxData {
    /// Single SHA-256 of all prevouts / sequences / outputs (BIP341 uses them directly).
    pub(crate) prevouts_single: Option<Hash256>,
    pub(crate) sequences_single: Option<Hash256>,
    pub(crate) outputs_single: Option<Hash256>,
    /// BIP341: single SHA-256 of all spent amounts / scriptPubKeys (needs the spent outputs).
    pub(crate) spent_amounts_single: Option<Hash256>,
    pub(crate) spent_scripts_single: Option<Hash256>,
    /// BIP143: double SHA-256 versions.
    pub(crate) hash_prevouts: Option<Hash256>,
    pub(crate) hash_sequence: Option<Hash256>,
    pub(crate) hash_outputs: Option<Hash256>,
}

impl PrecomputedTxData {
    /// Precomputes the hashes `tx`'s inputs may need. Segwit hashes are computed when the
    /// transaction carries a witness (otherwise no input can use them); taproot's spent-output
    /// hashes when `spent_outputs` has one entry per input.
    #[must_use]
    pub fn new(tx: &Transaction<'_>, spent_outputs: &[SpentOutput<'_>]) -> Self {
        Self::build(tx, spent_outputs, tx.has_witness())
    }

    /// Like [`PrecomputedTxData::new`] but always computes every hash (for tests and callers
    /// that evaluate witness scripts of witness-less transactions).
    #[must_use]
    pub fn new_forced(tx: &Transaction<'_>, spent_outputs: &[SpentOutput<'_>]) -> Self {
        Self::build(tx, spent_outputs, true)
    }

    /// BIP341's single-SHA256 hashes `(prevouts, amounts, scriptPubKeys, sequences, outputs)`,
    /// when computed.
    #[must_use]
    pub fn taproot_hashes(&self) -> Option<[Hash256; 5]> {
        Some([
            self.prevouts_single?,
            self.spent_amounts_single?,
            self.spent_scripts_single?,
            self.sequences_single?,
            self.outputs_single?,
        ])
    }

    /// BIP143's double-SHA256 hashes `(hashPrevouts, hashSequence, hashOutputs)`, when computed.
    #[must_use]
    pub fn segwit_v0_hashes(&self) -> Option<[Hash256; 3]> {
        Some([self.hash_prevouts?, self.hash_sequence?, self.hash_outputs?])
    }

    fn build(tx: &Transaction<'_>, spent: &[SpentOutput<'_>], segwit: bool) -> Self {
        if !segwit {
            return Self::default();
        }
        let prevouts = prevouts_sha256(tx);
        let sequences = sequences_sha256(tx);
        let outputs = outputs_sha256(tx);
        let mut me = Self {
            prevouts_single: Some(prevouts),
            sequences_single: Some(sequences),
            outputs_single: Some(outputs),
            hash_prevouts: Some(crate::hash::sha256(&prevouts)),
            hash_sequence: Some(crate::hash::sha256(&sequences)),
            hash_outputs: Some(crate::hash::sha256(&outputs)),
            ..Self::default()
        };
        if spent.len() == tx.inputs.len() {
            let mut amounts = HashWriter::new();
            let mut scripts = HashWriter::new();
            for s in spent {
                amounts.write(&s.value.to_le_bytes());
                scripts.write_var_bytes(s.script_pubkey);
            }
            me.spent_amounts_single = Some(amounts.sha256());
            me.spent_scripts_single = Some(scripts.sha256());
        }
        me
    }
}

pub(crate) fn prevouts_sha256(tx: &Transaction<'_>) -> Hash256 {
    let mut h = HashWriter::new();
    for i in &tx.inputs {
        h.write(i.prev_txid).write(&i.prev_vout.to_le_bytes());
    }
    h.sha256()
}

pub(crate) fn sequences_sha256(tx: &Transaction<'_>) -> Hash256 {
    let mut h = HashWriter::new();
    for i in &tx.inputs {
        h.write(&i.sequence.to_le_bytes());
    }
    h.sha256()
}

pub(crate) fn outputs_sha256(tx: &Transaction<'_>) -> Hash256 {
    let mut h = HashWriter::new();
    for o in &tx.outputs {
        h.write(o.raw);
    }
    h.sha256()
}
