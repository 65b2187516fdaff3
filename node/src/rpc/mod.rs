//! bitcoind-compatible JSON-RPC (see docs/rpc.md).
//!
//! Sans-IO layers, each a set of pure functions tested without sockets: [`http`] (HTTP/1.1
//! requests and responses), [`auth`] (Basic credentials: cookie, `rpcauth`, user/password),
//! [`jsonrpc`] (1.0/2.0 envelopes, batches, notifications, Core's HTTP statuses),
//! [`registry`] (the method table: named arguments, argument checks, warm-up). [`server`] is
//! the thin tokio shell; [`methods`] holds the built-in methods over a [`Context`].
//!
//! The mempool's methods (`methods::mempool`) are registered by [`crate::run::start_with`]
//! over the node's pool, which is also installed as the [`MempoolView`]
//! ([`Context::set_mempool`]) that `getrawtransaction` and `gettxout` read. Other methods
//! can be added through `start_with`'s closure ([`Registry::add`]).

pub mod auth;
mod context;
pub mod error;
pub mod fuzz_harness;
pub mod http;
pub mod jsonrpc;
pub mod methods;
pub mod registry;
pub mod script;
pub mod server;
pub mod tx;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;

pub use context::{parse_hash, Context, MempoolView, NodeQuery};
pub use registry::Registry;
pub use server::RpcServer;

use crate::config::NodeConfig;

/// Requests waiting for a worker at most (Core's `DEFAULT_HTTP_WORKQUEUE`).
pub const DEFAULT_WORK_QUEUE: usize = 64;
/// Worker threads running methods (Core has 16; two cores are shared with validation here,
/// and methods are short).
pub const DEFAULT_THREADS: usize = 4;

/// A started RPC service: the server and the cookie it wrote.
#[derive(Debug)]
pub struct RpcService {
    pub server: RpcServer,
    /// Removed on clean shutdown.
    pub cookie: Option<PathBuf>,
}

impl RpcService {
    /// Stops the server and removes the cookie.
    pub fn shutdown(&self) {
        self.server.shutdown();
        if let Some(p) = &self.cookie {
            if let Err(e) = std::fs::remove_file(p) {
                tracing::warn!("removing the RPC cookie {}: {e}", p.display());
            }
        }
    }

    /// Where it listens.
    #[must_use]
    pub fn addrs(&self) -> &[SocketAddr] {
        self.server.addrs()
    }
}

/// The addresses to listen on: `rpcbind` entries (a missing port means `rpcport`), default
/// 127.0.0.1.
///
/// # Errors
/// An entry is not an IP address (with or without port).
pub fn bind_addrs(cfg: &NodeConfig) -> anyhow::Result<Vec<SocketAddr>> {
    let port = cfg.rpcport.unwrap_or_else(|| cfg.default_rpc_port());
    if cfg.rpcbind.is_empty() {
        return Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))]);
    }
    cfg.rpcbind
        .iter()
        .map(|b| {
            b.parse::<SocketAddr>()
                .or_else(|_| {
                    b.parse::<std::net::IpAddr>()
                        .map(|ip| SocketAddr::new(ip, port))
                })
                .with_context(|| format!("--rpcbind {b}: not an IP address or ip:port"))
        })
        .collect()
}

/// Credentials from the configuration, writing a fresh cookie unless a password is set.
///
/// # Errors
/// A malformed `rpcauth` line, or the cookie cannot be written.
pub fn credentials(cfg: &NodeConfig) -> anyhow::Result<(auth::Credentials, Option<PathBuf>)> {
    let mut creds = auth::Credentials::default();
    for line in &cfg.rpcauth {
        creds
            .rpcauth
            .push(auth::RpcAuthLine::parse(line).map_err(anyhow::Error::msg)?);
    }
    let mut cookie = None;
    match (&cfg.rpcuser, &cfg.rpcpassword) {
        (Some(u), Some(p)) if !p.expose().is_empty() => {
            creds.userpass = Some((u.clone(), p.expose().clone()));
        }
        _ => {
            let pass = auth::new_cookie_password();
            let path = cfg
                .rpccookiefile
                .clone()
                .unwrap_or_else(|| cfg.datadir.join(auth::COOKIE_FILE));
            let dir = path
                .parent()
                .map(std::path::Path::to_path_buf)
                .unwrap_or_default();
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            auth::write_cookie(&path, &pass)
                .with_context(|| format!("writing the RPC cookie {}", path.display()))?;
            creds.cookie = Some(pass);
            cookie = Some(path);
        }
    }
    Ok((creds, cookie))
}

/// Starts the server with `registry` on the configured addresses.
///
/// # Errors
/// Credentials or binding failed.
pub async fn start(
    cfg: &NodeConfig,
    registry: Arc<Registry>,
    metrics: Option<Arc<crate::metrics::NodeMetrics>>,
) -> anyhow::Result<RpcService> {
    let binds = bind_addrs(cfg)?;
    let (creds, cookie) = credentials(cfg)?;
    let server = RpcServer::start(
        &binds,
        creds,
        registry,
        metrics,
        (cfg.rpcthreads, cfg.rpcworkqueue),
    )
    .await
    .with_context(|| format!("binding the RPC server to {binds:?}"))?;
    tracing::info!("JSON-RPC on {:?}", server.addrs());
    Ok(RpcService { server, cookie })
}
