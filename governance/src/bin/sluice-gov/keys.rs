//! `keygen`, `pubkey`, `keyring digest|verify`, `rotate`.

use std::path::Path;

use anyhow::{bail, Context, Result};
use sluice_governance::keyring::{keyring_digest, Keyring};
use sluice_governance::keys::{KdfParams, SigningKey};
use sluice_governance::repo::{load_keyring_files, read_limited, MAX_GOV_FILE};
use sluice_governance::rotation::{
    parse_rotation, rotation_message, rotation_toml, verify_chain, RotationSig, TrustState,
};
use sluice_governance::tree::keyring_file_version;
use sluice_governance::{pinned_root, Timestamp};

use crate::common::{
    log_event, read_optional, read_password, trusted, unlock, warn_if_test, write_new,
    write_replace,
};

pub fn keygen(out: &Path, password_file: &Path, memory_kib: u32) -> Result<()> {
    let password = read_password(password_file)?;
    let key = SigningKey::generate();
    let params = KdfParams {
        memory_kib,
        ..KdfParams::DEFAULT
    };
    let file = key.encrypt(&password, params)?;
    write_new(out, &file)?;
    println!("{}", hex::encode(key.public().to_byte_array()));
    tracing::info!(file = %out.display(), "key written");
    Ok(())
}

pub fn pubkey(key: &Path, password_file: &Path) -> Result<()> {
    println!(
        "{}",
        hex::encode(unlock(key, password_file)?.public().to_byte_array())
    );
    Ok(())
}

pub fn digest(file: &Path) -> Result<()> {
    let bytes = read_limited(file, MAX_GOV_FILE)?;
    // Parse too: printing the digest of a file that is not a valid keyring helps nobody.
    let kr = Keyring::parse(&bytes).with_context(|| file.display().to_string())?;
    println!("{}", keyring_digest(&bytes));
    tracing::info!(version = kr.version, "keyring parses");
    Ok(())
}

pub fn verify_keyrings(dir: &Path, state: Option<&Path>, now: Timestamp) -> Result<()> {
    let t = trusted(dir, now)?;
    check_state(state, &t)?;
    println!(
        "trusted keyring {} {}",
        t.keyring().version,
        t.keyring().digest
    );
    Ok(())
}

/// Checks (and then advances) the remembered newest keyring.
pub fn check_state(state: Option<&Path>, t: &sluice_governance::TrustedKeyring) -> Result<()> {
    let Some(path) = state else {
        return Ok(());
    };
    if let Some(bytes) = read_optional(path)? {
        let text = String::from_utf8(bytes).context("trust state is not UTF-8")?;
        TrustState::parse(&text)?.check(t)?;
    }
    write_replace(path, TrustState::of(t).to_text().as_bytes())
}

pub fn rotate(
    dir: &Path,
    new: &Path,
    key: &Path,
    password_file: &Path,
    log: Option<&Path>,
    now: Timestamp,
) -> Result<()> {
    let name = new.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let Some(version) = keyring_file_version(name) else {
        bail!("{} must be named keyring-N.toml", new.display());
    };
    let new_bytes = read_limited(new, MAX_GOV_FILE)?;
    let next = Keyring::parse(&new_bytes).with_context(|| new.display().to_string())?;
    if next.version != version {
        bail!("{} holds version {}", new.display(), next.version);
    }
    // The chain as trusted before this rotation: every keyring below the new version.
    let mut files = load_keyring_files(dir)?;
    files.retain(|f| Keyring::parse(&f.bytes).is_ok_and(|k| k.version < version));
    let t = verify_chain(&pinned_root(), &files, now)
        .with_context(|| format!("keyrings in {}", dir.display()))?;
    warn_if_test(&t);
    let cur = t.keyring();
    if cur.version + 1 != version || next.previous != Some(cur.digest) {
        bail!(
            "{} does not follow trusted keyring {} ({})",
            new.display(),
            cur.version,
            cur.digest
        );
    }
    let signer = unlock(key, password_file)?;
    let pk = signer.public();
    let known = cur
        .maintainers
        .iter()
        .chain(&next.maintainers)
        .any(|m| m.key == pk);
    if !known {
        bail!(
            "this key is in neither keyring {} nor keyring {version}",
            cur.version
        );
    }
    let msg = rotation_message(
        &cur.repository,
        version,
        &cur.digest,
        &keyring_digest(&new_bytes),
    );
    let sig_path = new.with_file_name(format!("keyring-{version}.sig.toml"));
    let mut sigs = match read_optional(&sig_path)? {
        Some(b) => parse_rotation(&b)?,
        None => Vec::new(),
    };
    sigs.retain(|s| s.key != pk);
    sigs.push(RotationSig {
        key: pk,
        signature: signer.sign(&msg),
    });
    write_replace(&sig_path, rotation_toml(&sigs).as_bytes())?;
    println!("{} signatures in {}", sigs.len(), sig_path.display());
    log_event(
        log,
        &format!(
            "rotate keyring {} -> {version} signed by {}",
            cur.version,
            hex::encode(pk.to_byte_array())
        ),
    )
}
