//! Deferred BIP340 checks verified in vector lanes (`verify_schnorr_items`): for every backend
//! this CPU runs, the failing indices are exactly those libsecp256k1 rejects, over valid
//! signatures mixed with every invalid form in one group.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use secp256k1::{schnorr, Keypair, XOnlyPublicKey};
use sluice_consensus::script::deferred::{schnorr_in_lanes, verify_schnorr_items, EcdsaBackend};
use sluice_consensus::sigcheck::SchnorrItem;

/// The field prime p, big-endian: an r or key x at or above it is not a coordinate.
const P: [u8; 32] = {
    let mut p = [0xff; 32];
    p[27] = 0xfe;
    p[30] = 0xfc;
    p[31] = 0x2f;
    p
};

/// The group order n, big-endian.
const N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

fn valid(rng: &mut ChaCha20Rng) -> SchnorrItem {
    let kp = loop {
        if let Ok(kp) = Keypair::from_secret_bytes(rng.gen()) {
            break kp;
        }
    };
    let msg: [u8; 32] = rng.gen();
    let sig = schnorr::sign_with_aux_rand(&msg, &kp, &rng.gen());
    SchnorrItem {
        msg,
        pubkey: kp.x_only_public_key().0.to_byte_array(),
        sig: sig.to_byte_array(),
    }
}

/// The smallest x with no point on the curve (x³ + 7 not a square).
fn off_curve_x() -> [u8; 32] {
    (1u8..=255)
        .map(|v| {
            let mut x = [0; 32];
            x[31] = v;
            x
        })
        .find(|x| XOnlyPublicKey::from_byte_array(*x).is_err())
        .expect("half of all x are off the curve")
}

fn libsecp(it: &SchnorrItem) -> bool {
    XOnlyPublicKey::from_byte_array(it.pubkey).is_ok_and(|pk| {
        schnorr::verify(&schnorr::Signature::from_byte_array(it.sig), &it.msg, &pk).is_ok()
    })
}

/// Valid signatures and, every few, one broken in one of the ways a spender could break it.
fn mixed(rng: &mut ChaCha20Rng, n: usize) -> Vec<SchnorrItem> {
    let other = valid(rng);
    (0..n)
        .map(|i| {
            let mut it = valid(rng);
            match i % 11 {
                1 => it.msg[0] ^= 1,
                2 => it.pubkey = other.pubkey,
                3 => it.sig[..32].copy_from_slice(&P),
                4 => it.sig[32..].copy_from_slice(&N),
                5 => it.sig[32..].fill(0),
                6 => it.pubkey = P,
                7 => it.sig[63] ^= 0x80,
                8 => it.sig[..32].copy_from_slice(&other.sig[..32]),
                9 => it.pubkey = off_curve_x(),
                _ => {}
            }
            it
        })
        .collect()
}

#[test]
fn lanes_fail_exactly_what_libsecp256k1_rejects_for_every_backend() {
    let mut rng = ChaCha20Rng::seed_from_u64(340);
    for n in [1usize, 7, 8, 9, 64, 301] {
        let items = mixed(&mut rng, n);
        let want: Vec<usize> = (0..n).filter(|&i| !libsecp(&items[i])).collect();
        assert!(
            n < 2 || !want.is_empty(),
            "the mix holds invalid signatures"
        );
        for backend in common::ecdsa_backends() {
            let got = verify_schnorr_items(backend, &items).unwrap();
            assert_eq!(got, want, "{backend:?}, n = {n}");
        }
    }
}

#[test]
fn only_vector_backends_take_mid_sized_sets_into_lanes() {
    use sluice_consensus::script::deferred::SCHNORR_LANES_UP_TO;
    use sluice_consensus::secp::batch::SINGLE_VERIFY_BELOW;
    let mid = SINGLE_VERIFY_BELOW;
    assert!(!schnorr_in_lanes(None, mid));
    assert!(!schnorr_in_lanes(Some(EcdsaBackend::Libsecp), mid));
    for b in [
        EcdsaBackend::Portable,
        EcdsaBackend::Ifma,
        EcdsaBackend::Avx2,
    ] {
        assert!(schnorr_in_lanes(Some(b), mid));
        assert!(schnorr_in_lanes(Some(b), SCHNORR_LANES_UP_TO));
        assert!(!schnorr_in_lanes(Some(b), mid - 1));
        assert!(!schnorr_in_lanes(Some(b), SCHNORR_LANES_UP_TO + 1));
    }
}
