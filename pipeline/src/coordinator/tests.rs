#![allow(clippy::unwrap_used)]

use super::*;
use sluice_consensus::chain::check_proof_of_work;

fn mine(prev: &Header, tag: u32, p: &Params) -> Header {
    let mut h = Header {
        version: 4,
        prev_blockhash: prev.block_hash(),
        merkle_root: [u8::try_from(tag % 251).unwrap(); 32],
        time: prev.time + 600,
        bits: prev.bits,
        nonce: 0,
    };
    while !check_proof_of_work(&h.block_hash(), h.bits, p) {
        h.nonce += 1;
    }
    h
}

fn chain(from: &Header, n: u32, tag: u32, p: &Params) -> Vec<Header> {
    let mut prev = *from;
    (0..n)
        .map(|i| {
            prev = mine(&prev, tag * 100 + i, p);
            prev
        })
        .collect()
}

fn coord(limits: CoordinatorLimits, tip: Option<Hash256>) -> (Coordinator<u32>, Params) {
    let p = Params::regtest();
    (
        Coordinator::new(p.clone(), limits, ChainSnapshot::default(), tip),
        p,
    )
}

const NOW: i64 = i64::MAX / 2;

fn committed(hash: Hash256, height: u32) -> Committed {
    Committed {
        hash,
        height,
        txs: 1,
        inputs: 0,
        schnorr_sigs: 0,
        bytes: 0,
    }
}

/// Runs commands, committing every dispatched block unless it is in `reject`; returns the
/// heights dispatched, in order, and the disconnected hashes.
fn run(c: &mut Coordinator<u32>, reject: &[Hash256]) -> (Vec<u32>, Vec<Hash256>) {
    let (mut dispatched, mut disconnected) = (vec![], vec![]);
    while let Some(cmd) = c.next_command() {
        match cmd {
            Command::Dispatch {
                ticket,
                hash,
                height,
                ..
            } => {
                dispatched.push(height);
                let msg = if reject.contains(&hash) {
                    Feedback::Rejected {
                        seq: ticket.seq,
                        new_epoch: ticket.epoch + 1,
                        error: BlockReject::consensus("bad-txns-test"),
                    }
                } else {
                    Feedback::Committed {
                        seq: ticket.seq,
                        info: committed(hash, height),
                    }
                };
                c.on_feedback(msg).unwrap();
            }
            Command::Disconnect { hash, .. } => {
                disconnected.push(hash);
                c.disconnected();
            }
            Command::WaitFeedback => panic!("nothing is in flight"),
        }
    }
    (dispatched, disconnected)
}

#[test]
fn out_of_order_blocks_wait_as_orphans_and_commit_in_order() {
    let (mut c, p) = coord(CoordinatorLimits::default(), None);
    let hs = chain(&p.genesis_header(), 4, 1, &p);
    assert_eq!(c.offer(&hs[2], 2, None, NOW), Offered::Orphan);
    assert_eq!(c.offer(&hs[1], 1, None, NOW), Offered::Orphan);
    assert_eq!(c.orphan_count(), 2);
    assert_eq!(c.next_command(), None);
    assert_eq!(
        c.offer(&hs[0], 0, None, NOW),
        Offered::Accepted {
            height: 1,
            children: 2
        }
    );
    assert_eq!(c.orphan_count(), 0);
    assert_eq!(
        c.offer(&hs[3], 3, None, NOW),
        Offered::Accepted {
            height: 4,
            children: 0
        }
    );
    assert_eq!(run(&mut c, &[]).0, vec![1, 2, 3, 4]);
    assert!(c.is_idle());
    assert_eq!(c.tree().committed_chain().len(), 5);
    assert_eq!(c.offer(&hs[1], 1, None, NOW), Offered::Duplicate);
}

#[test]
fn dispatch_carries_bytes_within_the_budget_only() {
    let limits = CoordinatorLimits {
        pending_bytes: 10,
        max_orphans: 10,
    };
    let (mut c, p) = coord(limits, None);
    let hs = chain(&p.genesis_header(), 2, 1, &p);
    c.offer(&hs[0], 0, Some(vec![0u8; 8].into()), NOW);
    c.offer(&hs[1], 1, Some(vec![0u8; 8].into()), NOW);
    assert_eq!(c.pending_bytes(), 8);
    let Some(Command::Dispatch { bytes: first, .. }) = c.next_command() else {
        panic!("dispatch expected");
    };
    let Some(Command::Dispatch {
        bytes: second, loc, ..
    }) = c.next_command()
    else {
        panic!("dispatch expected");
    };
    assert_eq!(first.map(|b| b.len()), Some(8));
    assert_eq!(
        (second, loc),
        (None, 1),
        "over budget: re-read from its location"
    );
    assert_eq!(c.pending_bytes(), 0);
    // Two blocks in flight and nothing more to dispatch.
    assert_eq!(c.in_flight(), 2);
    assert_eq!(c.next_command(), None);
}

#[test]
fn a_longer_branch_disconnects_down_to_the_fork_then_connects() {
    let (mut c, p) = coord(CoordinatorLimits::default(), None);
    let a = chain(&p.genesis_header(), 3, 1, &p);
    for (i, h) in a.iter().enumerate() {
        c.offer(h, u32::try_from(i).unwrap(), None, NOW);
    }
    run(&mut c, &[]);
    let b = chain(&a[0], 3, 2, &p);
    for h in &b {
        c.offer(h, 9, None, NOW);
    }
    let (dispatched, disconnected) = run(&mut c, &[]);
    assert_eq!(disconnected, vec![a[2].block_hash(), a[1].block_hash()]);
    assert_eq!(dispatched, vec![2, 3, 4]);
    assert_eq!(c.reorgs(), 1);
    let tip = *c.tree().committed_chain().last().unwrap();
    assert_eq!(c.tree().hash(tip), b[2].block_hash());
}

#[test]
fn a_rejected_block_invalidates_its_descendants_and_the_other_branch_wins() {
    let (mut c, p) = coord(CoordinatorLimits::default(), None);
    let a = chain(&p.genesis_header(), 3, 1, &p);
    let b = chain(&p.genesis_header(), 2, 2, &p);
    for h in a.iter().chain(&b) {
        c.offer(h, 0, None, NOW);
    }
    let (dispatched, _) = run(&mut c, &[a[1].block_hash()]);
    // a0, a1 (rejected), then the reorg to b: b0, b1.
    assert_eq!(dispatched, vec![1, 2, 1, 2]);
    let tip = *c.tree().committed_chain().last().unwrap();
    assert_eq!(c.tree().hash(tip), b[1].block_hash());
    let child = mine(&a[2], 7, &p);
    assert!(matches!(
        c.offer(&child, 0, None, NOW),
        Offered::Refused { .. }
    ));
}

#[test]
fn a_mutated_copy_loses_its_data_only_and_a_spare_takes_its_place() {
    let (mut c, p) = coord(CoordinatorLimits::default(), None);
    let a = chain(&p.genesis_header(), 2, 1, &p);
    c.offer(&a[0], 10, None, NOW);
    let Some(Command::Dispatch { ticket, .. }) = c.next_command() else {
        panic!("dispatch expected");
    };
    // A second copy arrives while the first is in flight.
    assert_eq!(c.offer(&a[0], 11, None, NOW), Offered::Duplicate);
    let r = c
        .on_feedback(Feedback::Rejected {
            seq: ticket.seq,
            new_epoch: 1,
            error: BlockReject::Consensus {
                reason: "bad-txnmrklroot".into(),
                mutation: true,
            },
        })
        .unwrap();
    assert!(matches!(
        r,
        Resolved::Rejected {
            mutated: true,
            spare_used: true,
            ..
        }
    ));
    let id = c.tree().get(&a[0].block_hash()).unwrap();
    assert!(c.tree().invalid(id).is_none());
    let Some(Command::Dispatch { loc, height, .. }) = c.next_command() else {
        panic!("the spare is dispatched");
    };
    assert_eq!((loc, height), (11, 1));
}

#[test]
fn a_reopened_store_dispatches_nothing_until_its_tip_is_seen() {
    let p = Params::regtest();
    let a = chain(&p.genesis_header(), 3, 1, &p);
    let (mut c, _) = coord(CoordinatorLimits::default(), Some(a[1].block_hash()));
    c.offer(&a[0], 0, Some(vec![1].into()), NOW);
    assert_eq!(c.next_command(), None);
    assert_eq!(
        c.pending_bytes(),
        0,
        "committed blocks are not kept in memory"
    );
    c.offer(&a[2], 2, None, NOW);
    c.offer(&a[1], 1, None, NOW);
    assert_eq!(c.waiting_for(), None);
    assert_eq!(run(&mut c, &[]).0, vec![3]);
}

#[test]
fn faults_are_errors_and_mark_nothing_invalid() {
    let (mut c, p) = coord(CoordinatorLimits::default(), None);
    let a = chain(&p.genesis_header(), 1, 1, &p);
    c.offer(&a[0], 0, None, NOW);
    let Some(Command::Dispatch { ticket, .. }) = c.next_command() else {
        panic!("dispatch expected");
    };
    let err = c
        .on_feedback(Feedback::Rejected {
            seq: ticket.seq,
            new_epoch: 1,
            error: BlockReject::Storage("disk full".into()),
        })
        .unwrap_err();
    assert_eq!(err, Fault::Storage("disk full".into()));
    let id = c.tree().get(&a[0].block_hash()).unwrap();
    assert!(c.tree().invalid(id).is_none());
    assert_eq!(
        c.on_feedback(Feedback::Committed {
            seq: 99,
            info: committed([0; 32], 1)
        }),
        Err(Fault::UnknownSequence(99))
    );
}

#[test]
fn the_orphan_pool_is_bounded_and_refused_parents_refuse_their_children() {
    let limits = CoordinatorLimits {
        pending_bytes: 0,
        max_orphans: 1,
    };
    let (mut c, p) = coord(limits, None);
    let a = chain(&p.genesis_header(), 3, 1, &p);
    assert_eq!(c.offer(&a[1], 1, None, NOW), Offered::Orphan);
    assert_eq!(c.offer(&a[2], 2, None, NOW), Offered::OrphanPoolFull);
    let mut bad = a[0];
    bad.bits = 0x1d00_ffff;
    let mut bad_child = mine(&p.genesis_header(), 5, &p);
    bad_child.prev_blockhash = bad.block_hash();
    let (mut c, _) = coord(CoordinatorLimits::default(), None);
    assert_eq!(c.offer(&bad_child, 1, None, NOW), Offered::Orphan);
    assert_eq!(
        c.offer(&bad, 0, None, NOW),
        Offered::Refused {
            reason: "high-hash".into()
        }
    );
    let refused = c.take_refused();
    assert_eq!(
        refused,
        vec![(bad_child.block_hash(), "bad-prevblk".into())]
    );
}
