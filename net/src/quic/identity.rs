//! A node's QUIC identity: a persistent ed25519 key in the datadir, a self-signed certificate
//! derived from it at every start, and the key's fingerprint that peers pin.

use std::fmt;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// File name of the identity key inside the datadir (PKCS#8 DER, mode 0600).
pub const IDENTITY_FILE: &str = "quic_identity.key";

/// SHA-256 of a certificate's SubjectPublicKeyInfo (DER): what peers pin. Certificates can be
/// re-issued from the same key; the fingerprint stays.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of a DER SubjectPublicKeyInfo.
    #[must_use]
    pub fn of_spki(spki_der: &[u8]) -> Self {
        let d = ring::digest::digest(&ring::digest::SHA256, spki_der);
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        Self(out)
    }

    /// The fingerprint of the key a DER certificate carries.
    ///
    /// # Errors
    /// The certificate does not parse.
    pub fn of_cert(cert: &CertificateDer<'_>) -> Result<Self, webpki::Error> {
        let ee = webpki::EndEntityCert::try_from(cert)?;
        Ok(Self::of_spki(ee.subject_public_key_info().as_ref()))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// Why a fingerprint or pin did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    /// Not 64 hex digits.
    #[error("fingerprint {0:?} is not 64 hex digits")]
    Fingerprint(String),
    /// No `@` between fingerprint and address.
    #[error("quic peer {0:?} is not <fingerprint>@host:port")]
    Format(String),
}

impl FromStr for Fingerprint {
    type Err = PinError;
    fn from_str(s: &str) -> Result<Self, PinError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| PinError::Fingerprint(s.to_owned()))?;
        Ok(Self(out))
    }
}

/// A pinned peer as written in the config: `<fingerprint>@host:port` (the address is resolved
/// by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerPin {
    /// The key the peer must present.
    pub fingerprint: Fingerprint,
    /// `host:port` as written.
    pub address: String,
}

impl FromStr for PeerPin {
    type Err = PinError;
    fn from_str(s: &str) -> Result<Self, PinError> {
        let (fp, address) = s
            .split_once('@')
            .ok_or_else(|| PinError::Format(s.to_owned()))?;
        if address.is_empty() {
            return Err(PinError::Format(s.to_owned()));
        }
        Ok(Self {
            fingerprint: fp.parse()?,
            address: address.to_owned(),
        })
    }
}

/// A resolved pin: the key expected at an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedPin {
    /// The key.
    pub fingerprint: Fingerprint,
    /// Where we connect to it.
    pub addr: SocketAddr,
}

/// Why the identity could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Reading or writing the key file.
    #[error("identity key {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The key file does not hold an ed25519 PKCS#8 key.
    #[error("identity key {path}: not an ed25519 PKCS#8 key ({reason})")]
    BadKey {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },
    /// The key file is readable by others.
    #[error("identity key {path}: mode {mode:o} lets others read it (want 600)")]
    Mode {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Generating the key or certificate failed.
    #[error("generating the identity: {0}")]
    Generate(String),
}

/// A node's key and the certificate derived from it.
pub struct Identity {
    key_pkcs8: Vec<u8>,
    cert: CertificateDer<'static>,
    fingerprint: Fingerprint,
}

impl fmt::Debug for Identity {
    // The private key never reaches a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Self {
            key_pkcs8: self.key_pkcs8.clone(),
            cert: self.cert.clone(),
            fingerprint: self.fingerprint,
        }
    }
}

impl Identity {
    /// A fresh identity that lives only in memory (tests, throw-away nodes).
    ///
    /// # Errors
    /// Key generation failed.
    pub fn ephemeral() -> Result<Self, IdentityError> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519)
            .map_err(|e| IdentityError::Generate(e.to_string()))?;
        Self::from_key(&key)
    }

    /// Loads `<datadir>/quic_identity.key`, creating it (mode 0600) on first start.
    ///
    /// # Errors
    /// The file cannot be read or written, is readable by others, or holds no ed25519 key.
    pub fn load_or_create(datadir: &Path) -> Result<Self, IdentityError> {
        let path = datadir.join(IDENTITY_FILE);
        let io = |source| IdentityError::Io {
            path: path.clone(),
            source,
        };
        match std::fs::read(&path) {
            Ok(der) => {
                check_mode(&path)?;
                let pkcs8 = PrivatePkcs8KeyDer::from(der);
                let key =
                    rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_ED25519)
                        .map_err(|e| IdentityError::BadKey {
                            path: path.clone(),
                            reason: e.to_string(),
                        })?;
                Self::from_key(&key)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(datadir).map_err(io)?;
                let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519)
                    .map_err(|e| IdentityError::Generate(e.to_string()))?;
                write_private(&path, key.serialized_der()).map_err(io)?;
                tracing::info!(path = %path.display(), "created QUIC identity key");
                Self::from_key(&key)
            }
            Err(e) => Err(io(e)),
        }
    }

    fn from_key(key: &rcgen::KeyPair) -> Result<Self, IdentityError> {
        let cert = self_signed(key, None)?;
        Ok(Self {
            key_pkcs8: key.serialized_der().to_vec(),
            fingerprint: Fingerprint::of_spki(&key.public_key_der()),
            cert,
        })
    }

    /// The key's fingerprint (what `sluice quic-id` prints and peers pin).
    #[must_use]
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// The self-signed certificate presented in TLS.
    #[must_use]
    pub fn cert(&self) -> CertificateDer<'static> {
        self.cert.clone()
    }

    /// The private key for rustls.
    #[must_use]
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_pkcs8.clone()))
    }

    /// The same key with a certificate whose validity is `not_before..not_after` (tests of
    /// expiry checks).
    ///
    /// # Errors
    /// Certificate generation failed.
    pub fn with_validity(
        &self,
        not_before: (i32, u8, u8),
        not_after: (i32, u8, u8),
    ) -> Result<Self, IdentityError> {
        let pkcs8 = PrivatePkcs8KeyDer::from(self.key_pkcs8.clone());
        let key = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_ED25519)
            .map_err(|e| IdentityError::Generate(e.to_string()))?;
        Ok(Self {
            cert: self_signed(&key, Some((not_before, not_after)))?,
            ..self.clone()
        })
    }

    /// The same key presenting arbitrary certificate bytes (tests of malformed certificates).
    #[must_use]
    pub fn with_raw_cert(&self, der: Vec<u8>) -> Self {
        Self {
            cert: CertificateDer::from(der),
            ..self.clone()
        }
    }
}

type Ymd = (i32, u8, u8);

fn self_signed(
    key: &rcgen::KeyPair,
    validity: Option<(Ymd, Ymd)>,
) -> Result<CertificateDer<'static>, IdentityError> {
    let mut params = rcgen::CertificateParams::new(vec!["sluice".to_owned()])
        .map_err(|e| IdentityError::Generate(e.to_string()))?;
    if let Some(((y0, m0, d0), (y1, m1, d1))) = validity {
        params.not_before = rcgen::date_time_ymd(y0, m0, d0);
        params.not_after = rcgen::date_time_ymd(y1, m1, d1);
    }
    let cert = params
        .self_signed(key)
        .map_err(|e| IdentityError::Generate(e.to_string()))?;
    Ok(cert.der().clone())
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    // create_new: never overwrite a key another process just created.
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(unix)]
fn check_mode(path: &Path) -> Result<(), IdentityError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|source| IdentityError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(IdentityError::Mode {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_path: &Path) -> Result<(), IdentityError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_with_mode_0600_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let a = Identity::load_or_create(dir.path()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(IDENTITY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let b = Identity::load_or_create(dir.path()).unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint(), "same key on restart");
        // The fingerprint is the one a peer computes from the certificate.
        assert_eq!(Fingerprint::of_cert(&b.cert()).unwrap(), a.fingerprint());
        assert_ne!(
            Identity::ephemeral().unwrap().fingerprint(),
            a.fingerprint()
        );
        let shown = format!("{a:?}");
        assert!(shown.contains(&a.fingerprint().to_string()));
        assert!(
            !shown.contains(&format!("{:?}", a.key_pkcs8)),
            "no key in Debug"
        );
    }

    #[cfg(unix)]
    #[test]
    fn readable_key_and_garbage_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        Identity::load_or_create(dir.path()).unwrap();
        let path = dir.path().join(IDENTITY_FILE);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            Identity::load_or_create(dir.path()),
            Err(IdentityError::Mode { mode: 0o644, .. })
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&path, b"not a key").unwrap();
        assert!(matches!(
            Identity::load_or_create(dir.path()),
            Err(IdentityError::BadKey { .. })
        ));
    }

    #[test]
    fn pins_parse() {
        let id = Identity::ephemeral().unwrap();
        let pin: PeerPin = format!("{}@127.0.0.1:8444", id.fingerprint())
            .parse()
            .unwrap();
        assert_eq!(pin.fingerprint, id.fingerprint());
        assert_eq!(pin.address, "127.0.0.1:8444");
        assert!("abcd@1.2.3.4:1".parse::<PeerPin>().is_err());
        assert!(format!("{}", id.fingerprint()).parse::<PeerPin>().is_err());
        assert!(format!("{}@", id.fingerprint()).parse::<PeerPin>().is_err());
    }
}
