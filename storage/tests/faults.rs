//! The store invariant under injected I/O faults: every fallible step of connect, disconnect
//! and checkpoint is failed in turn. A failure before the set starts changing leaves it exactly
//! as it was (and the operation can be retried); a later one poisons the store, which then
//! refuses everything (a checkpoint retry included) until it is reopened, and reopening gives
//! a consistent checkpoint from which the chain goes on to the same final state.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{apply_model, assert_store_eq, config, make_block, Block, Model};
use sluice_consensus::coin::OutPoint;
use sluice_consensus::hash::Hash256;
use sluice_storage::{ChainStore, CrashPoint, StoreError};

const PER_BLOCK: usize = 4;
/// Small enough that connects spill dirty coins to the heap (`enforce_budget` does I/O).
const BUDGET: usize = 4 << 10;

enum Op {
    Connect(Block),
    Disconnect(Hash256),
    Checkpoint,
}

/// The chain state after an operation.
#[derive(Clone)]
struct State {
    tip: Option<(u32, Hash256)>,
    model: Model,
    live: Vec<OutPoint>,
}

struct Script {
    /// Run on a fresh store before faults are armed; ends with its checkpoint.
    setup: Vec<Op>,
    /// The operations faults are injected into.
    ops: Vec<Op>,
    /// `states[0]`: after setup; `states[i + 1]`: after `ops[i]`.
    states: Vec<State>,
}

fn connect(s: &mut State, h: u32, variant: u8, out: &mut Vec<Op>) {
    let b = make_block(&s.model, &s.live, h, variant, PER_BLOCK);
    apply_model(&mut s.model, &mut s.live, &b);
    s.tip = Some((h, b.hash));
    out.push(Op::Connect(b));
}

fn script() -> Script {
    let mut s = State {
        tip: None,
        model: Model::new(),
        live: Vec::new(),
    };
    let mut setup = Vec::new();
    for h in 0..3 {
        connect(&mut s, h, 0, &mut setup);
    }
    setup.push(Op::Checkpoint);
    let mut states = vec![s.clone()];
    let mut ops = Vec::new();
    let push = |s: &State, op: Op, ops: &mut Vec<Op>, states: &mut Vec<State>| {
        ops.push(op);
        states.push(s.clone());
    };
    let mut tmp = Vec::new();
    for h in 3..7 {
        connect(&mut s, h, 0, &mut tmp);
        push(&s, tmp.pop().unwrap(), &mut ops, &mut states);
    }
    // A one-block reorg at 7, a checkpoint, then a reorg back over the checkpointed tip.
    let before7 = s.clone();
    connect(&mut s, 7, 1, &mut tmp);
    let alt = tmp.pop().unwrap();
    let alt_hash = match &alt {
        Op::Connect(b) => b.hash,
        _ => unreachable!(),
    };
    push(&s, alt, &mut ops, &mut states);
    s = before7;
    push(&s, Op::Disconnect(alt_hash), &mut ops, &mut states);
    for h in 7..9 {
        connect(&mut s, h, 0, &mut tmp);
        push(&s, tmp.pop().unwrap(), &mut ops, &mut states);
    }
    push(&s, Op::Checkpoint, &mut ops, &mut states);
    let before8 = states[states.len() - 3].clone();
    let tip8 = s.tip.unwrap().1;
    s = before8;
    push(&s, Op::Disconnect(tip8), &mut ops, &mut states);
    connect(&mut s, 8, 2, &mut tmp);
    push(&s, tmp.pop().unwrap(), &mut ops, &mut states);
    connect(&mut s, 9, 0, &mut tmp);
    push(&s, tmp.pop().unwrap(), &mut ops, &mut states);
    push(&s, Op::Checkpoint, &mut ops, &mut states);
    Script { setup, ops, states }
}

fn run(store: &mut ChainStore, op: &Op) -> Result<(), StoreError> {
    match op {
        Op::Connect(b) => store
            .connect_block(b.height, b.hash, &b.spends, &b.creates)
            .map(|_| ()),
        Op::Disconnect(h) => store.disconnect_block(h),
        Op::Checkpoint => store.checkpoint(),
    }
}

fn assert_state(store: &mut ChainStore, s: &State, what: &str) {
    assert_eq!(store.tip(), s.tip, "{what}: tip");
    assert_store_eq(store, &s.model);
}

fn fresh(dir: &std::path::Path, script: &Script) -> ChainStore {
    let mut store = ChainStore::open(dir, &config(BUDGET)).unwrap();
    for op in &script.setup {
        run(&mut store, op).unwrap();
    }
    store
}

/// The index of the last checkpoint in `ops[..end]` (`None`: the setup's).
fn last_checkpoint(ops: &[Op], end: usize) -> Option<usize> {
    ops[..end]
        .iter()
        .rposition(|op| matches!(op, Op::Checkpoint))
}

/// The states a reopened store may be in after `ops[failed]` poisoned it: the last durable
/// checkpoint, or, when the failed operation was itself a checkpoint, possibly that one.
fn reopen_candidates(script: &Script, failed: usize) -> Vec<usize> {
    let before = last_checkpoint(&script.ops, failed).map_or(0, |i| i + 1);
    let mut c = vec![before];
    if matches!(script.ops[failed], Op::Checkpoint) {
        c.push(failed + 1);
    }
    c
}

#[test]
fn every_fallible_step_fails_cleanly_or_poisons_and_reopens() {
    let script = script();
    // Hundreds of stores with several fsyncs each: on tmpfs where there is one (the faults are
    // injected, not the disk's).
    let shm = std::path::Path::new("/dev/shm");
    let root = if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };

    // A clean run counts the steps and checks the script itself.
    let dir = root.path().join("clean");
    let mut store = fresh(&dir, &script);
    let first = store.fault_steps();
    for (i, op) in script.ops.iter().enumerate() {
        run(&mut store, op).unwrap();
        assert_state(&mut store, &script.states[i + 1], "clean run");
    }
    let steps = store.fault_steps() - first;
    drop(store);
    assert!(
        steps > 40,
        "only {steps} fallible steps: the script is too small"
    );
    eprintln!("{steps} fallible steps");

    let (mut untouched, mut poisoned) = (0, 0);
    for k in 0..steps {
        let dir = root.path().join(format!("fault-{k}"));
        let mut store = fresh(&dir, &script);
        store.inject_fault_after(k);
        let mut failed = None;
        for (i, op) in script.ops.iter().enumerate() {
            if let Err(e) = run(&mut store, op) {
                assert!(
                    e.to_string().contains("injected fault"),
                    "step {k}: op {i} failed with another error: {e}"
                );
                failed = Some(i);
                break;
            }
        }
        let i = failed.unwrap_or_else(|| panic!("step {k}: no operation failed"));
        store.clear_injected_fault();
        let last = script.states.last().unwrap();
        let store = if store.is_poisoned() {
            poisoned += 1;
            // Nothing more is applied or checkpointed, a retry of the same operation included.
            for op in [&script.ops[i], &Op::Checkpoint] {
                assert!(
                    matches!(run(&mut store, op), Err(StoreError::Poisoned)),
                    "step {k}: a poisoned store accepted an operation"
                );
            }
            drop(store);
            reopen_and_resume(&dir, &script, i, k)
        } else {
            untouched += 1;
            // Nothing changed: the state is the one before the failed operation, which then
            // succeeds on a retry, and the rest of the script follows.
            assert_state(&mut store, &script.states[i], "after a clean failure");
            if matches!(script.ops[i], Op::Checkpoint) {
                // A retried checkpoint killed once its journal is written must leave a datadir
                // that opens: the failed attempt committed nothing the retry overwrote.
                store
                    .checkpoint_then_crash(CrashPoint::AfterJournal)
                    .unwrap();
                reopen_and_resume(&dir, &script, i, k)
            } else {
                for op in &script.ops[i..] {
                    run(&mut store, op).unwrap();
                }
                assert_state(&mut store, last, "after the retry");
                store
            }
        };
        drop(store);
        let mut store = ChainStore::open(&dir, &config(BUDGET)).unwrap();
        store.verify().unwrap();
        assert_state(&mut store, last, "reopened at the end");
    }
    assert!(
        untouched > 10 && poisoned > 10,
        "{untouched} clean, {poisoned} poisoning"
    );
}

/// Reopens the store after `ops[failed]` went wrong at step `k`: it must open, pass its
/// integrity check and stand at a checkpoint, from which the rest of the script reaches the
/// same final state.
fn reopen_and_resume(dir: &std::path::Path, script: &Script, failed: usize, k: u64) -> ChainStore {
    let mut store = ChainStore::open(dir, &config(BUDGET))
        .unwrap_or_else(|e| panic!("step {k}: the datadir does not reopen: {e}"));
    store.verify().unwrap();
    let at = reopen_candidates(script, failed)
        .into_iter()
        .find(|&c| store.tip() == script.states[c].tip)
        .unwrap_or_else(|| panic!("step {k}: reopened at {:?}, not a checkpoint", store.tip()));
    assert_state(&mut store, &script.states[at], "reopened");
    for op in &script.ops[at..] {
        run(&mut store, op).unwrap();
    }
    assert_state(&mut store, script.states.last().unwrap(), "after resuming");
    store
}
