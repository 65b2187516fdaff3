//! HTTP/1.1 requests and responses as pure functions over bytes (no sockets): the RPC server's
//! shell feeds what it read to [`parse_request`] and writes what [`response`] returns.
//! Limits are Core's (httpserver.h): 8 KiB of request line and headers, 32 MiB of body.

/// Request line plus headers, at most (Core's `MAX_HEADERS_SIZE`).
pub const MAX_HEADERS_SIZE: usize = 8192;
/// Body size at most (Core's `MAX_BODY_SIZE`, 32 MiB); more is refused with 413.
pub const MAX_BODY_SIZE: usize = 32 << 20;

/// A complete request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub target: String,
    /// Header names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The connection stays open after the reply (HTTP/1.1 unless `Connection: close`;
    /// HTTP/1.0 only with `Connection: keep-alive`).
    pub keep_alive: bool,
}

impl Request {
    /// The first header called `name` (lower case).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the bytes so far amount to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// More bytes are needed.
    Incomplete,
    /// A request, and how many bytes of the buffer it took.
    Done { request: Request, consumed: usize },
}

/// A request that cannot be served; the shell answers with [`HttpError::status`] and closes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("malformed request: {0}")]
    Malformed(&'static str),
    #[error("request headers exceed {MAX_HEADERS_SIZE} bytes")]
    HeadersTooLarge,
    #[error("body of {0} bytes exceeds {MAX_BODY_SIZE}")]
    BodyTooLarge(u64),
}

impl HttpError {
    /// The HTTP status to answer with.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            HttpError::BodyTooLarge(_) => 413,
            HttpError::Malformed(_) | HttpError::HeadersTooLarge => 400,
        }
    }
}

fn find_header_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// Parses one request from the start of `buf`. A body is delimited by `Content-Length`
/// (chunked bodies are refused: neither bitcoin-cli nor the common clients send them).
///
/// # Errors
/// [`HttpError`]: the request is malformed or over a limit; the shell answers and closes.
pub fn parse_request(buf: &[u8]) -> Result<Parsed, HttpError> {
    let Some(head_len) = find_header_end(buf) else {
        if buf.len() > MAX_HEADERS_SIZE {
            return Err(HttpError::HeadersTooLarge);
        }
        return Ok(Parsed::Incomplete);
    };
    if head_len > MAX_HEADERS_SIZE {
        return Err(HttpError::HeadersTooLarge);
    }
    let head = std::str::from_utf8(&buf[..head_len - 4])
        .map_err(|_| HttpError::Malformed("headers are not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HttpError::Malformed("bad request line"));
    };
    if method.is_empty() || target.is_empty() {
        return Err(HttpError::Malformed("bad request line"));
    }
    let http11 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        _ => return Err(HttpError::Malformed("unsupported HTTP version")),
    };
    let mut headers = Vec::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(HttpError::Malformed("header line without a colon"));
        };
        if name.is_empty() || name.contains([' ', '\t']) {
            return Err(HttpError::Malformed("bad header name"));
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let mut request = Request {
        method: method.to_owned(),
        target: target.to_owned(),
        headers,
        body: Vec::new(),
        keep_alive: false,
    };
    if request
        .header("transfer-encoding")
        .is_some_and(|v| !v.eq_ignore_ascii_case("identity"))
    {
        return Err(HttpError::Malformed("chunked bodies are not supported"));
    }
    let mut length: Option<u64> = None;
    for (_, v) in request
        .headers
        .iter()
        .filter(|(n, _)| n == "content-length")
    {
        let n: u64 = v
            .parse()
            .map_err(|_| HttpError::Malformed("cannot parse Content-Length"))?;
        if length.is_some_and(|l| l != n) {
            return Err(HttpError::Malformed("differing Content-Length values"));
        }
        length = Some(n);
    }
    let length = length.unwrap_or(0);
    if length > MAX_BODY_SIZE as u64 {
        return Err(HttpError::BodyTooLarge(length));
    }
    // Bounded by MAX_BODY_SIZE above, so it fits.
    let length = usize::try_from(length).map_err(|_| HttpError::BodyTooLarge(length))?;
    let Some(body) = buf.get(head_len..head_len + length) else {
        return Ok(Parsed::Incomplete);
    };
    request.body = body.to_vec();
    let connection = request.header("connection").map(str::to_ascii_lowercase);
    request.keep_alive = match connection.as_deref() {
        Some("close") => false,
        Some("keep-alive") => true,
        _ => http11,
    };
    Ok(Parsed::Done {
        request,
        consumed: head_len + length,
    })
}

/// The reason phrase of a status Core sends.
#[must_use]
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// A complete response. `extra` headers come before `Content-Length` and `Connection`.
#[must_use]
pub fn response(status: u16, extra: &[(&str, &str)], body: &[u8], keep_alive: bool) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (n, v) in extra {
        out.push_str(n);
        out.push_str(": ");
        out.push_str(v);
        out.push_str("\r\n");
    }
    out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    out.push_str(if keep_alive {
        "Connection: keep-alive\r\n\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn done(buf: &[u8]) -> (Request, usize) {
        match parse_request(buf).unwrap() {
            Parsed::Done { request, consumed } => (request, consumed),
            Parsed::Incomplete => panic!("incomplete"),
        }
    }

    #[test]
    fn a_post_with_body_then_a_second_request_in_the_same_buffer() {
        let raw = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nAuthorization: Basic YTpi\r\n\r\nhelloGET";
        let (r, used) = done(raw);
        assert_eq!(r.method, "POST");
        assert_eq!(r.target, "/");
        assert_eq!(r.body, b"hello");
        assert_eq!(r.header("authorization"), Some("Basic YTpi"));
        assert!(r.keep_alive);
        assert_eq!(&raw[used..], b"GET");
    }

    #[test]
    fn every_prefix_of_a_request_is_incomplete() {
        let raw = b"POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc";
        for n in 0..raw.len() {
            assert_eq!(parse_request(&raw[..n]).unwrap(), Parsed::Incomplete, "{n}");
        }
        let (r, used) = done(raw);
        assert!(!r.keep_alive, "HTTP/1.0 closes by default");
        assert_eq!(used, raw.len());
    }

    #[test]
    fn limits_and_malformed_requests() {
        let big = format!(
            "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY_SIZE + 1
        );
        let e = parse_request(big.as_bytes()).unwrap_err();
        assert_eq!(e.status(), 413);
        let ok = format!("POST / HTTP/1.1\r\nContent-Length: {MAX_BODY_SIZE}\r\n\r\n");
        assert_eq!(parse_request(ok.as_bytes()).unwrap(), Parsed::Incomplete);
        let long = vec![b'a'; MAX_HEADERS_SIZE + 1];
        assert_eq!(
            parse_request(&long).unwrap_err(),
            HttpError::HeadersTooLarge
        );
        for bad in [
            &b"POST /\r\n\r\n"[..],
            b"POST / HTTP/2\r\n\r\n",
            b"POST / HTTP/1.1\r\nNoColon\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        ] {
            assert_eq!(parse_request(bad).unwrap_err().status(), 400, "{bad:?}");
        }
    }

    #[test]
    fn response_shape() {
        let r = response(
            401,
            &[("WWW-Authenticate", "Basic realm=\"jsonrpc\"")],
            b"",
            false,
        );
        assert_eq!(
            String::from_utf8(r).unwrap(),
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"jsonrpc\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
    }
}
