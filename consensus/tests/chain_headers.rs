//! Real mainnet headers through the full header rules, and named rejections.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sluice_consensus::chain::header_check::{check_header, contextual_check_block_header};
use sluice_consensus::chain::pow::{
    check_proof_of_work, next_work_required, permitted_difficulty_transition,
};
use sluice_consensus::chain::{AncestorView, HeaderChain, HeaderError, Params};
use sluice_consensus::header::Header;
use std::path::Path;

/// 2026-01-01T00:00:00Z: a wall clock later than every header in the files.
const NOW: i64 = 1_767_225_600;

fn load(name: &str) -> Vec<Header> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/headers")
        .join(name);
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(raw.len() % 80, 0);
    raw.chunks_exact(80)
        .map(|c| Header::decode(c).unwrap())
        .collect()
}

#[test]
fn mainnet_headers_from_genesis_all_pass() {
    let params = Params::mainnet();
    let headers = load("mainnet-0-32259.headers");
    assert_eq!(headers.len(), 32_260);
    assert_eq!(headers[0], params.genesis_header());
    let mut chain = HeaderChain::from_genesis(&params);
    let mut retargets = 0;
    for (height, h) in headers.iter().enumerate().skip(1) {
        if height % 2016 == 0 && h.bits != headers[height - 1].bits {
            retargets += 1;
        }
        chain
            .accept(h, &params, NOW)
            .unwrap_or_else(|e| panic!("height {height}: {e}"));
    }
    assert_eq!(chain.tip_height(), 32_259);
    // The first difficulty change happened at 32256 (0x1d00d86a, Core's get_next_work test).
    assert_eq!(retargets, 1);
    assert_eq!(headers[32_256].bits, 0x1d00_d86a);
}

#[test]
fn mainnet_headers_from_checkpoint_cross_four_retargets() {
    let params = Params::mainnet();
    let headers = load("mainnet-822528-830592.headers");
    assert_eq!(headers.len(), 8_065);
    let base = 822_528u32;
    assert_eq!(base % 2016, 0, "checkpoint is a period start");

    // Headers 1..=10: median time past needs 11 blocks of history, which the checkpoint
    // lacks, so check linkage, proof of work and the difficulty schedule directly.
    for i in 1..=10 {
        let view = HeaderChain::from_checkpoint(base, &headers[..i]).unwrap();
        let h = &headers[i];
        assert_eq!(h.prev_blockhash, headers[i - 1].block_hash());
        assert!(check_proof_of_work(&h.block_hash(), h.bits, &params));
        assert_eq!(next_work_required(&view, h.time, &params).unwrap(), h.bits);
    }
    // From there on, every header passes every rule.
    let mut chain = HeaderChain::from_checkpoint(base, &headers[..11]).unwrap();
    let mut retargets = 0;
    for (i, h) in headers.iter().enumerate().skip(11) {
        let height = base + i as u32;
        if height.is_multiple_of(2016) {
            retargets += 1;
            assert_ne!(h.bits, headers[i - 1].bits, "real retarget at {height}");
        }
        chain
            .accept(h, &params, NOW)
            .unwrap_or_else(|e| panic!("height {height}: {e}"));
        assert!(permitted_difficulty_transition(
            &params,
            height,
            headers[i - 1].bits,
            h.bits
        ));
    }
    assert_eq!(retargets, 4);
    assert_eq!(chain.tip_height(), 830_592);
}

#[test]
fn checkpoint_too_short_for_mtp_reports_missing_ancestor() {
    let params = Params::mainnet();
    let headers = load("mainnet-822528-830592.headers");
    let mut chain = HeaderChain::from_checkpoint(822_528, &headers[..1]).unwrap();
    assert!(matches!(
        chain.accept(&headers[1], &params, NOW),
        Err(HeaderError::MissingAncestor(_))
    ));
}

fn chain_to(headers: &[Header], tip: usize) -> HeaderChain {
    let params = Params::mainnet();
    let mut chain = HeaderChain::from_genesis(&params);
    for h in &headers[1..=tip] {
        chain.accept(h, &params, NOW).unwrap();
    }
    chain
}

#[test]
fn bad_nonce_is_high_hash() {
    let params = Params::mainnet();
    let headers = load("mainnet-0-32259.headers");
    let chain = chain_to(&headers, 2100);
    let mut h = headers[2101];
    h.nonce ^= 1;
    assert_eq!(
        check_header(&h, &chain, &params, NOW),
        Err(HeaderError::HighHash)
    );
    assert_eq!(HeaderError::HighHash.to_string(), "high-hash");
}

#[test]
fn wrong_bits_is_bad_diffbits() {
    let params = Params::mainnet();
    let headers = load("mainnet-0-32259.headers");
    // At the retarget 32256 and off it.
    for tip in [32_255usize, 2100] {
        let chain = chain_to(&headers, tip);
        let mut h = headers[tip + 1];
        h.bits = 0x1d00_fffe;
        let r = contextual_check_block_header(&h, &chain, &params, NOW);
        assert_eq!(r, Err(HeaderError::BadDiffBits));
        assert_eq!(r.unwrap_err().to_string(), "bad-diffbits");
    }
}

#[test]
fn time_at_or_before_mtp_is_too_old() {
    let params = Params::mainnet();
    let headers = load("mainnet-0-32259.headers");
    let chain = chain_to(&headers, 5000);
    let mtp = chain.median_time_past(5000).unwrap();
    let mut h = headers[5001];
    h.time = u32::try_from(mtp).unwrap();
    assert_eq!(
        contextual_check_block_header(&h, &chain, &params, NOW),
        Err(HeaderError::TimeTooOld)
    );
    h.time += 1;
    assert_eq!(
        contextual_check_block_header(&h, &chain, &params, NOW),
        Ok(())
    );
}

#[test]
fn time_more_than_two_hours_ahead_is_too_new() {
    let params = Params::mainnet();
    let headers = load("mainnet-0-32259.headers");
    let chain = chain_to(&headers, 100);
    let h = headers[101];
    let t = i64::from(h.time);
    assert_eq!(
        contextual_check_block_header(&h, &chain, &params, t - 7200),
        Ok(())
    );
    let r = contextual_check_block_header(&h, &chain, &params, t - 7201);
    assert_eq!(r, Err(HeaderError::TimeTooNew));
    assert_eq!(r.unwrap_err().to_string(), "time-too-new");
}

#[test]
fn unlinked_header_is_prev_blk_not_found() {
    let params = Params::mainnet();
    let headers = load("mainnet-0-32259.headers");
    let mut chain = chain_to(&headers, 10);
    assert_eq!(
        chain.accept(&headers[12], &params, NOW),
        Err(HeaderError::PrevBlockNotFound)
    );
    assert_eq!(chain.tip_height(), 10, "rejected header not appended");
}

#[test]
fn proof_of_work_is_checked_before_linkage_as_in_core() {
    let params = Params::mainnet();
    let headers = load("mainnet-0-32259.headers");
    let mut chain = chain_to(&headers, 10);
    let mut h = headers[12];
    h.nonce ^= 1;
    assert_eq!(chain.accept(&h, &params, NOW), Err(HeaderError::HighHash));
}
