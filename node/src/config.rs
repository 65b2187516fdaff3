//! The node's typed configuration: one struct, read from an optional TOML file, then
//! overridden by command-line flags.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde::Deserialize;
use sluice_consensus::chain::Network;
use sluice_consensus::keycache::DEFAULT_KEY_CACHE_ENTRIES;
use sluice_pipeline::engine::ShellConfig;
use sluice_pipeline::ImportConfig;

/// Networks selectable on the command line and in the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
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

/// Everything configurable. Every field is optional in the file; unset means the default.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    pub network: NetworkArg,
    pub datadir: PathBuf,
    /// UTXO write-back cache, MiB.
    pub cache_mb: usize,
    pub parse_workers: usize,
    pub script_workers: usize,
    pub queue_depth: usize,
    /// Schnorr signatures per batch.
    pub batch_target: usize,
    pub checkpoint_blocks: u64,
    pub checkpoint_secs: u64,
    pub muhash: bool,
    /// Parsed ECDSA public keys remembered across blocks (about 100 bytes each; 0 turns the
    /// memo off).
    pub key_cache_entries: usize,
    pub progress: bool,
    /// Connect only to these peers (`host:port`); no other outbound connections.
    pub connect: Vec<String>,
    /// Peers to connect to and keep connected, besides any others.
    pub addnode: Vec<String>,
    /// Accept inbound connections.
    pub listen: bool,
    /// Addresses to listen on (`ip:port`); empty: all interfaces on the network's port.
    pub bind: Vec<String>,
    /// Inbound plus outbound connections at most.
    pub maxconnections: usize,
    /// Offer and accept BIP324 encrypted (v2) connections, falling back to v1.
    pub v2transport: bool,
    /// A signed release manifest (governance/): when set, the node refuses to start unless its
    /// signatures meet the release tier's threshold and every file it lists is unchanged.
    pub release_manifest: Option<PathBuf>,
    /// Directory of rotated governance keyrings (from the pinned root); unset: the root keyring
    /// compiled into the binary.
    pub governance_keyrings: Option<PathBuf>,
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
    pub rpcpassword: Option<String>,
    /// Where the cookie is written; unset: `<datadir>/.cookie`.
    pub rpccookiefile: Option<PathBuf>,
    /// Requests waiting for a worker at most; more are refused with 503.
    pub rpcworkqueue: usize,
    /// Threads running RPC methods.
    pub rpcthreads: usize,
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
            progress: true,
            connect: Vec::new(),
            addnode: Vec::new(),
            listen: true,
            bind: Vec::new(),
            maxconnections: 125,
            v2transport: true,
            release_manifest: None,
            governance_keyrings: None,
            server: true,
            rpcbind: Vec::new(),
            rpcport: None,
            rpcauth: Vec::new(),
            rpcuser: None,
            rpcpassword: None,
            rpccookiefile: None,
            rpcworkqueue: crate::rpc::DEFAULT_WORK_QUEUE,
            rpcthreads: crate::rpc::DEFAULT_THREADS,
        }
    }
}

/// Flags that override the file.
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigFlags {
    /// TOML file with any `NodeConfig` fields.
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[arg(long, value_enum)]
    pub network: Option<NetworkArg>,
    #[arg(long)]
    pub datadir: Option<PathBuf>,
    #[arg(long)]
    pub cache_mb: Option<usize>,
    #[arg(long)]
    pub script_workers: Option<usize>,
    #[arg(long)]
    pub parse_workers: Option<usize>,
    #[arg(long)]
    pub queue_depth: Option<usize>,
    #[arg(long)]
    pub batch_target: Option<usize>,
    #[arg(long)]
    pub checkpoint_blocks: Option<u64>,
    #[arg(long)]
    pub checkpoint_secs: Option<u64>,
    /// Parsed ECDSA keys to remember (0: none).
    #[arg(long)]
    pub key_cache_entries: Option<usize>,
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
        if let Some(v) = flags.v2transport {
            c.v2transport = v;
        }
        if let Some(v) = &flags.release_manifest {
            c.release_manifest = Some(v.clone());
        }
        if let Some(v) = &flags.governance_keyrings {
            c.governance_keyrings = Some(v.clone());
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
        for (dst, src) in [
            (&mut c.rpcuser, &flags.rpcuser),
            (&mut c.rpcpassword, &flags.rpcpassword),
        ] {
            if src.is_some() {
                dst.clone_from(src);
            }
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
        if flags.quiet {
            c.progress = false;
        }
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
            progress: self.progress,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sluice.toml");
        std::fs::write(
            &p,
            "network = \"regtest\"\ncache_mb = 64\nscript_workers = 3\nkey_cache_entries = 10\n",
        )
        .unwrap();
        let flags = ConfigFlags {
            config: Some(p),
            script_workers: Some(5),
            quiet: true,
            ..ConfigFlags::default()
        };
        let c = NodeConfig::resolve(&flags).unwrap();
        assert_eq!(c.network, NetworkArg::Regtest);
        assert_eq!(c.cache_mb, 64);
        assert_eq!(c.script_workers, 5, "flag beats file");
        assert!(!c.progress);
        let ic = c.import_config();
        assert_eq!(ic.cache_bytes, 64 << 20);
        assert_eq!(ic.shell.script_workers, 5);
        assert_eq!(ic.key_cache_entries, 10);
    }

    #[test]
    fn unknown_field_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.toml");
        std::fs::write(&p, "netwrok = \"regtest\"\n").unwrap();
        assert!(NodeConfig::from_file(&p).is_err());
    }
}
