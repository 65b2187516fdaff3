//! The bitcoind side of an IBD race: the seed that loads and serves the chain, and a fresh
//! bitcoind syncing from it, followed over JSON-RPC.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{json, Value};
use sluice_bitcoind::Bitcoind;

use super::report::{Engine, SeedInfo, SyncRun};
use super::Limits;
use crate::engine::Tip;
use crate::usage::Usage;

/// The settings of a bitcoind under test, after the harness's own (later arguments win).
#[must_use]
pub fn args(seed: SocketAddr, threads: usize, cache_mb: usize, v2: bool) -> Vec<String> {
    vec![
        format!("-connect={seed}"),
        format!("-par={threads}"),
        format!("-dbcache={cache_mb}"),
        "-assumevalid=0".into(),
        format!("-v2transport={}", u8::from(v2)),
        // Core's default: the node is in initial block download until its tip is recent, as
        // in a real IBD (the harness raises it so that a seed with 2011 timestamps serves).
        "-maxtipage=86400".into(),
    ]
}

/// A node's `(height, hash)` from a `waitforblockheight` answer.
fn tip_of(v: &Value) -> anyhow::Result<(u32, String)> {
    let height = v
        .get("height")
        .and_then(Value::as_u64)
        .and_then(|h| u32::try_from(h).ok())
        .with_context(|| format!("no height in {v}"))?;
    let hash = v
        .get("hash")
        .and_then(Value::as_str)
        .with_context(|| format!("no hash in {v}"))?;
    Ok((height, hash.to_owned()))
}

/// Follows `node` until it has `target` blocks: `waitforblockheight` with an `every` timeout
/// returns the tip at least that often, and at once when the target arrives. Calls
/// `sample(seconds since t0, height)` for every answer. Returns the seconds at which the
/// target height was seen and the tip hash then.
///
/// # Errors
/// RPC failures, no progress for `limits.stall()`, or the target not reached in
/// `limits.run()`.
pub fn follow(
    node: &Bitcoind,
    target: u32,
    t0: Instant,
    every: Duration,
    limits: &Limits,
    mut sample: impl FnMut(f64, u32),
) -> anyhow::Result<(f64, String)> {
    let wait_ms = u64::try_from(every.as_millis()).unwrap_or(u64::MAX).max(1);
    let mut last = (0u32, Instant::now());
    loop {
        // The answer can take much longer than `every`: the RPC takes cs_main, which the
        // validation thread holds while it connects a block, and may get it late while blocks
        // keep connecting (seen for tens of seconds in -loadblock of full blocks). A slow
        // answer is only a sparser sample; no answer for the stall limit is a failure.
        let v = node
            .rpc_with_timeout(
                "waitforblockheight",
                &json!([target, wait_ms]),
                every + limits.stall(),
            )
            .context("waitforblockheight")?;
        let t = t0.elapsed();
        let (height, hash) = tip_of(&v)?;
        sample(t.as_secs_f64(), height);
        if height >= target {
            return Ok((t.as_secs_f64(), hash));
        }
        if height != last.0 {
            last = (height, Instant::now());
        }
        anyhow::ensure!(
            last.1.elapsed() < limits.stall(),
            "bitcoind made no progress for {:?} at height {height} of {target}",
            limits.stall()
        );
        anyhow::ensure!(
            t < limits.run(),
            "bitcoind reached only height {height} of {target} in {:?}",
            limits.run()
        );
    }
}

/// A running seed and what it serves.
#[derive(Debug)]
pub struct Seed {
    pub node: Bitcoind,
    pub info: SeedInfo,
}

/// Starts the seed on the chain's block files, waits until it has loaded `tip` and reads its
/// MuHash. `progress(height)` is called while it loads.
///
/// # Errors
/// bitcoind failing to start or load, or ending on another tip than `tip`.
pub fn seed(
    chain: &Path,
    tip: &Tip,
    work: &Path,
    limits: &Limits,
    progress: impl FnMut(f64, u32),
) -> anyhow::Result<Seed> {
    let args = Bitcoind::loadblocks(chain)
        .with_context(|| format!("listing block files in {}", chain.display()))?;
    anyhow::ensure!(!args.is_empty(), "no block files in {}", chain.display());
    let t0 = Instant::now();
    let node = Bitcoind::try_start_in(Some(work), &args)?;
    let target = u32::try_from(tip.height).context("tip height")?;
    let (load_s, hash) = follow(&node, target, t0, Duration::from_secs(1), limits, progress)
        .context("seed loading the chain")?;
    anyhow::ensure!(
        hash == tip.hash,
        "the seed loaded tip {hash} at height {}, the chain's tip is {}",
        tip.height,
        tip.hash
    );
    let info = node.rpc_with_timeout("gettxoutsetinfo", &json!(["muhash"]), limits.run())?;
    let muhash = info
        .get("muhash")
        .and_then(Value::as_str)
        .with_context(|| format!("no muhash in {info}"))?
        .to_owned();
    let info = SeedInfo {
        tip: tip.clone(),
        muhash,
        load_s,
        p2p: node.p2p.to_string(),
    };
    Ok(Seed { node, info })
}

/// One fresh bitcoind syncing from the seed until the seed's tip height.
///
/// # Errors
/// Start-up or RPC failures, a stall, or the time limit.
pub fn sync(
    seed: &Seed,
    node_args: &[String],
    work: &Path,
    limits: &Limits,
    mut progress: impl FnMut(u32),
) -> anyhow::Result<SyncRun> {
    let target = u32::try_from(seed.info.tip.height).context("tip height")?;
    let mut samples = vec![(0.0, 0)];
    let t0 = Instant::now();
    let node = Bitcoind::try_start_in(Some(work), node_args)?;
    let (wall_s, hash) = follow(&node, target, t0, limits.sample(), limits, |t, h| {
        samples.push((t, h));
        progress(h);
    })?;
    let usage = Usage::of_process(node.pid()).context("reading bitcoind's CPU time")?;
    drop(node);
    Ok(SyncRun {
        engine: Engine::Bitcoind,
        wall_s,
        samples,
        tip: Tip {
            height: u64::from(target),
            hash,
        },
        muhash: None,
        user_s: usage.user_s,
        system_s: usage.system_s,
        peak_rss_bytes: usage.max_rss_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_settings_match_the_race() {
        let a = args(SocketAddr::from(([127, 0, 0, 1], 18444)), 2, 450, false);
        for want in [
            "-connect=127.0.0.1:18444",
            "-par=2",
            "-dbcache=450",
            "-assumevalid=0",
            "-v2transport=0",
        ] {
            assert!(a.iter().any(|x| x == want), "{want} in {a:?}");
        }
    }

    #[test]
    fn tips_are_read_from_rpc_answers() {
        let v = json!({"hash": "00ab", "height": 7});
        assert_eq!(tip_of(&v).unwrap(), (7, "00ab".into()));
        assert!(tip_of(&json!({"height": -1, "hash": "x"})).is_err());
        assert!(tip_of(&json!({"height": 3})).is_err());
    }
}
