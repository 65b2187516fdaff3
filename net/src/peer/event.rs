//! What a peer reports to the layer above.

use std::net::SocketAddr;

use crate::transport::{TransportError, TransportKind};
use crate::wire::services::BLOCK_DOWNLOAD;
use crate::wire::{Command, Message, PayloadError};

use super::config::Direction;

/// The remote side as it presented itself in the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// Its protocol version.
    pub version: i32,
    /// Services it offers (see [`crate::wire::services`]).
    pub services: u64,
    /// Its best height at connection time.
    pub start_height: i32,
    /// Its user agent.
    pub user_agent: String,
    /// Whether it wants transaction announcements.
    pub relay: bool,
    /// It sent `wtxidrelay` (BIP339).
    pub wtxidrelay: bool,
    /// It sent `sendaddrv2` (BIP155).
    pub sendaddrv2: bool,
    /// It sent `sendheaders` (BIP130) before the handshake ended (usually it comes just after,
    /// as a [`Message::SendHeaders`] event).
    pub sendheaders: bool,
    /// Its address.
    pub addr: SocketAddr,
    /// Who opened the connection.
    pub direction: Direction,
    /// The transport that carried the handshake.
    pub transport: TransportKind,
}

impl PeerInfo {
    /// Whether it serves full blocks with witnesses (`NODE_NETWORK | NODE_WITNESS`).
    #[must_use]
    pub fn can_serve_blocks(&self) -> bool {
        self.services & BLOCK_DOWNLOAD == BLOCK_DOWNLOAD
    }
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisconnectReason {
    /// The byte stream could not be decoded (framing, checksum, decryption, handshake).
    #[error("transport: {0}")]
    Transport(#[from] TransportError),
    /// A message's payload did not decode as its type.
    #[error("malformed {command}: {error}")]
    Malformed {
        /// Its type.
        command: Command,
        /// What was wrong.
        error: PayloadError,
    },
    /// A protocol rule was broken (e.g. `wtxidrelay` after `verack`).
    #[error("protocol violation: {0}")]
    Protocol(&'static str),
    /// The version handshake did not finish in time.
    #[error("version handshake timeout")]
    HandshakeTimeout,
    /// A ping went unanswered too long.
    #[error("ping timeout")]
    PingTimeout,
    /// The inbound peer's version nonce is one of ours.
    #[error("connected to self")]
    SelfConnection,
    /// An outbound peer lacks the services we need.
    #[error("peer lacks required services (offers {services:#x})")]
    MissingServices {
        /// What it offers.
        services: u64,
    },
    /// The peer's protocol version is below Core's minimum.
    #[error("obsolete protocol version {0}")]
    ObsoleteVersion(i32),
    /// The remote side closed the connection.
    #[error("closed by peer")]
    Closed,
    /// A socket error.
    #[error("i/o error: {0:?}")]
    Io(std::io::ErrorKind),
    /// The connection could not be opened.
    #[error("connect failed: {0:?}")]
    ConnectFailed(std::io::ErrorKind),
    /// The peer did not read what we sent fast enough.
    #[error("send buffer full")]
    SendBufferFull,
    /// The layer above asked for it.
    #[error("disconnected locally")]
    Local,
    /// The address is discouraged for this session.
    #[error("address is discouraged")]
    Discouraged,
    /// The node is shutting down.
    #[error("shutting down")]
    Shutdown,
    /// A QUIC connection failed or was refused (TLS, hello, stream rules, limits).
    #[error("quic: {0}")]
    Quic(String),
}

/// What a peer reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerEvent {
    /// The version handshake completed (both `verack`s): application messages may flow.
    Connected(PeerInfo),
    /// An application message (after the handshake). `ping`/`pong` and the handshake messages
    /// are handled inside the peer and not reported.
    Message(Message),
    /// The connection is over; the last event for this peer.
    Disconnect {
        /// Why.
        reason: DisconnectReason,
        /// Core's "discouraged" verdict: refuse this address for the rest of the session.
        discourage: bool,
    },
}
