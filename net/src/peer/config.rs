//! What a peer state machine is told: node-wide settings and per-connection facts.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use crate::transport::Direction;
use crate::transport::TransportKind;
use crate::wire::services::{NODE_NETWORK, NODE_WITNESS};

/// Core's `DEFAULT_PEER_CONNECT_TIMEOUT`: the version handshake must finish within this.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);
/// Core's `PING_INTERVAL`.
pub const PING_INTERVAL: Duration = Duration::from_secs(2 * 60);
/// Core's `TIMEOUT_INTERVAL`: a ping unanswered this long ends the connection.
pub const PING_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// Node-wide peer settings, shared by every connection.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// The network's message start bytes.
    pub magic: [u8; 4],
    /// Services we announce in `version`.
    pub services: u64,
    /// Our BIP14 user agent.
    pub user_agent: String,
    /// Whether we want transaction announcements (the `version` relay flag).
    pub relay: bool,
    /// Services an outbound peer must offer or be disconnected (Core's desirable services);
    /// `NODE_NETWORK | NODE_WITNESS` by default, so outbound peers can serve blocks.
    pub required_services: u64,
    /// A `feefilter` to send after the handshake (sat/kvB); `None` sends none.
    pub fee_filter: Option<i64>,
    /// Version handshake deadline.
    pub handshake_timeout: Duration,
    /// Time between pings.
    pub ping_interval: Duration,
    /// Time a ping may stay unanswered.
    pub ping_timeout: Duration,
    /// Version nonces of our outbound connections, to detect connecting to ourselves.
    pub nonces: Arc<LocalNonces>,
}

impl PeerConfig {
    /// Core's defaults for the network with this magic; a block-relay node (no tx relay).
    #[must_use]
    pub fn new(magic: [u8; 4]) -> Self {
        Self {
            magic,
            services: NODE_NETWORK | NODE_WITNESS,
            user_agent: format!("/Sluice:{}/", env!("CARGO_PKG_VERSION")),
            relay: false,
            required_services: NODE_NETWORK | NODE_WITNESS,
            fee_filter: None,
            handshake_timeout: HANDSHAKE_TIMEOUT,
            ping_interval: PING_INTERVAL,
            ping_timeout: PING_TIMEOUT,
            nonces: Arc::default(),
        }
    }
}

/// Facts about one connection, fixed when it starts.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// Who opened it.
    pub direction: Direction,
    /// The remote address.
    pub addr: SocketAddr,
    /// Outbound: the transport to try (v2 falls back to v1 by reconnecting). Inbound: `V2`
    /// accepts both (v1 is detected from the first bytes), `V1` accepts only v1.
    pub transport: TransportKind,
    /// Our best height, announced in `version`.
    pub start_height: i32,
    /// The current UNIX time in seconds, announced in `version`.
    pub unix_time: i64,
}

/// The version nonces of our live outbound connections (Core's `CheckIncomingNonce`): an inbound
/// peer presenting one of them is ourselves.
#[derive(Debug, Default)]
pub struct LocalNonces(Mutex<HashSet<u64>>);

impl LocalNonces {
    fn set(&self) -> std::sync::MutexGuard<'_, HashSet<u64>> {
        // A poisoned set is still a valid set of u64s.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn insert(&self, nonce: u64) {
        self.set().insert(nonce);
    }

    pub(crate) fn remove(&self, nonce: u64) {
        self.set().remove(&nonce);
    }

    /// Whether no outbound connection is registered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.set().is_empty()
    }

    /// Whether `nonce` belongs to one of our outbound connections.
    #[must_use]
    pub fn contains(&self, nonce: u64) -> bool {
        self.set().contains(&nonce)
    }
}
