//! Coefficients that depend only on each signature let two invalid signatures cancel. The
//! attacks are mounted against such variants (built here from the public arithmetic) and
//! must be rejected by `BatchVerifier`, whose coefficients hash the whole batch.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod batch_support;

use batch_support::{libsecp_valid, rng, signed_items, Item};
use rand::Rng;
use sha2::{Digest, Sha256};
use sluice_consensus::secp::group::Affine;
use sluice_consensus::secp::msm::Terms;
use sluice_consensus::secp::scalar::Scalar;
use sluice_consensus::secp::schnorr::challenge;
use sluice_consensus::secp::BatchVerifier;

/// k·G, with k replaced by -k when needed so the point has even y (BIP340 convention).
fn even_point(k: &mut Scalar) -> Affine {
    let mut t = Terms::default();
    t.push_full(&Affine::GENERATOR, k);
    let p = t.sum().to_affine();
    if p.y.is_odd() {
        *k = k.negate();
        p.neg()
    } else {
        p
    }
}

fn random_scalar(r: &mut impl Rng) -> Scalar {
    Scalar::from_bytes_reduced(&r.gen())
}

/// The flawed batch check: Σ aᵢ(sᵢG − Rᵢ − eᵢPᵢ) = O with aᵢ from `coeff(item)` alone.
fn per_signature_batch_holds(items: &[Item], coeff: impl Fn(&Item) -> u128) -> bool {
    let mut terms = Terms::default();
    let mut s_sum = Scalar::ZERO;
    for it in items {
        let p = Affine::from_xonly(&it.pubkey).unwrap();
        let r_bytes: [u8; 32] = it.sig[..32].try_into().unwrap();
        let r = Affine::from_xonly(&r_bytes).unwrap();
        let s = Scalar::from_bytes(&it.sig[32..].try_into().unwrap()).unwrap();
        let e = challenge(&r_bytes, &it.pubkey, &it.msg);
        let a_u = coeff(it);
        let a = Scalar::from_u128(a_u);
        s_sum = s_sum.add(&a.mul(&s));
        terms.push_u128(&r, true, a_u);
        terms.push_full(&p, &a.mul(&e).negate());
    }
    terms.push_full(&Affine::GENERATOR, &s_sum);
    terms.sum().is_infinity()
}

/// The two attack items at indices 3 and 4 among six valid signatures, so the batch is large
/// enough for `verify` to use the batch equation (and bisection to evaluate it on halves):
/// with two items alone they would only be checked one by one.
fn padded_batch(r: &mut rand_chacha::ChaCha8Rng, attack: &[Item]) -> BatchVerifier {
    let pad = signed_items(r, 6);
    let mut b = BatchVerifier::new();
    for it in pad[..3].iter().chain(attack).chain(&pad[3..]) {
        b.push(it.msg, it.pubkey, it.sig);
    }
    assert!(b.len() >= sluice_consensus::secp::batch::SINGLE_VERIFY_BELOW);
    b
}

fn h128(parts: &[&[u8]]) -> u128 {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    let d: [u8; 32] = h.finalize().into();
    u128::from_le_bytes(d[..16].try_into().unwrap())
}

fn sig_bytes(r: &Affine, s: &Scalar) -> [u8; 64] {
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&r.x.to_bytes());
    sig[32..].copy_from_slice(&s.to_bytes());
    sig
}

/// Variant A: aᵢ = H(sigᵢ). One signature (R, s) is submitted for two messages under the same
/// key with s = k + x·(e₁ + e₂)/2: each is invalid (errors ±x(e₂ − e₁)/2·G) but with equal
/// coefficients the errors cancel.
#[test]
fn coefficient_from_signature_only_is_broken_and_we_reject() {
    let mut r = rng(66);
    let mut x = random_scalar(&mut r);
    let p = even_point(&mut x);
    let mut k = random_scalar(&mut r);
    let big_r = even_point(&mut k);
    let pk = p.x.to_bytes();
    let (m1, m2): ([u8; 32], [u8; 32]) = (r.gen(), r.gen());
    let rx = big_r.x.to_bytes();
    let e1 = challenge(&rx, &pk, &m1);
    let e2 = challenge(&rx, &pk, &m2);
    let half = Scalar::from_u128(2).invert();
    assert_eq!(half.add(&half), Scalar::ONE);
    let s = k.add(&x.mul(&e1.add(&e2).mul(&half)));
    let sig = sig_bytes(&big_r, &s);
    let items = [
        Item {
            msg: m1,
            pubkey: pk,
            sig,
        },
        Item {
            msg: m2,
            pubkey: pk,
            sig,
        },
    ];
    assert!(!libsecp_valid(&items[0]) && !libsecp_valid(&items[1]));
    assert!(
        per_signature_batch_holds(&items, |it| h128(&[&it.sig])),
        "the flawed variant accepts two invalid signatures"
    );
    let b = padded_batch(&mut r, &items);
    for seed in 0..3u8 {
        assert_eq!(b.verify([seed; 32]).unwrap_err().failing, vec![3, 4]);
        assert_eq!(
            b.verify_equation([seed; 32]).unwrap_err().failing,
            vec![3, 4]
        );
    }
}

/// Variant B: aᵢ = H(Rᵢ || Pᵢ || mᵢ) (everything but s). The signer learns a₁, a₂ before choosing
/// s, adds t to s₁ and −a₁t/a₂ to s₂.
#[test]
fn coefficient_not_binding_s_is_broken_and_we_reject() {
    let mut r = rng(67);
    let coeff = |it: &Item| h128(&[&it.sig[..32], &it.pubkey, &it.msg]);
    let mut items = Vec::new();
    let mut valid_s = Vec::new();
    for _ in 0..2 {
        let mut x = random_scalar(&mut r);
        let p = even_point(&mut x);
        let mut k = random_scalar(&mut r);
        let big_r = even_point(&mut k);
        let msg: [u8; 32] = r.gen();
        let e = challenge(&big_r.x.to_bytes(), &p.x.to_bytes(), &msg);
        let s = k.add(&e.mul(&x));
        valid_s.push(s);
        items.push(Item {
            msg,
            pubkey: p.x.to_bytes(),
            sig: sig_bytes(&big_r, &s),
        });
    }
    assert!(items.iter().all(libsecp_valid));
    let a1 = Scalar::from_u128(coeff(&items[0]));
    let a2 = Scalar::from_u128(coeff(&items[1]));
    let t = random_scalar(&mut r);
    let inv = a2.invert();
    assert_eq!(inv.mul(&a2), Scalar::ONE);
    let s1 = valid_s[0].add(&t);
    let s2 = valid_s[1].add(&a1.mul(&t).mul(&inv).negate());
    items[0].sig[32..].copy_from_slice(&s1.to_bytes());
    items[1].sig[32..].copy_from_slice(&s2.to_bytes());
    assert!(!libsecp_valid(&items[0]) && !libsecp_valid(&items[1]));
    assert!(per_signature_batch_holds(&items, coeff));
    let b = padded_batch(&mut r, &items);
    assert_eq!(b.verify([5; 32]).unwrap_err().failing, vec![3, 4]);
    assert_eq!(b.verify_equation([5; 32]).unwrap_err().failing, vec![3, 4]);
}
