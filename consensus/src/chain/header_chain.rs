//! An in-memory header chain: the simplest [`AncestorView`], for header sync and tests.

use super::ancestors::{AncestorInfo, AncestorView};
use super::header_check::{contextual_check_block_header, HeaderError};
use super::params::Params;
use super::pow::{block_proof, check_proof_of_work};
use super::u256::U256;
use crate::hash::Hash256;
use crate::header::Header;

/// A linear chain of validated headers starting at a trusted base height.
#[derive(Debug, Clone)]
pub struct HeaderChain {
    base_height: u32,
    entries: Vec<AncestorInfo>,
    /// Work of the headers held (not of the chain below the base).
    work: U256,
}

/// A checkpoint could not be loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint needs at least one header")]
    Empty,
    #[error("checkpoint header {0} does not link to its predecessor")]
    Unlinked(usize),
    #[error("checkpoint runs past the maximum height")]
    TooHigh,
}

impl HeaderChain {
    /// A chain holding only `params`' genesis header.
    #[must_use]
    pub fn from_genesis(params: &Params) -> Self {
        let g = params.genesis_header();
        Self {
            base_height: 0,
            entries: vec![info(&g)],
            work: block_proof(g.bits),
        }
    }

    /// A chain starting from trusted, linked headers whose first is at `base_height`.
    /// Rules that look back further than the checkpoint (median time past needs 11 blocks,
    /// a retarget needs its period's first block) fail with a missing-ancestor error, so supply
    /// enough history.
    ///
    /// # Errors
    /// [`CheckpointError`] if `headers` is empty, unlinked, or too high.
    pub fn from_checkpoint(base_height: u32, headers: &[Header]) -> Result<Self, CheckpointError> {
        if headers.is_empty() {
            return Err(CheckpointError::Empty);
        }
        let count = u32::try_from(headers.len()).map_err(|_| CheckpointError::TooHigh)?;
        base_height
            .checked_add(count - 1)
            .ok_or(CheckpointError::TooHigh)?;
        let mut entries: Vec<AncestorInfo> = Vec::with_capacity(headers.len());
        let mut work = U256::ZERO;
        for (i, h) in headers.iter().enumerate() {
            if let Some(prev) = entries.last() {
                if h.prev_blockhash != prev.hash {
                    return Err(CheckpointError::Unlinked(i));
                }
            }
            entries.push(info(h));
            work = work.wrapping_add(&block_proof(h.bits));
        }
        Ok(Self {
            base_height,
            entries,
            work,
        })
    }

    /// Hash of the tip.
    #[must_use]
    pub fn tip_hash(&self) -> Hash256 {
        self.entries.last().map_or([0; 32], |e| e.hash)
    }

    /// Height of the first header held.
    #[must_use]
    pub fn base_height(&self) -> u32 {
        self.base_height
    }

    /// Sum of the work of the headers held.
    #[must_use]
    pub fn work(&self) -> U256 {
        self.work
    }

    /// Validates `header` against the tip (linkage, PoW, contextual rules) and appends it.
    /// Returns its hash.
    ///
    /// # Errors
    /// The [`HeaderError`] naming the failed rule; the chain is unchanged then.
    pub fn accept(
        &mut self,
        header: &Header,
        params: &Params,
        adjusted_time: i64,
    ) -> Result<Hash256, HeaderError> {
        // check_header's rules in its order, hashing the header once.
        let hash = header.block_hash();
        if !check_proof_of_work(&hash, header.bits, params) {
            return Err(HeaderError::HighHash);
        }
        if header.prev_blockhash != self.tip_hash() {
            return Err(HeaderError::PrevBlockNotFound);
        }
        contextual_check_block_header(header, self, params, adjusted_time)?;
        self.entries.push(AncestorInfo {
            hash,
            time: header.time,
            bits: header.bits,
        });
        self.work = self.work.wrapping_add(&block_proof(header.bits));
        Ok(hash)
    }
}

fn info(h: &Header) -> AncestorInfo {
    AncestorInfo {
        hash: h.block_hash(),
        time: h.time,
        bits: h.bits,
    }
}

impl AncestorView for HeaderChain {
    fn tip_height(&self) -> u32 {
        // At least one entry exists; heights beyond u32 are unreachable in practice.
        let extra = u32::try_from(self.entries.len().saturating_sub(1)).unwrap_or(u32::MAX);
        self.base_height.saturating_add(extra)
    }

    fn ancestor(&self, height: u32) -> Option<AncestorInfo> {
        let idx = height.checked_sub(self.base_height)?;
        self.entries.get(idx as usize).copied()
    }
}
