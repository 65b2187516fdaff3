//! The threaded shell: one thread group per stage, bounded crossbeam channels between them.
//!
//! All ordering decisions are made by the state machines in [`super::gate`] and
//! [`super::reorder`]; this file only moves envelopes and measures time.
//!
//! ```text
//! submit ─▶ parse (N) ─▶ context (N) ─▶ fetch (1, in order) ─▶ script (N) ─▶ batch (N) ─▶ apply (1, in order) + checkpoint
//!                                                                                              │
//!                                                                     feedback (unbounded) ◀───┘
//! ```

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam::channel::{bounded, unbounded, Receiver, Sender, TryRecvError};

use super::gate::{Body, CommitGate, Envelope, Epoch, Ticket, Verdict};
use super::reorder::ReorderBuffer;
use super::stats::{BatchCounters, PipelineStats, StageCounters};

/// The work of each stage for one kind of block. Methods take `&self`: implementations keep
/// shared state (UTXO store, overlay) behind their own locks.
pub trait Stages: Send + Sync + 'static {
    type Input: Send + 'static;
    type Parsed: Send + 'static;
    type Contextual: Send + 'static;
    type Fetched: Send + 'static;
    type Checked: Send + 'static;
    type Verified: Send + 'static;
    type Committed: Send + 'static;
    type Error: Send + 'static;

    /// Stage 1 (parallel): bytes to a parsed block with its hashes.
    fn parse(&self, input: Self::Input) -> Result<Self::Parsed, Self::Error>;
    /// Stage 2 (parallel): header and contextual block checks.
    fn context(&self, parsed: Self::Parsed) -> Result<Self::Contextual, Self::Error>;
    /// Stage 3 (one thread, strict sequence order, only live blocks of `ticket.epoch`): fetch the
    /// coins the block spends and record its effects for later blocks. Implementations must
    /// check `epoch.is_current(ticket.epoch)` under the same lock as their overlay update.
    fn fetch(
        &self,
        ticket: Ticket,
        epoch: &Epoch,
        block: Self::Contextual,
    ) -> Result<Self::Fetched, Self::Error>;
    /// Stage 4 (parallel): scripts; signatures that can be batched are deferred.
    fn script(&self, block: Self::Fetched) -> Result<Self::Checked, Self::Error>;
    /// How many deferred signatures a block carries (sizes batches).
    fn batch_weight(&self, block: &Self::Checked) -> usize;
    /// Stage 4b (`batch_workers` threads, each with its own batch): verify the deferred signatures of several blocks at once; one
    /// result per block, in the order given.
    fn batch_verify(&self, blocks: Vec<Self::Checked>) -> Vec<Result<Self::Verified, Self::Error>>;
    /// Stage 5 (one thread, strict sequence order): commit the block.
    fn apply(&self, seq: u64, block: Self::Verified) -> Result<Self::Committed, Self::Error>;
    /// Block `seq` was rejected: forget in-flight effects of `seq` and later.
    fn rejected(&self, seq: u64);
    /// Stage 6: make the committed state durable.
    fn checkpoint(&self) -> Result<(), Self::Error>;
}

/// Sizes of the pipeline.
#[derive(Debug, Clone)]
pub struct ShellConfig {
    pub parse_workers: usize,
    pub context_workers: usize,
    pub script_workers: usize,
    /// Batch-verification workers: each gathers queued blocks into its own batch, so one
    /// thread's batch is not a serial bottleneck when most signatures are Schnorr.
    pub batch_workers: usize,
    /// Capacity of every inter-stage queue (backpressure bound).
    pub queue_depth: usize,
    /// A signature batch is verified once it holds this many signatures (or its queue is idle).
    pub batch_target: usize,
    /// Checkpoint after this many committed blocks …
    pub checkpoint_blocks: u64,
    /// … or after this much time, whichever comes first.
    pub checkpoint_interval: Duration,
}

impl Default for ShellConfig {
    fn default() -> Self {
        Self {
            parse_workers: 1,
            context_workers: 1,
            script_workers: 2,
            batch_workers: 2,
            queue_depth: 16,
            batch_target: 4096,
            checkpoint_blocks: 2000,
            checkpoint_interval: Duration::from_secs(30),
        }
    }
}

/// What the apply stage reports for each sequence number, in sequence order.
#[derive(Debug)]
pub enum Feedback<C, E> {
    Committed {
        seq: u64,
        info: C,
    },
    Rejected {
        seq: u64,
        new_epoch: u64,
        error: E,
    },
    Discarded {
        seq: u64,
    },
    Checkpointed {
        blocks: u64,
    },
    /// Checkpointing failed: the pipeline stops.
    CheckpointFailed(E),
}

pub const STAGE_NAMES: [&str; 7] = [
    "parse",
    "context",
    "fetch",
    "script",
    "batch",
    "apply",
    "checkpoint",
];

type Env<S, T> = Envelope<T, <S as Stages>::Error>;
/// Feedback of a pipeline running `S`.
pub type FeedbackOf<S> = Feedback<<S as Stages>::Committed, <S as Stages>::Error>;

/// A running pipeline.
pub struct Pipeline<S: Stages> {
    input: Option<Sender<Env<S, S::Input>>>,
    feedback: Receiver<Feedback<S::Committed, S::Error>>,
    epoch: Epoch,
    threads: Vec<JoinHandle<()>>,
    counters: Arc<[StageCounters; 7]>,
    batches: Arc<BatchCounters>,
    workers: [usize; 7],
    started: Instant,
}

/// Live counters of a running pipeline, readable from any thread without locks (for metrics).
#[derive(Debug, Clone)]
pub struct PipelineProbe {
    counters: Arc<[StageCounters; 7]>,
    batches: Arc<BatchCounters>,
    workers: [usize; 7],
}

impl PipelineProbe {
    /// Every stage: its name, workers and counters, in pipeline order.
    pub fn stages(&self) -> impl Iterator<Item = (&'static str, usize, &StageCounters)> + '_ {
        STAGE_NAMES
            .iter()
            .zip(self.workers)
            .zip(self.counters.iter())
            .map(|((n, w), c)| (*n, w, c))
    }

    /// Sizes of signature batches.
    #[must_use]
    pub fn batches(&self) -> &BatchCounters {
        &self.batches
    }
}

impl<S: Stages> std::fmt::Debug for Pipeline<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("epoch", &self.epoch.get())
            .field("threads", &self.threads.len())
            .finish_non_exhaustive()
    }
}

fn spawn_parallel<S, I, O>(
    threads: &mut Vec<JoinHandle<()>>,
    n: usize,
    rx: &Receiver<Env<S, I>>,
    tx: &Sender<Env<S, O>>,
    ctx: (&Arc<S>, &Epoch, &Arc<[StageCounters; 7]>, usize),
    f: fn(&S, I) -> Result<O, S::Error>,
) where
    S: Stages,
    I: Send + 'static,
    O: Send + 'static,
{
    let (stages, epoch, counters, idx) = ctx;
    for _ in 0..n.max(1) {
        let (rx, tx) = (rx.clone(), tx.clone());
        let (stages, epoch, counters) = (stages.clone(), epoch.clone(), counters.clone());
        threads.push(std::thread::spawn(move || {
            for env in &rx {
                counters[idx].sample_depth(rx.len());
                let t = Instant::now();
                let out = env.then(&epoch, |x| f(&stages, x));
                counters[idx].record_item(t.elapsed());
                if tx.send(out).is_err() {
                    return;
                }
            }
        }));
    }
}

impl<S: Stages> Pipeline<S> {
    /// Starts every stage's threads.
    pub fn start(stages: &Arc<S>, cfg: &ShellConfig) -> Self {
        let epoch = Epoch::default();
        let counters: Arc<[StageCounters; 7]> = Arc::new(Default::default());
        let batches = Arc::new(BatchCounters::default());
        let q = cfg.queue_depth.max(1);
        let (in_tx, in_rx) = bounded::<Env<S, S::Input>>(q);
        let (p_tx, p_rx) = bounded::<Env<S, S::Parsed>>(q);
        let (c_tx, c_rx) = bounded::<Env<S, S::Contextual>>(q);
        let (f_tx, f_rx) = bounded::<Env<S, S::Fetched>>(q);
        let (s_tx, s_rx) = bounded::<Env<S, S::Checked>>(q);
        let (v_tx, v_rx) = bounded::<Env<S, S::Verified>>(q);
        let (fb_tx, fb_rx) = unbounded();
        let mut threads = Vec::new();
        let ctx = |i| (stages, &epoch, &counters, i);
        spawn_parallel(
            &mut threads,
            cfg.parse_workers,
            &in_rx,
            &p_tx,
            ctx(0),
            S::parse,
        );
        spawn_parallel(
            &mut threads,
            cfg.context_workers,
            &p_rx,
            &c_tx,
            ctx(1),
            S::context,
        );
        threads.push(spawn_fetch(c_rx, f_tx, ctx(2)));
        spawn_parallel(
            &mut threads,
            cfg.script_workers,
            &f_rx,
            &s_tx,
            ctx(3),
            S::script,
        );
        for _ in 0..cfg.batch_workers.max(1) {
            threads.push(spawn_batch(
                s_rx.clone(),
                v_tx.clone(),
                ctx(4),
                (cfg.batch_target, batches.clone()),
            ));
        }
        drop((s_rx, v_tx));
        threads.push(spawn_apply(v_rx, fb_tx, ctx(5), cfg));
        let workers = [
            cfg.parse_workers.max(1),
            cfg.context_workers.max(1),
            1,
            cfg.script_workers.max(1),
            cfg.batch_workers.max(1),
            1,
            1,
        ];
        Self {
            input: Some(in_tx),
            feedback: fb_rx,
            epoch,
            threads,
            counters,
            batches,
            workers,
            started: Instant::now(),
        }
    }

    /// Live counters, to read while the pipeline runs.
    #[must_use]
    pub fn probe(&self) -> PipelineProbe {
        PipelineProbe {
            counters: self.counters.clone(),
            batches: self.batches.clone(),
            workers: self.workers,
        }
    }

    /// Feeds a block in (tickets from a [`super::Schedule`]: sequence numbers from 0, each
    /// exactly once); blocks while the first queue is full (backpressure). Returns false when
    /// the pipeline has shut down.
    pub fn submit(&self, ticket: Ticket, input: S::Input) -> bool {
        let env = Envelope {
            seq: ticket.seq,
            epoch: ticket.epoch,
            body: Body::Live(input),
        };
        self.input.as_ref().is_some_and(|tx| tx.send(env).is_ok())
    }

    /// The apply stage's reports.
    #[must_use]
    pub fn feedback(&self) -> &Receiver<Feedback<S::Committed, S::Error>> {
        &self.feedback
    }

    /// The epoch shared by every stage.
    #[must_use]
    pub fn epoch(&self) -> &Epoch {
        &self.epoch
    }

    /// Current figures.
    #[must_use]
    pub fn stats(&self) -> PipelineStats {
        PipelineStats {
            stages: STAGE_NAMES
                .iter()
                .zip(self.counters.iter())
                .zip(self.workers)
                .map(|((n, c), w)| c.snapshot(n, w))
                .collect(),
            wall: self.started.elapsed(),
        }
    }

    /// Closes the input, lets every stage drain (apply checkpoints last), joins the threads and
    /// returns the remaining feedback and the figures.
    pub fn finish(mut self) -> (Vec<FeedbackOf<S>>, PipelineStats) {
        self.input = None;
        for t in std::mem::take(&mut self.threads) {
            // A panicking stage already printed its message; the pipeline result then lacks
            // feedback for the blocks it held, which callers see as unresolved blocks.
            let _ = t.join();
        }
        let rest = self.feedback.try_iter().collect();
        (rest, self.stats())
    }
}

fn spawn_fetch<S: Stages>(
    rx: Receiver<Env<S, S::Contextual>>,
    tx: Sender<Env<S, S::Fetched>>,
    (stages, epoch, counters, idx): (&Arc<S>, &Epoch, &Arc<[StageCounters; 7]>, usize),
) -> JoinHandle<()> {
    let (stages, epoch, counters) = (stages.clone(), epoch.clone(), counters.clone());
    std::thread::spawn(move || {
        // Sequence numbers start at 0 (`Schedule` hands them out); they may arrive in any order.
        let mut buf: ReorderBuffer<Env<S, S::Contextual>> = ReorderBuffer::new(0);
        for env in &rx {
            counters[idx].sample_depth(rx.len());
            if buf.push(env.seq, env).is_err() {
                continue;
            }
            while let Some((seq, env)) = buf.pop_ready() {
                let t = Instant::now();
                let ticket = Ticket {
                    seq,
                    epoch: env.epoch,
                };
                let out = env.then(&epoch, |b| stages.fetch(ticket, &epoch, b));
                counters[idx].record_item(t.elapsed());
                if tx.send(out).is_err() {
                    return;
                }
            }
        }
    })
}

fn spawn_batch<S: Stages>(
    rx: Receiver<Env<S, S::Checked>>,
    tx: Sender<Env<S, S::Verified>>,
    (stages, epoch, counters, idx): (&Arc<S>, &Epoch, &Arc<[StageCounters; 7]>, usize),
    (target, batches): (usize, Arc<BatchCounters>),
) -> JoinHandle<()> {
    let (stages, epoch, counters) = (stages.clone(), epoch.clone(), counters.clone());
    std::thread::spawn(move || {
        let mut closed = false;
        while !closed {
            let Ok(first) = rx.recv() else { return };
            counters[idx].sample_depth(rx.len());
            let mut pending = vec![first];
            let mut weight = 0;
            // Gather blocks already queued so one batch can span several blocks: up to the
            // target weight, and never more than one queue's worth, since blocks of no batch
            // weight (no Schnorr signature) would otherwise be gathered for as long as the
            // stage upstream keeps refilling the queue, past every backpressure bound.
            let most = rx.capacity().unwrap_or(usize::MAX).max(1);
            while weight < target && pending.len() <= most {
                match rx.try_recv() {
                    Ok(env) => {
                        if let Body::Live(b) = &env.body {
                            weight += stages.batch_weight(b);
                        }
                        pending.push(env);
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        closed = true;
                        break;
                    }
                }
            }
            let t = Instant::now();
            let mut live = Vec::new();
            let mut out: Vec<Env<S, S::Verified>> = Vec::with_capacity(pending.len());
            for env in pending {
                let body = match env.body {
                    Body::Live(b) if epoch.is_current(env.epoch) => {
                        live.push((out.len(), b));
                        Body::Discarded // placeholder, replaced below
                    }
                    Body::Live(_) | Body::Discarded => Body::Discarded,
                    Body::Failed(e) => Body::Failed(e),
                };
                out.push(Envelope {
                    seq: env.seq,
                    epoch: env.epoch,
                    body,
                });
            }
            let (slots, blocks): (Vec<usize>, Vec<S::Checked>) = live.into_iter().unzip();
            if !blocks.is_empty() {
                let sigs: usize = blocks.iter().map(|b| stages.batch_weight(b)).sum();
                batches.signatures.record(sigs as u64);
                batches.blocks.record(blocks.len() as u64);
            }
            let results = stages.batch_verify(blocks);
            // One verdict per block, or a placeholder would pass a block on unverified.
            assert_eq!(
                results.len(),
                slots.len(),
                "batch_verify must judge every block"
            );
            for (slot, res) in slots.into_iter().zip(results) {
                if let Some(env) = out.get_mut(slot) {
                    env.body = match res {
                        Ok(v) => Body::Live(v),
                        Err(e) => Body::Failed(e),
                    };
                }
            }
            counters[idx].record_item(t.elapsed());
            for env in out {
                if tx.send(env).is_err() {
                    return;
                }
            }
        }
    })
}

fn spawn_apply<S: Stages>(
    rx: Receiver<Env<S, S::Verified>>,
    fb: Sender<Feedback<S::Committed, S::Error>>,
    (stages, epoch, counters, idx): (&Arc<S>, &Epoch, &Arc<[StageCounters; 7]>, usize),
    cfg: &ShellConfig,
) -> JoinHandle<()> {
    let (stages, epoch, counters) = (stages.clone(), epoch.clone(), counters.clone());
    let (every_blocks, every) = (cfg.checkpoint_blocks.max(1), cfg.checkpoint_interval);
    std::thread::spawn(move || {
        let mut buf: ReorderBuffer<Env<S, S::Verified>> = ReorderBuffer::new(0);
        let mut gate = CommitGate::new(epoch.clone(), 0);
        let mut since_checkpoint = 0u64;
        let mut last_checkpoint = Instant::now();
        let checkpoint = |since: &mut u64, last: &mut Instant| -> bool {
            let t = Instant::now();
            let res = stages.checkpoint();
            counters[6].record_item(t.elapsed());
            let ok = match res {
                Ok(()) => fb.send(Feedback::Checkpointed { blocks: *since }).is_ok(),
                Err(e) => {
                    let _ = fb.send(Feedback::CheckpointFailed(e));
                    false
                }
            };
            *since = 0;
            *last = Instant::now();
            ok
        };
        for env in &rx {
            counters[idx].sample_depth(rx.len());
            if buf.push(env.seq, env).is_err() {
                continue;
            }
            while let Some((seq, env)) = buf.pop_ready() {
                let t = Instant::now();
                let msg = match gate.decide(env) {
                    Ok(Verdict::Commit(block)) => match stages.apply(seq, block) {
                        Ok(info) => {
                            since_checkpoint += 1;
                            Feedback::Committed { seq, info }
                        }
                        Err(error) => {
                            let new_epoch = gate.abort_commit();
                            stages.rejected(seq);
                            Feedback::Rejected {
                                seq,
                                new_epoch,
                                error,
                            }
                        }
                    },
                    Ok(Verdict::Reject(error)) => {
                        stages.rejected(seq);
                        Feedback::Rejected {
                            seq,
                            new_epoch: gate.epoch(),
                            error,
                        }
                    }
                    Ok(Verdict::Discard) | Err(_) => Feedback::Discarded { seq },
                };
                counters[idx].record_item(t.elapsed());
                if fb.send(msg).is_err() {
                    return;
                }
                if (since_checkpoint >= every_blocks
                    || (since_checkpoint > 0 && last_checkpoint.elapsed() >= every))
                    && !checkpoint(&mut since_checkpoint, &mut last_checkpoint)
                {
                    return;
                }
            }
        }
        if since_checkpoint > 0 {
            checkpoint(&mut since_checkpoint, &mut last_checkpoint);
        }
    })
}
