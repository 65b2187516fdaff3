//! A CycloneDX 1.5 JSON SBOM from the lock file, for release builds.
//!
//! Input: the output of `cargo metadata --locked --format-version 1` (names, versions,
//! licences, sources and the resolved dependency graph) and `Cargo.lock` (the SHA-256 of
//! every registry package, which `cargo metadata` does not give). Output: deterministic JSON
//! (no clock read, serial number derived from the inputs), so two builds of one tree produce
//! byte-identical SBOMs. Every package of the lock file is a component; a lock-file package
//! missing from the metadata, or the reverse, is an error rather than a silent gap.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::json;

use crate::hash::sha256;

/// What went wrong reading the inputs.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    /// `cargo metadata` JSON did not parse.
    #[error("cargo metadata: {0}")]
    Metadata(#[from] serde_json::Error),
    /// `Cargo.lock` did not parse.
    #[error("Cargo.lock: {0}")]
    Lock(#[from] toml::de::Error),
    /// The two inputs describe different package sets.
    #[error("{name} {version}: in {present} but not in {missing}")]
    Mismatch {
        /// Package name.
        name: String,
        /// Package version.
        version: String,
        /// The input that lists it.
        present: &'static str,
        /// The input that does not.
        missing: &'static str,
    },
    /// A registry package without a checksum in the lock file.
    #[error("{name} {version}: registry package without a checksum in Cargo.lock")]
    NoChecksum {
        /// Package name.
        name: String,
        /// Package version.
        version: String,
    },
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<MetaPackage>,
    resolve: Option<Resolve>,
    workspace_members: Vec<String>,
}

#[derive(Deserialize)]
struct MetaPackage {
    id: String,
    name: String,
    version: String,
    license: Option<String>,
    license_file: Option<String>,
    source: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
struct Resolve {
    nodes: Vec<ResolveNode>,
}

#[derive(Deserialize)]
struct ResolveNode {
    id: String,
    dependencies: Vec<String>,
}

#[derive(Deserialize)]
struct Lock {
    package: Vec<LockPackage>,
}

#[derive(Deserialize)]
struct LockPackage {
    name: String,
    version: String,
    source: Option<String>,
    checksum: Option<String>,
}

/// What the release names about itself (the SBOM's `metadata.component`).
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    /// Component name (e.g. `sluice`).
    pub name: &'a str,
    /// Release name (e.g. `0.1.0`).
    pub version: &'a str,
    /// RFC 3339 time written as `metadata.timestamp` (from `SOURCE_DATE_EPOCH`, not the clock).
    pub timestamp: &'a str,
}

/// Cargo's old `MIT/Apache-2.0` spelling is not an SPDX expression; `/` meant OR.
fn spdx_expression(license: &str) -> String {
    license
        .split('/')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" OR ")
}

fn purl(name: &str, version: &str, source: Option<&str>) -> String {
    match source {
        Some(s) if s.starts_with("registry+https://github.com/rust-lang/crates.io-index") => {
            format!("pkg:cargo/{name}@{version}")
        }
        // Path (workspace) and other sources: still cargo packages, marked as not crates.io.
        Some(s) => format!(
            "pkg:cargo/{name}@{version}?repository_url={}",
            s.replace(' ', "%20")
        ),
        None => format!("pkg:cargo/{name}@{version}?workspace=true"),
    }
}

/// The SBOM, as pretty-printed JSON with a trailing newline.
///
/// # Errors
/// Either input does not parse, they list different packages, or a registry package has no
/// checksum.
pub fn cyclonedx(
    metadata: &str,
    lock_text: &str,
    subject: &Subject<'_>,
) -> Result<String, SbomError> {
    let meta: Metadata = serde_json::from_str(metadata)?;
    let lock: Lock = toml::from_str(lock_text)?;
    let key =
        |n: &str, v: &str, s: Option<&str>| (n.to_owned(), v.to_owned(), s.map(str::to_owned));
    let mut checksums = BTreeMap::new();
    for p in &lock.package {
        checksums.insert(
            key(&p.name, &p.version, p.source.as_deref()),
            p.checksum.clone(),
        );
    }
    let mut seen = BTreeSet::new();
    let mut components = Vec::with_capacity(meta.packages.len());
    let mut bom_ref = BTreeMap::new();
    let mut sorted: Vec<&MetaPackage> = meta.packages.iter().collect();
    sorted.sort_by(|a, b| (&a.name, &a.version, &a.id).cmp(&(&b.name, &b.version, &b.id)));
    for p in sorted {
        let k = key(&p.name, &p.version, p.source.as_deref());
        let Some(checksum) = checksums.get(&k) else {
            return Err(SbomError::Mismatch {
                name: p.name.clone(),
                version: p.version.clone(),
                present: "cargo metadata",
                missing: "Cargo.lock",
            });
        };
        seen.insert(k);
        let r = purl(&p.name, &p.version, p.source.as_deref());
        bom_ref.insert(p.id.clone(), r.clone());
        let mut c = json!({
            "type": if meta.workspace_members.contains(&p.id) { "application" } else { "library" },
            "bom-ref": r,
            "name": p.name,
            "version": p.version,
            "purl": r,
        });
        if let Some(d) = &p.description {
            c["description"] = json!(d.trim());
        }
        c["licenses"] = match (&p.license, &p.license_file) {
            (Some(l), _) => json!([{ "expression": spdx_expression(l) }]),
            (None, Some(f)) => json!([{ "license": { "name": format!("see {f}") } }]),
            (None, None) => json!([{ "license": { "name": "NOASSERTION" } }]),
        };
        match (checksum, &p.source) {
            (Some(sum), _) => c["hashes"] = json!([{ "alg": "SHA-256", "content": sum }]),
            (None, Some(s)) if s.starts_with("registry+") => {
                return Err(SbomError::NoChecksum {
                    name: p.name.clone(),
                    version: p.version.clone(),
                })
            }
            // Path and git packages have no registry checksum; the source tree pins them.
            (None, _) => {}
        }
        components.push(c);
    }
    if let Some(missing) = checksums.keys().find(|k| !seen.contains(*k)) {
        return Err(SbomError::Mismatch {
            name: missing.0.clone(),
            version: missing.1.clone(),
            present: "Cargo.lock",
            missing: "cargo metadata",
        });
    }
    let mut dependencies = Vec::new();
    if let Some(resolve) = &meta.resolve {
        let mut nodes: Vec<&ResolveNode> = resolve.nodes.iter().collect();
        nodes.sort_by(|a, b| bom_ref.get(&a.id).cmp(&bom_ref.get(&b.id)));
        for n in nodes {
            let Some(r) = bom_ref.get(&n.id) else {
                continue;
            };
            let on: BTreeSet<&String> = n
                .dependencies
                .iter()
                .filter_map(|d| bom_ref.get(d))
                .collect();
            dependencies.push(json!({ "ref": r, "dependsOn": on }));
        }
    }
    // The serial number is a UUID (version 5 layout) from a hash of both inputs: the same lock
    // file and release give the same SBOM, byte for byte.
    // (Not the metadata: it holds the checkout's absolute paths.)
    let mut h = sha256(format!("{}\0{}\0{lock_text}", subject.name, subject.version).as_bytes());
    h[6] = (h[6] & 0x0f) | 0x50;
    h[8] = (h[8] & 0x3f) | 0x80;
    let u = hex::encode(&h[..16]);
    let serial = format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &u[0..8],
        &u[8..12],
        &u[12..16],
        &u[16..20],
        &u[20..32]
    );
    let bom = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": serial,
        "version": 1,
        "metadata": {
            "timestamp": subject.timestamp,
            "tools": { "components": [{ "type": "application", "name": "sluice-gov release sbom" }] },
            "component": {
                "type": "application",
                "bom-ref": format!("release:{}@{}", subject.name, subject.version),
                "name": subject.name,
                "version": subject.version,
            },
        },
        "components": components,
        "dependencies": dependencies,
    });
    let mut out = serde_json::to_string_pretty(&bom)?;
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
#[path = "sbom_tests.rs"]
mod tests;
