//! Unit tests against simple references (num-bigint, libsecp256k1).

mod ecdsa;
mod field;
pub(crate) mod reference;
mod scalar;
mod schnorr;
