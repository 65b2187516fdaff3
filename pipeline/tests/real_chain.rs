//! Real mainnet blocks 0..=438 through the whole pipeline, and damaged copies of them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use sluice_consensus::chain::Network;
use sluice_pipeline::{import, ImportConfig, ImportReport};
use sluice_storage::blockfile::{scan_blocks, MAGIC_MAINNET};

const TIP_438: &str = "0000000025c6b644f8add734be7e666fa4afa43ca0204d623a0c0b1fd2104c7a";

fn chain_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/chains/mainnet-0-438.blk")
}

fn run(paths: &[PathBuf]) -> (ImportReport, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = ImportConfig::new(Network::Mainnet, dir.path().join("data"));
    let r = import(&cfg, paths).unwrap();
    (r, dir)
}

fn blocks() -> Vec<Vec<u8>> {
    let data = std::fs::read(chain_file()).unwrap();
    scan_blocks(Path::new("x"), &data, MAGIC_MAINNET)
        .unwrap()
        .blocks
        .into_iter()
        .map(|b| b.bytes)
        .collect()
}

fn frame(blocks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for b in blocks {
        out.extend_from_slice(&MAGIC_MAINNET);
        out.extend_from_slice(&u32::try_from(b.len()).unwrap().to_le_bytes());
        out.extend_from_slice(b);
    }
    out
}

fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

#[test]
fn mainnet_0_438_imports_to_the_known_tip() {
    let (r, _d) = run(&[chain_file()]);
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert_eq!(r.tip_height, 438);
    assert_eq!(r.tip_hex(), TIP_438);
    assert_eq!(r.blocks_connected, 438);
    assert_eq!(
        r.duplicates, 1,
        "the genesis block in the file is already known"
    );
    // 439 coinbases minus genesis (never spendable), block 170's spend moves 50 BTC into 2 outputs.
    assert!(r.utxo_count >= 438, "{}", r.utxo_count);
    assert!(r.inputs > 0);
    assert!(r.muhash.is_some());
}

#[test]
fn corrupted_merkle_root_is_rejected_by_rule_and_nothing_after_it_connects() {
    let mut bs = blocks();
    // Flip a byte of block 200's coinbase: its txid no longer matches the header's merkle root.
    let n = bs[200].len();
    bs[200][n - 10] ^= 1;
    let tmp = tempfile::tempdir().unwrap();
    let p = write(tmp.path(), "blk00000.dat", &frame(&bs));
    let (r, _d) = run(&[p]);
    assert_eq!(r.tip_height, 199);
    // Like Core's BLOCK_MUTATED: the copy is rejected, but the header is not marked invalid, so
    // its descendants are kept (not refused as bad-prevblk); they cannot connect without it.
    assert_eq!(r.rejected.len(), 1, "{:?}", r.rejected);
    assert_eq!(r.rejected[0].reason, "bad-txnmrklroot");
    assert_eq!(r.rejected[0].height, Some(200));
    assert_eq!(r.blocks_connected, 199);
    assert_eq!(r.orphans_left, 0);
}

#[test]
fn a_good_copy_after_a_mutated_one_connects_like_core() {
    let good = blocks();
    let mut bs = good.clone();
    let n = bs[200].len();
    bs[200][n - 10] ^= 1;
    // The mutated copy first, then the rest of the chain, then the real block 200.
    bs.push(good[200].clone());
    let tmp = tempfile::tempdir().unwrap();
    let p = write(tmp.path(), "blk00000.dat", &frame(&bs));
    let (r, _d) = run(&[p]);
    assert_eq!(r.rejected.len(), 1, "{:?}", r.rejected);
    assert_eq!(r.rejected[0].reason, "bad-txnmrklroot");
    assert_eq!(r.tip_height, 438);
    assert_eq!(r.tip_hex(), TIP_438);
    assert_eq!(r.blocks_connected, 438);
}

#[test]
fn corrupted_header_is_rejected_with_the_rule_it_broke() {
    let mut bs = blocks();
    // Change block 300's nonce: its hash no longer meets the target.
    bs[300][76] ^= 0xff;
    let tmp = tempfile::tempdir().unwrap();
    let p = write(tmp.path(), "blk00000.dat", &frame(&bs));
    let (r, _d) = run(&[p]);
    assert_eq!(r.tip_height, 299);
    assert_eq!(r.rejected[0].reason, "high-hash");
    // Block 301 names the real block 300 as parent, which never arrived: an orphan, like Core.
    assert!(r.orphans_left >= 1);
}

#[test]
fn truncated_file_garbage_and_wrong_magic_are_handled_like_core() {
    let bs = blocks();
    let tmp = tempfile::tempdir().unwrap();
    // Garbage between records and a torn last record.
    let mut data = Vec::new();
    for (i, b) in bs[..250].iter().enumerate() {
        if i % 50 == 7 {
            data.extend_from_slice(b"\x00\x13garbage\xff");
        }
        data.extend_from_slice(&frame(std::slice::from_ref(b)));
    }
    let torn = frame(std::slice::from_ref(&bs[250]));
    data.extend_from_slice(&torn[..torn.len() / 2]);
    let p1 = write(tmp.path(), "a.dat", &data);
    // A file of regtest-framed blocks is invisible to a mainnet import.
    let mut other = Vec::new();
    for b in &bs[250..] {
        other.extend_from_slice(&[0xfa, 0xbf, 0xb5, 0xda]);
        other.extend_from_slice(&u32::try_from(b.len()).unwrap().to_le_bytes());
        other.extend_from_slice(b);
    }
    let p2 = write(tmp.path(), "b.dat", &other);
    let (r, _d) = run(&[p1, p2]);
    assert_eq!(r.tip_height, 249);
    assert_eq!(r.file_warnings.len(), 1, "{:?}", r.file_warnings);
    assert!(r.file_warnings[0].contains("truncated"));
    assert!(r.skipped_garbage_bytes > 0);
    assert!(r.rejected.is_empty());
}

#[test]
fn out_of_order_blocks_wait_for_their_parent_and_orphans_are_reported() {
    let bs = blocks();
    let tmp = tempfile::tempdir().unwrap();
    // Blocks 100..200 before 0..100 (as in real blk files), and block 300 with no parent.
    let mut order: Vec<Vec<u8>> = bs[100..200].to_vec();
    order.extend_from_slice(&bs[..100]);
    order.push(bs[300].clone());
    let p = write(tmp.path(), "blk00000.dat", &frame(&order));
    let (r, _d) = run(&[p]);
    assert_eq!(r.tip_height, 199);
    assert_eq!(r.orphans_left, 1);
    assert!(r.rejected.is_empty());
}

#[test]
fn reopening_resumes_from_the_stored_tip() {
    let bs = blocks();
    let tmp = tempfile::tempdir().unwrap();
    let first = write(tmp.path(), "first.dat", &frame(&bs[..150]));
    let all = chain_file();
    let data = tmp.path().join("data");
    let cfg = ImportConfig::new(Network::Mainnet, data);
    let r1 = import(&cfg, &[first]).unwrap();
    assert_eq!(r1.tip_height, 149);
    let r2 = import(&cfg, std::slice::from_ref(&all)).unwrap();
    assert_eq!(r2.resumed_from, 149);
    assert_eq!(r2.blocks_connected, 438 - 149);
    assert_eq!(r2.tip_hex(), TIP_438);
    let (fresh, _d) = run(&[all]);
    assert_eq!(r2.muhash, fresh.muhash);
    assert_eq!(r2.utxo_count, fresh.utxo_count);
}
