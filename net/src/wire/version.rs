//! The `version` message and the services bits it carries.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use sluice_consensus::encode::{write_compact_size, Reader};

use super::read::PayloadError;

/// The protocol version Sluice speaks (BIP155 addrv2 era, as Core's `PROTOCOL_VERSION`).
pub const PROTOCOL_VERSION: i32 = 70016;
/// Peers below this are disconnected (Core's `MIN_PEER_PROTO_VERSION`).
pub const MIN_PEER_PROTO_VERSION: i32 = 31800;
/// Core's `MAX_SUBVERSION_LENGTH`: the longest user agent accepted.
pub const MAX_USER_AGENT_LEN: usize = 256;

/// Service bits (Core's `ServiceFlags`).
pub mod services {
    /// Serves the full block chain.
    pub const NODE_NETWORK: u64 = 1;
    /// Serves bloom-filtered data (BIP111).
    pub const NODE_BLOOM: u64 = 1 << 2;
    /// Serves witness data (BIP144).
    pub const NODE_WITNESS: u64 = 1 << 3;
    /// Serves compact block filters (BIP157).
    pub const NODE_COMPACT_FILTERS: u64 = 1 << 6;
    /// Serves only the last 288 blocks (BIP159).
    pub const NODE_NETWORK_LIMITED: u64 = 1 << 10;
    /// Speaks the BIP324 v2 transport.
    pub const NODE_P2P_V2: u64 = 1 << 11;
    /// What a peer must offer for us to download full blocks from it.
    pub const BLOCK_DOWNLOAD: u64 = NODE_NETWORK | NODE_WITNESS;
}

/// A pre-BIP155 network address as embedded in `version`: services, IPv6 (or IPv4-mapped)
/// address and big-endian port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetAddr {
    /// Services the address is believed to offer.
    pub services: u64,
    /// The address; IPv4 travels IPv4-mapped.
    pub ip: Ipv6Addr,
    /// The port.
    pub port: u16,
}

impl NetAddr {
    /// Length on the wire.
    pub const LEN: usize = 26;

    /// From a socket address (IPv4 is mapped into IPv6).
    #[must_use]
    pub fn from_socket(services: u64, addr: SocketAddr) -> Self {
        let ip = match addr.ip() {
            IpAddr::V4(v4) => v4.to_ipv6_mapped(),
            IpAddr::V6(v6) => v6,
        };
        Self {
            services,
            ip,
            port: addr.port(),
        }
    }

    /// The unspecified address, port 0 (what Core sends for itself).
    #[must_use]
    pub fn unspecified() -> Self {
        Self {
            services: 0,
            ip: Ipv6Addr::UNSPECIFIED,
            port: 0,
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.services.to_le_bytes());
        out.extend_from_slice(&self.ip.octets());
        out.extend_from_slice(&self.port.to_be_bytes());
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, PayloadError> {
        let services = r.read_u64_le()?;
        let mut ip = [0u8; 16];
        ip.copy_from_slice(r.take(16)?);
        let port = r.read_u16_le()?.swap_bytes();
        Ok(Self {
            services,
            ip: Ipv6Addr::from(ip),
            port,
        })
    }
}

/// The `version` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionMessage {
    /// Protocol version of the sender.
    pub version: i32,
    /// Services the sender offers.
    pub services: u64,
    /// Sender's UNIX time (negative values read as 0, as Core does).
    pub timestamp: i64,
    /// The receiver's address as the sender sees it.
    pub receiver: NetAddr,
    /// The sender's address (ignored by Core; we send the unspecified address).
    pub sender: NetAddr,
    /// Random nonce for self-connection detection.
    pub nonce: u64,
    /// BIP14 user agent, at most 256 bytes (lossily decoded as UTF-8).
    pub user_agent: String,
    /// The sender's best height.
    pub start_height: i32,
    /// BIP37 relay flag: whether the sender wants transaction announcements.
    pub relay: bool,
}

impl VersionMessage {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&self.services.to_le_bytes());
        out.extend_from_slice(&self.timestamp.to_le_bytes());
        self.receiver.encode(out);
        self.sender.encode(out);
        out.extend_from_slice(&self.nonce.to_le_bytes());
        let ua = self.user_agent.as_bytes();
        let ua = &ua[..ua.len().min(MAX_USER_AGENT_LEN)];
        write_compact_size(out, ua.len() as u64);
        out.extend_from_slice(ua);
        out.extend_from_slice(&self.start_height.to_le_bytes());
        out.push(u8::from(self.relay));
    }

    /// Decodes like Core's `version` handler: the fields after the receiver address are optional
    /// (old peers), trailing bytes are ignored.
    pub(crate) fn decode(payload: &[u8]) -> Result<Self, PayloadError> {
        let mut r = Reader::new(payload);
        let version = r.read_i32_le()?;
        let services = r.read_u64_le()?;
        let timestamp = r.read_i64_le()?.max(0);
        let receiver = NetAddr::decode(&mut r)?;
        let mut msg = Self {
            version,
            services,
            timestamp,
            receiver,
            sender: NetAddr::unspecified(),
            nonce: 1,
            user_agent: String::new(),
            start_height: -1,
            relay: true,
        };
        if r.remaining() > 0 {
            msg.sender = NetAddr::decode(&mut r)?;
            msg.nonce = r.read_u64_le()?;
        }
        if r.remaining() > 0 {
            let len = r.read_compact_size()?;
            if len > MAX_USER_AGENT_LEN as u64 {
                return Err(PayloadError::UserAgentTooLong(len));
            }
            // len <= 256 fits usize.
            let bytes = r.take(len as usize)?;
            msg.user_agent = String::from_utf8_lossy(bytes).into_owned();
        }
        if r.remaining() > 0 {
            msg.start_height = r.read_i32_le()?;
        }
        if r.remaining() > 0 {
            msg.relay = r.read_u8()? != 0;
        }
        Ok(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> VersionMessage {
        VersionMessage {
            version: PROTOCOL_VERSION,
            services: services::NODE_NETWORK | services::NODE_WITNESS,
            timestamp: 1_700_000_000,
            receiver: NetAddr::from_socket(1, "127.0.0.1:18444".parse().unwrap()),
            sender: NetAddr::unspecified(),
            nonce: 0x0123_4567_89ab_cdef,
            user_agent: "/Sluice:0.1.0/".into(),
            start_height: 42,
            relay: false,
        }
    }

    #[test]
    fn round_trip() {
        let m = sample();
        let mut out = Vec::new();
        m.encode(&mut out);
        assert_eq!(out.len(), 4 + 8 + 8 + 26 + 26 + 8 + 1 + 14 + 4 + 1);
        assert_eq!(VersionMessage::decode(&out).unwrap(), m);
        // The port is big-endian on the wire.
        assert_eq!(&out[44..46], &18444u16.to_be_bytes());
    }

    #[test]
    fn optional_fields_take_core_defaults() {
        let mut out = Vec::new();
        sample().encode(&mut out);
        let short = VersionMessage::decode(&out[..46]).unwrap();
        assert_eq!(
            (short.nonce, short.start_height, short.relay),
            (1, -1, true)
        );
        assert!(VersionMessage::decode(&out[..45]).is_err());
        // A cut inside the sender address is an error, not a silent default.
        assert!(VersionMessage::decode(&out[..50]).is_err());
    }

    #[test]
    fn user_agent_limit_and_negative_time() {
        let mut m = sample();
        m.timestamp = -5;
        m.user_agent = "x".repeat(MAX_USER_AGENT_LEN);
        let mut out = Vec::new();
        m.encode(&mut out);
        let d = VersionMessage::decode(&out).unwrap();
        assert_eq!(d.timestamp, 0);
        assert_eq!(d.user_agent.len(), MAX_USER_AGENT_LEN);
        // Hand-build a 257-byte user agent.
        let mut raw = out[..80].to_vec();
        write_compact_size(&mut raw, 257);
        raw.extend(std::iter::repeat_n(b'y', 257));
        assert_eq!(
            VersionMessage::decode(&raw),
            Err(PayloadError::UserAgentTooLong(257))
        );
    }
}
