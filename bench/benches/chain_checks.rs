//! Chain-rule throughput: header validation along real mainnet headers, and CheckBlock on a
//! large real block.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sluice_bench::shared_data;
use sluice_consensus::block::Block;
use sluice_consensus::chain::{check_block, HeaderChain, Params};
use sluice_consensus::header::Header;

fn headers(c: &mut Criterion) {
    let params = Params::mainnet();
    let raw = shared_data("headers/mainnet-0-32259.headers");
    let hs: Vec<Header> = raw
        .chunks_exact(80)
        .map(|c| Header::decode(c).unwrap())
        .collect();
    let mut g = c.benchmark_group("chain_headers");
    g.throughput(Throughput::Elements(hs.len() as u64 - 1));
    g.bench_function("accept_mainnet_0_32259", |b| {
        b.iter(|| {
            let mut chain = HeaderChain::from_genesis(&params);
            for h in &hs[1..] {
                chain.accept(h, &params, 1_767_225_600).unwrap();
            }
            chain
        });
    });
    g.finish();
}

fn blocks(c: &mut Criterion) {
    let params = Params::mainnet();
    let raw = shared_data("blocks/mainnet-866342.block");
    let mut g = c.benchmark_group("chain_check_block");
    g.throughput(Throughput::Bytes(raw.len() as u64));
    g.bench_function("parse_and_check_866342", |b| {
        b.iter(|| {
            let block = Block::parse(&raw).unwrap();
            check_block(&block, &params).unwrap();
        });
    });
    g.finish();
}

criterion_group!(benches, headers, blocks);
criterion_main!(benches);
