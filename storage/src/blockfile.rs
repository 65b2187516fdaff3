//! Core-framed block files (`blk?????.dat`): each record is the network magic, a little-endian
//! u32 length, then the serialised block. Files are capped like Core's (128 MiB).
//!
//! The reader behaves like Core's `-loadblock` import: it scans forward for the magic, so garbage
//! between records is skipped; a record whose length runs past the end of the file is reported as
//! truncated, never read out of bounds.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Core's `MAX_BLOCKFILE_SIZE`.
pub const MAX_BLOCKFILE_SIZE: u64 = 0x800_0000;
/// Core's `MAX_BLOCK_SERIALIZED_SIZE`: a larger length field cannot be a block.
pub const MAX_BLOCK_SERIALIZED_SIZE: u32 = 4_000_000;
/// Network magic of mainnet.
pub const MAGIC_MAINNET: [u8; 4] = [0xf9, 0xbe, 0xb4, 0xd9];
/// Network magic of regtest.
pub const MAGIC_REGTEST: [u8; 4] = [0xfa, 0xbf, 0xb5, 0xda];
/// Network magic of testnet4.
pub const MAGIC_TESTNET4: [u8; 4] = [0x1c, 0x16, 0x3f, 0x28];
/// Network magic of the default signet.
pub const MAGIC_SIGNET: [u8; 4] = [0x0a, 0x03, 0xcf, 0x40];

/// Errors reading or writing block files.
#[derive(Debug, thiserror::Error)]
pub enum BlockFileError {
    #[error("i/o error on {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: record at offset {offset} claims {len} bytes but only {available} remain (truncated file)")]
    Truncated {
        path: PathBuf,
        offset: u64,
        len: u32,
        available: u64,
    },
    #[error("block of {0} bytes exceeds the serialized size limit")]
    TooLarge(usize),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> BlockFileError + '_ {
    move |source| BlockFileError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The name Core gives block file number `n`.
#[must_use]
pub fn blk_file_name(n: u32) -> String {
    format!("blk{n:05}.dat")
}

/// One block found in a block file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRecord {
    /// Offset of the block bytes (after magic and length) in the file.
    pub offset: u64,
    pub bytes: Vec<u8>,
}

/// Result of scanning one file: the blocks found and how many garbage bytes were skipped.
#[derive(Debug, Default)]
pub struct ScanResult {
    pub blocks: Vec<BlockRecord>,
    pub skipped_bytes: u64,
}

/// Reads every framed block in `data` (the contents of `path`, used in errors).
///
/// # Errors
/// [`BlockFileError::Truncated`] when the last record's length runs past the end.
pub fn scan_blocks(path: &Path, data: &[u8], magic: [u8; 4]) -> Result<ScanResult, BlockFileError> {
    let mut out = ScanResult::default();
    let mut pos = 0usize;
    while pos < data.len() {
        let Some(found) = find_magic(&data[pos..], magic) else {
            // Trailing zero padding is how Core pre-allocates files; anything else is garbage.
            out.skipped_bytes += data[pos..].iter().filter(|b| **b != 0).count() as u64;
            break;
        };
        out.skipped_bytes += found as u64;
        let header = pos + found;
        let Some(len_bytes) = data.get(header + 4..header + 8) else {
            let available = (data.len() - header - 4) as u64;
            return Err(BlockFileError::Truncated {
                path: path.to_path_buf(),
                offset: header as u64,
                len: 0,
                available,
            });
        };
        let len = u32::from_le_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]);
        let start = header + 8;
        if !(80..=MAX_BLOCK_SERIALIZED_SIZE).contains(&len) {
            // Not a plausible record: resume the scan just past this magic, as Core does.
            out.skipped_bytes += 4;
            pos = header + 4;
            continue;
        }
        let end = start + len as usize;
        let Some(bytes) = data.get(start..end) else {
            return Err(BlockFileError::Truncated {
                path: path.to_path_buf(),
                offset: header as u64,
                len,
                available: (data.len() - start) as u64,
            });
        };
        out.blocks.push(BlockRecord {
            offset: start as u64,
            bytes: bytes.to_vec(),
        });
        pos = end;
    }
    Ok(out)
}

fn find_magic(data: &[u8], magic: [u8; 4]) -> Option<usize> {
    data.windows(4).position(|w| w == magic)
}

/// Reads one block file from disk and scans it.
///
/// # Errors
/// I/O errors and truncation, as [`scan_blocks`].
pub fn read_block_file(path: &Path, magic: [u8; 4]) -> Result<ScanResult, BlockFileError> {
    let data = fs::read(path).map_err(io_err(path))?;
    scan_blocks(path, &data, magic)
}

/// Lists the block files to import from `path`: the file itself, or a directory's
/// `blk?????.dat` files in numeric order (like Core's `-loadblock` / reindex order).
///
/// # Errors
/// I/O errors listing the directory.
pub fn list_block_files(path: &Path) -> Result<Vec<PathBuf>, BlockFileError> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<(u32, PathBuf)> = Vec::new();
    for entry in fs::read_dir(path).map_err(io_err(path))? {
        let entry = entry.map_err(io_err(path))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(n) = name
            .strip_prefix("blk")
            .and_then(|s| s.strip_suffix(".dat"))
            .and_then(|s| s.parse().ok())
        {
            files.push((n, entry.path()));
        }
    }
    files.sort();
    Ok(files.into_iter().map(|(_, p)| p).collect())
}

/// A block's length field and the size of its framed record (magic, length, bytes).
///
/// # Errors
/// [`BlockFileError::TooLarge`] past Core's serialized size limit.
pub fn record_size(block: &[u8]) -> Result<(u32, u64), BlockFileError> {
    let len = u32::try_from(block.len())
        .ok()
        .filter(|l| *l <= MAX_BLOCK_SERIALIZED_SIZE)
        .ok_or(BlockFileError::TooLarge(block.len()))?;
    Ok((len, 8 + u64::from(len)))
}

/// Whether a record of `record` bytes goes to a new file after `file_len` bytes (Core's cap).
#[must_use]
pub fn starts_new_file(file_len: u64, record: u64) -> bool {
    file_len > 0 && file_len + record > MAX_BLOCKFILE_SIZE
}

/// Appends framed blocks to `blk00000.dat`, `blk00001.dat`, … in a directory, starting a new file
/// when the next record would pass [`MAX_BLOCKFILE_SIZE`].
#[derive(Debug)]
pub struct BlockFileWriter {
    dir: PathBuf,
    magic: [u8; 4],
    file_no: u32,
    file_len: u64,
    out: BufWriter<File>,
}

impl BlockFileWriter {
    /// Creates the directory if needed and starts at `blk00000.dat` (truncating it).
    ///
    /// # Errors
    /// I/O errors creating the directory or file.
    pub fn create(dir: &Path, magic: [u8; 4]) -> Result<Self, BlockFileError> {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let out = Self::open_file(dir, 0)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            magic,
            file_no: 0,
            file_len: 0,
            out,
        })
    }

    fn open_file(dir: &Path, n: u32) -> Result<BufWriter<File>, BlockFileError> {
        let path = dir.join(blk_file_name(n));
        let f = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&path)
            .map_err(io_err(&path))?;
        Ok(BufWriter::with_capacity(1 << 20, f))
    }

    /// Appends one block; returns `(file number, offset of the block bytes)`.
    ///
    /// # Errors
    /// I/O errors, or a block larger than the serialized size limit.
    pub fn append(&mut self, block: &[u8]) -> Result<(u32, u64), BlockFileError> {
        let (len, record) = record_size(block)?;
        if starts_new_file(self.file_len, record) {
            self.flush()?;
            self.file_no += 1;
            self.out = Self::open_file(&self.dir, self.file_no)?;
            self.file_len = 0;
        }
        let path = self.dir.join(blk_file_name(self.file_no));
        self.out.write_all(&self.magic).map_err(io_err(&path))?;
        self.out
            .write_all(&len.to_le_bytes())
            .map_err(io_err(&path))?;
        self.out.write_all(block).map_err(io_err(&path))?;
        let offset = self.file_len + 8;
        self.file_len += record;
        Ok((self.file_no, offset))
    }

    /// Flushes buffered records to the current file.
    ///
    /// # Errors
    /// I/O errors.
    pub fn flush(&mut self) -> Result<(), BlockFileError> {
        let path = self.dir.join(blk_file_name(self.file_no));
        self.out.flush().map_err(io_err(&path))?;
        self.out.get_ref().sync_data().map_err(io_err(&path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_block(fill: u8, len: usize) -> Vec<u8> {
        vec![fill; len]
    }

    #[test]
    fn write_then_read_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = BlockFileWriter::create(dir.path(), MAGIC_REGTEST).unwrap();
        let blocks: Vec<Vec<u8>> = (0..5)
            .map(|i| fake_block(i + 1, 81 + usize::from(i)))
            .collect();
        for b in &blocks {
            w.append(b).unwrap();
        }
        w.flush().unwrap();
        let files = list_block_files(dir.path()).unwrap();
        assert_eq!(files.len(), 1);
        let scan = read_block_file(&files[0], MAGIC_REGTEST).unwrap();
        let got: Vec<Vec<u8>> = scan.blocks.into_iter().map(|r| r.bytes).collect();
        assert_eq!(got, blocks);
        assert_eq!(scan.skipped_bytes, 0);
    }

    #[test]
    fn garbage_between_records_is_skipped_and_counted() {
        let mut data = Vec::new();
        data.extend_from_slice(b"junk");
        for fill in [7u8, 9] {
            data.extend_from_slice(&MAGIC_MAINNET);
            data.extend_from_slice(&100u32.to_le_bytes());
            data.extend_from_slice(&fake_block(fill, 100));
            data.extend_from_slice(&[0xde, 0xad]);
        }
        let scan = scan_blocks(Path::new("mem"), &data, MAGIC_MAINNET).unwrap();
        assert_eq!(scan.blocks.len(), 2);
        assert_eq!(scan.skipped_bytes, 4 + 2 + 2);
    }

    #[test]
    fn truncated_record_is_an_error_not_a_panic() {
        let mut data = Vec::new();
        data.extend_from_slice(&MAGIC_MAINNET);
        data.extend_from_slice(&200u32.to_le_bytes());
        data.extend_from_slice(&fake_block(1, 150));
        let err = scan_blocks(Path::new("mem"), &data, MAGIC_MAINNET).unwrap_err();
        assert!(
            matches!(
                err,
                BlockFileError::Truncated {
                    len: 200,
                    available: 150,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn wrong_magic_finds_nothing() {
        let mut data = Vec::new();
        data.extend_from_slice(&MAGIC_MAINNET);
        data.extend_from_slice(&100u32.to_le_bytes());
        data.extend_from_slice(&fake_block(1, 100));
        let scan = scan_blocks(Path::new("mem"), &data, MAGIC_REGTEST).unwrap();
        assert!(scan.blocks.is_empty());
        assert!(scan.skipped_bytes > 0);
    }

    #[test]
    fn real_mainnet_chain_file_has_439_blocks() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/data/chains/mainnet-0-438.blk");
        let scan = read_block_file(&path, MAGIC_MAINNET).unwrap();
        assert_eq!(scan.blocks.len(), 439);
        assert_eq!(scan.skipped_bytes, 0);
        let genesis = sluice_consensus::header::Header::decode(&scan.blocks[0].bytes).unwrap();
        assert_eq!(genesis.prev_blockhash, [0; 32]);
    }
}
