//! BIP340 Schnorr signature verification, one signature at a time.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use super::field::Fe;
use super::group::Affine;
use super::msm::Terms;
use super::scalar::Scalar;
/// BIP340 challenge `e = int(hash_BIP0340/challenge(r || P || m)) mod n`.
///
/// Same as `crate::hash::tagged_hash(b"BIP0340/challenge", ..)` but resumes from the hash state
/// after the two tag-hash blocks, computed once (a unit test checks the equivalence).
#[must_use]
pub fn challenge(r: &[u8; 32], pubkey: &[u8; 32], msg: &[u8]) -> Scalar {
    static MIDSTATE: OnceLock<Sha256> = OnceLock::new();
    let mut h = MIDSTATE
        .get_or_init(|| {
            let tag = crate::hash::sha256(b"BIP0340/challenge");
            let mut h = Sha256::new();
            h.update(tag);
            h.update(tag);
            h
        })
        .clone();
    h.update(r);
    h.update(pubkey);
    h.update(msg);
    Scalar::from_bytes_reduced(&h.finalize().into())
}

/// Splits a 64-byte signature into its `r` (x-coordinate bytes) and `s` halves.
#[must_use]
pub fn split_sig(sig: &[u8; 64]) -> ([u8; 32], [u8; 32]) {
    let mut r = [0u8; 32];
    let mut s = [0u8; 32];
    r.copy_from_slice(&sig[..32]);
    s.copy_from_slice(&sig[32..]);
    (r, s)
}

/// BIP340 `Verify(pk, m, sig)` for a message of any length.
#[must_use]
pub fn verify_schnorr(msg: &[u8], pubkey: &[u8; 32], sig: &[u8; 64]) -> bool {
    let Some(p) = Affine::from_xonly(pubkey) else {
        return false;
    };
    let (r_bytes, s_bytes) = split_sig(sig);
    let Some(r) = Fe::from_bytes(&r_bytes) else {
        return false;
    };
    let Some(s) = Scalar::from_bytes(&s_bytes) else {
        return false;
    };
    let e = challenge(&r_bytes, pubkey, msg);
    verify_parsed(&p, &r, &s, &e)
}

/// The algebraic check once everything is decoded: R = s·G − e·P must be finite, have even y
/// and x(R) = r.
#[must_use]
pub fn verify_parsed(p: &Affine, r: &Fe, s: &Scalar, e: &Scalar) -> bool {
    let mut terms = Terms::with_capacity(4);
    terms.add_g(s);
    terms.push_full(p, &e.negate());
    let big_r = terms.strauss().to_affine();
    !big_r.infinity && !big_r.y.is_odd() && big_r.x.equals(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_midstate_matches_tagged_hash() {
        for len in [0usize, 1, 32, 100] {
            let msg = vec![0xA5; len];
            let data = [[1u8; 32].as_slice(), &[2u8; 32], &msg].concat();
            let want = crate::hash::tagged_hash(b"BIP0340/challenge", &data);
            assert_eq!(
                challenge(&[1; 32], &[2; 32], &msg),
                Scalar::from_bytes_reduced(&want)
            );
        }
    }

    #[test]
    fn rejects_bad_encodings_without_panicking() {
        assert!(!verify_schnorr(&[0; 32], &[0xFF; 32], &[0; 64]));
        assert!(!verify_schnorr(&[0; 32], &[0; 32], &[0xFF; 64]));
    }
}
