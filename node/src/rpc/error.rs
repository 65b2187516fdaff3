//! Core's JSON-RPC error codes (src/rpc/protocol.h) and the error a method returns.

use serde_json::{json, Value};

pub const RPC_INVALID_REQUEST: i32 = -32600;
pub const RPC_METHOD_NOT_FOUND: i32 = -32601;
pub const RPC_INVALID_PARAMS: i32 = -32602;
pub const RPC_INTERNAL_ERROR: i32 = -32603;
pub const RPC_PARSE_ERROR: i32 = -32700;
pub const RPC_MISC_ERROR: i32 = -1;
pub const RPC_TYPE_ERROR: i32 = -3;
pub const RPC_INVALID_ADDRESS_OR_KEY: i32 = -5;
pub const RPC_INVALID_PARAMETER: i32 = -8;
pub const RPC_DATABASE_ERROR: i32 = -20;
pub const RPC_DESERIALIZATION_ERROR: i32 = -22;
pub const RPC_VERIFY_ERROR: i32 = -25;
pub const RPC_VERIFY_REJECTED: i32 = -26;
pub const RPC_VERIFY_ALREADY_IN_UTXO_SET: i32 = -27;
pub const RPC_IN_WARMUP: i32 = -28;
pub const RPC_CLIENT_NODE_ALREADY_ADDED: i32 = -23;
pub const RPC_CLIENT_NODE_NOT_ADDED: i32 = -24;
pub const RPC_CLIENT_NODE_NOT_CONNECTED: i32 = -29;

/// A JSON-RPC error object: Core's code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcError {
    pub code: i32,
    pub message: String,
}

impl RpcError {
    #[must_use]
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// `{"code": …, "message": …}`.
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({"code": self.code, "message": self.message})
    }

    /// Core's -8 (invalid, missing or duplicate parameter).
    #[must_use]
    pub fn invalid_param(message: impl Into<String>) -> Self {
        Self::new(RPC_INVALID_PARAMETER, message)
    }

    /// Core's -1 (an exception in the handler; also a fault of ours, named).
    #[must_use]
    pub fn misc(message: impl Into<String>) -> Self {
        Self::new(RPC_MISC_ERROR, message)
    }
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for RpcError {}
