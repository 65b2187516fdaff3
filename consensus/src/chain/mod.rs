//! Chain rules: network parameters, proof of work and the difficulty schedule, header checks,
//! block checks, transaction input and lock-time rules, subsidy and script-flag selection.
//!
//! Sans-IO like the rest of the crate: ancestors come through [`AncestorView`], time is a
//! parameter, coins are supplied by the caller.

pub mod ancestors;
pub mod block_check;
pub mod block_error;
mod genesis;
pub mod header_chain;
pub mod header_check;
pub mod locktime;
pub mod params;
pub mod pow;
pub mod script_flags;
pub mod signet;
pub mod subsidy;
pub mod tx_inputs;
pub mod u256;

pub use ancestors::{AncestorInfo, AncestorView, MissingAncestor};
pub use block_check::{check_block, contextual_check_block};
pub use block_error::{BlockError, TxCheckError, TxInputError};
pub use header_chain::HeaderChain;
pub use header_check::{
    check_block_header, check_header, contextual_check_block_header, HeaderError,
};
pub use params::{Network, Params};
pub use pow::{block_proof, check_proof_of_work, next_work_required};
pub use script_flags::script_flags;
pub use subsidy::block_subsidy as subsidy;
pub use u256::U256;
