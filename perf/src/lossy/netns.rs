//! The lossy link: two network namespaces joined by a veth pair, with packet loss from
//! nftables (`numgen random`) on each side's ingress and a `tc tbf` rate limit on each side's
//! egress. These kernels have no `netem`; nftables and tbf are what works.
//!
//! [`Link`] is a guard: dropping it kills what runs in the namespaces and deletes them. The
//! release profile aborts on panic (no unwinding, so no `Drop`), hence a panic hook deletes
//! registered namespaces too, and [`sweep_stale`] removes those left by a killed `perf`.

use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::sync::{Mutex, Once, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// Every namespace name starts with this, followed by the owning `perf`'s pid.
pub const PREFIX: &str = "sluice-lossy-";
/// The nftables table each namespace gets.
const TABLE: &str = "sluice_lossy";
/// Sender and receiver addresses on the veth pair.
pub const SENDER_IP: Ipv4Addr = Ipv4Addr::new(10, 239, 0, 1);
pub const RECEIVER_IP: Ipv4Addr = Ipv4Addr::new(10, 239, 0, 2);
/// Longest one `ip`/`nft`/`tc`/`ethtool` command may take.
const COMMAND_LIMIT: Duration = Duration::from_secs(20);

/// Namespaces alive in this process, deleted by the panic hook.
static LIVE: Mutex<Vec<String>> = Mutex::new(Vec::new());
static HOOK: Once = Once::new();

/// One side of the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Sender,
    Receiver,
}

impl Side {
    fn tag(self) -> &'static str {
        match self {
            Side::Sender => "s",
            Side::Receiver => "r",
        }
    }

    /// The veth end in this side's namespace.
    #[must_use]
    pub fn dev(self) -> String {
        format!("lsy-{}", self.tag())
    }

    /// This side's address on the link.
    #[must_use]
    pub fn ip(self) -> Ipv4Addr {
        match self {
            Side::Sender => SENDER_IP,
            Side::Receiver => RECEIVER_IP,
        }
    }
}

/// How the link misbehaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// Packets dropped on ingress, each side, percent (0–100, two decimals are kept).
    pub loss_pct: f64,
    /// Egress rate limit per direction, Mbit/s; 0 = none.
    pub rate_mbit: u32,
}

/// The nftables ruleset of one side: count every packet arriving on the link, then drop
/// `loss` of them (in hundredths of a percent, so 1.5 % works too).
#[must_use]
pub fn nft_rules(dev: &str, loss_pct: f64) -> String {
    let per_10k = loss_per_10k(loss_pct);
    let drop = if per_10k == 0 {
        String::new()
    } else {
        format!("    iifname \"{dev}\" numgen random mod 10000 < {per_10k} counter drop\n")
    };
    format!(
        "table inet {TABLE} {{\n  chain input {{\n    type filter hook input priority 0; \
         policy accept;\n    iifname \"{dev}\" counter\n{drop}  }}\n}}\n"
    )
}

/// `loss_pct` in hundredths of a percent, clamped to 0..=10000.
#[must_use]
pub fn loss_per_10k(loss_pct: f64) -> u32 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // clamped first
    let v = (loss_pct.clamp(0.0, 100.0) * 100.0).round() as u32;
    v
}

/// The `tc tbf` arguments for `rate_mbit`: a burst of 10 ms at that rate (at least 16 kB,
/// enough for the timer granularity) and at most 100 ms of queue.
#[must_use]
pub fn tbf_args(dev: &str, rate_mbit: u32) -> Vec<String> {
    let burst_bytes = (u64::from(rate_mbit) * 1_000_000 / 8 / 100).max(16_384);
    ["qdisc", "add", "dev", dev, "root", "tbf", "rate"]
        .iter()
        .map(|s| (*s).to_owned())
        .chain([
            format!("{rate_mbit}mbit"),
            "burst".into(),
            burst_bytes.to_string(),
            "latency".into(),
            "100ms".into(),
        ])
        .collect()
}

/// Packets seen and dropped on one side's ingress (from the nftables counters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counters {
    pub seen: u64,
    pub dropped: u64,
}

/// Reads the counters out of `nft list table` output: the first `counter packets N` is every
/// packet, the second (absent at 0 % loss) the dropped ones.
#[must_use]
pub fn parse_counters(listing: &str) -> Counters {
    let mut n = listing.split("counter packets ").skip(1).map(|rest| {
        rest.split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    });
    Counters {
        seen: n.next().unwrap_or(0),
        dropped: n.next().unwrap_or(0),
    }
}

/// Runs `program args`, bounded by [`COMMAND_LIMIT`], feeding `stdin`; returns stdout.
///
/// # Errors
/// The command failing to start, exiting non-zero, or overrunning its time.
pub fn run(program: &str, args: &[&str], stdin: Option<&str>) -> anyhow::Result<String> {
    use std::io::{Read as _, Write as _};
    let mut child = Command::new(program)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {program}"))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())?;
    }
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if start.elapsed() > COMMAND_LIMIT {
            child.kill().ok();
            child.wait().ok();
            anyhow::bail!("{program} {} took over {COMMAND_LIMIT:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let (mut out, mut err) = (String::new(), String::new());
    if let Some(mut o) = child.stdout.take() {
        o.read_to_string(&mut out).ok();
    }
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut err).ok();
    }
    anyhow::ensure!(
        status.success(),
        "{program} {} failed ({status}): {}",
        args.join(" "),
        err.trim()
    );
    Ok(out)
}

/// Why the link cannot be built here (not root, or no `ip netns`/`nft`), or `None`.
#[must_use]
pub fn unavailable() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("not root: network namespaces need CAP_SYS_ADMIN".into());
    }
    for (tool, args) in [("ip", ["netns", "list"]), ("nft", ["--version", ""])] {
        let args: Vec<&str> = args.iter().copied().filter(|a| !a.is_empty()).collect();
        if run(tool, &args, None).is_err() {
            return Some(format!(
                "`{tool}` is missing or fails (bash scripts/deps installs it)"
            ));
        }
    }
    None
}

/// Deletes namespaces named [`PREFIX`]`<pid>-…` whose `perf` is gone, killing what runs in
/// them (a previous run killed by a signal leaves them behind).
pub fn sweep_stale() {
    let Ok(list) = run("ip", &["netns", "list"], None) else {
        return;
    };
    for name in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            tracing::warn!("removing stale namespace {name}");
            delete_netns(name);
        }
    }
}

/// Kills every process in `name` and deletes it (best effort: teardown must not fail).
fn delete_netns(name: &str) {
    if let Ok(pids) = run("ip", &["netns", "pids", name], None) {
        for pid in pids.split_whitespace() {
            run("kill", &["-KILL", pid], None).ok();
        }
    }
    if let Err(e) = run("ip", &["netns", "del", name], None) {
        tracing::warn!("deleting namespace {name}: {e:#}");
    }
}

fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let names = std::mem::take(&mut *LIVE.lock().unwrap_or_else(PoisonError::into_inner));
            for n in &names {
                delete_netns(n);
            }
            previous(info);
        }));
    });
}

/// The two namespaces and the veth pair between them; torn down on drop.
#[derive(Debug)]
pub struct Link {
    names: [String; 2],
}

impl Link {
    /// Creates both namespaces (`tag` tells concurrent links of one process apart), the veth
    /// pair with offloads off (so every packet is one MTU-sized frame and a drop rule drops
    /// one packet, not a 64 kB super-packet) and addresses, then applies `shape`.
    ///
    /// # Errors
    /// Any command failing; what was created is removed again.
    pub fn create(tag: &str, shape: Shape) -> anyhow::Result<Self> {
        install_panic_hook();
        let base = format!("{PREFIX}{}-{tag}", std::process::id());
        let link = Link {
            names: [format!("{base}-s"), format!("{base}-r")],
        };
        for n in &link.names {
            run("ip", &["netns", "add", n], None)?;
            LIVE.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(n.clone());
        }
        let (s, r) = (Side::Sender, Side::Receiver);
        run(
            "ip",
            &[
                "link",
                "add",
                &s.dev(),
                "netns",
                link.ns(s),
                "type",
                "veth",
                "peer",
                "name",
                &r.dev(),
                "netns",
                link.ns(r),
            ],
            None,
        )?;
        for side in [s, r] {
            let (ns, dev) = (link.ns(side), side.dev());
            run("ip", &["-n", ns, "link", "set", "lo", "up"], None)?;
            let cidr = format!("{}/24", side.ip());
            run("ip", &["-n", ns, "addr", "add", &cidr, "dev", &dev], None)?;
            run("ip", &["-n", ns, "link", "set", &dev, "up"], None)?;
            let off = [
                "tso",
                "gso",
                "gro",
                "tx-udp-segmentation",
                "rx-gro-list",
                "rx-udp-gro-forwarding",
            ];
            for feature in off {
                // Some features are fixed on some kernels; what matters is checked below.
                link.exec(side, "ethtool", &["-K", &dev, feature, "off"], None)
                    .ok();
            }
            let k = link.exec(side, "ethtool", &["-k", &dev], None)?;
            for must in [
                "tcp-segmentation-offload: off",
                "generic-segmentation-offload: off",
                "tx-udp-segmentation: off",
            ] {
                anyhow::ensure!(k.contains(must), "{dev}: could not turn {must:?}");
            }
        }
        link.shape(shape)?;
        Ok(link)
    }

    /// The namespace of `side`.
    #[must_use]
    pub fn ns(&self, side: Side) -> &str {
        match side {
            Side::Sender => &self.names[0],
            Side::Receiver => &self.names[1],
        }
    }

    /// Runs `program args` inside `side`'s namespace.
    ///
    /// # Errors
    /// See [`run`].
    pub fn exec(
        &self,
        side: Side,
        program: &str,
        args: &[&str],
        stdin: Option<&str>,
    ) -> anyhow::Result<String> {
        let mut full = vec!["netns", "exec", self.ns(side), program];
        full.extend_from_slice(args);
        run("ip", &full, stdin)
    }

    /// Runs `f` on a thread that joined `side`'s network namespace, so the sockets it opens
    /// live there (the nodes listen on link addresses the root namespace cannot reach).
    ///
    /// # Errors
    /// Joining the namespace failing, or `f`'s error.
    pub fn enter<T: Send>(
        &self,
        side: Side,
        f: impl FnOnce() -> anyhow::Result<T> + Send,
    ) -> anyhow::Result<T> {
        let path = std::path::PathBuf::from("/run/netns").join(self.ns(side));
        std::thread::scope(|s| {
            s.spawn(|| -> anyhow::Result<T> {
                let ns = std::fs::File::open(&path)
                    .with_context(|| format!("opening {}", path.display()))?;
                nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET)
                    .with_context(|| format!("joining {}", path.display()))?;
                f()
            })
            .join()
            .map_err(|_| anyhow::anyhow!("the thread in {} panicked", path.display()))?
        })
    }

    /// (Re)applies loss and rate limit on both sides, resetting the counters.
    ///
    /// # Errors
    /// A command failing.
    pub fn shape(&self, shape: Shape) -> anyhow::Result<()> {
        for side in [Side::Sender, Side::Receiver] {
            let dev = side.dev();
            // Replacing the table is atomic in one nft transaction.
            let rules = format!(
                "table inet {TABLE}\ndelete table inet {TABLE}\n{}",
                nft_rules(&dev, shape.loss_pct)
            );
            self.exec(side, "nft", &["-f", "-"], Some(&rules))?;
            self.exec(side, "tc", &["qdisc", "del", "dev", &dev, "root"], None)
                .ok();
            if shape.rate_mbit > 0 {
                let args = tbf_args(&dev, shape.rate_mbit);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                self.exec(side, "tc", &args, None)?;
            }
        }
        Ok(())
    }

    /// Sets TCP congestion control `cc` in both namespaces (`None`: leave the inherited one);
    /// returns the one in force.
    ///
    /// # Errors
    /// `sysctl` refusing the name (the module is not loaded), or reading it back failing.
    pub fn tcp_cc(&self, cc: Option<&str>) -> anyhow::Result<String> {
        let mut now = String::new();
        for side in [Side::Sender, Side::Receiver] {
            if let Some(cc) = cc {
                let kv = format!("net.ipv4.tcp_congestion_control={cc}");
                self.exec(side, "sysctl", &["-w", &kv], None)?;
            }
            now = self
                .exec(
                    side,
                    "cat",
                    &["/proc/sys/net/ipv4/tcp_congestion_control"],
                    None,
                )?
                .trim()
                .to_owned();
        }
        Ok(now)
    }

    /// The ingress counters of `side` since the last [`Link::shape`].
    ///
    /// # Errors
    /// `nft` failing.
    pub fn counters(&self, side: Side) -> anyhow::Result<Counters> {
        let out = self.exec(side, "nft", &["list", "table", "inet", TABLE], None)?;
        Ok(parse_counters(&out))
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
        for n in &self.names {
            delete_netns(n);
            live.retain(|l| l != n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_drop_the_asked_share() {
        let r = nft_rules("lsy-s", 3.0);
        assert!(r.contains("iifname \"lsy-s\" numgen random mod 10000 < 300 counter drop"));
        assert!(r.contains("iifname \"lsy-s\" counter\n"));
        let none = nft_rules("lsy-r", 0.0);
        assert!(!none.contains("drop"), "{none}");
        assert_eq!(loss_per_10k(1.5), 150);
        assert_eq!(loss_per_10k(250.0), 10_000);
        assert_eq!(loss_per_10k(-1.0), 0);
    }

    #[test]
    fn tbf_burst_covers_10_ms() {
        let a = tbf_args("lsy-s", 100);
        assert_eq!(a[7..], ["100mbit", "burst", "125000", "latency", "100ms"]);
        assert_eq!(tbf_args("lsy-s", 1)[9], "16384");
    }

    #[test]
    fn counters_parse_from_nft_listing() {
        let listing = "table inet sluice_lossy {\n\tchain input {\n\t\ttype filter hook input \
                       priority filter; policy accept;\n\t\tiifname \"lsy-s\" counter packets \
                       1000 bytes 5\n\t\tiifname \"lsy-s\" numgen random mod 10000 < 300 counter \
                       packets 31 bytes 2 drop\n\t}\n}\n";
        assert_eq!(
            parse_counters(listing),
            Counters {
                seen: 1000,
                dropped: 31
            }
        );
        assert_eq!(parse_counters(""), Counters::default());
    }
}
