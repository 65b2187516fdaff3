//! Shared fixtures for the batch Schnorr tests: signatures made with libsecp256k1.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use secp256k1::{schnorr, Keypair, XOnlyPublicKey};

/// One signed item as the batch verifier takes it.
#[derive(Clone, Copy, Debug)]
pub struct Item {
    pub msg: [u8; 32],
    pub pubkey: [u8; 32],
    pub sig: [u8; 64],
}

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A valid BIP340 signature by a random key on a random message (libsecp256k1 signs).
pub fn signed_item(rng: &mut ChaCha8Rng) -> Item {
    let mut sk = [0u8; 32];
    rng.fill(&mut sk);
    let kp = Keypair::from_secret_bytes(sk).expect("random key is valid");
    let mut msg = [0u8; 32];
    rng.fill(&mut msg);
    let mut aux = [0u8; 32];
    rng.fill(&mut aux);
    let sig = secp256k1::schnorr::sign_with_aux_rand(&msg, &kp, &aux);
    Item {
        msg,
        pubkey: kp.x_only_public_key().0.to_byte_array(),
        sig: *sig.as_ref(),
    }
}

pub fn signed_items(rng: &mut ChaCha8Rng, n: usize) -> Vec<Item> {
    (0..n).map(|_| signed_item(rng)).collect()
}

/// libsecp256k1's verdict on one item (the oracle).
pub fn libsecp_valid(item: &Item) -> bool {
    let Ok(pk) = XOnlyPublicKey::from_byte_array(item.pubkey) else {
        return false;
    };
    let sig = schnorr::Signature::from_byte_array(item.sig);
    secp256k1::schnorr::verify(&sig, &item.msg, &pk).is_ok()
}

pub fn batch_of(items: &[Item]) -> sluice_consensus::secp::BatchVerifier {
    let mut b = sluice_consensus::secp::BatchVerifier::new();
    for it in items {
        b.push(it.msg, it.pubkey, it.sig);
    }
    b
}

/// Flips one bit in the signature's r half, s half, the message or the key.
pub fn corrupt(item: &mut Item, rng: &mut ChaCha8Rng) {
    let bit = 1u8 << rng.gen_range(0..8);
    match rng.gen_range(0..4) {
        0 => item.sig[rng.gen_range(0..32)] ^= bit,
        1 => item.sig[rng.gen_range(32..64)] ^= bit,
        2 => item.msg[rng.gen_range(0..32)] ^= bit,
        _ => item.pubkey[rng.gen_range(0..32)] ^= bit,
    }
}
