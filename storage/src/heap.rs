//! The append-only record heap: the cold part of the UTXO set.
//!
//! Record = `u32 LE payload length`, `u32 LE crc32(payload)`, payload = txid (32), vout (u32 LE),
//! then the coin in Core's compact encoding ([`crate::compress`]). Records are never rewritten;
//! the index points at the live ones. Bytes past the last checkpoint's length are garbage after
//! a crash and are truncated on open. Space of spent records is reclaimed by rewriting the live
//! ones into a new heap (`compact.rs`).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use sluice_consensus::coin::{Coin, OutPoint};

use crate::compress::{read_coin, write_coin, Reader};
use crate::error::{corrupt, io_at, Result};
use crate::mmap::MappedPrefix;

const REC_HEADER: usize = 8;
/// Largest payload accepted on read: key + coin with a maximal script and headroom.
const MAX_PAYLOAD: usize = 36 + 20 + 10_000 + 16;
const WRITE_BUF: usize = 1 << 20;

/// The heap file with a write buffer for appends.
#[derive(Debug)]
pub struct Heap {
    path: PathBuf,
    file: File,
    /// Bytes durably written to the file.
    file_len: u64,
    /// Appended bytes not yet written to the file (start at `file_len`).
    buf: Vec<u8>,
    /// Read-only map of the file's synced prefix: lookups copy from it instead of `pread`.
    mapped: Option<MappedPrefix>,
}

impl Heap {
    /// Opens (creating if needed) and truncates to `committed_len`; shorter files are corrupt.
    pub fn open(path: &Path, committed_len: u64) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io_at(path))?;
        let len = file.metadata().map_err(io_at(path))?.len();
        if len < committed_len {
            return Err(corrupt(
                path,
                format!("heap is {len} bytes but the checkpoint recorded {committed_len}"),
            ));
        }
        if len > committed_len {
            // Records appended after the last checkpoint: a crash happened, drop them.
            file.set_len(committed_len).map_err(io_at(path))?;
        }
        let mapped = MappedPrefix::map(&file, committed_len).map_err(io_at(path))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
            file_len: committed_len,
            buf: Vec::new(),
            mapped,
        })
    }

    /// Current end of the heap, including buffered appends.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.file_len + self.buf.len() as u64
    }

    /// Appends a record and returns its offset.
    pub fn append(&mut self, op: &OutPoint, coin: &Coin) -> Result<u64> {
        let off = self.len();
        let start = self.buf.len();
        self.buf.extend_from_slice(&[0u8; REC_HEADER]);
        self.buf.extend_from_slice(&op.txid);
        self.buf.extend_from_slice(&op.vout.to_le_bytes());
        write_coin(&mut self.buf, coin);
        let payload_len = self.buf.len() - start - REC_HEADER;
        let crc = crc32fast::hash(&self.buf[start + REC_HEADER..]);
        self.buf[start..start + 4].copy_from_slice(&(payload_len as u32).to_le_bytes());
        self.buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
        if self.buf.len() >= WRITE_BUF {
            self.write_out()?;
        }
        Ok(off)
    }

    fn write_out(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.file
            .write_all_at(&self.buf, self.file_len)
            .map_err(io_at(&self.path))?;
        self.file_len += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Writes buffered records and fsyncs.
    pub fn sync(&mut self) -> Result<()> {
        self.write_out()?;
        self.file.flush().map_err(io_at(&self.path))?;
        self.file.sync_data().map_err(io_at(&self.path))?;
        if self.mapped.as_ref().map_or(0, |m| m.bytes().len() as u64) < self.file_len {
            self.mapped =
                MappedPrefix::map(&self.file, self.file_len).map_err(io_at(&self.path))?;
        }
        Ok(())
    }

    /// Fills `out` from `off`, which may span the file and the unwritten buffer.
    fn read_bytes(&self, off: u64, out: &mut [u8]) -> Result<()> {
        let end = off + out.len() as u64;
        if end > self.len() {
            return Err(corrupt(
                &self.path,
                format!("record at {off} runs past the end of the heap"),
            ));
        }
        if let Some(src) = self.mapped.as_ref().and_then(|m| {
            m.bytes()
                .get(usize::try_from(off).ok()?..usize::try_from(end).ok()?)
        }) {
            out.copy_from_slice(src);
            return Ok(());
        }
        let in_file = usize::try_from(self.file_len.saturating_sub(off).min(out.len() as u64))
            .unwrap_or(out.len());
        let (file_part, buf_part) = out.split_at_mut(in_file);
        if !file_part.is_empty() {
            self.file
                .read_exact_at(file_part, off)
                .map_err(io_at(&self.path))?;
        }
        if !buf_part.is_empty() {
            let start = usize::try_from(off + in_file as u64 - self.file_len).unwrap_or(usize::MAX);
            let src = self
                .buf
                .get(start..start + buf_part.len())
                .ok_or_else(|| corrupt(&self.path, "buffered record out of range"))?;
            buf_part.copy_from_slice(src);
        }
        Ok(())
    }

    /// Reads and checks the record at `off` (one `pread` for records up to 120 bytes).
    pub fn read(&self, off: u64) -> Result<(OutPoint, Coin)> {
        let avail = self.len().saturating_sub(off);
        let mut first = [0u8; 128];
        let n = usize::try_from(avail.min(128)).unwrap_or(128);
        if n < REC_HEADER {
            return Err(corrupt(
                &self.path,
                format!("record at {off} runs past the end of the heap"),
            ));
        }
        self.read_bytes(off, &mut first[..n])?;
        let len = u32::from_le_bytes([first[0], first[1], first[2], first[3]]) as usize;
        let crc = u32::from_le_bytes([first[4], first[5], first[6], first[7]]);
        if !(36..=MAX_PAYLOAD).contains(&len) {
            return Err(corrupt(
                &self.path,
                format!("record at {off} has impossible length {len}"),
            ));
        }
        let mut long;
        let payload: &[u8] = if REC_HEADER + len <= n {
            &first[REC_HEADER..REC_HEADER + len]
        } else {
            long = vec![0u8; len];
            self.read_bytes(off + REC_HEADER as u64, &mut long)?;
            &long
        };
        if crc32fast::hash(payload) != crc {
            return Err(corrupt(
                &self.path,
                format!("record at {off} fails its crc32"),
            ));
        }
        let mut r = Reader::new(payload);
        let bad = |e| corrupt(&self.path, format!("record at {off}: {e}"));
        let txid = r.array::<32>().map_err(bad)?;
        let vout = r.u32_le().map_err(bad)?;
        let coin = read_coin(&mut r).map_err(bad)?;
        if r.remaining() != 0 {
            return Err(corrupt(
                &self.path,
                format!("record at {off} has trailing bytes"),
            ));
        }
        Ok((OutPoint { txid, vout }, coin))
    }
}
