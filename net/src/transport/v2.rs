//! BIP324 v2 transport on the `bip324` crate's sans-IO handshake, with Core's v1 fallback.
//!
//! - Inbound: the first 16 bytes decide. Network magic + `"version\0\0\0\0\0"` is a v1 peer,
//!   served by a [`V1Transport`] with the bytes already read; anything else is a v2 key.
//! - Outbound: we send our key at once. A peer that closes before sending anything, or whose
//!   "key" starts with the network magic (a v1 message), is reported by
//!   [`V2Transport::should_reconnect_v1`]: the caller reconnects with v1 (Core's
//!   `ShouldReconnectV1`).
//!
//! We send no garbage and no decoys (both optional in BIP324). Application messages queued
//! before the handshake completes are held until the peer's version packet has been
//! authenticated, because the crate only hands out the cipher at that point.

use std::collections::VecDeque;
use std::fmt;
use std::ops::Range;

use bip324::{
    CipherSession, GarbageResult, Handshake, Initialized, PacketType, ReceivedGarbage, ReceivedKey,
    Role, SentKey, SentVersion, VersionResult, NUM_LENGTH_BYTES,
};

use super::v1::V1Transport;
use super::v2_ids::{command_for, short_id};
use super::TransportError;
use crate::wire::command::COMMAND_LEN;
use crate::wire::{Command, RawMessage, MAX_MESSAGE_PAYLOAD};

/// Bytes of an ElligatorSwift public key.
const KEY_LEN: usize = 64;
/// Bytes compared to tell a v1 `version` header from a v2 key.
const V1_PREFIX_LEN: usize = 16;
/// Header byte plus authentication tag around every packet's contents.
const PACKET_OVERHEAD: usize = 1 + 16;
/// Core's `MAX_CONTENTS_LEN`: a long-form message type byte and command plus the largest payload.
const MAX_CONTENTS_LEN: usize = 1 + COMMAND_LEN + MAX_MESSAGE_PAYLOAD;

/// Why a v2 connection failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum V2Error {
    /// The key exchange, garbage terminator or version packet failed.
    #[error("v2 handshake: {0}")]
    Handshake(bip324::Error),
    /// A packet failed authentication.
    #[error("v2 decryption: {0}")]
    Decrypt(bip324::Error),
    /// A packet announced more contents than Core accepts.
    #[error("v2 packet of {0} bytes is too large")]
    PacketTooLarge(usize),
    /// Our outbound peer answered with a v1 message (reconnect with v1).
    #[error("peer speaks v1")]
    PeerIsV1,
    /// The transport failed earlier and was used again.
    #[error("v2 transport already failed")]
    Failed,
}

/// Bytes received while the handshake waits for the peer's version packet (the garbage in them
/// is authenticated as associated data), and the handshake that borrows them.
type AwaitingVersion<'a> = Option<Handshake<ReceivedGarbage<'a>>>;

self_cell::self_cell!(
    struct GarbageCell {
        owner: Vec<u8>,
        #[covariant]
        dependent: AwaitingVersion,
    }
);

enum State {
    /// Inbound, not yet known whether v1 or v2.
    MaybeV1,
    /// Our key is sent; waiting for theirs.
    AwaitKey(Handshake<SentKey<'static>>),
    /// Our terminator and version packet are sent; looking for their garbage terminator.
    AwaitGarbage(Handshake<SentVersion>),
    /// Their terminator seen; waiting for their version packet (after any decoys).
    AwaitVersion(GarbageCell),
    /// Encrypted application traffic.
    Ready(CipherSession),
    /// The inbound peer turned out to speak v1.
    V1(V1Transport),
    /// A fatal error happened.
    Failed,
}

/// Sans-IO BIP324 transport.
pub struct V2Transport {
    magic: [u8; 4],
    role: Role,
    state: State,
    recv: Vec<u8>,
    /// Start of the unprocessed part of `recv`.
    pos: usize,
    /// Decrypted length (contents + overhead) of the packet being received.
    packet_len: Option<usize>,
    outbox: VecDeque<Vec<u8>>,
    queued: usize,
    /// Messages queued before the cipher is available.
    waiting: VecDeque<(Command, Vec<u8>)>,
    received_any: bool,
    peer_is_v1: bool,
}

impl fmt::Debug for V2Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::MaybeV1 => "MaybeV1",
            State::AwaitKey(_) => "AwaitKey",
            State::AwaitGarbage(_) => "AwaitGarbage",
            State::AwaitVersion(_) => "AwaitVersion",
            State::Ready(_) => "Ready",
            State::V1(_) => "V1",
            State::Failed => "Failed",
        };
        f.debug_struct("V2Transport")
            .field("role", &self.role)
            .field("state", &state)
            .field("buffered", &(self.recv.len() - self.pos))
            .field("queued", &self.queued)
            .finish_non_exhaustive()
    }
}

impl V2Transport {
    /// The connecting side: our key is queued at once.
    #[must_use]
    pub fn initiator(magic: [u8; 4]) -> Self {
        let mut t = Self::empty(magic, Role::Initiator);
        t.state = t.send_key().unwrap_or(State::Failed);
        t
    }

    /// The accepting side: waits for the first bytes to tell v1 from v2.
    #[must_use]
    pub fn responder(magic: [u8; 4]) -> Self {
        Self::empty(magic, Role::Responder)
    }

    fn empty(magic: [u8; 4], role: Role) -> Self {
        Self {
            magic,
            role,
            state: State::MaybeV1,
            recv: Vec::new(),
            pos: 0,
            packet_len: None,
            outbox: VecDeque::new(),
            queued: 0,
            waiting: VecDeque::new(),
            received_any: false,
            peer_is_v1: false,
        }
    }

    /// Whether the connection is (now) plain v1.
    #[must_use]
    pub fn is_v1(&self) -> bool {
        matches!(self.state, State::V1(_))
    }

    /// Whether the encrypted session is established.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        matches!(self.state, State::Ready(_))
    }

    /// Outbound only: the peer sent nothing yet (so a close means it refused v2) or answered
    /// in v1. Either way, reconnect with v1.
    #[must_use]
    pub fn should_reconnect_v1(&self) -> bool {
        self.role == Role::Initiator
            && (self.peer_is_v1 || (!self.received_any && matches!(self.state, State::AwaitKey(_))))
    }

    /// Processes received bytes; complete messages go to `out`.
    ///
    /// # Errors
    /// [`TransportError`]: fatal for the connection.
    pub fn receive(
        &mut self,
        input: &[u8],
        out: &mut VecDeque<RawMessage>,
    ) -> Result<(), TransportError> {
        if let State::V1(t) = &mut self.state {
            return Ok(t.receive(input, out)?);
        }
        self.received_any |= !input.is_empty();
        self.recv.extend_from_slice(input);
        let result = self.process(out);
        self.recv.drain(..self.pos);
        self.pos = 0;
        if result.is_err() {
            self.state = State::Failed;
            self.recv = Vec::new();
        }
        result
    }

    /// Queues a message.
    pub fn send(&mut self, command: Command, payload: &[u8]) {
        match &mut self.state {
            State::V1(t) => t.send(command, payload),
            State::Ready(cipher) => {
                let packet = encrypt(cipher, command, payload);
                self.push_out(packet);
            }
            _ => {
                self.queued += payload.len();
                self.waiting.push_back((command, payload.to_vec()));
            }
        }
    }

    /// The next bytes to write.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        if let Some(b) = self.outbox.pop_front() {
            self.queued -= b.len();
            return Some(b);
        }
        match &mut self.state {
            State::V1(t) => t.poll_transmit(),
            _ => None,
        }
    }

    /// Bytes queued and not yet handed out (including messages held for the handshake).
    #[must_use]
    pub fn queued_bytes(&self) -> usize {
        let v1 = match &self.state {
            State::V1(t) => t.queued_bytes(),
            _ => 0,
        };
        self.queued + v1
    }

    fn push_out(&mut self, bytes: Vec<u8>) {
        self.queued += bytes.len();
        self.outbox.push_back(bytes);
    }

    fn send_key(&mut self) -> Result<State, V2Error> {
        let hs =
            Handshake::<Initialized>::new(self.magic, self.role).map_err(V2Error::Handshake)?;
        let mut key = vec![0u8; Handshake::<Initialized>::send_key_len(None)];
        let hs = hs.send_key(None, &mut key).map_err(V2Error::Handshake)?;
        self.push_out(key);
        Ok(State::AwaitKey(hs))
    }

    fn process(&mut self, out: &mut VecDeque<RawMessage>) -> Result<(), TransportError> {
        loop {
            let state = std::mem::replace(&mut self.state, State::Failed);
            let next = match state {
                State::MaybeV1 => self.on_maybe_v1(out)?,
                State::AwaitKey(hs) => self.on_key(hs)?,
                State::AwaitGarbage(hs) => self.on_garbage(hs)?,
                State::AwaitVersion(cell) => self.on_version(cell)?,
                State::Ready(cipher) => {
                    self.state = self.on_packets(cipher, out)?;
                    return Ok(());
                }
                State::V1(t) => {
                    self.state = State::V1(t);
                    return Ok(());
                }
                State::Failed => return Err(V2Error::Failed.into()),
            };
            // `None`: the state was put back and more bytes are needed.
            match next {
                Some(s) => self.state = s,
                None => return Ok(()),
            }
        }
    }

    fn on_maybe_v1(
        &mut self,
        out: &mut VecDeque<RawMessage>,
    ) -> Result<Option<State>, TransportError> {
        let mut prefix = [0u8; V1_PREFIX_LEN];
        prefix[..4].copy_from_slice(&self.magic);
        prefix[4..11].copy_from_slice(b"version");
        let avail = &self.recv[self.pos..];
        let n = avail.len().min(V1_PREFIX_LEN);
        if avail[..n] != prefix[..n] {
            return Ok(Some(self.send_key()?));
        }
        if n < V1_PREFIX_LEN {
            self.state = State::MaybeV1;
            return Ok(None);
        }
        let mut t = V1Transport::new(self.magic);
        t.receive(avail, out)?;
        self.pos = self.recv.len();
        for (command, payload) in self.waiting.drain(..) {
            self.queued -= payload.len();
            t.send(command, &payload);
        }
        Ok(Some(State::V1(t)))
    }

    fn on_key(&mut self, hs: Handshake<SentKey<'static>>) -> Result<Option<State>, V2Error> {
        let Some(key) = self.recv.get(self.pos..self.pos + KEY_LEN) else {
            self.state = State::AwaitKey(hs);
            return Ok(None);
        };
        let mut their_key = [0u8; KEY_LEN];
        their_key.copy_from_slice(key);
        self.pos += KEY_LEN;
        let hs = hs.receive_key(their_key).map_err(|e| {
            if e == bip324::Error::V1Protocol {
                self.peer_is_v1 = true;
                V2Error::PeerIsV1
            } else {
                V2Error::Handshake(e)
            }
        })?;
        let mut buf = vec![0u8; Handshake::<ReceivedKey<'_>>::send_version_len(None)];
        let hs = hs
            .send_version(&mut buf, None)
            .map_err(V2Error::Handshake)?;
        self.push_out(buf);
        Ok(Some(State::AwaitGarbage(hs)))
    }

    fn on_garbage(&mut self, hs: Handshake<SentVersion>) -> Result<Option<State>, V2Error> {
        enum Wait {
            More(Box<Handshake<SentVersion>>),
            Fatal(bip324::Error),
        }
        // The crate's garbage search is bounded (4,095 bytes + terminator), so this copy is too.
        let owner = self.recv[self.pos..].to_vec();
        let mut consumed = 0;
        let built =
            GarbageCell::try_new_or_recover(owner, |owner| match hs.receive_garbage(owner) {
                Ok(GarbageResult::FoundGarbage {
                    handshake,
                    consumed_bytes,
                }) => {
                    consumed = consumed_bytes;
                    Ok(Some(handshake))
                }
                Ok(GarbageResult::NeedMoreData(hs)) => Err(Wait::More(Box::new(hs))),
                Err(e) => Err(Wait::Fatal(e)),
            });
        match built {
            Ok(cell) => {
                self.pos += consumed;
                Ok(Some(State::AwaitVersion(cell)))
            }
            Err((_, Wait::More(hs))) => {
                self.state = State::AwaitGarbage(*hs);
                Ok(None)
            }
            Err((_, Wait::Fatal(e))) => Err(V2Error::Handshake(e)),
        }
    }

    fn on_version(&mut self, mut cell: GarbageCell) -> Result<Option<State>, V2Error> {
        let (recv, pos, pending) = (&self.recv, &mut self.pos, &mut self.packet_len);
        let done = cell.with_dependent_mut(|_, slot| loop {
            let Some(hs) = slot.as_mut() else {
                return Err(V2Error::Failed);
            };
            let range = next_packet(recv, pos, pending, |b| {
                hs.decrypt_packet_len(b).unwrap_or(usize::MAX)
            })?;
            let Some(range) = range else {
                return Ok(None);
            };
            let Some(hs) = slot.take() else {
                return Err(V2Error::Failed);
            };
            let mut packet = recv[range].to_vec();
            match hs.receive_version(&mut packet) {
                Ok(VersionResult::Complete { cipher }) => return Ok(Some(cipher)),
                Ok(VersionResult::Decoy(hs)) => *slot = Some(hs),
                Err(e) => return Err(V2Error::Handshake(e)),
            }
        })?;
        let Some(mut cipher) = done else {
            self.state = State::AwaitVersion(cell);
            return Ok(None);
        };
        tracing::trace!(role = ?self.role, "v2 handshake complete");
        for (command, payload) in std::mem::take(&mut self.waiting) {
            self.queued -= payload.len();
            let packet = encrypt(&mut cipher, command, &payload);
            self.push_out(packet);
        }
        Ok(Some(State::Ready(cipher)))
    }

    fn on_packets(
        &mut self,
        mut cipher: CipherSession,
        out: &mut VecDeque<RawMessage>,
    ) -> Result<State, V2Error> {
        loop {
            let range = next_packet(&self.recv, &mut self.pos, &mut self.packet_len, |b| {
                cipher.inbound().decrypt_packet_len(b)
            })?;
            let Some(range) = range else {
                return Ok(State::Ready(cipher));
            };
            let (kind, plain) = cipher
                .inbound()
                .decrypt_in_place(&mut self.recv[range], None)
                .map_err(V2Error::Decrypt)?;
            if kind == PacketType::Decoy {
                continue;
            }
            // plain[0] is the header byte.
            match decode_contents(plain.get(1..).unwrap_or_default()) {
                Some(m) => out.push_back(m),
                // Core drops a message with an unknown short id or a bad long-form type.
                None => tracing::debug!("v2 packet with an invalid message type dropped"),
            }
        }
    }
}

/// Frames the next packet: decrypts its length once (the length cipher advances), checks it,
/// and returns the packet's range (header, contents, tag) when it is all there.
fn next_packet(
    recv: &[u8],
    pos: &mut usize,
    pending: &mut Option<usize>,
    decrypt_len: impl FnOnce([u8; NUM_LENGTH_BYTES]) -> usize,
) -> Result<Option<Range<usize>>, V2Error> {
    let len = if let Some(len) = *pending {
        len
    } else {
        let Some(b) = recv.get(*pos..*pos + NUM_LENGTH_BYTES) else {
            return Ok(None);
        };
        let len = decrypt_len([b[0], b[1], b[2]]);
        let contents = len.saturating_sub(PACKET_OVERHEAD);
        if contents > MAX_CONTENTS_LEN {
            return Err(V2Error::PacketTooLarge(contents));
        }
        *pos += NUM_LENGTH_BYTES;
        *pending = Some(len);
        len
    };
    if recv.len() - *pos < len {
        return Ok(None);
    }
    let range = *pos..*pos + len;
    *pos += len;
    *pending = None;
    Ok(Some(range))
}

/// Contents = short id (or 0 + 12-byte command) + payload.
fn decode_contents(contents: &[u8]) -> Option<RawMessage> {
    let (&id, rest) = contents.split_first()?;
    if id != 0 {
        return Some(RawMessage {
            command: command_for(id)?,
            payload: rest.to_vec(),
        });
    }
    let raw: [u8; COMMAND_LEN] = rest.get(..COMMAND_LEN)?.try_into().ok()?;
    Some(RawMessage {
        command: Command::from_wire(raw)?,
        payload: rest[COMMAND_LEN..].to_vec(),
    })
}

fn encrypt(cipher: &mut CipherSession, command: Command, payload: &[u8]) -> Vec<u8> {
    let mut contents = Vec::with_capacity(1 + COMMAND_LEN + payload.len());
    match short_id(command) {
        Some(id) => contents.push(id),
        None => {
            contents.push(0);
            contents.extend_from_slice(&command.to_wire());
        }
    }
    contents.extend_from_slice(payload);
    cipher
        .outbound()
        .encrypt_to_vec(&contents, PacketType::Genuine, None)
}

#[cfg(test)]
#[path = "v2_tests.rs"]
mod tests;
