//! The node's typed configuration: one struct, read from an optional TOML file, then
//! overridden by command-line flags.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};
use sluice_consensus::chain::Network;
use sluice_consensus::keycache::DEFAULT_KEY_CACHE_ENTRIES;
use sluice_consensus::script::deferred::EcdsaBackend;
use sluice_net::quic::{Congestion, QuicLimits};
use sluice_pipeline::engine::ShellConfig;
use sluice_pipeline::ImportConfig;

pub use crate::bytesize::ByteSize;
pub use crate::logging::LogFormat;
pub use mempool::{MempoolConfig, MempoolFlags};

mod mempool;

/// Port of `/metrics` when `metrics_bind` names only an address.
pub const DEFAULT_METRICS_PORT: u16 = 9332;
/// `metrics_bind` when `--metrics-bind` is given without a value: loopback only.
pub const DEFAULT_METRICS_ADDR: &str = "127.0.0.1";

/// Networks selectable on the command line and in the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkArg {
    Mainnet,
    Testnet4,
    Signet,
    Regtest,
}

impl From<NetworkArg> for Network {
    fn from(n: NetworkArg) -> Self {
        match n {
            NetworkArg::Mainnet => Network::Mainnet,
            NetworkArg::Testnet4 => Network::Testnet4,
            NetworkArg::Signet => Network::Signet,
            NetworkArg::Regtest => Network::Regtest,
        }
    }
}

/// Who verifies the ECDSA checks the interpreter may defer (see
/// `sluice_consensus::script::deferred`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EcdsaArg {
    /// The fastest backend this CPU has: AVX-512 IFMA, else AVX2 where it was measured to
    /// pay, else libsecp256k1.
    Auto,
    /// No deferral: every ECDSA check verified in place, one at a time.
    InPlace,
    /// AVX-512 IFMA lanes (refused at start on a CPU without them).
    Ifma,
    /// AVX2 lanes, four at a time (refused at start on a CPU without AVX2).
    Avx2,
    /// The portable twin of the lane code (for comparisons).
    Portable,
    /// Deferred, then libsecp256k1 one at a time.
    Libsecp,
}

impl EcdsaArg {
    /// The pipeline's setting.
    #[must_use]
    pub fn backend(self) -> Option<EcdsaBackend> {
        match self {
            EcdsaArg::Auto => Some(EcdsaBackend::detect()),
            EcdsaArg::InPlace => None,
            EcdsaArg::Ifma => Some(EcdsaBackend::Ifma),
            EcdsaArg::Avx2 => Some(EcdsaBackend::Avx2),
            EcdsaArg::Portable => Some(EcdsaBackend::Portable),
            EcdsaArg::Libsecp => Some(EcdsaBackend::Libsecp),
        }
    }
}

/// Everything configurable. Every field is optional in the file; unset means the default.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    /// Which chain: mainnet, testnet4, signet or regtest.
    pub network: NetworkArg,
    /// Where the node keeps its chainstate, block files, keys and cookie.
    pub datadir: PathBuf,
    /// UTXO write-back cache, MiB.
    pub cache_mb: usize,
    /// Threads parsing blocks.
    pub parse_workers: usize,
    /// Threads verifying scripts and signatures (default: every core).
    pub script_workers: usize,
    /// Blocks each pipeline queue holds before the stage in front of it waits.
    pub queue_depth: usize,
    /// Schnorr signatures per batch.
    pub batch_target: usize,
    /// Make the UTXO set durable after this many connected blocks …
    pub checkpoint_blocks: u64,
    /// … or after this many seconds, whichever comes first.
    pub checkpoint_secs: u64,
    /// Keep Core's MuHash of the UTXO set up to date (`gettxoutsetinfo muhash`).
    pub muhash: bool,
    /// Parsed ECDSA public keys remembered across blocks (about 100 bytes each; 0 turns the
    /// memo off).
    pub key_cache_entries: usize,
    /// Verifier of deferrable ECDSA checks (`auto`, `in-place`, `ifma`, `portable`, `libsecp`).
    pub ecdsa: EcdsaArg,
    /// Draw a progress bar on a terminal (a periodic summary line otherwise).
    pub progress: bool,
    /// Connect only to these peers (`host:port`); no other outbound connections.
    pub connect: Vec<String>,
    /// Peers to connect to and keep connected, besides any others.
    pub addnode: Vec<String>,
    /// Accept inbound connections.
    pub listen: bool,
    /// Addresses to listen on (`ip:port`); empty: all interfaces on the network's port.
    pub bind: Vec<String>,
    /// Inbound plus outbound connections at most: outbound take max(8, configured peers) of
    /// them, inbound the rest.
    pub maxconnections: usize,
    /// Bytes sent per 24 hours above which blocks older than a week are no longer served
    /// (Core's `-maxuploadtarget`; `"5000M"`, `"500G"`, an integer is MiB; `"0"`: no target).
    /// Unset: the network's default ([`NodeConfig::max_upload_target`]).
    pub maxuploadtarget: Option<ByteSize>,
    /// Peers from these IP addresses may download historical blocks past the upload target
    /// (Core's `-whitelist=download@IP`).
    pub whitelist_download: Vec<IpAddr>,
    /// Offer and accept BIP324 encrypted (v2) connections, falling back to v1.
    pub v2transport: bool,
    /// A signed release manifest (governance/): when set, the node refuses to start unless its
    /// signatures meet the release tier's threshold and every file it lists is unchanged.
    pub release_manifest: Option<PathBuf>,
    /// Directory of rotated governance keyrings (from the pinned root); unset: the root keyring
    /// compiled into the binary.
    pub governance_keyrings: Option<PathBuf>,
    /// Accept QUIC connections from other Sluice nodes on this address (`ip:port`); unset:
    /// no QUIC listener.
    pub quic_listen: Option<String>,
    /// Sluice nodes to connect to over QUIC and keep connected: `host:port` (pinned by a
    /// `quic_peer` entry for that address) or `<fingerprint>@host:port`.
    pub quic_connect: Vec<String>,
    /// Pinned Sluice peers, `<fingerprint>@host:port` (fingerprints from `sluice quic-id`).
    /// Only these keys may connect to the QUIC listener, and a node dialled at that address
    /// must present that key.
    pub quic_peer: Vec<String>,
    /// Let any key connect to the QUIC listener (then treated like an inbound TCP peer).
    pub quic_open: bool,
    /// QUIC resource limits (`[quic_limits]`).
    pub quic_limits: QuicLimitsConfig,
    /// Mempool policy (`[mempool]`, Core's option names).
    pub mempool: MempoolConfig,
    /// Serve Prometheus metrics at `/metrics` on this address (`ip` or `ip:port`, port
    /// 9332 by default); unset: no metrics server.
    pub metrics_bind: Option<String>,
    /// Log lines as text for people or JSON for collectors.
    pub log_format: LogFormat,
    /// Which log events to keep (`tracing` filter directives, e.g. `info,sluice_net=debug`);
    /// unset: `RUST_LOG`, else `info` for `run` and `warn` for the other commands.
    pub log_filter: Option<String>,
    /// Serve JSON-RPC (Core's `-server`).
    pub server: bool,
    /// Addresses the RPC server listens on (`ip` or `ip:port`); empty: 127.0.0.1 only.
    pub rpcbind: Vec<String>,
    /// RPC port; unset: the network's (8332, 48332, 38332, 18443); 0: any free port.
    pub rpcport: Option<u16>,
    /// `user:salt$hmac` lines (Core's share/rpcauth/rpcauth.py makes them).
    pub rpcauth: Vec<String>,
    /// A plain user and password (prefer `rpcauth`); without a password a cookie is used.
    pub rpcuser: Option<String>,
    /// The password of `rpcuser` (never logged or printed).
    pub rpcpassword: Option<crate::secret::Secret<String>>,
    /// Where the cookie is written; unset: `<datadir>/.cookie`.
    pub rpccookiefile: Option<PathBuf>,
    /// Requests waiting for a worker at most; more are refused with 503.
    pub rpcworkqueue: usize,
    /// Threads running RPC methods.
    pub rpcthreads: usize,
    /// Weak settings the operator accepts by name (`sluice config check` lists them, e.g.
    /// `quic-open-mainnet`); any other weak setting on a public network refuses the start.
    pub accept_risk: Vec<String>,
}

/// QUIC resource limits as the config file spells them; defaults are `sluice_net`'s
/// `QuicLimits::default()` (documented there).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct QuicLimitsConfig {
    /// Per-stream flow-control window, bytes (default 2 MiB).
    pub stream_receive_window: u64,
    /// Per-connection flow-control window, bytes (default 16 MiB).
    pub receive_window: u64,
    /// Unacknowledged bytes we send, bytes (default 16 MiB).
    pub send_window: u64,
    /// Concurrent one-message streams a peer may open (default 8).
    pub max_uni_streams: u32,
    /// Concurrent bidirectional streams (the control stream; default 1).
    pub max_bidi_streams: u32,
    /// Inbound QUIC connections per IP (default 4).
    pub max_connections_per_ip: usize,
    /// QUIC/TLS handshake plus Sluice hello, milliseconds (default 10,000).
    pub handshake_timeout_ms: u64,
    /// Idle timeout, milliseconds (default 60,000).
    pub idle_timeout_ms: u64,
    /// Keep-alive interval, milliseconds (default 15,000).
    pub keep_alive_ms: u64,
    /// Handshakes in progress above which new clients get a Retry.
    pub retry_above_handshakes: usize,
    /// Time for one message on its own stream, milliseconds (default 120,000).
    pub message_timeout_ms: u64,
    /// Largest message payload, bytes (default and maximum 4,000,000).
    pub max_message: usize,
    /// Congestion controller: cubic (default), new-reno or bbr.
    pub congestion: QuicCongestionArg,
}

/// The QUIC congestion controller, as the config file and `--quic-congestion` spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuicCongestionArg {
    /// CUBIC, quinn's default: the window shrinks on every loss.
    #[default]
    Cubic,
    /// NewReno.
    NewReno,
    /// BBR (experimental in quinn): keeps its rate under random loss.
    Bbr,
}

impl From<QuicCongestionArg> for Congestion {
    fn from(a: QuicCongestionArg) -> Self {
        match a {
            QuicCongestionArg::Cubic => Congestion::Cubic,
            QuicCongestionArg::NewReno => Congestion::NewReno,
            QuicCongestionArg::Bbr => Congestion::Bbr,
        }
    }
}

impl From<Congestion> for QuicCongestionArg {
    fn from(c: Congestion) -> Self {
        match c {
            Congestion::Cubic => QuicCongestionArg::Cubic,
            Congestion::NewReno => QuicCongestionArg::NewReno,
            Congestion::Bbr => QuicCongestionArg::Bbr,
        }
    }
}

impl Default for QuicLimitsConfig {
    fn default() -> Self {
        Self::from(&QuicLimits::default())
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl From<&QuicLimits> for QuicLimitsConfig {
    fn from(l: &QuicLimits) -> Self {
        Self {
            stream_receive_window: l.stream_receive_window,
            receive_window: l.receive_window,
            send_window: l.send_window,
            max_uni_streams: l.max_uni_streams,
            max_bidi_streams: l.max_bidi_streams,
            max_connections_per_ip: l.max_connections_per_ip,
            handshake_timeout_ms: millis(l.handshake_timeout),
            idle_timeout_ms: millis(l.idle_timeout),
            keep_alive_ms: millis(l.keep_alive),
            retry_above_handshakes: l.retry_above_handshakes,
            message_timeout_ms: millis(l.message_timeout),
            max_message: l.max_message,
            congestion: l.congestion.into(),
        }
    }
}

impl From<&QuicLimitsConfig> for QuicLimits {
    fn from(c: &QuicLimitsConfig) -> Self {
        Self {
            stream_receive_window: c.stream_receive_window,
            receive_window: c.receive_window,
            send_window: c.send_window,
            max_uni_streams: c.max_uni_streams,
            max_bidi_streams: c.max_bidi_streams,
            max_connections_per_ip: c.max_connections_per_ip,
            handshake_timeout: Duration::from_millis(c.handshake_timeout_ms),
            idle_timeout: Duration::from_millis(c.idle_timeout_ms),
            keep_alive: Duration::from_millis(c.keep_alive_ms),
            retry_above_handshakes: c.retry_above_handshakes,
            message_timeout: Duration::from_millis(c.message_timeout_ms),
            max_message: c.max_message,
            congestion: c.congestion.into(),
        }
    }
}

impl Default for NodeConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self {
            network: NetworkArg::Mainnet,
            datadir: PathBuf::from("sluice-data"),
            cache_mb: 512,
            parse_workers: 1,
            script_workers: cores,
            queue_depth: 16,
            batch_target: 4096,
            checkpoint_blocks: 2000,
            checkpoint_secs: 30,
            muhash: true,
            key_cache_entries: DEFAULT_KEY_CACHE_ENTRIES,
            ecdsa: EcdsaArg::Auto,
            progress: true,
            connect: Vec::new(),
            addnode: Vec::new(),
            listen: true,
            bind: Vec::new(),
            maxconnections: 125,
            maxuploadtarget: None,
            whitelist_download: Vec::new(),
            v2transport: true,
            release_manifest: None,
            governance_keyrings: None,
            quic_listen: None,
            quic_connect: Vec::new(),
            quic_peer: Vec::new(),
            quic_open: false,
            quic_limits: QuicLimitsConfig::default(),
            mempool: MempoolConfig::default(),
            metrics_bind: None,
            log_format: LogFormat::Human,
            log_filter: None,
            server: true,
            rpcbind: Vec::new(),
            rpcport: None,
            rpcauth: Vec::new(),
            rpcuser: None,
            rpcpassword: None,
            rpccookiefile: None,
            rpcworkqueue: crate::rpc::DEFAULT_WORK_QUEUE,
            rpcthreads: crate::rpc::DEFAULT_THREADS,
            accept_risk: Vec::new(),
        }
    }
}

/// Flags that override the file.
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigFlags {
    /// TOML file with any `NodeConfig` fields; flags override it (`sluice config check`
    /// prints the effective settings).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Which chain.
    #[arg(long, value_enum)]
    pub network: Option<NetworkArg>,
    /// Data directory: chainstate, block files, keys, RPC cookie.
    #[arg(long)]
    pub datadir: Option<PathBuf>,
    /// UTXO write-back cache in MiB.
    #[arg(long)]
    pub cache_mb: Option<usize>,
    /// Threads verifying scripts and signatures (default: every core).
    #[arg(long)]
    pub script_workers: Option<usize>,
    /// Threads parsing blocks.
    #[arg(long)]
    pub parse_workers: Option<usize>,
    /// Blocks each pipeline queue holds.
    #[arg(long)]
    pub queue_depth: Option<usize>,
    /// Schnorr signatures per batch verification.
    #[arg(long)]
    pub batch_target: Option<usize>,
    /// Make the UTXO set durable after this many blocks …
    #[arg(long)]
    pub checkpoint_blocks: Option<u64>,
    /// … or after this many seconds, whichever comes first.
    #[arg(long)]
    pub checkpoint_secs: Option<u64>,
    /// Parsed ECDSA keys to remember (0: none).
    #[arg(long)]
    pub key_cache_entries: Option<usize>,
    /// Who verifies deferrable ECDSA checks: auto (vector lanes when the CPU has them),
    /// in-place (no deferral), ifma, avx2, portable or libsecp. A vector backend also
    /// verifies the block's Schnorr checks, one per lane, instead of the batch equation.
    #[arg(long, value_enum)]
    pub ecdsa: Option<EcdsaArg>,
    /// Do not maintain the UTXO set's MuHash.
    #[arg(long)]
    pub no_muhash: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Connect only to this peer (host:port); repeatable. Turns off other outbound peers.
    #[arg(long)]
    pub connect: Vec<String>,
    /// Also connect to this peer (host:port) and keep it connected; repeatable.
    #[arg(long)]
    pub addnode: Vec<String>,
    /// Accept inbound connections (true/false; default true).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub listen: Option<bool>,
    /// Listen on this address (ip:port); repeatable. Default: every interface, network port.
    #[arg(long)]
    pub bind: Vec<String>,
    /// Most connections, inbound and outbound together.
    #[arg(long)]
    pub maxconnections: Option<usize>,
    /// Keep bytes sent per 24 h under this target by no longer serving blocks older than a
    /// week once it is near (Core's -maxuploadtarget). Units k/m/g/t (1000) or K/M/G/T (1024),
    /// default M; 0: no target. Default per network: mainnet 500G, testnet4 and signet 100G,
    /// regtest none.
    #[arg(long, value_name = "BYTES")]
    pub maxuploadtarget: Option<ByteSize>,
    /// Peers from this IP may download old blocks past the upload target; repeatable.
    #[arg(long, value_name = "IP")]
    pub whitelist_download: Vec<IpAddr>,
    /// Use BIP324 encrypted transport when the peer supports it (true/false; default true).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub v2transport: Option<bool>,
    /// Refuse to start unless this signed release manifest verifies (see docs/governance.md).
    #[arg(long)]
    pub release_manifest: Option<PathBuf>,
    /// Directory of rotated governance keyrings for --release-manifest (default: the root
    /// keyring built in).
    #[arg(long)]
    pub governance_keyrings: Option<PathBuf>,
    /// Accept QUIC connections from pinned Sluice nodes on this address (ip:port).
    #[arg(long)]
    pub quic_listen: Option<String>,
    /// Connect over QUIC to this Sluice node and keep it connected: host:port (pinned by
    /// --quic-peer) or <fingerprint>@host:port; repeatable.
    #[arg(long)]
    pub quic_connect: Vec<String>,
    /// Pin a Sluice node's key: <fingerprint>@host:port (see `sluice quic-id`); repeatable.
    #[arg(long)]
    pub quic_peer: Vec<String>,
    /// Let any key connect to the QUIC listener (default: pinned keys only).
    #[arg(long)]
    pub quic_open: bool,
    /// QUIC congestion controller (`[quic_limits] congestion`): cubic, new-reno or bbr.
    #[arg(long, value_enum)]
    pub quic_congestion: Option<QuicCongestionArg>,
    /// Serve Prometheus metrics at http://ADDR/metrics (`ip` or `ip:port`; port 9332 by
    /// default). Without a value: 127.0.0.1:9332. Off unless given.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = DEFAULT_METRICS_ADDR)]
    pub metrics_bind: Option<String>,
    /// Log format: human (default) or json (one object per line).
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Log filter (tracing directives, e.g. `info,sluice_net=debug`). Default: RUST_LOG, else
    /// info for `run`, warn otherwise.
    #[arg(long)]
    pub log_filter: Option<String>,
    /// Serve JSON-RPC (true/false; default true).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub server: Option<bool>,
    /// Listen for JSON-RPC on this address (ip or ip:port); repeatable. Default 127.0.0.1.
    #[arg(long)]
    pub rpcbind: Vec<String>,
    /// JSON-RPC port (default: the network's, as Core: 8332, 48332, 38332, 18443; 0: any).
    #[arg(long)]
    pub rpcport: Option<u16>,
    /// Accept this `user:salt$hmac` credential (as Core's rpcauth.py prints); repeatable.
    #[arg(long)]
    pub rpcauth: Vec<String>,
    /// JSON-RPC user for --rpcpassword.
    #[arg(long)]
    pub rpcuser: Option<String>,
    /// JSON-RPC password (visible to other local users in the process list: prefer --rpcauth).
    #[arg(long)]
    pub rpcpassword: Option<String>,
    /// Where to write the RPC cookie (default <datadir>/.cookie).
    #[arg(long)]
    pub rpccookiefile: Option<PathBuf>,
    /// RPC requests waiting for a worker at most; more get HTTP 503 (Core's -rpcworkqueue).
    #[arg(long)]
    pub rpcworkqueue: Option<usize>,
    /// Threads running RPC methods (Core's -rpcthreads).
    #[arg(long)]
    pub rpcthreads: Option<usize>,
    /// Accept a weak setting named by `sluice config check` (e.g. quic-open-mainnet) instead of
    /// refusing to start; repeatable, adds to the file's `accept_risk`.
    #[arg(long, value_name = "ID")]
    pub accept_risk: Vec<String>,
    #[command(flatten)]
    pub mempool: MempoolFlags,
}

impl NodeConfig {
    /// Reads a TOML file.
    ///
    /// # Errors
    /// Unreadable file or invalid TOML / unknown fields.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        use anyhow::Context;
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing config {}", path.display()))
    }

    /// The file (if any) with flags applied on top.
    ///
    /// # Errors
    /// As [`NodeConfig::from_file`].
    pub fn resolve(flags: &ConfigFlags) -> anyhow::Result<Self> {
        let mut c = match &flags.config {
            Some(p) => Self::from_file(p)?,
            None => Self::default(),
        };
        if let Some(v) = flags.network {
            c.network = v;
        }
        if let Some(v) = flags.ecdsa {
            c.ecdsa = v;
        }
        if let Some(v) = &flags.datadir {
            c.datadir.clone_from(v);
        }
        macro_rules! set {
            ($($f:ident),*) => { $(if let Some(v) = flags.$f { c.$f = v; })* };
        }
        set!(
            cache_mb,
            script_workers,
            parse_workers,
            queue_depth,
            batch_target,
            checkpoint_blocks,
            checkpoint_secs,
            key_cache_entries
        );
        if !flags.connect.is_empty() {
            c.connect.clone_from(&flags.connect);
        }
        if !flags.addnode.is_empty() {
            c.addnode.clone_from(&flags.addnode);
        }
        if !flags.bind.is_empty() {
            c.bind.clone_from(&flags.bind);
        }
        if let Some(v) = flags.listen {
            c.listen = v;
        }
        if let Some(v) = flags.maxconnections {
            c.maxconnections = v;
        }
        if flags.maxuploadtarget.is_some() {
            c.maxuploadtarget = flags.maxuploadtarget;
        }
        c.whitelist_download
            .extend(flags.whitelist_download.iter().copied());
        if let Some(v) = flags.v2transport {
            c.v2transport = v;
        }
        if let Some(v) = &flags.release_manifest {
            c.release_manifest = Some(v.clone());
        }
        if let Some(v) = &flags.governance_keyrings {
            c.governance_keyrings = Some(v.clone());
        }
        if let Some(v) = &flags.metrics_bind {
            c.metrics_bind = Some(v.clone());
        }
        if let Some(v) = flags.log_format {
            c.log_format = v;
        }
        if let Some(v) = &flags.log_filter {
            c.log_filter = Some(v.clone());
        }
        if let Some(v) = flags.server {
            c.server = v;
        }
        if !flags.rpcbind.is_empty() {
            c.rpcbind.clone_from(&flags.rpcbind);
        }
        if !flags.rpcauth.is_empty() {
            c.rpcauth.clone_from(&flags.rpcauth);
        }
        if flags.rpcport.is_some() {
            c.rpcport = flags.rpcport;
        }
        if flags.rpcuser.is_some() {
            c.rpcuser.clone_from(&flags.rpcuser);
        }
        if let Some(p) = &flags.rpcpassword {
            c.rpcpassword = Some(crate::secret::Secret::new(p.clone()));
        }
        if flags.rpccookiefile.is_some() {
            c.rpccookiefile.clone_from(&flags.rpccookiefile);
        }
        if let Some(v) = flags.rpcworkqueue {
            c.rpcworkqueue = v;
        }
        if let Some(v) = flags.rpcthreads {
            c.rpcthreads = v;
        }
        if flags.no_muhash {
            c.muhash = false;
        }
        if let Some(v) = &flags.quic_listen {
            c.quic_listen = Some(v.clone());
        }
        if !flags.quic_connect.is_empty() {
            c.quic_connect.clone_from(&flags.quic_connect);
        }
        // Pins add up: the file's and the command line's.
        c.quic_peer.extend(flags.quic_peer.iter().cloned());
        if flags.quic_open {
            c.quic_open = true;
        }
        if let Some(cc) = flags.quic_congestion {
            c.quic_limits.congestion = cc;
        }
        if flags.quiet {
            c.progress = false;
        }
        c.accept_risk.extend(flags.accept_risk.iter().cloned());
        flags.mempool.apply(&mut c.mempool);
        Ok(c)
    }

    /// The network's default P2P port (Core's).
    #[must_use]
    pub fn default_port(&self) -> u16 {
        match self.network {
            NetworkArg::Mainnet => 8333,
            NetworkArg::Testnet4 => 48333,
            NetworkArg::Signet => 38333,
            NetworkArg::Regtest => 18444,
        }
    }

    /// The upload target in bytes per 24 hours (0: none): `maxuploadtarget`, else the
    /// network's profile. Mainnet's 500 GiB a day (about 50 Mbit/s on average) bounds what
    /// serving old blocks can cost an operator while leaving plenty for peers in IBD; the test
    /// networks' blocks are smaller; regtest is local.
    #[must_use]
    pub fn max_upload_target(&self) -> u64 {
        self.maxuploadtarget.map_or(
            match self.network {
                NetworkArg::Mainnet => 500 << 30,
                NetworkArg::Testnet4 | NetworkArg::Signet => 100 << 30,
                NetworkArg::Regtest => 0,
            },
            |b| b.0,
        )
    }

    /// Where to serve `/metrics`, if anywhere.
    ///
    /// # Errors
    /// `metrics_bind` is neither an IP address nor `ip:port`.
    pub fn metrics_addr(&self) -> anyhow::Result<Option<SocketAddr>> {
        let Some(text) = &self.metrics_bind else {
            return Ok(None);
        };
        if let Ok(addr) = text.parse::<SocketAddr>() {
            return Ok(Some(addr));
        }
        let ip = text.trim_start_matches('[').trim_end_matches(']');
        ip.parse::<IpAddr>()
            .map(|ip| Some(SocketAddr::new(ip, DEFAULT_METRICS_PORT)))
            .map_err(|_| anyhow::anyhow!("metrics_bind {text:?}: not an IP address or ip:port"))
    }

    /// The network's default RPC port (Core's).
    #[must_use]
    pub fn default_rpc_port(&self) -> u16 {
        match self.network {
            NetworkArg::Mainnet => 8332,
            NetworkArg::Testnet4 => 48332,
            NetworkArg::Signet => 38332,
            NetworkArg::Regtest => 18443,
        }
    }

    /// The pipeline's import configuration.
    #[must_use]
    pub fn import_config(&self) -> ImportConfig {
        ImportConfig {
            network: self.network.into(),
            datadir: self.datadir.clone(),
            shell: ShellConfig {
                parse_workers: self.parse_workers.max(1),
                context_workers: 1,
                script_workers: self.script_workers.max(1),
                // Batches and scripts share the same cores; one batch worker per script worker.
                batch_workers: self.script_workers.max(1),
                queue_depth: self.queue_depth.max(1),
                batch_target: self.batch_target.max(1),
                checkpoint_blocks: self.checkpoint_blocks.max(1),
                checkpoint_interval: std::time::Duration::from_secs(self.checkpoint_secs.max(1)),
            },
            cache_bytes: self.cache_mb.saturating_mul(1 << 20),
            muhash: self.muhash,
            key_cache_entries: self.key_cache_entries,
            ecdsa: self.ecdsa.backend(),
            progress: self.progress,
        }
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
