//! Merkle roots of transaction ids, exactly as Bitcoin Core's `ComputeMerkleRoot`
//! (`consensus/merkle.cpp`).
//!
//! Each level pairs adjacent hashes and double-SHA-256es the 64-byte concatenation; a level of
//! odd length pairs its last hash with itself. Because of that duplication two different
//! transaction lists can share a root (CVE-2012-2459): a block whose list ends in a repeated
//! run is "mutated". Core flags this when, on any level, the hashes at positions `2k` and
//! `2k + 1` are equal, and rejects such blocks as `bad-txns-duplicate`; the flag is returned
//! alongside the root so block validation can do the same.
//!
//! Witness commitment (BIP141): the witness root is `merkle_root` over the wtxids with the
//! coinbase's wtxid replaced by 32 zero bytes. Callers build that list themselves (the
//! coinbase is always leaf 0); the mutation flag is meaningless for it and Core ignores it.

use crate::hash::{sha256d64, sha256d64_with, Backend, Hash256, HashError};

/// Root of the merkle tree over `leaves` (txids in block order) and whether the tree is
/// mutated in the CVE-2012-2459 sense. An empty list gives the all-zero hash, unmutated.
/// Levels are hashed with [`sha256d64`] (wide lanes, SHA-NI for small levels).
#[must_use]
pub fn merkle_root(leaves: &[Hash256]) -> (Hash256, bool) {
    let never_fails = merkle_root_by(leaves, |pairs, out| {
        sha256d64(pairs, out);
        Ok(())
    });
    never_fails.unwrap_or(([0; 32], false))
}

/// [`merkle_root`] hashing every level with a chosen backend.
///
/// # Errors
/// [`HashError::BackendUnavailable`] if this CPU cannot run `backend`.
pub fn merkle_root_with(
    backend: Backend,
    leaves: &[Hash256],
) -> Result<(Hash256, bool), HashError> {
    merkle_root_by(leaves, |pairs, out| sha256d64_with(backend, pairs, out))
}

/// Core's `ComputeMerkleRoot` with a pluggable level hasher.
fn merkle_root_by(
    leaves: &[Hash256],
    mut hash_level: impl FnMut(&[[u8; 64]], &mut [Hash256]) -> Result<(), HashError>,
) -> Result<(Hash256, bool), HashError> {
    let mut level: Vec<Hash256> = leaves.to_vec();
    let mut pairs: Vec<[u8; 64]> = Vec::with_capacity(level.len().div_ceil(2));
    let mut mutated = false;
    while level.len() > 1 {
        pairs.clear();
        for pair in level.chunks(2) {
            let (left, right) = match pair {
                [l, r] => {
                    // CVE-2012-2459: equal hashes at positions (2k, 2k + 1) on any level.
                    mutated |= l == r;
                    (l, r)
                }
                // An odd level pairs its last hash with itself (not a mutation by itself).
                [l] => (l, l),
                _ => continue,
            };
            let mut block = [0u8; 64];
            block[..32].copy_from_slice(left);
            block[32..].copy_from_slice(right);
            pairs.push(block);
        }
        level.truncate(pairs.len());
        hash_level(&pairs, &mut level)?;
    }
    Ok((level.first().copied().unwrap_or([0; 32]), mutated))
}
