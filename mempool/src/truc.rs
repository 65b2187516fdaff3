//! TRUC (version 3) policy for single transactions (Core's `SingleTRUCChecks`).

use std::collections::BTreeSet;

use sluice_consensus::hash::{to_display_hex, Hash256};
use sluice_consensus::tx::Transaction;

use crate::options::{
    TRUC_ANCESTOR_LIMIT, TRUC_CHILD_MAX_VSIZE, TRUC_DESCENDANT_LIMIT, TRUC_MAX_VSIZE, TRUC_VERSION,
};
use crate::pool::Mempool;

/// `Some((message, sibling))` when `tx` breaks a TRUC rule; `sibling` is an in-pool sibling
/// whose eviction may be considered under replacement rules instead.
pub(crate) fn single_truc_checks(
    pool: &Mempool,
    tx: &Transaction<'_>,
    txid: &Hash256,
    wtxid: &Hash256,
    parents: &BTreeSet<Hash256>,
    conflicts: &BTreeSet<Hash256>,
    vsize: i64,
) -> Option<(String, Option<Hash256>)> {
    let id =
        |t: &Hash256, w: &Hash256| format!("{} (wtxid={})", to_display_hex(t), to_display_hex(w));
    let me = id(txid, wtxid);
    for p in parents {
        let Some(pe) = pool.get(p) else { continue };
        let them = id(&pe.txid, &pe.wtxid);
        if tx.version != TRUC_VERSION && pe.version == TRUC_VERSION {
            return Some((
                format!("non-version=3 tx {me} cannot spend from version=3 tx {them}"),
                None,
            ));
        }
        if tx.version == TRUC_VERSION && pe.version != TRUC_VERSION {
            return Some((
                format!("version=3 tx {me} cannot spend from non-version=3 tx {them}"),
                None,
            ));
        }
    }
    if tx.version != TRUC_VERSION {
        return None;
    }
    if vsize > TRUC_MAX_VSIZE {
        return Some((
            format!("version=3 tx {me} is too big: {vsize} > {TRUC_MAX_VSIZE} virtual bytes"),
            None,
        ));
    }
    if parents.len() + 1 > TRUC_ANCESTOR_LIMIT {
        return Some((format!("tx {me} would have too many ancestors"), None));
    }
    let parent = parents.iter().next()?;
    let pe = pool.get(parent)?;
    if pool.ancestors(parent).len() + 1 + 1 > TRUC_ANCESTOR_LIMIT {
        return Some((format!("tx {me} would have too many ancestors"), None));
    }
    if vsize > TRUC_CHILD_MAX_VSIZE {
        return Some((
            format!(
                "version=3 child tx {me} is too big: {vsize} > {TRUC_CHILD_MAX_VSIZE} virtual bytes"
            ),
            None,
        ));
    }
    let descendants = pool.descendants(parent);
    let child_replaced = descendants.iter().any(|d| conflicts.contains(d));
    if descendants.len() + 1 + 1 > TRUC_DESCENDANT_LIMIT && !child_replaced {
        let sibling = descendants.iter().next().copied();
        let consider = descendants.len() + 1 == 2
            && sibling.is_some_and(|s| pool.ancestors(&s).len() + 1 == 2);
        return Some((
            format!(
                "tx {} would exceed descendant count limit",
                id(&pe.txid, &pe.wtxid)
            ),
            if consider { sibling } else { None },
        ));
    }
    None
}
