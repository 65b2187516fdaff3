//! Transports: how messages become bytes. v1 (plaintext frames) and BIP324 v2 (encrypted
//! packets), both sans-IO: feed received bytes, take decoded messages; queue messages, take
//! bytes to write.

mod v1;
mod v2;
pub mod v2_ids;

use std::collections::VecDeque;

pub use v1::V1Transport;
pub use v2::{V2Error, V2Transport};

use crate::wire::{Command, FrameError, RawMessage};

/// Which transport a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// Plaintext v1.
    V1,
    /// BIP324 encrypted v2 (with fallback to v1 as Core does).
    V2,
    /// QUIC between Sluice nodes: v1 frames over TLS 1.3 streams (see `crate::quic`).
    Quic,
}

/// Who opened the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// We connected to them.
    Outbound,
    /// They connected to us.
    Inbound,
}

/// Why a transport gave up on the byte stream. Always fatal for the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// A v1 framing error.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A BIP324 failure.
    #[error(transparent)]
    V2(#[from] V2Error),
}

impl TransportError {
    /// Whether the peer should be discouraged. A wrong network magic is only a disconnect, as
    /// in Core: it is what a v1-only node sees from a v2 client (which then retries with v1) or
    /// from a node of another network; every other framing or decryption error is garbage.
    #[must_use]
    pub fn discourage(&self) -> bool {
        !matches!(self, Self::Frame(FrameError::BadMagic(_)))
    }
}

/// A connection's transport.
#[derive(Debug)]
pub struct Transport {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    V1(V1Transport),
    V2(Box<V2Transport>),
    /// v1 framing inside QUIC streams (QUIC provides the encryption).
    Quic(V1Transport),
}

impl Transport {
    /// The transport for a new connection. Outbound `V2` starts a BIP324 handshake; inbound
    /// `V2` accepts v2 and detects v1 from the first bytes; `V1` is plaintext either way.
    #[must_use]
    pub fn new(magic: [u8; 4], direction: Direction, kind: TransportKind) -> Self {
        let inner = match (kind, direction) {
            (TransportKind::V1, _) => Inner::V1(V1Transport::new(magic)),
            (TransportKind::Quic, _) => Inner::Quic(V1Transport::new(magic)),
            (TransportKind::V2, Direction::Outbound) => {
                Inner::V2(Box::new(V2Transport::initiator(magic)))
            }
            (TransportKind::V2, Direction::Inbound) => {
                Inner::V2(Box::new(V2Transport::responder(magic)))
            }
        };
        Self { inner }
    }

    /// A v1 transport.
    #[must_use]
    pub fn v1(magic: [u8; 4]) -> Self {
        Self {
            inner: Inner::V1(V1Transport::new(magic)),
        }
    }

    /// Decodes every complete message in `input` into `out`.
    ///
    /// # Errors
    /// [`TransportError`]: the connection must end.
    pub fn receive(
        &mut self,
        input: &[u8],
        out: &mut VecDeque<RawMessage>,
    ) -> Result<(), TransportError> {
        match &mut self.inner {
            Inner::V1(t) | Inner::Quic(t) => Ok(t.receive(input, out)?),
            Inner::V2(t) => t.receive(input, out),
        }
    }

    /// Queues a message for sending.
    pub fn send(&mut self, command: Command, payload: &[u8]) {
        match &mut self.inner {
            Inner::V1(t) | Inner::Quic(t) => t.send(command, payload),
            Inner::V2(t) => t.send(command, payload),
        }
    }

    /// The next bytes to write to the socket.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        match &mut self.inner {
            Inner::V1(t) | Inner::Quic(t) => t.poll_transmit(),
            Inner::V2(t) => t.poll_transmit(),
        }
    }

    /// Bytes waiting to be handed out by [`Self::poll_transmit`].
    #[must_use]
    pub fn queued_bytes(&self) -> usize {
        match &self.inner {
            Inner::V1(t) | Inner::Quic(t) => t.queued_bytes(),
            Inner::V2(t) => t.queued_bytes(),
        }
    }

    /// The transport in use (a v2 transport that fell back to v1 reports v1).
    #[must_use]
    pub fn kind(&self) -> TransportKind {
        match &self.inner {
            Inner::V1(_) => TransportKind::V1,
            Inner::Quic(_) => TransportKind::Quic,
            Inner::V2(t) if t.is_v1() => TransportKind::V1,
            Inner::V2(_) => TransportKind::V2,
        }
    }

    /// Whether an outbound v2 attempt ended in a way that means "retry with v1" (Core's
    /// `ShouldReconnectV1`), to be asked when the connection closes.
    #[must_use]
    pub fn should_reconnect_v1(&self) -> bool {
        match &self.inner {
            Inner::V1(_) | Inner::Quic(_) => false,
            Inner::V2(t) => t.should_reconnect_v1(),
        }
    }
}
