//! Zero-copy transaction views parsed from borrowed bytes, with Core's exact decoding rules.
//!
//! A [`Transaction`] keeps the slice it was parsed from. Inputs and outputs are one `Vec` each;
//! scripts and witness items borrow from the slice, and witness stacks are walked lazily.

use std::borrow::Cow;

use crate::coin::{Amount, OutPoint};
use crate::encode::{compact_size_len, write_compact_size, DecodeError, Reader};
use crate::hash::{sha256d, Hash256};

/// Scale factor between base size and total size in weight (BIP141).
pub const WITNESS_SCALE_FACTOR: usize = 4;

/// A witness stack: the raw bytes (item count prefix included) and the item count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Witness<'a> {
    raw: &'a [u8],
    len: usize,
}

impl<'a> Witness<'a> {
    /// Parses one witness stack; `raw` then spans exactly its serialisation.
    fn parse(r: &mut Reader<'a>, whole: &'a [u8]) -> Result<Self, DecodeError> {
        let start = r.position();
        let n = r.read_compact_size()?;
        let mut count = 0usize;
        for _ in 0..n {
            r.read_var_bytes()?;
            count += 1;
        }
        Ok(Self {
            raw: &whole[start..r.position()],
            len: count,
        })
    }

    /// Number of stack items.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The serialisation (CompactSize count, then each item length-prefixed). Empty witnesses
    /// of non-segwit transactions return `[0]`.
    #[must_use]
    pub fn raw(&self) -> &'a [u8] {
        if self.raw.is_empty() {
            &[0]
        } else {
            self.raw
        }
    }

    /// Serialised size in bytes.
    #[must_use]
    pub fn serialized_len(&self) -> usize {
        self.raw.len().max(1)
    }

    /// Iterates the items, bottom of the stack first.
    #[must_use]
    pub fn iter(&self) -> WitnessIter<'a> {
        let mut r = Reader::new(self.raw);
        // The count prefix was validated at parse time; skip it.
        let remaining = if self.raw.is_empty() {
            0
        } else {
            r.read_compact_size().map_or(0, |_| self.len)
        };
        WitnessIter { r, remaining }
    }

    /// The last item, if any.
    #[must_use]
    pub fn last(&self) -> Option<&'a [u8]> {
        self.iter().last()
    }
}

impl<'a> IntoIterator for &Witness<'a> {
    type Item = &'a [u8];
    type IntoIter = WitnessIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Lazy iterator over witness items.
#[derive(Debug, Clone)]
pub struct WitnessIter<'a> {
    r: Reader<'a>,
    remaining: usize,
}

impl<'a> Iterator for WitnessIter<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        self.r.read_var_bytes().ok()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining))
    }
}

/// A transaction input borrowing its scripts from the transaction bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxIn<'a> {
    /// Previous txid, internal byte order.
    pub prev_txid: &'a [u8; 32],
    pub prev_vout: u32,
    pub script_sig: &'a [u8],
    pub sequence: u32,
    pub witness: Witness<'a>,
    /// The non-witness serialisation of this input (outpoint, scriptSig, sequence).
    pub raw: &'a [u8],
}

impl TxIn<'_> {
    /// The spent outpoint as an owned value.
    #[must_use]
    pub fn prevout(&self) -> OutPoint {
        OutPoint {
            txid: *self.prev_txid,
            vout: self.prev_vout,
        }
    }
}

/// A transaction output borrowing its script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxOut<'a> {
    pub value: Amount,
    pub script_pubkey: &'a [u8],
    /// The serialisation of this output (value, scriptPubKey).
    pub raw: &'a [u8],
}

/// A transaction view over its serialisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction<'a> {
    /// The exact bytes parsed (with witness when the transaction has one).
    raw: &'a [u8],
    pub version: i32,
    pub inputs: Vec<TxIn<'a>>,
    pub outputs: Vec<TxOut<'a>>,
    pub lock_time: u32,
    /// Offset in `raw` where witness stacks start (0 for non-witness serialisations).
    witness_start: usize,
}

impl<'a> Transaction<'a> {
    /// Parses one transaction from the front of `bytes` exactly as Core's
    /// `UnserializeTransaction` with witnesses allowed; returns it and the bytes consumed.
    ///
    /// # Errors
    /// Any [`DecodeError`]: truncation, non-canonical or oversized CompactSize, an unknown
    /// segwit flag, or a witness flag with only empty witnesses.
    pub fn parse(bytes: &'a [u8]) -> Result<(Self, usize), DecodeError> {
        let mut r = Reader::new(bytes);
        let tx = Self::parse_from(&mut r, bytes)?;
        Ok((tx, r.position()))
    }

    /// Parses a transaction that must span all of `bytes`.
    ///
    /// # Errors
    /// As [`Transaction::parse`], plus [`DecodeError::TrailingBytes`].
    pub fn parse_exact(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let (tx, used) = Self::parse(bytes)?;
        if used != bytes.len() {
            return Err(DecodeError::TrailingBytes(bytes.len() - used));
        }
        Ok(tx)
    }

    /// Parses from a reader over `whole` (the reader's underlying slice).
    pub(crate) fn parse_from(r: &mut Reader<'a>, whole: &'a [u8]) -> Result<Self, DecodeError> {
        let start = r.position();
        let version = r.read_i32_le()?;
        let mut inputs = parse_inputs(r, whole)?;
        let mut outputs = Vec::new();
        let mut flags = 0u8;
        if inputs.is_empty() {
            // Either a segwit marker or a genuinely empty input vector (Core's ambiguity).
            flags = r.read_u8()?;
            if flags != 0 {
                inputs = parse_inputs(r, whole)?;
                outputs = parse_outputs(r, whole)?;
            }
        } else {
            outputs = parse_outputs(r, whole)?;
        }
        let mut witness_start = 0;
        if flags & 1 != 0 {
            flags ^= 1;
            witness_start = r.position() - start;
            for input in &mut inputs {
                input.witness = Witness::parse(r, whole)?;
            }
            if inputs.iter().all(|i| i.witness.is_empty()) {
                return Err(DecodeError::SuperfluousWitness);
            }
        }
        if flags != 0 {
            return Err(DecodeError::UnknownOptionalData(flags));
        }
        let lock_time = r.read_u32_le()?;
        Ok(Self {
            raw: &whole[start..r.position()],
            version,
            inputs,
            outputs,
            lock_time,
            witness_start,
        })
    }

    /// The serialisation this view was parsed from (with witness when present).
    #[must_use]
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Whether any input carries a witness (then the serialisation is the extended format).
    #[must_use]
    pub fn has_witness(&self) -> bool {
        self.witness_start != 0
    }

    /// The non-witness serialisation (the txid preimage) as up to three borrowed pieces:
    /// version, inputs+outputs, lock time. For non-witness transactions the first piece is the
    /// whole serialisation and the others are empty.
    #[must_use]
    pub fn txid_preimage_parts(&self) -> [&'a [u8]; 3] {
        if !self.has_witness() {
            return [self.raw, &[], &[]];
        }
        let n = self.raw.len();
        [
            &self.raw[..4],
            &self.raw[6..self.witness_start],
            &self.raw[n - 4..],
        ]
    }

    /// The non-witness serialisation: borrowed for legacy transactions, built for segwit ones.
    #[must_use]
    pub fn non_witness_bytes(&self) -> Cow<'a, [u8]> {
        if !self.has_witness() {
            return Cow::Borrowed(self.raw);
        }
        let mut out = Vec::with_capacity(self.base_size());
        self.write_non_witness(&mut out);
        Cow::Owned(out)
    }

    /// Appends the non-witness serialisation to `out`.
    pub fn write_non_witness(&self, out: &mut Vec<u8>) {
        for part in self.txid_preimage_parts() {
            out.extend_from_slice(part);
        }
    }

    /// Appends the full serialisation (extended format when the transaction has a witness).
    /// Rebuilt from the parsed fields, so it doubles as a round-trip check.
    pub fn write_with_witness(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.version.to_le_bytes());
        let witness = self.has_witness();
        if witness {
            out.extend_from_slice(&[0, 1]);
        }
        write_compact_size(out, self.inputs.len() as u64);
        for i in &self.inputs {
            out.extend_from_slice(i.prev_txid);
            out.extend_from_slice(&i.prev_vout.to_le_bytes());
            write_compact_size(out, i.script_sig.len() as u64);
            out.extend_from_slice(i.script_sig);
            out.extend_from_slice(&i.sequence.to_le_bytes());
        }
        write_compact_size(out, self.outputs.len() as u64);
        for o in &self.outputs {
            out.extend_from_slice(&o.value.to_le_bytes());
            write_compact_size(out, o.script_pubkey.len() as u64);
            out.extend_from_slice(o.script_pubkey);
        }
        if witness {
            for i in &self.inputs {
                write_compact_size(out, i.witness.len() as u64);
                for item in &i.witness {
                    write_compact_size(out, item.len() as u64);
                    out.extend_from_slice(item);
                }
            }
        }
        out.extend_from_slice(&self.lock_time.to_le_bytes());
    }

    /// Transaction id: double SHA-256 of the non-witness serialisation.
    #[must_use]
    pub fn txid(&self) -> Hash256 {
        if self.has_witness() {
            sha256d(&self.non_witness_bytes())
        } else {
            sha256d(self.raw)
        }
    }

    /// Witness transaction id: double SHA-256 of the full serialisation.
    #[must_use]
    pub fn wtxid(&self) -> Hash256 {
        sha256d(self.raw)
    }

    /// Size of the non-witness serialisation.
    #[must_use]
    pub fn base_size(&self) -> usize {
        if self.has_witness() {
            // marker+flag and the witness stacks are excluded
            4 + (self.witness_start - 6) + 4
        } else {
            self.raw.len()
        }
    }

    /// Size of the full serialisation.
    #[must_use]
    pub fn total_size(&self) -> usize {
        self.raw.len()
    }

    /// BIP141 weight: base size * 3 + total size.
    #[must_use]
    pub fn weight(&self) -> usize {
        self.base_size() * (WITNESS_SCALE_FACTOR - 1) + self.total_size()
    }

    /// Whether this is a coinbase: exactly one input spending the null outpoint.
    #[must_use]
    pub fn is_coinbase(&self) -> bool {
        self.inputs.len() == 1 && self.inputs[0].prevout().is_null()
    }
}

/// Size in bytes of a CompactSize-prefixed vector of `n` bytes.
#[must_use]
pub fn var_bytes_len(n: usize) -> usize {
    compact_size_len(n as u64) + n
}

fn parse_inputs<'a>(r: &mut Reader<'a>, whole: &'a [u8]) -> Result<Vec<TxIn<'a>>, DecodeError> {
    let n = r.read_compact_size()?;
    // Never trust the count for allocation: an input takes at least 41 bytes.
    let cap = usize::try_from(n).unwrap_or(0).min(r.remaining() / 41);
    let mut v = Vec::with_capacity(cap);
    for _ in 0..n {
        let start = r.position();
        let prev_txid = r.read_hash()?;
        let prev_vout = r.read_u32_le()?;
        let script_sig = r.read_var_bytes()?;
        let sequence = r.read_u32_le()?;
        v.push(TxIn {
            prev_txid,
            prev_vout,
            script_sig,
            sequence,
            witness: Witness::default(),
            raw: &whole[start..r.position()],
        });
    }
    Ok(v)
}

fn parse_outputs<'a>(r: &mut Reader<'a>, whole: &'a [u8]) -> Result<Vec<TxOut<'a>>, DecodeError> {
    let n = r.read_compact_size()?;
    let cap = usize::try_from(n).unwrap_or(0).min(r.remaining() / 9);
    let mut v = Vec::with_capacity(cap);
    for _ in 0..n {
        let start = r.position();
        let value = r.read_i64_le()?;
        let script_pubkey = r.read_var_bytes()?;
        v.push(TxOut {
            value,
            script_pubkey,
            raw: &whole[start..r.position()],
        });
    }
    Ok(v)
}
