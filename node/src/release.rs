//! The release gate: with `release_manifest` configured, the node starts only from a release
//! whose manifest is signed by the release tier's threshold of maintainer keys (governance/) and
//! whose files are unchanged.

use anyhow::Context;
use sluice_governance::repo::{embedded_trusted, load_trusted};
use sluice_governance::{verify_release, Timestamp};

use crate::config::NodeConfig;

/// Checks the configured release manifest at time `now`; `Ok` when none is configured.
///
/// # Errors
/// The keyrings or the manifest do not verify: the node must not start.
pub fn check(cfg: &NodeConfig, now: Timestamp) -> anyhow::Result<()> {
    let Some(manifest) = &cfg.release_manifest else {
        return Ok(());
    };
    let trusted = match &cfg.governance_keyrings {
        Some(dir) => load_trusted(dir, now)
            .with_context(|| format!("governance keyrings in {}", dir.display()))?,
        None => embedded_trusted(now).context("the built-in governance keyring")?,
    };
    if trusted.keyring().test_keyring {
        tracing::warn!("release manifest checked against a TEST keyring");
    }
    let release = verify_release(manifest, &trusted, now)
        .with_context(|| format!("refusing to start: release manifest {}", manifest.display()))?;
    tracing::info!(
        "release {} ({}) verified, signed by {:?}",
        release.release,
        release.channel,
        release.signers
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::path::{Path, PathBuf};

    use sluice_governance::approval::{Scope, Signed};
    use sluice_governance::hash::sha256;
    use sluice_governance::keyring::RELEASE_TIER;
    use sluice_governance::keys::SigningKey;
    use sluice_governance::release::{Manifest, ReleaseFile};

    use super::*;

    fn gov_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../governance")
    }

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    /// A manifest of one file signed by the named TEST keys (see governance/test-keys).
    fn manifest(dir: &Path, signers: &[&str]) -> PathBuf {
        std::fs::write(dir.join("sluice"), b"pretend node binary").unwrap();
        let mut m = Manifest {
            channel: "stable".into(),
            release: "0.1.0".into(),
            proposed_at: ts("2026-11-01T00:00:00Z"),
            files: vec![ReleaseFile {
                path: "sluice".into(),
                sha256: sha256(b"pretend node binary"),
            }],
            signatures: vec![],
        };
        let trusted =
            load_trusted(&gov_dir().join("keyrings"), ts("2026-12-01T00:00:00Z")).unwrap();
        let (signed_at, expires) = (ts("2026-12-01T00:00:00Z"), ts("2030-01-01T00:00:00Z"));
        for name in signers {
            let file = std::fs::read(gov_dir().join(format!("test-keys/test-{name}.key"))).unwrap();
            let key = SigningKey::decrypt(
                &file,
                format!("TEST-ONLY password of test-{name}").as_bytes(),
            )
            .unwrap();
            let msg = m.message(
                &Scope::of(trusted.keyring(), "stable"),
                RELEASE_TIER,
                signed_at,
                expires,
            );
            m.signatures.push(Signed {
                signer: format!("test-{name}"),
                signed_at,
                expires,
                signature: key.sign(&msg),
            });
        }
        let path = dir.join("release.toml");
        std::fs::write(&path, m.to_toml()).unwrap();
        path
    }

    #[test]
    fn the_node_starts_only_from_a_release_signed_at_the_threshold() {
        let dir = tempfile::tempdir().unwrap();
        let now = ts("2027-01-01T00:00:00Z");
        let mut cfg = NodeConfig {
            governance_keyrings: Some(gov_dir().join("keyrings")),
            ..NodeConfig::default()
        };
        assert!(check(&cfg, now).is_ok(), "no manifest configured: no gate");
        cfg.release_manifest = Some(manifest(dir.path(), &["alice"]));
        let err = format!("{:#}", check(&cfg, now).unwrap_err());
        assert!(err.contains("refusing to start"), "{err}");
        cfg.release_manifest = Some(manifest(dir.path(), &["alice", "erin"]));
        check(&cfg, now).unwrap();
        // A listed file changed after signing: refused.
        std::fs::write(dir.path().join("sluice"), b"trojan").unwrap();
        assert!(check(&cfg, now).is_err());
    }
}
