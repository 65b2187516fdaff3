//! Encodings of the small records kept in redb and journal files, each sealed with a crc32 so a
//! flipped byte is reported as corruption instead of being used.

use sluice_consensus::coin::{Coin, OutPoint};
use sluice_consensus::hash::Hash256;

use crate::compress::{read_coin, write_coin, DecodeError, Reader};
use crate::muhash::MuHash3072;

/// Block index status bits.
pub mod status {
    /// Block data is stored at `data_file`/`data_pos`.
    pub const HAVE_DATA: u32 = 1;
    /// Undo data is stored (in the undo table, keyed by block hash).
    pub const HAVE_UNDO: u32 = 2;
    /// Fully validated and connected at least once.
    pub const VALID: u32 = 4;
    /// Known invalid.
    pub const FAILED: u32 = 8;
}

/// One block's entry in the block index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockIndexEntry {
    pub height: u32,
    /// Bit set of [`status`] flags.
    pub status: u32,
    /// Block file number (`blk{n:05}.dat`) and offset of the block bytes in it.
    pub data_file: u32,
    pub data_pos: u64,
    /// Total work up to and including this block, big-endian 256-bit.
    pub chainwork: [u8; 32],
}

/// What a connected block changed: the coins it spent in input order and what it created.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockUndo {
    /// Spent coins in input order, with their outpoints (coins created and spent inside the
    /// same block included).
    pub spent: Vec<(OutPoint, Coin)>,
    /// Outpoints the block created (so `disconnect_block` needs nothing but the hash).
    pub created: Vec<OutPoint>,
}

/// The durable checkpoint record: stored in redb, committed atomically with the block index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub gen: u64,
    pub heap_len: u64,
    pub journal_len: u64,
    pub journal_crc: u32,
    /// Which heap/index file pair is current (bumped by compaction).
    pub files_id: u64,
    pub coin_count: u64,
    pub tip: Option<(u32, Hash256)>,
    /// `None` when the store ran without MuHash tracking (recomputed on the next open that
    /// tracks it).
    pub muhash: Option<MuHash3072>,
}

fn seal(mut v: Vec<u8>) -> Vec<u8> {
    let crc = crc32fast::hash(&v);
    v.extend_from_slice(&crc.to_le_bytes());
    v
}

/// Checks and strips the trailing crc32.
fn unseal(b: &[u8]) -> Option<&[u8]> {
    let (body, crc) = b.split_at_checked(b.len().checked_sub(4)?)?;
    (crc32fast::hash(body).to_le_bytes() == crc).then_some(body)
}

impl BlockIndexEntry {
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(56);
        v.extend_from_slice(&self.height.to_le_bytes());
        v.extend_from_slice(&self.status.to_le_bytes());
        v.extend_from_slice(&self.data_file.to_le_bytes());
        v.extend_from_slice(&self.data_pos.to_le_bytes());
        v.extend_from_slice(&self.chainwork);
        seal(v)
    }

    #[must_use]
    pub fn decode(b: &[u8]) -> Option<Self> {
        let mut r = Reader::new(unseal(b)?);
        Some(Self {
            height: r.u32_le().ok()?,
            status: r.u32_le().ok()?,
            data_file: r.u32_le().ok()?,
            data_pos: r.u64_le().ok()?,
            chainwork: r.array().ok()?,
        })
    }
}

impl BlockUndo {
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(self.spent.len() as u32).to_le_bytes());
        for (op, coin) in &self.spent {
            v.extend_from_slice(&op.txid);
            v.extend_from_slice(&op.vout.to_le_bytes());
            write_coin(&mut v, coin);
        }
        v.extend_from_slice(&(self.created.len() as u32).to_le_bytes());
        for op in &self.created {
            v.extend_from_slice(&op.txid);
            v.extend_from_slice(&op.vout.to_le_bytes());
        }
        seal(v)
    }

    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(unseal(b).ok_or(DecodeError::Eof)?);
        let n = r.u32_le()? as usize;
        let mut spent = Vec::with_capacity(n.min(r.remaining() / 38));
        for _ in 0..n {
            let op = OutPoint {
                txid: r.array()?,
                vout: r.u32_le()?,
            };
            spent.push((op, read_coin(&mut r)?));
        }
        let m = r.u32_le()? as usize;
        let mut created = Vec::with_capacity(m.min(r.remaining() / 36));
        for _ in 0..m {
            created.push(OutPoint {
                txid: r.array()?,
                vout: r.u32_le()?,
            });
        }
        if r.remaining() != 0 {
            return Err(DecodeError::Eof);
        }
        Ok(Self { spent, created })
    }
}

const MANIFEST_MAGIC: &[u8; 8] = b"SLMFST01";

impl Manifest {
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(900);
        v.extend_from_slice(MANIFEST_MAGIC);
        v.extend_from_slice(&self.gen.to_le_bytes());
        v.extend_from_slice(&self.heap_len.to_le_bytes());
        v.extend_from_slice(&self.journal_len.to_le_bytes());
        v.extend_from_slice(&self.journal_crc.to_le_bytes());
        v.extend_from_slice(&self.files_id.to_le_bytes());
        v.extend_from_slice(&self.coin_count.to_le_bytes());
        match self.tip {
            Some((h, hash)) => {
                v.push(1);
                v.extend_from_slice(&h.to_le_bytes());
                v.extend_from_slice(&hash);
            }
            None => v.push(0),
        }
        if let Some(m) = &self.muhash {
            v.extend_from_slice(&m.to_bytes());
        }
        seal(v)
    }

    #[must_use]
    pub fn decode(b: &[u8]) -> Option<Self> {
        let mut r = Reader::new(unseal(b)?);
        if &r.array::<8>().ok()? != MANIFEST_MAGIC {
            return None;
        }
        let gen = r.u64_le().ok()?;
        let heap_len = r.u64_le().ok()?;
        let journal_len = r.u64_le().ok()?;
        let journal_crc = r.u32_le().ok()?;
        let files_id = r.u64_le().ok()?;
        let coin_count = r.u64_le().ok()?;
        let tip = match r.u8().ok()? {
            0 => None,
            1 => Some((r.u32_le().ok()?, r.array().ok()?)),
            _ => return None,
        };
        let muhash = match r.remaining() {
            0 => None,
            _ => Some(MuHash3072::from_bytes(r.bytes(r.remaining()).ok()?)?),
        };
        Some(Self {
            gen,
            heap_len,
            journal_len,
            journal_crc,
            files_id,
            coin_count,
            tip,
            muhash,
        })
    }
}

/// One change to the on-disk index, as logged in a checkpoint journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalOp {
    Put(OutPoint, u64),
    Delete(OutPoint),
}

/// Journal file body: ops back to back (`1 txid vout off` / `2 txid vout`).
#[must_use]
pub fn encode_journal(ops: &[JournalOp]) -> Vec<u8> {
    let mut v = Vec::with_capacity(ops.len() * 45);
    for op in ops {
        match op {
            JournalOp::Put(o, off) => {
                v.push(1);
                v.extend_from_slice(&o.txid);
                v.extend_from_slice(&o.vout.to_le_bytes());
                v.extend_from_slice(&off.to_le_bytes());
            }
            JournalOp::Delete(o) => {
                v.push(2);
                v.extend_from_slice(&o.txid);
                v.extend_from_slice(&o.vout.to_le_bytes());
            }
        }
    }
    v
}

pub fn decode_journal(b: &[u8]) -> Result<Vec<JournalOp>, DecodeError> {
    let mut r = Reader::new(b);
    let mut ops = Vec::new();
    while r.remaining() > 0 {
        let tag = r.u8()?;
        let o = OutPoint {
            txid: r.array()?,
            vout: r.u32_le()?,
        };
        ops.push(match tag {
            1 => JournalOp::Put(o, r.u64_le()?),
            2 => JournalOp::Delete(o),
            _ => return Err(DecodeError::Eof),
        });
    }
    Ok(ops)
}
