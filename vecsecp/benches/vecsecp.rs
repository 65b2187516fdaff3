//! Throughput of ECDSA verification: the vector backends against libsecp256k1 one at a time.
//!
//! `cargo bench -p sluice-vecsecp --bench vecsecp`; per-signature time is the reported time
//! divided by the batch size (criterion's throughput line gives elements per second).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use secp256k1::{ecdsa, Message, PublicKey, SecretKey};
use sluice_vecsecp::{verify_ecdsa_raw, Backend, RawEcdsa};

fn signatures(n: usize) -> Vec<([u8; 32], ecdsa::Signature, PublicKey)> {
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    (0..n)
        .map(|_| {
            let sk = SecretKey::from_secret_bytes(rng.gen()).expect("random key");
            let msg: [u8; 32] = rng.gen();
            let sig = ecdsa::sign(Message::from_digest(msg), &sk);
            (msg, sig, PublicKey::from_secret_key(&sk))
        })
        .collect()
}

fn ecdsa_verify(c: &mut Criterion) {
    let mut g = c.benchmark_group("ecdsa_verify");
    for n in [8usize, 64, 512] {
        let items = signatures(n);
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
        if Backend::Ifma.is_available() {
            g.bench_with_input(BenchmarkId::new("ifma_8_lanes", n), &raw, |b, raw| {
                b.iter(|| verify_ecdsa_raw(Backend::Ifma, raw));
            });
            g.bench_with_input(BenchmarkId::new("ifma_many_api", n), &items, |b, items| {
                b.iter(|| sluice_vecsecp::verify_ecdsa_many(items));
            });
        }
        if n == 8 {
            g.bench_with_input(BenchmarkId::new("portable_8_lanes", n), &raw, |b, raw| {
                b.iter(|| verify_ecdsa_raw(Backend::Portable, raw));
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = ecdsa_verify
}
criterion_main!(benches);
