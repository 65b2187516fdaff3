//! Multi-lane SHA-256: throughput of each backend on the two shapes consensus code uses.
//!
//! - `sha256d64/<backend>/<n>`: double SHA-256 of n 64-byte inputs (one merkle level).
//! - `block_866342/<backend>`: every txid and wtxid of mainnet block 866342 (4,864 txs) plus
//!   its merkle and witness-merkle roots. The transactions are parsed and serialised (with and
//!   without witness) by the `bitcoin` crate in setup; only hashing is timed.
//!
//! `sha2-crate` is the `sha2` crate one message at a time (it uses SHA-NI when present);
//! `Scalar` is this crate's portable Rust; `auto` is what the un-suffixed API picks (wide lanes
//! plus SHA-NI for remainders). Backends the CPU lacks are skipped.

use std::hint::black_box;

use bitcoin::consensus::{deserialize, serialize};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sluice_consensus::hash::{
    sha256d, sha256d64, sha256d64_with, sha256d_many, sha256d_many_with, Backend, Hash256,
};
use sluice_consensus::merkle::{merkle_root, merkle_root_with};

fn inputs(n: usize) -> Vec<[u8; 64]> {
    (0..n)
        .map(|i| {
            let mut b = [0u8; 64];
            for (j, x) in b.iter_mut().enumerate() {
                *x = (i.wrapping_mul(31).wrapping_add(j.wrapping_mul(7)) % 251) as u8;
            }
            b
        })
        .collect()
}

fn available() -> Vec<Backend> {
    Backend::ALL
        .into_iter()
        .filter(|b| {
            let ok = b.is_available();
            if !ok {
                eprintln!("sha_lanes: skipping {b:?}, not supported by this CPU");
            }
            ok
        })
        .collect()
}

fn bench_d64(c: &mut Criterion) {
    let mut group = c.benchmark_group("sha256d64");
    for n in [1usize, 8, 16, 1024, 4096] {
        let ins = inputs(n);
        let mut out = vec![[0u8; 32]; n];
        group.throughput(Throughput::Bytes((n * 64) as u64));
        group.bench_with_input(BenchmarkId::new("sha2-crate", n), &ins, |b, ins| {
            b.iter(|| {
                for (o, i) in out.iter_mut().zip(ins) {
                    *o = sha256d(black_box(i));
                }
            });
        });
        group.bench_with_input(BenchmarkId::new("auto", n), &ins, |b, ins| {
            b.iter(|| sha256d64(black_box(ins), &mut out));
        });
        for backend in available() {
            group.bench_with_input(
                BenchmarkId::new(format!("{backend:?}"), n),
                &ins,
                |b, ins| {
                    b.iter(|| sha256d64_with(backend, black_box(ins), &mut out));
                },
            );
        }
    }
    group.finish();
}

struct BlockTxs {
    stripped: Vec<Vec<u8>>,
    full: Vec<Vec<u8>>,
}

fn block_866342() -> BlockTxs {
    let bytes = sluice_bench::shared_data("blocks/mainnet-866342.block");
    let block: bitcoin::Block = deserialize(&bytes).unwrap_or_else(|e| panic!("866342: {e}"));
    let stripped = block
        .txdata
        .iter()
        .map(|tx| {
            let mut t = tx.clone();
            for input in &mut t.input {
                input.witness.clear();
            }
            serialize(&t)
        })
        .collect();
    let full = block.txdata.iter().map(serialize).collect();
    BlockTxs { stripped, full }
}

/// Txids, wtxids, merkle root and witness root of the block with one backend.
fn hash_block(
    backend: Backend,
    stripped: &[&[u8]],
    full: &[&[u8]],
    ids: &mut [Hash256],
    wids: &mut [Hash256],
) -> (Hash256, Hash256) {
    let _ = sha256d_many_with(backend, stripped, ids);
    let _ = sha256d_many_with(backend, full, wids);
    if let Some(first) = wids.first_mut() {
        *first = [0; 32];
    }
    let root = merkle_root_with(backend, ids).map_or([0; 32], |r| r.0);
    let wroot = merkle_root_with(backend, wids).map_or([0; 32], |r| r.0);
    (root, wroot)
}

fn bench_block(c: &mut Criterion) {
    let txs = block_866342();
    let stripped: Vec<&[u8]> = txs.stripped.iter().map(Vec::as_slice).collect();
    let full: Vec<&[u8]> = txs.full.iter().map(Vec::as_slice).collect();
    let bytes: usize = stripped.iter().chain(&full).map(|m| m.len()).sum();
    let mut ids = vec![[0u8; 32]; stripped.len()];
    let mut wids = vec![[0u8; 32]; full.len()];
    let mut group = c.benchmark_group("block_866342");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("sha2-crate", |b| {
        b.iter(|| {
            for (o, m) in ids.iter_mut().zip(&stripped) {
                *o = sha256d(m);
            }
            for (o, m) in wids.iter_mut().zip(&full) {
                *o = sha256d(m);
            }
            if let Some(first) = wids.first_mut() {
                *first = [0; 32];
            }
            // Merkle levels with the sha2 crate too.
            (naive_root(&ids), naive_root(&wids))
        });
    });
    group.bench_function("auto", |b| {
        b.iter(|| {
            sha256d_many(black_box(&stripped), &mut ids);
            sha256d_many(black_box(&full), &mut wids);
            if let Some(first) = wids.first_mut() {
                *first = [0; 32];
            }
            (merkle_root(&ids), merkle_root(&wids))
        });
    });
    for backend in available() {
        group.bench_function(format!("{backend:?}"), |b| {
            b.iter(|| {
                hash_block(
                    backend,
                    black_box(&stripped),
                    black_box(&full),
                    &mut ids,
                    &mut wids,
                )
            });
        });
    }
    group.finish();
}

/// Merkle root with the `sha2` crate, one node at a time (baseline only).
fn naive_root(leaves: &[Hash256]) -> Hash256 {
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|p| {
                let mut b = [0u8; 64];
                b[..32].copy_from_slice(&p[0]);
                b[32..].copy_from_slice(p.get(1).unwrap_or(&p[0]));
                sha256d(&b)
            })
            .collect();
    }
    level.first().copied().unwrap_or([0; 32])
}

criterion_group!(benches, bench_d64, bench_block);
criterion_main!(benches);
