//! The tokio shell: listens, connects, and runs each connection's [`Peer`] in a task.
//!
//! The layer above gets one bounded stream of `(PeerId, PeerEvent)` and talks back through the
//! [`Network`] handle (`send`, `disconnect`, `discourage`, `connect`). Every buffer is bounded:
//! events (a full channel pauses reading from sockets), per-peer commands, and each peer's
//! unsent bytes (over the limit, the peer is disconnected: it is not reading).

mod conn;
mod quic;
mod quic_conn;
mod registry;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

pub use quic::QuicStats;
pub use registry::PeerId;

use crate::peer::{ConnInfo, DisconnectReason, Peer, PeerConfig, PeerEvent};
use crate::quic::{Fingerprint, QuicConfig};
use crate::transport::{Direction, TransportKind};
use crate::wire::Message;
use conn::{drive, Outcome};
use registry::{PeerCommand, Refusal, Registry};

/// Settings of the network shell.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// Settings every peer shares (magic, services, user agent, timeouts).
    pub peer: PeerConfig,
    /// Addresses to listen on; empty for no inbound connections.
    pub listen: Vec<SocketAddr>,
    /// Most inbound connections at once.
    pub max_inbound: usize,
    /// Most outbound connections at once (including ones still connecting).
    pub max_outbound: usize,
    /// Offer and try BIP324 v2 (outbound falls back to v1 as Core does).
    pub v2: bool,
    /// Capacity of the event channel to the layer above.
    pub event_capacity: usize,
    /// Capacity of each peer's command channel.
    pub command_capacity: usize,
    /// Unsent bytes a peer may accumulate before it is disconnected.
    pub max_send_queue: usize,
    /// Time allowed for a TCP connect.
    pub connect_timeout: Duration,
    /// QUIC between Sluice nodes; `None`: TCP only.
    pub quic: Option<QuicConfig>,
}

impl NetworkConfig {
    /// Defaults around the given peer settings: no listening, 117 inbound and 8 outbound
    /// (Core's 125 total with 8 full-relay outbound), v2 on.
    #[must_use]
    pub fn new(peer: PeerConfig) -> Self {
        Self {
            peer,
            listen: Vec::new(),
            max_inbound: 117,
            max_outbound: 8,
            v2: true,
            event_capacity: 1024,
            command_capacity: 256,
            // A few full blocks' worth: enough to serve getdata bursts, small enough to bound
            // memory per peer.
            max_send_queue: 32 * 1024 * 1024,
            connect_timeout: Duration::from_secs(5),
            quic: None,
        }
    }
}

/// Why a command could not be delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// No live connection with that id.
    #[error("unknown or disconnected peer")]
    UnknownPeer,
    /// The peer's command queue is full (only from `try_send`).
    #[error("peer command queue full")]
    Full,
    /// The connection limit for that direction is reached.
    #[error("too many connections")]
    TooManyConnections,
    /// The address is discouraged for this session.
    #[error("address is discouraged")]
    Discouraged,
    /// The network is shutting down.
    #[error("network shut down")]
    Shutdown,
    /// QUIC is not configured.
    #[error("quic is not enabled")]
    NoQuic,
}

#[derive(Debug)]
pub(crate) struct Shared {
    peer_config: Arc<PeerConfig>,
    v2: bool,
    command_capacity: usize,
    max_send_queue: usize,
    connect_timeout: Duration,
    events: mpsc::Sender<(PeerId, PeerEvent)>,
    registry: Mutex<Registry>,
    start_height: AtomicI32,
    shutdown: watch::Sender<bool>,
    quic: Option<Arc<quic::QuicShared>>,
    /// Bytes read from and written to every peer's socket (for metrics).
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
}

impl Shared {
    fn registry(&self) -> MutexGuard<'_, Registry> {
        // The registry's invariants hold between statements; a panic elsewhere leaves it usable.
        self.registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn conn_info(&self, direction: Direction, addr: SocketAddr, kind: TransportKind) -> ConnInfo {
        let unix_time = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        ConnInfo {
            direction,
            addr,
            transport: kind,
            start_height: self.start_height.load(Ordering::Relaxed),
            unix_time,
        }
    }

    fn kind(&self) -> TransportKind {
        if self.v2 {
            TransportKind::V2
        } else {
            TransportKind::V1
        }
    }
}

/// Removes a connection from the registry however its task ends.
struct SlotGuard<'a>(&'a Shared, PeerId);

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        self.0.registry().unregister(self.1);
    }
}

/// Handle to the running network; cheap to clone.
#[derive(Debug, Clone)]
pub struct Network {
    shared: Arc<Shared>,
    local_addrs: Arc<[SocketAddr]>,
    quic_addr: Option<SocketAddr>,
}

impl Network {
    /// Binds the listen addresses and starts accepting. Must be called within a tokio runtime.
    ///
    /// # Errors
    /// Binding a listen address failed.
    pub async fn start(
        config: NetworkConfig,
    ) -> std::io::Result<(Self, mpsc::Receiver<(PeerId, PeerEvent)>)> {
        let (events, rx) = mpsc::channel(config.event_capacity.max(1));
        let shared = Arc::new(Shared {
            peer_config: Arc::new(config.peer),
            v2: config.v2,
            command_capacity: config.command_capacity,
            max_send_queue: config.max_send_queue,
            connect_timeout: config.connect_timeout,
            events,
            registry: Mutex::new(Registry::new(config.max_inbound, config.max_outbound)),
            start_height: AtomicI32::new(0),
            shutdown: watch::Sender::new(false),
            quic: config.quic.map(quic::QuicShared::bind).transpose()?,
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
        });
        let mut local_addrs = Vec::new();
        for addr in &config.listen {
            let listener = TcpListener::bind(addr).await?;
            local_addrs.push(listener.local_addr()?);
            tracing::info!(addr = %listener.local_addr()?, "listening");
            tokio::spawn(accept_loop(shared.clone(), listener));
        }
        let mut quic_addr = None;
        if let Some(q) = &shared.quic {
            let addr = q.endpoint.local_addr()?;
            if q.config.listen.is_some() {
                tracing::info!(%addr, transport = "quic", open = q.config.open,
                    fingerprint = %q.config.identity.fingerprint(), "listening");
                tokio::spawn(quic::accept_loop(shared.clone(), q.clone()));
                quic_addr = Some(addr);
            }
        }
        let network = Self {
            shared,
            local_addrs: local_addrs.into(),
            quic_addr,
        };
        Ok((network, rx))
    }

    /// The addresses actually bound (port 0 resolved).
    #[must_use]
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// Opens an outbound connection. The id is returned at once; `Connected` or `Disconnect`
    /// follows on the event stream.
    ///
    /// # Errors
    /// [`NetError::TooManyConnections`], [`NetError::Discouraged`], [`NetError::Shutdown`].
    pub fn connect(&self, addr: SocketAddr) -> Result<PeerId, NetError> {
        if *self.shared.shutdown.borrow() {
            return Err(NetError::Shutdown);
        }
        let (id, commands) = self
            .shared
            .registry()
            .register(addr, Direction::Outbound, self.shared.command_capacity)
            .map_err(|r| match r {
                Refusal::Full => NetError::TooManyConnections,
                Refusal::Discouraged => NetError::Discouraged,
            })?;
        tokio::spawn(outbound(self.shared.clone(), id, addr, commands));
        Ok(id)
    }

    /// The QUIC listen address actually bound, if listening.
    #[must_use]
    pub fn quic_addr(&self) -> Option<SocketAddr> {
        self.quic_addr
    }

    /// Opens an outbound QUIC connection to a peer that must authenticate with `key`. Like
    /// [`Self::connect`], the id comes at once and `Connected` or `Disconnect` follows.
    ///
    /// # Errors
    /// [`NetError::NoQuic`], [`NetError::TooManyConnections`], [`NetError::Discouraged`],
    /// [`NetError::Shutdown`].
    pub fn connect_quic(&self, addr: SocketAddr, key: Fingerprint) -> Result<PeerId, NetError> {
        if *self.shared.shutdown.borrow() {
            return Err(NetError::Shutdown);
        }
        let quic = self.shared.quic.clone().ok_or(NetError::NoQuic)?;
        let (id, commands) = self
            .shared
            .registry()
            .register(addr, Direction::Outbound, self.shared.command_capacity)
            .map_err(|r| match r {
                Refusal::Full => NetError::TooManyConnections,
                Refusal::Discouraged => NetError::Discouraged,
            })?;
        tokio::spawn(quic::outbound(
            self.shared.clone(),
            quic,
            id,
            addr,
            key,
            commands,
        ));
        Ok(id)
    }

    /// Counters of QUIC admission (per-IP refusals, retries, failed and completed handshakes).
    #[must_use]
    pub fn quic_stats(&self) -> Option<&QuicStats> {
        self.shared.quic.as_ref().map(|q| &q.stats)
    }

    /// Queues a message to a peer, waiting while its command queue is full.
    ///
    /// # Errors
    /// [`NetError::UnknownPeer`] when it is not (or no longer) connected.
    pub async fn send(&self, peer: PeerId, msg: Message) -> Result<(), NetError> {
        let tx = self
            .shared
            .registry()
            .sender(peer)
            .ok_or(NetError::UnknownPeer)?;
        tx.send(PeerCommand::Send(msg))
            .await
            .map_err(|_| NetError::UnknownPeer)
    }

    /// Queues a message without waiting.
    ///
    /// # Errors
    /// [`NetError::UnknownPeer`], [`NetError::Full`].
    pub fn try_send(&self, peer: PeerId, msg: Message) -> Result<(), NetError> {
        let tx = self
            .shared
            .registry()
            .sender(peer)
            .ok_or(NetError::UnknownPeer)?;
        tx.try_send(PeerCommand::Send(msg)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => NetError::Full,
            mpsc::error::TrySendError::Closed(_) => NetError::UnknownPeer,
        })
    }

    /// Ends a connection; a `Disconnect { reason: Local }` event follows.
    pub fn disconnect(&self, peer: PeerId) {
        self.end(peer, false);
    }

    /// Ends a connection and refuses its address for the rest of the session (Core's
    /// discouragement, e.g. after an invalid block).
    pub fn discourage(&self, peer: PeerId) {
        self.end(peer, true);
    }

    fn end(&self, peer: PeerId, discourage: bool) {
        let Some(tx) = self.shared.registry().sender(peer) else {
            return;
        };
        // The command queue may be full or closed; either way the connection is told to end
        // by a task that waits for room.
        tokio::spawn(async move {
            let _ = tx.send(PeerCommand::Disconnect { discourage }).await;
        });
    }

    /// Whether an address is discouraged.
    #[must_use]
    pub fn is_discouraged(&self, addr: SocketAddr) -> bool {
        self.shared.registry().is_discouraged(addr)
    }

    /// The height announced in `version` to new connections.
    pub fn set_start_height(&self, height: i32) {
        self.shared.start_height.store(height, Ordering::Relaxed);
    }

    /// Live (inbound, outbound) connection counts, including outbound ones still connecting.
    #[must_use]
    pub fn connection_counts(&self) -> (usize, usize) {
        self.shared.registry().counts()
    }

    /// Bytes (received, sent) over every connection so far, as on the wire.
    #[must_use]
    pub fn traffic(&self) -> (u64, u64) {
        (
            self.shared.bytes_in.load(Ordering::Relaxed),
            self.shared.bytes_out.load(Ordering::Relaxed),
        )
    }

    /// Stops listening and ends every connection (each reports `Disconnect { Shutdown }`).
    pub fn shutdown(&self) {
        self.shared.shutdown.send_replace(true);
        for tx in self.shared.registry().all() {
            let _ = tx.try_send(PeerCommand::Disconnect { discourage: false });
        }
    }
}

async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    let mut shutdown = shared.shutdown.subscribe();
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.changed() => return,
        };
        let (stream, addr) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let registered =
            shared
                .registry()
                .register(addr, Direction::Inbound, shared.command_capacity);
        match registered {
            Ok((id, commands)) => {
                tracing::debug!(%id, %addr, "inbound connection");
                tokio::spawn(inbound(shared.clone(), id, stream, addr, commands));
            }
            Err(refusal) => tracing::debug!(%addr, ?refusal, "inbound connection refused"),
        }
    }
}

async fn inbound(
    shared: Arc<Shared>,
    id: PeerId,
    stream: TcpStream,
    addr: SocketAddr,
    mut commands: mpsc::Receiver<PeerCommand>,
) {
    let _slot = SlotGuard(&shared, id);
    let _ = stream.set_nodelay(true);
    let info = shared.conn_info(Direction::Inbound, addr, shared.kind());
    let peer = Peer::new(shared.peer_config.clone(), info, Instant::now());
    drive(&shared, id, stream, peer, &mut commands).await;
}

async fn outbound(
    shared: Arc<Shared>,
    id: PeerId,
    addr: SocketAddr,
    mut commands: mpsc::Receiver<PeerCommand>,
) {
    let _slot = SlotGuard(&shared, id);
    let mut kind = shared.kind();
    loop {
        let connect = tokio::time::timeout(shared.connect_timeout, TcpStream::connect(addr));
        let stream = match connect.await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                return report(&shared, id, DisconnectReason::ConnectFailed(e.kind())).await
            }
            Err(_) => {
                let reason = DisconnectReason::ConnectFailed(std::io::ErrorKind::TimedOut);
                return report(&shared, id, reason).await;
            }
        };
        let _ = stream.set_nodelay(true);
        tracing::debug!(%id, %addr, ?kind, "outbound connection");
        let info = shared.conn_info(Direction::Outbound, addr, kind);
        let peer = Peer::new(shared.peer_config.clone(), info, Instant::now());
        match drive(&shared, id, stream, peer, &mut commands).await {
            Outcome::Done => return,
            Outcome::RetryV1 if kind == TransportKind::V2 => {
                tracing::debug!(%id, %addr, "v2 refused, reconnecting with v1");
                kind = TransportKind::V1;
            }
            Outcome::RetryV1 => return report(&shared, id, DisconnectReason::Closed).await,
        }
    }
}

async fn report(shared: &Shared, id: PeerId, reason: DisconnectReason) {
    let ev = PeerEvent::Disconnect {
        reason,
        discourage: false,
    };
    let _ = shared.events.send((id, ev)).await;
}
