//! BIP340 verdicts of every backend against libsecp256k1.

use super::reference::{from_be, n, p, to_be};
use crate::bip340::{schnorr_counting, RawSchnorr};
use crate::verify::Backend;
use num_bigint::BigUint;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use secp256k1::{Keypair, PublicKey, SecretKey};
use sha2::{Digest, Sha256};

fn check_counting(items: &[RawSchnorr]) -> (Vec<bool>, usize) {
    let want: Vec<bool> = items.iter().map(RawSchnorr::verify_libsecp).collect();
    let mut fallbacks = None;
    for b in super::ecdsa::backends() {
        let (got, fb) = schnorr_counting(b, items);
        if b != Backend::Libsecp {
            assert_eq!(*fallbacks.get_or_insert(fb), fb, "backends fall back alike");
        }
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "backend {b:?}, item {i}: {:?}", items[i]);
        }
    }
    (want, fallbacks.unwrap_or(0))
}

fn rand_sk(rng: &mut ChaCha20Rng) -> SecretKey {
    loop {
        if let Ok(k) = SecretKey::from_secret_bytes(rng.gen()) {
            return k;
        }
    }
}

fn rand_valid(rng: &mut ChaCha20Rng) -> RawSchnorr {
    let kp = Keypair::from_secret_key(&rand_sk(rng));
    let msg: [u8; 32] = rng.gen();
    let sig = secp256k1::schnorr::sign_no_aux_rand(&msg, &kp);
    RawSchnorr::new(&msg, &sig, &kp.x_only_public_key().0)
}

fn challenge(r: &[u8; 32], x: &[u8; 32], m: &[u8; 32]) -> BigUint {
    let tag = Sha256::digest(b"BIP0340/challenge");
    let h = Sha256::new()
        .chain_update(tag)
        .chain_update(tag)
        .chain_update(r)
        .chain_update(x);
    from_be(&h.chain_update(m).finalize().into()) % n()
}

fn point(k: &BigUint) -> [u8; 65] {
    let sk = SecretKey::from_secret_bytes(to_be(&(k % n()))).expect("nonzero");
    PublicKey::from_secret_key(&sk).serialize_uncompressed()
}

/// A signature by key c with nonce point R = k·G used as is (no parity fix): invalid exactly
/// when R has an odd y (or when the key's y is odd, since the verifier lifts an even one).
fn sig_with_nonce(c: &BigUint, k: &BigUint, msg: &[u8; 32]) -> RawSchnorr {
    let pk = point(c);
    let x: [u8; 32] = pk[1..33].try_into().expect("32");
    let c = if pk[64] & 1 == 1 { n() - c } else { c.clone() };
    let rpt = point(k);
    let r: [u8; 32] = rpt[1..33].try_into().expect("32");
    let e = challenge(&r, &x, msg);
    let s = (k + e * c) % n();
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&r);
    sig[32..].copy_from_slice(&to_be(&s));
    RawSchnorr { msg: *msg, sig, x }
}

#[test]
fn random_valid_signatures_verify() {
    let mut rng = ChaCha20Rng::seed_from_u64(21);
    let items: Vec<RawSchnorr> = (0..24).map(|_| rand_valid(&mut rng)).collect();
    let (want, fallbacks) = check_counting(&items);
    assert!(want.iter().all(|&v| v));
    assert_eq!(fallbacks, 0);
}

#[test]
fn invalid_forms_match_libsecp() {
    let mut rng = ChaCha20Rng::seed_from_u64(22);
    let nb = to_be(&n());
    let pb = to_be(&p());
    let mut items = Vec::new();
    for _ in 0..2 {
        let base = rand_valid(&mut rng);
        let other = rand_valid(&mut rng);
        let mut m = |f: &dyn Fn(&mut RawSchnorr)| {
            let mut v = base;
            f(&mut v);
            items.push(v);
        };
        m(&|v| v.msg[0] ^= 1);
        m(&|v| v.x = other.x);
        m(&|v| v.sig[..32].copy_from_slice(&pb)); // r = p
        m(&|v| v.sig[..32].copy_from_slice(&[0xFF; 32])); // r > p
        m(&|v| v.sig[32..].copy_from_slice(&nb)); // s = n
        m(&|v| v.sig[32..].copy_from_slice(&[0xFF; 32])); // s > n
        m(&|v| v.sig[63] ^= 1);
        m(&|v| v.sig[0] ^= 1); // another r: usually not an x at all
        m(&|v| v.x = pb); // x = p
        m(&|v| v.x = [0; 32]); // x = 0: 7 is not a square mod p
        m(&|v| v.x[31] ^= 1); // another x: half the time not on the curve
        m(&|v| v.sig[32..].copy_from_slice(&[0; 32])); // s = 0
        m(&|_| {});
    }
    // R with an odd y (and keys of both parities), mixed with valid ones.
    for i in 0..12u32 {
        let c = from_be(&rng.gen()) % n();
        let k = from_be(&rng.gen()) % n() + BigUint::from(i);
        items.push(sig_with_nonce(&c, &k, &rng.gen()));
    }
    let (want, _) = check_counting(&items);
    assert!(want.iter().any(|&v| v) && want.iter().any(|&v| !v));
}

#[test]
fn r_at_infinity_is_handed_over() {
    // s·G = e·P: R is infinity, whatever r says.
    let mut rng = ChaCha20Rng::seed_from_u64(23);
    let mut items = Vec::new();
    for _ in 0..10 {
        let c = from_be(&rng.gen()) % n();
        let pk = point(&c);
        let x: [u8; 32] = pk[1..33].try_into().expect("32");
        let c = if pk[64] & 1 == 1 { n() - c } else { c };
        let r = point(&BigUint::from(rng.gen::<u64>()));
        let r: [u8; 32] = r[1..33].try_into().expect("32");
        let msg: [u8; 32] = rng.gen();
        let s = challenge(&r, &x, &msg) * c % n();
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&r);
        sig[32..].copy_from_slice(&to_be(&s));
        items.push(RawSchnorr { msg, sig, x });
        items.push(rand_valid(&mut rng));
    }
    let (want, fallbacks) = check_counting(&items);
    assert_eq!(want.iter().filter(|&&v| v).count(), 10);
    assert_eq!(fallbacks, 10);
}
