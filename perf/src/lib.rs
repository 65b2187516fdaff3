//! sluice-perf: races Sluice against Bitcoin Core's validation engine and writes reports.
//!
//! - [`race::race`] (`perf race`): whole-chain import race, one child process per run.
//! - [`engine::run`] (`perf engine-run`): one engine run in this process, JSON result.
//! - [`race_block`] (`perf race-block`): script verification of one real block's inputs.
//! - [`ibd::race`] (`perf ibd`): initial block download over loopback P2P, Sluice against
//!   bitcoind, both syncing from a seed bitcoind.
//! - [`lossy::run::measure`] (`perf lossy`): block propagation between two Sluice nodes over
//!   a lossy link in network namespaces, QUIC against TCP v2.
//! - [`report`], [`markdown`], [`plot`]: report.json / report.md / SVG output.

pub mod block_inputs;
pub mod chain;
pub mod engine;
pub mod ibd;
pub mod lossy;
pub mod lower_bound;
pub mod machine;
pub mod markdown;
pub mod plot;
pub mod race;
#[cfg(feature = "kernel")]
pub mod race_block;
pub mod report;
pub mod sigcount;
pub mod stats;
pub mod usage;
