//! Every BIP340 test vector, singly and in batches.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod batch_support;

use std::path::Path;

use sluice_consensus::secp::{verify_schnorr, BatchVerifier};

#[derive(Debug)]
struct Vector {
    index: usize,
    pubkey: [u8; 32],
    msg: Vec<u8>,
    sig: [u8; 64],
    valid: bool,
}

fn vectors() -> Vec<Vector> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/bip-vectors/bip340-test-vectors.csv");
    let text = std::fs::read_to_string(&path).expect("BIP340 vectors present");
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        assert!(f.len() >= 7, "malformed vector line {line}");
        out.push(Vector {
            index: f[0].parse().unwrap(),
            pubkey: hex::decode(f[2]).unwrap().try_into().unwrap(),
            msg: hex::decode(f[4]).unwrap(),
            sig: hex::decode(f[5]).unwrap().try_into().unwrap(),
            valid: f[6] == "TRUE",
        });
    }
    out
}

#[test]
fn all_vectors_singly() {
    let v = vectors();
    assert_eq!(v.len(), 19, "expected the 19 BIP340 vectors");
    for t in &v {
        assert_eq!(
            verify_schnorr(&t.msg, &t.pubkey, &t.sig),
            t.valid,
            "vector {}",
            t.index
        );
        // A batch of one is the same decision.
        let mut b = BatchVerifier::new();
        b.push_msg(&t.msg, t.pubkey, t.sig);
        assert_eq!(
            b.verify([7; 32]).is_ok(),
            t.valid,
            "vector {} as batch",
            t.index
        );
        // Both paths of `verify` on their own (the single path is libsecp256k1 for every
        // message length).
        assert_eq!(b.verify_singly().is_ok(), t.valid, "vector {}", t.index);
        assert_eq!(
            b.verify_equation([7; 32]).is_ok(),
            t.valid,
            "vector {}",
            t.index
        );
    }
}

#[test]
fn valid_vectors_as_one_batch() {
    let v = vectors();
    let mut b = BatchVerifier::new();
    for t in v.iter().filter(|t| t.valid) {
        b.push_msg(&t.msg, t.pubkey, t.sig);
    }
    assert_eq!(b.len(), 9);
    assert_eq!(b.verify([1; 32]), Ok(()));
}

#[test]
fn each_invalid_vector_is_located_among_valid_signatures() {
    let v = vectors();
    let mut rng = batch_support::rng(340);
    let valid = batch_support::signed_items(&mut rng, 20);
    for t in v.iter().filter(|t| !t.valid) {
        for pos in [0usize, 9, 20] {
            let mut b = BatchVerifier::new();
            for (i, it) in valid.iter().enumerate() {
                if i == pos {
                    b.push_msg(&t.msg, t.pubkey, t.sig);
                }
                b.push(it.msg, it.pubkey, it.sig);
            }
            if pos == valid.len() {
                b.push_msg(&t.msg, t.pubkey, t.sig);
            }
            let err = b
                .verify([2; 32])
                .expect_err("invalid vector must fail the batch");
            assert_eq!(err.failing, vec![pos], "vector {} at {pos}", t.index);
        }
    }
}

#[test]
fn all_vectors_in_one_batch_locate_exactly_the_invalid_ones() {
    let v = vectors();
    let mut b = BatchVerifier::new();
    for t in &v {
        b.push_msg(&t.msg, t.pubkey, t.sig);
    }
    let want: Vec<usize> = v
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.valid)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(b.verify([3; 32]).unwrap_err().failing, want);
}
