//! The coordinator: a sans-IO state machine between block sources and the pipeline.
//!
//! It owns the block tree, the schedule of dispatched blocks, blocks waiting for their parent
//! and a bounded cache of block bytes. A shell (the file importer, the network sync) offers it
//! blocks as they arrive — a header plus where the block's bytes live — asks it for the next
//! [`Command`] and carries that out (submit to the pipeline, disconnect from the store), and
//! hands it the pipeline's feedback. It never reads files, touches the store or waits: every
//! effect is a command, so the same policy serves `import` and `run`, and it is tested without
//! threads.

use std::collections::HashMap;
use std::sync::Arc;

use sluice_consensus::chain::{AncestorInfo, Params};
use sluice_consensus::hash::Hash256;
use sluice_consensus::header::Header;

use crate::bitcoin::{BlockReject, ChainSnapshot, Committed};
use crate::engine::{Feedback, Outcome, Schedule, Ticket};
use crate::tree::{Action, BlockId, BlockTree, InsertError};

#[cfg(test)]
mod tests;

/// Limits on what the coordinator keeps in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoordinatorLimits {
    /// Bytes of not-yet-dispatched blocks kept in memory; beyond it a block is re-read from its
    /// location when dispatched.
    pub pending_bytes: usize,
    /// Blocks waiting for their parent (kept as header and location, never as bytes).
    pub max_orphans: usize,
}

impl Default for CoordinatorLimits {
    fn default() -> Self {
        Self {
            pending_bytes: 256 << 20,
            max_orphans: 100_000,
        }
    }
}

/// What happened to an offered block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offered {
    /// In the tree (and so were `children` waiting for it).
    Accepted { height: u32, children: usize },
    /// Its parent is unknown: it waits.
    Orphan,
    /// Already known with data (a second copy of a block in flight is kept as a spare).
    Duplicate,
    /// The orphan pool is full: the block was dropped.
    OrphanPoolFull,
    /// Its header broke a rule (Core's reject reason); children waiting for it were refused too.
    Refused { reason: String },
}

/// What the shell must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<L> {
    /// Submit this block to the pipeline under `ticket`. `bytes` is `None` when the block must
    /// be re-read from `loc`; the shell checks that what it reads is the block `hash` before
    /// submitting (a mismatch is a fault, never a verdict).
    Dispatch {
        ticket: Ticket,
        hash: Hash256,
        height: u32,
        loc: L,
        bytes: Option<Arc<[u8]>>,
    },
    /// Disconnect the committed tip `hash` from the store, then call
    /// [`Coordinator::disconnected`].
    Disconnect { hash: Hash256, height: u32 },
    /// Blocks are in flight and must resolve first: wait for pipeline feedback.
    WaitFeedback,
}

/// What the pipeline's feedback meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Committed(Committed),
    /// A consensus verdict: the block (and its descendants) are invalid, unless `mutated`, in
    /// which case only this copy's data was dropped.
    Rejected {
        hash: Hash256,
        height: u32,
        reason: String,
        mutated: bool,
        /// A copy received while this one was in flight took its place.
        spare_used: bool,
    },
    /// The committed tip was disconnected for a reorganisation.
    Disconnected {
        hash: Hash256,
        height: u32,
    },
    Discarded,
    Checkpointed,
}

/// A fault reported by the pipeline: not a verdict, the shell must stop.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    #[error("storage failed: {0}")]
    Storage(String),
    #[error("checkpoint failed: {0}")]
    Checkpoint(String),
    /// Two verifiers disagreed (e.g. a vector backend and libsecp256k1): no verdict.
    #[error("internal fault: {0}")]
    Internal(String),
    #[error("feedback for unknown sequence {0}")]
    UnknownSequence(u64),
}

fn info(h: &Header) -> AncestorInfo {
    AncestorInfo {
        hash: h.block_hash(),
        time: h.time,
        bits: h.bits,
    }
}

/// The sans-IO coordinator (see the module documentation). `L` is where a block's bytes live.
#[derive(Debug)]
pub struct Coordinator<L> {
    params: Params,
    limits: CoordinatorLimits,
    tree: BlockTree<L>,
    sched: Schedule<BlockId>,
    snapshot: ChainSnapshot,
    pending: HashMap<BlockId, Arc<[u8]>>,
    pending_bytes: usize,
    orphans: HashMap<Hash256, Vec<(Header, L)>>,
    orphan_count: usize,
    /// A second copy of a block still being validated, in case the first turns out mutated.
    spares: HashMap<Hash256, (Header, L)>,
    /// A reopened store's tip: nothing is dispatched until it is in the tree.
    waiting_for: Option<Hash256>,
    /// Committed blocks still to disconnect for a reorganisation (tip first).
    disconnecting: Vec<BlockId>,
    reorgs: u64,
    /// Waiting children refused when their parent was (hash, reason), until the shell takes them.
    refused: Vec<(Hash256, String)>,
}

impl<L: Clone> Coordinator<L> {
    /// A coordinator for a store whose tip is `stored_tip` (`None` or genesis: a new store).
    /// `snapshot` is the ancestor view the pipeline's stages read; the coordinator keeps it in
    /// step with the scheduled chain.
    #[must_use]
    pub fn new(
        params: Params,
        limits: CoordinatorLimits,
        snapshot: ChainSnapshot,
        stored_tip: Option<Hash256>,
    ) -> Self {
        snapshot.set(0, info(&params.genesis_header()));
        let waiting_for = stored_tip.filter(|h| *h != params.genesis_hash);
        Self {
            tree: BlockTree::new(&params),
            params,
            limits,
            sched: Schedule::default(),
            snapshot,
            pending: HashMap::new(),
            pending_bytes: 0,
            orphans: HashMap::new(),
            orphan_count: 0,
            spares: HashMap::new(),
            waiting_for,
            disconnecting: Vec::new(),
            reorgs: 0,
            refused: Vec::new(),
        }
    }

    /// The block tree (read-only).
    #[must_use]
    pub fn tree(&self) -> &BlockTree<L> {
        &self.tree
    }

    /// The reopened store's tip, while it has not been seen yet.
    #[must_use]
    pub fn waiting_for(&self) -> Option<Hash256> {
        self.waiting_for
    }

    /// Blocks dispatched and not yet resolved.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.sched.in_flight()
    }

    /// Blocks waiting for their parent.
    #[must_use]
    pub fn orphan_count(&self) -> usize {
        self.orphan_count
    }

    /// Blocks that waited for a parent and were refused with it (hash, reason) since the last
    /// call.
    pub fn take_refused(&mut self) -> Vec<(Hash256, String)> {
        std::mem::take(&mut self.refused)
    }

    /// Bytes of blocks held in memory for dispatch.
    #[must_use]
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Offers a block whose bytes decode (the shell checked) and live at `loc`; `bytes` may be
    /// given to save a re-read. `adjusted_time` is the node's clock in Unix seconds.
    pub fn offer(
        &mut self,
        header: &Header,
        loc: L,
        bytes: Option<Arc<[u8]>>,
        adjusted_time: i64,
    ) -> Offered {
        let hash = header.block_hash();
        match self
            .tree
            .insert(header, loc.clone(), &self.params, adjusted_time)
        {
            Ok(id) => {
                self.keep_bytes(id, bytes);
                if self.waiting_for == Some(hash) {
                    self.adopt(id);
                }
                let children = self.accept_children(hash, adjusted_time);
                Offered::Accepted {
                    height: self.tree.height(id),
                    children,
                }
            }
            Err(InsertError::Duplicate) => {
                if self
                    .tree
                    .get(&hash)
                    .is_some_and(|id| !self.tree.is_committed(id))
                {
                    self.spares.entry(hash).or_insert((*header, loc));
                }
                Offered::Duplicate
            }
            Err(InsertError::UnknownParent) => {
                if self.orphan_count >= self.limits.max_orphans {
                    return Offered::OrphanPoolFull;
                }
                let waiting = self.orphans.entry(header.prev_blockhash).or_default();
                if waiting.iter().any(|(h, _)| h.block_hash() == hash) {
                    return Offered::Duplicate;
                }
                waiting.push((*header, loc));
                self.orphan_count += 1;
                Offered::Orphan
            }
            Err(e) => {
                // Children waiting for a refused header are refused as bad-prevblk when retried.
                self.accept_children(hash, adjusted_time);
                Offered::Refused {
                    reason: e.to_string(),
                }
            }
        }
    }

    /// Retries the orphans waiting for `parent` (and theirs, recursively); returns how many
    /// entered the tree.
    fn accept_children(&mut self, parent: Hash256, adjusted_time: i64) -> usize {
        let mut accepted = 0;
        let mut queue = vec![parent];
        while let Some(p) = queue.pop() {
            let Some(children) = self.orphans.remove(&p) else {
                continue;
            };
            self.orphan_count = self.orphan_count.saturating_sub(children.len());
            for (header, loc) in children {
                let hash = header.block_hash();
                match self.tree.insert(&header, loc, &self.params, adjusted_time) {
                    Ok(id) => {
                        accepted += 1;
                        if self.waiting_for == Some(hash) {
                            self.adopt(id);
                        }
                    }
                    Err(InsertError::Duplicate) => {}
                    Err(e) => self.refused.push((hash, e.to_string())),
                }
                queue.push(hash);
            }
        }
        accepted
    }

    fn keep_bytes(&mut self, id: BlockId, bytes: Option<Arc<[u8]>>) {
        // While looking for a reopened store's tip, blocks are most likely committed already.
        if self.waiting_for.is_some() {
            return;
        }
        if let Some(b) = bytes {
            if self.pending_bytes + b.len() <= self.limits.pending_bytes {
                self.pending_bytes += b.len();
                self.pending.insert(id, b);
            }
        }
    }

    fn take_bytes(&mut self, id: BlockId) -> Option<Arc<[u8]>> {
        let b = self.pending.remove(&id)?;
        self.pending_bytes = self.pending_bytes.saturating_sub(b.len());
        Some(b)
    }

    /// The reopened store's tip is in the tree: its chain is committed already.
    fn adopt(&mut self, id: BlockId) {
        if self.tree.adopt_committed(id) {
            tracing::info!("resuming after height {}", self.tree.height(id));
            let chain: Vec<BlockId> = self.tree.committed_chain().to_vec();
            for b in chain {
                if let Some(h) = self.tree.header(b) {
                    self.snapshot.set(self.tree.height(b), info(h));
                }
                self.take_bytes(b);
            }
            self.waiting_for = None;
        }
    }

    /// The next thing the shell must do, or `None` when there is nothing to do until another
    /// block or feedback arrives.
    pub fn next_command(&mut self) -> Option<Command<L>> {
        if let Some(&id) = self.disconnecting.first() {
            return Some(Command::Disconnect {
                hash: self.tree.hash(id),
                height: self.tree.height(id),
            });
        }
        if self.waiting_for.is_some() {
            return None;
        }
        match self.tree.next_action(self.sched.in_flight()) {
            Action::Idle => None,
            Action::Drain => Some(Command::WaitFeedback),
            Action::Dispatch(id) => {
                let loc = self.tree.data(id)?.clone();
                let height = self.tree.height(id);
                if let Some(h) = self.tree.header(id) {
                    self.snapshot.set(height, info(h));
                }
                self.tree.mark_dispatched(id);
                let ticket = self.sched.dispatch(id);
                Some(Command::Dispatch {
                    ticket,
                    hash: self.tree.hash(id),
                    height,
                    loc,
                    bytes: self.take_bytes(id),
                })
            }
            Action::Reorg { disconnect } => {
                self.reorgs += 1;
                self.disconnecting = disconnect;
                self.next_command()
            }
        }
    }

    /// Reorganisations started so far.
    #[must_use]
    pub fn reorgs(&self) -> u64 {
        self.reorgs
    }

    /// The shell disconnected the block named by the last [`Command::Disconnect`].
    pub fn disconnected(&mut self) -> Resolved {
        let id = if self.disconnecting.is_empty() {
            self.tree.committed_tip()
        } else {
            self.disconnecting.remove(0)
        };
        self.tree.mark_disconnected();
        self.snapshot.truncate(self.tree.committed_chain().len());
        Resolved::Disconnected {
            hash: self.tree.hash(id),
            height: self.tree.height(id),
        }
    }

    /// Applies one message of pipeline feedback.
    ///
    /// # Errors
    /// A [`Fault`] (storage, checkpoint, bookkeeping): the shell must stop; nothing is marked
    /// invalid for it.
    pub fn on_feedback(
        &mut self,
        msg: Feedback<Committed, BlockReject>,
    ) -> Result<Resolved, Fault> {
        match msg {
            Feedback::Committed { seq, info } => {
                let id = self
                    .sched
                    .resolve(seq, Outcome::Committed)
                    .ok_or(Fault::UnknownSequence(seq))?;
                self.tree.mark_committed(id);
                self.spares.remove(&self.tree.hash(id));
                Ok(Resolved::Committed(info))
            }
            Feedback::Rejected {
                seq,
                new_epoch,
                error,
            } => {
                let id = self.sched.resolve(seq, Outcome::Rejected { new_epoch });
                let (reason, mutated) = match error {
                    BlockReject::Storage(e) => return Err(Fault::Storage(e)),
                    BlockReject::Internal(e) => return Err(Fault::Internal(e)),
                    BlockReject::Consensus { reason, mutation } => (reason, mutation),
                };
                let id = id.ok_or(Fault::UnknownSequence(seq))?;
                let hash = self.tree.hash(id);
                let mut spare_used = false;
                if mutated {
                    self.take_bytes(id);
                    self.tree.forget_data(id);
                    // A copy received while this one was in flight takes its place.
                    if let Some((header, loc)) = self.spares.remove(&hash) {
                        spare_used = self
                            .tree
                            .insert(&header, loc, &self.params, i64::MAX)
                            .is_ok();
                    }
                } else {
                    self.tree.mark_invalid(id, reason.clone());
                }
                self.snapshot.truncate(self.tree.committed_chain().len());
                Ok(Resolved::Rejected {
                    hash,
                    height: self.tree.height(id),
                    reason,
                    mutated,
                    spare_used,
                })
            }
            Feedback::Discarded { seq } => {
                self.sched.resolve(seq, Outcome::Discarded);
                Ok(Resolved::Discarded)
            }
            Feedback::Checkpointed { .. } => Ok(Resolved::Checkpointed),
            Feedback::CheckpointFailed(e) => Err(Fault::Checkpoint(e.to_string())),
        }
    }

    /// Whether the chain of the best block the tree knows (with data) is fully committed.
    #[must_use]
    pub fn is_idle(&self) -> bool {
        self.sched.in_flight() == 0
            && self.disconnecting.is_empty()
            && matches!(self.tree.next_action(0), Action::Idle)
    }
}
