//! Bitcoin Core's kernel as referee (see README.md).
//!
//! [`CoreNode`] feeds blocks to Core's own `ChainstateManager` and reports a [`BlockVerdict`]
//! built from the block-checked validation callback *and* the active tip; [`verify_input`]
//! wraps Core's script interpreter for script differential tests.

mod error;
mod log_capture;
mod node;
mod script;

pub use error::OracleError;
pub use node::{BlockVerdict, CoreChain, CoreConfig, CoreNode, ImportedBlock, SpentCoin, Tip};
pub use script::{flags, verify_input, SpentOutput};
