//! The node's own block files: every block received from a peer is appended (Core's
//! `blk?????.dat` framing) before it is validated, so that it can be served to peers, re-read
//! after a reorganisation and replayed when the node restarts. An in-memory index maps block
//! hashes to their place; it is rebuilt by scanning the files on open.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use sluice_consensus::hash::Hash256;
use sluice_consensus::header::Header;

use crate::blockfile::{
    blk_file_name, list_block_files, record_size, scan_blocks, starts_new_file, BlockFileError,
};

/// Where a stored block's bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockPos {
    pub file: u32,
    /// Offset of the block bytes (after magic and length).
    pub offset: u64,
    pub len: u32,
}

/// Blocks appended since the last sync that force one (a crash loses at most these, and they
/// were not committed past the last checkpoint either: checkpoints sync first).
const SYNC_EVERY: u32 = 64;

/// Append-only block files with a hash index.
#[derive(Debug)]
pub struct BlockStore {
    dir: PathBuf,
    magic: [u8; 4],
    file_no: u32,
    file: File,
    file_len: u64,
    index: HashMap<Hash256, BlockPos>,
    unsynced: u32,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> BlockFileError + '_ {
    move |source| BlockFileError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl BlockStore {
    /// Opens (or creates) the block files in `dir`; returns the store and every stored block's
    /// header and place, in file order, for the caller to replay. A torn last record (a crash
    /// mid-append) is cut off.
    ///
    /// # Errors
    /// I/O errors.
    pub fn open(
        dir: &Path,
        magic: [u8; 4],
    ) -> Result<(Self, Vec<(Header, BlockPos)>), BlockFileError> {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let files = list_block_files(dir)?;
        let mut index = HashMap::new();
        let mut found = Vec::new();
        let mut last = (0u32, 0u64);
        for path in &files {
            let file_no = file_number(path).ok_or_else(|| BlockFileError::Io {
                path: path.clone(),
                source: std::io::Error::other("not a blk?????.dat name"),
            })?;
            let data = fs::read(path).map_err(io_err(path))?;
            let (scan, good_len) = match scan_blocks(path, &data, magic) {
                Ok(s) => (s, data.len() as u64),
                Err(BlockFileError::Truncated { offset, .. }) => {
                    tracing::warn!(
                        "{}: cutting a torn block record at offset {offset}",
                        path.display()
                    );
                    let end = usize::try_from(offset)
                        .unwrap_or(data.len())
                        .min(data.len());
                    let s = scan_blocks(path, &data[..end], magic)?;
                    OpenOptions::new()
                        .write(true)
                        .open(path)
                        .and_then(|f| f.set_len(offset))
                        .map_err(io_err(path))?;
                    (s, offset)
                }
                Err(e) => return Err(e),
            };
            for rec in scan.blocks {
                let Ok(header) = Header::decode(&rec.bytes) else {
                    continue;
                };
                let pos = BlockPos {
                    file: file_no,
                    offset: rec.offset,
                    len: u32::try_from(rec.bytes.len()).unwrap_or(u32::MAX),
                };
                index.insert(header.block_hash(), pos);
                found.push((header, pos));
            }
            last = last.max((file_no, good_len));
        }
        let (file_no, file_len) = last;
        let path = dir.join(blk_file_name(file_no));
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)
            .map_err(io_err(&path))?;
        Ok((
            Self {
                dir: dir.to_path_buf(),
                magic,
                file_no,
                file,
                file_len,
                index,
                unsynced: 0,
            },
            found,
        ))
    }

    /// Where block `hash` is stored.
    #[must_use]
    pub fn get(&self, hash: &Hash256) -> Option<BlockPos> {
        self.index.get(hash).copied()
    }

    /// Forgets where `hash` is (its stored copy was mutated in transit), so that the next copy
    /// received is stored anew. The bytes stay in the file; a restart replays both copies and the
    /// coordinator refuses the bad one again without marking the block invalid.
    pub fn forget(&mut self, hash: &Hash256) {
        self.index.remove(hash);
    }

    /// Number of blocks stored.
    #[must_use]
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no block is stored.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Appends a block (its first 80 bytes are its header) unless it is stored already.
    ///
    /// # Errors
    /// I/O errors, a block over the size limit or shorter than a header.
    pub fn append(&mut self, block: &[u8]) -> Result<BlockPos, BlockFileError> {
        let header = Header::decode(block).map_err(|_| BlockFileError::TooLarge(block.len()))?;
        let hash = header.block_hash();
        if let Some(pos) = self.index.get(&hash) {
            return Ok(*pos);
        }
        let (len, record) = record_size(block)?;
        if starts_new_file(self.file_len, record) {
            self.sync()?;
            self.file_no += 1;
            let path = self.path();
            self.file = OpenOptions::new()
                .create(true)
                .append(true)
                .read(true)
                .open(&path)
                .map_err(io_err(&path))?;
            self.file_len = 0;
        }
        let mut rec = Vec::with_capacity(block.len() + 8);
        rec.extend_from_slice(&self.magic);
        rec.extend_from_slice(&len.to_le_bytes());
        rec.extend_from_slice(block);
        let path = self.path();
        self.file.write_all(&rec).map_err(io_err(&path))?;
        let pos = BlockPos {
            file: self.file_no,
            offset: self.file_len + 8,
            len,
        };
        self.file_len += record;
        self.index.insert(hash, pos);
        self.unsynced += 1;
        if self.unsynced >= SYNC_EVERY {
            self.sync()?;
        }
        Ok(pos)
    }

    /// Makes every appended block durable.
    ///
    /// # Errors
    /// I/O errors.
    pub fn sync(&mut self) -> Result<(), BlockFileError> {
        let path = self.path();
        self.file.sync_data().map_err(io_err(&path))?;
        self.unsynced = 0;
        Ok(())
    }

    /// Reads a stored block's bytes.
    ///
    /// # Errors
    /// I/O errors or a short read (a damaged file): the caller treats it as a fault.
    pub fn read(&self, pos: &BlockPos) -> Result<Vec<u8>, BlockFileError> {
        let path = self.dir.join(blk_file_name(pos.file));
        let f = File::open(&path).map_err(io_err(&path))?;
        let mut buf = vec![0u8; pos.len as usize];
        f.read_exact_at(&mut buf, pos.offset)
            .map_err(io_err(&path))?;
        Ok(buf)
    }

    fn path(&self) -> PathBuf {
        self.dir.join(blk_file_name(self.file_no))
    }
}

fn file_number(path: &Path) -> Option<u32> {
    let name = path.file_name()?.to_str()?;
    name.strip_prefix("blk")?.strip_suffix(".dat")?.parse().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::blockfile::MAGIC_REGTEST;

    fn block(tag: u8, len: usize) -> Vec<u8> {
        let mut b = vec![tag; len];
        b[..4].copy_from_slice(&[4, 0, 0, 0]);
        b
    }

    #[test]
    fn append_read_reopen_and_cut_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let blocks: Vec<Vec<u8>> = (1..=3).map(|i| block(i, 100 + usize::from(i))).collect();
        {
            let (mut s, found) = BlockStore::open(dir.path(), MAGIC_REGTEST).unwrap();
            assert!(found.is_empty());
            for b in &blocks {
                let pos = s.append(b).unwrap();
                assert_eq!(s.read(&pos).unwrap(), *b);
            }
            // The same block again is not written twice.
            let again = s.append(&blocks[0]).unwrap();
            assert_eq!(
                Some(again),
                s.get(&Header::decode(&blocks[0]).unwrap().block_hash())
            );
            s.sync().unwrap();
        }
        // A crash mid-append leaves a torn record.
        let path = dir.path().join(blk_file_name(0));
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&MAGIC_REGTEST).unwrap();
        f.write_all(&500u32.to_le_bytes()).unwrap();
        f.write_all(&[1; 20]).unwrap();
        drop(f);
        let (mut s, found) = BlockStore::open(dir.path(), MAGIC_REGTEST).unwrap();
        assert_eq!(found.len(), 3);
        assert_eq!(s.len(), 3);
        let pos = s.append(&block(9, 90)).unwrap();
        assert_eq!(s.read(&pos).unwrap(), block(9, 90));
        let (_, found) = BlockStore::open(dir.path(), MAGIC_REGTEST).unwrap();
        assert_eq!(found.len(), 4);
    }
}
