//! Crash consistency: `sluice import` killed with SIGKILL at random moments always reopens and
//! finishes with the same tip and MuHash as an uninterrupted run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sluice_consensus::chain::Params;
use sluice_pipeline::testchain;

const BIN: &str = env!("CARGO_BIN_EXE_sluice");

fn import_cmd(file: &Path, datadir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.args([
        "import",
        "--network",
        "regtest",
        "--quiet",
        "--checkpoint-blocks",
        "7",
    ])
    .arg("--datadir")
    .arg(datadir)
    .arg(file)
    .env("RUST_LOG", "info")
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    c
}

/// (tip line, muhash line) of a finished import's summary.
fn finish(file: &Path, datadir: &Path) -> (String, String) {
    let out = import_cmd(file, datadir)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "import failed: {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let tip = text
        .lines()
        .find(|l| l.starts_with("tip "))
        .unwrap()
        .to_string();
    let muhash = text
        .lines()
        .find(|l| l.starts_with("UTXO count"))
        .unwrap()
        .to_string();
    (tip, muhash)
}

/// A small xorshift so the kill moments differ across the run but the test is reproducible.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn sigkill_at_random_moments_then_resume_gives_the_uninterrupted_result() {
    let tmp = tempfile::tempdir().unwrap();
    let params = Params::regtest();
    let blocks = testchain::linear(&params, 220, 20);
    let file = tmp.path().join("blk00000.dat");
    std::fs::write(&file, testchain::frame(params.magic, &blocks)).unwrap();

    let t = Instant::now();
    let reference = finish(&file, &tmp.path().join("reference"));
    let full = t.elapsed();
    assert!(reference.0.contains("at height 220"), "{}", reference.0);

    // Kill moments fall in the first 60% of an uninterrupted run's duration, so that nearly all
    // land mid-import even when a run is faster than the reference one; a run that finished
    // before its kill (the reference ran on a busier machine) shortens the span.
    let mut span = (u64::try_from(full.as_millis()).unwrap() * 6 / 10).max(20);
    let mut seed = 0x5eed_1234_abcd_0001u64;
    let mut killed_mid_run = 0;
    for round in 0..24 {
        let datadir = tmp.path().join(format!("crash-{round}"));
        // Every third round is killed twice before it may finish; at most 4 tries a round.
        let want = 1 + usize::from(round % 3 == 0);
        let mut landed = 0;
        for _ in 0..4 {
            if landed == want {
                break;
            }
            let mut child = import_cmd(&file, &datadir).spawn().unwrap();
            std::thread::sleep(Duration::from_millis(next(&mut seed) % span));
            if child.try_wait().unwrap().is_none() {
                landed += 1;
            } else {
                span = (span * 2 / 3).max(20);
            }
            // SIGKILL: no destructor, no flush.
            child.kill().unwrap();
            child.wait().unwrap();
        }
        killed_mid_run += landed;
        assert_eq!(finish(&file, &datadir), reference, "round {round}");
    }
    assert!(
        killed_mid_run >= 20,
        "only {killed_mid_run} kills landed mid-run"
    );
}
