//! A memo of parsed ECDSA public keys, shared by the threads verifying a block.
//!
//! libsecp256k1 parses a compressed key by computing a square root (about 4 µs, a tenth of an
//! ECDSA verification), and keys repeat: address reuse and consolidations. In mainnet block
//! 866342, 4,905 single-key spends use only 1,764 distinct keys. Parsing is a pure function of
//! the key's bytes, so remembering the result (including "does not parse") changes no verdict.
//!
//! Only 33-byte compressed keys are kept: an uncompressed key parses without a square root.
//! A `BTreeMap` (not a `HashMap`) keeps lookups O(log n) whatever keys an attacker chooses,
//! without seeding a hasher from OS randomness.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use secp256k1::PublicKey;

/// Keys remembered before the memo is cleared: about 100 bytes each, so roughly 6.5 MB.
pub const DEFAULT_KEY_CACHE_ENTRIES: usize = 65_536;

/// Parsed public keys by their 33-byte encoding. `Sync`: one cache serves every thread.
#[derive(Debug)]
pub struct PubkeyCache {
    map: Mutex<BTreeMap<[u8; 33], Option<PublicKey>>>,
    capacity: usize,
}

impl Default for PubkeyCache {
    fn default() -> Self {
        Self::new(DEFAULT_KEY_CACHE_ENTRIES)
    }
}

impl PubkeyCache {
    /// A cache that forgets everything once it holds more than `capacity` keys (cheaper than
    /// tracking recency; keys that matter come back within a block).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            map: Mutex::new(BTreeMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// Keys currently remembered.
    #[must_use]
    pub fn len(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// libsecp256k1's parse of `pubkey` (any length), memoised for compressed keys.
    #[must_use]
    pub fn parse(&self, pubkey: &[u8]) -> Option<PublicKey> {
        let Ok(compressed) = <[u8; 33]>::try_from(pubkey) else {
            return PublicKey::from_slice(pubkey).ok();
        };
        if let Some(hit) = self
            .map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&compressed)
        {
            return *hit;
        }
        // Parsed outside the lock so other threads keep going meanwhile.
        let parsed = PublicKey::from_slice(pubkey).ok();
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= self.capacity {
            map.clear();
        }
        map.insert(compressed, parsed);
        parsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secp256k1::SecretKey;

    fn key(i: u8) -> [u8; 33] {
        let sk = SecretKey::from_secret_bytes([i.max(1); 32]).expect("in range");
        PublicKey::from_secret_key(&sk).serialize()
    }

    #[test]
    fn remembers_valid_and_invalid_keys_like_libsecp() {
        let cache = PubkeyCache::new(16);
        let good = key(7);
        let mut bad = good;
        bad[0] = 0x05;
        // An x with no point on the curve: x = 5 (5³ + 7 = 132 is not a square mod p).
        let mut off_curve = [0u8; 33];
        off_curve[0] = 2;
        off_curve[32] = 5;
        for _ in 0..2 {
            for k in [&good, &bad, &off_curve] {
                assert_eq!(cache.parse(k), PublicKey::from_slice(k).ok());
            }
        }
        assert_eq!(cache.len(), 3);
        assert!(cache.parse(&off_curve).is_none());
    }

    #[test]
    fn other_lengths_pass_through_unremembered() {
        let cache = PubkeyCache::new(16);
        let sk = SecretKey::from_secret_bytes([3; 32]).expect("in range");
        let full = PublicKey::from_secret_key(&sk).serialize_uncompressed();
        assert_eq!(cache.parse(&full), PublicKey::from_slice(&full).ok());
        assert!(cache.parse(&full[..20]).is_none());
        assert!(cache.is_empty());
    }

    #[test]
    fn clears_when_full() {
        let cache = PubkeyCache::new(4);
        for i in 1..=4 {
            assert!(cache.parse(&key(i)).is_some());
        }
        assert_eq!(cache.len(), 4);
        assert!(cache.parse(&key(5)).is_some());
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.parse(&key(2)), PublicKey::from_slice(&key(2)).ok());
    }
}
