//! The node's QUIC settings: its identity from the datadir, pinned peers, QUIC targets.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use sluice_net::quic::{Fingerprint, Identity, PeerPin, QuicConfig, QuicLimits};

use super::resolve;
use crate::config::NodeConfig;

/// QUIC as configured: the network's settings and the peers to keep connected.
#[derive(Debug, Default)]
pub(super) struct QuicSetup {
    pub(super) config: Option<QuicConfig>,
    pub(super) targets: Vec<(SocketAddr, Fingerprint)>,
}

fn pin(text: &str, default_port: u16) -> anyhow::Result<(SocketAddr, Fingerprint)> {
    let p: PeerPin = text.parse()?;
    let addr = resolve(std::slice::from_ref(&p.address), default_port)?[0];
    Ok((addr, p.fingerprint))
}

/// Reads the identity (creating it on first start) when QUIC is used at all.
///
/// # Errors
/// An unreadable identity key, a malformed pin or address, a `quic_connect` entry without pin.
pub(super) fn setup(cfg: &NodeConfig) -> anyhow::Result<QuicSetup> {
    if cfg.quic_listen.is_none() && cfg.quic_connect.is_empty() {
        return Ok(QuicSetup::default());
    }
    let port = cfg.default_port();
    let mut pinned = cfg
        .quic_peer
        .iter()
        .map(|p| pin(p, port).with_context(|| format!("quic_peer {p}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut targets = Vec::new();
    for c in &cfg.quic_connect {
        let target = if c.contains('@') {
            let p = pin(c, port).with_context(|| format!("quic_connect {c}"))?;
            pinned.push(p);
            p
        } else {
            let addr = resolve(std::slice::from_ref(c), port)?[0];
            let fp = pinned
                .iter()
                .find(|(a, _)| *a == addr)
                .map(|(_, f)| *f)
                .with_context(|| {
                    format!("quic_connect {c}: no quic_peer <fingerprint>@{c} pins its key")
                })?;
            (addr, fp)
        };
        targets.push(target);
    }
    let listen = cfg
        .quic_listen
        .as_ref()
        .map(|l| {
            l.parse::<SocketAddr>()
                .with_context(|| format!("quic_listen {l}: not ip:port"))
        })
        .transpose()?;
    let identity = Identity::load_or_create(&cfg.datadir)?;
    let limits = QuicLimits::from(&cfg.quic_limits);
    limits.validate()?;
    tracing::info!(fingerprint = %identity.fingerprint(), "QUIC identity");
    Ok(QuicSetup {
        config: Some(QuicConfig {
            listen,
            identity: Arc::new(identity),
            pinned: pinned.iter().map(|(_, f)| *f).collect(),
            open: cfg.quic_open,
            limits,
        }),
        targets,
    })
}

/// `sluice quic-id`: the fingerprint of the datadir's identity key (created if missing).
///
/// # Errors
/// The key cannot be read or created.
pub fn fingerprint(cfg: &NodeConfig) -> anyhow::Result<Fingerprint> {
    Ok(Identity::load_or_create(&cfg.datadir)?.fingerprint())
}
