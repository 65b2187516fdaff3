//! Zero-copy parsing throughput: `Block::parse` of real mainnet blocks (413567, Core's own
//! DeserializeBlockTest block, and the taproot-era 866342), alone and with every txid and wtxid
//! hashed through the multi-lane `sha256d_many`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sluice_bench::shared_data;
use sluice_consensus::block::Block;
use sluice_consensus::hash::{sha256d_many, Hash256};
use sluice_consensus::tx::Transaction;

fn parse(c: &mut Criterion) {
    for name in ["mainnet-413567", "mainnet-866342"] {
        let raw = shared_data(&format!("blocks/{name}.block"));
        let mut g = c.benchmark_group(format!("parse_{name}"));
        g.throughput(Throughput::Bytes(raw.len() as u64));
        g.bench_function("block_parse", |b| {
            b.iter(|| Block::parse(&raw).unwrap().transactions.len());
        });
        g.bench_function("block_parse_txids_wtxids", |b| {
            b.iter(|| {
                let block = Block::parse(&raw).unwrap();
                let stripped: Vec<_> = block
                    .transactions
                    .iter()
                    .map(Transaction::non_witness_bytes)
                    .collect();
                let msgs: Vec<&[u8]> = stripped.iter().map(AsRef::as_ref).collect();
                let full: Vec<&[u8]> = block.transactions.iter().map(Transaction::raw).collect();
                let mut txids: Vec<Hash256> = vec![[0; 32]; msgs.len()];
                let mut wtxids: Vec<Hash256> = vec![[0; 32]; full.len()];
                sha256d_many(&msgs, &mut txids);
                sha256d_many(&full, &mut wtxids);
                (txids, wtxids)
            });
        });
        g.finish();
    }
}

criterion_group!(benches, parse);
criterion_main!(benches);
