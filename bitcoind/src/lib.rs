//! A real bitcoind on regtest for interop tests and races: built by `scripts/bitcoind` (which
//! `scripts/test` runs first), started on loopback ports with a temporary datadir, driven with
//! bitcoin-cli or JSON-RPC over loopback HTTP, killed when dropped.
//!
//! Tests use the panicking entry points ([`Bitcoind::start`], [`Bitcoind::cli`]); tools such as
//! `perf ibd` use the fallible ones ([`Bitcoind::try_start_in`], [`Bitcoind::rpc`]).
#![warn(missing_docs)]
#![allow(clippy::missing_panics_doc)]

mod rpc;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use rpc::{call as rpc_call, RpcError};

/// Why a bitcoind could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// No build in the cache.
    #[error("no bitcoind under {0}: run `bash scripts/bitcoind` (scripts/test does) first")]
    NotBuilt(PathBuf),
    /// Creating the datadir, finding a port or spawning the process failed.
    #[error("starting bitcoind: {0}")]
    Io(#[from] std::io::Error),
    /// The process exited during start-up (bad arguments, datadir locked …).
    #[error("bitcoind exited during start-up ({0})")]
    Exited(std::process::ExitStatus),
    /// Its RPC did not answer in time.
    #[error("bitcoind RPC did not answer within {0:?}: {1}")]
    Timeout(Duration, String),
}

fn cache_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join(".cache/sluice-bitcoind")
}

/// The directory holding bitcoind and bitcoin-cli: the newest build in the cache that
/// `scripts/bitcoind` fills, or `None` when there is none.
#[must_use]
pub fn try_bin_dir() -> Option<PathBuf> {
    let mut builds: Vec<PathBuf> = std::fs::read_dir(cache_dir())
        .map(|d| {
            d.filter_map(Result::ok)
                // Only published builds: `scripts/bitcoind` renames a finished one into place;
                // `<version>.build` (cmake's tree) and `.stage.*` may hold unfinished binaries.
                .filter(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    !name.ends_with(".build") && !name.contains(".stage.")
                })
                .map(|e| e.path().join("bin"))
                .filter(|p| p.join("bitcoind").is_file() && p.join("bitcoin-cli").is_file())
                .collect()
        })
        .unwrap_or_default();
    builds.sort();
    builds.pop()
}

/// As [`try_bin_dir`], panicking when bitcoind is not built.
#[must_use]
pub fn bin_dir() -> PathBuf {
    try_bin_dir().unwrap_or_else(|| panic!("{}", StartError::NotBuilt(cache_dir())))
}

/// A free loopback port (bound, then released for the process that will use it).
#[must_use]
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A running regtest bitcoind.
#[derive(Debug)]
pub struct Bitcoind {
    child: Child,
    bin: PathBuf,
    /// Its datadir (removed when dropped).
    pub datadir: tempfile::TempDir,
    /// Its P2P address on loopback.
    pub p2p: SocketAddr,
    rpc_port: u16,
}

impl Bitcoind {
    /// Starts bitcoind with `extra` arguments (e.g. `-loadblock=FILE`, `-connect=ADDR`) and
    /// waits for its RPC.
    ///
    /// # Panics
    /// bitcoind is not built, cannot start, or its RPC does not answer within a minute.
    #[must_use]
    pub fn start(extra: &[String]) -> Self {
        Self::try_start_in(None, extra).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts bitcoind with `extra` arguments, its datadir a fresh temporary directory under
    /// `parent` (the system's temporary directory when `None`), and waits up to a minute for
    /// its RPC. Later arguments override earlier ones, so `extra` can change the defaults.
    ///
    /// # Errors
    /// bitcoind is not built, cannot start, exits, or its RPC does not answer within a minute.
    pub fn try_start_in(parent: Option<&Path>, extra: &[String]) -> Result<Self, StartError> {
        let bin = try_bin_dir().ok_or_else(|| StartError::NotBuilt(cache_dir()))?;
        let datadir = match parent {
            Some(p) => tempfile::tempdir_in(p)?,
            None => tempfile::tempdir()?,
        };
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let rpc_port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut cmd = Command::new(bin.join("bitcoind"));
        cmd.arg("-regtest")
            .arg(format!("-datadir={}", datadir.path().display()))
            .arg(format!("-port={port}"))
            .arg(format!("-bind=127.0.0.1:{port}"))
            .arg(format!("-rpcport={rpc_port}"))
            .args([
                "-rpcbind=127.0.0.1",
                "-rpcallowip=127.0.0.1",
                "-server=1",
                "-listen=1",
                "-dnsseed=0",
                "-fixedseeds=0",
                "-discover=0",
                "-listenonion=0",
                "-natpmp=0",
                "-checkblockindex=0",
                // Generated chains have 2011 timestamps: without this bitcoind stays in IBD
                // and neither serves headers nor announces blocks.
                "-maxtipage=2000000000",
                "-whitelist=download@127.0.0.1",
                "-printtoconsole=0",
            ])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn()?;
        let mut node = Self {
            child,
            bin,
            datadir,
            p2p: SocketAddr::from(([127, 0, 0, 1], port)),
            rpc_port,
        };
        let limit = Duration::from_secs(60);
        let start = Instant::now();
        loop {
            let last = match node.rpc("getblockcount", &serde_json::json!([])) {
                Ok(_) => return Ok(node),
                Err(e) => e.to_string(),
            };
            if let Some(status) = node.child.try_wait()? {
                return Err(StartError::Exited(status));
            }
            if start.elapsed() >= limit {
                return Err(StartError::Timeout(limit, last));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The bitcoind process id (for reading its CPU time and memory from /proc).
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// bitcoin-cli's error output (trimmed) for a call expected to fail; panics if it succeeds.
    ///
    /// # Panics
    /// The call succeeded.
    #[must_use]
    pub fn cli_err(&self, args: &[&str]) -> String {
        let out = Command::new(self.bin.join("bitcoin-cli"))
            .arg("-regtest")
            .arg(format!("-datadir={}", self.datadir.path().display()))
            .arg(format!("-rpcport={}", self.rpc_port))
            .args(args)
            .output()
            .expect("bitcoin-cli runs");
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).trim().to_string()
    }

    /// Its JSON-RPC address on loopback.
    #[must_use]
    pub fn rpc_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.rpc_port))
    }

    /// Its RPC cookie file.
    #[must_use]
    pub fn cookie_path(&self) -> PathBuf {
        self.datadir.path().join("regtest/.cookie")
    }

    /// bitcoin-cli output (trimmed), or `None` when the call failed.
    #[must_use]
    pub fn try_cli(&self, args: &[&str]) -> Option<String> {
        let out = Command::new(self.bin.join("bitcoin-cli"))
            .arg("-regtest")
            .arg(format!("-datadir={}", self.datadir.path().display()))
            .arg(format!("-rpcport={}", self.rpc_port))
            .args(args)
            .stderr(Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// bitcoin-cli output; panics with the error when the call fails.
    ///
    /// # Panics
    /// The call failed.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(self.bin.join("bitcoin-cli"))
            .arg("-regtest")
            .arg(format!("-datadir={}", self.datadir.path().display()))
            .arg(format!("-rpcport={}", self.rpc_port))
            .args(args)
            .output()
            .expect("running bitcoin-cli");
        assert!(
            out.status.success(),
            "bitcoin-cli {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// `getblockcount`.
    ///
    /// # Panics
    /// The call failed.
    #[must_use]
    pub fn height(&self) -> u32 {
        self.cli(&["getblockcount"]).parse().expect("a block count")
    }

    /// `getbestblockhash`.
    ///
    /// # Panics
    /// The call failed.
    #[must_use]
    pub fn best_hash(&self) -> String {
        self.cli(&["getbestblockhash"])
    }

    /// `gettxoutsetinfo muhash`'s MuHash.
    ///
    /// # Panics
    /// The call failed.
    #[must_use]
    pub fn muhash(&self) -> String {
        let v: serde_json::Value =
            serde_json::from_str(&self.cli(&["gettxoutsetinfo", "muhash"])).expect("json");
        v["muhash"].as_str().expect("muhash field").to_string()
    }

    /// Polls `done` every 100 ms until it holds; panics after `limit`.
    ///
    /// # Panics
    /// The condition did not hold in time.
    pub fn wait_for(&self, limit: Duration, mut done: impl FnMut(&Self) -> bool) {
        let start = Instant::now();
        while !done(self) {
            assert!(
                start.elapsed() < limit,
                "bitcoind: condition not met in {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the node has `height` blocks.
    ///
    /// # Panics
    /// Not reached in time.
    pub fn wait_height(&self, height: u32, limit: Duration) {
        self.wait_for(limit, |n| {
            n.try_cli(&["getblockcount"])
                .and_then(|s| s.parse::<u32>().ok())
                .is_some_and(|h| h >= height)
        });
    }

    /// The loadblock argument for a chain directory's first block file.
    #[must_use]
    pub fn loadblock(dir: &Path) -> String {
        format!("-loadblock={}", dir.join("blk00000.dat").display())
    }

    /// One loadblock argument per `blk?????.dat` file of a chain directory, in file order
    /// (a chain of full blocks spans several 128 MiB files).
    ///
    /// # Errors
    /// The directory cannot be read.
    pub fn loadblocks(dir: &Path) -> std::io::Result<Vec<String>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("blk") && n.ends_with(".dat"))
            })
            .collect();
        files.sort();
        Ok(files
            .iter()
            .map(|f| format!("-loadblock={}", f.display()))
            .collect())
    }
}

impl Drop for Bitcoind {
    fn drop(&mut self) {
        let _ = self.try_cli(&["stop"]);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
