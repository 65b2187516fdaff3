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
//! [`BatchFailure::failing`] lists exactly the invalid signatures. A group the equation rejects
//! while libsecp256k1 accepts each of its signatures can only be an arithmetic bug here: it is
//! reported apart, in [`BatchFailure::disagreements`], as a fault for the caller to stop on, never
//! as invalid signatures (that would reject a valid block).
//!
//! Batches smaller than [`SINGLE_VERIFY_BELOW`] skip the equation entirely: the fixed costs of
//! the batch (lifting every R, the transcript hash, the G term) only pay off from a few
//! signatures on, and below that each item is verified on its own with libsecp256k1, which was
//! measured faster than this module's single verification (see the constant's docs).

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::field::Fe;
use super::group::Affine;
use super::msm::Terms;
use super::scalar::Scalar;
use super::schnorr::{challenge, split_sig};

/// Groups this small are checked signature by signature while locating failures.
const SINGLE_CHECK_MAX: usize = 4;

/// Batches with fewer signatures are verified one by one with libsecp256k1 instead of by one
/// multi-scalar multiplication. libsecp256k1's single verification is faster than this crate's
/// (criterion ≈53 vs ≈61 µs), and the batch equation's fixed costs (lifting every R, the G term,
/// the transcript) make it slower than that below 5 signatures (up to 4 it only lifts the
/// points and then checks each item on its own anyway). Measured with `verify_equation` vs
/// `verify_singly`, CPU time per signature (`perf stat -e task-clock` on
/// `bench/benches/batch_schnorr_best_of.rs`'s repeat mode, setup subtracted; wall-clock
/// criterion medians swing too much on the shared machine): n=3: 49.2 vs 38.7 µs, n=4: 48.9 vs
/// 37.4, n=5: 32.8 vs 37.5, n=6: 32.4 vs 37.4, n=8: 31.6 vs 37.6, n=12: 30.9 vs 38.4.
pub const SINGLE_VERIFY_BELOW: usize = 5;

/// The batch did not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("BIP340 batch verification failed for signatures at indices {failing:?} (disagreements with libsecp256k1 at {disagreements:?})")]
pub struct BatchFailure {
    /// The indices (in push order, ascending) of every signature libsecp256k1 rejects.
    pub failing: Vec<usize>,
    /// The indices of groups the batch equation rejected although libsecp256k1 accepts every
    /// signature in them: a fault of this code, not a verdict (see [`Self::is_fault`]).
    pub disagreements: Vec<usize>,
}

impl BatchFailure {
    /// The batch arithmetic disagreed with libsecp256k1: the caller must stop with an internal
    /// error and mark nothing invalid, whatever `failing` says.
    #[must_use]
    pub fn is_fault(&self) -> bool {
        !self.disagreements.is_empty()
    }
}

/// The signed message: 32 bytes (taproot's case, stored without an allocation) or any other
/// length (BIP340 allows them).
#[derive(Clone, Debug)]
enum Msg {
    Digest([u8; 32]),
    Bytes(Vec<u8>),
}

impl Msg {
    fn as_slice(&self) -> &[u8] {
        match self {
            Msg::Digest(d) => d,
            Msg::Bytes(b) => b,
        }
    }
}

#[derive(Clone, Debug)]
struct Item {
    msg: Msg,
    pubkey: [u8; 32],
    sig: [u8; 64],
}

/// A decoded item ready for the group equation.
#[derive(Clone, Copy, Debug)]
struct Parsed {
    index: usize,
    /// Identifies the key: items with equal keys have equal `key`.
    key: usize,
    p: Affine,
    r: Affine,
    s: Scalar,
    e: Scalar,
}

/// Collects BIP340 signatures and verifies them together. Sans-IO: the caller supplies the
/// randomness to [`BatchVerifier::verify`]. Pushing only stores the item: hashing (challenges,
/// transcript) happens in `verify`, and only when the batch equation is used.
#[derive(Clone, Debug, Default)]
pub struct BatchVerifier {
    items: Vec<Item>,
}

impl BatchVerifier {
    #[must_use]
    pub fn new() -> BatchVerifier {
        BatchVerifier { items: Vec::new() }
    }

    #[must_use]
    pub fn with_capacity(n: usize) -> BatchVerifier {
        BatchVerifier {
            items: Vec::with_capacity(n),
        }
    }

    /// Adds a signature on a 32-byte message (the taproot case). Nothing is checked yet: bad
    /// encodings make [`verify`](Self::verify) report this item.
    pub fn push(&mut self, msg: [u8; 32], pubkey: [u8; 32], sig: [u8; 64]) {
        self.items.push(Item {
            msg: Msg::Digest(msg),
            pubkey,
            sig,
        });
    }

    /// Adds a signature on a message of any length (BIP340 allows them).
    pub fn push_msg(&mut self, msg: &[u8], pubkey: [u8; 32], sig: [u8; 64]) {
        let msg = match <[u8; 32]>::try_from(msg) {
            Ok(d) => Msg::Digest(d),
            Err(_) => Msg::Bytes(msg.to_vec()),
        };
        self.items.push(Item { msg, pubkey, sig });
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
        if self.items.len() < SINGLE_VERIFY_BELOW {
            self.verify_singly()
        } else {
            self.verify_equation(randomness)
        }
    }

    /// Verifies each item on its own with libsecp256k1, whatever the size:
    /// the small-batch path of [`verify`](Self::verify).
    ///
    /// # Errors
    /// [`BatchFailure`] listing exactly the indices of the invalid signatures.
    pub fn verify_singly(&self) -> Result<(), BatchFailure> {
        let failing: Vec<usize> = self
            .items
            .iter()
            .enumerate()
            .filter(|(_, it)| !verify_item_singly(it))
            .map(|(i, _)| i)
            .collect();
        if failing.is_empty() {
            Ok(())
        } else {
            Err(BatchFailure {
                failing,
                disagreements: Vec::new(),
            })
        }
    }

    /// Verifies the items through the batch equation whatever the size (small groups are still
    /// checked one by one while locating failures): the large-batch path of
    /// [`verify`](Self::verify), public so tests and benchmarks can reach it at any size.
    ///
    /// # Errors
    /// [`BatchFailure`] listing exactly the indices of the invalid signatures.
    pub fn verify_equation(&self, randomness: [u8; 32]) -> Result<(), BatchFailure> {
        let mut failing = Vec::new();
        let mut disagreements = Vec::new();
        let parsed = self.parse_all(&mut failing);
        let coeffs = self.coefficients(&randomness);
        let mut found = Found {
            failing: &mut failing,
            disagreements: &mut disagreements,
        };
        locate(&parsed, &self.items, &coeffs, &mut found);
        if failing.is_empty() && disagreements.is_empty() {
            Ok(())
        } else {
            failing.sort_unstable();
            disagreements.sort_unstable();
            Err(BatchFailure {
                failing,
                disagreements,
            })
        }
    }

    /// a₀ = 1 and aᵢ = 128 bits of SHA256(seed || i/2) for i ≥ 1, where
    /// seed = SHA256(tag || randomness || SHA256(transcript of all items)).
    fn coefficients(&self, randomness: &[u8; 32]) -> Vec<u128> {
        let mut transcript = Sha256::new();
        for item in &self.items {
            let msg = item.msg.as_slice();
            // Length-prefixed so the transcript encoding is unambiguous.
            transcript.update((msg.len() as u64).to_le_bytes());
            transcript.update(msg);
            transcript.update(item.pubkey);
            transcript.update(item.sig);
        }
        let batch_hash: [u8; 32] = transcript.finalize().into();
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

/// An item whose encodings are in range, waiting for its key and R to be lifted: `key` and `r`
/// index the x-coordinates handed to [`Affine::lift_x_many`].
struct Pending {
    index: usize,
    key: usize,
    r: usize,
    s: Scalar,
}

impl BatchVerifier {
    /// Decodes every item, pushing to `failing` those single verification rejects for their
    /// encoding alone: key or r ≥ p or not an x on the curve, s ≥ n. All square roots (each
    /// distinct key once, every R) are computed together, `group::SQRT_LANES` at a time.
    fn parse_all(&self, failing: &mut Vec<usize>) -> Vec<Parsed> {
        // Keys repeat within blocks (address reuse, consolidations): lift each one once. A
        // BTreeMap, not a HashMap, so no OS randomness is involved.
        let mut key_slots: BTreeMap<[u8; 32], Option<usize>> = BTreeMap::new();
        let mut xs = Vec::with_capacity(2 * self.items.len());
        let mut pending = Vec::with_capacity(self.items.len());
        for (index, item) in self.items.iter().enumerate() {
            let key = *key_slots.entry(item.pubkey).or_insert_with(|| {
                let x = Fe::from_bytes(&item.pubkey)?;
                xs.push(x);
                Some(xs.len() - 1)
            });
            let (r_bytes, s_bytes) = split_sig(&item.sig);
            match (key, Fe::from_bytes(&r_bytes), Scalar::from_bytes(&s_bytes)) {
                (Some(key), Some(r_x), Some(s)) => {
                    xs.push(r_x);
                    pending.push(Pending {
                        index,
                        key,
                        r: xs.len() - 1,
                        s,
                    });
                }
                _ => failing.push(index),
            }
        }
        let lifted = Affine::lift_x_many(&xs);
        let mut parsed = Vec::with_capacity(pending.len());
        for it in pending {
            let (Some(Some(p)), Some(Some(r)), Some(item)) = (
                lifted.get(it.key),
                lifted.get(it.r),
                self.items.get(it.index),
            ) else {
                failing.push(it.index);
                continue;
            };
            let (r_bytes, _) = split_sig(&item.sig);
            parsed.push(Parsed {
                index: it.index,
                key: it.key,
                p: *p,
                r: *r,
                s: it.s,
                e: challenge(&r_bytes, &item.pubkey, item.msg.as_slice()),
            });
        }
        parsed
    }
}

/// BIP340 verification of one item with libsecp256k1 (faster than
/// [`super::verify_schnorr`], and the oracle anyway), messages of any length. Rejects keys that
/// are not valid x-only keys, r ≥ p and s ≥ n.
fn verify_item_singly(item: &Item) -> bool {
    let Ok(pk) = secp256k1::XOnlyPublicKey::from_byte_array(item.pubkey) else {
        return false;
    };
    let sig = secp256k1::schnorr::Signature::from_byte_array(item.sig);
    secp256k1::schnorr::verify(&sig, item.msg.as_slice(), &pk).is_ok()
}

/// Whether the random linear combination of the items' equations vanishes.
///
/// Items under the same key share one term: Σ (aᵢ·eᵢ)·P is computed as (Σ aᵢ·eᵢ)·P, the same
/// sum with fewer points (keys repeat within blocks; in mainnet block 866342, 2,373 key-path
/// spends use 443 distinct keys).
fn batch_holds(items: &[Parsed], coeffs: &[u128]) -> bool {
    let key_ids = items.iter().map(|it| it.key).max().map_or(0, |m| m + 1);
    // Position in `keys` of each key id met so far.
    let mut slot = vec![usize::MAX; key_ids];
    let mut keys: Vec<(Affine, Scalar)> = Vec::new();
    let mut terms = Terms::with_capacity(3 * items.len() + 2);
    let mut s_sum = Scalar::ZERO;
    for it in items {
        // Every item has its own coefficient; a shared fallback would let errors cancel.
        let Some(&a_u) = coeffs.get(it.index) else {
            return false;
        };
        let a = Scalar::from_u128(a_u);
        s_sum = s_sum.add(&a.mul(&it.s));
        terms.push_u128(&it.r, true, a_u);
        let ae = a.mul(&it.e);
        match slot.get(it.key).and_then(|&j| keys.get_mut(j)) {
            Some((_, k)) => *k = k.add(&ae),
            None => {
                if let Some(j) = slot.get_mut(it.key) {
                    *j = keys.len();
                }
                keys.push((it.p, ae));
            }
        }
    }
    for (p, k) in &keys {
        terms.push_full(p, &k.negate());
    }
    terms.add_g(&s_sum);
    terms.sum().is_infinity()
}

/// Appends the indices of the invalid items to `failing`.
/// What [`locate`] found: invalid signatures, and groups where the equation and libsecp256k1
/// disagree.
struct Found<'a> {
    failing: &'a mut Vec<usize>,
    disagreements: &'a mut Vec<usize>,
}

fn locate(items: &[Parsed], src: &[Item], coeffs: &[u128], found: &mut Found<'_>) {
    if items.len() <= SINGLE_CHECK_MAX {
        check_singly(items, src, found.failing);
    } else if !batch_holds(items, coeffs) {
        locate_known_failing(items, src, coeffs, found);
    }
}

/// Like [`locate`] for a group already known to fail. The equation is linear in the items with
/// fixed coefficients, so when the left half holds the right half must fail and is not
/// re-checked. If the single checks of a group the equation rejected all pass, the group is a
/// disagreement: a bug, never a reason to accept the group nor to call its signatures invalid.
fn locate_known_failing(items: &[Parsed], src: &[Item], coeffs: &[u128], found: &mut Found<'_>) {
    if items.len() <= SINGLE_CHECK_MAX {
        if check_singly(items, src, found.failing) == 0 {
            found.disagreements.extend(items.iter().map(|it| it.index));
        }
        return;
    }
    let (left, right) = items.split_at(items.len() / 2);
    if batch_holds(left, coeffs) {
        locate_known_failing(right, src, coeffs, found);
    } else {
        locate_known_failing(left, src, coeffs, found);
        locate(right, src, coeffs, found);
    }
}

/// Checks each item with libsecp256k1 (the oracle) and returns how many failed.
fn check_singly(items: &[Parsed], src: &[Item], failing: &mut Vec<usize>) -> usize {
    let before = failing.len();
    for it in items {
        if !src.get(it.index).is_some_and(verify_item_singly) {
            failing.push(it.index);
        }
    }
    failing.len() - before
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// If the equation rejects a group whose items libsecp256k1 accepts one by one (only an
    /// arithmetic bug could do that), the group is reported as a disagreement: neither accepted
    /// nor called invalid.
    #[test]
    fn disagreement_between_equation_and_single_checks_is_a_fault() {
        let kp = secp256k1::Keypair::from_secret_bytes([5; 32]).unwrap();
        let pk = kp.x_only_public_key().0.to_byte_array();
        let mut bv = BatchVerifier::new();
        for i in 0..8u8 {
            let msg = [i; 32];
            let sig = secp256k1::schnorr::sign_with_aux_rand(&msg, &kp, &[0; 32]);
            bv.push(msg, pk, sig.to_byte_array());
        }
        let (mut failing, mut disagreements) = (Vec::new(), Vec::new());
        let mut parsed = bv.parse_all(&mut failing);
        assert!(failing.is_empty());
        let coeffs = bv.coefficients(&[1; 32]);
        let mut found = Found {
            failing: &mut failing,
            disagreements: &mut disagreements,
        };
        locate(&parsed, &bv.items, &coeffs, &mut found);
        assert!(
            failing.is_empty() && disagreements.is_empty(),
            "valid batch"
        );
        // A wrong challenge for item 6 stands in for a bug: the equation now fails while every
        // signature is valid.
        parsed[6].e = parsed[6].e.add(&Scalar::ONE);
        let mut found = Found {
            failing: &mut failing,
            disagreements: &mut disagreements,
        };
        locate(&parsed, &bv.items, &coeffs, &mut found);
        assert!(
            failing.is_empty(),
            "no signature is called invalid: {failing:?}"
        );
        assert!(disagreements.contains(&6), "{disagreements:?}");
    }
}
