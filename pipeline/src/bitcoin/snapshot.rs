//! The scheduled chain (committed + in flight) as stages see it: ancestor hashes, times and
//! bits by height. The importer appends on dispatch and truncates on rejection or reorg (only
//! when nothing is in flight, or for blocks whose work is being discarded).

use std::sync::{Arc, RwLock, RwLockReadGuard};

use sluice_consensus::chain::{AncestorInfo, AncestorView};

/// Shared, height-indexed ancestor data of the scheduled chain.
#[derive(Debug, Clone, Default)]
pub struct ChainSnapshot(Arc<RwLock<Vec<AncestorInfo>>>);

impl ChainSnapshot {
    /// Sets the entry at `height`, dropping everything above it.
    pub fn set(&self, height: u32, info: AncestorInfo) {
        let mut v = self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        v.truncate(height as usize);
        if v.len() == height as usize {
            v.push(info);
        }
    }

    /// Keeps heights `0..len`.
    pub fn truncate(&self, len: usize) {
        self.0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .truncate(len);
    }

    /// A view of the chain whose tip is at `tip_height` (the parent of the block validated).
    #[must_use]
    pub fn view(&self, tip_height: u32) -> SnapshotView<'_> {
        SnapshotView {
            infos: self
                .0
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            tip: tip_height,
        }
    }
}

/// A read-locked view for one block's checks.
#[derive(Debug)]
pub struct SnapshotView<'a> {
    infos: RwLockReadGuard<'a, Vec<AncestorInfo>>,
    tip: u32,
}

impl AncestorView for SnapshotView<'_> {
    fn tip_height(&self) -> u32 {
        self.tip
    }

    fn ancestor(&self, height: u32) -> Option<AncestorInfo> {
        if height > self.tip {
            return None;
        }
        self.infos.get(height as usize).copied()
    }
}
