//! The `/metrics` endpoint: a minimal HTTP/1.1 server on its own port. Each connection gets one
//! answer and is closed; requests are bounded in size and time, and connections in number, so
//! a misbehaving client cannot hold the node's resources.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

use super::encode::CONTENT_TYPE;
use super::NodeMetrics;

/// Largest request head read.
const MAX_REQUEST: usize = 8 * 1024;
/// Time a client has to send its request and read the answer.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once; more wait to be accepted.
const MAX_CONNECTIONS: usize = 8;

/// What a request asks for.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    Metrics { head_only: bool },
    NotFound,
    BadMethod,
    BadRequest,
}

/// Routes a request head (everything before the blank line).
fn route(head: &[u8]) -> Route {
    let Some(line) = head.split(|&b| b == b'\r' || b == b'\n').next() else {
        return Route::BadRequest;
    };
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Route::BadRequest;
    };
    if !version.starts_with(b"HTTP/1.") {
        return Route::BadRequest;
    }
    let path = target.split(|&b| b == b'?').next().unwrap_or_default();
    let head_only = match method {
        b"GET" => false,
        b"HEAD" => true,
        _ => return Route::BadMethod,
    };
    if path == b"/metrics" {
        Route::Metrics { head_only }
    } else {
        Route::NotFound
    }
}

/// The full response to a routed request.
fn respond(route: &Route, metrics: &NodeMetrics) -> Vec<u8> {
    let (status, ctype, body, head_only) = match route {
        Route::Metrics { head_only } => ("200 OK", CONTENT_TYPE, metrics.render(), *head_only),
        Route::NotFound => (
            "404 Not Found",
            "text/plain",
            "try /metrics\n".into(),
            false,
        ),
        Route::BadMethod => (
            "405 Method Not Allowed",
            "text/plain",
            "GET only\n".into(),
            false,
        ),
        Route::BadRequest => ("400 Bad Request", "text/plain", String::new(), false),
    };
    let allow = if matches!(route, Route::BadMethod) {
        "Allow: GET, HEAD\r\n"
    } else {
        ""
    };
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{allow}Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body.as_bytes());
    }
    out
}

/// Reads a request head: up to the blank line, at most [`MAX_REQUEST`] bytes.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.windows(2).any(|w| w == b"\n\n") {
            return Ok(Some(buf));
        }
        if buf.len() > MAX_REQUEST {
            return Ok(Some(Vec::new()));
        }
    }
}

async fn serve_one(mut stream: TcpStream, metrics: &NodeMetrics) {
    let work = async {
        let Some(head) = read_head(&mut stream).await? else {
            return Ok(());
        };
        let r = if head.is_empty() {
            Route::BadRequest
        } else {
            route(&head)
        };
        stream.write_all(&respond(&r, metrics)).await?;
        stream.shutdown().await
    };
    match tokio::time::timeout(IO_TIMEOUT, work).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::debug!("metrics client: {e}"),
        Err(_) => tracing::debug!("metrics client timed out"),
    }
}

/// Serves `/metrics` on `listener` until `stop` turns true. Returns the bound address.
///
/// # Errors
/// The listener has no local address.
pub fn start(
    listener: TcpListener,
    metrics: Arc<NodeMetrics>,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<SocketAddr> {
    let local = listener.local_addr()?;
    tracing::info!(addr = %local, "serving Prometheus metrics at /metrics");
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tokio::spawn(async move {
        loop {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let accepted = tokio::select! {
                r = listener.accept() => r,
                _ = stop.wait_for(|s| *s) => return,
            };
            match accepted {
                Ok((stream, _)) => {
                    let metrics = metrics.clone();
                    tokio::spawn(async move {
                        serve_one(stream, &metrics).await;
                        drop(permit);
                    });
                }
                Err(e) => {
                    tracing::warn!("metrics listener: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    });
    Ok(local)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Sources;

    #[test]
    fn routes() {
        assert_eq!(
            route(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Route::Metrics { head_only: false }
        );
        assert_eq!(
            route(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n"),
            Route::Metrics { head_only: false }
        );
        assert_eq!(
            route(b"HEAD /metrics HTTP/1.1\r\n\r\n"),
            Route::Metrics { head_only: true }
        );
        assert_eq!(route(b"GET / HTTP/1.1\r\n\r\n"), Route::NotFound);
        assert_eq!(route(b"POST /metrics HTTP/1.1\r\n\r\n"), Route::BadMethod);
        assert_eq!(route(b"GET /metrics\r\n\r\n"), Route::BadRequest);
        assert_eq!(route(b"\r\n\r\n"), Route::BadRequest);
        assert_eq!(route(b"GET /metrics SPDY/3\r\n\r\n"), Route::BadRequest);
    }

    #[test]
    fn responses_have_length_and_type() {
        let m = NodeMetrics::new(Sources::default());
        let r = String::from_utf8(respond(&Route::Metrics { head_only: false }, &m)).unwrap();
        let (head, body) = r.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(head.contains(&format!("Content-Type: {CONTENT_TYPE}\r\n")));
        assert!(head.contains(&format!("Content-Length: {}\r\n", body.len())));
        assert!(body.contains("sluice_chain_height 0\n"));
        let r = respond(&Route::Metrics { head_only: true }, &m);
        assert!(r.ends_with(b"\r\n\r\n"), "HEAD has no body");
        let r = String::from_utf8(respond(&Route::BadMethod, &m)).unwrap();
        assert!(r.starts_with("HTTP/1.1 405") && r.contains("Allow: GET, HEAD"));
    }

    #[tokio::test]
    async fn serves_over_loopback_and_stops() {
        let m = Arc::new(NodeMetrics::new(Sources::default()));
        m.set_header_height(42);
        let (stop_tx, stop) = watch::channel(false);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = start(listener, m, stop).unwrap();
        let get = |req: &'static [u8]| async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(req).await.unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out
        };
        let r = get(b"GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n").await;
        assert!(
            r.contains("\r\n\r\n") && r.contains("sluice_header_height 42\n"),
            "{r}"
        );
        let r = get(b"GET /nope HTTP/1.1\r\n\r\n").await;
        assert!(r.starts_with("HTTP/1.1 404"), "{r}");
        let mut big = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
        big.resize(MAX_REQUEST + 100, b'a');
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&big).await.unwrap();
        let mut out = String::new();
        // The server may close with bytes unread, which resets the connection: either way,
        // nothing is served.
        match s.read_to_string(&mut out).await {
            Ok(_) => assert!(out.starts_with("HTTP/1.1 400"), "{out}"),
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
        }
        stop_tx.send_replace(true);
        // Once stopped, the listener is closed: connecting fails within a bounded time.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            if TcpStream::connect(addr).await.is_err() {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "still listening");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
