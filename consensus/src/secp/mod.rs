//! secp256k1 arithmetic and BIP340 Schnorr verification, single and batch, in pure Rust.

pub mod batch;
pub mod field;
pub mod group;
pub mod msm;
pub mod scalar;
pub mod schnorr;

pub use batch::{BatchFailure, BatchVerifier};
pub use schnorr::verify_schnorr;
