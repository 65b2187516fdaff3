//! UTXO store at scale: a store of N coins (default 1M, `SLUICE_BENCH_COINS` to change) is
//! built once; then
//! - `lookup_1k_hit` / `lookup_1k_miss`: 1000 `peek_coin` through the mmap index + heap pread
//!   (no cache: the cold path every block's inputs take on a cache miss);
//! - `block_10k_in_10k_out_checkpointed`: a block spending 10k random existing coins and
//!   creating 10k new ones, then a durable checkpoint (heap append + fsync, journal + fsync,
//!   redb commit, index apply + msync), the set size staying at N;
//! - `block_10k_in_10k_out_connect_only`: the same block, timing only `connect_block` (the
//!   checkpoint runs outside the timed region);
//! - `insert_10k_checkpointed`: 10k new coins + checkpoint;
//! - `connect_disconnect_10k_muhash_{off,on}`: a 10k-output block connected and disconnected
//!   in the write-back cache, without and with MuHash tracking (20k updates, rayon-parallel);
//! - `muhash_coin_insert`: the per-coin cost of the MuHash tracking (off in the store benches).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sluice_consensus::coin::{Coin, OutPoint};
use sluice_storage::muhash::{coin_element, MuHash3072};
use sluice_storage::{ChainStore, StoreConfig};

fn coin(rng: &mut ChaCha8Rng, height: u32) -> (OutPoint, Coin) {
    let mut s = vec![0x76, 0xa9, 20];
    s.extend((0..20).map(|_| rng.gen::<u8>()));
    s.extend([0x88, 0xac]);
    (
        OutPoint {
            txid: rng.gen(),
            vout: rng.gen_range(0..3),
        },
        Coin {
            value: rng.gen_range(546..10_000_000),
            script_pubkey: s,
            height,
            coinbase: false,
        },
    )
}

fn cfg() -> StoreConfig {
    StoreConfig {
        mem_budget_bytes: 64 << 20,
        track_muhash: false,
        initial_index_slots: 1 << 16,
    }
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("SLUICE_BENCH_COINS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut pool: Vec<OutPoint> = Vec::with_capacity(n + 1_000_000);
    let t = Instant::now();
    let mut store = ChainStore::open(dir.path(), &cfg()).unwrap();
    let mut height = 0u32;
    while pool.len() < n {
        let creates: Vec<_> = (0..100_000.min(n - pool.len()))
            .map(|_| coin(&mut rng, height))
            .collect();
        pool.extend(creates.iter().map(|(o, _)| *o));
        store
            .connect_block(height, [height as u8; 32], &[], &creates)
            .unwrap();
        height += 1;
        if height % 10 == 0 {
            store.checkpoint().unwrap();
        }
    }
    store.checkpoint().unwrap();
    let build = t.elapsed();
    drop(store);
    let mut store = ChainStore::open(dir.path(), &cfg()).unwrap();
    let s = store.stats();
    eprintln!(
        "built {n} coins in {build:.2?}: index {} slots, {} B ({:.1} B/coin), heap {} B ({:.1} B/coin)",
        s.index_slots,
        s.index_file_bytes,
        s.index_bytes_per_coin,
        s.heap_bytes,
        s.heap_bytes as f64 / n as f64
    );

    let mut g = c.benchmark_group(format!("utxo_{}k", n / 1000));
    g.sample_size(10);
    g.bench_function("lookup_1k_hit", |b| {
        b.iter_batched(
            || {
                (0..1000)
                    .map(|_| pool[rng.gen_range(0..pool.len())])
                    .collect::<Vec<_>>()
            },
            |ops| {
                for op in &ops {
                    assert!(store.peek_coin(op).unwrap().is_some());
                }
            },
            BatchSize::SmallInput,
        );
    });
    g.bench_function("lookup_1k_miss", |b| {
        b.iter_batched(
            || {
                (0..1000)
                    .map(|_| OutPoint {
                        txid: rng.gen(),
                        vout: 0,
                    })
                    .collect::<Vec<_>>()
            },
            |ops| {
                for op in &ops {
                    assert!(store.peek_coin(op).unwrap().is_none());
                }
            },
            BatchSize::SmallInput,
        );
    });
    g.bench_function("block_10k_in_10k_out_checkpointed", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let spends: Vec<_> = (0..10_000)
                    .map(|_| pool.swap_remove(rng.gen_range(0..pool.len())))
                    .collect();
                let creates: Vec<_> = (0..10_000).map(|_| coin(&mut rng, height)).collect();
                pool.extend(creates.iter().map(|(o, _)| *o));
                let t = Instant::now();
                store
                    .connect_block(height, [height as u8; 32], &spends, &creates)
                    .unwrap();
                store.checkpoint().unwrap();
                total += t.elapsed();
                height += 1;
            }
            total
        });
    });
    g.bench_function("block_10k_in_10k_out_connect_only", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let spends: Vec<_> = (0..10_000)
                    .map(|_| pool.swap_remove(rng.gen_range(0..pool.len())))
                    .collect();
                let creates: Vec<_> = (0..10_000).map(|_| coin(&mut rng, height)).collect();
                pool.extend(creates.iter().map(|(o, _)| *o));
                let t = Instant::now();
                store
                    .connect_block(height, [height as u8; 32], &spends, &creates)
                    .unwrap();
                total += t.elapsed();
                store.checkpoint().unwrap();
                height += 1;
            }
            total
        });
    });
    g.bench_function("insert_10k_checkpointed", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let creates: Vec<_> = (0..10_000).map(|_| coin(&mut rng, height)).collect();
                pool.extend(creates.iter().map(|(o, _)| *o));
                let t = Instant::now();
                store
                    .connect_block(height, [height as u8; 32], &[], &creates)
                    .unwrap();
                store.checkpoint().unwrap();
                total += t.elapsed();
                height += 1;
            }
            total
        });
    });
    g.finish();
    let s = store.stats();
    eprintln!(
        "after benches: {} coins, {:.1} index B/coin, cache {} B in {} entries",
        s.coins, s.index_bytes_per_coin, s.cache_bytes, s.cache_entries
    );

    // MuHash tracking cost inside connect/disconnect (parallel per block): a 10k-output block
    // connected then disconnected = 20k MuHash updates, with tracking on and off.
    for track in [false, true] {
        let d = tempfile::tempdir().unwrap();
        let mut s = ChainStore::open(
            d.path(),
            &StoreConfig {
                track_muhash: track,
                ..cfg()
            },
        )
        .unwrap();
        let creates: Vec<_> = (0..10_000).map(|_| coin(&mut rng, 0)).collect();
        c.bench_function(
            &format!(
                "connect_disconnect_10k_muhash_{}",
                if track { "on" } else { "off" }
            ),
            |b| {
                b.iter(|| {
                    s.connect_block(0, [7; 32], &[], &creates).unwrap();
                    s.disconnect_block(&[7; 32]).unwrap();
                });
            },
        );
    }

    let (op, cn) = coin(&mut rng, 1);
    let el = coin_element(&op, &cn);
    let mut m = MuHash3072::new();
    m.remove(b"so that finalize needs a real inverse");
    c.bench_function("muhash_coin_insert", |b| {
        b.iter(|| m.insert(std::hint::black_box(&el)));
    });
    c.bench_function("muhash_finalize", |b| {
        b.iter(|| std::hint::black_box(m.finalize()));
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
