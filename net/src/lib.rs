//! Bitcoin P2P for Sluice (see README.md): the v1 wire codec, the BIP324 v2 transport, a sans-IO
//! peer state machine and a thin tokio shell that runs peers over TCP.
#![warn(missing_docs)]

pub mod fuzz_harness;
pub mod peer;
pub mod quic;
pub mod shell;
pub mod sync;
pub mod transport;
pub mod txrelay;
pub mod upload;
pub mod wire;

pub use peer::{ConnInfo, Direction, DisconnectReason, Peer, PeerConfig, PeerEvent, PeerInfo};
pub use shell::{NetError, Network, NetworkConfig, PeerId, QuicStats};
pub use transport::TransportKind;
pub use wire::Message;
