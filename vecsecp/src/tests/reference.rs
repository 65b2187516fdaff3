//! Big-integer references for the field and scalar tests.

use num_bigint::BigUint;
use rand::Rng;

/// p = 2^256 − 2^32 − 977.
pub(crate) fn p() -> BigUint {
    (BigUint::from(1u8) << 256u32) - (BigUint::from(1u8) << 32u32) - BigUint::from(977u32)
}

/// n, the group order.
pub(crate) fn n() -> BigUint {
    BigUint::parse_bytes(
        b"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141",
        16,
    )
    .expect("constant")
}

/// The value of five radix-2^52 limbs.
pub(crate) fn from_limbs(l: &[u64; 5]) -> BigUint {
    let mut v = BigUint::from(0u8);
    for &x in l.iter().rev() {
        v = (v << 52u32) + BigUint::from(x);
    }
    v
}

/// Canonical limbs of `v mod p`.
pub(crate) fn to_limbs(v: &BigUint) -> [u64; 5] {
    let v = v % p();
    let mask = (BigUint::from(1u8) << 52u32) - 1u8;
    let mut out = [0u64; 5];
    for (j, x) in out.iter_mut().enumerate() {
        let limb: BigUint = (&v >> (52 * j)) & &mask;
        *x = limb.iter_u64_digits().next().unwrap_or(0);
    }
    out
}

/// A 256-bit integer from big-endian bytes.
pub(crate) fn from_be(b: &[u8; 32]) -> BigUint {
    BigUint::from_bytes_be(b)
}

/// 32 big-endian bytes of `v` (< 2^256).
pub(crate) fn to_be(v: &BigUint) -> [u8; 32] {
    let b = v.to_bytes_be();
    let mut out = [0u8; 32];
    out[32 - b.len()..].copy_from_slice(&b);
    out
}

/// Random limbs of magnitude 1 that stress the bounds: some lanes take the largest limbs the
/// magnitude allows, some are small, some are uniform below 2^256.
pub(crate) fn rand_limbs(rng: &mut impl Rng) -> [u64; 5] {
    let m52 = (1u64 << 52) - 1;
    match rng.gen_range(0..6) {
        0 => [m52, m52, m52, m52, (1 << 48) + (1 << 11)],
        1 => [
            rng.gen_range(0..=m52),
            m52,
            m52,
            rng.gen_range(0..=m52),
            rng.gen_range(0..(1u64 << 49)),
        ],
        2 => [rng.gen_range(0..4), 0, 0, 0, 0],
        _ => [
            rng.gen::<u64>() & m52,
            rng.gen::<u64>() & m52,
            rng.gen::<u64>() & m52,
            rng.gen::<u64>() & m52,
            rng.gen::<u64>() >> 16,
        ],
    }
}
