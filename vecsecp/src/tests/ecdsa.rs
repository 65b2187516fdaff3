//! ECDSA verdicts of every backend against libsecp256k1: valid signatures, every invalid
//! form, exceptional group-law cases, mixed in one call.

use super::reference::{from_be, n, to_be};
use crate::verify::{verify_counting, Backend, RawEcdsa};
use num_bigint::BigUint;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use secp256k1::{ecdsa, Message, PublicKey, SecretKey};

pub(crate) fn backends() -> Vec<Backend> {
    [
        Backend::Portable,
        Backend::Ifma,
        Backend::Avx2,
        Backend::Libsecp,
    ]
    .into_iter()
    .filter(|b| b.is_available())
    .collect()
}

/// Asserts that every backend gives libsecp256k1's verdicts, and returns them.
pub(crate) fn check_all(items: &[RawEcdsa]) -> Vec<bool> {
    check_counting(items).0
}

/// [`check_all`], and how many checks the lanes of the portable backend handed to libsecp256k1
/// (the IFMA backend must hand over exactly the same ones).
pub(crate) fn check_counting(items: &[RawEcdsa]) -> (Vec<bool>, usize) {
    let want: Vec<bool> = items.iter().map(RawEcdsa::verify_libsecp).collect();
    let mut fallbacks = None;
    for b in backends() {
        let (got, fb) = verify_counting(b, items);
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

pub(crate) fn rand_valid(rng: &mut ChaCha20Rng) -> RawEcdsa {
    let sk = rand_sk(rng);
    let msg: [u8; 32] = rng.gen();
    let sig = ecdsa::sign(Message::from_digest(msg), &sk);
    RawEcdsa::new(&msg, &sig, &PublicKey::from_secret_key(&sk))
}

fn modn(v: &BigUint) -> BigUint {
    v % n()
}

fn inv(v: &BigUint) -> BigUint {
    v.modpow(&(n() - 2u8), &n())
}

fn sk_of(v: &BigUint) -> SecretKey {
    SecretKey::from_secret_bytes(to_be(&modn(v))).expect("nonzero below n")
}

/// A signature for key c·G that verifies through R = u1·G + u2·(c·G) with the chosen u1, u2
/// (r = x(R) mod n, s = r/u2, z = u1·s; when s is high both u's flip sign, R becomes −R and
/// has the same x). `None` when R is infinity.
fn sig_with(c: &BigUint, u1: &BigUint, u2: &BigUint) -> Option<RawEcdsa> {
    let k = modn(&(u1 + u2 * c));
    if k == BigUint::from(0u8) {
        return None;
    }
    let rpt = PublicKey::from_secret_key(&sk_of(&k)).serialize_uncompressed();
    let r = modn(&from_be(rpt[1..33].try_into().expect("32")));
    let s = modn(&(&r * inv(u2)));
    let z = modn(&(u1 * &s));
    let s = if s > n() >> 1u32 { n() - s } else { s };
    let pk = PublicKey::from_secret_key(&sk_of(c)).serialize_uncompressed();
    Some(RawEcdsa {
        msg: to_be(&z),
        r: to_be(&r),
        s: to_be(&s),
        x: pk[1..33].try_into().expect("32"),
        y: pk[33..].try_into().expect("32"),
    })
}

#[test]
fn random_valid_signatures_verify() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let items: Vec<RawEcdsa> = (0..40).map(|_| rand_valid(&mut rng)).collect();
    let (want, fallbacks) = check_counting(&items);
    assert!(want.iter().all(|&v| v));
    assert_eq!(fallbacks, 0, "generic signatures never leave the lanes");
}

/// Every way a signature can be wrong, each next to valid ones in the same vector.
pub(crate) fn mutants(rng: &mut ChaCha20Rng) -> Vec<RawEcdsa> {
    let nb = to_be(&n());
    let mut out = Vec::new();
    let base = rand_valid(rng);
    let other = rand_valid(rng);
    let mut m = |f: &dyn Fn(&mut RawEcdsa)| {
        let mut v = base;
        f(&mut v);
        out.push(v);
    };
    m(&|v| v.msg[0] ^= 1);
    m(&|v| {
        v.x = other.x;
        v.y = other.y;
    });
    m(&|v| v.r = [0; 32]);
    m(&|v| v.s = [0; 32]);
    m(&|v| v.r = nb);
    m(&|v| v.s = nb);
    m(&|v| v.r = [0xFF; 32]);
    m(&|v| v.s = [0xFF; 32]);
    m(&|v| v.r = to_be(&((from_be(&v.r) + n()) % (BigUint::from(1u8) << 256u32))));
    m(&|v| v.s = to_be(&(n() - from_be(&v.s)))); // high s
    m(&|v| v.y[31] ^= 1); // off the curve
    m(&|v| v.x[31] ^= 1); // off the curve (or another point's x with a wrong y)
    m(&|v| v.y = to_be(&(super::reference::p() - from_be(&v.y)))); // −P: valid key, wrong
    m(&|v| v.x = [0xFF; 32]); // x ≥ p
    m(&|v| {
        v.x = [0; 32];
        v.y = [0; 32];
    });
    m(&|_| {});
    out
}

#[test]
fn invalid_forms_match_libsecp() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut items = mutants(&mut rng);
    items.extend(mutants(&mut rng));
    let want = check_all(&items);
    assert_eq!(
        want.iter().filter(|&&v| v).count(),
        2,
        "only the unmutated ones are valid"
    );
}

#[test]
fn r_from_an_x_coordinate_above_n_verifies() {
    // Find a curve point R with x ≥ n, then a key and (u1, u2) making u1·G + u2·P = R.
    let p = super::reference::p();
    // x = n itself is on the curve, but gives r = 0; start above it.
    let mut x = n() + 1u8;
    let rpt = loop {
        let mut b = [2u8; 33];
        b[1..].copy_from_slice(&to_be(&x));
        if let Ok(pk) = PublicKey::from_slice(&b) {
            break pk;
        }
        x += 1u8;
    };
    assert!(x < p);
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let mut items = Vec::new();
    for _ in 0..6 {
        let u1 = modn(&from_be(&rng.gen()));
        let u2 = modn(&from_be(&rng.gen()));
        // P = u2⁻¹·(R − u1·G).
        let minus_u1g = PublicKey::from_secret_key(&sk_of(&(n() - &u1)));
        let t = rpt.combine(&minus_u1g).expect("not infinity");
        let tweak = secp256k1::Scalar::from_be_bytes(to_be(&inv(&u2))).expect("below n");
        let pk = t
            .mul_tweak(&tweak)
            .expect("nonzero")
            .serialize_uncompressed();
        let r = &x - n();
        let s = modn(&(&r * inv(&u2)));
        let z = modn(&(&u1 * &s));
        let s = if s > n() >> 1u32 { n() - s } else { s };
        items.push(RawEcdsa {
            msg: to_be(&z),
            r: to_be(&r),
            s: to_be(&s),
            x: pk[1..33].try_into().expect("32"),
            y: pk[33..].try_into().expect("32"),
        });
        items.push(rand_valid(&mut rng));
    }
    let want = check_all(&items);
    assert!(
        want.iter().all(|&v| v),
        "the r + n comparison accepts: {want:?}"
    );
}

#[test]
fn exceptional_sums_match_libsecp() {
    // Keys c·G with small c (and −1), scalars that make partial sums meet the table points,
    // and u1·G = −u2·P (R at infinity: constructed with r arbitrary).
    let mut items = Vec::new();
    let mut at_infinity = 0;
    let small = |v: i64| {
        if v >= 0 {
            BigUint::from(v.unsigned_abs())
        } else {
            n() - v.unsigned_abs()
        }
    };
    for c in [1, -1, 2, 3, 7, -16] {
        for (u1, u2) in [
            (1, 1),
            (1, -1),
            (2, 1),
            (1, 2),
            (3, 5),
            (-3, 1),
            (31, 1),
            (256, -1),
        ] {
            let c = small(c);
            let (u1, u2) = (small(u1), small(u2));
            if let Some(v) = sig_with(&c, &u1, &u2) {
                items.push(v);
            }
            // Same key, R = u1·G + u2·P at infinity: u1 = −u2·c.
            let u1_inf = modn(&(n() - modn(&(&u2 * &c))));
            let r = BigUint::from(12345u32);
            let s = modn(&(&r * inv(&u2)));
            let z = modn(&(&u1_inf * &s));
            if s <= n() >> 1u32 {
                at_infinity += 1;
                let pk = PublicKey::from_secret_key(&sk_of(&c)).serialize_uncompressed();
                items.push(RawEcdsa {
                    msg: to_be(&z),
                    r: to_be(&r),
                    s: to_be(&s),
                    x: pk[1..33].try_into().expect("32"),
                    y: pk[33..].try_into().expect("32"),
                });
            }
        }
    }
    let (_, fallbacks) = check_counting(&items);
    // Every lane whose R is infinity notices (Z = 0) and hands the check over.
    assert!(
        fallbacks >= at_infinity,
        "{fallbacks} of {} handed over",
        items.len()
    );
}

#[test]
fn equal_and_opposite_keys_in_lanes() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let sk = rand_sk(&mut rng);
    let mut items = Vec::new();
    for i in 0..16 {
        let msg: [u8; 32] = rng.gen();
        // The same key in every lane, half of the signatures made by its negation.
        let k = if i % 2 == 0 { sk } else { sk.negate() };
        let sig = ecdsa::sign(Message::from_digest(msg), &k);
        items.push(RawEcdsa::new(&msg, &sig, &PublicKey::from_secret_key(&k)));
        // The same message and signature under the opposite key: invalid.
        let mut opp = items[items.len() - 1];
        let neg = PublicKey::from_secret_key(&k.negate()).serialize_uncompressed();
        opp.y.copy_from_slice(&neg[33..]);
        items.push(opp);
    }
    let want = check_all(&items);
    assert_eq!(want.iter().filter(|&&v| v).count(), 16);
}

#[test]
fn mixed_vectors_of_every_length() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let mut pool = mutants(&mut rng);
    for _ in 0..20 {
        pool.push(rand_valid(&mut rng));
    }
    for len in [1, 2, 7, 8, 9, 17] {
        let items: Vec<RawEcdsa> = (0..len)
            .map(|_| pool[rng.gen_range(0..pool.len())])
            .collect();
        check_all(&items);
    }
}
