//! quinn client and server configurations: TLS 1.3 only, ALPN `sluice/1`, mutual
//! authentication by fingerprint, no 0-RTT (replayable), explicit limits, migration off.

use std::collections::HashSet;
use std::sync::Arc;

use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use rustls::crypto::CryptoProvider;

use super::identity::{Fingerprint, Identity};
use super::limits::{transport_arc, QuicLimits};
use super::verify::{Accept, ClientVerifier, ServerVerifier};
use super::{QuicConfig, QuicSetupError, ALPN};

/// Connection attempts quinn queues before we look at them (each costs at most one
/// datagram's buffer, bounded in total below).
const MAX_INCOMING: usize = 256;
/// Bytes of early datagrams buffered per queued attempt, and for all of them.
const INCOMING_BUFFER: u64 = 16 * 1024;
const INCOMING_BUFFER_TOTAL: u64 = 1 << 20;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The server side: presents our certificate, requires a client certificate whose key is
/// pinned (or any, when `open`).
///
/// # Errors
/// Inconsistent limits or a key rustls refuses.
pub fn server_config(cfg: &QuicConfig) -> Result<quinn::ServerConfig, QuicSetupError> {
    let provider = provider();
    let accept = if cfg.open {
        Accept::Any
    } else {
        Accept::Pinned(Arc::new(cfg.pinned.iter().copied().collect::<HashSet<_>>()))
    };
    let verifier = Arc::new(ClientVerifier::new(accept, &provider));
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![cfg.identity.cert()], cfg.identity.key())?;
    tls.alpn_protocols = vec![ALPN.to_vec()];
    tls.max_early_data_size = 0;
    let crypto = QuicServerConfig::try_from(tls)?;
    let mut sc = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    sc.transport_config(transport_arc(&cfg.limits, true)?);
    // A pinned peer is identified by its key, but its address is what connection limits and
    // discouragement are keyed on: it may not move.
    sc.migration(false);
    sc.max_incoming(MAX_INCOMING);
    sc.incoming_buffer_size(INCOMING_BUFFER);
    sc.incoming_buffer_size_total(INCOMING_BUFFER_TOTAL);
    Ok(sc)
}

/// The client side towards a peer that must present `expect`, offering `alpn` (tests offer
/// other protocols; the node always offers [`ALPN`]).
///
/// # Errors
/// Inconsistent limits or a key rustls refuses.
pub fn client_config_with_alpn(
    identity: &Identity,
    expect: Fingerprint,
    limits: &QuicLimits,
    alpn: &[u8],
) -> Result<quinn::ClientConfig, QuicSetupError> {
    let provider = provider();
    let verifier = Arc::new(ServerVerifier::new(expect, &provider));
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(vec![identity.cert()], identity.key())?;
    tls.alpn_protocols = vec![alpn.to_vec()];
    tls.enable_early_data = false;
    let crypto = QuicClientConfig::try_from(tls)?;
    let mut cc = quinn::ClientConfig::new(Arc::new(crypto));
    cc.transport_config(transport_arc(limits, false)?);
    Ok(cc)
}

/// The client side towards a peer that must present `expect`.
///
/// # Errors
/// As [`client_config_with_alpn`].
pub fn client_config(
    identity: &Identity,
    expect: Fingerprint,
    limits: &QuicLimits,
) -> Result<quinn::ClientConfig, QuicSetupError> {
    client_config_with_alpn(identity, expect, limits, ALPN)
}

/// The fingerprint of the key the peer authenticated with, and whether it agreed on our ALPN.
#[must_use]
pub fn peer_of(conn: &quinn::Connection) -> (Option<Fingerprint>, bool) {
    let fp = conn
        .peer_identity()
        .and_then(|id| {
            id.downcast::<Vec<rustls::pki_types::CertificateDer<'static>>>()
                .ok()
        })
        .and_then(|certs| certs.first().and_then(|c| Fingerprint::of_cert(c).ok()));
    let alpn = conn
        .handshake_data()
        .and_then(|d| d.downcast::<quinn::crypto::rustls::HandshakeData>().ok())
        .is_some_and(|d| d.protocol.as_deref() == Some(ALPN));
    (fp, alpn)
}
