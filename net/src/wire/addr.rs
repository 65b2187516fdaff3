//! BIP155 `addrv2` entries.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use sluice_consensus::encode::{write_compact_size, Reader};

use super::read::{capacity, read_count, PayloadError};

/// Core's `MAX_ADDR_TO_SEND`: most entries in one `addrv2`.
pub const MAX_ADDR_ENTRIES: usize = 1_000;
/// BIP155's largest address (`MAX_ADDRV2_SIZE`).
pub const MAX_ADDRV2_LEN: usize = 512;

/// A BIP155 network address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AddrV2 {
    /// Network id 1.
    Ipv4(Ipv4Addr),
    /// Network id 2.
    Ipv6(Ipv6Addr),
    /// Network id 4: a Tor v3 public key.
    TorV3([u8; 32]),
    /// Network id 5: an I2P destination hash.
    I2p([u8; 32]),
    /// Network id 6: a CJDNS address.
    Cjdns([u8; 16]),
    /// Any other id (Tor v2 and future networks), kept so it re-encodes unchanged; Core accepts
    /// and ignores these.
    Unknown {
        /// The network id.
        network: u8,
        /// The address bytes (at most 512).
        bytes: Vec<u8>,
    },
}

impl AddrV2 {
    fn network_and_bytes(&self) -> (u8, Cow<'_, [u8]>) {
        match self {
            Self::Ipv4(ip) => (1, Cow::Owned(ip.octets().to_vec())),
            Self::Ipv6(ip) => (2, Cow::Owned(ip.octets().to_vec())),
            Self::TorV3(k) => (4, Cow::Borrowed(k)),
            Self::I2p(k) => (5, Cow::Borrowed(k)),
            Self::Cjdns(k) => (6, Cow::Borrowed(k)),
            Self::Unknown { network, bytes } => (*network, Cow::Borrowed(bytes)),
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, PayloadError> {
        let network = r.read_u8()?;
        let len = r.read_compact_size()?;
        let expected = match network {
            1 => Some(4),
            2 | 6 => Some(16),
            4 | 5 => Some(32),
            _ => None,
        };
        let fits = match expected {
            Some(n) => len == n,
            None => len <= MAX_ADDRV2_LEN as u64,
        };
        if !fits {
            return Err(PayloadError::AddrLength { network, len });
        }
        // len <= 512 here.
        let bytes = r.take(len as usize)?;
        let arr16 = |b: &[u8]| -> [u8; 16] { b.try_into().unwrap_or([0; 16]) };
        let arr32 = |b: &[u8]| -> [u8; 32] { b.try_into().unwrap_or([0; 32]) };
        Ok(match network {
            1 => Self::Ipv4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
            2 => Self::Ipv6(Ipv6Addr::from(arr16(bytes))),
            4 => Self::TorV3(arr32(bytes)),
            5 => Self::I2p(arr32(bytes)),
            6 => Self::Cjdns(arr16(bytes)),
            _ => Self::Unknown {
                network,
                bytes: bytes.to_vec(),
            },
        })
    }
}

/// One `addrv2` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AddrV2Entry {
    /// Last-seen UNIX time.
    pub time: u32,
    /// Services (a CompactSize on the wire).
    pub services: u64,
    /// The address.
    pub addr: AddrV2,
    /// The port.
    pub port: u16,
}

pub(crate) fn encode_addrv2(entries: &[AddrV2Entry], out: &mut Vec<u8>) {
    write_compact_size(out, entries.len() as u64);
    for e in entries {
        out.extend_from_slice(&e.time.to_le_bytes());
        write_compact_size(out, e.services);
        let (network, bytes) = e.addr.network_and_bytes();
        out.push(network);
        write_compact_size(out, bytes.len() as u64);
        out.extend_from_slice(&bytes);
        out.extend_from_slice(&e.port.to_be_bytes());
    }
}

pub(crate) fn decode_addrv2(r: &mut Reader<'_>) -> Result<Vec<AddrV2Entry>, PayloadError> {
    let n = read_count(r, "addrv2", MAX_ADDR_ENTRIES, true)?;
    // time + services + network + length + port: at least 9 bytes each.
    let mut entries = Vec::with_capacity(capacity(r, n, 9));
    for _ in 0..n {
        let time = r.read_u32_le()?;
        // Core reads services without the MAX_SIZE range check.
        let services = read_compact_size_unbounded(r)?;
        let addr = AddrV2::decode(r)?;
        let port = r.read_u16_le()?.swap_bytes();
        entries.push(AddrV2Entry {
            time,
            services,
            addr,
            port,
        });
    }
    Ok(entries)
}

/// A canonical CompactSize of any value (services bits may exceed `MAX_SIZE`).
fn read_compact_size_unbounded(r: &mut Reader<'_>) -> Result<u64, PayloadError> {
    use sluice_consensus::encode::DecodeError;
    let at = r.position();
    let (v, min) = match r.read_u8()? {
        0xfd => (u64::from(r.read_u16_le()?), 0xfd),
        0xfe => (u64::from(r.read_u32_le()?), 0x1_0000),
        0xff => (r.read_u64_le()?, 0x1_0000_0000),
        b => return Ok(u64::from(b)),
    };
    if v < min {
        return Err(DecodeError::NonCanonicalCompactSize(at).into());
    }
    Ok(v)
}
