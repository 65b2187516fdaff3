//! JSON-RPC to the node over loopback HTTP with its cookie, without spawning bitcoin-cli: cheap
//! enough to poll a node several times a second while it syncs (`perf ibd`).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

use crate::Bitcoind;

/// A failed RPC call.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// Reading the cookie, connecting, writing or reading failed.
    #[error("RPC i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The reply was not an HTTP response with a JSON-RPC body.
    #[error("RPC reply not understood: {0}")]
    BadReply(String),
    /// bitcoind answered with an error (e.g. -28 while warming up).
    #[error("RPC error {code}: {message}")]
    Rpc {
        /// bitcoind's error code.
        code: i64,
        /// Its message.
        message: String,
    },
}

/// Standard base64 with padding (for the HTTP Basic credentials).
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Splits an HTTP response into its body and parses the JSON-RPC envelope.
fn parse_reply(raw: &[u8]) -> Result<Value, RpcError> {
    let text = String::from_utf8_lossy(raw);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return Err(RpcError::BadReply(format!(
            "no HTTP header end in {text:?}"
        )));
    };
    let envelope: Value = serde_json::from_str(body.trim()).map_err(|e| {
        let status = head.lines().next().unwrap_or_default();
        RpcError::BadReply(format!("{status}: {e}"))
    })?;
    match envelope.get("error") {
        Some(err) if !err.is_null() => Err(RpcError::Rpc {
            code: err.get("code").and_then(Value::as_i64).unwrap_or(0),
            message: err
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        }),
        _ => Ok(envelope.get("result").cloned().unwrap_or(Value::Null)),
    }
}

impl Bitcoind {
    /// Calls `method` with `params` (a JSON array), waiting up to a minute for the answer.
    ///
    /// # Errors
    /// See [`RpcError`].
    pub fn rpc(&self, method: &str, params: &Value) -> Result<Value, RpcError> {
        self.rpc_with_timeout(method, params, Duration::from_secs(60))
    }

    /// Calls `method`, waiting up to `timeout` for the answer (for calls that block, such as
    /// `waitforblockheight`).
    ///
    /// # Errors
    /// See [`RpcError`].
    pub fn rpc_with_timeout(
        &self,
        method: &str,
        params: &Value,
        timeout: Duration,
    ) -> Result<Value, RpcError> {
        let cookie = std::fs::read_to_string(self.cookie_path())?;
        call(self.rpc_addr(), cookie.trim(), method, params, timeout)
    }
}

/// Calls `method` with `params` (a JSON array) on the JSON-RPC server at `addr` with HTTP Basic
/// `credentials` (`user:password`, e.g. a cookie file's content), waiting up to `timeout` for
/// the answer. Works with bitcoind and Sluice alike (`perf lossy` drives Sluice with it).
///
/// # Errors
/// See [`RpcError`].
pub fn call(
    addr: SocketAddr,
    credentials: &str,
    method: &str,
    params: &Value,
    timeout: Duration,
) -> Result<Value, RpcError> {
    let body = serde_json::json!({
        "jsonrpc": "1.0",
        "id": "sluice",
        "method": method,
        "params": params,
    })
    .to_string();
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        addr.ip(),
        base64(credentials.as_bytes()),
        body.len()
    )?;
    let mut raw = Vec::new();
    // Bounded: the server closes the connection after one reply (Connection: close), and the
    // read timeout ends a stuck call.
    stream.take(64 << 20).read_to_end(&mut raw)?;
    parse_reply(&raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), enc, "{plain}");
        }
    }

    #[test]
    fn replies_are_parsed() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n{\"result\":7,\"error\":null,\"id\":\"sluice\"}\n";
        assert_eq!(parse_reply(ok).ok(), Some(Value::from(7)));
        let err = b"HTTP/1.1 500 Internal Server Error\r\n\r\n{\"result\":null,\"error\":{\"code\":-28,\"message\":\"Loading\"},\"id\":1}";
        match parse_reply(err) {
            Err(RpcError::Rpc { code, message }) => {
                assert_eq!((code, message.as_str()), (-28, "Loading"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_reply(b"HTTP/1.1 401 Unauthorized\r\n\r\n"),
            Err(RpcError::BadReply(_))
        ));
        assert!(matches!(
            parse_reply(b"garbage"),
            Err(RpcError::BadReply(_))
        ));
    }
}
