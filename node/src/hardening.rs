//! Production checks of a resolved [`NodeConfig`]: settings that cannot work (malformed
//! addresses, conflicting options, an unusable datadir) are errors on every network; weak
//! settings (RPC reachable beyond loopback without `rpcauth`, a QUIC listener open to any key on
//! mainnet, …) refuse the start on public networks unless the operator accepts them by name in
//! `accept_risk`. `sluice config check` prints the same verdicts with the effective settings,
//! secrets redacted; `sluice run` refuses before opening anything.

use std::net::SocketAddr;

use sluice_net::quic::{PeerPin, QuicLimits};

use crate::config::{NetworkArg, NodeConfig};
use crate::secret::REDACTED;

/// How much a finding matters on the configured network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// The configuration cannot work; no `accept_risk` overrides it.
    Error,
    /// Weak: refuses the start unless its id is in `accept_risk`.
    Refuse,
    /// Weak but tolerated; printed (and logged at start).
    Warn,
}

/// One verdict about the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Stable name, as `accept_risk` spells it.
    pub id: &'static str,
    /// The configuration key at fault.
    pub key: &'static str,
    pub level: Level,
    pub message: String,
}

/// Ids of the weak settings `accept_risk` may name.
pub const RISKS: [&str; 6] = [
    "rpc-public-without-rpcauth",
    "rpc-plain-password",
    "quic-open-mainnet",
    "metrics-public",
    "maxconnections-high",
    "datadir-permissions",
];

/// Connections above this need more file descriptors than the systemd unit's LimitNOFILE
/// leaves for block files and the store.
pub const MAX_SANE_CONNECTIONS: usize = 1000;

fn public(network: NetworkArg) -> bool {
    network != NetworkArg::Regtest
}

/// Loopback addresses only (`127.0.0.0/8`, `::1`).
fn loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// Every finding about `cfg`, errors first.
#[must_use]
pub fn audit(cfg: &NodeConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    let weak = |id, key, level_public: Level, message: String| Finding {
        id,
        key,
        level: if public(cfg.network) {
            level_public
        } else {
            Level::Warn
        },
        message,
    };
    let error = |key, message: String| Finding {
        id: "invalid",
        key,
        level: Level::Error,
        message,
    };
    // Settings that cannot work.
    if cfg.rpcpassword.is_some() && cfg.rpcuser.is_none() {
        out.push(error(
            "rpcpassword",
            "rpcpassword is set without rpcuser".into(),
        ));
    }
    if !cfg.listen && !cfg.bind.is_empty() {
        out.push(error(
            "bind",
            format!("bind {:?} conflicts with listen = false", cfg.bind),
        ));
    }
    for line in &cfg.rpcauth {
        if let Err(e) = crate::rpc::auth::RpcAuthLine::parse(line) {
            // The message names the user, never the hash.
            out.push(error("rpcauth", e));
        }
    }
    let rpc_binds = match crate::rpc::bind_addrs(cfg) {
        Ok(b) => b,
        Err(e) => {
            out.push(error("rpcbind", format!("{e:#}")));
            Vec::new()
        }
    };
    let metrics = match cfg.metrics_addr() {
        Ok(m) => m,
        Err(e) => {
            out.push(error("metrics_bind", format!("{e:#}")));
            None
        }
    };
    if let Some(l) = &cfg.quic_listen {
        if l.parse::<SocketAddr>().is_err() {
            out.push(error(
                "quic_listen",
                format!("quic_listen {l:?}: not ip:port"),
            ));
        }
    }
    for p in &cfg.quic_peer {
        if let Err(e) = p.parse::<PeerPin>() {
            out.push(error("quic_peer", format!("quic_peer {p:?}: {e}")));
        }
    }
    if let Err(e) = QuicLimits::from(&cfg.quic_limits).validate() {
        out.push(error("quic_limits", e.to_string()));
    }
    for r in &cfg.accept_risk {
        if !RISKS.contains(&r.as_str()) {
            out.push(error(
                "accept_risk",
                format!(
                    "accept_risk {r:?}: no such risk (known: {})",
                    RISKS.join(", ")
                ),
            ));
        }
    }
    datadir_findings(cfg, &mut out);

    // Weak settings.
    if cfg.server {
        if let Some(a) = rpc_binds.iter().find(|a| !loopback(a)) {
            if cfg.rpcauth.is_empty() {
                out.push(weak(
                    "rpc-public-without-rpcauth",
                    "rpcbind",
                    Level::Refuse,
                    format!(
                        "RPC listens on {a}, beyond loopback, without rpcauth: remote clients \
                         could only use a plain password, and the cookie is for local clients. \
                         Bind RPC to 127.0.0.1, or add rpcauth lines (Core's rpcauth.py)"
                    ),
                ));
            }
        }
        // Without rpcuser the password is already an error above.
        if cfg.rpcpassword.is_some() && cfg.rpcuser.is_some() {
            out.push(weak(
                "rpc-plain-password",
                "rpcpassword",
                Level::Warn,
                "rpcpassword keeps the password in the config file (and in the process list \
                 when given as a flag); prefer rpcauth"
                    .into(),
            ));
        }
    }
    if cfg.quic_open && cfg.quic_listen.is_some() {
        out.push(Finding {
            id: "quic-open-mainnet",
            key: "quic_open",
            level: if cfg.network == NetworkArg::Mainnet {
                Level::Refuse
            } else {
                Level::Warn
            },
            message: "the QUIC listener accepts any key (quic_open); on mainnet pin peers with \
                      quic_peer instead"
                .into(),
        });
    }
    if let Some(m) = metrics.filter(|m| !loopback(m)) {
        out.push(weak(
            "metrics-public",
            "metrics_bind",
            Level::Warn,
            format!("metrics are served on {m}, beyond loopback, without authentication"),
        ));
    }
    if cfg.maxconnections > MAX_SANE_CONNECTIONS {
        out.push(weak(
            "maxconnections-high",
            "maxconnections",
            Level::Refuse,
            format!(
                "maxconnections {} is above {MAX_SANE_CONNECTIONS}: each costs memory and file \
                 descriptors (the systemd unit allows 8192)",
                cfg.maxconnections
            ),
        ));
    }
    out.sort_by_key(|f| match f.level {
        Level::Error => 0,
        Level::Refuse => 1,
        Level::Warn => 2,
    });
    out
}

fn datadir_findings(cfg: &NodeConfig, out: &mut Vec<Finding>) {
    let dir = &cfg.datadir;
    let Ok(meta) = std::fs::metadata(dir) else {
        return; // created at first start
    };
    let error = |message| Finding {
        id: "invalid",
        key: "datadir",
        level: Level::Error,
        message,
    };
    if !meta.is_dir() {
        out.push(error(format!(
            "datadir {} is not a directory",
            dir.display()
        )));
        return;
    }
    if let Err(e) = std::fs::read_dir(dir) {
        out.push(error(format!(
            "datadir {} is not readable by this user: {e}",
            dir.display()
        )));
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            out.push(Finding {
                id: "datadir-permissions",
                key: "datadir",
                level: Level::Warn,
                message: format!(
                    "datadir {} has mode {mode:o}: other users can read the chainstate and \
                     the RPC cookie's directory (chmod 700)",
                    dir.display()
                ),
            });
        }
    }
}

/// Findings that stop the node: errors, and refusals the operator did not accept.
#[must_use]
pub fn blocking(cfg: &NodeConfig, findings: &[Finding]) -> Vec<Finding> {
    findings
        .iter()
        .filter(|f| match f.level {
            Level::Error => true,
            Level::Refuse => !cfg.accept_risk.iter().any(|r| r == f.id),
            Level::Warn => false,
        })
        .cloned()
        .collect()
}

/// For `sluice run`: refuses a configuration that cannot work or is weak on a public network
/// (one line per reason, each naming the key), and logs the tolerated weaknesses.
///
/// # Errors
/// The reasons, together.
pub fn enforce(cfg: &NodeConfig) -> anyhow::Result<()> {
    let findings = audit(cfg);
    let stop = blocking(cfg, &findings);
    for f in findings.iter().filter(|f| !stop.contains(f)) {
        tracing::warn!("config {}: {} [{}]", f.key, f.message, f.id);
    }
    if stop.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = stop.iter().map(describe).collect();
    anyhow::bail!(
        "refusing to start with this configuration:\n{}",
        lines.join("\n")
    )
}

/// One finding as a line for people.
#[must_use]
pub fn describe(f: &Finding) -> String {
    match f.level {
        Level::Error => format!("  error: {}: {}", f.key, f.message),
        Level::Refuse => format!(
            "  refused: {}: {} (to run anyway: accept_risk = [\"{}\"])",
            f.key, f.message, f.id
        ),
        Level::Warn => format!("  warning: {}: {} [{}]", f.key, f.message, f.id),
    }
}

/// The effective settings as TOML (a valid config file), secrets redacted: passwords, and the
/// salt and HMAC of `rpcauth` lines (the user stays, to tell lines apart). Settings whose
/// default depends on the network (`maxuploadtarget`) are shown resolved.
///
/// # Errors
/// Serialization failed (a bug).
pub fn effective_toml(cfg: &NodeConfig) -> anyhow::Result<String> {
    let mut shown = cfg.clone();
    shown.maxuploadtarget = Some(crate::config::ByteSize(cfg.max_upload_target()));
    shown.rpcauth = cfg
        .rpcauth
        .iter()
        .map(|l| {
            let user = l.split_once(':').map_or("", |(u, _)| u);
            format!("{user}:{REDACTED}")
        })
        .collect();
    Ok(toml::to_string(&shown)?)
}

#[cfg(test)]
mod tests;
