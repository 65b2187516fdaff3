//! Throughput of ECDSA and BIP340 verification: every vector backend against libsecp256k1 one
//! at a time, on the same random valid signatures.
//!
//! `cargo bench -p sluice-vecsecp --bench vecsecp`; per-signature time is the reported time
//! divided by the batch size (criterion's throughput line gives elements per second).
//! Backends this CPU lacks are skipped.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use secp256k1::{ecdsa, Keypair, Message, PublicKey, SecretKey};
use sluice_vecsecp::{verify_ecdsa_raw, verify_schnorr_raw, Backend, RawEcdsa, RawSchnorr};

/// The vector backends and their benchmark names.
const VECTOR: [(Backend, &str); 3] = [
    (Backend::Ifma, "ifma_8_lanes"),
    (Backend::Avx2, "avx2_4_lanes"),
    (Backend::Portable, "portable_8_lanes"),
];

fn secret_key(rng: &mut ChaCha20Rng) -> SecretKey {
    loop {
        if let Ok(k) = SecretKey::from_secret_bytes(rng.gen()) {
            return k;
        }
    }
}

fn ecdsa_signatures(n: usize) -> Vec<([u8; 32], ecdsa::Signature, PublicKey)> {
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    (0..n)
        .map(|_| {
            let sk = secret_key(&mut rng);
            let msg: [u8; 32] = rng.gen();
            let sig = ecdsa::sign(Message::from_digest(msg), &sk);
            (msg, sig, PublicKey::from_secret_key(&sk))
        })
        .collect()
}

fn schnorr_signatures(n: usize) -> Vec<RawSchnorr> {
    let mut rng = ChaCha20Rng::seed_from_u64(43);
    (0..n)
        .map(|_| {
            let kp = Keypair::from_secret_key(&secret_key(&mut rng));
            let msg: [u8; 32] = rng.gen();
            let sig = secp256k1::schnorr::sign_no_aux_rand(&msg, &kp);
            RawSchnorr::new(&msg, &sig, &kp.x_only_public_key().0)
        })
        .collect()
}

fn ecdsa_verify(c: &mut Criterion) {
    let mut g = c.benchmark_group("ecdsa_verify");
    for n in [8usize, 512] {
        let items = ecdsa_signatures(n);
        let raw: Vec<RawEcdsa> = items
            .iter()
            .map(|(m, s, k)| RawEcdsa::new(m, s, k))
            .collect();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(
            BenchmarkId::new("libsecp256k1_single", n),
            &items,
            |b, items| {
                b.iter(|| {
                    items
                        .iter()
                        .filter(|(m, s, k)| ecdsa::verify(s, Message::from_digest(*m), k).is_ok())
                        .count()
                });
            },
        );
        for (backend, name) in VECTOR {
            if backend.is_available() {
                g.bench_with_input(BenchmarkId::new(name, n), &raw, |b, raw| {
                    b.iter(|| verify_ecdsa_raw(backend, raw));
                });
            }
        }
    }
    g.finish();
}

fn schnorr_verify(c: &mut Criterion) {
    let mut g = c.benchmark_group("schnorr_verify");
    for n in [8usize, 1024] {
        let raw = schnorr_signatures(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(
            BenchmarkId::new("libsecp256k1_single", n),
            &raw,
            |b, raw| {
                b.iter(|| verify_schnorr_raw(Backend::Libsecp, raw));
            },
        );
        for (backend, name) in VECTOR {
            if backend.is_available() {
                g.bench_with_input(BenchmarkId::new(name, n), &raw, |b, raw| {
                    b.iter(|| verify_schnorr_raw(backend, raw));
                });
            }
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = ecdsa_verify, schnorr_verify
}
criterion_main!(benches);
