//! secp256k1 arithmetic and BIP340 Schnorr verification, single and batch, in pure Rust.
//!
//! Entry points: [`verify_schnorr`] for one signature and [`BatchVerifier`] for many (one
//! multi-scalar multiplication, failures located exactly). Layers, bottom up:
//! - `field`: GF(p) in 5x52-bit limbs (libsecp256k1's layout); `field4` runs the long
//!   square-root/inversion exponentiation chains in 4x64-bit limbs.
//! - `scalar`: integers mod n, and the GLV split k = k1 + λ·k2 with 128-bit halves.
//! - `group`: affine/Jacobian points, the group law, `lift_x`, the endomorphism (x, y) ↦ (βx, y).
//! - `msm`: Σ kᵢ·Pᵢ by Strauss (few terms, wide precomputed tables for G) or `pippenger`
//!   (many terms, affine bucket sums with batched inversions).
//! - `schnorr`, `batch`: BIP340 on top.
//!
//! Nothing here is constant time or uses `unsafe`: verification only sees public data.

pub mod batch;
pub mod field;
mod field4;
pub mod group;
pub mod msm;
pub mod pippenger;
pub mod scalar;
pub mod schnorr;

pub use batch::{BatchFailure, BatchVerifier};
pub use schnorr::verify_schnorr;
