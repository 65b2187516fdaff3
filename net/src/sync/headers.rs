//! The header tree of a headers-first sync: every header accepted from peers, checked with the
//! consensus header rules, with its cumulative work; the best header chain; locators.
//!
//! Headers only: block data is the coordinator's business (pipeline/). The two trees agree
//! because both apply `consensus::chain`'s header rules.

use std::collections::HashMap;

use sluice_consensus::chain::pow::block_proof;
use sluice_consensus::chain::{
    check_block_header, contextual_check_block_header, AncestorInfo, AncestorView, Params, U256,
};
use sluice_consensus::hash::Hash256;
use sluice_consensus::header::Header;

/// Index of a header in the tree.
pub type HeaderId = usize;

#[derive(Debug)]
struct Entry {
    hash: Hash256,
    header: Header,
    parent: Option<HeaderId>,
    height: u32,
    work: U256,
    invalid: bool,
}

/// Why a header was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderRefused {
    /// Its parent is not known: the peer's headers do not connect.
    #[error("prev-blk-not-found")]
    UnknownParent,
    /// Its parent (or an ancestor) is invalid.
    #[error("bad-prevblk")]
    InvalidParent,
    /// A header rule failed (Core's reject reason); `permanent` is false for a header from the
    /// future, which may be fine later.
    #[error("{reason}")]
    Rule {
        /// Core's reject reason.
        reason: String,
        /// False for `time-too-new`: the header may be accepted later.
        permanent: bool,
    },
}

/// Headers known and the best header chain.
#[derive(Debug)]
pub struct HeaderTree {
    params: Params,
    entries: Vec<Entry>,
    by_hash: HashMap<Hash256, HeaderId>,
    /// The best header chain by height (ids), genesis first.
    best: Vec<HeaderId>,
}

impl HeaderTree {
    /// A tree holding `params`' genesis header.
    #[must_use]
    pub fn new(params: &Params) -> Self {
        let header = params.genesis_header();
        let hash = header.block_hash();
        Self {
            params: params.clone(),
            entries: vec![Entry {
                hash,
                header,
                parent: None,
                height: 0,
                work: block_proof(header.bits),
                invalid: false,
            }],
            by_hash: HashMap::from([(hash, 0)]),
            best: vec![0],
        }
    }

    /// The header with `hash`.
    #[must_use]
    pub fn get(&self, hash: &Hash256) -> Option<HeaderId> {
        self.by_hash.get(hash).copied()
    }

    /// The chain's parameters.
    #[must_use]
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Median time past of the chain ending at `id` (0 for an unknown id).
    #[must_use]
    pub fn median_time_past(&self, id: HeaderId) -> i64 {
        let view = ChainAt {
            tree: self,
            tip: id,
        };
        view.median_time_past(self.height(id)).unwrap_or(0)
    }

    /// Number of headers known (genesis included).
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Always false: the genesis header is always there.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Validates `header` against its parent's chain and adds it. A header already known is
    /// returned as it is (`Ok((id, false))`); a new one as `Ok((id, true))`.
    ///
    /// # Errors
    /// [`HeaderRefused`] naming the rule.
    pub fn insert(
        &mut self,
        header: &Header,
        adjusted_time: i64,
    ) -> Result<(HeaderId, bool), HeaderRefused> {
        let hash = header.block_hash();
        if let Some(&id) = self.by_hash.get(&hash) {
            if self.entries[id].invalid {
                return Err(HeaderRefused::InvalidParent);
            }
            return Ok((id, false));
        }
        let parent = self
            .get(&header.prev_blockhash)
            .ok_or(HeaderRefused::UnknownParent)?;
        if self.entries[parent].invalid {
            return Err(HeaderRefused::InvalidParent);
        }
        check_block_header(header, &self.params)
            .and_then(|()| {
                contextual_check_block_header(
                    header,
                    &ChainAt {
                        tree: self,
                        tip: parent,
                    },
                    &self.params,
                    adjusted_time,
                )
            })
            .map_err(|e| HeaderRefused::Rule {
                reason: e.to_string(),
                permanent: e.is_permanent(),
            })?;
        let id = self.entries.len();
        let p = &self.entries[parent];
        self.entries.push(Entry {
            hash,
            header: *header,
            parent: Some(parent),
            height: p.height + 1,
            work: p.work.wrapping_add(&block_proof(header.bits)),
            invalid: false,
        });
        self.by_hash.insert(hash, id);
        if self.entries[id].work > self.entries[self.best_tip()].work {
            self.set_best(id);
        }
        Ok((id, true))
    }

    /// Marks `hash` and its descendants invalid (the block failed validation) and picks the best
    /// valid header chain again.
    pub fn mark_invalid(&mut self, hash: &Hash256) {
        let Some(id) = self.get(hash) else { return };
        self.entries[id].invalid = true;
        for i in id + 1..self.entries.len() {
            if let Some(p) = self.entries[i].parent {
                if self.entries[p].invalid {
                    self.entries[i].invalid = true;
                }
            }
        }
        let mut best = 0;
        for (i, e) in self.entries.iter().enumerate() {
            if !e.invalid && e.work > self.entries[best].work {
                best = i;
            }
        }
        self.set_best(best);
    }

    fn set_best(&mut self, tip: HeaderId) {
        let height = self.entries[tip].height as usize;
        let mut chain = vec![0; height + 1];
        let mut id = tip;
        loop {
            let h = self.entries[id].height as usize;
            // Once on the old best chain, everything below is shared.
            if self.best.get(h) == Some(&id) {
                chain[..=h].copy_from_slice(&self.best[..=h]);
                break;
            }
            chain[h] = id;
            match self.entries[id].parent {
                Some(p) => id = p,
                None => break,
            }
        }
        self.best = chain;
    }

    /// The tip of the best header chain.
    #[must_use]
    pub fn best_tip(&self) -> HeaderId {
        self.best.last().copied().unwrap_or(0)
    }

    /// Height of the best header chain.
    #[must_use]
    pub fn best_height(&self) -> u32 {
        self.height(self.best_tip())
    }

    /// The header at `height` on the best header chain.
    #[must_use]
    pub fn best_at(&self, height: u32) -> Option<HeaderId> {
        self.best.get(height as usize).copied()
    }

    /// Whether `id` is on the best header chain.
    #[must_use]
    pub fn on_best_chain(&self, id: HeaderId) -> bool {
        self.best_at(self.height(id)) == Some(id)
    }

    /// Hash of `id`.
    #[must_use]
    pub fn hash(&self, id: HeaderId) -> Hash256 {
        self.entries.get(id).map_or([0; 32], |e| e.hash)
    }

    /// Height of `id`.
    #[must_use]
    pub fn height(&self, id: HeaderId) -> u32 {
        self.entries.get(id).map_or(0, |e| e.height)
    }

    /// The header of `id`.
    #[must_use]
    pub fn header(&self, id: HeaderId) -> Option<&Header> {
        self.entries.get(id).map(|e| &e.header)
    }

    /// Cumulative work of the chain ending at `id`.
    #[must_use]
    pub fn work(&self, id: HeaderId) -> U256 {
        self.entries.get(id).map_or(U256::ZERO, |e| e.work)
    }

    /// Whether `id` or an ancestor failed validation.
    #[must_use]
    pub fn is_invalid(&self, id: HeaderId) -> bool {
        self.entries.get(id).is_some_and(|e| e.invalid)
    }

    /// The ancestor of `id` at `height`.
    #[must_use]
    pub fn ancestor(&self, mut id: HeaderId, height: u32) -> Option<HeaderId> {
        if height > self.height(id) {
            return None;
        }
        loop {
            if self.on_best_chain(id) {
                return self.best_at(height);
            }
            if self.height(id) == height {
                return Some(id);
            }
            id = self.entries[id].parent?;
        }
    }

    /// The last header `a` and `b` have in common.
    #[must_use]
    pub fn fork_point(&self, a: HeaderId, b: HeaderId) -> HeaderId {
        let h = self.height(a).min(self.height(b));
        let (mut a, mut b) = (
            self.ancestor(a, h).unwrap_or(0),
            self.ancestor(b, h).unwrap_or(0),
        );
        while a != b {
            match (self.entries[a].parent, self.entries[b].parent) {
                (Some(pa), Some(pb)) => (a, b) = (pa, pb),
                _ => return 0,
            }
        }
        a
    }

    /// A block locator for the chain ending at `tip`: the last ten hashes one by one, then
    /// exponentially further apart, genesis last (Core's `LocatorEntries`; at most 101 entries
    /// up to heights far beyond any chain).
    #[must_use]
    pub fn locator(&self, tip: HeaderId) -> Vec<Hash256> {
        let mut out = Vec::new();
        let mut height = i64::from(self.height(tip));
        let mut step = 1i64;
        let mut id = tip;
        while height >= 0 {
            let Ok(h) = u32::try_from(height) else { break };
            let Some(at) = self.ancestor(id, h) else {
                break;
            };
            id = at;
            out.push(self.hash(id));
            if h == 0 {
                return out;
            }
            if out.len() > 10 {
                step *= 2;
            }
            height = (height - step).max(0);
        }
        out
    }

    /// The first header of the best chain after the last locator entry it contains (Core's
    /// `FindForkInGlobalIndex` then the successor), to answer a peer's `getheaders`.
    #[must_use]
    pub fn find_fork_in_best(&self, locator: &[Hash256]) -> HeaderId {
        for hash in locator {
            if let Some(id) = self.get(hash) {
                if self.on_best_chain(id) {
                    return id;
                }
            }
        }
        0
    }
}

/// The chain ending at one header, as the header rules see it.
struct ChainAt<'a> {
    tree: &'a HeaderTree,
    tip: HeaderId,
}

impl AncestorView for ChainAt<'_> {
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
