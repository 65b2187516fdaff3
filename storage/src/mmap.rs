//! The one module allowed `unsafe`: mapping the UTXO index file into memory.
//!
//! `memmap2::MmapMut::map_mut` is `unsafe` because the mapping aliases the file: if anything
//! else truncates or writes the file while it is mapped, Rust references into the mapping see
//! memory change under them (or fault). It is sound here because:
//! - the store holds an exclusive advisory lock on its directory for as long as it is open
//!   (redb's `flock` on `index.redb`, taken before the index is mapped), so no other
//!   cooperating process opens the files;
//! - inside the process, the [`MappedFile`] owns both the `File` and the mapping, the file is
//!   never truncated or resized while mapped (growth builds a *new* file and maps that), and all
//!   access goes through `&self`/`&mut self`, so Rust's borrow rules cover the mapped bytes;
//! - the mapping length is fixed at creation and slices never exceed it.
//!
//! [`MappedPrefix`] maps the first `len` bytes of the append-only record heap read-only. It is
//! sound for the same lock reason, and because the heap never changes bytes it has mapped: it
//! only appends at offsets at or past the mapped length, truncates only in `Heap::open` before
//! anything is mapped, and compaction writes a different file.
#![allow(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

use memmap2::{Mmap, MmapMut, MmapOptions};

/// A file of fixed length mapped read-write.
#[derive(Debug)]
pub struct MappedFile {
    map: MmapMut,
    _file: File,
}

impl MappedFile {
    /// Creates (or truncates) `path` to `len` zero bytes and maps it.
    pub fn create(path: &Path, len: u64) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        file.set_len(len)?;
        reserve(&file, len)?;
        Self::map(file)
    }

    /// Maps an existing file at its current length.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        Self::map(file)
    }

    fn map(file: File) -> io::Result<Self> {
        // SAFETY: see the module documentation: the directory lock excludes other writers, the
        // file is owned by this struct and never resized while the mapping lives.
        let map = unsafe { MmapMut::map_mut(&file)? };
        Ok(Self { map, _file: file })
    }

    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.map
    }

    /// Writes dirty pages back to the file and waits for the disk (`msync(MS_SYNC)`).
    pub fn flush(&self) -> io::Result<()> {
        self.map.flush()
    }
}

/// Allocates the file's blocks now. A sparse file on a full disk would fault (SIGBUS) at the
/// first write through the mapping; reserving turns that into `ENOSPC` here, an error the store
/// reports and stops on. File systems without the call keep the sparse file.
fn reserve(file: &File, len: u64) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let len = i64::try_from(len)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "mapped file too large"))?;
    match nix::fcntl::posix_fallocate(file.as_raw_fd(), 0, len) {
        Ok(()) | Err(nix::errno::Errno::EOPNOTSUPP) => Ok(()),
        Err(e) => Err(io::Error::from(e)),
    }
}

/// A read-only map of a file's first `len` bytes (see the module docs).
#[derive(Debug)]
pub struct MappedPrefix {
    map: Mmap,
}

impl MappedPrefix {
    /// Maps `file[..len]`; `None` for an empty prefix (zero-length maps are not portable).
    pub fn map(file: &File, len: u64) -> io::Result<Option<Self>> {
        if len == 0 {
            return Ok(None);
        }
        let len = usize::try_from(len)
            .map_err(|_| io::Error::other("heap larger than the address space"))?;
        // SAFETY: see the module documentation: the mapped prefix is never written or
        // truncated while mapped, and the directory lock excludes other processes.
        let map = unsafe { MmapOptions::new().len(len).map(file)? };
        Ok(Some(Self { map }))
    }

    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }
}
