//! A raw HTTP JSON-RPC client for Sluice's server (status codes and headers visible), and
//! bitcoin-cli pointed at it.
#![allow(dead_code)]

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

/// An HTTP reply.
#[derive(Debug)]
pub struct HttpReply {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl HttpReply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// `Basic` credentials of the cookie file.
pub fn cookie_auth(cookie: &Path) -> String {
    let text = std::fs::read_to_string(cookie).unwrap();
    format!("Basic {}", base64(text.trim().as_bytes()))
}

pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= c.len() {
                out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Sends raw bytes and reads the reply (the server closes: `Connection: close` is sent).
pub fn raw(addr: SocketAddr, request: &[u8]) -> HttpReply {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    // The server may answer (413) and close before the whole request is written.
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.take(64 << 20).read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    HttpReply {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// POSTs `body` to `/` with `auth` (an `Authorization` value).
pub fn post(addr: SocketAddr, auth: Option<&str>, body: &str) -> HttpReply {
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    raw(addr, req.as_bytes())
}

/// Calls `method` (JSON-RPC 1.0) and returns the whole envelope.
pub fn call(addr: SocketAddr, auth: &str, method: &str, params: &Value) -> (u16, Value) {
    let body = serde_json::json!({"jsonrpc": "1.0", "id": "t", "method": method, "params": params});
    let r = post(addr, Some(auth), &body.to_string());
    (r.status, r.json())
}

/// bitcoin-cli pointed at a server with a cookie: stdout (trimmed) or the error text.
pub fn cli(addr: SocketAddr, cookie: &Path, args: &[&str]) -> Result<String, String> {
    let out = std::process::Command::new(sluice_bitcoind::bin_dir().join("bitcoin-cli"))
        .arg("-regtest")
        .arg(format!("-rpcconnect={}", addr.ip()))
        .arg(format!("-rpcport={}", addr.port()))
        .arg(format!("-rpccookiefile={}", cookie.display()))
        .args(args)
        .output()
        .unwrap();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}
