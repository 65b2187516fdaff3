//! The 80-byte block header.

use crate::hash::{sha256d, Hash256};

/// Serialised size of a block header.
pub const HEADER_SIZE: usize = 80;

/// A decoded block header. Fields keep Bitcoin's integer types; hashes are in internal byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    pub version: i32,
    pub prev_blockhash: Hash256,
    pub merkle_root: Hash256,
    pub time: u32,
    pub bits: u32,
    pub nonce: u32,
}

/// A header could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("block header needs {HEADER_SIZE} bytes, got {0}")]
pub struct HeaderSizeError(pub usize);

fn le_u32(b: &[u8; HEADER_SIZE], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl Header {
    /// Decodes the first 80 bytes of `bytes`.
    ///
    /// # Errors
    /// [`HeaderSizeError`] when fewer than 80 bytes are given.
    pub fn decode(bytes: &[u8]) -> Result<Self, HeaderSizeError> {
        let raw: &[u8; HEADER_SIZE] = bytes
            .get(..HEADER_SIZE)
            .and_then(|s| s.try_into().ok())
            .ok_or(HeaderSizeError(bytes.len()))?;
        let mut prev_blockhash = [0u8; 32];
        prev_blockhash.copy_from_slice(&raw[4..36]);
        let mut merkle_root = [0u8; 32];
        merkle_root.copy_from_slice(&raw[36..68]);
        Ok(Self {
            version: i32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]),
            prev_blockhash,
            merkle_root,
            time: le_u32(raw, 68),
            bits: le_u32(raw, 72),
            nonce: le_u32(raw, 76),
        })
    }

    /// The consensus serialisation.
    #[must_use]
    pub fn encode(&self) -> [u8; HEADER_SIZE] {
        let mut out = [0u8; HEADER_SIZE];
        out[0..4].copy_from_slice(&self.version.to_le_bytes());
        out[4..36].copy_from_slice(&self.prev_blockhash);
        out[36..68].copy_from_slice(&self.merkle_root);
        out[68..72].copy_from_slice(&self.time.to_le_bytes());
        out[72..76].copy_from_slice(&self.bits.to_le_bytes());
        out[76..80].copy_from_slice(&self.nonce.to_le_bytes());
        out
    }

    /// The block hash (double SHA-256 of the serialisation), internal byte order.
    #[must_use]
    pub fn block_hash(&self) -> Hash256 {
        sha256d(&self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::to_display_hex;

    const GENESIS: &str = concat!(
        "0100000000000000000000000000000000000000000000000000000000000000",
        "000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa",
        "4b1e5e4a29ab5f49ffff001d1dac2b7c"
    );

    #[test]
    fn genesis_round_trips() {
        let raw = hex::decode(GENESIS).unwrap();
        let h = Header::decode(&raw).unwrap();
        assert_eq!(h.encode().as_slice(), raw.as_slice());
        assert_eq!(h.bits, 0x1d00_ffff);
        assert_eq!(h.nonce, 2_083_236_893);
        assert_eq!(
            to_display_hex(&h.block_hash()),
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
        );
    }

    #[test]
    fn short_input_is_an_error() {
        assert_eq!(Header::decode(&[0u8; 79]), Err(HeaderSizeError(79)));
    }
}
