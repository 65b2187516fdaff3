//! The commit state machine: what travels between stages, and the two pieces of logic that
//! decide what gets committed.
//!
//! * [`CommitGate`] sits at the apply stage and sees blocks strictly in sequence order. A failed
//!   block `k` bumps the *epoch*; everything dispatched in the old epoch after `k` is discarded, so
//!   the committed state stays the state after `k − 1`.
//! * [`Schedule`] sits at the coordinator: it hands out sequence numbers and tickets, and learns
//!   from the apply stage's feedback which dispatched blocks were committed, rejected or discarded.
//!
//! Both are plain state machines (no threads, no clock) so they are tested deterministically;
//! the threaded shell only moves envelopes between them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The current epoch, shared by every stage so that work for discarded blocks is skipped early.
#[derive(Debug, Clone, Default)]
pub struct Epoch(Arc<AtomicU64>);

impl Epoch {
    #[must_use]
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// True when an envelope of epoch `e` is still worth working on.
    #[must_use]
    pub fn is_current(&self, e: u64) -> bool {
        self.get() == e
    }

    fn bump(&self) -> u64 {
        self.0.fetch_add(1, Ordering::AcqRel) + 1
    }
}

/// What a stage hands to the next one for one block.
#[derive(Debug)]
pub enum Body<T, E> {
    /// Valid so far; `T` is the stage's output.
    Live(T),
    /// A stage found the block invalid; later stages forward this untouched.
    Failed(E),
    /// The block belongs to an abandoned epoch; later stages forward this untouched.
    Discarded,
}

/// A block's work item between two stages.
#[derive(Debug)]
pub struct Envelope<T, E> {
    pub seq: u64,
    pub epoch: u64,
    pub body: Body<T, E>,
}

impl<T, E> Envelope<T, E> {
    /// Applies a stage to a live body; failed and discarded bodies pass through, and a body of a
    /// stale epoch becomes `Discarded` without running the stage.
    pub fn then<U>(self, epoch: &Epoch, stage: impl FnOnce(T) -> Result<U, E>) -> Envelope<U, E> {
        let body = match self.body {
            Body::Live(t) if epoch.is_current(self.epoch) => match stage(t) {
                Ok(u) => Body::Live(u),
                Err(e) => Body::Failed(e),
            },
            Body::Live(_) | Body::Discarded => Body::Discarded,
            Body::Failed(e) => Body::Failed(e),
        };
        Envelope {
            seq: self.seq,
            epoch: self.epoch,
            body,
        }
    }
}

/// The gate's decision for the next block in sequence order.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict<T, E> {
    /// Apply this block now.
    Commit(T),
    /// The block is invalid; the epoch has been bumped so that nothing after it commits.
    Reject(E),
    /// The block was dispatched in an abandoned epoch; drop it.
    Discard,
}

/// Decides, in sequence order, which blocks commit.
#[derive(Debug)]
pub struct CommitGate {
    epoch: Epoch,
    next_seq: u64,
}

/// The gate was fed out of order: a bug in the shell, never a consensus outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("commit gate expected sequence {expected}, got {got}")]
pub struct OutOfOrder {
    pub expected: u64,
    pub got: u64,
}

impl CommitGate {
    #[must_use]
    pub fn new(epoch: Epoch, first_seq: u64) -> Self {
        Self {
            epoch,
            next_seq: first_seq,
        }
    }

    /// Decides the fate of the next envelope, which must carry the next sequence number.
    ///
    /// # Errors
    /// [`OutOfOrder`] when the envelope is not the next in sequence.
    pub fn decide<T, E>(&mut self, env: Envelope<T, E>) -> Result<Verdict<T, E>, OutOfOrder> {
        if env.seq != self.next_seq {
            return Err(OutOfOrder {
                expected: self.next_seq,
                got: env.seq,
            });
        }
        self.next_seq += 1;
        if !self.epoch.is_current(env.epoch) {
            return Ok(Verdict::Discard);
        }
        Ok(match env.body {
            Body::Live(t) => Verdict::Commit(t),
            Body::Failed(e) => {
                self.epoch.bump();
                Verdict::Reject(e)
            }
            Body::Discarded => Verdict::Discard,
        })
    }

    /// Applying a block decided as `Commit` failed: treat it as a rejection.
    pub fn abort_commit(&mut self) -> u64 {
        self.epoch.bump()
    }

    /// The epoch after the last decision.
    #[must_use]
    pub fn epoch(&self) -> u64 {
        self.epoch.get()
    }
}

/// What became of a dispatched block, as reported by the apply stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Committed,
    /// Rejected; dispatches from now on use `new_epoch`.
    Rejected {
        new_epoch: u64,
    },
    Discarded,
}

/// A dispatched block's place in the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    pub seq: u64,
    pub epoch: u64,
}

/// The coordinator's view: which block got which sequence number, and which are still in flight.
#[derive(Debug)]
pub struct Schedule<Id> {
    next_seq: u64,
    epoch: u64,
    in_flight: BTreeMap<u64, Id>,
}

impl<Id> Default for Schedule<Id> {
    fn default() -> Self {
        Self {
            next_seq: 0,
            epoch: 0,
            in_flight: BTreeMap::new(),
        }
    }
}

impl<Id> Schedule<Id> {
    /// Assigns the next sequence number to block `id`.
    pub fn dispatch(&mut self, id: Id) -> Ticket {
        let t = Ticket {
            seq: self.next_seq,
            epoch: self.epoch,
        };
        self.in_flight.insert(self.next_seq, id);
        self.next_seq += 1;
        t
    }

    /// Records the fate of `seq`; returns the block it was, or `None` for an unknown sequence.
    pub fn resolve(&mut self, seq: u64, outcome: Outcome) -> Option<Id> {
        if let Outcome::Rejected { new_epoch } = outcome {
            self.epoch = self.epoch.max(new_epoch);
        }
        self.in_flight.remove(&seq)
    }

    /// Blocks dispatched and not yet resolved.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// The epoch new dispatches use.
    #[must_use]
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Sequence number the next dispatch gets.
    #[must_use]
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(seq: u64, epoch: u64, body: Body<u32, &'static str>) -> Envelope<u32, &'static str> {
        Envelope { seq, epoch, body }
    }

    #[test]
    fn commits_in_order_and_refuses_out_of_order() {
        let mut g = CommitGate::new(Epoch::default(), 0);
        assert_eq!(g.decide(env(0, 0, Body::Live(7))), Ok(Verdict::Commit(7)));
        assert_eq!(
            g.decide(env(2, 0, Body::Live(9))),
            Err(OutOfOrder {
                expected: 1,
                got: 2
            })
        );
    }

    #[test]
    fn failure_at_k_discards_everything_after_k_in_that_epoch() {
        let epoch = Epoch::default();
        let mut g = CommitGate::new(epoch.clone(), 0);
        let mut committed = Vec::new();
        let mut verdicts = Vec::new();
        // Blocks 0..6 dispatched in epoch 0; block 3 fails, 4 and 5 were valid on their own.
        for seq in 0..6u64 {
            let body = if seq == 3 {
                Body::Failed("bad-txns-inputs-missingorspent")
            } else {
                Body::Live(u32::try_from(seq).unwrap())
            };
            match g.decide(env(seq, 0, body)).unwrap() {
                Verdict::Commit(v) => committed.push(v),
                v => verdicts.push((seq, v)),
            }
        }
        assert_eq!(committed, vec![0, 1, 2], "state equals the state after k-1");
        assert_eq!(
            verdicts,
            vec![
                (3, Verdict::Reject("bad-txns-inputs-missingorspent")),
                (4, Verdict::Discard),
                (5, Verdict::Discard)
            ]
        );
        assert_eq!(epoch.get(), 1, "stages see the new epoch at once");
        // Work dispatched in the new epoch commits again.
        assert_eq!(g.decide(env(6, 1, Body::Live(6))), Ok(Verdict::Commit(6)));
    }

    #[test]
    fn stages_skip_work_of_a_stale_epoch() {
        let epoch = Epoch::default();
        let mut ran = 0;
        let e = env(0, 0, Body::Live(1)).then(&epoch, |v| {
            ran += 1;
            Ok::<_, &str>(v + 1)
        });
        assert!(matches!(e.body, Body::Live(2)));
        epoch.bump();
        let e = env(1, 0, Body::Live(1)).then(&epoch, |v| {
            ran += 1;
            Ok::<_, &str>(v + 1)
        });
        assert!(matches!(e.body, Body::Discarded));
        assert_eq!(ran, 1);
        let e = env(2, 1, Body::Failed("x")).then(&epoch, |v: u32| Ok::<_, &str>(v));
        assert!(matches!(e.body, Body::Failed("x")), "failures pass through");
    }

    #[test]
    fn aborted_commit_discards_the_rest() {
        let epoch = Epoch::default();
        let mut g = CommitGate::new(epoch, 0);
        assert_eq!(g.decide(env(0, 0, Body::Live(1))), Ok(Verdict::Commit(1)));
        assert_eq!(g.abort_commit(), 1);
        assert_eq!(g.decide(env(1, 0, Body::Live(2))), Ok(Verdict::Discard));
    }

    #[test]
    fn schedule_tracks_in_flight_and_adopts_the_new_epoch() {
        let mut s = Schedule::default();
        let t: Vec<Ticket> = ["a", "b", "c"]
            .into_iter()
            .map(|id| s.dispatch(id))
            .collect();
        assert_eq!(t[2], Ticket { seq: 2, epoch: 0 });
        assert_eq!(s.in_flight(), 3);
        assert_eq!(s.resolve(0, Outcome::Committed), Some("a"));
        assert_eq!(s.resolve(1, Outcome::Rejected { new_epoch: 1 }), Some("b"));
        assert_eq!(s.dispatch("d"), Ticket { seq: 3, epoch: 1 });
        assert_eq!(s.resolve(2, Outcome::Discarded), Some("c"));
        assert_eq!(s.resolve(2, Outcome::Discarded), None);
        assert_eq!(s.in_flight(), 1);
    }
}
