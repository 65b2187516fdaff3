//! Best-of-rounds timing of the two BIP340 batch paths, for the shared, loaded machine where
//! criterion's wall-clock medians swing by ±30 %: each configuration runs in interleaved rounds
//! and the fastest round is kept (contention only ever adds time). Complements
//! `batch_schnorr.rs`; used to set `secp::batch::SINGLE_VERIFY_BELOW`.
//!
//! `cargo bench -p sluice-bench --bench batch_schnorr_best_of -- small` (batches 2..32: batch
//! equation vs one-by-one libsecp256k1) or `-- large` (64..4096). `-- repeat N REPS PATH`
//! (PATH = `equation`, `singly` or `verify`, which picks by size) only builds a batch of N and verifies it REPS times, for
//! `perf stat -e cycles:u` (cycles count only while the thread runs, unlike wall time; run it
//! with REPS = 0 too and subtract the setup).
use rand::{Rng, SeedableRng};
use secp256k1::Keypair;
use sluice_consensus::secp::BatchVerifier;
use std::time::Instant;

fn batch(n: usize, seed: u64) -> BatchVerifier {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut v = BatchVerifier::with_capacity(n);
    for _ in 0..n {
        let kp = Keypair::from_secret_bytes(rng.gen()).expect("random key below n");
        let msg: [u8; 32] = rng.gen();
        let sig = secp256k1::schnorr::sign_with_aux_rand(&msg, &kp, &rng.gen());
        v.push(msg, kp.x_only_public_key().0.to_byte_array(), *sig.as_ref());
    }
    v
}

fn min_time(f: &mut dyn FnMut(), reps: usize) -> f64 {
    let t = Instant::now();
    for _ in 0..reps {
        f();
    }
    t.elapsed().as_secs_f64() / reps as f64
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args
        .iter()
        .find(|a| !a.starts_with('-') && !a.contains('/'))
        .cloned()
        .unwrap_or("small".into());
    let rounds = 12;
    // `sqrt K REPS`: 4·REPS square roots, K = 2 or 4 lanes at a time, else one by one.
    if mode == "sqrt" {
        use sluice_consensus::secp::field::Fe;
        let num = |i: usize| {
            args.get(i)
                .and_then(|a| a.parse::<usize>().ok())
                .unwrap_or(0)
        };
        let (kind, reps) = (num(2), num(3));
        let xs: Vec<Fe> = (0..4u64).map(|i| Fe::from_u64(i * 1000 + 12345)).collect();
        let mut acc = Fe::ZERO;
        for _ in 0..reps {
            let x = std::hint::black_box(&xs);
            match kind {
                2 => {
                    for r in Fe::sqrt_lanes(&[x[0], x[1]])
                        .into_iter()
                        .chain(Fe::sqrt_lanes(&[x[2], x[3]]))
                        .flatten()
                    {
                        acc = acc.add(&r).normalized_weak();
                    }
                }
                4 => {
                    for r in Fe::sqrt_lanes(&[x[0], x[1], x[2], x[3]])
                        .into_iter()
                        .flatten()
                    {
                        acc = acc.add(&r).normalized_weak();
                    }
                }
                _ => {
                    for v in x {
                        acc = acc.add(&v.sqrt().unwrap_or(Fe::ONE)).normalized_weak();
                    }
                }
            }
        }
        std::hint::black_box(acc);
        return;
    }
    if mode == "repeat" {
        let num = |i: usize| {
            args.get(i)
                .and_then(|a| a.parse::<usize>().ok())
                .unwrap_or(0)
        };
        let (n, reps) = (num(2), num(3));
        let v = batch(n, n as u64);
        let path = args.get(4).map_or("equation", String::as_str);
        for _ in 0..reps {
            match path {
                "singly" => assert!(v.verify_singly().is_ok()),
                "verify" => assert!(v.verify([7; 32]).is_ok()),
                _ => assert!(v.verify_equation([7; 32]).is_ok()),
            }
        }
        return;
    }
    if mode == "small" {
        for n in [2usize, 3, 4, 6, 8, 10, 12, 16, 24, 32] {
            let v = batch(n, n as u64);
            let reps = (200 / n).max(4);
            let (mut be, mut bs) = (f64::MAX, f64::MAX);
            for _ in 0..rounds {
                be = be.min(min_time(
                    &mut || assert!(v.verify_equation([7; 32]).is_ok()),
                    reps,
                ));
                bs = bs.min(min_time(&mut || assert!(v.verify_singly().is_ok()), reps));
            }
            println!(
                "n={n:3} equation {:7.1} us/sig  singly {:7.1} us/sig  ratio {:.2}",
                be * 1e6 / n as f64,
                bs * 1e6 / n as f64,
                bs / be
            );
        }
    } else {
        for n in [64usize, 256, 1024, 4096] {
            let v = batch(n, n as u64);
            let reps = (4096 / n).clamp(1, 16);
            let (mut be, mut bs) = (f64::MAX, f64::MAX);
            for _ in 0..(rounds / 2) {
                be = be.min(min_time(
                    &mut || assert!(v.verify_equation([7; 32]).is_ok()),
                    reps,
                ));
                bs = bs.min(min_time(
                    &mut || assert!(v.verify_singly().is_ok()),
                    reps.max(2) / 2,
                ));
            }
            println!(
                "n={n:5} equation {:7.1} us/sig  libsecp {:7.1} us/sig  ratio {:.2}",
                be * 1e6 / n as f64,
                bs * 1e6 / n as f64,
                bs / be
            );
        }
    }
}
