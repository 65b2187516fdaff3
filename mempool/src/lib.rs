//! Sans-IO transaction memory pool with Bitcoin Core's relay policy.
//!
//! Callers hand in transactions, the chain tip's coins and facts ([`ChainTip`]) and the time;
//! the pool answers with verdicts ([`Accepted`] / [`Reject`] with Core's reject reasons) and
//! the transactions that left it ([`Removed`]). No threads, no I/O, no clock reads.

pub mod accept;
pub mod cluster;
pub mod entry;
pub mod feerate;
pub mod options;
pub mod orphan;
pub mod package;
pub mod policy;
pub mod pool;
pub mod reject;
pub mod reorg;
mod truc;

pub use accept::{script_error_string, AcceptArgs, Accepted, ChainTip, CoinSource};
pub use entry::{Entry, EntryInfo, PoolInfo};
pub use feerate::{FeeFrac, FeeRate};
pub use options::MempoolOptions;
pub use orphan::{OrphanLimits, Orphanage};
pub use package::{PackageResult, MAX_PACKAGE_COUNT, MAX_PACKAGE_WEIGHT};
pub use pool::{Mempool, RemovalReason, Removed};
pub use reject::{Reject, RejectKind};
