//! nLockTime finality and BIP68 relative lock times, mirroring Core's semantics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sluice_consensus::chain::locktime::{
    calculate_sequence_locks, evaluate_sequence_locks, is_final_tx, sequence_locks, SequenceLock,
    LOCKTIME_THRESHOLD, SEQUENCE_FINAL, SEQUENCE_LOCKTIME_DISABLE_FLAG,
    SEQUENCE_LOCKTIME_TYPE_FLAG,
};
use sluice_consensus::chain::{AncestorView, HeaderChain};
use sluice_consensus::header::Header;

/// Heights 0..=tip, block h at time T0 + 600·h.
const T0: u32 = 1_600_000_000;

fn chain(tip: u32) -> HeaderChain {
    let mut prev = [0u8; 32];
    let headers: Vec<Header> = (0..=tip)
        .map(|h| {
            let hd = Header {
                version: 4,
                prev_blockhash: prev,
                merkle_root: [0; 32],
                time: T0 + 600 * h,
                bits: 0x207f_ffff,
                nonce: 0,
            };
            prev = hd.block_hash();
            hd
        })
        .collect();
    HeaderChain::from_checkpoint(0, &headers).unwrap()
}

#[test]
fn is_final_tx_semantics() {
    // Zero lock time is always final.
    assert!(is_final_tx(0, [0], 1, 0));
    // Height locks: final when lock < block height.
    assert!(is_final_tx(99, [0], 100, 0));
    assert!(!is_final_tx(100, [0], 100, 0));
    assert!(!is_final_tx(101, [0], 100, i64::MAX));
    // ... unless every input opted out with SEQUENCE_FINAL.
    assert!(is_final_tx(101, [SEQUENCE_FINAL, SEQUENCE_FINAL], 100, 0));
    assert!(!is_final_tx(
        101,
        [SEQUENCE_FINAL, SEQUENCE_FINAL - 1],
        100,
        0
    ));
    // No inputs: vacuously all final.
    assert!(is_final_tx(101, [], 100, 0));
    // The threshold splits heights from times.
    let below = LOCKTIME_THRESHOLD - 1;
    assert!(!is_final_tx(below, [0], below, i64::MAX), "a height");
    assert!(is_final_tx(below, [0], below + 1, 0));
    let t = LOCKTIME_THRESHOLD;
    assert!(!is_final_tx(t, [0], u32::MAX, i64::from(t)), "a time");
    assert!(is_final_tx(t, [0], 0, i64::from(t) + 1));
    assert!(is_final_tx(u32::MAX, [0], 0, i64::from(u32::MAX) + 1));
}

#[test]
fn bip68_height_locks() {
    let c = chain(108); // the block under test is at 109
                        // Coin at 100, relative lock of 10 blocks: last invalid height 109.
    let lock = calculate_sequence_locks(2, [(10, 100)], true, &c).unwrap();
    assert_eq!(
        lock,
        SequenceLock {
            min_height: 109,
            min_time: -1
        }
    );
    assert!(!evaluate_sequence_locks(lock, &c).unwrap());
    assert!(evaluate_sequence_locks(lock, &chain(109)).unwrap());
    // Zero relative lock: spendable in the coin's own block onward.
    assert!(sequence_locks(2, [(0, 109)], true, &c).unwrap());
    // Maximum over inputs.
    let lock = calculate_sequence_locks(2, [(1, 100), (5, 104), (3, 90)], true, &c).unwrap();
    assert_eq!(lock.min_height, 108);
    // Bits outside the mask (other than the flags) are ignored.
    let lock = calculate_sequence_locks(2, [(0x0001_000a, 100)], true, &c).unwrap();
    assert_eq!(lock.min_height, 109);
}

#[test]
fn bip68_time_locks() {
    let c = chain(200);
    // Coin at 100: measured from MTP of block 99, which is block 94's time.
    let mtp99 = c.median_time_past(99).unwrap();
    assert_eq!(mtp99, i64::from(T0 + 600 * 94));
    let seq = SEQUENCE_LOCKTIME_TYPE_FLAG | 3; // 3 × 512 s
    let lock = calculate_sequence_locks(2, [(seq, 100)], true, &c).unwrap();
    assert_eq!(lock.min_height, -1);
    assert_eq!(lock.min_time, mtp99 + 3 * 512 - 1);
    // Satisfied when the lock is below the tip's median time past.
    let ok_tip = (100..200)
        .find(|&h| c.median_time_past(h).unwrap() > lock.min_time)
        .unwrap();
    assert!(evaluate_sequence_locks(lock, &chain(ok_tip)).unwrap());
    assert!(!evaluate_sequence_locks(lock, &chain(ok_tip - 1)).unwrap());
    // A coin at height 0 uses the genesis MTP (no underflow).
    let lock = calculate_sequence_locks(2, [(SEQUENCE_LOCKTIME_TYPE_FLAG, 0)], true, &c).unwrap();
    assert_eq!(lock.min_time, i64::from(T0) - 1);
}

#[test]
fn bip68_applies_only_when_enabled() {
    let c = chain(108);
    // Disable flag: no constraint from that input.
    let lock = calculate_sequence_locks(2, [(SEQUENCE_LOCKTIME_DISABLE_FLAG | 50, 100)], true, &c)
        .unwrap();
    assert_eq!(lock, SequenceLock::NONE);
    // Version 1: not enforced.
    assert_eq!(
        calculate_sequence_locks(1, [(50, 100)], true, &c).unwrap(),
        SequenceLock::NONE
    );
    // Before CSV (flag off): not enforced.
    assert_eq!(
        calculate_sequence_locks(2, [(50, 100)], false, &c).unwrap(),
        SequenceLock::NONE
    );
    // Core compares the version unsigned: 0xffffffff (-1 as i32) is >= 2.
    assert_eq!(
        calculate_sequence_locks(u32::MAX, [(50, 100)], true, &c)
            .unwrap()
            .min_height,
        149
    );
}

#[test]
fn missing_history_is_an_error_not_a_guess() {
    let mut prev = [0u8; 32];
    let headers: Vec<Header> = (0..5u32)
        .map(|i| {
            let h = Header {
                version: 4,
                prev_blockhash: prev,
                merkle_root: [0; 32],
                time: T0 + i,
                bits: 0,
                nonce: 0,
            };
            prev = h.block_hash();
            h
        })
        .collect();
    let c = HeaderChain::from_checkpoint(1000, &headers).unwrap();
    let r = calculate_sequence_locks(2, [(SEQUENCE_LOCKTIME_TYPE_FLAG | 1, 500)], true, &c);
    assert!(r.is_err());
}
