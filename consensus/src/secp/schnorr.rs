//! BIP340 Schnorr signature verification, one signature at a time.

use super::field::Fe;
use super::group::Affine;
use super::msm::Terms;
use super::scalar::Scalar;
use crate::hash::tagged_hash;

/// BIP340 challenge `e = int(hash_BIP0340/challenge(r || P || m)) mod n`.
#[must_use]
pub fn challenge(r: &[u8; 32], pubkey: &[u8; 32], msg: &[u8]) -> Scalar {
    let mut data = Vec::with_capacity(64 + msg.len());
    data.extend_from_slice(r);
    data.extend_from_slice(pubkey);
    data.extend_from_slice(msg);
    Scalar::from_bytes_reduced(&tagged_hash(b"BIP0340/challenge", &data))
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
    terms.push_full(&Affine::GENERATOR, s);
    terms.push_full(p, &e.negate());
    let big_r = terms.strauss().to_affine();
    !big_r.infinity && !big_r.y.is_odd() && big_r.x.equals(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_encodings_without_panicking() {
        assert!(!verify_schnorr(&[0; 32], &[0xFF; 32], &[0; 64]));
        assert!(!verify_schnorr(&[0; 32], &[0; 32], &[0xFF; 64]));
    }
}
