//! The 12-byte message type ("command") of the v1 header.

use std::fmt;

/// Length of the command field in a v1 header.
pub const COMMAND_LEN: usize = 12;

/// A message type as it travels in a v1 header: printable ASCII, NUL-padded to 12 bytes.
///
/// Valid by construction: [`Command::new`] and [`Command::from_wire`] apply Core's
/// `CMessageHeader::IsMessageTypeValid` (printable bytes, then only NULs).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Command([u8; COMMAND_LEN]);

impl Command {
    /// A command from its name; `None` when longer than 12 bytes or not printable ASCII.
    #[must_use]
    pub fn new(name: &str) -> Option<Self> {
        let bytes = name.as_bytes();
        if bytes.len() > COMMAND_LEN || !bytes.iter().all(|&b| (0x20..=0x7e).contains(&b)) {
            return None;
        }
        let mut raw = [0u8; COMMAND_LEN];
        raw[..bytes.len()].copy_from_slice(bytes);
        Some(Self(raw))
    }

    /// A command for a name known at compile time (the message types of this crate).
    ///
    /// # Panics
    /// At compile time (in const contexts) or on first use when `name` is not a valid command;
    /// only called with the literals below.
    #[must_use]
    pub const fn from_static(name: &'static str) -> Self {
        let bytes = name.as_bytes();
        assert!(bytes.len() <= COMMAND_LEN, "command longer than 12 bytes");
        let mut raw = [0u8; COMMAND_LEN];
        let mut i = 0;
        while i < bytes.len() {
            assert!(
                bytes[i] >= 0x20 && bytes[i] <= 0x7e,
                "command not printable"
            );
            raw[i] = bytes[i];
            i += 1;
        }
        Self(raw)
    }

    /// Validates the raw header field like Core's `IsMessageTypeValid`.
    #[must_use]
    pub fn from_wire(raw: [u8; COMMAND_LEN]) -> Option<Self> {
        let end = raw.iter().position(|&b| b == 0).unwrap_or(COMMAND_LEN);
        let printable = raw[..end].iter().all(|&b| (0x20..=0x7e).contains(&b));
        let padded = raw[end..].iter().all(|&b| b == 0);
        (printable && padded).then_some(Self(raw))
    }

    /// The 12 bytes as they go on the wire.
    #[must_use]
    pub fn to_wire(self) -> [u8; COMMAND_LEN] {
        self.0
    }

    /// The name without the NUL padding.
    #[must_use]
    pub fn as_str(&self) -> &str {
        let end = self.0.iter().position(|&b| b == 0).unwrap_or(COMMAND_LEN);
        // Only printable ASCII is ever stored, which is valid UTF-8.
        std::str::from_utf8(&self.0[..end]).unwrap_or("")
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Command({:?})", self.as_str())
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The commands this crate decodes into typed messages.
#[allow(missing_docs)]
pub mod names {
    use super::Command;
    pub const VERSION: Command = Command::from_static("version");
    pub const VERACK: Command = Command::from_static("verack");
    pub const WTXIDRELAY: Command = Command::from_static("wtxidrelay");
    pub const SENDADDRV2: Command = Command::from_static("sendaddrv2");
    pub const SENDHEADERS: Command = Command::from_static("sendheaders");
    pub const PING: Command = Command::from_static("ping");
    pub const PONG: Command = Command::from_static("pong");
    pub const GETHEADERS: Command = Command::from_static("getheaders");
    pub const HEADERS: Command = Command::from_static("headers");
    pub const GETDATA: Command = Command::from_static("getdata");
    pub const INV: Command = Command::from_static("inv");
    pub const NOTFOUND: Command = Command::from_static("notfound");
    pub const BLOCK: Command = Command::from_static("block");
    pub const TX: Command = Command::from_static("tx");
    pub const FEEFILTER: Command = Command::from_static("feefilter");
    pub const ADDRV2: Command = Command::from_static("addrv2");
    pub const GETADDR: Command = Command::from_static("getaddr");
    pub const SENDCMPCT: Command = Command::from_static("sendcmpct");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_and_invalid_names() {
        assert_eq!(
            Command::new("version").map(|c| c.to_string()),
            Some("version".into())
        );
        assert!(Command::new("").is_some());
        assert!(Command::new("thirteen_char").is_none());
        assert!(Command::new("bad\ncmd").is_none());
        assert_eq!(Command::new("ping"), Some(names::PING));
    }

    #[test]
    fn wire_validation_matches_core() {
        let mut raw = *b"verack\0\0\0\0\0\0";
        assert_eq!(Command::from_wire(raw), Some(names::VERACK));
        raw[8] = b'x'; // a byte after the first NUL
        assert!(Command::from_wire(raw).is_none());
        let mut raw = [0u8; COMMAND_LEN];
        raw[0] = 0x7f;
        assert!(Command::from_wire(raw).is_none());
        assert!(Command::from_wire(*b"twelve_chars").is_some());
    }
}
