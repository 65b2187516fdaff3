//! The block tree: every block whose header was accepted, with its cumulative work, and the
//! decision of what the pipeline should do next (extend the tip, wait, or reorganise).
//!
//! This is a plain state machine (no I/O, no threads): the importer feeds it headers and the
//! pipeline's outcomes, and asks [`BlockTree::next_action`]. Like Core, the chain with the most
//! work wins; on equal work the block received first stays.

use std::collections::HashMap;

use sluice_consensus::chain::pow::block_proof;
use sluice_consensus::chain::{
    check_block_header, contextual_check_block_header, AncestorInfo, AncestorView, HeaderError,
    Params, U256,
};
use sluice_consensus::hash::Hash256;
use sluice_consensus::header::Header;

/// Index of a block in the tree.
pub type BlockId = usize;

/// Why a block is not usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// The block itself broke a rule (Core's reject reason).
    Failed(String),
    /// An ancestor is invalid (`bad-prevblk`).
    Child,
}

#[derive(Debug)]
struct Entry<D> {
    hash: Hash256,
    header: Header,
    parent: Option<BlockId>,
    height: u32,
    work: U256,
    invalid: Option<Invalid>,
    data: Option<D>,
}

/// A header was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InsertError {
    #[error("duplicate block")]
    Duplicate,
    #[error("prev-blk-not-found (orphan)")]
    UnknownParent,
    #[error("bad-prevblk")]
    InvalidParent,
    #[error("{0}")]
    Header(#[from] HeaderError),
}

/// What the pipeline should do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing to do until more blocks arrive.
    Idle,
    /// Send this block into the pipeline (it extends the scheduled tip).
    Dispatch(BlockId),
    /// A better chain forks below the scheduled tip: let in-flight blocks resolve first.
    Drain,
    /// With nothing in flight: disconnect these committed blocks (tip first), then dispatch
    /// along the better chain.
    Reorg { disconnect: Vec<BlockId> },
}

/// Headers known, the committed chain and the scheduled (committed + in flight) chain.
#[derive(Debug)]
pub struct BlockTree<D> {
    entries: Vec<Entry<D>>,
    by_hash: HashMap<Hash256, BlockId>,
    /// Blocks whose header failed checks: their children are refused at once.
    failed_headers: HashMap<Hash256, String>,
    committed: Vec<BlockId>,
    scheduled: Vec<BlockId>,
    best: BlockId,
    /// How many valid blocks lost their data (a mutated copy was rejected): while any has, a
    /// candidate tip must have data all the way down to the committed chain, as in Core.
    forgotten: usize,
}

impl<D> BlockTree<D> {
    /// A tree holding `params`' genesis block, committed.
    #[must_use]
    pub fn new(params: &Params) -> Self {
        let header = params.genesis_header();
        let hash = header.block_hash();
        let mut by_hash = HashMap::new();
        by_hash.insert(hash, 0);
        Self {
            entries: vec![Entry {
                hash,
                header,
                parent: None,
                height: 0,
                work: block_proof(header.bits),
                invalid: None,
                data: None,
            }],
            by_hash,
            failed_headers: HashMap::new(),
            committed: vec![0],
            scheduled: vec![0],
            best: 0,
            forgotten: 0,
        }
    }

    /// The block with `hash`, if known.
    #[must_use]
    pub fn get(&self, hash: &Hash256) -> Option<BlockId> {
        self.by_hash.get(hash).copied()
    }

    /// Whether `hash` is a block whose header was refused (its children are refused too).
    #[must_use]
    pub fn is_failed_header(&self, hash: &Hash256) -> bool {
        self.failed_headers.contains_key(hash)
    }

    /// Validates `header` against its parent's chain (PoW, difficulty, time, version) and adds it
    /// with its `data`. `adjusted_time` is the node's clock in Unix seconds.
    ///
    /// # Errors
    /// [`InsertError`] naming the rule; a header failing a rule is remembered so that its
    /// descendants are refused as `bad-prevblk`.
    pub fn insert(
        &mut self,
        header: &Header,
        data: D,
        params: &Params,
        adjusted_time: i64,
    ) -> Result<BlockId, InsertError> {
        let hash = header.block_hash();
        if let Some(&id) = self.by_hash.get(&hash) {
            let e = &mut self.entries[id];
            if e.data.is_none() && e.invalid.is_none() && id != 0 {
                // A copy of a block whose earlier copy was mutated in transit: take this one.
                e.data = Some(data);
                self.forgotten = self.forgotten.saturating_sub(1);
                self.recompute_best();
                return Ok(id);
            }
            return Err(InsertError::Duplicate);
        }
        if self.failed_headers.contains_key(&header.prev_blockhash) {
            self.failed_headers.insert(hash, "bad-prevblk".into());
            return Err(InsertError::InvalidParent);
        }
        let parent = self
            .get(&header.prev_blockhash)
            .ok_or(InsertError::UnknownParent)?;
        if self.entries[parent].invalid.is_some() {
            self.failed_headers.insert(hash, "bad-prevblk".into());
            return Err(InsertError::InvalidParent);
        }
        let checked = check_block_header(header, params).and_then(|()| {
            contextual_check_block_header(header, &self.view(parent), params, adjusted_time)
        });
        if let Err(e) = checked {
            // Only a permanent failure poisons descendants: a header from the future
            // (`time-too-new`, Core's BLOCK_TIME_FUTURE) may be fine later, so its children wait
            // as orphans instead of being refused.
            if e.is_permanent() {
                self.failed_headers.insert(hash, e.to_string());
            }
            return Err(e.into());
        }
        let id = self.entries.len();
        let p = &self.entries[parent];
        let entry = Entry {
            hash,
            header: *header,
            parent: Some(parent),
            height: p.height + 1,
            work: p.work.wrapping_add(&block_proof(header.bits)),
            invalid: None,
            data: Some(data),
        };
        let better = entry.work > self.entries[self.best].work;
        self.entries.push(entry);
        self.by_hash.insert(hash, id);
        if better && self.has_data_path(id) {
            self.best = id;
        }
        Ok(id)
    }

    /// An [`AncestorView`] of the chain ending at `tip`.
    #[must_use]
    pub fn view(&self, tip: BlockId) -> ChainView<'_, D> {
        ChainView { tree: self, tip }
    }

    fn ancestor(&self, mut id: BlockId, height: u32) -> Option<BlockId> {
        let h = self.entries.get(id)?.height;
        if height > h {
            return None;
        }
        // Fast path: the scheduled chain is indexed by height.
        if self.scheduled.get(h as usize) == Some(&id) {
            return self.scheduled.get(height as usize).copied();
        }
        while self.entries[id].height > height {
            id = self.entries[id].parent?;
            if self.scheduled.get(self.entries[id].height as usize) == Some(&id) {
                return self.scheduled.get(height as usize).copied();
            }
        }
        Some(id)
    }

    /// What to do next, given how many dispatched blocks are still unresolved.
    #[must_use]
    pub fn next_action(&self, in_flight: usize) -> Action {
        let tip = self.scheduled_tip();
        let best = self.best;
        if best == tip || self.entries[best].work <= self.entries[tip].work {
            return Action::Idle;
        }
        let tip_height = self.entries[tip].height;
        if self.ancestor(best, tip_height) == Some(tip) {
            return match self.ancestor(best, tip_height + 1) {
                Some(next) => Action::Dispatch(next),
                None => Action::Idle,
            };
        }
        if in_flight > 0 {
            return Action::Drain;
        }
        // Nothing in flight, so scheduled == committed; find the fork point.
        let mut disconnect = Vec::new();
        let mut fork = tip;
        while self.ancestor(best, self.entries[fork].height) != Some(fork) {
            disconnect.push(fork);
            match self.entries[fork].parent {
                Some(p) => fork = p,
                None => break,
            }
        }
        Action::Reorg { disconnect }
    }

    /// `id` was sent into the pipeline.
    pub fn mark_dispatched(&mut self, id: BlockId) {
        self.scheduled.push(id);
    }

    /// `id` (the oldest uncommitted scheduled block) was committed.
    pub fn mark_committed(&mut self, id: BlockId) {
        debug_assert_eq!(self.scheduled.get(self.committed.len()), Some(&id));
        self.committed.push(id);
    }

    /// The committed tip was disconnected.
    pub fn mark_disconnected(&mut self) {
        if self.committed.len() > 1 {
            self.committed.pop();
            self.scheduled.truncate(self.committed.len());
        }
    }

    /// `id` broke `reason`: it and its descendants become invalid, the scheduled chain falls back
    /// to the committed one, and the best candidate is recomputed.
    pub fn mark_invalid(&mut self, id: BlockId, reason: String) {
        if let Some(e) = self.entries.get_mut(id) {
            e.invalid = Some(Invalid::Failed(reason));
        }
        // Parents precede children in `entries`, so one pass propagates.
        for i in id + 1..self.entries.len() {
            if let Some(p) = self.entries[i].parent {
                if self.entries[p].invalid.is_some() && self.entries[i].invalid.is_none() {
                    self.entries[i].invalid = Some(Invalid::Child);
                }
            }
        }
        self.scheduled.truncate(self.committed.len());
        self.recompute_best();
    }

    /// `id`'s data was a mutated copy (Core's `BLOCK_MUTATED`: bad merkle root, duplicated
    /// transactions, bad witness commitment): the block is not marked invalid, since its header
    /// may commit to a valid block, but its data is dropped. A later copy can still connect, and
    /// until one arrives no chain through `id` is a candidate.
    pub fn forget_data(&mut self, id: BlockId) {
        if let Some(e) = self.entries.get_mut(id) {
            if e.data.take().is_some() {
                self.forgotten += 1;
            }
        }
        self.scheduled.truncate(self.committed.len());
        self.recompute_best();
    }

    /// The valid block with the most work whose data is available down to the committed chain.
    fn recompute_best(&mut self) {
        self.best = self.committed_tip();
        for i in 0..self.entries.len() {
            let e = &self.entries[i];
            if e.invalid.is_none() && e.work > self.entries[self.best].work && self.has_data_path(i)
            {
                self.best = i;
            }
        }
    }

    /// Whether every block from `id` down to the committed chain has its data.
    fn has_data_path(&self, mut id: BlockId) -> bool {
        if self.forgotten == 0 {
            return true;
        }
        loop {
            if self.is_committed(id) {
                return true;
            }
            let e = &self.entries[id];
            if e.data.is_none() {
                return false;
            }
            match e.parent {
                Some(p) => id = p,
                None => return true,
            }
        }
    }

    #[must_use]
    pub fn committed_tip(&self) -> BlockId {
        self.committed.last().copied().unwrap_or(0)
    }

    #[must_use]
    pub fn scheduled_tip(&self) -> BlockId {
        self.scheduled.last().copied().unwrap_or(0)
    }

    #[must_use]
    pub fn hash(&self, id: BlockId) -> Hash256 {
        self.entries.get(id).map_or([0; 32], |e| e.hash)
    }

    #[must_use]
    pub fn height(&self, id: BlockId) -> u32 {
        self.entries.get(id).map_or(0, |e| e.height)
    }

    #[must_use]
    pub fn header(&self, id: BlockId) -> Option<&Header> {
        self.entries.get(id).map(|e| &e.header)
    }

    #[must_use]
    pub fn data(&self, id: BlockId) -> Option<&D> {
        self.entries.get(id).and_then(|e| e.data.as_ref())
    }

    #[must_use]
    pub fn invalid(&self, id: BlockId) -> Option<&Invalid> {
        self.entries.get(id).and_then(|e| e.invalid.as_ref())
    }

    /// Cumulative work of the chain ending at `id`.
    #[must_use]
    pub fn work(&self, id: BlockId) -> U256 {
        self.entries.get(id).map_or(U256::ZERO, |e| e.work)
    }

    /// Number of blocks known (including genesis).
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `id` is on the committed chain.
    #[must_use]
    pub fn is_committed(&self, id: BlockId) -> bool {
        self.entries
            .get(id)
            .is_some_and(|e| self.committed.get(e.height as usize) == Some(&id))
    }

    /// The committed chain's block ids by height.
    #[must_use]
    pub fn committed_chain(&self) -> &[BlockId] {
        &self.committed
    }

    /// Adopts `tip` and its ancestors as the committed chain (reopening a datadir whose tip is
    /// `tip`). Returns false when `tip` is not a descendant of the current committed tip.
    pub fn adopt_committed(&mut self, tip: BlockId) -> bool {
        let base = self.committed_tip();
        let base_h = self.entries[base].height;
        if self.ancestor(tip, base_h) != Some(base) {
            return false;
        }
        let mut path = Vec::new();
        let mut id = tip;
        while id != base {
            path.push(id);
            match self.entries[id].parent {
                Some(p) => id = p,
                None => return false,
            }
        }
        path.reverse();
        self.scheduled.truncate(self.committed.len());
        self.committed.extend(&path);
        self.scheduled.extend(path);
        true
    }
}

/// The chain ending at one block, as consensus rules see it.
#[derive(Debug)]
pub struct ChainView<'a, D> {
    tree: &'a BlockTree<D>,
    tip: BlockId,
}

impl<D> AncestorView for ChainView<'_, D> {
    fn tip_height(&self) -> u32 {
        self.tree.height(self.tip)
    }

    fn ancestor(&self, height: u32) -> Option<AncestorInfo> {
        let id = self.tree.ancestor(self.tip, height)?;
        let e = self.tree.entries.get(id)?;
        Some(AncestorInfo {
            hash: e.hash,
            time: e.header.time,
            bits: e.header.bits,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_consensus::chain::check_proof_of_work;

    /// Mines a regtest header on `prev` (regtest targets need a couple of tries at most).
    pub(crate) fn mine(prev: &Header, time_offset: u32, tag: u32, params: &Params) -> Header {
        let mut h = Header {
            version: 4,
            prev_blockhash: prev.block_hash(),
            merkle_root: [u8::try_from(tag % 251).unwrap(); 32],
            time: prev.time + time_offset,
            bits: prev.bits,
            nonce: 0,
        };
        while !check_proof_of_work(&h.block_hash(), h.bits, params) {
            h.nonce += 1;
        }
        h
    }

    fn build(
        tree: &mut BlockTree<u32>,
        from: BlockId,
        n: u32,
        tag: u32,
        p: &Params,
    ) -> Vec<BlockId> {
        let mut prev = *tree.header(from).unwrap();
        let mut ids = vec![];
        for i in 0..n {
            let h = mine(&prev, 600, tag * 1000 + i, p);
            ids.push(tree.insert(&h, i, p, i64::MAX / 2).unwrap());
            prev = h;
        }
        ids
    }

    fn run_to_idle(tree: &mut BlockTree<u32>) -> Vec<BlockId> {
        let mut dispatched = vec![];
        loop {
            match tree.next_action(0) {
                Action::Dispatch(id) => {
                    tree.mark_dispatched(id);
                    tree.mark_committed(id);
                    dispatched.push(id);
                }
                Action::Reorg { disconnect } => {
                    for _ in disconnect {
                        tree.mark_disconnected();
                    }
                }
                Action::Idle => return dispatched,
                Action::Drain => unreachable!(),
            }
        }
    }

    #[test]
    fn extends_in_order_and_refuses_duplicates_and_orphans() {
        let p = Params::regtest();
        let mut t = BlockTree::new(&p);
        let a = build(&mut t, 0, 3, 1, &p);
        assert_eq!(t.next_action(0), Action::Dispatch(a[0]));
        assert_eq!(run_to_idle(&mut t), a);
        let dup = *t.header(a[1]).unwrap();
        assert_eq!(
            t.insert(&dup, 0, &p, i64::MAX / 2),
            Err(InsertError::Duplicate)
        );
        let mut orphan = dup;
        orphan.prev_blockhash = [9; 32];
        assert_eq!(
            t.insert(&orphan, 0, &p, i64::MAX / 2),
            Err(InsertError::UnknownParent)
        );
    }

    #[test]
    fn more_work_branch_triggers_reorg_after_draining() {
        let p = Params::regtest();
        let mut t = BlockTree::new(&p);
        let a = build(&mut t, 0, 3, 1, &p);
        run_to_idle(&mut t);
        // Equal work: the first seen stays.
        let b = build(&mut t, a[0], 2, 2, &p);
        assert_eq!(t.next_action(0), Action::Idle);
        let b3 = build(&mut t, b[1], 1, 3, &p)[0];
        assert_eq!(t.next_action(1), Action::Drain);
        assert_eq!(
            t.next_action(0),
            Action::Reorg {
                disconnect: vec![a[2], a[1]]
            }
        );
        t.mark_disconnected();
        t.mark_disconnected();
        assert_eq!(run_to_idle(&mut t), vec![b[0], b[1], b3]);
        assert_eq!(t.committed_chain(), &[0, a[0], b[0], b[1], b3]);
    }

    #[test]
    fn invalid_block_falls_back_to_the_best_valid_chain() {
        let p = Params::regtest();
        let mut t = BlockTree::new(&p);
        let a = build(&mut t, 0, 2, 1, &p);
        let b = build(&mut t, 0, 3, 2, &p);
        // Best is b (more work); dispatch b0, b1 then b1 fails.
        t.mark_dispatched(b[0]);
        t.mark_committed(b[0]);
        t.mark_dispatched(b[1]);
        t.mark_dispatched(b[2]);
        t.mark_invalid(b[1], "bad-txns".into());
        assert_eq!(t.invalid(b[2]), Some(&Invalid::Child));
        assert_eq!(t.scheduled_tip(), b[0]);
        // a has 2 blocks, committed b0 has 1: reorg to a.
        assert_eq!(
            t.next_action(0),
            Action::Reorg {
                disconnect: vec![b[0]]
            }
        );
        t.mark_disconnected();
        assert_eq!(run_to_idle(&mut t), a);
        // Children of an invalid block are refused.
        let child = mine(t.header(b[2]).unwrap(), 600, 77, &p);
        assert_eq!(
            t.insert(&child, 0, &p, i64::MAX / 2),
            Err(InsertError::InvalidParent)
        );
    }

    #[test]
    fn header_rule_violation_is_named_and_poisons_children() {
        let p = Params::regtest();
        let mut t: BlockTree<u32> = BlockTree::new(&p);
        let g = *t.header(0).unwrap();
        let mut bad = mine(&g, 600, 1, &p);
        bad.bits = 0x1d00_ffff; // claims mainnet difficulty it does not meet
        let err = t.insert(&bad, 0, &p, i64::MAX / 2).unwrap_err();
        assert_eq!(err.to_string(), "high-hash");
        // A child of the refused header (its own PoW is irrelevant: the parent poisons it).
        let mut child = bad;
        child.prev_blockhash = bad.block_hash();
        assert_eq!(
            t.insert(&child, 0, &p, i64::MAX / 2),
            Err(InsertError::InvalidParent)
        );
        let old = mine(&g, 0, 3, &p);
        assert_eq!(
            t.insert(&old, 0, &p, i64::MAX / 2).unwrap_err().to_string(),
            "time-too-old"
        );
    }

    #[test]
    fn header_from_the_future_is_refused_but_not_remembered() {
        let p = Params::regtest();
        let mut t: BlockTree<u32> = BlockTree::new(&p);
        let g = *t.header(0).unwrap();
        let h = mine(&g, 600, 1, &p);
        let now = i64::from(h.time) - 3 * 3600;
        assert_eq!(
            t.insert(&h, 0, &p, now).unwrap_err().to_string(),
            "time-too-new"
        );
        let mut child = mine(&h, 600, 2, &p);
        child.prev_blockhash = h.block_hash();
        assert_eq!(
            t.insert(&child, 0, &p, now),
            Err(InsertError::UnknownParent)
        );
        // Later (or with a correct clock) the same header is accepted.
        assert!(t.insert(&h, 0, &p, i64::MAX / 2).is_ok());
    }

    #[test]
    fn mutated_copy_loses_data_only_and_a_good_copy_reconnects() {
        let p = Params::regtest();
        let mut t = BlockTree::new(&p);
        let a = build(&mut t, 0, 3, 1, &p);
        t.mark_dispatched(a[0]);
        t.mark_committed(a[0]);
        t.mark_dispatched(a[1]);
        t.forget_data(a[1]);
        assert!(t.invalid(a[1]).is_none());
        assert!(t.invalid(a[2]).is_none());
        // Without a[1]'s data no candidate extends past a[0].
        assert_eq!(t.next_action(0), Action::Idle);
        let h1 = *t.header(a[1]).unwrap();
        assert_eq!(t.insert(&h1, 7, &p, i64::MAX / 2), Ok(a[1]));
        assert_eq!(t.data(a[1]), Some(&7));
        assert_eq!(run_to_idle(&mut t), vec![a[1], a[2]]);
        // A second copy of a block that has data is a duplicate again.
        assert_eq!(
            t.insert(&h1, 8, &p, i64::MAX / 2),
            Err(InsertError::Duplicate)
        );
    }

    #[test]
    fn adopt_committed_restores_a_reopened_tip() {
        let p = Params::regtest();
        let mut t = BlockTree::new(&p);
        let a = build(&mut t, 0, 4, 1, &p);
        assert!(t.adopt_committed(a[2]));
        assert_eq!(t.committed_chain(), &[0, a[0], a[1], a[2]]);
        assert_eq!(t.next_action(0), Action::Dispatch(a[3]));
    }
}
