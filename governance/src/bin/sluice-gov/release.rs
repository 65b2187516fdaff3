//! `log append|verify` and `release new|sign|verify|sbom`.

use std::path::Path;

use anyhow::{Context, Result};
use sluice_governance::approval::{Scope, Signed};
use sluice_governance::audit::{verify_log, LogHead};
use sluice_governance::hash::sha256;
use sluice_governance::keyring::RELEASE_TIER;
use sluice_governance::release::{check_release_path, Manifest, ReleaseFile};
use sluice_governance::repo::{embedded_trusted, read_limited, MAX_GOV_FILE};
use sluice_governance::sbom::{cyclonedx, Subject};
use sluice_governance::time::parse_duration;
use sluice_governance::{verify_release, Timestamp};

use crate::common::{
    log_event, read_optional, trusted, unlock_as, warn_if_test, write_new, write_replace,
};
use crate::KeyArgs;

pub fn log_append(log: &Path, body: &str) -> Result<()> {
    log_event(Some(log), body)
}

pub fn log_verify(log: &Path, head: Option<&str>) -> Result<()> {
    let expect = head.map(LogHead::parse).transpose()?;
    let text = read_optional(log)?.with_context(|| format!("{} does not exist", log.display()))?;
    match verify_log(&text, expect.as_ref())
        .with_context(|| format!("audit log {}", log.display()))?
    {
        Some(h) => println!("log intact, head {h}"),
        None => println!("log intact, empty"),
    }
    Ok(())
}

pub fn new(
    out: &Path,
    channel: &str,
    release: &str,
    proposed_at: Option<&str>,
    files: &[String],
    now: Timestamp,
) -> Result<()> {
    let dir = out.parent().unwrap_or(Path::new("."));
    let files = files
        .iter()
        .map(|f| {
            check_release_path(f)?;
            let bytes = read_limited(&dir.join(f), 1 << 30)?;
            Ok(ReleaseFile {
                path: f.clone(),
                sha256: sha256(&bytes),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let proposed_at = proposed_at
        .map(Timestamp::parse)
        .transpose()?
        .unwrap_or(now);
    let m = Manifest {
        channel: channel.into(),
        release: release.into(),
        proposed_at,
        files,
        signatures: vec![],
    };
    // Round-trip through the parser so a manifest that could not be read back is never written.
    Manifest::parse(m.to_toml().as_bytes())?;
    write_new(out, m.to_toml().as_bytes())?;
    println!("{}", out.display());
    Ok(())
}

pub fn sign(
    manifest: &Path,
    keyrings: &Path,
    key: &KeyArgs,
    valid_for: &str,
    log: Option<&Path>,
    now: Timestamp,
) -> Result<()> {
    let t = trusted(keyrings, now)?;
    let mut m = Manifest::parse(&read_limited(manifest, MAX_GOV_FILE)?)?;
    let signer = unlock_as(key, &t)?;
    let expires = now.plus(parse_duration(valid_for)?);
    let channel = m.channel.clone();
    let msg = m.message(
        &Scope::of(t.keyring(), &channel),
        RELEASE_TIER,
        now,
        expires,
    );
    m.signatures.retain(|s| s.signer != key.signer);
    m.signatures.push(Signed {
        signer: key.signer.clone(),
        signed_at: now,
        expires,
        signature: signer.sign(&msg),
    });
    write_replace(manifest, m.to_toml().as_bytes())?;
    println!(
        "{} signatures in {}",
        m.signatures.len(),
        manifest.display()
    );
    log_event(
        log,
        &format!(
            "release {} ({}) signed by {}",
            m.release, m.channel, key.signer
        ),
    )
}

pub fn verify(manifest: &Path, keyrings: Option<&Path>, now: Timestamp) -> Result<()> {
    let t = match keyrings {
        Some(dir) => trusted(dir, now)?,
        None => {
            let t = embedded_trusted(now)?;
            warn_if_test(&t);
            t
        }
    };
    let r = verify_release(manifest, &t, now)
        .with_context(|| format!("release manifest {}", manifest.display()))?;
    println!(
        "release {} ({}) verified: {} files, signed by {}",
        r.release,
        r.channel,
        r.files.len(),
        r.signers.join(", ")
    );
    Ok(())
}

pub fn sbom(
    metadata: &Path,
    lock: &Path,
    name: &str,
    release: &str,
    out: &Path,
    now: Timestamp,
) -> Result<()> {
    let read = |p: &Path| -> Result<String> {
        String::from_utf8(read_limited(p, 64 << 20)?)
            .with_context(|| format!("{} is not UTF-8", p.display()))
    };
    let timestamp = now.to_string();
    let subject = Subject {
        name,
        version: release,
        timestamp: &timestamp,
    };
    let json = cyclonedx(&read(metadata)?, &read(lock)?, &subject)?;
    write_new(out, json.as_bytes())?;
    println!("{}", out.display());
    Ok(())
}
