//! The v1 wire format: frames (header + payload) and typed messages.
//!
//! Everything here is pure: bytes in, values out, with every length checked against Core's
//! limits before memory is reserved for it.

pub mod addr;
pub mod command;
pub mod frame;
pub mod inv;
pub mod message;
mod read;
pub mod version;

pub use addr::{AddrV2, AddrV2Entry};
pub use command::Command;
pub use frame::{encode_frame, FrameDecoder, FrameError, RawMessage, HEADER_LEN};
pub use inv::{GetHeaders, InvType, Inventory};
pub use message::Message;
pub use read::PayloadError;
pub use version::{services, NetAddr, VersionMessage, PROTOCOL_VERSION};

/// Core's `MAX_PROTOCOL_MESSAGE_LENGTH`: the largest payload accepted.
pub const MAX_MESSAGE_PAYLOAD: usize = 4_000_000;
