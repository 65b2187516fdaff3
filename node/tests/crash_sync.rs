//! Crash consistency during network sync: `sluice run` syncing from a real bitcoind is killed
//! with SIGKILL at random moments and restarted each time, while it downloads the chain, while
//! it follows reorganisations bitcoind makes (`invalidateblock`, then a longer branch) and while
//! it follows new blocks. At the end its tip and MuHash equal bitcoind's (`gettxoutsetinfo
//! muhash`) and an uninterrupted node's, and it asked for no more blocks than the kills explain:
//! every block plus at most one peer's in-flight limit per kill (blocks already on disk are
//! replayed from there, not downloaded again).
//!
//! Loopback only; bounded in rounds and time. `SLUICE_SYNC_KILLS` raises the number of kills
//! (default 50) for longer runs by hand (`scripts/crash-soak`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Child;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{muhash, node_config, wait_tip};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sluice_bitcoind::Bitcoind;
use sluice_loadgen::{generate, ChainSpec};
use sluice_node::run;

const BLOCKS: u32 = 300;
/// Core's `MAX_BLOCKS_IN_TRANSIT_PER_PEER`: what one kill can lose of requested blocks.
const IN_FLIGHT_PER_PEER: u64 = 16;
/// Hard limits on the whole kill phase.
const MAX_ROUNDS: usize = 400;
const TIME_LIMIT: Duration = Duration::from_secs(420);

/// What one run of the binary did, from its log.
#[derive(Default)]
struct RunLog {
    /// Blocks it asked peers for.
    requested: u64,
    /// It logged connecting this block hash (the target tip).
    reached: bool,
    /// Blocks it connected.
    connected: u64,
}

fn spawn(datadir: &Path, seed: &Bitcoind) -> (Child, mpsc::Receiver<String>) {
    common::spawn_logged(
        common::sluice_run(datadir, seed.p2p, &["--checkpoint-blocks", "7"])
            .env("RUST_LOG", "sluice_node=debug,sluice_pipeline=info"),
    )
}

/// Reads what the run logged (after it ended, the channel holds everything it wrote).
fn read_log(rx: &mpsc::Receiver<String>, tip: &str, all: &mut Vec<String>) -> RunLog {
    let mut log = RunLog::default();
    for line in rx {
        if let Some(n) = line
            .split("asking for ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
        {
            log.requested += n;
        }
        if line.contains("connected ") && line.contains(" at height ") {
            log.connected += 1;
            log.reached |= line.contains(&format!("connected {tip} "));
        }
        if line.contains("ERROR") || line.contains("panicked") {
            all.push(line);
        }
    }
    log
}

/// Brings new work: a reorganisation `depth` deep onto a branch one block longer, or new blocks.
/// Returns the new tip and how many blocks were made.
fn new_work(seed: &Bitcoind, round: usize) -> (String, u64) {
    let made = if round % 2 == 0 {
        let height = seed.height();
        let depth = 20 + (round % 3) as u32 * 15;
        let fork = seed.cli(&["getblockhash", &(height - depth + 1).to_string()]);
        seed.cli(&["invalidateblock", &fork]);
        // A script of its own per branch: a block equal to an invalidated one would be refused.
        let script = format!("raw(04{round:08x}75)");
        seed.cli(&["generatetodescriptor", &(depth + 1).to_string(), &script]);
        depth + 1
    } else {
        seed.cli(&[
            "generatetodescriptor",
            "25",
            &format!("raw(04{round:08x}75)"),
        ]);
        25
    };
    (seed.best_hash(), u64::from(made))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_sync_and_reorgs_recovers_to_bitcoinds_utxo_set() {
    let kills_wanted: usize = std::env::var("SLUICE_SYNC_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let chain = tempfile::tempdir().unwrap();
    generate(&ChainSpec::small("mainnet-mix", BLOCKS, 41), chain.path()).unwrap();
    let seed = tokio::task::block_in_place(|| {
        let s = Bitcoind::start(&[Bitcoind::loadblock(chain.path())]);
        s.wait_height(BLOCKS, Duration::from_secs(120));
        s
    });
    let data = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let mut tip = seed.best_hash();
    let start = Instant::now();
    let (mut kills, mut rounds, mut requested, mut blocks_made) = (0usize, 0usize, 0u64, 0u64);
    let mut reorgs = 0;
    // Kills that landed after the run had connected at least one block (the others landed
    // during start-up, recovery or download).
    let mut mid_block = 0;
    let mut errors = Vec::new();
    // Kills land after a random delay from the start; the window adapts so that most land
    // while work is left (a run that reaches the tip first brings new work for the next).
    let mut window_ms = 1_500u64;
    while kills < kills_wanted && rounds < MAX_ROUNDS && start.elapsed() < TIME_LIMIT {
        rounds += 1;
        let (mut child, rx) = spawn(data.path(), &seed);
        let delay = Duration::from_millis(rng.gen_range(0..window_ms));
        tokio::time::sleep(delay).await;
        let exited_early = child.try_wait().unwrap();
        assert!(exited_early.is_none(), "sluice exited: {exited_early:?}");
        child.kill().unwrap();
        child.wait().unwrap();
        let log = tokio::task::block_in_place(|| read_log(&rx, &tip, &mut errors));
        requested += log.requested;
        if log.reached {
            window_ms = (window_ms * 3 / 4).max(150);
            let (t, made) = tokio::task::block_in_place(|| new_work(&seed, reorgs));
            tip = t;
            blocks_made += made;
            reorgs += 1;
        } else {
            kills += 1;
            mid_block += usize::from(log.connected > 0);
            if log.connected == 0 {
                window_ms = (window_ms + 100).min(4_000);
            }
        }
    }
    assert!(errors.is_empty(), "errors logged: {errors:#?}");
    assert!(
        kills >= kills_wanted,
        "only {kills} kills with work left in {rounds} rounds ({:?})",
        start.elapsed()
    );
    println!(
        "{kills} kills mid-sync ({mid_block} after blocks were connected) in {rounds} rounds, \
         {reorgs} rounds of new work, {:?}",
        start.elapsed()
    );

    // A clean start finishes the sync: bitcoind's tip and UTXO set.
    let cfg = node_config(data.path(), &[seed.p2p.to_string()], false);
    let node = run::start(&cfg).await.unwrap();
    wait_tip(&node, &tip, Duration::from_secs(120)).await;
    let seed_muhash = tokio::task::block_in_place(|| seed.muhash());
    assert_eq!(muhash(&node), seed_muhash, "UTXO set after the kills");
    let height = node.status.borrow().height;
    node.shutdown().await.unwrap();

    // An uninterrupted node on the same chain agrees.
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = run::start(&node_config(
        fresh_dir.path(),
        &[seed.p2p.to_string()],
        false,
    ))
    .await
    .unwrap();
    wait_tip(&fresh, &tip, Duration::from_secs(120)).await;
    assert_eq!(muhash(&fresh), seed_muhash);
    assert_eq!(fresh.status.borrow().height, height);
    fresh.shutdown().await.unwrap();

    // Downloads: every block made (the chain plus every branch), plus what kills lost in flight.
    let bound = u64::from(BLOCKS) + blocks_made + kills as u64 * IN_FLIGHT_PER_PEER;
    println!("{requested} blocks requested by the killed runs (bound {bound})");
    assert!(
        requested <= bound,
        "{requested} blocks requested, more than {bound}"
    );
}
