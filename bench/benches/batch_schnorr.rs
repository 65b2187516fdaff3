//! BIP340 verification: Sluice's batch verifier vs libsecp256k1 single verification, per
//! signature, at several batch sizes; plus the Strauss/Pippenger crossover.
//!
//! `cargo bench -p sluice-bench --bench batch_schnorr -- --warm-up-time 1 --measurement-time 3`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use secp256k1::{schnorr, Keypair, XOnlyPublicKey};
use sluice_consensus::script::deferred::{verify_schnorr_items, EcdsaBackend};
use sluice_consensus::secp::group::Affine;
use sluice_consensus::secp::msm::Terms;
use sluice_consensus::secp::{verify_schnorr, BatchVerifier};
use sluice_consensus::sigcheck::SchnorrItem;

const SIZES: [usize; 6] = [1, 16, 64, 256, 1024, 4096];

struct Item {
    msg: [u8; 32],
    pubkey: [u8; 32],
    sig: [u8; 64],
}

fn items(n: usize) -> Vec<Item> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    (0..n)
        .map(|_| {
            let kp = Keypair::from_secret_bytes(rng.gen()).expect("random key below n");
            let msg: [u8; 32] = rng.gen();
            let sig = secp256k1::schnorr::sign_with_aux_rand(&msg, &kp, &rng.gen());
            Item {
                msg,
                pubkey: kp.x_only_public_key().0.to_byte_array(),
                sig: *sig.as_ref(),
            }
        })
        .collect()
}

fn libsecp_verify(it: &Item) -> bool {
    let Ok(pk) = XOnlyPublicKey::from_byte_array(it.pubkey) else {
        return false;
    };
    let sig = schnorr::Signature::from_byte_array(it.sig);
    secp256k1::schnorr::verify(&sig, &it.msg, &pk).is_ok()
}

fn bench_verify(c: &mut Criterion) {
    let all = items(*SIZES.iter().max().unwrap_or(&1));
    let mut g = c.benchmark_group("bip340_verify");
    g.sample_size(10);
    for n in SIZES {
        let batch = &all[..n];
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("sluice_batch", n), batch, |b, batch| {
            b.iter(|| {
                let mut v = BatchVerifier::with_capacity(batch.len());
                for it in batch {
                    v.push(it.msg, it.pubkey, it.sig);
                }
                assert!(v.verify([7; 32]).is_ok());
            });
        });
        g.bench_with_input(BenchmarkId::new("libsecp_single", n), batch, |b, batch| {
            b.iter(|| assert!(batch.iter().all(libsecp_verify)));
        });
        // What the pipeline does with a vector backend (`schnorr_in_lanes`): one signature per
        // lane, no batch equation.
        if EcdsaBackend::Ifma.is_available() {
            let checks: Vec<SchnorrItem> = batch
                .iter()
                .map(|it| SchnorrItem {
                    msg: it.msg,
                    pubkey: it.pubkey,
                    sig: it.sig,
                })
                .collect();
            g.bench_with_input(BenchmarkId::new("ifma_lanes", n), &checks, |b, c| {
                b.iter(|| {
                    assert!(verify_schnorr_items(EcdsaBackend::Ifma, c).is_ok_and(|f| f.is_empty()));
                });
            });
        }
        if n <= 64 {
            g.bench_with_input(BenchmarkId::new("sluice_single", n), batch, |b, batch| {
                b.iter(|| {
                    assert!(batch
                        .iter()
                        .all(|it| verify_schnorr(&it.msg, &it.pubkey, &it.sig)));
                });
            });
        }
    }
    g.finish();
}

/// Where the batch equation starts beating one-by-one libsecp256k1 verification: sets
/// `secp::batch::SINGLE_VERIFY_BELOW`.
fn bench_small_batch(c: &mut Criterion) {
    let all = items(32);
    let mut g = c.benchmark_group("small_batch");
    g.sample_size(20);
    for n in [2usize, 4, 6, 8, 10, 12, 16, 24] {
        let mut v = BatchVerifier::with_capacity(n);
        for it in &all[..n] {
            v.push(it.msg, it.pubkey, it.sig);
        }
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("equation", n), &v, |b, v| {
            b.iter(|| assert!(v.verify_equation([7; 32]).is_ok()));
        });
        g.bench_with_input(BenchmarkId::new("singly", n), &v, |b, v| {
            b.iter(|| assert!(v.verify_singly().is_ok()));
        });
    }
    g.finish();
}

fn bench_crossover(c: &mut Criterion) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(43);
    let mut g = c.benchmark_group("msm_crossover");
    g.sample_size(10);
    for n in [8usize, 16, 32, 48, 64, 128] {
        let mut terms = Terms::with_capacity(n);
        while terms.len() < n {
            if let Some(p) = Affine::from_xonly(&rng.gen()) {
                terms.push_u128(&p, false, rng.gen());
            }
        }
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("strauss", n), &terms, |b, t| {
            b.iter(|| t.strauss());
        });
        g.bench_with_input(BenchmarkId::new("pippenger", n), &terms, |b, t| {
            b.iter(|| t.pippenger());
        });
    }
    g.finish();
}

fn bench_field(c: &mut Criterion) {
    use sluice_consensus::secp::field::Fe;
    let mut rng = rand::rngs::StdRng::seed_from_u64(44);
    let mut b = [0u8; 32];
    rng.fill(&mut b[1..]);
    let a = Fe::from_bytes(&b).unwrap_or(Fe::ONE);
    rng.fill(&mut b[1..]);
    let x = Fe::from_bytes(&b).unwrap_or(Fe::ONE);
    let mut g = c.benchmark_group("field");
    g.bench_function("mul", |bn| bn.iter(|| std::hint::black_box(a).mul(&x)));
    g.bench_function("sqr", |bn| bn.iter(|| std::hint::black_box(a).sqr()));
    g.bench_function("sqrt", |bn| bn.iter(|| std::hint::black_box(a).sqrt()));
    let xs: Vec<Fe> = (0..4u64)
        .map(|i| a.mul(&Fe::from_u64(i + 2)).normalized_weak())
        .collect();
    // Four square roots one after the other vs interleaved (`Fe::sqrt_lanes`).
    g.bench_function("sqrt_x4_sequential", |bn| {
        bn.iter(|| std::hint::black_box(&xs).iter().map(Fe::sqrt).count());
    });
    g.bench_function("sqrt_x4_lanes", |bn| {
        bn.iter(|| {
            let x = std::hint::black_box(&xs);
            Fe::sqrt_lanes(&[x[0], x[1], x[2], x[3]])
        });
    });
    g.bench_function("sqrt_chain_5x52", |bn| {
        bn.iter(|| std::hint::black_box(a).pow_sqrt_5x52());
    });
    g.bench_function("invert", |bn| bn.iter(|| std::hint::black_box(a).invert()));
    g.finish();
}

criterion_group!(
    benches,
    bench_verify,
    bench_small_batch,
    bench_crossover,
    bench_field
);
criterion_main!(benches);
