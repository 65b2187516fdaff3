//! Network parameters: genesis blocks, magic, subsidy schedule.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sluice_consensus::chain::params::{Network, Params, COINBASE_MATURITY};
use sluice_consensus::chain::pow::{block_proof, check_proof_of_work};
use sluice_consensus::chain::subsidy;
use sluice_consensus::chain::U256;
use sluice_consensus::hash::{sha256d, to_display_hex};
use std::path::Path;

fn data() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
}

#[test]
fn genesis_hashes_match_core() {
    let cases = [
        (
            Network::Mainnet,
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
            "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
        ),
        (
            Network::Testnet4,
            "00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043",
            "7aa0a7ae1e223414cb807e40cd57e667b718e42aaf9306db9102fe28912b7b4e",
        ),
        (
            Network::Signet,
            "00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6",
            "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
        ),
        (
            Network::Regtest,
            "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
            "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
        ),
    ];
    for (net, hash, merkle) in cases {
        let p = Params::new(net);
        assert_eq!(to_display_hex(&p.genesis_hash), hash, "{net:?}");
        let h = p.genesis_header();
        assert_eq!(h.block_hash(), p.genesis_hash);
        assert_eq!(to_display_hex(&h.merkle_root), merkle, "{net:?}");
        // The block's single transaction hashes to the merkle root.
        let block = p.genesis_block();
        assert_eq!(&block[..80], &h.encode()[..]);
        assert_eq!(block[80], 1);
        assert_eq!(sha256d(&block[81..]), h.merkle_root);
        // Genesis satisfies its own proof of work (as Core's chainparams sanity test checks).
        assert!(check_proof_of_work(&p.genesis_hash, h.bits, &p), "{net:?}");
    }
}

#[test]
fn mainnet_genesis_block_bytes_equal_the_real_block() {
    let raw = std::fs::read(data().join("chains/mainnet-0-438.blk")).unwrap();
    let size = u32::from_le_bytes(raw[4..8].try_into().unwrap()) as usize;
    assert_eq!(&raw[..4], &Params::mainnet().magic);
    assert_eq!(
        &raw[8..8 + size],
        Params::mainnet().genesis_block().as_slice()
    );
}

#[test]
fn magic_bytes() {
    assert_eq!(Params::mainnet().magic, [0xf9, 0xbe, 0xb4, 0xd9]);
    assert_eq!(Params::testnet4().magic, [0x1c, 0x16, 0x3f, 0x28]);
    assert_eq!(Params::regtest().magic, [0xfa, 0xbf, 0xb5, 0xda]);
    // Default signet: derived from the challenge, 0a03cf40 as every signet node uses.
    assert_eq!(Params::new(Network::Signet).magic, [0x0a, 0x03, 0xcf, 0x40]);
}

#[test]
fn deployment_heights_follow_core() {
    let m = Params::mainnet();
    assert_eq!(
        (
            m.bip34_height,
            m.bip65_height,
            m.bip66_height,
            m.csv_height,
            m.segwit_height
        ),
        (227_931, 388_381, 363_725, 419_328, 481_824)
    );
    assert_eq!(
        to_display_hex(&m.bip34_hash),
        "000000000000024b89b42a942fe0d9fea3bb44ab7bd1b19115dd6a759c0808b8"
    );
    let r = Params::regtest();
    assert_eq!(
        (
            r.bip34_height,
            r.bip65_height,
            r.bip66_height,
            r.csv_height,
            r.segwit_height
        ),
        (1, 1, 1, 1, 0)
    );
    assert_eq!(r.difficulty_adjustment_interval(), 144);
    assert!(r.pow_no_retargeting && r.pow_allow_min_difficulty_blocks);
    let t = Params::testnet4();
    assert!(t.enforce_bip94 && t.pow_allow_min_difficulty_blocks && !t.pow_no_retargeting);
    assert_eq!(t.difficulty_adjustment_interval(), 2016);
    assert_eq!(COINBASE_MATURITY, 100);
    assert_eq!(m.script_flag_exceptions.len(), 2);
    assert!(t.script_flag_exceptions.is_empty());
}

#[test]
fn pow_limits_match_core() {
    assert_eq!(Params::mainnet().pow_limit.to_compact(false), 0x1d00_ffff);
    assert_eq!(Params::signet(&[]).pow_limit.to_compact(false), 0x1e03_77ae);
    assert_eq!(Params::regtest().pow_limit.to_compact(false), 0x207f_ffff);
    // Genesis chain work as Core reports it (getblockheader 0 "chainwork": 0x100010001).
    assert_eq!(block_proof(0x1d00_ffff), U256::from_u64(0x1_0001_0001));
    assert_eq!(block_proof(0x207f_ffff), U256::from_u64(2));
    assert_eq!(block_proof(0), U256::ZERO);
    assert_eq!(
        block_proof(0x0492_3456),
        U256::ZERO,
        "negative target has no work"
    );
}

#[test]
fn subsidy_schedule() {
    let m = Params::mainnet();
    assert_eq!(subsidy(0, &m), 5_000_000_000);
    assert_eq!(subsidy(209_999, &m), 5_000_000_000);
    assert_eq!(subsidy(210_000, &m), 2_500_000_000);
    assert_eq!(subsidy(420_000, &m), 1_250_000_000);
    assert_eq!(subsidy(630_000, &m), 625_000_000);
    assert_eq!(subsidy(840_000, &m), 312_500_000);
    // Core's subsidy_limit_test: total issuance below 21M BTC.
    let mut sum: i64 = 0;
    for h in (0..14_000_000u32).step_by(1000) {
        sum += subsidy(h, &m) * 1000;
    }
    assert_eq!(sum, 2_099_999_997_690_000);
    assert_eq!(subsidy(210_000 * 33, &m), 0);
    assert_eq!(subsidy(210_000 * 32, &m), 1);
    assert_eq!(subsidy(210_000 * 64, &m), 0);
    assert_eq!(subsidy(u32::MAX, &m), 0);
    let r = Params::regtest();
    assert_eq!(subsidy(149, &r), 5_000_000_000);
    assert_eq!(subsidy(150, &r), 2_500_000_000);
    assert_eq!(subsidy(150 * 63, &r), 0);
    assert_eq!(subsidy(150 * 64, &r), 0);
    assert_eq!(subsidy(150 * 64 + 1000, &r), 0);
}
