//! Typed messages: the payloads Sluice understands, and `Unknown` for everything else.

use std::sync::Arc;

use sluice_consensus::encode::Reader;
use sluice_consensus::header::Header;

use super::addr::{decode_addrv2, encode_addrv2, AddrV2Entry};
use super::command::{names, Command};
use super::inv::{decode_headers, decode_inv, encode_headers, encode_inv, GetHeaders, Inventory};
use super::read::PayloadError;
use super::version::VersionMessage;

/// A P2P message. Decoding follows Core's deserialisation: trailing bytes after the fields a
/// message type defines are ignored, lists are bounded by Core's limits before allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `version`: the first message on a connection.
    Version(VersionMessage),
    /// `verack`: acknowledges `version`.
    Verack,
    /// `wtxidrelay` (BIP339), before `verack`.
    WtxidRelay,
    /// `sendaddrv2` (BIP155), before `verack`.
    SendAddrV2,
    /// `sendheaders` (BIP130): announce blocks with `headers`.
    SendHeaders,
    /// `ping` with its nonce.
    Ping(u64),
    /// `pong` echoing a ping nonce.
    Pong(u64),
    /// `getheaders`.
    GetHeaders(GetHeaders),
    /// `headers`: at most 2,000.
    Headers(Vec<Header>),
    /// `getdata`: at most 50,000 entries.
    GetData(Vec<Inventory>),
    /// `inv`: at most 50,000 entries.
    Inv(Vec<Inventory>),
    /// `notfound`: at most 50,000 entries.
    NotFound(Vec<Inventory>),
    /// `block`: the serialised block, not parsed here.
    Block(Arc<[u8]>),
    /// `tx`: the serialised transaction, not parsed here.
    Tx(Arc<[u8]>),
    /// `feefilter` (BIP133): minimum fee rate in sat/kvB.
    FeeFilter(i64),
    /// `addrv2` (BIP155): at most 1,000 entries.
    AddrV2(Vec<AddrV2Entry>),
    /// `getaddr`.
    GetAddr,
    /// `sendcmpct` (BIP152).
    SendCmpct {
        /// High-bandwidth mode requested.
        announce: bool,
        /// Compact block version.
        version: u64,
    },
    /// Any other message type, kept raw (Core ignores types it does not know).
    Unknown {
        /// Its type.
        command: Command,
        /// Its payload.
        payload: Vec<u8>,
    },
}

impl Message {
    /// The message type on the wire.
    #[must_use]
    pub fn command(&self) -> Command {
        match self {
            Self::Version(_) => names::VERSION,
            Self::Verack => names::VERACK,
            Self::WtxidRelay => names::WTXIDRELAY,
            Self::SendAddrV2 => names::SENDADDRV2,
            Self::SendHeaders => names::SENDHEADERS,
            Self::Ping(_) => names::PING,
            Self::Pong(_) => names::PONG,
            Self::GetHeaders(_) => names::GETHEADERS,
            Self::Headers(_) => names::HEADERS,
            Self::GetData(_) => names::GETDATA,
            Self::Inv(_) => names::INV,
            Self::NotFound(_) => names::NOTFOUND,
            Self::Block(_) => names::BLOCK,
            Self::Tx(_) => names::TX,
            Self::FeeFilter(_) => names::FEEFILTER,
            Self::AddrV2(_) => names::ADDRV2,
            Self::GetAddr => names::GETADDR,
            Self::SendCmpct { .. } => names::SENDCMPCT,
            Self::Unknown { command, .. } => *command,
        }
    }

    /// The serialised payload.
    #[must_use]
    pub fn payload(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_payload(&mut out);
        out
    }

    /// Appends the serialised payload to `out`.
    pub fn encode_payload(&self, out: &mut Vec<u8>) {
        match self {
            Self::Version(v) => v.encode(out),
            Self::Verack | Self::WtxidRelay | Self::SendAddrV2 | Self::SendHeaders => {}
            Self::GetAddr => {}
            Self::Ping(n) | Self::Pong(n) => out.extend_from_slice(&n.to_le_bytes()),
            Self::GetHeaders(g) => g.encode(out),
            Self::Headers(h) => encode_headers(h, out),
            Self::GetData(i) | Self::Inv(i) | Self::NotFound(i) => encode_inv(i, out),
            Self::Block(b) | Self::Tx(b) => out.extend_from_slice(b),
            Self::FeeFilter(f) => out.extend_from_slice(&f.to_le_bytes()),
            Self::AddrV2(a) => encode_addrv2(a, out),
            Self::SendCmpct { announce, version } => {
                out.push(u8::from(*announce));
                out.extend_from_slice(&version.to_le_bytes());
            }
            Self::Unknown { payload, .. } => out.extend_from_slice(payload),
        }
    }

    /// Decodes a payload of the given type.
    ///
    /// # Errors
    /// [`PayloadError`] naming what was wrong; nothing here panics or allocates beyond the
    /// payload's own size (or Core's per-message limits).
    pub fn decode(command: Command, payload: Vec<u8>) -> Result<Self, PayloadError> {
        let mut r = Reader::new(&payload);
        let msg = match command {
            names::VERSION => Self::Version(VersionMessage::decode(&payload)?),
            names::VERACK => Self::Verack,
            names::WTXIDRELAY => Self::WtxidRelay,
            names::SENDADDRV2 => Self::SendAddrV2,
            names::SENDHEADERS => Self::SendHeaders,
            names::GETADDR => Self::GetAddr,
            names::PING => Self::Ping(r.read_u64_le()?),
            names::PONG => Self::Pong(r.read_u64_le()?),
            names::GETHEADERS => Self::GetHeaders(GetHeaders::decode(&mut r)?),
            names::HEADERS => Self::Headers(decode_headers(&mut r)?),
            names::GETDATA => Self::GetData(decode_inv(&mut r, "getdata", true)?),
            names::INV => Self::Inv(decode_inv(&mut r, "inv", true)?),
            names::NOTFOUND => Self::NotFound(decode_inv(&mut r, "notfound", false)?),
            names::BLOCK => Self::Block(payload.into()),
            names::TX => Self::Tx(payload.into()),
            names::FEEFILTER => Self::FeeFilter(r.read_i64_le()?),
            names::ADDRV2 => Self::AddrV2(decode_addrv2(&mut r)?),
            names::SENDCMPCT => {
                let announce = match r.read_u8()? {
                    0 => false,
                    1 => true,
                    b => return Err(PayloadError::SendCmpctAnnounce(b)),
                };
                Self::SendCmpct {
                    announce,
                    version: r.read_u64_le()?,
                }
            }
            command => Self::Unknown { command, payload },
        };
        Ok(msg)
    }
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
