//! What the sync knows of one peer.

use std::collections::HashSet;
use std::time::Instant;

use sluice_consensus::hash::Hash256;

use super::headers::{HeaderId, HeaderTree};
use super::presync::HeadersPresync;

/// One peer's part in the sync.
#[derive(Debug)]
pub(super) struct PeerSync {
    /// Offers the full chain with witnesses.
    pub(super) serves_blocks: bool,
    /// The most-work header the peer is known to have.
    pub(super) best_known: Option<HeaderId>,
    /// Blocks requested from it, oldest first.
    pub(super) in_flight: Vec<Hash256>,
    /// Blocks it said it does not have.
    pub(super) lacks: HashSet<Hash256>,
    /// When an unanswered `getheaders` was sent.
    pub(super) headers_asked: Option<Instant>,
    /// Since when it holds the block at the window's start while others wait.
    pub(super) stalling_since: Option<Instant>,
    /// Its low-work header chain being presynced (boxed: most peers have none).
    pub(super) presync: Option<Box<HeadersPresync>>,
}

impl PeerSync {
    pub(super) fn new(serves_blocks: bool) -> Self {
        Self {
            serves_blocks,
            best_known: None,
            in_flight: Vec::new(),
            lacks: HashSet::new(),
            headers_asked: None,
            stalling_since: None,
            presync: None,
        }
    }

    /// The peer has `id` (it sent or announced it): remember it if it has more work.
    pub(super) fn saw(&mut self, tree: &HeaderTree, id: HeaderId) {
        if self.best_known.is_none_or(|b| tree.work(id) > tree.work(b)) {
            self.best_known = Some(id);
        }
    }
}
