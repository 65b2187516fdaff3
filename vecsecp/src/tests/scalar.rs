//! Scalars mod n, the GLV split and the digit recoding against num-bigint.

use super::reference::{from_be, n, p, to_be};
use crate::chain::BETA;
use crate::recode::odd_digits;
use crate::scalar::{Scalar, LAMBDA_SCALAR};
use num_bigint::{BigInt, BigUint};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

fn big(s: &Scalar) -> BigUint {
    from_be(&s.to_be())
}

fn rand_scalar(rng: &mut ChaCha20Rng) -> Scalar {
    match rng.gen_range(0..4) {
        0 => Scalar::from_be_reduced(&to_be(&(n() - rng.gen_range(1u32..4)))),
        1 => Scalar::from_be_reduced(&to_be(&BigUint::from(rng.gen_range(0u32..4)))),
        _ => Scalar::from_be_reduced(&rng.gen()),
    }
}

#[test]
fn arithmetic_matches_reference() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let mut batch = Vec::new();
    for _ in 0..300 {
        let (a, b) = (rand_scalar(&mut rng), rand_scalar(&mut rng));
        assert_eq!(big(&a.mul(&b)), big(&a) * big(&b) % n());
        assert_eq!(big(&a.add(&b)), (big(&a) + big(&b)) % n());
        assert_eq!(big(&a.add(&a.neg())), BigUint::from(0u8));
        assert_eq!(a.is_high(), big(&a) > n() >> 1u32);
        batch.push(a);
    }
    let a = Scalar::from_be_reduced(&rng.gen());
    assert_eq!(big(&a.mul(&a.invert())), BigUint::from(1u8));
    let mut inv = batch.clone();
    Scalar::batch_invert(&mut inv);
    for (x, xi) in batch.iter().zip(&inv) {
        let want = if x.is_zero() {
            BigUint::from(0u8)
        } else {
            BigUint::from(1u8)
        };
        assert_eq!(big(&x.mul(xi)), want);
    }
    // Reading bytes: checked refuses n and above, reduced wraps.
    assert!(Scalar::from_be_checked(&to_be(&n())).is_none());
    assert_eq!(
        big(&Scalar::from_be_reduced(&[0xFF; 32])),
        (BigUint::from(1u8) << 256u32) - 1u8 - n()
    );
}

#[test]
fn constants_and_glv_split() {
    let lam = big(&LAMBDA_SCALAR);
    assert_eq!(lam.modpow(&BigUint::from(3u8), &n()), BigUint::from(1u8));
    let beta = super::reference::from_limbs(&BETA);
    assert_eq!(beta.modpow(&BigUint::from(3u8), &p()), BigUint::from(1u8));
    // λ·G = (β·Gx, Gy) through libsecp256k1.
    let g = secp256k1::PublicKey::from_secret_key(
        &secp256k1::SecretKey::from_secret_bytes(to_be(&lam)).expect("valid"),
    )
    .serialize_uncompressed();
    let one = secp256k1::PublicKey::from_secret_key(
        &secp256k1::SecretKey::from_secret_bytes(to_be(&BigUint::from(1u8))).expect("valid"),
    )
    .serialize_uncompressed();
    let gx = from_be(one[1..33].try_into().expect("32"));
    assert_eq!(from_be(g[1..33].try_into().expect("32")), gx * beta % p());
    assert_eq!(g[33..], one[33..]);

    let mut rng = ChaCha20Rng::seed_from_u64(10);
    let signed = |s: &Scalar| -> BigInt {
        let v = BigInt::from(big(s));
        if s.is_high() {
            v - BigInt::from(n())
        } else {
            v
        }
    };
    for _ in 0..2000 {
        let k = rand_scalar(&mut rng);
        let (k1, k2) = k.split_lambda();
        assert_eq!((big(&k1) + big(&k2) * &lam) % n(), big(&k));
        let bound = BigInt::from(1u8) << 128u32;
        assert!(signed(&k1).magnitude() < bound.magnitude(), "k1 small");
        assert!(signed(&k2).magnitude() < bound.magnitude(), "k2 small");
        assert!(k1.to_signed_small().is_some() && k2.to_signed_small().is_some());
    }
}

#[test]
fn odd_digits_recombine() {
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    for _ in 0..2000 {
        let v: u128 = rng.gen::<u128>() | 1;
        for (w, d) in [
            (5, odd_digits::<26>(v, 5).map(|d| d.to_vec())),
            (8, odd_digits::<17>(v, 8).map(|d| d.to_vec())),
        ] {
            let d = d.expect("in range");
            let mut sum = BigInt::from(0u8);
            for (i, &di) in d.iter().enumerate() {
                assert!(di % 2 != 0 && i32::from(di).abs() < 1 << w);
                sum += BigInt::from(di) << (w * i);
            }
            assert_eq!(sum, BigInt::from(v));
        }
    }
    assert!(odd_digits::<26>(2, 5).is_none());
    assert!(
        odd_digits::<26>(u128::MAX, 5).is_some(),
        "2^128 - 1 fits 26 windows of 5 bits"
    );
    assert!(
        odd_digits::<3>(1 << 20 | 1, 5).is_none(),
        "too large for the windows"
    );
}
