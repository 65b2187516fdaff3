//! Random batches signed by libsecp256k1: acceptance, exact location of corruptions, and
//! item-by-item agreement with libsecp256k1's single verification.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod batch_support;

use batch_support::{batch_of, corrupt, libsecp_valid, rng, signed_items};
use rand::Rng;
use sluice_consensus::secp::group::Affine;
use sluice_consensus::secp::msm::Terms;
use sluice_consensus::secp::scalar::Scalar;
use sluice_consensus::secp::{verify_schnorr, BatchVerifier};

#[test]
fn public_key_derivation_matches_libsecp() {
    let mut r = rng(1);
    for _ in 0..64 {
        let mut sk = [0u8; 32];
        r.fill(&mut sk);
        let Ok(secret) = secp256k1::SecretKey::from_secret_bytes(sk) else {
            continue;
        };
        let want = secp256k1::PublicKey::from_secret_key(&secret).serialize_uncompressed();
        let mut terms = Terms::default();
        terms.push_full(&Affine::GENERATOR, &Scalar::from_bytes(&sk).unwrap());
        let got = terms.sum().to_affine();
        assert_eq!(&want[1..33], &got.x.to_bytes());
        assert_eq!(&want[33..65], &got.y.to_bytes());
    }
}

#[test]
fn single_verification_agrees_with_libsecp() {
    let mut r = rng(2);
    let mut items = signed_items(&mut r, 64);
    for (i, it) in items.iter_mut().enumerate() {
        if i % 2 == 1 {
            corrupt(it, &mut r);
        }
        assert_eq!(
            verify_schnorr(&it.msg, &it.pubkey, &it.sig),
            libsecp_valid(it),
            "item {i}"
        );
    }
}

#[test]
fn valid_batches_of_many_sizes_are_accepted() {
    let mut r = rng(3);
    let all = signed_items(&mut r, 4096);
    for n in [0usize, 1, 2, 3, 7, 64, 255, 1024, 4096] {
        let b = batch_of(&all[..n]);
        assert_eq!(b.len(), n);
        assert_eq!(b.verify(r.gen()), Ok(()), "size {n}");
    }
}

#[test]
fn one_corruption_anywhere_is_located() {
    let mut r = rng(4);
    let base = signed_items(&mut r, 255);
    for round in 0..24 {
        let mut items = base.clone();
        let pos = match round {
            0 => 0,
            1 => 254,
            _ => r.gen_range(0..255),
        };
        corrupt(&mut items[pos], &mut r);
        let err = batch_of(&items).verify(r.gen()).unwrap_err();
        assert_eq!(err.failing, vec![pos], "round {round}");
    }
}

#[test]
fn several_corruptions_are_all_located() {
    let mut r = rng(5);
    let base = signed_items(&mut r, 1024);
    for count in [2usize, 3, 17] {
        let mut items = base.clone();
        let mut want: Vec<usize> = Vec::new();
        while want.len() < count {
            let p = r.gen_range(0..items.len());
            if !want.contains(&p) {
                want.push(p);
            }
        }
        for &p in &want {
            corrupt(&mut items[p], &mut r);
        }
        want.sort_unstable();
        assert_eq!(batch_of(&items).verify(r.gen()).unwrap_err().failing, want);
    }
    // Every signature bad.
    let mut items = base[..40].to_vec();
    for it in &mut items {
        corrupt(it, &mut r);
    }
    let err = batch_of(&items).verify([9; 32]).unwrap_err();
    assert_eq!(err.failing, (0..40).collect::<Vec<_>>());
}

#[test]
fn random_mixes_agree_with_libsecp_item_by_item() {
    let mut r = rng(6);
    for round in 0..6 {
        let n = [5usize, 33, 100, 300, 64, 9][round];
        let mut items = signed_items(&mut r, n);
        let rate: f64 = [0.1, 0.3, 0.5, 0.02, 0.9, 0.0][round];
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
        let got = match batch_of(&items).verify(r.gen()) {
            Ok(()) => Vec::new(),
            Err(e) => e.failing,
        };
        assert_eq!(got, want, "round {round}");
    }
}

#[test]
fn invalid_encodings_fail_without_panicking() {
    let mut r = rng(7);
    let mut items = signed_items(&mut r, 10);
    items[1].pubkey = [0xFF; 32]; // ≥ p
    items[3].sig[..32].copy_from_slice(&[0xFF; 32]); // r ≥ p
    items[5].sig[32..].copy_from_slice(&[0xFF; 32]); // s ≥ n
    items[7].pubkey = [0; 32]; // x = 0: 7 is not a square mod p, so not on the curve
    let mut b = BatchVerifier::with_capacity(10);
    for it in &items {
        b.push(it.msg, it.pubkey, it.sig);
    }
    assert_eq!(b.verify([0; 32]).unwrap_err().failing, vec![1, 3, 5, 7]);
}

#[test]
fn verdict_does_not_depend_on_randomness() {
    let mut r = rng(8);
    let mut items = signed_items(&mut r, 50);
    corrupt(&mut items[20], &mut r);
    let b = batch_of(&items);
    for seed in 0..4u8 {
        assert_eq!(b.verify([seed; 32]).unwrap_err().failing, vec![20]);
    }
}

#[test]
fn repeated_keys_are_handled() {
    use secp256k1::Keypair;
    let mut r = rng(9);
    let kp = Keypair::from_secret_bytes([0x42; 32]).unwrap();
    let pubkey = kp.x_only_public_key().0.to_byte_array();
    let mut items: Vec<batch_support::Item> = (0..40)
        .map(|_| {
            let msg: [u8; 32] = r.gen();
            let sig = secp256k1::schnorr::sign_with_aux_rand(&msg, &kp, &r.gen());
            batch_support::Item {
                msg,
                pubkey,
                sig: *sig.as_ref(),
            }
        })
        .collect();
    items.extend(signed_items(&mut r, 10));
    assert_eq!(batch_of(&items).verify(r.gen()), Ok(()));
    items[13].msg[0] ^= 1;
    items[44].pubkey = [0; 32]; // invalid key, then reused
    items[45].pubkey = [0; 32];
    let err = batch_of(&items).verify(r.gen()).unwrap_err();
    assert_eq!(err.failing, vec![13, 44, 45]);
}

#[test]
fn duplicated_items_are_handled() {
    let mut r = rng(10);
    let base = signed_items(&mut r, 100);
    // Every item twice: identical R and P points meet in the same buckets (doubling paths).
    let mut items: Vec<_> = base.iter().chain(base.iter()).copied().collect();
    assert_eq!(batch_of(&items).verify(r.gen()), Ok(()));
    items[7].sig[40] ^= 0x10;
    items[107] = items[7];
    assert_eq!(
        batch_of(&items).verify(r.gen()).unwrap_err().failing,
        vec![7, 107]
    );
}

#[test]
fn few_keys_many_signatures_locates_each_bad_one() {
    use secp256k1::Keypair;
    // 6 keys × 60 signatures: the batch merges each key's terms into one, large enough for
    // Pippenger. Corruptions under a shared key must still be found one by one.
    let mut r = rng(11);
    let keys: Vec<Keypair> = (1..=6u8)
        .map(|i| Keypair::from_secret_bytes([i; 32]).unwrap())
        .collect();
    let mut items: Vec<batch_support::Item> = (0..360)
        .map(|i| {
            let kp = &keys[i % keys.len()];
            let msg: [u8; 32] = r.gen();
            let sig = secp256k1::schnorr::sign_with_aux_rand(&msg, kp, &r.gen());
            batch_support::Item {
                msg,
                pubkey: kp.x_only_public_key().0.to_byte_array(),
                sig: *sig.as_ref(),
            }
        })
        .collect();
    assert_eq!(batch_of(&items).verify(r.gen()), Ok(()));
    // Same key (index ≡ 2 mod 6): a bad s, a bad message, and a signature moved to another
    // message of the same key.
    items[2].sig[63] ^= 1;
    items[8].msg[5] ^= 0x80;
    items[14].sig = items[20].sig;
    let err = batch_of(&items).verify(r.gen()).unwrap_err();
    assert_eq!(err.failing, vec![2, 8, 14]);
    assert!(err.failing.iter().all(|&i| !libsecp_valid(&items[i])));
}
