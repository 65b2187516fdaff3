//! rustls verifiers that authenticate a peer by its key fingerprint, in both directions.
//!
//! No certificate authority: a certificate is only a carrier for the peer's public key. It must
//! parse, be self-signed and within its validity period, and its key must be the pinned one
//! (outbound: the pin of the address we dial; inbound: any pinned key, or any key at all when
//! the operator opened the listener). TLS 1.3's `CertificateVerify` then proves the peer holds
//! that key. A refusal here ends the handshake: no stream, no Bitcoin message.

use std::collections::HashSet;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls13_signature, CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};

use super::identity::Fingerprint;

/// Which keys a verifier accepts.
#[derive(Debug, Clone)]
pub enum Accept {
    /// Exactly this key (outbound to a pinned address).
    Key(Fingerprint),
    /// Any key in the set (inbound, pinned peers only).
    Pinned(Arc<HashSet<Fingerprint>>),
    /// Any well-formed self-signed certificate (inbound, open listener).
    Any,
}

/// Checks a peer certificate: well formed, self-signed, in its validity period, key accepted.
///
/// # Errors
/// A rustls error naming what was wrong (it becomes the TLS alert and our log line).
pub fn check_cert(
    cert: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    accept: &Accept,
    algs: &WebPkiSupportedAlgorithms,
    now: UnixTime,
    client: bool,
) -> Result<Fingerprint, rustls::Error> {
    if !intermediates.is_empty() {
        return Err(rustls::Error::General(
            "a Sluice peer sends one self-signed certificate, not a chain".into(),
        ));
    }
    let ee = webpki::EndEntityCert::try_from(cert)
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    let fp = Fingerprint::of_spki(ee.subject_public_key_info().as_ref());
    let ok = match accept {
        Accept::Key(want) => *want == fp,
        Accept::Pinned(set) => set.contains(&fp),
        Accept::Any => true,
    };
    if !ok {
        return Err(rustls::Error::InvalidCertificate(
            CertificateError::ApplicationVerificationFailure,
        ));
    }
    // The certificate is its own trust anchor: this checks its self-signature, validity
    // period and (if present) extended key usage.
    let anchor = webpki::anchor_from_trusted_cert(cert)
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    let usage = if client {
        webpki::KeyUsage::client_auth()
    } else {
        webpki::KeyUsage::server_auth()
    };
    ee.verify_for_usage(algs.all, &[anchor], &[], now, usage, None, None)
        .map_err(|e| match e {
            webpki::Error::CertExpired { .. } => {
                rustls::Error::InvalidCertificate(CertificateError::Expired)
            }
            webpki::Error::CertNotValidYet { .. } => {
                rustls::Error::InvalidCertificate(CertificateError::NotValidYet)
            }
            other => rustls::Error::InvalidCertificate(CertificateError::Other(
                rustls::OtherError(Arc::new(other)),
            )),
        })?;
    Ok(fp)
}

/// What both directions share: the accepted keys, the signature algorithms, the key usage.
#[derive(Debug)]
struct Pinning {
    accept: Accept,
    algs: WebPkiSupportedAlgorithms,
    client: bool,
}

impl Pinning {
    fn check(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<Fingerprint, rustls::Error> {
        check_cert(
            end_entity,
            intermediates,
            &self.accept,
            &self.algs,
            now,
            self.client,
        )
    }

    fn tls13(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// QUIC is TLS 1.3 only: a TLS 1.2 signature is refused in both directions.
fn tls12_refused() -> Result<HandshakeSignatureValid, rustls::Error> {
    Err(rustls::Error::PeerIncompatible(
        rustls::PeerIncompatible::Tls13RequiredForQuic,
    ))
}

/// Verifies servers we dial (outbound).
#[derive(Debug)]
pub struct ServerVerifier(Pinning);

impl ServerVerifier {
    /// Accepts exactly `key`.
    #[must_use]
    pub fn new(key: Fingerprint, provider: &CryptoProvider) -> Self {
        Self(Pinning {
            accept: Accept::Key(key),
            algs: provider.signature_verification_algorithms,
            client: false,
        })
    }
}

impl ServerCertVerifier for ServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.0.check(end_entity, intermediates, now)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        tls12_refused()
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.schemes()
    }
}

/// Verifies clients that dial us (inbound). A client certificate is mandatory.
#[derive(Debug)]
pub struct ClientVerifier(Pinning);

impl ClientVerifier {
    /// Accepts the pinned keys, or any key when `accept` is [`Accept::Any`].
    #[must_use]
    pub fn new(accept: Accept, provider: &CryptoProvider) -> Self {
        Self(Pinning {
            accept,
            algs: provider.signature_verification_algorithms,
            client: true,
        })
    }
}

impl ClientCertVerifier for ClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.0.check(end_entity, intermediates, now)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        tls12_refused()
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quic::identity::Identity;

    fn algs() -> WebPkiSupportedAlgorithms {
        rustls::crypto::ring::default_provider().signature_verification_algorithms
    }

    fn now() -> UnixTime {
        UnixTime::now()
    }

    #[test]
    fn pinned_key_accepted_others_refused() {
        let a = Identity::ephemeral().unwrap();
        let b = Identity::ephemeral().unwrap();
        let pin = Accept::Key(a.fingerprint());
        assert_eq!(
            check_cert(&a.cert(), &[], &pin, &algs(), now(), false).unwrap(),
            a.fingerprint()
        );
        assert!(check_cert(&b.cert(), &[], &pin, &algs(), now(), false).is_err());
        let set = Accept::Pinned(Arc::new([a.fingerprint()].into_iter().collect()));
        assert!(check_cert(&a.cert(), &[], &set, &algs(), now(), true).is_ok());
        assert!(check_cert(&b.cert(), &[], &set, &algs(), now(), true).is_err());
        assert!(check_cert(&b.cert(), &[], &Accept::Any, &algs(), now(), true).is_ok());
        // A chain is not what a Sluice peer sends.
        assert!(check_cert(&a.cert(), &[b.cert()], &pin, &algs(), now(), false).is_err());
    }

    #[test]
    fn expired_and_malformed_certificates_refused() {
        let a = Identity::ephemeral().unwrap();
        let expired = a.with_validity((2000, 1, 1), (2001, 1, 1)).unwrap();
        let pin = Accept::Key(a.fingerprint());
        assert_eq!(
            check_cert(&expired.cert(), &[], &pin, &algs(), now(), false),
            Err(rustls::Error::InvalidCertificate(CertificateError::Expired))
        );
        let future = a.with_validity((2999, 1, 1), (3001, 1, 1)).unwrap();
        assert_eq!(
            check_cert(&future.cert(), &[], &pin, &algs(), now(), false),
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidYet
            ))
        );
        let mut bytes = a.cert().to_vec();
        let n = bytes.len();
        bytes.truncate(n - 10);
        let broken = CertificateDer::from(bytes);
        assert!(check_cert(&broken, &[], &Accept::Any, &algs(), now(), false).is_err());
        // A flipped bit in the signature: parses, fails the self-signature.
        let mut bytes = a.cert().to_vec();
        bytes[n - 5] ^= 1;
        let forged = CertificateDer::from(bytes);
        assert!(check_cert(&forged, &[], &pin, &algs(), now(), false).is_err());
    }
}
