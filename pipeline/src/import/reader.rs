//! Reads Core-framed block files like Core's `-loadblock`: garbage between records is skipped,
//! a truncated last record ends the file with a warning (the blocks before it are imported),
//! blocks of another network's magic are not found at all.

use std::fs;
use std::path::{Path, PathBuf};

use sluice_storage::blockfile::{list_block_files, scan_blocks, BlockFileError};

/// One block record and where it came from.
#[derive(Debug, Clone)]
pub struct Record {
    pub file: usize,
    pub offset: u64,
    pub bytes: Vec<u8>,
}

/// What reading one file found.
#[derive(Debug, Default)]
pub struct FileScan {
    pub records: Vec<Record>,
    pub skipped_bytes: u64,
    /// Set when the file ended inside a record.
    pub truncated: Option<String>,
}

/// Expands the import paths: files as given, directories to their `blk?????.dat` in order.
///
/// # Errors
/// Listing a directory failed.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, BlockFileError> {
    let mut out = Vec::new();
    for p in paths {
        out.extend(list_block_files(p)?);
    }
    Ok(out)
}

/// Scans file number `file_no` at `path` for blocks framed with `magic`.
///
/// # Errors
/// The file could not be read.
pub fn scan_file(path: &Path, file_no: usize, magic: [u8; 4]) -> Result<FileScan, std::io::Error> {
    let data = fs::read(path)?;
    let (scan, truncated) = match scan_blocks(path, &data, magic) {
        Ok(s) => (s, None),
        Err(BlockFileError::Truncated { offset, .. }) => {
            let end = usize::try_from(offset)
                .unwrap_or(data.len())
                .min(data.len());
            let msg = format!(
                "{}: truncated block record at offset {offset}; blocks before it were read",
                path.display()
            );
            // Everything before the torn record is intact.
            let s = scan_blocks(path, &data[..end], magic).unwrap_or_default();
            (s, Some(msg))
        }
        Err(e) => return Err(std::io::Error::other(e.to_string())),
    };
    Ok(FileScan {
        records: scan
            .blocks
            .into_iter()
            .map(|b| Record {
                file: file_no,
                offset: b.offset,
                bytes: b.bytes,
            })
            .collect(),
        skipped_bytes: scan.skipped_bytes,
        truncated,
    })
}

/// Re-reads one block's bytes (a block needed again after a reorganisation).
///
/// # Errors
/// I/O errors or a short read.
pub fn read_at(path: &Path, offset: u64, len: usize) -> Result<Vec<u8>, std::io::Error> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = fs::File::open(path)?;
    f.seek(SeekFrom::Start(offset))?;
    let mut buf = vec![0u8; len];
    f.read_exact(&mut buf)?;
    Ok(buf)
}
