//! The thin tokio shell around [`http`](super::http), [`auth`](super::auth) and
//! [`jsonrpc`](super::jsonrpc): accepts connections, reads requests, answers 401 after a
//! delay (on that connection's task only), hands authorised bodies to a bounded work queue
//! served by a fixed set of worker threads (a full queue answers 503 at once, as Core's
//! `-rpcworkqueue`), and writes the replies. Methods run on the workers, never on the runtime,
//! so a flood of calls queues here and never stalls the event loop or validation.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam::channel::{bounded, Receiver, Sender, TrySendError};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};

use super::auth::{Credentials, WWW_AUTHENTICATE};
use super::http::{parse_request, response, Parsed, Request};
use super::jsonrpc::{handle, Reply};
use super::registry::Registry;
use crate::metrics::NodeMetrics;

/// Wait before answering a wrong credential (Core's brute-force deterrent).
pub const AUTH_FAILURE_DELAY: Duration = Duration::from_millis(250);
/// A connection idle this long is closed (Core's -rpcservertimeout default).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

struct Job {
    body: Vec<u8>,
    reply: oneshot::Sender<Reply>,
}

/// A running RPC server.
#[derive(Debug)]
pub struct RpcServer {
    addrs: Vec<SocketAddr>,
    stop: watch::Sender<bool>,
    /// Dropped to tell the workers to stop, whatever connections are still open.
    stop_workers: Mutex<Option<Sender<()>>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl RpcServer {
    /// Binds `binds`, starts `threads` workers behind a queue of `queue` requests, and serves;
    /// `metrics`, when given, counts credential failures and times each method.
    ///
    /// # Errors
    /// A bind failed.
    pub async fn start(
        binds: &[SocketAddr],
        creds: Credentials,
        registry: Arc<Registry>,
        metrics: Option<Arc<NodeMetrics>>,
        (threads, queue): (usize, usize),
    ) -> std::io::Result<Self> {
        let (jobs, rx) = bounded::<Job>(queue.max(1));
        let (stop_workers, workers_stopped) = bounded::<()>(0);
        let mut workers = Vec::new();
        for i in 0..threads.max(1) {
            let rx: Receiver<Job> = rx.clone();
            let stopped: Receiver<()> = workers_stopped.clone();
            let registry = registry.clone();
            let metrics = metrics.clone();
            workers.push(std::thread::Builder::new().name(format!("rpc-{i}")).spawn(
                move || loop {
                    // Ends at shutdown (the stop sender dropped) or when every job sender
                    // is gone; the registry, and through it the node's store, goes with it.
                    crossbeam::channel::select! {
                        recv(rx) -> job => match job {
                            Ok(job) => {
                                let started = Instant::now();
                                let reply = handle(&job.body, &registry);
                                if let Some(m) = &metrics {
                                    m.observe_rpc(method_label(&job.body, &registry), started.elapsed());
                                }
                                let _ = job.reply.send(reply);
                            }
                            Err(_) => return,
                        },
                        recv(stopped) -> _ => return,
                    }
                },
            )?);
        }
        let creds = Arc::new((creds, metrics));
        let (stop, stopped) = watch::channel(false);
        let mut addrs = Vec::new();
        for b in binds {
            let listener = TcpListener::bind(b).await?;
            addrs.push(listener.local_addr()?);
            tokio::spawn(accept_loop(
                listener,
                jobs.clone(),
                creds.clone(),
                stopped.clone(),
            ));
        }
        Ok(Self {
            addrs,
            stop,
            stop_workers: Mutex::new(Some(stop_workers)),
            workers: Mutex::new(workers),
        })
    }

    /// The addresses listened on (ports resolved).
    #[must_use]
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Stops accepting connections and waits for the workers to finish the method they run:
    /// when this returns, no method runs and nothing of the node is held by the server (the
    /// next start can open the store). Blocks: call it off the async runtime.
    pub fn shutdown(&self) {
        let _ = self.stop.send(true);
        drop(
            self.stop_workers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let workers =
            std::mem::take(&mut *self.workers.lock().unwrap_or_else(PoisonError::into_inner));
        for w in workers {
            if w.join().is_err() {
                tracing::error!("an RPC worker panicked");
            }
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    jobs: Sender<Job>,
    creds: Arc<(Credentials, Option<Arc<NodeMetrics>>)>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, peer)) => {
                    let (jobs, creds, stopped) = (jobs.clone(), creds.clone(), stopped.clone());
                    tokio::spawn(async move {
                        if let Err(e) = serve(stream, &jobs, &creds.0, creds.1.as_deref(), stopped).await {
                            tracing::debug!("rpc connection {peer}: {e}");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!("rpc accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = stopped.changed() => return,
        }
    }
}

/// What to send for one request, and whether the connection stays open.
async fn answer(
    req: &Request,
    jobs: &Sender<Job>,
    creds: &Credentials,
    metrics: Option<&NodeMetrics>,
) -> (Vec<u8>, bool) {
    let keep = req.keep_alive;
    if req.method != "POST" {
        let body = b"JSONRPC server handles only POST requests";
        return (response(405, &[], body, keep), keep);
    }
    if req.target != "/" {
        return (response(404, &[], b"", keep), keep);
    }
    let user = req.header("authorization").and_then(|a| creds.check(a));
    if user.is_none() {
        if req.header("authorization").is_some() {
            tracing::warn!("incorrect RPC password attempt");
            if let Some(m) = metrics {
                m.rpc_auth_failed();
            }
            // Only this connection waits: other requests go on being served.
            tokio::time::sleep(AUTH_FAILURE_DELAY).await;
        }
        return (
            response(401, &[("WWW-Authenticate", WWW_AUTHENTICATE)], b"", keep),
            keep,
        );
    }
    let (tx, rx) = oneshot::channel();
    match jobs.try_send(Job {
        body: req.body.clone(),
        reply: tx,
    }) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            tracing::warn!("RPC work queue full: request refused");
            return (
                response(503, &[], b"Work queue depth exceeded", false),
                false,
            );
        }
        Err(TrySendError::Disconnected(_)) => {
            return (
                response(503, &[], b"Request rejected during server shutdown", false),
                false,
            );
        }
    }
    let Ok(reply) = rx.await else {
        return (response(500, &[], b"", false), false);
    };
    let bytes = match &reply.body {
        Some(b) => response(
            reply.status,
            &[("Content-Type", "application/json")],
            b.as_bytes(),
            keep,
        ),
        None => response(reply.status, &[], b"", keep),
    };
    (bytes, keep)
}

async fn serve(
    mut stream: TcpStream,
    jobs: &Sender<Job>,
    creds: &Credentials,
    metrics: Option<&NodeMetrics>,
    stopped: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        match parse_request(&buf) {
            Ok(Parsed::Done { request, consumed }) => {
                buf.drain(..consumed);
                let (bytes, keep) = answer(&request, jobs, creds, metrics).await;
                stream.write_all(&bytes).await?;
                if !keep || *stopped.borrow() {
                    return stream.shutdown().await;
                }
                continue;
            }
            Ok(Parsed::Incomplete) => {}
            Err(e) => {
                let bytes = response(e.status(), &[], b"", false);
                stream.write_all(&bytes).await?;
                return stream.shutdown().await;
            }
        }
        let n = tokio::time::timeout(IDLE_TIMEOUT, stream.read(&mut chunk))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "idle"))??;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The latency label of a request: its method when registered, `batch` for a JSON array, else
/// `other` (so callers cannot mint labels).
fn method_label<'a>(body: &[u8], registry: &'a Registry) -> &'a str {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Array(_)) => "batch",
        Ok(v) => v
            .get("method")
            .and_then(serde_json::Value::as_str)
            .and_then(|m| registry.get(m))
            .map_or(crate::metrics::OTHER_METHOD, |m| m.name),
        Err(_) => crate::metrics::OTHER_METHOD,
    }
}
