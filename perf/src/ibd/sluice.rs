//! The Sluice side of an IBD race. Every run is a fresh child process (`perf ibd-node`, so CPU
//! and peak RSS are that run's alone) that starts a Sluice node connected only to the seed,
//! prints a JSON line per height sample and, once the node has the seed's tip height and has
//! shut down, a last line with the run's result and the MuHash of its UTXO set.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use sluice_consensus::hash::to_display_hex;
use sluice_node::config::{NetworkArg, NodeConfig};
use sluice_storage::{ChainStore, StoreConfig};

use super::report::{Engine, SyncRun};
use super::Limits;
use crate::engine::Tip;
use crate::usage::Usage;

/// What one Sluice run is asked to do (the `perf ibd-node` arguments).
#[derive(Debug, Clone, clap::Args)]
pub struct NodeRunArgs {
    /// The seed's P2P address (ip:port on loopback).
    #[arg(long)]
    pub connect: String,
    /// Fresh datadir for the node.
    #[arg(long)]
    pub datadir: PathBuf,
    #[arg(long)]
    pub threads: usize,
    #[arg(long)]
    pub cache_mb: usize,
    /// Stop once the node has this many blocks.
    #[arg(long)]
    pub tip_height: u32,
    /// Connect over BIP324 v2 instead of v1.
    #[arg(long)]
    pub v2: bool,
    /// Maintain MuHash while syncing (the node's default) instead of recomputing it after.
    #[arg(long)]
    pub muhash_live: bool,
    #[command(flatten)]
    pub limits: Limits,
}

/// One line the child prints on stdout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChildLine {
    /// `(seconds since start, height)`.
    Sample(f64, u32),
    Done(SyncRun),
}

/// The node configuration of a run.
#[must_use]
pub fn node_config(a: &NodeRunArgs) -> NodeConfig {
    NodeConfig {
        network: NetworkArg::Regtest,
        datadir: a.datadir.clone(),
        connect: vec![a.connect.clone()],
        listen: false,
        bind: Vec::new(),
        v2transport: a.v2,
        cache_mb: a.cache_mb,
        script_workers: a.threads.max(1),
        muhash: a.muhash_live,
        progress: false,
        // The race measures sync, not RPC (and must not take bitcoind's default port).
        server: false,
        ..NodeConfig::default()
    }
}

/// The same settings as a `sluice run` command line, for the report.
#[must_use]
pub fn command_line(seed: &str, threads: usize, cache_mb: usize, v2: bool, live: bool) -> String {
    format!(
        "sluice run --network regtest --connect {seed} --listen false --v2transport {v2} \
         --script-workers {threads} --cache-mb {cache_mb}{}",
        if live { "" } else { " --no-muhash" }
    )
}

/// `perf ibd-node`: runs the node until the tip and prints [`ChildLine`]s on stdout.
///
/// # Errors
/// The node failing to start, stopping on a fault, stalling or running out of time, or its
/// UTXO set not being readable after shutdown.
pub fn node_run(a: &NodeRunArgs) -> anyhow::Result<()> {
    // The node's own runtime shape (`sluice run`): two async workers; validation has its own
    // threads.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut out = std::io::stdout().lock();
    let mut emit = |line: &ChildLine| -> anyhow::Result<()> {
        serde_json::to_writer(&mut out, line)?;
        out.write_all(b"\n")?;
        out.flush()?;
        Ok(())
    };
    let run = rt.block_on(sync(a, &mut emit))?;
    emit(&ChildLine::Done(run))
}

async fn sync(
    a: &NodeRunArgs,
    emit: &mut impl FnMut(&ChildLine) -> anyhow::Result<()>,
) -> anyhow::Result<SyncRun> {
    let cfg = node_config(a);
    let (every, limit, stall) = (a.limits.sample(), a.limits.run(), a.limits.stall());
    let t0 = Instant::now();
    let node = sluice_node::run::start(&cfg).await?;
    let mut status = node.status.clone();
    // A fresh datadir: height 0 at the start.
    let mut samples = vec![(0.0, 0)];
    let mut next = Duration::ZERO;
    let mut last = (u32::MAX, Instant::now());
    let (wall_s, tip) = loop {
        let (height, hash) = {
            let s = status.borrow_and_update();
            (s.height, to_display_hex(&s.hash))
        };
        let t = t0.elapsed();
        if height >= a.tip_height || t >= next {
            samples.push((t.as_secs_f64(), height));
            emit(&ChildLine::Sample(t.as_secs_f64(), height))?;
            while next <= t {
                next += every;
            }
        }
        if height >= a.tip_height {
            let tip = Tip {
                height: u64::from(height),
                hash,
            };
            break (t.as_secs_f64(), tip);
        }
        if height != last.0 {
            last = (height, Instant::now());
        }
        anyhow::ensure!(
            last.1.elapsed() < stall,
            "Sluice made no progress for {stall:?} at height {height} of {}",
            a.tip_height
        );
        anyhow::ensure!(
            t < limit,
            "Sluice reached only height {height} of {} in {limit:?}",
            a.tip_height
        );
        let wait = next.saturating_sub(t).max(Duration::from_millis(1));
        if let Ok(Err(_)) = tokio::time::timeout(wait, status.changed()).await {
            // The node dropped its status: it stopped on a fault.
            node.wait().await?;
            anyhow::bail!("the Sluice node stopped at height {height}");
        }
    };
    let usage = Usage::now()?;
    let live = status.borrow().muhash.clone();
    node.shutdown().await?;
    let muhash = match live {
        Some(m) if a.muhash_live => m,
        _ => recompute_muhash(&a.datadir, &tip)?,
    };
    Ok(SyncRun {
        engine: Engine::Sluice,
        wall_s,
        samples,
        tip,
        muhash: Some(muhash),
        user_s: usage.user_s,
        system_s: usage.system_s,
        peak_rss_bytes: usage.max_rss_bytes,
    })
}

/// Opens the stopped node's UTXO store, checks it was checkpointed at `tip`, and hashes every
/// coin (Core's `gettxoutsetinfo muhash`, display hex).
fn recompute_muhash(datadir: &Path, tip: &Tip) -> anyhow::Result<String> {
    let dir = datadir.join("chainstate");
    let store = ChainStore::open(
        &dir,
        &StoreConfig {
            track_muhash: false,
            ..StoreConfig::default()
        },
    )
    .with_context(|| format!("opening {}", dir.display()))?;
    let stored = store
        .checkpointed_tip()
        .map(|(h, hash)| (u64::from(h), to_display_hex(&hash)));
    anyhow::ensure!(
        stored == Some((tip.height, tip.hash.clone())),
        "after shutdown the store's checkpointed tip is {stored:?}, the node reported {tip:?}"
    );
    Ok(to_display_hex(&store.recompute_muhash()?))
}

/// Runs `perf ibd-node` as a child of `exe` and reads its lines, calling `progress(height)` on
/// every sample.
///
/// # Errors
/// The child failing to start, exiting non-zero or printing no result.
pub fn run_child(
    exe: &Path,
    a: &NodeRunArgs,
    mut progress: impl FnMut(u32),
) -> anyhow::Result<SyncRun> {
    let mut cmd = Command::new(exe);
    cmd.arg("ibd-node")
        .args(["--connect", &a.connect])
        .arg("--datadir")
        .arg(&a.datadir)
        .args(["--threads", &a.threads.to_string()])
        .args(["--cache-mb", &a.cache_mb.to_string()])
        .args(["--tip-height", &a.tip_height.to_string()])
        .args(a.limits.to_args());
    if a.v2 {
        cmd.arg("--v2");
    }
    if a.muhash_live {
        cmd.arg("--muhash-live");
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    let stdout = child.stdout.take().context("child stdout")?;
    let mut result = None;
    // Bounded: the child ends itself after its time limit, closing its stdout.
    for line in BufReader::new(stdout).lines() {
        let line = line.context("reading the Sluice run's output")?;
        match serde_json::from_str::<ChildLine>(&line) {
            Ok(ChildLine::Sample(_, h)) => progress(h),
            Ok(ChildLine::Done(run)) => result = Some(run),
            Err(e) => tracing::warn!("unexpected line from ibd-node ({e}): {line}"),
        }
    }
    let status = child.wait().context("waiting for the Sluice run")?;
    anyhow::ensure!(status.success(), "the Sluice run failed ({status})");
    result.context("the Sluice run printed no result")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        let l = ChildLine::Sample(1.25, 40);
        let text = serde_json::to_string(&l).unwrap();
        assert_eq!(text, r#"{"sample":[1.25,40]}"#);
        assert_eq!(serde_json::from_str::<ChildLine>(&text).unwrap(), l);
    }

    #[test]
    fn config_matches_the_race() {
        let a = NodeRunArgs {
            connect: "127.0.0.1:1".into(),
            datadir: "d".into(),
            threads: 2,
            cache_mb: 450,
            tip_height: 10,
            v2: false,
            muhash_live: false,
            limits: Limits {
                sample_ms: 200,
                timeout_s: 10,
                stall_s: 10,
            },
        };
        let c = node_config(&a);
        assert_eq!(c.connect, vec!["127.0.0.1:1".to_owned()]);
        assert!(!c.listen && !c.v2transport && !c.muhash);
        assert_eq!((c.script_workers, c.cache_mb), (2, 450));
        let cmd = command_line(&a.connect, 2, 450, false, false);
        assert!(
            cmd.contains("--script-workers 2 --cache-mb 450 --no-muhash"),
            "{cmd}"
        );
    }
}
