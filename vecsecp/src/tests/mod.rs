//! Unit tests against simple references (num-bigint, libsecp256k1).

mod field;
pub(crate) mod reference;
