//! The v1 frame: 24-byte header (magic, command, length, checksum) and an incremental decoder.

use sluice_consensus::hash::sha256d;

use super::command::{Command, COMMAND_LEN};
use super::MAX_MESSAGE_PAYLOAD;

/// Size of the v1 message header.
pub const HEADER_LEN: usize = 24;

/// The first chunk reserved for a payload. Larger payloads grow as their bytes arrive, so a
/// header that announces 4 MB and then stalls costs this much, not 4 MB.
const INITIAL_PAYLOAD_RESERVE: usize = 64 * 1024;

/// Why a v1 byte stream cannot be framed. Each is fatal for the connection: stricter than Core,
/// which drops a message with a bad checksum or command and keeps the peer (issue #12 asks for
/// disconnect and discouragement); an oversized length or a bad magic also ends Core's
/// connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The header did not start with our network's magic.
    #[error("bad network magic {0:02x?}")]
    BadMagic([u8; 4]),
    /// The command field was not printable ASCII followed by NULs.
    #[error("invalid command bytes {0:02x?}")]
    BadCommand([u8; COMMAND_LEN]),
    /// The header announced a payload above [`MAX_MESSAGE_PAYLOAD`].
    #[error("payload of {0} bytes exceeds the 4,000,000-byte limit")]
    Oversized(u32),
    /// The payload did not hash to the header's checksum.
    #[error("bad checksum for {command}: header {expected:02x?}, payload {actual:02x?}")]
    BadChecksum {
        /// The message type whose payload failed.
        command: Command,
        /// The checksum in the header.
        expected: [u8; 4],
        /// The first four bytes of the payload's double SHA-256.
        actual: [u8; 4],
    },
}

/// A framed message: its command and its still-undecoded payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// The message type.
    pub command: Command,
    /// The payload bytes (checksum verified for v1; authenticated for v2).
    pub payload: Vec<u8>,
}

/// The first four bytes of the payload's double SHA-256.
#[must_use]
pub fn checksum(payload: &[u8]) -> [u8; 4] {
    let h = sha256d(payload);
    [h[0], h[1], h[2], h[3]]
}

/// Appends one v1 frame (header and payload) to `out`.
///
/// # Panics
/// Never for payloads this crate builds (all under 4 GB); a larger one would be a local bug.
pub fn encode_frame(magic: [u8; 4], command: Command, payload: &[u8], out: &mut Vec<u8>) {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    out.reserve(HEADER_LEN + payload.len());
    out.extend_from_slice(&magic);
    out.extend_from_slice(&command.to_wire());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&checksum(payload));
    out.extend_from_slice(payload);
}

/// Incremental v1 decoder: takes arbitrary chunks, yields whole messages.
///
/// It holds at most one partial header and one partial payload; a payload's announced length is
/// checked against [`MAX_MESSAGE_PAYLOAD`] before anything is reserved for it.
#[derive(Debug)]
pub struct FrameDecoder {
    magic: [u8; 4],
    header: [u8; HEADER_LEN],
    header_len: usize,
    /// The parsed header of the message whose payload is being read.
    current: Option<(Command, usize, [u8; 4])>,
    payload: Vec<u8>,
}

impl FrameDecoder {
    /// A decoder for the network with this magic.
    #[must_use]
    pub fn new(magic: [u8; 4]) -> Self {
        Self {
            magic,
            header: [0; HEADER_LEN],
            header_len: 0,
            current: None,
            payload: Vec::new(),
        }
    }

    /// Bytes of an incomplete message held right now.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.header_len + self.payload.len()
    }

    /// Consumes bytes from the front of `input` until one message is complete (returned) or
    /// `input` is empty (`Ok(None)`). Call again with the rest of `input` to get further messages.
    ///
    /// # Errors
    /// A [`FrameError`]; the decoder is then in an unspecified state and the connection must end.
    pub fn decode(&mut self, input: &mut &[u8]) -> Result<Option<RawMessage>, FrameError> {
        loop {
            let Some((command, len, expected)) = self.current else {
                let want = HEADER_LEN - self.header_len;
                let n = want.min(input.len());
                self.header[self.header_len..self.header_len + n].copy_from_slice(&input[..n]);
                self.header_len += n;
                *input = &input[n..];
                if self.header_len < HEADER_LEN {
                    return Ok(None);
                }
                self.current = Some(self.parse_header()?);
                self.header_len = 0;
                continue;
            };
            let n = (len - self.payload.len()).min(input.len());
            if self.payload.capacity() == 0 {
                self.payload.reserve_exact(len.min(INITIAL_PAYLOAD_RESERVE));
            }
            self.payload.extend_from_slice(&input[..n]);
            *input = &input[n..];
            if self.payload.len() < len {
                return Ok(None);
            }
            self.current = None;
            let payload = std::mem::take(&mut self.payload);
            let actual = checksum(&payload);
            if actual != expected {
                return Err(FrameError::BadChecksum {
                    command,
                    expected,
                    actual,
                });
            }
            return Ok(Some(RawMessage { command, payload }));
        }
    }

    fn parse_header(&self) -> Result<(Command, usize, [u8; 4]), FrameError> {
        let h = &self.header;
        let magic = [h[0], h[1], h[2], h[3]];
        if magic != self.magic {
            return Err(FrameError::BadMagic(magic));
        }
        let mut raw = [0u8; COMMAND_LEN];
        raw.copy_from_slice(&h[4..16]);
        let command = Command::from_wire(raw).ok_or(FrameError::BadCommand(raw))?;
        let len = u32::from_le_bytes([h[16], h[17], h[18], h[19]]);
        let size = usize::try_from(len).map_err(|_| FrameError::Oversized(len))?;
        if size > MAX_MESSAGE_PAYLOAD {
            return Err(FrameError::Oversized(len));
        }
        Ok((command, size, [h[20], h[21], h[22], h[23]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::command::names;

    const MAGIC: [u8; 4] = [0xfa, 0xbf, 0xb5, 0xda];

    fn frame(command: Command, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_frame(MAGIC, command, payload, &mut out);
        out
    }

    fn decode_all(bytes: &[u8]) -> Result<Vec<RawMessage>, FrameError> {
        let mut d = FrameDecoder::new(MAGIC);
        let mut input = bytes;
        let mut out = Vec::new();
        while let Some(m) = d.decode(&mut input)? {
            out.push(m);
        }
        assert!(input.is_empty());
        Ok(out)
    }

    #[test]
    fn verack_frame_matches_known_bytes() {
        // An empty payload's checksum is the well-known 5df6e0e2.
        let bytes = frame(names::VERACK, &[]);
        assert_eq!(bytes.len(), HEADER_LEN);
        assert_eq!(&bytes[20..24], &[0x5d, 0xf6, 0xe0, 0xe2]);
    }

    #[test]
    fn decodes_messages_fed_byte_by_byte() {
        let mut stream = frame(names::PING, &7u64.to_le_bytes());
        stream.extend(frame(names::VERACK, &[]));
        let mut d = FrameDecoder::new(MAGIC);
        let mut got = Vec::new();
        for b in &stream {
            let mut input: &[u8] = std::slice::from_ref(b);
            while let Some(m) = d.decode(&mut input).unwrap() {
                got.push(m);
            }
        }
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].command, names::PING);
        assert_eq!(got[0].payload, 7u64.to_le_bytes());
        assert_eq!(got[1].command, names::VERACK);
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn bad_magic_command_checksum_are_errors() {
        let mut b = frame(names::PING, &[1; 8]);
        b[0] ^= 1;
        assert!(matches!(decode_all(&b), Err(FrameError::BadMagic(_))));
        let mut b = frame(names::PING, &[1; 8]);
        b[4] = 0x01;
        assert!(matches!(decode_all(&b), Err(FrameError::BadCommand(_))));
        let mut b = frame(names::PING, &[1; 8]);
        b[30] ^= 1;
        assert!(matches!(
            decode_all(&b),
            Err(FrameError::BadChecksum { .. })
        ));
    }

    #[test]
    fn oversized_header_is_refused_before_any_payload() {
        let mut b = frame(names::BLOCK, &[]);
        let too_big = u32::try_from(MAX_MESSAGE_PAYLOAD + 1).unwrap();
        b[16..20].copy_from_slice(&too_big.to_le_bytes());
        let mut d = FrameDecoder::new(MAGIC);
        let mut input = &b[..];
        assert_eq!(d.decode(&mut input), Err(FrameError::Oversized(too_big)));
        assert_eq!(d.payload.capacity(), 0);
        // Exactly the limit is allowed, and only a small reserve is taken up front.
        let at_limit = u32::try_from(MAX_MESSAGE_PAYLOAD).unwrap();
        b[16..20].copy_from_slice(&at_limit.to_le_bytes());
        let mut d = FrameDecoder::new(MAGIC);
        let mut input = &b[..];
        assert_eq!(d.decode(&mut input), Ok(None));
        let mut one: &[u8] = &[0u8];
        assert_eq!(d.decode(&mut one), Ok(None));
        assert!(d.payload.capacity() <= INITIAL_PAYLOAD_RESERVE);
    }

    #[test]
    fn truncated_stream_waits_for_more() {
        let b = frame(names::PING, &[1; 8]);
        for cut in 0..b.len() {
            assert_eq!(decode_all(&b[..cut]).unwrap(), vec![]);
        }
    }
}
