//! Answers to peers' requests from the committed chain and the node's block files: `getheaders`
//! (Core's `ProcessGetHeaders` over the active chain) and `getdata` for blocks, within the
//! upload target (Core's `-maxuploadtarget`, [`sluice_net::upload`]).

use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context;
use sluice_consensus::block::Block;
use sluice_consensus::encode::write_compact_size;
use sluice_consensus::hash::Hash256;
use sluice_consensus::header::Header;
use sluice_net::sync::{HeaderTree, MAX_HEADERS_RESULTS};
use sluice_net::upload::UploadTarget;
use sluice_net::wire::{InvType, Inventory};
use sluice_storage::blockstore::BlockStore;

/// Headers of the active chain (ending at `tip`) after the first `locator` entry on it, up to
/// `stop` or 2,000. An empty locator asks for the `stop` header alone.
#[must_use]
pub(super) fn headers_after(
    tree: &HeaderTree,
    tip: &Hash256,
    locator: &[Hash256],
    stop: &Hash256,
) -> Vec<Header> {
    let Some(tip) = tree.get(tip) else {
        return Vec::new();
    };
    let on_active = |id| tree.ancestor(tip, tree.height(id)) == Some(id);
    if locator.is_empty() {
        return tree
            .get(stop)
            .filter(|&id| on_active(id))
            .and_then(|id| tree.header(id).copied())
            .into_iter()
            .collect();
    }
    let fork = locator
        .iter()
        .find_map(|h| tree.get(h).filter(|&id| on_active(id)))
        .unwrap_or(0);
    let mut out = Vec::new();
    for height in tree.height(fork) + 1..=tree.height(tip) {
        let Some(id) = tree.ancestor(tip, height) else {
            break;
        };
        if let Some(h) = tree.header(id) {
            out.push(*h);
        }
        if out.len() >= MAX_HEADERS_RESULTS || tree.hash(id) == *stop {
            break;
        }
    }
    out
}

/// The first block of a `getdata` the upload target forbids serving to this peer (Core's
/// `ProcessGetBlockData`: older than a week before the best header while the historical limit
/// is reached, and the peer lacks the download permission), if any. Blocks we do not know are
/// left to [`blocks`] (`notfound`).
#[must_use]
pub(super) fn refused_by_upload_target(
    tree: &HeaderTree,
    items: &[Inventory],
    target: &UploadTarget,
    exempt: bool,
    now: u64,
) -> Option<Hash256> {
    let best = i64::from(tree.header(tree.best_tip())?.time);
    items
        .iter()
        .filter(|i| i.kind.is_block())
        .find(|i| {
            tree.get(&i.hash)
                .and_then(|id| tree.header(id))
                .is_some_and(|h| !target.may_serve_block(best, i64::from(h.time), exempt, now))
        })
        .map(|i| i.hash)
}

/// Blocks to send and inventory to answer with `notfound`.
pub(super) type Served = (Vec<Arc<[u8]>>, Vec<Inventory>);

/// The blocks asked for that we hold and did not find invalid (witness-stripped for a plain
/// `MSG_BLOCK`), and the inventory we cannot serve (for `notfound`).
///
/// # Errors
/// Reading a stored block failed: a fault of ours, not the peer's.
pub(super) fn blocks(
    store: &Mutex<BlockStore>,
    tree: &HeaderTree,
    items: &[Inventory],
) -> anyhow::Result<Served> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    let store = store.lock().unwrap_or_else(PoisonError::into_inner);
    for it in items.iter().filter(|i| i.kind.is_block()) {
        let valid = tree.get(&it.hash).is_some_and(|id| !tree.is_invalid(id));
        let Some(pos) = store.get(&it.hash).filter(|_| valid) else {
            missing.push(*it);
            continue;
        };
        let bytes = store
            .read(&pos)
            .context("reading a stored block to serve it")?;
        if it.kind == InvType::WITNESS_BLOCK {
            found.push(bytes.into());
        } else {
            found.push(strip_witness(&bytes)?.into());
        }
    }
    Ok((found, missing))
}

/// The block without witness data (its serialisation before BIP144), for peers that ask for a
/// plain `MSG_BLOCK`.
fn strip_witness(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let block = Block::parse(bytes).context("a stored block no longer parses")?;
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(block.header_bytes);
    write_compact_size(&mut out, block.transactions.len() as u64);
    for tx in &block.transactions {
        tx.write_non_witness(&mut out);
    }
    Ok(out)
}
