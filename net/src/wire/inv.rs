//! Inventory vectors (`inv`, `getdata`, `notfound`) and block locators (`getheaders`).

use sluice_consensus::encode::{write_compact_size, Reader};
use sluice_consensus::hash::Hash256;
use sluice_consensus::header::{Header, HEADER_SIZE};

use super::read::{capacity, read_count, PayloadError};

/// Core's `MAX_INV_SZ`: most entries in an `inv`, `getdata` or `notfound`.
pub const MAX_INV_SIZE: usize = 50_000;
/// Core's `MAX_LOCATOR_SZ`: most hashes in a `getheaders` locator.
pub const MAX_LOCATOR_SIZE: usize = 101;
/// Core's `MAX_HEADERS_RESULTS`: most headers in one `headers` message.
pub const MAX_HEADERS: usize = 2_000;

/// The type of an inventory entry (a `u32` on the wire; unknown values are kept as they are,
/// since Core ignores types it does not know).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InvType(pub u32);

impl InvType {
    /// Set on a type to ask for witness serialisation (`MSG_WITNESS_FLAG`).
    pub const WITNESS_FLAG: u32 = 1 << 30;
    /// `MSG_ERROR`.
    pub const ERROR: Self = Self(0);
    /// `MSG_TX`: a transaction by txid.
    pub const TX: Self = Self(1);
    /// `MSG_BLOCK`: a block without witnesses.
    pub const BLOCK: Self = Self(2);
    /// `MSG_FILTERED_BLOCK` (BIP37).
    pub const FILTERED_BLOCK: Self = Self(3);
    /// `MSG_CMPCT_BLOCK` (BIP152).
    pub const CMPCT_BLOCK: Self = Self(4);
    /// `MSG_WTX`: a transaction by wtxid (BIP339).
    pub const WTX: Self = Self(5);
    /// `MSG_WITNESS_TX`: a transaction with witnesses.
    pub const WITNESS_TX: Self = Self(Self::WITNESS_FLAG | 1);
    /// `MSG_WITNESS_BLOCK`: a block with witnesses (what we request).
    pub const WITNESS_BLOCK: Self = Self(Self::WITNESS_FLAG | 2);
    /// `MSG_FILTERED_WITNESS_BLOCK`.
    pub const FILTERED_WITNESS_BLOCK: Self = Self(Self::WITNESS_FLAG | 3);

    /// Whether this names a block (with or without witnesses).
    #[must_use]
    pub fn is_block(self) -> bool {
        self.0 & !Self::WITNESS_FLAG == Self::BLOCK.0
    }
}

/// One inventory entry: a type and a hash (internal byte order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Inventory {
    /// What the hash names.
    pub kind: InvType,
    /// Txid, wtxid or block hash.
    pub hash: Hash256,
}

impl Inventory {
    /// Length on the wire.
    pub const LEN: usize = 36;
}

pub(crate) fn encode_inv(items: &[Inventory], out: &mut Vec<u8>) {
    write_compact_size(out, items.len() as u64);
    for it in items {
        out.extend_from_slice(&it.kind.0.to_le_bytes());
        out.extend_from_slice(&it.hash);
    }
}

/// `discourage`: Core's `Misbehaving` for oversized `inv`/`getdata`; a plain drop for `notfound`.
pub(crate) fn decode_inv(
    r: &mut Reader<'_>,
    what: &'static str,
    discourage: bool,
) -> Result<Vec<Inventory>, PayloadError> {
    let n = read_count(r, what, MAX_INV_SIZE, discourage)?;
    let mut items = Vec::with_capacity(capacity(r, n, Inventory::LEN));
    for _ in 0..n {
        let kind = InvType(r.read_u32_le()?);
        let hash = *r.read_hash()?;
        items.push(Inventory { kind, hash });
    }
    Ok(items)
}

/// `getheaders` (and the identical `getblocks`): a locator and a stop hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetHeaders {
    /// The sender's protocol version (unused by Core).
    pub version: u32,
    /// Block hashes from the sender's tip backwards, densest near the tip; at most 101.
    pub locator: Vec<Hash256>,
    /// Stop after this hash; all zeros for "as many as allowed".
    pub stop: Hash256,
}

impl GetHeaders {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.version.to_le_bytes());
        write_compact_size(out, self.locator.len() as u64);
        for h in &self.locator {
            out.extend_from_slice(h);
        }
        out.extend_from_slice(&self.stop);
    }

    /// An over-long locator is a disconnect without discouragement, as in Core.
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, PayloadError> {
        let version = r.read_u32_le()?;
        let n = read_count(r, "getheaders locator", MAX_LOCATOR_SIZE, false)?;
        let mut locator = Vec::with_capacity(capacity(r, n, 32));
        for _ in 0..n {
            locator.push(*r.read_hash()?);
        }
        let stop = *r.read_hash()?;
        Ok(Self {
            version,
            locator,
            stop,
        })
    }
}

pub(crate) fn encode_headers(headers: &[Header], out: &mut Vec<u8>) {
    write_compact_size(out, headers.len() as u64);
    for h in headers {
        out.extend_from_slice(&h.encode());
        out.push(0); // transaction count, always zero in `headers`
    }
}

/// Each header is followed by a transaction count that Core reads and ignores; so do we.
pub(crate) fn decode_headers(r: &mut Reader<'_>) -> Result<Vec<Header>, PayloadError> {
    let n = read_count(r, "headers", MAX_HEADERS, true)?;
    let mut headers = Vec::with_capacity(capacity(r, n, HEADER_SIZE + 1));
    for _ in 0..n {
        let raw = r.take(HEADER_SIZE)?;
        let at = r.position();
        let header = Header::decode(raw).map_err(|e| {
            sluice_consensus::encode::DecodeError::UnexpectedEnd {
                at,
                needed: HEADER_SIZE - e.0.min(HEADER_SIZE),
            }
        })?;
        r.read_compact_size()?;
        headers.push(header);
    }
    Ok(headers)
}
