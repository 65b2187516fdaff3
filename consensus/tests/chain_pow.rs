//! Difficulty schedule and header rules on synthetic chains: Core's pow_tests vectors,
//! testnet4 (min-difficulty, BIP94), regtest, version and timewarp rules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sluice_consensus::chain::header_check::contextual_check_block_header;
use sluice_consensus::chain::pow::{
    calculate_next_work_required, check_proof_of_work, derive_target, next_work_required,
    permitted_difficulty_transition,
};
use sluice_consensus::chain::{AncestorView, HeaderChain, HeaderError, Params, U256};
use sluice_consensus::header::Header;

const NOW: i64 = 2_000_000_000;

/// A linked chain of synthetic headers at `base..`, each `(time, bits)`; PoW is not mined
/// (checkpoints are trusted), which is what the contextual rules need.
fn synth(base: u32, entries: &[(u32, u32)]) -> HeaderChain {
    let mut prev = [7u8; 32];
    let mut headers = Vec::new();
    for (i, &(time, bits)) in entries.iter().enumerate() {
        let h = Header {
            version: 4,
            prev_blockhash: prev,
            merkle_root: [i as u8; 32],
            time,
            bits,
            nonce: 0,
        };
        prev = h.block_hash();
        headers.push(h);
    }
    HeaderChain::from_checkpoint(base, &headers).unwrap()
}

fn header(chain: &HeaderChain, time: u32, bits: u32, version: i32) -> Header {
    Header {
        version,
        prev_blockhash: chain.get(chain.tip_height()).unwrap().hash,
        merkle_root: [0; 32],
        time,
        bits,
        nonce: 0,
    }
}

// Core's pow_tests.cpp: get_next_work, get_next_work_pow_limit,
// get_next_work_lower_limit_actual, get_next_work_upper_limit_actual.
#[test]
fn core_next_work_vectors() {
    let p = Params::mainnet();
    let cases = [
        (
            1_261_130_161i64,
            32_255u32,
            1_262_152_739i64,
            0x1d00_ffffu32,
            0x1d00_d86au32,
        ),
        (1_231_006_505, 2015, 1_233_061_996, 0x1d00_ffff, 0x1d00_ffff),
        (
            1_279_008_237,
            68_543,
            1_279_297_671,
            0x1c05_a3f4,
            0x1c01_68fd,
        ),
        (
            1_263_163_443,
            46_367,
            1_269_211_443,
            0x1c38_7f6f,
            0x1d00_e1fd,
        ),
    ];
    for (first_time, last_height, last_time, last_bits, expected) in cases {
        let got = calculate_next_work_required(last_time, last_bits, first_time, 0, &p);
        assert_eq!(got, expected, "after {last_height}");
        assert!(permitted_difficulty_transition(
            &p,
            last_height + 1,
            last_bits,
            expected
        ));
    }
    assert!(!permitted_difficulty_transition(
        &p,
        68_544,
        0x1c05_a3f4,
        0x1c01_68fd - 1
    ));
    assert!(!permitted_difficulty_transition(
        &p,
        46_368,
        0x1c38_7f6f,
        0x1d00_e1fd + 1
    ));
    // Off a retarget height the bits may not change at all.
    assert!(permitted_difficulty_transition(
        &p,
        100,
        0x1d00_ffff,
        0x1d00_ffff
    ));
    assert!(!permitted_difficulty_transition(
        &p,
        100,
        0x1d00_ffff,
        0x1d00_fffe
    ));
    // Where min-difficulty blocks are allowed, anything goes.
    assert!(permitted_difficulty_transition(
        &Params::testnet4(),
        100,
        0x1c00_ffff,
        0x1d00_ffff
    ));
}

// Core's CheckProofOfWork_test_* cases.
#[test]
fn check_proof_of_work_rejects_bad_targets() {
    let p = Params::mainnet();
    let one = U256::ONE.to_le_bytes();
    // Negative target.
    let negative = p.pow_limit.to_compact(true);
    assert_eq!(negative, 0x1d80_ffff);
    assert!(!check_proof_of_work(&one, negative, &p));
    // Overflowing target.
    assert!(!check_proof_of_work(&one, !0x0080_0000u32, &p));
    // Target easier than the limit.
    let too_easy = p.pow_limit.wrapping_mul_u64(2).to_compact(false);
    assert!(!check_proof_of_work(&one, too_easy, &p));
    assert_eq!(derive_target(too_easy, &p.pow_limit), None);
    // Hash above the target.
    let bits = p.pow_limit.to_compact(false);
    let big_hash = p.pow_limit.wrapping_mul_u64(2).to_le_bytes();
    assert!(!check_proof_of_work(&big_hash, bits, &p));
    let target = U256::from_compact(bits).value;
    assert!(check_proof_of_work(&target.to_le_bytes(), bits, &p));
    let above = target.wrapping_add(&U256::ONE).to_le_bytes();
    assert!(!check_proof_of_work(&above, bits, &p));
    // Zero target.
    assert!(!check_proof_of_work(&[0u8; 32], 0, &p));
}

#[test]
fn testnet4_twenty_minute_rule_and_walk_back() {
    let p = Params::testnet4();
    let limit = p.pow_limit.to_compact(false);
    let real = 0x1c00_ffffu32;
    // Heights 4024..4034: real difficulty through the period start 4032, then two
    // min-difficulty blocks.
    let t0 = 1_720_000_000u32;
    let chain = synth(
        4024,
        &[
            (t0 - 3600, real),
            (t0 - 3000, real),
            (t0 - 2400, real),
            (t0 - 1800, real),
            (t0 - 1200, real),
            (t0 - 600, real),
            (t0, real),
            (t0 + 600, real),
            (t0 + 1200, real),
            (t0 + 1200 + 1201, limit),
            (t0 + 1200 + 2402, limit),
        ],
    );
    let last_time = t0 + 1200 + 2402;
    // More than 20 minutes after the parent: must be min difficulty.
    assert_eq!(
        next_work_required(&chain, last_time + 1201, &p).unwrap(),
        limit
    );
    // Exactly 20 minutes: back to the last non-min-difficulty block's bits.
    assert_eq!(
        next_work_required(&chain, last_time + 1200, &p).unwrap(),
        real
    );
    // Mainnet never lowers the difficulty that way.
    let mainnet = Params::mainnet();
    assert_eq!(
        next_work_required(&chain, last_time + 100_000, &mainnet).unwrap(),
        limit,
        "mainnet just repeats the parent's bits"
    );
    // Contextual check names the failure.
    let h = header(&chain, last_time + 1200, limit, 4);
    assert_eq!(
        contextual_check_block_header(&h, &chain, &p, NOW),
        Err(HeaderError::BadDiffBits)
    );
    let h = header(&chain, last_time + 1200, real, 4);
    assert_eq!(contextual_check_block_header(&h, &chain, &p, NOW), Ok(()));
}

#[test]
fn walk_back_stops_at_period_start() {
    let p = Params::testnet4();
    let limit = p.pow_limit.to_compact(false);
    // Period start 2016 itself is a min-difficulty block: the walk stops there.
    let chain = synth(2015, &[(1000, 0x1c00_ffff), (2000, limit), (2100, limit)]);
    assert_eq!(next_work_required(&chain, 2200, &p).unwrap(), limit);
}

/// One full 2016-block period at heights 2016..=4031 with the given bits of its first and
/// later blocks, spaced `spacing` seconds.
fn period(first_bits: u32, later_bits: u32, spacing: u32) -> HeaderChain {
    let t0 = 1_720_000_000u32;
    let entries: Vec<(u32, u32)> = (0..2016u32)
        .map(|i| {
            (
                t0 + i * spacing,
                if i == 0 { first_bits } else { later_bits },
            )
        })
        .collect();
    synth(2016, &entries)
}

#[test]
fn bip94_retargets_from_the_first_block_of_the_period() {
    let t4 = Params::testnet4();
    let limit = t4.pow_limit.to_compact(false);
    let real = 0x1c00_ffffu32;
    // Last block of the period is a min-difficulty block (a block storm ended with one).
    let chain = period(real, limit, 600);
    assert_eq!(chain.tip_height(), 4031);
    let t_last = chain.get(4031).unwrap().time;
    let next = next_work_required(&chain, t_last + 600, &t4).unwrap();
    // Spacing exactly on target (2015 intervals of 600 s over 2016*600): nearly unchanged,
    // based on the first block's real difficulty, not the min-difficulty last block.
    let expect = calculate_next_work_required(
        i64::from(t_last),
        real,
        i64::from(chain.get(2016).unwrap().time),
        real,
        &Params::mainnet(),
    );
    assert_eq!(next, expect);
    assert_ne!(next, limit);
    // The 20-minute exception does not apply on a retarget height: a late first block of the
    // period still gets the retargeted difficulty.
    assert_eq!(
        next_work_required(&chain, t_last + 100_000, &t4).unwrap(),
        next
    );
    // Without BIP94 (testnet3 rules) the min-difficulty last block would be the base.
    let mut t3 = t4.clone();
    t3.enforce_bip94 = false;
    let from_last = calculate_next_work_required(
        i64::from(t_last),
        limit,
        i64::from(chain.get(2016).unwrap().time),
        real,
        &t3,
    );
    assert_eq!(
        next_work_required(&chain, t_last + 600, &t3).unwrap(),
        from_last
    );
    assert_ne!(from_last, next);
}

#[test]
fn bip94_timewarp_rule() {
    let t4 = Params::testnet4();
    let real = 0x1c00_ffffu32;
    let chain = period(real, real, 600);
    let prev_time = chain.get(4031).unwrap().time;
    let bits = next_work_required(&chain, prev_time - 600, &t4).unwrap();
    let h = header(&chain, prev_time - 601, bits, 4);
    let r = contextual_check_block_header(&h, &chain, &t4, NOW);
    assert_eq!(r, Err(HeaderError::TimewarpAttack));
    assert_eq!(r.unwrap_err().to_string(), "time-timewarp-attack");
    let h = header(&chain, prev_time - 600, bits, 4);
    assert_eq!(contextual_check_block_header(&h, &chain, &t4, NOW), Ok(()));
    // Mainnet has no such rule (the header is otherwise valid there).
    let main = Params::mainnet();
    let bits = next_work_required(&chain, prev_time - 601, &main).unwrap();
    let h = header(&chain, prev_time - 601, bits, 4);
    assert_eq!(
        contextual_check_block_header(&h, &chain, &main, NOW),
        Ok(())
    );
}

#[test]
fn outdated_versions_are_rejected_after_activation() {
    let main = Params::mainnet();
    let bits = 0x1b04_864c;
    let times: Vec<(u32, u32)> = (0..11).map(|i| (1_300_000_000 + i * 600, bits)).collect();
    // Tip 227929: the next block (227930) is before BIP34, version 1 is fine.
    let chain = synth(227_919, &times);
    let h = header(&chain, 1_300_010_000, bits, 1);
    assert_eq!(
        contextual_check_block_header(&h, &chain, &main, NOW),
        Ok(())
    );
    // Tip 227930: block 227931 activates BIP34, version 1 is out.
    let chain = synth(227_920, &times);
    let h = header(&chain, 1_300_010_000, bits, 1);
    let r = contextual_check_block_header(&h, &chain, &main, NOW);
    assert_eq!(r, Err(HeaderError::BadVersion(1)));
    assert_eq!(r.unwrap_err().to_string(), "bad-version(0x00000001)");
    let h = header(&chain, 1_300_010_000, bits, 2);
    assert_eq!(
        contextual_check_block_header(&h, &chain, &main, NOW),
        Ok(())
    );
    // BIP66 at 363725 requires 3, BIP65 at 388381 requires 4.
    for (tip_next, min_version) in [(363_725u32, 3), (388_381, 4)] {
        let chain = synth(tip_next - 11, &times);
        let h = header(&chain, 1_300_010_000, bits, min_version - 1);
        assert_eq!(
            contextual_check_block_header(&h, &chain, &main, NOW),
            Err(HeaderError::BadVersion(min_version - 1))
        );
        let h = header(&chain, 1_300_010_000, bits, min_version);
        assert_eq!(
            contextual_check_block_header(&h, &chain, &main, NOW),
            Ok(())
        );
    }
    // Negative versions print as Core's %08x does (two's complement).
    assert_eq!(
        HeaderError::BadVersion(-1).to_string(),
        "bad-version(0xffffffff)"
    );
}

/// Grinds the nonce until the header meets its target (trivial on regtest).
fn mine(mut h: Header, params: &Params) -> Header {
    while !check_proof_of_work(&h.block_hash(), h.bits, params) {
        h.nonce += 1;
    }
    h
}

#[test]
fn regtest_mined_headers_flow() {
    let p = Params::regtest();
    let mut chain = HeaderChain::from_genesis(&p);
    let genesis_time = p.genesis_header().time;
    for i in 1..=300u32 {
        let h = header(&chain, genesis_time + i, 0x207f_ffff, 4);
        let h = mine(h, &p);
        chain.accept(&h, &p, NOW).unwrap();
    }
    // No retargeting at 144 or 288 on regtest.
    assert_eq!(chain.tip_height(), 300);
    assert_eq!(chain.get(288).unwrap().bits, 0x207f_ffff);
    // Version 3 fails from height 1 (BIP65 at 1).
    let h = mine(header(&chain, genesis_time + 400, 0x207f_ffff, 3), &p);
    assert_eq!(chain.accept(&h, &p, NOW), Err(HeaderError::BadVersion(3)));
    // Different bits that still meet their own (valid) target: bad-diffbits.
    let h = mine(header(&chain, genesis_time + 400, 0x207f_fffe, 4), &p);
    assert_eq!(chain.accept(&h, &p, NOW), Err(HeaderError::BadDiffBits));
    // A time at the median time past.
    let mtp = chain.median_time_past(300).unwrap();
    let h = mine(
        header(&chain, u32::try_from(mtp).unwrap(), 0x207f_ffff, 4),
        &p,
    );
    assert_eq!(chain.accept(&h, &p, NOW), Err(HeaderError::TimeTooOld));
    // A nonce that fails the target.
    let mut h = mine(header(&chain, genesis_time + 400, 0x207f_ffff, 4), &p);
    while check_proof_of_work(&h.block_hash(), h.bits, &p) {
        h.nonce += 1;
    }
    assert_eq!(chain.accept(&h, &p, NOW), Err(HeaderError::HighHash));
    assert_eq!(chain.tip_height(), 300);
}

#[test]
fn median_time_past_near_genesis_uses_available_blocks() {
    // Core sorts however many blocks exist (fewer than 11 near genesis) and takes the middle.
    let chain = synth(0, &[(10, 1), (30, 1), (20, 1), (5, 1)]);
    assert_eq!(chain.median_time_past(0).unwrap(), 10);
    assert_eq!(chain.median_time_past(1).unwrap(), 30); // [10,30] -> index 1
    assert_eq!(chain.median_time_past(2).unwrap(), 20); // [10,20,30]
    assert_eq!(chain.median_time_past(3).unwrap(), 20); // [5,10,20,30] -> index 2
}
