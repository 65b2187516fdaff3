//! Bitcoin in the pipeline: the block job types, the chain snapshot stages read ancestors
//! from, and the [`crate::engine::Stages`] implementation.

pub mod block;
pub mod snapshot;
pub mod stages;

pub use block::{BlockJob, BlockReject, Committed};
pub use snapshot::ChainSnapshot;
pub use stages::BitcoinStages;
