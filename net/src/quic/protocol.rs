//! The Sluice-over-QUIC protocol, sans-IO: ALPN, the versioned hello on the control stream,
//! which stream a message takes, and the checks on each message's length.
//!
//! A connection carries v1 frames (24-byte header with magic, command, length, checksum) so the
//! same [`crate::Peer`] state machine and the same limits apply as over TCP. The client opens
//! one bidirectional control stream; both sides first write a [`Hello`], then small messages as
//! consecutive frames. Each large message (every `block`, and anything above
//! [`LARGE_MESSAGE`]) goes on its own unidirectional stream holding exactly one frame, so a lost
//! packet of one block stalls neither the control stream nor the other blocks.

use crate::wire::frame::HEADER_LEN;
use crate::wire::Command;

/// The only application protocol we speak (TLS ALPN).
pub const ALPN: &[u8] = b"sluice/1";

/// Hello protocol versions we speak.
pub const MIN_VERSION: u32 = 1;
/// See [`MIN_VERSION`].
pub const MAX_VERSION: u32 = 1;

/// Feature bits announced in the hello.
pub mod features {
    /// Large messages travel on their own unidirectional streams (required by version 1).
    pub const MESSAGE_STREAMS: u64 = 1;
    /// Every feature this build knows.
    pub const ALL: u64 = MESSAGE_STREAMS;
    /// Features a peer must offer.
    pub const REQUIRED: u64 = MESSAGE_STREAMS;
}

/// Messages with payloads above this go on their own stream (besides every `block`).
pub const LARGE_MESSAGE: usize = 64 * 1024;

const HELLO_MAGIC: [u8; 4] = *b"SLQH";
/// Encoded size of a [`Hello`].
pub const HELLO_LEN: usize = 20;

/// QUIC application close codes, so the other side logs why.
pub mod close {
    /// Normal end (shutdown, local disconnect).
    pub const DONE: u32 = 0;
    /// No common hello version.
    pub const VERSION: u32 = 1;
    /// The peer broke the framing or hello rules.
    pub const PROTOCOL: u32 = 2;
    /// The peer exceeded a limit (oversized message, message timeout).
    pub const LIMIT: u32 = 3;
    /// Refused: too many connections, or the handshake took too long.
    pub const REFUSED: u32 = 4;
    /// The Bitcoin layer ended the connection (misbehaviour, timeouts).
    pub const PEER: u32 = 5;
}

/// What each side says first on the control stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hello {
    /// Lowest version spoken.
    pub min_version: u32,
    /// Highest version spoken.
    pub max_version: u32,
    /// Feature bits (see [`features`]).
    pub features: u64,
}

/// The outcome of two hellos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agreed {
    /// The version both speak (the highest common one).
    pub version: u32,
    /// Features both offer.
    pub features: u64,
}

/// Why a hello was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HelloError {
    /// Not a Sluice hello.
    #[error("control stream does not start with a Sluice hello")]
    BadMagic,
    /// No common version.
    #[error("peer speaks sluice-quic versions {their_min}..={their_max}, we speak {our_min}..={our_max}")]
    Version {
        /// The peer's range.
        their_min: u32,
        /// The peer's range.
        their_max: u32,
        /// Ours.
        our_min: u32,
        /// Ours.
        our_max: u32,
    },
    /// The peer lacks a feature we require.
    #[error("peer lacks required features {0:#x}")]
    Features(u64),
}

impl Hello {
    /// What this build announces.
    #[must_use]
    pub fn ours() -> Self {
        Self {
            min_version: MIN_VERSION,
            max_version: MAX_VERSION,
            features: features::ALL,
        }
    }

    /// The wire form.
    #[must_use]
    pub fn encode(&self) -> [u8; HELLO_LEN] {
        let mut b = [0u8; HELLO_LEN];
        b[..4].copy_from_slice(&HELLO_MAGIC);
        b[4..8].copy_from_slice(&self.min_version.to_le_bytes());
        b[8..12].copy_from_slice(&self.max_version.to_le_bytes());
        b[12..].copy_from_slice(&self.features.to_le_bytes());
        b
    }

    /// Parses the wire form.
    ///
    /// # Errors
    /// [`HelloError::BadMagic`].
    pub fn decode(b: &[u8; HELLO_LEN]) -> Result<Self, HelloError> {
        if b[..4] != HELLO_MAGIC {
            return Err(HelloError::BadMagic);
        }
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let mut f = [0u8; 8];
        f.copy_from_slice(&b[12..]);
        Ok(Self {
            min_version: u32_at(4),
            max_version: u32_at(8),
            features: u64::from_le_bytes(f),
        })
    }

    /// The highest version both speak and the features both offer.
    ///
    /// # Errors
    /// No common version, or the peer lacks a required feature.
    pub fn negotiate(&self, theirs: &Self) -> Result<Agreed, HelloError> {
        let version = self.max_version.min(theirs.max_version);
        if version < self.min_version.max(theirs.min_version)
            || theirs.min_version > theirs.max_version
        {
            return Err(HelloError::Version {
                their_min: theirs.min_version,
                their_max: theirs.max_version,
                our_min: self.min_version,
                our_max: self.max_version,
            });
        }
        let missing = features::REQUIRED & !theirs.features;
        if missing != 0 {
            return Err(HelloError::Features(missing));
        }
        Ok(Agreed {
            version,
            features: self.features & theirs.features,
        })
    }
}

/// Where an outgoing frame goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The control stream, in order with the other small messages.
    Control,
    /// A unidirectional stream of its own.
    OwnStream,
}

/// Picks the stream for one encoded v1 frame.
#[must_use]
pub fn route(frame: &[u8]) -> Route {
    let is_block = frame
        .get(4..16)
        .is_some_and(|c| c == crate::wire::command::names::BLOCK.to_wire());
    if is_block || frame.len() > HEADER_LEN + LARGE_MESSAGE {
        Route::OwnStream
    } else {
        Route::Control
    }
}

/// Why a received frame was refused before its payload was read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameLimitError {
    /// The header announced more than the limit.
    #[error("message of {announced} bytes announced (limit {limit})")]
    Oversized {
        /// The announced payload length.
        announced: u64,
        /// Our limit.
        limit: usize,
    },
}

/// The payload length a frame header announces, checked against `limit` before anything is
/// allocated for it.
///
/// # Errors
/// [`FrameLimitError::Oversized`].
pub fn payload_len(header: &[u8; HEADER_LEN], limit: usize) -> Result<usize, FrameLimitError> {
    let len = u32::from_le_bytes([header[16], header[17], header[18], header[19]]);
    let len_usize = usize::try_from(len).unwrap_or(usize::MAX);
    if len_usize > limit {
        return Err(FrameLimitError::Oversized {
            announced: u64::from(len),
            limit,
        });
    }
    Ok(len_usize)
}

/// The command of a frame header (for logs).
#[must_use]
pub fn command_of(header: &[u8; HEADER_LEN]) -> Option<Command> {
    let mut c = [0u8; 12];
    c.copy_from_slice(&header[4..16]);
    Command::from_wire(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::command::names;
    use crate::wire::encode_frame;

    #[test]
    fn hello_round_trip_and_negotiation() {
        let ours = Hello::ours();
        let back = Hello::decode(&ours.encode()).unwrap();
        assert_eq!(back, ours);
        assert_eq!(
            ours.negotiate(&back).unwrap(),
            Agreed {
                version: 1,
                features: features::ALL
            }
        );
        // A later peer speaking 1..=3 with an extra feature: version 1, our features.
        let later = Hello {
            min_version: 1,
            max_version: 3,
            features: features::ALL | 1 << 40,
        };
        assert_eq!(ours.negotiate(&later).unwrap().version, 1);
        assert_eq!(ours.negotiate(&later).unwrap().features, features::ALL);
        // Only version 7: refused, naming both ranges.
        let unknown = Hello {
            min_version: 7,
            max_version: 7,
            features: features::ALL,
        };
        let e = ours.negotiate(&unknown).unwrap_err();
        assert!(e.to_string().contains("7..=7"), "{e}");
        let inverted = Hello {
            min_version: 1,
            max_version: 0,
            features: features::ALL,
        };
        assert!(ours.negotiate(&inverted).is_err());
        let bare = Hello {
            features: 0,
            ..ours
        };
        assert_eq!(ours.negotiate(&bare), Err(HelloError::Features(1)));
        let mut garbage = ours.encode();
        garbage[0] = b'X';
        assert_eq!(Hello::decode(&garbage), Err(HelloError::BadMagic));
    }

    #[test]
    fn routes_and_length_limits() {
        let mut f = Vec::new();
        encode_frame([1, 2, 3, 4], names::BLOCK, &[0; 10], &mut f);
        assert_eq!(
            route(&f),
            Route::OwnStream,
            "every block has its own stream"
        );
        f.clear();
        encode_frame([1, 2, 3, 4], names::PING, &[0; 8], &mut f);
        assert_eq!(route(&f), Route::Control);
        f.clear();
        encode_frame(
            [1, 2, 3, 4],
            names::HEADERS,
            &vec![0; LARGE_MESSAGE + 1],
            &mut f,
        );
        assert_eq!(route(&f), Route::OwnStream);

        let mut h = [0u8; HEADER_LEN];
        h[16..20].copy_from_slice(&4_000_000u32.to_le_bytes());
        assert_eq!(payload_len(&h, 4_000_000), Ok(4_000_000));
        h[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            payload_len(&h, 4_000_000),
            Err(FrameLimitError::Oversized {
                announced: u64::from(u32::MAX),
                limit: 4_000_000
            })
        );
    }
}
