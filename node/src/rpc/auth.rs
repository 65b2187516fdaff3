//! Who may call: HTTP Basic credentials checked against the cookie (`__cookie__:<hex>`, as
//! Core writes it), `rpcauth=user:salt$hmac` lines (HMAC-SHA256 of the password keyed by the
//! salt, as Core's share/rpcauth/rpcauth.py makes them) and an optional `rpcuser`/`rpcpassword`.
//! Pure functions; the cookie file is written by [`write_cookie`].

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The user name of cookie authentication (Core's `COOKIEAUTH_USER`).
pub const COOKIE_USER: &str = "__cookie__";
/// The cookie file's name in the datadir (Core's `COOKIEAUTH_FILE`).
pub const COOKIE_FILE: &str = ".cookie";
/// The value of `WWW-Authenticate` on a 401 (Core's `WWW_AUTH_HEADER_DATA`).
pub const WWW_AUTHENTICATE: &str = "Basic realm=\"jsonrpc\"";

/// One `rpcauth` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcAuthLine {
    pub user: String,
    pub salt: String,
    /// Lower-case hex HMAC-SHA256(key = salt, message = password).
    pub hmac: String,
}

impl RpcAuthLine {
    /// Parses `user:salt$hmac`.
    ///
    /// # Errors
    /// The line is not of that form (the message names the problem, never the secret).
    pub fn parse(line: &str) -> Result<Self, String> {
        let (user, rest) = line
            .split_once(':')
            .ok_or("rpcauth: expected user:salt$hash")?;
        let (salt, hmac) = rest
            .split_once('$')
            .ok_or("rpcauth: expected user:salt$hash")?;
        if user.is_empty() || salt.is_empty() || hmac.len() != 64 || hex::decode(hmac).is_err() {
            return Err(format!("rpcauth for user {user:?}: malformed salt or hash"));
        }
        Ok(Self {
            user: user.to_owned(),
            salt: salt.to_owned(),
            hmac: hmac.to_ascii_lowercase(),
        })
    }
}

/// The credentials the server accepts.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// `__cookie__`'s password (hex), when a cookie is in use.
    pub cookie: Option<String>,
    pub rpcauth: Vec<RpcAuthLine>,
    /// `rpcuser` and `rpcpassword`.
    pub userpass: Option<(String, String)>,
}

/// HMAC-SHA256 (RFC 2104).
#[must_use]
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Compares without an early exit on the first differing byte.
#[must_use]
pub fn timing_resistant_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Standard base64 (RFC 4648, padding optional) to bytes; `None` on any invalid character.
#[must_use]
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let s = s.trim_end_matches('=').as_bytes();
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c)? << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

impl Credentials {
    /// The user an `Authorization` header authenticates, or `None` (Core's `RPCAuthorized`).
    #[must_use]
    pub fn check(&self, authorization: &str) -> Option<String> {
        let encoded = authorization.strip_prefix("Basic ")?.trim();
        let decoded = String::from_utf8(base64_decode(encoded)?).ok()?;
        let (user, pass) = decoded.split_once(':')?;
        let mut ok = false;
        if let Some(cookie) = &self.cookie {
            ok |= timing_resistant_eq(user.as_bytes(), COOKIE_USER.as_bytes())
                && timing_resistant_eq(pass.as_bytes(), cookie.as_bytes());
        }
        if let Some((u, p)) = &self.userpass {
            ok |= timing_resistant_eq(user.as_bytes(), u.as_bytes())
                && timing_resistant_eq(pass.as_bytes(), p.as_bytes());
        }
        for line in &self.rpcauth {
            if !timing_resistant_eq(user.as_bytes(), line.user.as_bytes()) {
                continue;
            }
            let mac = hex::encode(hmac_sha256(line.salt.as_bytes(), pass.as_bytes()));
            ok |= timing_resistant_eq(mac.as_bytes(), line.hmac.as_bytes());
        }
        ok.then(|| user.to_owned())
    }
}

/// A fresh cookie password: 32 random bytes in hex (Core's `GenerateAuthCookie`).
#[must_use]
pub fn new_cookie_password() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    hex::encode(bytes)
}

/// Writes `__cookie__:<password>` to `path` atomically (`<path>.tmp`, mode 0600, renamed
/// into place).
///
/// # Errors
/// The file cannot be written.
pub fn write_cookie(path: &Path, password: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(format!("{COOKIE_USER}:{password}").as_bytes())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn basic(s: &str) -> String {
        // The encoder of the bitcoind test crate is not reachable from here: a tiny one.
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for c in s.as_bytes().chunks(3) {
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
        format!("Basic {out}")
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn base64_round_trips_and_rejects_garbage() {
        for s in ["", "a", "ab", "abc", "__cookie__:00ff", "user:pa:ss"] {
            let enc = basic(s);
            assert_eq!(
                base64_decode(enc.strip_prefix("Basic ").unwrap()).unwrap(),
                s.as_bytes()
            );
        }
        assert!(base64_decode("a$==").is_none());
        assert!(base64_decode("abcde").is_none());
    }

    #[test]
    fn cookie_rpcauth_and_userpass() {
        // Made with Core's share/rpcauth/rpcauth.py logic: hmac(salt, password).
        let salt = "cb77f0957de88ff388cf817ddbc7273";
        let hmac = hex::encode(hmac_sha256(salt.as_bytes(), b"secret"));
        let creds = Credentials {
            cookie: Some("abcd".into()),
            rpcauth: vec![RpcAuthLine::parse(&format!("alice:{salt}${hmac}")).unwrap()],
            userpass: Some(("bob".into(), "pw".into())),
        };
        assert_eq!(
            creds.check(&basic("__cookie__:abcd")).as_deref(),
            Some("__cookie__")
        );
        assert_eq!(
            creds.check(&basic("alice:secret")).as_deref(),
            Some("alice")
        );
        assert_eq!(creds.check(&basic("bob:pw")).as_deref(), Some("bob"));
        for bad in [
            basic("__cookie__:abce"),
            basic("alice:Secret"),
            basic("bob:pw2"),
            basic("mallory:secret"),
            basic("nocolon"),
            "Bearer x".into(),
            "Basic !!!".into(),
        ] {
            assert_eq!(creds.check(&bad), None, "{bad}");
        }
        assert!(RpcAuthLine::parse("alice:salt$zz").is_err());
        assert!(RpcAuthLine::parse("alice").is_err());
    }

    #[test]
    fn cookie_file_is_private_and_complete() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(COOKIE_FILE);
        write_cookie(&p, "00ff").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "__cookie__:00ff");
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(!dir.path().join(".cookie.tmp").exists());
        write_cookie(&p, "11ee").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "__cookie__:11ee");
        assert_eq!(new_cookie_password().len(), 64);
    }
}
