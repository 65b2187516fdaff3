//! The chain an IBD race syncs: an existing loadgen directory, or one generated into the work
//! directory (and reused there when a complete chain of the same spec is already present).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use sluice_loadgen::{generate, ChainSpec, Manifest};

/// Where the race's chain comes from.
#[derive(Debug, Clone)]
pub enum ChainSource {
    /// An existing loadgen output directory (regtest `blk?????.dat` + `manifest.json`).
    Dir(PathBuf),
    /// Generate this chain into the work directory.
    Generate(ChainSpec),
}

/// The directory name a generated chain gets inside the work directory.
#[must_use]
pub fn generated_dir_name(spec: &ChainSpec) -> String {
    format!(
        "chain-{}-{}blocks-{}wu-seed{}",
        spec.profile, spec.blocks, spec.target_weight, spec.seed
    )
}

/// Whether `dir` holds a complete chain generated from `spec` (loadgen writes `manifest.json`
/// last, so its presence means the block files are complete).
fn is_complete(dir: &Path, spec: &ChainSpec) -> bool {
    let Ok(text) = std::fs::read(dir.join("manifest.json")) else {
        return false;
    };
    serde_json::from_slice::<Manifest>(&text).is_ok_and(|m| {
        m.profile == spec.profile
            && m.seed == spec.seed
            && m.target_weight == spec.target_weight
            && m.tip_height == spec.blocks
    })
}

/// The chain directory to race on: `Dir` as given, `Generate` under `work`.
///
/// # Errors
/// A missing directory, or generation failing.
pub fn prepare(source: &ChainSource, work: &Path) -> anyhow::Result<PathBuf> {
    match source {
        ChainSource::Dir(dir) => {
            anyhow::ensure!(dir.is_dir(), "--chain {}: not a directory", dir.display());
            Ok(dir.clone())
        }
        ChainSource::Generate(spec) => {
            let dir = work.join(generated_dir_name(spec));
            if is_complete(&dir, spec) {
                tracing::info!(dir = %dir.display(), "reusing the generated chain");
                return Ok(dir);
            }
            if dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("removing incomplete chain {}", dir.display()))?;
            }
            tracing::info!(
                blocks = spec.blocks,
                profile = %spec.profile,
                weight = spec.target_weight,
                "generating the chain"
            );
            let manifest = generate(spec, &dir)
                .with_context(|| format!("generating the chain into {}", dir.display()))?;
            tracing::info!(tip = %manifest.tip_hash, "chain generated");
            Ok(dir)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_chain_is_reused_only_when_complete_and_equal() {
        let work = tempfile::tempdir().unwrap();
        let mut spec = ChainSpec::small("mainnet-mix", 3, 5);
        spec.target_weight = 8_000;
        let src = ChainSource::Generate(spec.clone());
        let dir = prepare(&src, work.path()).unwrap();
        assert!(is_complete(&dir, &spec));
        let stamp = std::fs::metadata(dir.join("manifest.json"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(prepare(&src, work.path()).unwrap(), dir);
        let again = std::fs::metadata(dir.join("manifest.json"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(stamp, again, "reused, not regenerated");
        let mut other = spec.clone();
        other.seed = 6;
        assert!(!is_complete(&dir, &other));
        // A chain whose manifest is missing (interrupted generation) is generated again.
        std::fs::remove_file(dir.join("manifest.json")).unwrap();
        assert!(!is_complete(&dir, &spec));
        prepare(&src, work.path()).unwrap();
        assert!(is_complete(&dir, &spec));
        assert!(prepare(&ChainSource::Dir(work.path().join("nope")), work.path()).is_err());
    }
}
