//! QUIC between Sluice nodes: identity (a persistent key, pinned by fingerprint), mutual TLS
//! with fingerprint verifiers, explicit resource limits, and the sans-IO parts of the protocol
//! (hello, stream routing, length checks). The connections themselves run in
//! `crate::shell::quic`, feeding the same [`crate::Peer`] state machine as TCP.
//!
//! Crypto provider: rustls on `ring`. `aws-lc-rs` compiles AWS-LC, a large C/assembly tree
//! driven by cmake, on every clean build of this project's 2-core builders; ring compiles a
//! few C and pre-generated assembly files and provides everything QUIC needs here (TLS 1.3
//! AEADs, X25519, ed25519 and ECDSA P-256 signatures).

pub mod identity;
pub mod limits;
pub mod protocol;
pub mod tls;
pub mod verify;

use std::net::SocketAddr;
use std::sync::Arc;

pub use identity::{Fingerprint, Identity, IdentityError, PeerPin, PinError, ResolvedPin};
pub use limits::{Congestion, LimitError, QuicLimits};
pub use protocol::{Agreed, Hello, HelloError, ALPN};

/// QUIC settings of a [`crate::Network`].
#[derive(Debug, Clone)]
pub struct QuicConfig {
    /// Address to accept QUIC connections on; `None`: outbound only (an ephemeral port).
    pub listen: Option<SocketAddr>,
    /// Our key and certificate.
    pub identity: Arc<Identity>,
    /// Keys allowed to connect to us (the pinned peers).
    pub pinned: Vec<Fingerprint>,
    /// Accept any key inbound (treated then like an inbound TCP peer); off by default.
    pub open: bool,
    /// Resource limits.
    pub limits: QuicLimits,
}

impl QuicConfig {
    /// Outbound-only QUIC with this identity, nobody pinned, default limits.
    #[must_use]
    pub fn new(identity: Arc<Identity>) -> Self {
        Self {
            listen: None,
            identity,
            pinned: Vec::new(),
            open: false,
            limits: QuicLimits::default(),
        }
    }
}

/// Why QUIC could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum QuicSetupError {
    /// A limit is inconsistent.
    #[error(transparent)]
    Limit(#[from] LimitError),
    /// rustls refused the configuration.
    #[error("tls: {0}")]
    Tls(#[from] rustls::Error),
    /// quinn refused the TLS configuration.
    #[error("quic tls: {0}")]
    NoInitialCipherSuite(#[from] quinn::crypto::rustls::NoInitialCipherSuite),
}
