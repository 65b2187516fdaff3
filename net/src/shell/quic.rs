//! QUIC in the shell: the endpoint, the accept loop with its admission limits (per-IP count,
//! Retry under load), outbound connects, and the hello on the control stream. A connection
//! that passes all of it is registered like a TCP one and run by `quic_conn::drive`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use quinn::VarInt;
use tokio::sync::mpsc;

use super::quic_conn::drive;
use super::registry::{PeerCommand, PeerId};
use super::{report, Shared, SlotGuard};
use crate::peer::{DisconnectReason, Peer};
use crate::quic::protocol::{close, Hello, HELLO_LEN};
use crate::quic::{tls, Fingerprint, QuicConfig, QuicLimits, QuicSetupError};
use crate::transport::{Direction, TransportKind};

/// Counters of the QUIC admission path (for logs and tests).
#[derive(Debug, Default)]
pub struct QuicStats {
    /// Attempts refused for the per-IP limit.
    pub refused_per_ip: AtomicU64,
    /// Attempts sent a Retry (address validation) under load.
    pub retries: AtomicU64,
    /// Connections whose TLS handshake, ALPN or hello failed.
    pub failed_handshakes: AtomicU64,
    /// Connections that completed the hello.
    pub established: AtomicU64,
}

#[derive(Debug)]
pub(crate) struct QuicShared {
    pub(crate) endpoint: quinn::Endpoint,
    pub(crate) config: QuicConfig,
    handshaking: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    pub(crate) stats: QuicStats,
}

impl QuicShared {
    /// Binds the endpoint (server when listening, client-only otherwise).
    pub(crate) fn bind(config: QuicConfig) -> Result<Arc<Self>, std::io::Error> {
        let invalid = |e: QuicSetupError| std::io::Error::new(std::io::ErrorKind::InvalidInput, e);
        config.limits.validate().map_err(|e| invalid(e.into()))?;
        let endpoint = match config.listen {
            Some(addr) => {
                quinn::Endpoint::server(tls::server_config(&config).map_err(invalid)?, addr)?
            }
            None => quinn::Endpoint::client(SocketAddr::from(([0, 0, 0, 0], 0)))?,
        };
        Ok(Arc::new(Self {
            endpoint,
            config,
            handshaking: AtomicUsize::new(0),
            per_ip: Mutex::new(HashMap::new()),
            stats: QuicStats::default(),
        }))
    }

    fn limits(&self) -> &QuicLimits {
        &self.config.limits
    }

    fn per_ip(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.per_ip
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Holds one of an IP's connection slots until dropped.
struct IpSlot(Arc<QuicShared>, IpAddr);

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut m = self.0.per_ip();
        if let Some(n) = m.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.1);
            }
        }
    }
}

/// Counts a handshake in progress until dropped.
struct Handshaking<'a>(&'a AtomicUsize);

impl Drop for Handshaking<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Why a QUIC connection did not get as far as the Bitcoin handshake.
#[derive(Debug)]
pub(crate) struct Refused {
    pub(crate) code: u32,
    pub(crate) reason: String,
}

impl Refused {
    fn new(code: u32, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
        }
    }
}

/// Writes our hello, reads theirs, negotiates. On failure the connection is closed with a code
/// and reason the other side logs.
async fn hello(
    conn: &quinn::Connection,
    send: &mut quinn::SendStream,
    recv: &mut quinn::RecvStream,
) -> Result<(), Refused> {
    let ours = Hello::ours();
    send.write_all(&ours.encode())
        .await
        .map_err(|e| Refused::new(close::PROTOCOL, format!("writing hello: {e}")))?;
    let mut buf = [0u8; HELLO_LEN];
    if let Err(e) = recv.read_exact(&mut buf).await {
        // The peer may have refused our hello: its close reason says why.
        let reason = match conn.close_reason() {
            Some(r) => format!("refused by peer: {r}"),
            None => format!("reading hello: {e}"),
        };
        return Err(Refused::new(close::PROTOCOL, reason));
    }
    let theirs = Hello::decode(&buf).map_err(|e| Refused::new(close::PROTOCOL, e.to_string()))?;
    ours.negotiate(&theirs)
        .map_err(|e| Refused::new(close::VERSION, e.to_string()))?;
    Ok(())
}

fn refuse(conn: &quinn::Connection, r: &Refused) {
    // The local close needs no reason from the peer; ours goes in the CONNECTION_CLOSE frame.
    conn.close(VarInt::from_u32(r.code), r.reason.as_bytes());
}

pub(crate) async fn accept_loop(shared: Arc<Shared>, quic: Arc<QuicShared>) {
    let mut shutdown = shared.shutdown.subscribe();
    loop {
        let incoming = tokio::select! {
            i = quic.endpoint.accept() => match i {
                Some(i) => i,
                None => return,
            },
            _ = shutdown.changed() => return,
        };
        let addr = incoming.remote_address();
        let ip = addr.ip().to_canonical();
        if shared.registry().is_discouraged(addr) {
            tracing::debug!(%addr, "quic: discouraged address refused");
            incoming.refuse();
            continue;
        }
        {
            let mut per_ip = quic.per_ip();
            let n = per_ip.get(&ip).copied().unwrap_or(0);
            if n >= quic.limits().max_connections_per_ip {
                drop(per_ip);
                quic.stats.refused_per_ip.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%addr, "quic: per-IP connection limit, refused");
                incoming.refuse();
                continue;
            }
            if quic.handshaking.load(Ordering::Relaxed) >= quic.limits().retry_above_handshakes
                && !incoming.remote_address_validated()
                && incoming.may_retry()
            {
                drop(per_ip);
                quic.stats.retries.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = incoming.retry() {
                    e.into_incoming().refuse();
                }
                continue;
            }
            // Only admitted IPs get an entry (removed at zero): the map is bounded by the
            // connections we hold, not by the addresses that knocked.
            per_ip.insert(ip, n + 1);
        }
        quic.handshaking.fetch_add(1, Ordering::Relaxed);
        let slot = IpSlot(quic.clone(), ip);
        tokio::spawn(inbound(shared.clone(), quic.clone(), incoming, slot));
    }
}

async fn inbound(
    shared: Arc<Shared>,
    quic: Arc<QuicShared>,
    incoming: quinn::Incoming,
    _slot: IpSlot,
) {
    let addr = incoming.remote_address();
    let hs = Handshaking(&quic.handshaking);
    let timeout = quic.limits().handshake_timeout;
    let mut conn_out = None;
    let attempt = async {
        let conn = incoming
            .await
            .map_err(|e| Refused::new(close::REFUSED, format!("tls handshake: {e}")))?;
        conn_out = Some(conn.clone());
        let (fp, alpn) = tls::peer_of(&conn);
        if !alpn {
            return Err(Refused::new(close::PROTOCOL, "ALPN is not sluice/1"));
        }
        let fp = fp.ok_or_else(|| Refused::new(close::PROTOCOL, "no peer certificate"))?;
        let (mut send, mut recv) = conn
            .accept_bi()
            .await
            .map_err(|e| Refused::new(close::PROTOCOL, format!("no control stream: {e}")))?;
        hello(&conn, &mut send, &mut recv).await?;
        Ok::<_, Refused>((conn, send, recv, fp))
    };
    let result = match tokio::time::timeout(timeout, attempt).await {
        Ok(r) => r,
        Err(_) => Err(Refused::new(close::REFUSED, "handshake timeout")),
    };
    drop(hs);
    let (conn, send, recv, fp) = match result {
        Ok(x) => x,
        Err(r) => {
            quic.stats.failed_handshakes.fetch_add(1, Ordering::Relaxed);
            tracing::info!(%addr, reason = %r.reason, "quic inbound refused");
            if let Some(c) = conn_out {
                refuse(&c, &r);
            }
            return;
        }
    };
    let registered = shared
        .registry()
        .register(addr, Direction::Inbound, shared.command_capacity);
    let (id, mut commands) = match registered {
        Ok(x) => x,
        Err(refusal) => {
            tracing::info!(%addr, ?refusal, "quic inbound refused");
            refuse(&conn, &Refused::new(close::REFUSED, "too many connections"));
            return;
        }
    };
    quic.stats.established.fetch_add(1, Ordering::Relaxed);
    let _guard = SlotGuard(&shared, id);
    tracing::info!(%id, %addr, fingerprint = %fp, transport = "quic", "inbound connection");
    let info = shared.conn_info(Direction::Inbound, addr, TransportKind::Quic);
    let peer = Peer::new(shared.peer_config.clone(), info, Instant::now());
    drive(
        &shared,
        quic.limits(),
        id,
        conn,
        send,
        recv,
        peer,
        &mut commands,
    )
    .await;
}

pub(crate) async fn outbound(
    shared: Arc<Shared>,
    quic: Arc<QuicShared>,
    id: PeerId,
    addr: SocketAddr,
    expect: Fingerprint,
    mut commands: mpsc::Receiver<PeerCommand>,
) {
    let _guard = SlotGuard(&shared, id);
    let limits = quic.limits().clone();
    let mut conn_out = None;
    let attempt = async {
        let cc = tls::client_config(&quic.config.identity, expect, &limits)
            .map_err(|e| Refused::new(close::REFUSED, e.to_string()))?;
        let connecting = quic
            .endpoint
            .connect_with(cc, addr, "sluice")
            .map_err(|e| Refused::new(close::REFUSED, format!("connect: {e}")))?;
        let conn = connecting
            .await
            .map_err(|e| Refused::new(close::REFUSED, format!("tls handshake: {e}")))?;
        conn_out = Some(conn.clone());
        if !tls::peer_of(&conn).1 {
            return Err(Refused::new(close::PROTOCOL, "ALPN is not sluice/1"));
        }
        let (mut send, mut recv) = conn
            .open_bi()
            .await
            .map_err(|e| Refused::new(close::PROTOCOL, format!("opening control stream: {e}")))?;
        hello(&conn, &mut send, &mut recv).await?;
        Ok::<_, Refused>((conn, send, recv))
    };
    let result = match tokio::time::timeout(limits.handshake_timeout, attempt).await {
        Ok(r) => r,
        Err(_) => Err(Refused::new(close::REFUSED, "handshake timeout")),
    };
    let (conn, send, recv) = match result {
        Ok(x) => x,
        Err(r) => {
            quic.stats.failed_handshakes.fetch_add(1, Ordering::Relaxed);
            tracing::info!(%id, %addr, fingerprint = %expect, reason = %r.reason, "quic outbound failed");
            if let Some(c) = conn_out {
                refuse(&c, &r);
            }
            return report(&shared, id, DisconnectReason::Quic(r.reason)).await;
        }
    };
    quic.stats.established.fetch_add(1, Ordering::Relaxed);
    tracing::info!(%id, %addr, fingerprint = %expect, transport = "quic", "outbound connection");
    let info = shared.conn_info(Direction::Outbound, addr, TransportKind::Quic);
    let peer = Peer::new(shared.peer_config.clone(), info, Instant::now());
    drive(&shared, &limits, id, conn, send, recv, peer, &mut commands).await;
}
