//! Bounded payload reading: the error type of message decoding and helpers over the consensus
//! crate's [`Reader`].

use sluice_consensus::encode::{DecodeError, Reader};

/// Why a payload could not be decoded as its message type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Truncated data, a non-canonical CompactSize or one above `MAX_SIZE`.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A list longer than the protocol allows for this message.
    #[error("{what}: {count} entries, at most {max} allowed")]
    TooMany {
        /// Which list.
        what: &'static str,
        /// The count the peer announced.
        count: u64,
        /// The limit.
        max: usize,
        /// Whether Core discourages the sender (its `Misbehaving`) or only disconnects.
        discourage: bool,
    },
    /// A version message's user agent longer than Core's `MAX_SUBVERSION_LENGTH`.
    #[error("user agent of {0} bytes exceeds 256")]
    UserAgentTooLong(u64),
    /// A BIP155 address whose length does not fit its network id.
    #[error("addrv2 network {network} with a {len}-byte address")]
    AddrLength {
        /// The BIP155 network id.
        network: u8,
        /// The announced address length.
        len: u64,
    },
    /// A sendcmpct whose announce flag is neither 0 nor 1.
    #[error("sendcmpct announce byte {0} is not a boolean")]
    SendCmpctAnnounce(u8),
}

impl PayloadError {
    /// Core's reaction: `true` when it would discourage the peer (`Misbehaving`), `false` when it
    /// only disconnects. Undecodable payloads count as misbehaviour here (the project's stricter
    /// rule; Core logs and drops a message whose deserialisation throws).
    #[must_use]
    pub fn discourage(&self) -> bool {
        match self {
            Self::TooMany { discourage, .. } => *discourage,
            _ => true,
        }
    }
}

/// Reads a CompactSize list length and checks it against `max` before anything is allocated.
pub(crate) fn read_count(
    r: &mut Reader<'_>,
    what: &'static str,
    max: usize,
    discourage: bool,
) -> Result<usize, PayloadError> {
    let count = r.read_compact_size()?;
    match usize::try_from(count) {
        Ok(n) if n <= max => Ok(n),
        _ => Err(PayloadError::TooMany {
            what,
            count,
            max,
            discourage,
        }),
    }
}

/// A capacity for `count` items of at least `min_item` bytes each that the remaining input can
/// actually hold, so a lying count never reserves more than the payload could fill.
pub(crate) fn capacity(r: &Reader<'_>, count: usize, min_item: usize) -> usize {
    count.min(r.remaining() / min_item.max(1))
}
