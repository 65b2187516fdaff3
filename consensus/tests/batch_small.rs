//! Small batches: below `SINGLE_VERIFY_BELOW` `verify` checks items one by one with
//! libsecp256k1. Both paths must agree with each other and with libsecp256k1 item by
//! item, and locate failures exactly, at every size around the crossover.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod batch_support;

use batch_support::{batch_of, corrupt, libsecp_valid, rng, signed_items};
use rand::Rng;
use sluice_consensus::secp::batch::SINGLE_VERIFY_BELOW;
use sluice_consensus::secp::BatchVerifier;

fn verdict(r: Result<(), sluice_consensus::secp::BatchFailure>) -> Vec<usize> {
    match r {
        Ok(()) => Vec::new(),
        Err(e) => {
            assert!(!e.failing.is_empty(), "a failure names at least one item");
            e.failing
        }
    }
}

#[test]
fn both_paths_agree_with_libsecp_around_the_crossover() {
    let mut r = rng(21);
    for n in 1..=SINGLE_VERIFY_BELOW + 3 {
        for rate in [0.0, 0.3, 1.0] {
            let mut items = signed_items(&mut r, n);
            for it in &mut items {
                if r.gen_bool(rate) {
                    corrupt(it, &mut r);
                }
            }
            let want: Vec<usize> = items
                .iter()
                .enumerate()
                .filter(|(_, it)| !libsecp_valid(it))
                .map(|(i, _)| i)
                .collect();
            let b = batch_of(&items);
            let seed: [u8; 32] = r.gen();
            assert_eq!(verdict(b.verify(seed)), want, "verify n={n} rate={rate}");
            assert_eq!(verdict(b.verify_singly()), want, "singly n={n}");
            assert_eq!(verdict(b.verify_equation(seed)), want, "equation n={n}");
        }
    }
}

#[test]
fn invalid_encodings_in_a_small_batch_are_located() {
    let mut r = rng(22);
    let mut items = signed_items(&mut r, 6);
    items[0].pubkey = [0xFF; 32]; // x ≥ p
    items[2].sig[..32].copy_from_slice(&[0xFF; 32]); // r ≥ p
    items[3].sig[32..].copy_from_slice(&[0xFF; 32]); // s ≥ n
    items[4].pubkey = [0; 32]; // x = 0 is not on the curve
    let b = batch_of(&items);
    assert_eq!(verdict(b.verify([1; 32])), vec![0, 2, 3, 4]);
    assert_eq!(verdict(b.verify_singly()), vec![0, 2, 3, 4]);
    // Below the threshold too.
    let small = batch_of(&items[..SINGLE_VERIFY_BELOW - 1]);
    let want: Vec<usize> = [0, 2, 3, 4]
        .into_iter()
        .filter(|&i| i < SINGLE_VERIFY_BELOW - 1)
        .collect();
    assert_eq!(verdict(small.verify([1; 32])), want);
    assert_eq!(verdict(b.verify_equation([1; 32])), vec![0, 2, 3, 4]);
}

#[test]
fn empty_batch_verifies() {
    let b = BatchVerifier::new();
    assert!(b.is_empty());
    assert_eq!(b.verify([0; 32]), Ok(()));
    assert_eq!(b.verify_singly(), Ok(()));
    assert_eq!(b.verify_equation([0; 32]), Ok(()));
}

#[test]
fn push_msg_of_32_bytes_is_push() {
    let mut r = rng(23);
    let mut items = signed_items(&mut r, 3);
    items[1].sig[50] ^= 4;
    let mut a = BatchVerifier::new();
    let mut b = BatchVerifier::new();
    for it in &items {
        a.push(it.msg, it.pubkey, it.sig);
        b.push_msg(&it.msg, it.pubkey, it.sig);
    }
    assert_eq!(verdict(a.verify([3; 32])), vec![1]);
    assert_eq!(verdict(b.verify([3; 32])), vec![1]);
}

#[test]
fn messages_of_any_length_agree_with_libsecp_on_both_paths() {
    use secp256k1::Keypair;
    let kp = Keypair::from_secret_bytes([7; 32]).unwrap();
    let pk = kp.x_only_public_key().0.to_byte_array();
    let msgs: Vec<Vec<u8>> = [0usize, 1, 31, 32, 33, 100]
        .iter()
        .map(|&n| (0..n).map(|i| u8::try_from(i % 251).unwrap()).collect())
        .collect();
    let mut b = BatchVerifier::new();
    let mut want_failing = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        let sig = secp256k1::schnorr::sign_with_aux_rand(m, &kp, &[1; 32]);
        b.push_msg(m, pk, *sig.as_ref());
        // The same signature presented with one more byte of message must fail.
        let mut longer = m.clone();
        longer.push(0);
        b.push_msg(&longer, pk, *sig.as_ref());
        want_failing.push(2 * i + 1);
    }
    assert_eq!(verdict(b.verify([0; 32])), want_failing);
    assert_eq!(verdict(b.verify_equation([0; 32])), want_failing);
    assert_eq!(verdict(b.verify_singly()), want_failing);
}
