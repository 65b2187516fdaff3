#![allow(clippy::unwrap_used)]
use std::path::Path;

use serde_json::Value;

use super::*;

const SUBJECT: Subject<'static> = Subject {
    name: "sluice",
    version: "0.1.0",
    timestamp: "2026-12-02T00:00:00Z",
};

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// `cargo metadata --locked --offline` of this workspace, as the release script runs it.
fn workspace_metadata() -> String {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--locked", "--offline", "--format-version", "1"])
        .current_dir(workspace_root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The CycloneDX 1.5 fields and types a consumer relies on (the parts of the schema we use).
fn check_shape(bom: &Value) {
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.5");
    assert_eq!(bom["version"], 1);
    let serial = bom["serialNumber"].as_str().unwrap();
    let uuid = serial.strip_prefix("urn:uuid:").unwrap();
    let groups: Vec<usize> = uuid.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12], "{serial}");
    assert!(uuid
        .chars()
        .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    assert!(bom["metadata"]["timestamp"].is_string());
    assert!(bom["metadata"]["component"]["name"].is_string());
    let refs: BTreeSet<&str> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert!(["library", "application"].contains(&c["type"].as_str().unwrap()));
            for f in ["bom-ref", "name", "version", "purl"] {
                assert!(c[f].is_string(), "{f} in {c}");
            }
            assert!(c["purl"].as_str().unwrap().starts_with("pkg:cargo/"));
            for l in c["licenses"].as_array().unwrap() {
                // Each entry is exactly one of an expression or a license object.
                assert!(
                    l["expression"].is_string() != l["license"].is_object(),
                    "{l}"
                );
            }
            for h in c["hashes"].as_array().map_or(&[][..], Vec::as_slice) {
                assert_eq!(h["alg"], "SHA-256");
                let content = h["content"].as_str().unwrap();
                assert!(content.len() == 64 && hex::decode(content).is_ok());
            }
            c["bom-ref"].as_str().unwrap()
        })
        .collect();
    for d in bom["dependencies"].as_array().unwrap() {
        assert!(refs.contains(d["ref"].as_str().unwrap()), "{d}");
        for on in d["dependsOn"].as_array().unwrap() {
            assert!(refs.contains(on.as_str().unwrap()), "dangling {on}");
        }
    }
}

/// Every package of this workspace's real lock file is in the SBOM with its version, licence
/// and (registry packages) the lock file's checksum; the JSON has CycloneDX's shape; the output
/// does not depend on where the checkout is.
#[test]
fn every_lock_file_package_is_a_component() {
    let lock_text = std::fs::read_to_string(workspace_root().join("Cargo.lock")).unwrap();
    let meta = workspace_metadata();
    let out = cyclonedx(&meta, &lock_text, &SUBJECT).unwrap();
    let bom: Value = serde_json::from_str(&out).unwrap();
    check_shape(&bom);
    let lock: Lock = toml::from_str(&lock_text).unwrap();
    let comps = bom["components"].as_array().unwrap();
    assert_eq!(comps.len(), lock.package.len());
    for p in &lock.package {
        let c = comps
            .iter()
            .find(|c| c["name"] == p.name.as_str() && c["version"] == p.version.as_str())
            .unwrap_or_else(|| panic!("{} {} missing", p.name, p.version));
        assert!(!c["licenses"].as_array().unwrap().is_empty());
        match &p.checksum {
            Some(sum) => assert_eq!(c["hashes"][0]["content"], sum.as_str(), "{}", p.name),
            None => assert!(c.get("hashes").is_none(), "{}", p.name),
        }
    }
    // Known licences, as cargo metadata reports them.
    let sha2 = comps.iter().find(|c| c["name"] == "sha2").unwrap();
    assert_eq!(sha2["licenses"][0]["expression"], "MIT OR Apache-2.0");
    let node = comps.iter().find(|c| c["name"] == "sluice-node").unwrap();
    assert_eq!(node["type"], "application");
    assert_eq!(node["licenses"][0]["expression"], "MIT");
    // sluice-node depends on sluice-consensus in the graph.
    let deps = bom["dependencies"].as_array().unwrap();
    let node_deps = deps.iter().find(|d| d["ref"] == node["bom-ref"]).unwrap();
    assert!(node_deps["dependsOn"].as_array().unwrap().iter().any(|r| r
        .as_str()
        .unwrap()
        .starts_with("pkg:cargo/sluice-consensus@")));
    // No absolute path of this checkout leaks into the SBOM (it would break reproducibility).
    let root = workspace_root().to_str().unwrap();
    assert!(!out.contains(root), "checkout path {root} in the SBOM");
    // Same inputs, same bytes.
    assert_eq!(cyclonedx(&meta, &lock_text, &SUBJECT).unwrap(), out);
}

const LOCK: &str = r#"
version = 4

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["dep"]

[[package]]
name = "dep"
version = "1.2.3"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "0101010101010101010101010101010101010101010101010101010101010101"
"#;

fn meta(dep_license: &str) -> String {
    let reg = "registry+https://github.com/rust-lang/crates.io-index";
    json!({
        "packages": [
            { "id": "path+file:///x/app#0.1.0", "name": "app", "version": "0.1.0",
              "license": "MIT", "license_file": null, "source": null, "description": null },
            { "id": format!("{reg}#dep@1.2.3"), "name": "dep", "version": "1.2.3",
              "license": dep_license, "license_file": null, "source": reg,
              "description": "a dep" },
        ],
        "workspace_members": ["path+file:///x/app#0.1.0"],
        "resolve": { "nodes": [
            { "id": "path+file:///x/app#0.1.0", "dependencies": [format!("{reg}#dep@1.2.3")] },
            { "id": format!("{reg}#dep@1.2.3"), "dependencies": [] },
        ]},
    })
    .to_string()
}

#[test]
fn old_licence_spelling_becomes_spdx() {
    let out = cyclonedx(&meta("MIT/Apache-2.0"), LOCK, &SUBJECT).unwrap();
    let bom: Value = serde_json::from_str(&out).unwrap();
    check_shape(&bom);
    let dep = &bom["components"][1];
    assert_eq!(dep["licenses"][0]["expression"], "MIT OR Apache-2.0");
    assert_eq!(dep["purl"], "pkg:cargo/dep@1.2.3");
    assert_eq!(
        bom["dependencies"][0]["dependsOn"][0],
        "pkg:cargo/dep@1.2.3"
    );
}

#[test]
fn inputs_that_disagree_are_errors() {
    // A lock-file package cargo metadata does not list.
    let extra = format!(
        "{LOCK}\n[[package]]\nname = \"ghost\"\nversion = \"9.9.9\"\n\
         source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\
         checksum = \"{}\"\n",
        "02".repeat(32)
    );
    assert!(matches!(
        cyclonedx(&meta("MIT"), &extra, &SUBJECT),
        Err(SbomError::Mismatch { name, present: "Cargo.lock", .. }) if name == "ghost"
    ));
    // A registry package without its checksum.
    let unsummed = LOCK.replace(
        "checksum = \"0101010101010101010101010101010101010101010101010101010101010101\"\n",
        "",
    );
    assert!(matches!(
        cyclonedx(&meta("MIT"), &unsummed, &SUBJECT),
        Err(SbomError::NoChecksum { name, .. }) if name == "dep"
    ));
    // A metadata package the lock file lacks.
    let short = LOCK.split("[[package]]\nname = \"dep\"").next().unwrap();
    assert!(matches!(
        cyclonedx(&meta("MIT"), short, &SUBJECT),
        Err(SbomError::Mismatch {
            present: "cargo metadata",
            ..
        })
    ));
    assert!(matches!(
        cyclonedx("{", LOCK, &SUBJECT),
        Err(SbomError::Metadata(_))
    ));
}
