//! BIP340 batch verification: one multi-scalar multiplication checks many signatures.
//!
//! For signatures (rᵢ, sᵢ) on messages mᵢ under keys Pᵢ with challenges eᵢ, the batch holds iff
//!
//! ```text
//! (Σ aᵢ·sᵢ)·G − Σ aᵢ·Rᵢ − Σ (aᵢ·eᵢ)·Pᵢ = O,   Rᵢ = lift_x(rᵢ), a₀ = 1
//! ```
//!
//! The coefficients aᵢ are 128-bit values derived from SHA256 over the caller's 32 bytes of
//! randomness and a transcript of the *entire* batch (every message, key and signature). A
//! signer therefore cannot know any aᵢ before fixing every signature in the batch, so invalid
//! signatures cannot be crafted to cancel (see `tests/batch_attack.rs`); a false accept has
//! probability about 2^-128. 128-bit coefficients keep the aᵢ·Rᵢ terms at half length.
//!
//! When the equation fails, the failing items are located by bisection (halves are re-checked
//! with the same coefficients) down to small groups, which are verified one by one, so
//! [`BatchFailure::failing`] lists exactly the invalid signatures.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::field::Fe;
use super::group::Affine;
use super::msm::Terms;
use super::scalar::Scalar;
use super::schnorr::{challenge, split_sig, verify_parsed};

/// Groups this small are checked signature by signature while locating failures.
const SINGLE_CHECK_MAX: usize = 4;

/// The batch did not verify: the indices (in push order, ascending) of every invalid signature.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("BIP340 batch verification failed for signatures at indices {failing:?}")]
pub struct BatchFailure {
    pub failing: Vec<usize>,
}

#[derive(Clone, Debug)]
struct Item {
    pubkey: [u8; 32],
    sig: [u8; 64],
    e: Scalar,
}

/// A decoded item ready for the group equation.
#[derive(Clone, Copy, Debug)]
struct Parsed {
    index: usize,
    p: Affine,
    r: Affine,
    r_x: Fe,
    s: Scalar,
    e: Scalar,
}

/// Collects BIP340 signatures and verifies them together. Sans-IO: the caller supplies the
/// randomness to [`BatchVerifier::verify`].
#[derive(Clone, Debug)]
pub struct BatchVerifier {
    items: Vec<Item>,
    transcript: Sha256,
}

impl Default for BatchVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl BatchVerifier {
    #[must_use]
    pub fn new() -> BatchVerifier {
        BatchVerifier {
            items: Vec::new(),
            transcript: Sha256::new(),
        }
    }

    #[must_use]
    pub fn with_capacity(n: usize) -> BatchVerifier {
        BatchVerifier {
            items: Vec::with_capacity(n),
            transcript: Sha256::new(),
        }
    }

    /// Adds a signature on a 32-byte message (the taproot case). Nothing is checked yet: bad
    /// encodings make [`verify`](Self::verify) report this item.
    pub fn push(&mut self, msg: [u8; 32], pubkey: [u8; 32], sig: [u8; 64]) {
        self.push_msg(&msg, pubkey, sig);
    }

    /// Adds a signature on a message of any length (BIP340 allows them).
    pub fn push_msg(&mut self, msg: &[u8], pubkey: [u8; 32], sig: [u8; 64]) {
        let (r, _) = split_sig(&sig);
        let e = challenge(&r, &pubkey, msg);
        // Length-prefixed so the transcript encoding is unambiguous.
        self.transcript.update((msg.len() as u64).to_le_bytes());
        self.transcript.update(msg);
        self.transcript.update(pubkey);
        self.transcript.update(sig);
        self.items.push(Item { pubkey, sig, e });
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Verifies every pushed signature. `randomness` must be unpredictable to signers (32 bytes
    /// from the OS RNG); it is mixed with a hash of the whole batch.
    ///
    /// # Errors
    /// [`BatchFailure`] listing exactly the indices of the invalid signatures.
    pub fn verify(&self, randomness: [u8; 32]) -> Result<(), BatchFailure> {
        if let [item] = self.items.as_slice() {
            // A batch of one is exactly single verification, which needs no lift_x of R.
            return if verify_single(item) {
                Ok(())
            } else {
                Err(BatchFailure { failing: vec![0] })
            };
        }
        let mut failing = Vec::new();
        let mut parsed = Vec::with_capacity(self.items.len());
        // Keys repeat within blocks (address reuse, consolidations): lift each one once. A
        // BTreeMap, not a HashMap, so no OS randomness is involved.
        let mut keys: BTreeMap<[u8; 32], Option<Affine>> = BTreeMap::new();
        for (index, item) in self.items.iter().enumerate() {
            let key = *keys
                .entry(item.pubkey)
                .or_insert_with(|| Affine::from_xonly(&item.pubkey));
            match key.and_then(|p| parse(index, item, p)) {
                Some(p) => parsed.push(p),
                None => failing.push(index),
            }
        }
        let coeffs = self.coefficients(&randomness);
        locate(&parsed, &coeffs, &mut failing);
        if failing.is_empty() {
            Ok(())
        } else {
            failing.sort_unstable();
            Err(BatchFailure { failing })
        }
    }

    /// a₀ = 1 and aᵢ = 128 bits of SHA256(seed || i/2) for i ≥ 1, where
    /// seed = SHA256(tag || randomness || SHA256(transcript of all items)).
    fn coefficients(&self, randomness: &[u8; 32]) -> Vec<u128> {
        let batch_hash: [u8; 32] = self.transcript.clone().finalize().into();
        let mut h = Sha256::new();
        h.update(b"Sluice/BIP340-batch/seed");
        h.update(randomness);
        h.update(batch_hash);
        let seed: [u8; 32] = h.finalize().into();
        let n = self.items.len();
        let mut out = Vec::with_capacity(n + 1);
        let mut block = 0u64;
        while out.len() < n {
            let mut h = Sha256::new();
            h.update(seed);
            h.update(block.to_le_bytes());
            let d: [u8; 32] = h.finalize().into();
            for half in d.chunks_exact(16) {
                let mut b = [0u8; 16];
                b.copy_from_slice(half);
                // Zero would drop the item from the equation; it has probability 2^-128.
                out.push(u128::from_le_bytes(b).max(1));
            }
            block += 1;
        }
        out.truncate(n);
        if let Some(first) = out.first_mut() {
            *first = 1;
        }
        out
    }
}

/// Decodes an item whose key `p` is already lifted; `None` when r ≥ p, r is not an x on the
/// curve or s ≥ n — single verification rejects those too.
fn parse(index: usize, item: &Item, p: Affine) -> Option<Parsed> {
    let (r_bytes, s_bytes) = split_sig(&item.sig);
    let r_x = Fe::from_bytes(&r_bytes)?;
    let r = Affine::lift_x(&r_x)?;
    let s = Scalar::from_bytes(&s_bytes)?;
    Some(Parsed {
        index,
        p,
        r,
        r_x,
        s,
        e: item.e,
    })
}

/// BIP340 verification of one item with its precomputed challenge.
fn verify_single(item: &Item) -> bool {
    let (r_bytes, s_bytes) = split_sig(&item.sig);
    match (
        Affine::from_xonly(&item.pubkey),
        Fe::from_bytes(&r_bytes),
        Scalar::from_bytes(&s_bytes),
    ) {
        (Some(p), Some(r), Some(s)) => verify_parsed(&p, &r, &s, &item.e),
        _ => false,
    }
}

/// Whether the random linear combination of the items' equations vanishes.
fn batch_holds(items: &[Parsed], coeffs: &[u128]) -> bool {
    let mut terms = Terms::with_capacity(3 * items.len() + 2);
    let mut s_sum = Scalar::ZERO;
    for it in items {
        let a_u = coeffs.get(it.index).copied().unwrap_or(1);
        let a = Scalar::from_u128(a_u);
        s_sum = s_sum.add(&a.mul(&it.s));
        terms.push_u128(&it.r, true, a_u);
        terms.push_full(&it.p, &a.mul(&it.e).negate());
    }
    terms.add_g(&s_sum);
    terms.sum().is_infinity()
}

/// Appends the indices of the invalid items to `failing`.
fn locate(items: &[Parsed], coeffs: &[u128], failing: &mut Vec<usize>) {
    if items.len() <= SINGLE_CHECK_MAX {
        check_singly(items, failing);
    } else if !batch_holds(items, coeffs) {
        locate_known_failing(items, coeffs, failing);
    }
}

/// Like [`locate`] for a group already known to fail. The equation is linear in the items with
/// fixed coefficients, so when the left half holds the right half must fail and is not
/// re-checked.
fn locate_known_failing(items: &[Parsed], coeffs: &[u128], failing: &mut Vec<usize>) {
    if items.len() <= SINGLE_CHECK_MAX {
        check_singly(items, failing);
        return;
    }
    let (left, right) = items.split_at(items.len() / 2);
    if batch_holds(left, coeffs) {
        locate_known_failing(right, coeffs, failing);
    } else {
        locate_known_failing(left, coeffs, failing);
        locate(right, coeffs, failing);
    }
}

fn check_singly(items: &[Parsed], failing: &mut Vec<usize>) {
    for it in items {
        if !verify_parsed(&it.p, &it.r_x, &it.s, &it.e) {
            failing.push(it.index);
        }
    }
}
