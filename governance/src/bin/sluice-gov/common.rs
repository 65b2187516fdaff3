//! Helpers the commands share: the clock, passwords, keys, trusted keyrings, safe writes.

use std::io::{BufRead, Read, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use sluice_governance::audit::append_line;
use sluice_governance::keys::SigningKey;
use sluice_governance::repo::{load_trusted, read_limited, MAX_GOV_FILE};
use sluice_governance::{Timestamp, TrustedKeyring};
use zeroize::Zeroizing;

use crate::KeyArgs;

/// `--now`, or the system clock.
pub fn now(flag: Option<&str>) -> Result<Timestamp> {
    match flag {
        Some(s) => {
            let t = Timestamp::parse(s)?;
            tracing::warn!(%t, "using --now instead of the system clock");
            Ok(t)
        }
        None => Ok(sluice_governance::now()),
    }
}

/// The first line of a password file (or of standard input for `-`), wiped on drop.
pub fn read_password(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    // Capacity reserved up front so the buffer never reallocates and leaves a copy behind.
    let mut raw = Zeroizing::new(Vec::with_capacity(4097));
    if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(4096)
            .read_until(b'\n', &mut raw)
            .context("reading the password from stdin")?;
    } else {
        std::fs::File::open(path)
            .and_then(|f| f.take(4096).read_to_end(&mut raw))
            .with_context(|| format!("reading {}", path.display()))?;
    }
    let line_len = raw.iter().position(|&b| b == b'\n').unwrap_or(raw.len());
    let line = &raw[..line_len];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        bail!("{}: empty password", path.display());
    }
    Ok(Zeroizing::new(line.to_vec()))
}

/// Decrypts a key file.
pub fn unlock(key: &Path, password_file: &Path) -> Result<SigningKey> {
    let password = read_password(password_file)?;
    let file = read_limited(key, 4096)?;
    SigningKey::decrypt(&file, &password).with_context(|| format!("unlocking {}", key.display()))
}

/// Decrypts the key and checks it is the one the keyring lists under `signer`.
pub fn unlock_as(args: &KeyArgs, trusted: &TrustedKeyring) -> Result<SigningKey> {
    let key = unlock(&args.key, &args.password_file)?;
    let listed = trusted
        .keyring()
        .maintainers
        .iter()
        .chain(&trusted.keyring().emergency.keyholders)
        .find(|m| m.id == args.signer)
        .with_context(|| {
            format!(
                "{} is not in keyring {}",
                args.signer,
                trusted.keyring().version
            )
        })?;
    if listed.key != key.public() {
        bail!(
            "{} is not the key the keyring lists for {}",
            args.key.display(),
            args.signer
        );
    }
    Ok(key)
}

/// The trusted keyring from `dir`, with a loud warning when it is a test keyring.
pub fn trusted(dir: &Path, now: Timestamp) -> Result<TrustedKeyring> {
    let t = load_trusted(dir, now).with_context(|| format!("keyrings in {}", dir.display()))?;
    warn_if_test(&t);
    Ok(t)
}

/// Test keyrings hold keys whose secrets are public: say so every time one is used.
pub fn warn_if_test(t: &TrustedKeyring) {
    if t.keyring().test_keyring {
        tracing::warn!(
            version = t.keyring().version,
            "TEST KEYRING: its secret keys are public, so its approvals prove nothing"
        );
    }
}

/// Writes `bytes` to a new file; refuses to overwrite.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

/// Replaces `path` with `bytes` through a temporary file and a rename, so a crash leaves the
/// old or the new contents, never half of one.
pub fn write_replace(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
}

/// Reads a governance file if it exists.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    if path.exists() {
        Ok(Some(read_limited(path, MAX_GOV_FILE)?))
    } else {
        Ok(None)
    }
}

/// Appends one entry to the audit log at `log` (after verifying it); prints the new head.
pub fn log_event(log: Option<&Path>, body: &str) -> Result<()> {
    let Some(log) = log else {
        return Ok(());
    };
    let existing = read_optional(log)?.unwrap_or_default();
    let (line, head) =
        append_line(&existing, body).with_context(|| format!("audit log {}", log.display()))?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("opening {}", log.display()))?;
    f.write_all(line.as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("appending to {}", log.display()))?;
    println!("log head {head}");
    Ok(())
}
