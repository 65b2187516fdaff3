//! A `sluice run` node inside one side's namespace: started with JSON logs whose "connected"
//! events a reader thread forwards (and copies to a log file), killed on drop.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::Value;

use super::latency::{parse_connected, Connected, EVENTS_TARGET};
use super::netns::{Link, Side};

/// Ports on the link (each node has its own address, so both use the same).
pub const P2P_PORT: u16 = 18_444;
pub const QUIC_PORT: u16 = 18_445;
pub const RPC_PORT: u16 = 18_443;

/// Which transport joins the two nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// Sluice-to-Sluice QUIC, keys pinned both ways.
    Quic,
    /// Bitcoin P2P over TCP with BIP324 v2 encryption.
    Tcp,
}

impl Transport {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Transport::Quic => "QUIC",
            Transport::Tcp => "TCP v2",
        }
    }
}

/// The `sluice` flags common to every run of one side.
#[must_use]
pub fn base_args(datadir: &Path, side: Side, script_workers: usize) -> Vec<String> {
    let mut a: Vec<String> = [
        "--network",
        "regtest",
        "--log-format",
        "json",
        "--checkpoint-secs",
        "3600",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    a.push("--datadir".into());
    a.push(datadir.display().to_string());
    a.push(format!("--log-filter=warn,{EVENTS_TARGET}=debug"));
    a.push(format!("--script-workers={script_workers}"));
    // Only the sender is driven over RPC (submitblock); its cookie is in its datadir.
    match side {
        Side::Sender => a.extend([
            "--server=true".into(),
            format!("--rpcbind={}", SocketAddrV4::new(side.ip(), RPC_PORT)),
        ]),
        Side::Receiver => a.push("--server=false".into()),
    }
    a
}

/// The transport flags of `side`; `peer_fp` is the other node's QUIC key fingerprint.
#[must_use]
pub fn transport_args(transport: Transport, side: Side, peer_fp: &str) -> Vec<String> {
    let sender = Side::Sender.ip();
    let me = side.ip();
    match (transport, side) {
        (Transport::Tcp, Side::Sender) => vec![
            "--listen=true".into(),
            format!("--bind={me}:{P2P_PORT}"),
            "--v2transport=true".into(),
        ],
        (Transport::Tcp, Side::Receiver) => vec![
            "--listen=false".into(),
            format!("--connect={sender}:{P2P_PORT}"),
            "--v2transport=true".into(),
        ],
        (Transport::Quic, Side::Sender) => vec![
            "--listen=false".into(),
            format!("--quic-listen={me}:{QUIC_PORT}"),
            format!("--quic-peer={peer_fp}@{}:{QUIC_PORT}", Side::Receiver.ip()),
        ],
        (Transport::Quic, Side::Receiver) => vec![
            "--listen=false".into(),
            format!("--quic-listen={me}:{QUIC_PORT}"),
            format!("--quic-connect={peer_fp}@{sender}:{QUIC_PORT}"),
        ],
    }
}

/// A running node; killed (and reaped) on drop.
#[derive(Debug)]
pub struct Node {
    child: Child,
    pub connected: Receiver<Connected>,
    pub log: PathBuf,
}

impl Node {
    /// Starts `sluice run args` in namespace `ns` (`None`: this process's), its stderr copied
    /// to `log`.
    ///
    /// # Errors
    /// The process failing to start.
    pub fn start(
        ns: Option<&str>,
        sluice: &Path,
        args: &[String],
        log: PathBuf,
    ) -> anyhow::Result<Self> {
        let mut cmd = match ns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(sluice);
                c
            }
            None => Command::new(sluice),
        };
        let mut child = cmd
            .arg("run")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {} in {ns:?}", sluice.display()))?;
        let stderr = child.stderr.take().context("node stderr")?;
        let mut file =
            std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let (tx, rx) = mpsc::channel();
        // Ends when the node exits (its stderr closes).
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                writeln!(file, "{line}").ok();
                if let Some(c) = parse_connected(&line) {
                    if tx.send(c).is_err() {
                        break;
                    }
                }
            }
        });
        Ok(Node {
            child,
            connected: rx,
            log,
        })
    }

    /// Waits up to `limit` for the node to connect `hash`, skipping other blocks.
    ///
    /// # Errors
    /// The node exiting, or the time running out.
    pub fn wait_connected(&mut self, hash: &str, limit: Duration) -> anyhow::Result<Connected> {
        let start = Instant::now();
        loop {
            let left = limit.saturating_sub(start.elapsed());
            match self
                .connected
                .recv_timeout(left.min(Duration::from_millis(500)))
            {
                Ok(c) if c.hash == hash => return Ok(c),
                Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    anyhow::bail!(
                        "the node exited before connecting {hash} (log: {})",
                        self.log.display()
                    )
                }
            }
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("the node exited ({status}); log: {}", self.log.display());
            }
            anyhow::ensure!(
                !left.is_zero(),
                "no block {hash} connected within {limit:?} (log: {})",
                self.log.display()
            );
        }
    }

    /// Stops the node (SIGTERM, then SIGKILL after 20 s).
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // `ip netns exec` execs the node, so this pid is the node itself.
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            )
            .ok();
        }
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// Calls the sender's JSON-RPC from inside its namespace (a thread that joined it: the
/// server listens on the link address, unreachable from the root namespace).
///
/// # Errors
/// Joining the namespace, reading the cookie, or the call failing.
pub fn sender_rpc(
    link: &Link,
    datadir: &Path,
    method: &str,
    params: &Value,
    timeout: Duration,
) -> anyhow::Result<Value> {
    let cookie_path = datadir.join(".cookie");
    let cookie = std::fs::read_to_string(&cookie_path)
        .with_context(|| format!("reading the sender's RPC cookie {}", cookie_path.display()))?;
    let addr = SocketAddr::V4(SocketAddrV4::new(Side::Sender.ip(), RPC_PORT));
    link.enter(Side::Sender, || {
        sluice_bitcoind::rpc_call(addr, cookie.trim(), method, params, timeout)
            .with_context(|| format!("{method} on the sender"))
    })
}

/// Waits up to `limit` for the sender's RPC server to answer `getblockcount`.
///
/// # Errors
/// The server not answering in time.
pub fn wait_rpc(link: &Link, datadir: &Path, limit: Duration) -> anyhow::Result<u64> {
    let start = Instant::now();
    loop {
        match sender_rpc(link, datadir, "getblockcount", &Value::Array(vec![]), limit) {
            Ok(v) => return v.as_u64().context("getblockcount is not a number"),
            Err(e) if start.elapsed() > limit => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_transport_joins_only_its_own_way() {
        let s = transport_args(Transport::Quic, Side::Sender, "ff");
        assert!(
            s.contains(&"--quic-peer=ff@10.239.0.2:18445".to_owned()),
            "{s:?}"
        );
        assert!(s.contains(&"--listen=false".to_owned()));
        let r = transport_args(Transport::Quic, Side::Receiver, "ee");
        assert!(
            r.contains(&"--quic-connect=ee@10.239.0.1:18445".to_owned()),
            "{r:?}"
        );
        assert!(!r.iter().any(|a| a.starts_with("--connect")));
        let r = transport_args(Transport::Tcp, Side::Receiver, "");
        assert!(
            r.contains(&"--connect=10.239.0.1:18444".to_owned()),
            "{r:?}"
        );
        assert!(r.contains(&"--v2transport=true".to_owned()));
        assert!(!r.iter().any(|a| a.starts_with("--quic")));
        let b = base_args(Path::new("/d"), Side::Sender, 2);
        assert!(
            b.contains(&"--rpcbind=10.239.0.1:18443".to_owned()),
            "{b:?}"
        );
        assert!(b.contains(&"--log-filter=warn,sluice_node::run::events=debug".to_owned()));
        assert!(
            base_args(Path::new("/d"), Side::Receiver, 2).contains(&"--server=false".to_owned())
        );
    }
}
