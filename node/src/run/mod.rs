//! `sluice run`: the node daemon. Peers (net/) feed a headers-first sync (net/src/sync), blocks
//! are stored in the node's own block files and validated by the chain thread (pipeline/), and
//! the committed chain is served to peers.
//!
//! Datadir layout: `chainstate/` (the UTXO store), `blocks/` (`blk?????.dat`, Core framing).
//! A restart scans `blocks/`, replays every stored block into the coordinator, which finds the
//! store's tip among them and resumes after it.

mod chain;
mod events;
mod mempool;
mod quic;
mod relay;
mod serve;

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use sluice_consensus::chain::Params;
use sluice_net::peer::PeerConfig;
use sluice_net::sync::{minimum_chain_work, random_salt, Sync, SyncConfig};
use sluice_net::{Network, NetworkConfig};
use sluice_storage::blockstore::BlockStore;
use tokio::sync::{mpsc, watch};

pub use chain::TipStatus;
pub use events::{AddNode, NodeLoop, PeerRow, Submitted};
pub use mempool::{now_secs, MempoolFault, NodeMempool, Offer, Pool};
pub use quic::fingerprint as quic_fingerprint;

use crate::config::NodeConfig;
use crate::metrics::{self, NodeMetrics, Sources};
use crate::rpc;

/// A running node.
#[derive(Debug)]
pub struct NodeHandle {
    /// The committed tip and UTXO figures, updated as blocks connect.
    pub status: watch::Receiver<TipStatus>,
    /// The P2P addresses the node listens on (ports resolved).
    pub p2p_addrs: Vec<SocketAddr>,
    /// The QUIC address the node listens on (port resolved), if it does.
    pub quic_addr: Option<SocketAddr>,
    /// The node's QUIC key fingerprint, when QUIC is configured.
    pub quic_fingerprint: Option<sluice_net::quic::Fingerprint>,
    /// The node's metrics (also for the RPC server and the mempool to update).
    pub metrics: Arc<NodeMetrics>,
    /// Where `/metrics` is served (port resolved), when enabled.
    pub metrics_addr: Option<SocketAddr>,
    /// The JSON-RPC addresses (empty with `server = false`).
    pub rpc_addrs: Vec<SocketAddr>,
    /// The RPC cookie file, while the node runs.
    pub rpc_cookie: Option<std::path::PathBuf>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl NodeHandle {
    /// Asks the node to stop (finish what is in flight, checkpoint) and waits for it.
    ///
    /// # Errors
    /// The node had stopped on a fault.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.task.await.context("node task panicked")?
    }

    /// Waits until the node stops by itself (a fault) or `stop` is sent.
    ///
    /// # Errors
    /// The node stopped on a fault.
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await.context("node task panicked")?
    }

    /// A sender that stops the node when used (for signal handlers).
    pub fn take_stop(&mut self) -> Option<tokio::sync::oneshot::Sender<()>> {
        self.stop.take()
    }
}

/// Resolves `host:port` strings (a missing port means the network's).
fn resolve(addrs: &[String], default_port: u16) -> anyhow::Result<Vec<SocketAddr>> {
    let mut out = Vec::new();
    for a in addrs {
        let with_port = if a.parse::<SocketAddr>().is_ok()
            || a.rsplit_once(':')
                .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            a.clone()
        } else {
            format!("{a}:{default_port}")
        };
        let found = with_port
            .to_socket_addrs()
            .with_context(|| format!("resolving peer address {a}"))?
            .next()
            .with_context(|| format!("no address for {a}"))?;
        out.push(found);
    }
    Ok(out)
}

/// Starts the node inside the current tokio runtime.
///
/// # Errors
/// The datadir, block files or listen addresses cannot be opened.
pub async fn start(cfg: &NodeConfig) -> anyhow::Result<NodeHandle> {
    start_with(cfg, |_, _| {}).await
}

/// Starts the node, letting `extend` add RPC methods (the mempool's) and install views on the
/// RPC context before the server starts.
///
/// # Errors
/// As [`start`]; also the RPC server's credentials or bind.
pub async fn start_with(
    cfg: &NodeConfig,
    extend: impl FnOnce(&mut rpc::Registry, &Arc<rpc::Context>),
) -> anyhow::Result<NodeHandle> {
    let params = Params::new(cfg.network.into());
    // Bound first: a busy port stops the start before anything else is opened.
    let metrics_listener = match cfg.metrics_addr()? {
        Some(a) => Some(
            tokio::net::TcpListener::bind(a)
                .await
                .with_context(|| format!("binding the metrics address {a}"))?,
        ),
        None => None,
    };
    let blocks_dir = cfg.datadir.join("blocks");
    let (store, stored) = BlockStore::open(&blocks_dir, params.magic)
        .with_context(|| format!("opening block files in {}", blocks_dir.display()))?;
    let blocks = Arc::new(Mutex::new(store));
    let mut import_cfg = cfg.import_config();
    import_cfg.datadir = cfg.datadir.join("chainstate");
    let (chain_events_tx, chain_events) = mpsc::unbounded_channel();
    let (status_tx, status) = watch::channel(TipStatus::default());
    let chain = chain::start(&import_cfg, blocks.clone(), chain_events_tx, status_tx)
        .with_context(|| format!("opening the chainstate in {}", import_cfg.datadir.display()))?;
    let shared = chain.shared.clone();

    let mut peer_cfg = PeerConfig::new(params.magic);
    peer_cfg.user_agent = format!("/Sluice:{}/", env!("CARGO_PKG_VERSION"));
    // The node keeps a mempool and relays transactions: ask peers for announcements.
    peer_cfg.relay = true;
    let mut net_cfg = NetworkConfig::new(peer_cfg);
    net_cfg.v2 = cfg.v2transport;
    let outbound = if cfg.connect.is_empty() {
        &cfg.addnode
    } else {
        &cfg.connect
    };
    let targets = resolve(outbound, cfg.default_port())?;
    if cfg.listen {
        net_cfg.listen = if cfg.bind.is_empty() {
            vec![SocketAddr::from(([0, 0, 0, 0], cfg.default_port()))]
        } else {
            cfg.bind
                .iter()
                .map(|b| {
                    b.parse()
                        .with_context(|| format!("--bind {b}: not ip:port"))
                })
                .collect::<anyhow::Result<_>>()?
        };
    }
    let quic = quic::setup(cfg)?;
    let quic_fingerprint = quic.config.as_ref().map(|q| q.identity.fingerprint());
    net_cfg.quic = quic.config;
    net_cfg.max_outbound = (targets.len() + quic.targets.len())
        .max(8)
        .min(cfg.maxconnections);
    net_cfg.max_inbound = cfg.maxconnections.saturating_sub(net_cfg.max_outbound);
    let (network, net_events) = Network::start(net_cfg)
        .await
        .context("starting the P2P listener")?;
    let p2p_addrs = network.local_addrs().to_vec();
    let quic_addr = network.quic_addr();
    let targets = targets
        .into_iter()
        .map(|a| (a, None))
        .chain(quic.targets.into_iter().map(|(a, f)| (a, Some(f))))
        .collect();

    let sync = Sync::new(
        &params,
        SyncConfig::default(),
        minimum_chain_work(params.network),
        random_salt(),
    );
    let metrics = Arc::new(NodeMetrics::new(Sources {
        status: Some(status.clone()),
        network: Some(network.clone()),
        pipeline: chain.probe.clone(),
        datadir: Some(cfg.datadir.clone()),
    }));
    // Helpers (metrics server, progress) stop when the node's loop ends.
    let (helpers_stop, helpers) = watch::channel(false);
    let metrics_addr = match metrics_listener {
        Some(l) => Some(
            metrics::server::start(l, metrics.clone(), helpers.clone())
                .context("serving metrics")?,
        ),
        None => None,
    };
    tokio::spawn(metrics::progress::report(
        metrics.clone(),
        cfg.progress,
        helpers,
    ));
    let local = (
        peer_cfg_services(),
        format!("/Sluice:{}/", env!("CARGO_PKG_VERSION")),
    );
    let mempool = Arc::new(NodeMempool::new(
        cfg.mempool.options()?,
        shared.clone(),
        blocks.clone(),
        metrics.clone(),
    ));
    let mut state = events::NodeLoop::new(
        sync,
        network,
        blocks.clone(),
        chain,
        status.clone(),
        targets,
        metrics.clone(),
        mempool.clone(),
    );
    state.set_upload_target(cfg.max_upload_target(), cfg.whitelist_download.clone());
    state.replay(stored)?;
    let (query_tx, query_rx) = mpsc::unbounded_channel();
    let service = if cfg.server {
        let ctx = Arc::new(rpc::Context::new(
            params.clone(),
            status.clone(),
            blocks,
            shared,
            query_tx,
            cfg.datadir.clone(),
            local,
        ));
        let mut registry = rpc::Registry::default();
        rpc::methods::register_all(&mut registry, &ctx);
        ctx.set_mempool(mempool.clone());
        rpc::methods::register_mempool(&mut registry, &ctx, &mempool);
        extend(&mut registry, &ctx);
        rpc::methods::register_help(&mut registry);
        Some(rpc::start(cfg, Arc::new(registry), Some(metrics.clone())).await?)
    } else {
        drop(query_tx);
        None
    };
    let rpc_addrs = service
        .as_ref()
        .map(|s| s.addrs().to_vec())
        .unwrap_or_default();
    let rpc_cookie = service.as_ref().and_then(|s| s.cookie.clone());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let r = state.run(net_events, chain_events, stop_rx, query_rx).await;
        helpers_stop.send_replace(true);
        if let Some(s) = service {
            // The workers hold the RPC context and with it the store: wait for them, so a
            // restart in the same process finds the store unlocked.
            if tokio::task::spawn_blocking(move || s.shutdown())
                .await
                .is_err()
            {
                tracing::error!("stopping the RPC server panicked");
            }
        }
        r
    });
    Ok(NodeHandle {
        status,
        p2p_addrs,
        quic_addr,
        quic_fingerprint,
        metrics,
        metrics_addr,
        rpc_addrs,
        rpc_cookie,
        stop: Some(stop_tx),
        task,
    })
}

/// The service bits the node offers peers (`PeerConfig`'s default).
fn peer_cfg_services() -> u64 {
    PeerConfig::new([0; 4]).services
}

/// Runs the node until SIGINT or SIGTERM, then shuts down cleanly.
///
/// # Errors
/// Start-up failures, or the node stopping on a fault.
pub fn run_until_signal(cfg: &NodeConfig) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async {
        // Handlers go in before start-up, so a signal that arrives while the store opens or
        // the chain resumes stops the node cleanly instead of killing it.
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
        let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
        let mut node = start(cfg).await?;
        tracing::info!("listening on {:?}", node.p2p_addrs);
        let stop = node.take_stop();
        let signalled = async {
            tokio::select! {
                _ = int.recv() => {},
                _ = term.recv() => {},
            }
        };
        let waiting = node.wait();
        tokio::pin!(waiting);
        tokio::select! {
            r = &mut waiting => r,
            () = signalled => {
                tracing::info!("shutting down");
                if let Some(s) = stop {
                    let _ = s.send(());
                }
                tokio::time::timeout(Duration::from_secs(600), waiting)
                    .await
                    .context("shutdown took longer than 10 minutes")?
            }
        }
    })
}
