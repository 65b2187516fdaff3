//! The sans-IO peer: one connection's protocol state. Bytes and time in; bytes to write, events
//! and the next deadline out. The tokio shell (`crate::shell`) only moves bytes and timers.
//!
//! Handshake as Core does it: the outbound side sends `version` at once, the inbound side answers
//! the peer's `version` with its own; on receiving `version` each side sends `wtxidrelay` and
//! `sendaddrv2` (BIP339/BIP155, both before `verack`) and then `verack`. The connection is up
//! when the peer's `verack` arrives; we then send `sendheaders`, an optional `feefilter` and the
//! first `ping`.

mod config;
mod event;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use config::{
    ConnInfo, Direction, LocalNonces, PeerConfig, HANDSHAKE_TIMEOUT, PING_INTERVAL, PING_TIMEOUT,
};
pub use event::{DisconnectReason, PeerEvent, PeerInfo};

use crate::transport::Transport;
use crate::wire::command::names;
use crate::wire::version::MIN_PEER_PROTO_VERSION;
use crate::wire::{Message, NetAddr, RawMessage, VersionMessage, PROTOCOL_VERSION};

/// Peers at or above this send `wtxidrelay` and `sendaddrv2` (Core's `WTXID_RELAY_VERSION`;
/// Core sends `sendaddrv2` from 70016 too).
const WTXID_RELAY_VERSION: i32 = 70016;
/// `sendheaders` is understood from this version (BIP130).
const SENDHEADERS_VERSION: i32 = 70012;
/// `feefilter` is understood from this version (BIP133).
const FEEFILTER_VERSION: i32 = 70013;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for the peer's `version`.
    AwaitVersion,
    /// Got `version`, sent `verack`, waiting for theirs.
    AwaitVerack,
    /// Handshake done.
    Connected,
    /// Disconnect reported; everything further is ignored.
    Closed,
}

/// One peer connection's state machine.
#[derive(Debug)]
pub struct Peer {
    config: Arc<PeerConfig>,
    conn: ConnInfo,
    transport: Transport,
    state: State,
    nonce: u64,
    started: Instant,
    their_version: Option<VersionMessage>,
    wtxidrelay: bool,
    sendaddrv2: bool,
    sendheaders: bool,
    /// Outstanding ping: nonce and when it was sent.
    ping: Option<(u64, Instant)>,
    next_ping: Instant,
    last_rtt: Option<Duration>,
    received: VecDeque<RawMessage>,
    events: VecDeque<PeerEvent>,
}

impl Peer {
    /// A new connection's state machine; an outbound peer queues its `version` at once.
    #[must_use]
    pub fn new(config: Arc<PeerConfig>, conn: ConnInfo, now: Instant) -> Self {
        let transport = Transport::new(config.magic, conn.direction, conn.transport);
        let nonce = nonzero_random();
        if conn.direction == Direction::Outbound {
            config.nonces.insert(nonce);
        }
        let mut peer = Self {
            config,
            conn,
            transport,
            state: State::AwaitVersion,
            nonce,
            started: now,
            their_version: None,
            wtxidrelay: false,
            sendaddrv2: false,
            sendheaders: false,
            ping: None,
            next_ping: now,
            last_rtt: None,
            received: VecDeque::new(),
            events: VecDeque::new(),
        };
        if peer.conn.direction == Direction::Outbound {
            peer.send_version();
        }
        peer
    }

    /// Feeds bytes read from the socket.
    pub fn handle_bytes(&mut self, bytes: &[u8], now: Instant) {
        if self.state == State::Closed {
            return;
        }
        if let Err(e) = self.transport.receive(bytes, &mut self.received) {
            self.received.clear();
            if self.transport.should_reconnect_v1() {
                // Our v2 attempt met a v1 peer: end quietly, the caller retries with v1.
                tracing::debug!(peer = %self.conn.addr, "peer answered v2 in v1");
                self.state = State::Closed;
                return;
            }
            let discourage = e.discourage();
            self.close(e.into(), discourage);
            return;
        }
        while let Some(raw) = self.received.pop_front() {
            if self.state == State::Closed {
                self.received.clear();
                break;
            }
            self.handle_message(raw, now);
        }
    }

    /// Fires due timers: handshake timeout, ping, ping timeout.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.state {
            State::Closed => {}
            State::AwaitVersion | State::AwaitVerack => {
                if now >= self.started + self.config.handshake_timeout {
                    self.close(DisconnectReason::HandshakeTimeout, false);
                }
            }
            State::Connected => match self.ping {
                Some((_, sent)) if now >= sent + self.config.ping_timeout => {
                    self.close(DisconnectReason::PingTimeout, false);
                }
                Some(_) => {}
                None if now >= self.next_ping => self.send_ping(now),
                None => {}
            },
        }
    }

    /// The next instant [`Self::handle_timeout`] wants to be called; `None` once closed.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Closed => None,
            State::AwaitVersion | State::AwaitVerack => {
                Some(self.started + self.config.handshake_timeout)
            }
            State::Connected => Some(match self.ping {
                Some((_, sent)) => sent + self.config.ping_timeout,
                None => self.next_ping,
            }),
        }
    }

    /// The next event for the layer above.
    pub fn poll_event(&mut self) -> Option<PeerEvent> {
        self.events.pop_front()
    }

    /// The next bytes to write to the socket.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transport.poll_transmit()
    }

    /// Queues a message to the peer (dropped once the peer is closed).
    pub fn send(&mut self, msg: &Message) {
        if self.state == State::Closed {
            return;
        }
        tracing::trace!(peer = %self.conn.addr, command = %msg.command(), "send");
        self.transport.send(msg.command(), &msg.payload());
    }

    /// Ends the connection for a reason found outside the state machine (socket closed, local
    /// request, send buffer full). Reports `Disconnect` unless already closed.
    pub fn disconnect(&mut self, reason: DisconnectReason) {
        self.close(reason, false);
    }

    /// Whether the connection is over.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Whether the handshake has completed.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.state == State::Connected
    }

    /// Bytes queued for the socket and not yet taken by [`Self::poll_transmit`].
    #[must_use]
    pub fn queued_bytes(&self) -> usize {
        self.transport.queued_bytes()
    }

    /// Whether the peer asked for block announcements by `headers` (BIP130).
    #[must_use]
    pub fn prefers_headers(&self) -> bool {
        self.sendheaders
    }

    /// Round-trip time of the last answered ping.
    #[must_use]
    pub fn ping_rtt(&self) -> Option<Duration> {
        self.last_rtt
    }

    /// The connection facts this peer was created with.
    #[must_use]
    pub fn conn(&self) -> &ConnInfo {
        &self.conn
    }

    /// Asked when the socket closes: whether this was an outbound v2 attempt to a peer that
    /// did not speak v2, to be retried over v1 (Core's `ShouldReconnectV1`).
    #[must_use]
    pub fn should_reconnect_v1(&self) -> bool {
        self.state != State::Connected && self.transport.should_reconnect_v1()
    }

    fn close(&mut self, reason: DisconnectReason, discourage: bool) {
        if self.state == State::Closed {
            return;
        }
        tracing::debug!(peer = %self.conn.addr, %reason, discourage, "disconnect");
        self.state = State::Closed;
        self.events
            .push_back(PeerEvent::Disconnect { reason, discourage });
    }

    fn send_version(&mut self) {
        let msg = VersionMessage {
            version: PROTOCOL_VERSION,
            services: self.config.services,
            timestamp: self.conn.unix_time,
            receiver: NetAddr::from_socket(0, self.conn.addr),
            sender: NetAddr {
                services: self.config.services,
                ..NetAddr::unspecified()
            },
            nonce: self.nonce,
            user_agent: self.config.user_agent.clone(),
            start_height: self.conn.start_height,
            relay: self.config.relay,
        };
        self.send(&Message::Version(msg));
    }

    fn send_ping(&mut self, now: Instant) {
        let nonce = nonzero_random();
        self.ping = Some((nonce, now));
        self.next_ping = now + self.config.ping_interval;
        self.send(&Message::Ping(nonce));
    }

    fn handle_message(&mut self, raw: RawMessage, now: Instant) {
        let command = raw.command;
        tracing::trace!(peer = %self.conn.addr, %command, len = raw.payload.len(), "received");
        // Core ignores (without parsing) everything before `version`, and everything but the
        // handshake messages before `verack`.
        let wanted = match self.state {
            State::AwaitVersion => command == names::VERSION,
            State::AwaitVerack => matches!(
                command,
                names::VERSION | names::VERACK | names::WTXIDRELAY | names::SENDADDRV2
            ),
            State::Connected => true,
            State::Closed => false,
        };
        if !wanted {
            tracing::debug!(peer = %self.conn.addr, %command, "ignored before handshake");
            return;
        }
        let msg = match Message::decode(command, raw.payload) {
            Ok(m) => m,
            Err(error) => {
                let discourage = error.discourage();
                self.close(DisconnectReason::Malformed { command, error }, discourage);
                return;
            }
        };
        match msg {
            Message::Version(v) => self.on_version(v),
            Message::Verack => self.on_verack(now),
            Message::WtxidRelay | Message::SendAddrV2 if self.state == State::Connected => {
                self.close(
                    DisconnectReason::Protocol("wtxidrelay/sendaddrv2 after verack"),
                    false,
                );
            }
            Message::WtxidRelay => self.wtxidrelay = true,
            Message::SendAddrV2 => self.sendaddrv2 = true,
            Message::Ping(nonce) => self.send(&Message::Pong(nonce)),
            Message::Pong(nonce) => {
                if let Some((sent_nonce, sent)) = self.ping {
                    if nonce == sent_nonce {
                        self.ping = None;
                        self.last_rtt = Some(now.saturating_duration_since(sent));
                    }
                }
            }
            Message::SendHeaders => {
                self.sendheaders = true;
                self.events
                    .push_back(PeerEvent::Message(Message::SendHeaders));
            }
            other => self.events.push_back(PeerEvent::Message(other)),
        }
    }

    fn on_version(&mut self, v: VersionMessage) {
        if self.their_version.is_some() {
            tracing::debug!(peer = %self.conn.addr, "redundant version ignored");
            return;
        }
        let outbound = self.conn.direction == Direction::Outbound;
        let required = self.config.required_services;
        if outbound && v.services & required != required {
            self.close(
                DisconnectReason::MissingServices {
                    services: v.services,
                },
                false,
            );
            return;
        }
        if v.version < MIN_PEER_PROTO_VERSION {
            self.close(DisconnectReason::ObsoleteVersion(v.version), false);
            return;
        }
        if !outbound && self.config.nonces.contains(v.nonce) {
            self.close(DisconnectReason::SelfConnection, false);
            return;
        }
        if !outbound {
            self.send_version();
        }
        if v.version.min(PROTOCOL_VERSION) >= WTXID_RELAY_VERSION {
            self.send(&Message::WtxidRelay);
            self.send(&Message::SendAddrV2);
        }
        self.send(&Message::Verack);
        self.their_version = Some(v);
        self.state = State::AwaitVerack;
    }

    fn on_verack(&mut self, now: Instant) {
        let Some(v) = self.their_version.as_ref() else {
            return;
        };
        if self.state == State::Connected {
            return;
        }
        let info = PeerInfo {
            version: v.version,
            services: v.services,
            start_height: v.start_height,
            user_agent: v.user_agent.clone(),
            relay: v.relay,
            wtxidrelay: self.wtxidrelay,
            sendaddrv2: self.sendaddrv2,
            sendheaders: self.sendheaders,
            addr: self.conn.addr,
            direction: self.conn.direction,
            transport: self.transport.kind(),
        };
        let common = v.version.min(PROTOCOL_VERSION);
        self.state = State::Connected;
        tracing::debug!(peer = %self.conn.addr, version = info.version, services = info.services,
            height = info.start_height, agent = %info.user_agent, "connected");
        self.events.push_back(PeerEvent::Connected(info));
        if common >= SENDHEADERS_VERSION {
            self.send(&Message::SendHeaders);
        }
        if let Some(rate) = self.config.fee_filter {
            if common >= FEEFILTER_VERSION {
                self.send(&Message::FeeFilter(rate));
            }
        }
        self.send_ping(now);
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if self.conn.direction == Direction::Outbound {
            self.config.nonces.remove(self.nonce);
        }
    }
}

fn nonzero_random() -> u64 {
    rand::random::<u64>().max(1)
}
