//! secp256k1 signature verification across SIMD lanes.
//!
//! Each lane of a vector register verifies one independent signature: eight lanes with
//! AVX-512 IFMA, and a portable backend with identical semantics that serves as the reference
//! in tests. libsecp256k1 (the `secp256k1` crate) stays the referee: every result here must
//! equal its result, the rare lanes that meet an exceptional case in the group law are handed
//! to it, and machines without the vector units use it for everything.
//!
//! Layers, bottom up:
//! - `lanes`: u64 vectors (portable, IFMA) with the IFMA multiply semantics;
//! - `field`: GF(p) in radix 2^52, written once over the lanes;
//!
//! Nothing here is constant time: verification only handles public data.
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

pub(crate) mod field;
pub(crate) mod lanes;

#[cfg(test)]
mod tests;
