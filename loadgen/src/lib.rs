//! Generator of really-signed regtest chains and invalid-block mutants (see README.md).
//!
//! Transactions are built and signed with rust-bitcoin and libsecp256k1 only, so the generator
//! checks Sluice's validator independently.

pub mod block;
mod error;
mod generate;
mod mutate;
mod profile;
mod rules;
pub mod sign;
pub mod wallet;

pub use error::LoadgenError;
pub use generate::{
    generate, ChainSpec, Manifest, RangeStats, SigStats, Timing, FULL_BLOCK_WEIGHT, RANGE_BLOCKS,
};
pub use mutate::{mutate, read_chain, Mutant, MutantLabel};
pub use profile::{Profile, PROFILE_NAMES};
