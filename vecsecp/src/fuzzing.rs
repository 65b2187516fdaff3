//! A differential check from arbitrary bytes, shared by the fuzz target
//! (`fuzz/fuzz_targets/vecsecp_vs_libsecp.rs`) and a unit test: the bytes become a mixed
//! vector of ECDSA and BIP340 checks (real signatures, mutated ones, raw values), and every
//! available backend must return libsecp256k1's verdict for each.

use crate::bip340::{verify_schnorr_raw, RawSchnorr};
use crate::verify::{verify_ecdsa_raw, Backend, RawEcdsa};
use secp256k1::{ecdsa, Keypair, Message, PublicKey, SecretKey};

/// Bytes consumed per check.
const CHUNK: usize = 98;

/// Panics when any backend disagrees with libsecp256k1 on the checks `data` describes.
pub fn differential_check(data: &[u8]) {
    let mut ecdsa_items = Vec::new();
    let mut schnorr_items = Vec::new();
    for c in data.chunks_exact(CHUNK) {
        let (mode, at, sk_bytes, msg, extra) = (c[0], c[1], &c[2..34], &c[34..66], &c[66..98]);
        let mut msg32 = [0u8; 32];
        msg32.copy_from_slice(msg);
        let mut ex = [0u8; 32];
        ex.copy_from_slice(extra);
        let mut skb = [0u8; 32];
        skb.copy_from_slice(sk_bytes);
        let sk = SecretKey::from_secret_bytes(skb).ok();
        if mode & 1 == 0 {
            let mut it = match sk {
                Some(sk) => {
                    let sig = ecdsa::sign(Message::from_digest(msg32), &sk);
                    RawEcdsa::new(&msg32, &sig, &PublicKey::from_secret_key(&sk))
                }
                None => RawEcdsa {
                    msg: msg32,
                    r: skb,
                    s: ex,
                    x: ex,
                    y: skb,
                },
            };
            match (mode >> 1) % 6 {
                1 => it.r[usize::from(at % 32)] ^= 1 << (at % 8),
                2 => it.s[usize::from(at % 32)] ^= 1 << (at % 8),
                3 => it.r = ex,
                4 => it.y[usize::from(at % 32)] ^= 1 << (at % 8),
                5 => it.msg[usize::from(at % 32)] ^= 1,
                _ => {}
            }
            ecdsa_items.push(it);
        } else {
            let mut it = match sk {
                Some(sk) => {
                    let kp = Keypair::from_secret_key(&sk);
                    let sig = secp256k1::schnorr::sign_no_aux_rand(&msg32, &kp);
                    RawSchnorr::new(&msg32, &sig, &kp.x_only_public_key().0)
                }
                None => {
                    let mut sig = [0u8; 64];
                    sig[..32].copy_from_slice(&ex);
                    sig[32..].copy_from_slice(&skb);
                    RawSchnorr {
                        msg: msg32,
                        sig,
                        x: ex,
                    }
                }
            };
            match (mode >> 1) % 5 {
                1 => it.sig[usize::from(at % 64)] ^= 1 << (at % 8),
                2 => it.sig[..32].copy_from_slice(&ex),
                3 => it.x = ex,
                4 => it.msg[usize::from(at % 32)] ^= 1,
                _ => {}
            }
            schnorr_items.push(it);
        }
    }
    let want_e: Vec<bool> = ecdsa_items.iter().map(RawEcdsa::verify_libsecp).collect();
    let want_s: Vec<bool> = schnorr_items
        .iter()
        .map(RawSchnorr::verify_libsecp)
        .collect();
    for b in [Backend::Ifma, Backend::Avx2, Backend::Portable] {
        if b.is_available() {
            assert_eq!(
                verify_ecdsa_raw(b, &ecdsa_items),
                want_e,
                "ECDSA, backend {b:?}"
            );
            assert_eq!(
                verify_schnorr_raw(b, &schnorr_items),
                want_s,
                "BIP340, backend {b:?}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    #[test]
    fn random_inputs_agree() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(31);
        for _ in 0..6 {
            let len = rng.gen_range(0..super::CHUNK * 20);
            let data: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            super::differential_check(&data);
        }
    }
}
