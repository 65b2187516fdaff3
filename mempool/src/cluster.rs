//! Clusters (connected components of in-pool dependencies), their linearization into chunks,
//! and feerate-diagram comparison (Core's cluster mempool: `txgraph`, `CompareChunks`).
//!
//! Linearization here picks, repeatedly, the remaining ancestor set with the highest feerate
//! (ties: fewer weight, then txid). That is optimal for chains and for trees where each
//! transaction has at most one in-cluster parent; Core's linearizer searches further on other
//! shapes, so chunk figures can differ on complex clusters.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use sluice_consensus::hash::Hash256;

use crate::feerate::FeeFrac;

/// A node of a dependency graph being linearized: its fee/size and in-graph parents.
#[derive(Debug, Clone)]
pub struct Node {
    pub fee_size: FeeFrac,
    pub parents: Vec<Hash256>,
}

/// One chunk: its transactions in mining order and its combined fee/size.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub txids: Vec<Hash256>,
    pub feerate: FeeFrac,
}

fn ancestors_within(
    graph: &BTreeMap<Hash256, Node>,
    remaining: &BTreeSet<Hash256>,
    start: Hash256,
) -> BTreeSet<Hash256> {
    let mut set = BTreeSet::new();
    let mut todo = vec![start];
    while let Some(t) = todo.pop() {
        if !remaining.contains(&t) || !set.insert(t) {
            continue;
        }
        if let Some(n) = graph.get(&t) {
            todo.extend(n.parents.iter().copied());
        }
    }
    set
}

/// Linearizes `graph` (one or more clusters) and returns its chunks, highest feerate first
/// within each cluster's order.
#[must_use]
pub fn chunks(graph: &BTreeMap<Hash256, Node>) -> Vec<Chunk> {
    let mut remaining: BTreeSet<Hash256> = graph.keys().copied().collect();
    let mut order: Vec<Hash256> = Vec::with_capacity(graph.len());
    while !remaining.is_empty() {
        let mut best: Option<(FeeFrac, BTreeSet<Hash256>)> = None;
        for &t in &remaining {
            let set = ancestors_within(graph, &remaining, t);
            let rate = set
                .iter()
                .filter_map(|x| graph.get(x))
                .fold(FeeFrac::default(), |a, n| a + n.fee_size);
            let better = match &best {
                None => true,
                Some((b, bs)) => match rate.cmp(b) {
                    Ordering::Greater => true,
                    Ordering::Less => false,
                    Ordering::Equal => rate.size < b.size || (rate.size == b.size && set < *bs),
                },
            };
            if better {
                best = Some((rate, set));
            }
        }
        let Some((_, set)) = best else { break };
        // Emit the set in topological order: repeatedly take members whose parents are done.
        let mut pending: Vec<Hash256> = set.iter().copied().collect();
        while !pending.is_empty() {
            let before = pending.len();
            pending.retain(|t| {
                let ready = graph.get(t).is_none_or(|n| {
                    n.parents
                        .iter()
                        .all(|p| !remaining.contains(p) || !set.contains(p) || order.contains(p))
                });
                if ready {
                    order.push(*t);
                }
                !ready
            });
            if pending.len() == before {
                // A cycle cannot occur among transactions; emit the rest as they are.
                order.append(&mut pending);
            }
        }
        for t in &set {
            remaining.remove(t);
        }
    }
    chunk_linearization(graph, &order)
}

/// Core's chunking: walk the linearization, merging a new chunk into its predecessor while it
/// has a higher feerate.
#[must_use]
pub fn chunk_linearization(graph: &BTreeMap<Hash256, Node>, order: &[Hash256]) -> Vec<Chunk> {
    let mut out: Vec<Chunk> = Vec::new();
    for t in order {
        let Some(n) = graph.get(t) else { continue };
        let mut c = Chunk {
            txids: vec![*t],
            feerate: n.fee_size,
        };
        while let Some(prev) = out.last() {
            if c.feerate > prev.feerate {
                let Some(mut prev) = out.pop() else { break };
                prev.txids.append(&mut c.txids);
                prev.feerate = prev.feerate + c.feerate;
                c = prev;
            } else {
                break;
            }
        }
        out.push(c);
    }
    out
}

/// Core's `CompareChunks` for chunk lists sorted by decreasing feerate: `Greater` when the
/// diagram of `a` is nowhere below `b`'s and somewhere above, `Less` for the reverse,
/// `Equal` for identical diagrams, `None` when they cross. Shorter diagrams extend flat.
#[must_use]
pub fn compare_diagrams(a: &[FeeFrac], b: &[FeeFrac]) -> Option<Ordering> {
    let mut a_sorted = a.to_vec();
    let mut b_sorted = b.to_vec();
    a_sorted.sort_by(|x, y| y.cmp(x));
    b_sorted.sort_by(|x, y| y.cmp(x));
    let pa = points(&a_sorted);
    let pb = points(&b_sorted);
    let (mut above, mut below) = (false, false);
    for &(x, _) in pa.iter().chain(&pb) {
        match eval(&pa, x).cmp_frac(eval(&pb, x)) {
            Ordering::Greater => above = true,
            Ordering::Less => below = true,
            Ordering::Equal => {}
        }
    }
    match (above, below) {
        (true, true) => None,
        (true, false) => Some(Ordering::Greater),
        (false, true) => Some(Ordering::Less),
        (false, false) => Some(Ordering::Equal),
    }
}

fn points(chunks: &[FeeFrac]) -> Vec<(i64, i64)> {
    let mut v = vec![(0i64, 0i64)];
    let (mut s, mut f) = (0i64, 0i64);
    for c in chunks {
        s += c.size;
        f += c.fee;
        v.push((s, f));
    }
    v
}

/// A fee value `num / den` at a size on a diagram.
#[derive(Clone, Copy)]
struct Frac {
    num: i128,
    den: i128,
}

impl Frac {
    fn cmp_frac(self, o: Self) -> Ordering {
        (self.num * o.den).cmp(&(o.num * self.den))
    }
}

fn eval(points: &[(i64, i64)], x: i64) -> Frac {
    for w in points.windows(2) {
        let ((x0, f0), (x1, f1)) = (w[0], w[1]);
        if x >= x0 && x <= x1 && x1 > x0 {
            let den = i128::from(x1 - x0);
            let num = i128::from(f0) * den + i128::from(f1 - f0) * i128::from(x - x0);
            return Frac { num, den };
        }
    }
    let last = points.last().map_or(0, |p| p.1);
    Frac {
        num: i128::from(last),
        den: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> Hash256 {
        [n; 32]
    }

    #[test]
    fn child_pays_for_parent_forms_one_chunk() {
        let mut g = BTreeMap::new();
        g.insert(
            id(1),
            Node {
                fee_size: FeeFrac::new(100, 400),
                parents: vec![],
            },
        );
        g.insert(
            id(2),
            Node {
                fee_size: FeeFrac::new(10_000, 400),
                parents: vec![id(1)],
            },
        );
        g.insert(
            id(3),
            Node {
                fee_size: FeeFrac::new(50, 400),
                parents: vec![id(1)],
            },
        );
        let c = chunks(&g);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].txids, vec![id(1), id(2)]);
        assert_eq!(c[1].txids, vec![id(3)]);
    }

    #[test]
    fn diagram_order() {
        let old = [FeeFrac::new(100, 100)];
        let better = [FeeFrac::new(200, 100)];
        assert_eq!(compare_diagrams(&better, &old), Some(Ordering::Greater));
        assert_eq!(compare_diagrams(&old, &old), Some(Ordering::Equal));
        // Same fee in more space: below at x=100, equal at the end.
        let bigger = [FeeFrac::new(100, 200)];
        assert_eq!(compare_diagrams(&bigger, &old), Some(Ordering::Less));
        let crossing = [FeeFrac::new(60, 50), FeeFrac::new(100, 150)];
        assert_eq!(compare_diagrams(&crossing, &old), None);
    }
}
