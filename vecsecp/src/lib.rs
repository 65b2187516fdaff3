//! secp256k1 signature verification across SIMD lanes.
//!
//! Each lane of a vector register verifies one independent signature: eight lanes with
//! AVX-512 IFMA, four with AVX2, and a portable backend with identical semantics that serves as the reference
//! in tests. libsecp256k1 (the `secp256k1` crate) stays the referee: every result here must
//! equal its result, the rare lanes that meet an exceptional case in the group law are handed
//! to it, and machines without the vector units use it for everything.
//!
//! Layers, bottom up:
//! - `lanes`: u64 vectors (portable, IFMA, AVX2) with the vector multiply semantics;
//! - `field`, `field26`: GF(p) in radix 2^52, written once over the lanes (products through
//!   52-bit multiplies, or 32-bit ones in radix 2^26 where the lanes lack the former);
//! - `scalar`, `recode`: integers mod n (plain u64), the GLV split, signed odd digits;
//! - `point`, `gtable`: the group law per lane, per-lane tables of P, shared tables of G;
//! - `chain`: u1·G + u2·P per lane; `ecdsa`, `schnorr`: one verification per lane;
//! - `verify`, `bip340`: the entry points and dispatch.
//!
//! Entry points: [`verify_ecdsa_many`] and [`verify_schnorr_many`] (parsed signatures and
//! keys, detected backend); [`verify_ecdsa_raw`] and [`verify_schnorr_raw`] (raw bytes,
//! chosen [`Backend`]).
//!
//! Nothing here is constant time: verification only handles public data.
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

mod bip340;
mod chain;
mod ecdsa;
pub(crate) mod field;
mod field26;
pub mod fuzzing;
mod gtable;
pub(crate) mod lanes;
mod point;
mod recode;
pub(crate) mod scalar;
mod schnorr;
mod verify;

pub use bip340::{verify_schnorr_many, verify_schnorr_raw, RawSchnorr};
pub use fuzzing::differential_check;
pub use verify::{verify_ecdsa_many, verify_ecdsa_raw, Backend, RawEcdsa};

#[cfg(test)]
mod tests;
