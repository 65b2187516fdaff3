//! 4x64-bit field arithmetic used only for the long exponentiation chains (square roots and
//! inversions), where a squaring dominates: with full 64-bit limbs a square needs 10 limb
//! products plus 4 for the reduction (2^256 ≡ 0x1000003D1), fewer than the 5x52 form's ~20.
//! Values are kept below 2^256 (not necessarily below p); `Fe` converts in and out.

use super::field::Fe;

const C: u64 = 0x1_0000_03D1;

#[inline(always)]
fn m(x: u64, y: u64) -> u128 {
    u128::from(x) * u128::from(y)
}

/// Folds an 8-limb product into 4 limbs below 2^256.
#[inline(always)]
fn reduce(r: [u64; 8]) -> [u64; 4] {
    let mut c = m(r[4], C) + u128::from(r[0]);
    let l0 = c as u64;
    c >>= 64;
    c += m(r[5], C) + u128::from(r[1]);
    let l1 = c as u64;
    c >>= 64;
    c += m(r[6], C) + u128::from(r[2]);
    let l2 = c as u64;
    c >>= 64;
    c += m(r[7], C) + u128::from(r[3]);
    let l3 = c as u64;
    c >>= 64;
    // c < 2^34: fold once more.
    let mut d = c * u128::from(C) + u128::from(l0);
    let l0 = d as u64;
    d >>= 64;
    d += u128::from(l1);
    let l1 = d as u64;
    d >>= 64;
    d += u128::from(l2);
    let l2 = d as u64;
    d >>= 64;
    d += u128::from(l3);
    let l3 = d as u64;
    d >>= 64;
    // A last carry means the low part is tiny, so adding C cannot overflow again.
    let extra = if d == 0 { 0 } else { C };
    let (l0, o) = l0.overflowing_add(extra);
    let (l1, o) = l1.overflowing_add(u64::from(o));
    let (l2, o) = l2.overflowing_add(u64::from(o));
    let l3 = l3.wrapping_add(u64::from(o));
    [l0, l1, l2, l3]
}

#[inline(always)]
fn sqr(a: &[u64; 4]) -> [u64; 4] {
    let [a0, a1, a2, a3] = *a;
    let mut r = [0u64; 8];
    // Off-diagonal products.
    let mut c = m(a0, a1);
    r[1] = c as u64;
    c >>= 64;
    c += m(a0, a2);
    r[2] = c as u64;
    c >>= 64;
    c += m(a0, a3);
    r[3] = c as u64;
    c >>= 64;
    r[4] = c as u64;
    c = m(a1, a2) + u128::from(r[3]);
    r[3] = c as u64;
    c >>= 64;
    c += m(a1, a3) + u128::from(r[4]);
    r[4] = c as u64;
    c >>= 64;
    r[5] = c as u64;
    c = m(a2, a3) + u128::from(r[5]);
    r[5] = c as u64;
    c >>= 64;
    r[6] = c as u64;
    // Double them.
    r[7] = r[6] >> 63;
    r[6] = (r[6] << 1) | (r[5] >> 63);
    r[5] = (r[5] << 1) | (r[4] >> 63);
    r[4] = (r[4] << 1) | (r[3] >> 63);
    r[3] = (r[3] << 1) | (r[2] >> 63);
    r[2] = (r[2] << 1) | (r[1] >> 63);
    r[1] <<= 1;
    // Add the squares.
    let mut c: u128 = 0;
    for (i, &ai) in [a0, a1, a2, a3].iter().enumerate() {
        let sq = m(ai, ai);
        c += u128::from(r[2 * i]) + (sq & u128::from(u64::MAX));
        r[2 * i] = c as u64;
        c >>= 64;
        c += u128::from(r[2 * i + 1]) + (sq >> 64);
        r[2 * i + 1] = c as u64;
        c >>= 64;
    }
    reduce(r)
}

#[inline(always)]
fn mul(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    let mut r = [0u64; 8];
    for (i, &x) in a.iter().enumerate() {
        let mut c: u128 = 0;
        for (j, &y) in b.iter().enumerate() {
            c += m(x, y) + u128::from(r[i + j]);
            r[i + j] = c as u64;
            c >>= 64;
        }
        r[i + 4] = c as u64;
    }
    reduce(r)
}

fn sqr_n(a: &[u64; 4], k: usize) -> [u64; 4] {
    let mut r = *a;
    for _ in 0..k {
        r = sqr(&r);
    }
    r
}

fn to4(fe: &Fe) -> [u64; 4] {
    let b = fe.to_bytes();
    let mut out = [0u64; 4];
    for (i, limb) in out.iter_mut().enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[(3 - i) * 8..(4 - i) * 8]);
        *limb = u64::from_be_bytes(w);
    }
    out
}

fn from4(a: &[u64; 4]) -> Fe {
    let mut b = [0u8; 32];
    for (i, limb) in a.iter().enumerate() {
        b[(3 - i) * 8..(4 - i) * 8].copy_from_slice(&limb.to_be_bytes());
    }
    Fe::from_bytes_unchecked(&b)
}

/// libsecp256k1's addition-chain prefix: (x2, x22, x223) with `xk = a^(2^k - 1)`.
fn chain_prefix(a: &[u64; 4]) -> ([u64; 4], [u64; 4], [u64; 4]) {
    let x2 = mul(&sqr(a), a);
    let x3 = mul(&sqr(&x2), a);
    let x6 = mul(&sqr_n(&x3, 3), &x3);
    let x9 = mul(&sqr_n(&x6, 3), &x3);
    let x11 = mul(&sqr_n(&x9, 2), &x2);
    let x22 = mul(&sqr_n(&x11, 11), &x11);
    let x44 = mul(&sqr_n(&x22, 22), &x22);
    let x88 = mul(&sqr_n(&x44, 44), &x44);
    let x176 = mul(&sqr_n(&x88, 88), &x88);
    let x220 = mul(&sqr_n(&x176, 44), &x44);
    let x223 = mul(&sqr_n(&x220, 3), &x3);
    (x2, x22, x223)
}

/// `a^((p+1)/4)`: a square root of `a` when one exists (the caller checks).
#[must_use]
pub fn pow_sqrt(a: &Fe) -> Fe {
    let a4 = to4(a);
    let (x2, x22, x223) = chain_prefix(&a4);
    let t = mul(&sqr_n(&x223, 23), &x22);
    let t = mul(&sqr_n(&t, 6), &x2);
    from4(&sqr_n(&t, 2))
}

/// `a^(p-2)`: the inverse (0 for 0).
#[must_use]
pub fn pow_inv(a: &Fe) -> Fe {
    let a4 = to4(a);
    let (x2, x22, x223) = chain_prefix(&a4);
    let t = mul(&sqr_n(&x223, 23), &x22);
    let t = mul(&sqr_n(&t, 5), &a4);
    let t = mul(&sqr_n(&t, 3), &x2);
    from4(&mul(&sqr_n(&t, 2), &a4))
}

/// `K` unrelated elements advanced in lock step. A squaring is one long dependency chain
/// (multiplies, then carries), so a lone exponentiation leaves execution units idle; squaring
/// independent values in one loop body lets the out-of-order core overlap them.
type Lanes<const K: usize> = [[u64; 4]; K];

fn sqr_n_lanes<const K: usize>(a: &Lanes<K>, k: usize) -> Lanes<K> {
    let mut r = *a;
    for _ in 0..k {
        for x in &mut r {
            *x = sqr(x);
        }
    }
    r
}

#[inline(always)]
fn mul_lanes<const K: usize>(a: &Lanes<K>, b: &Lanes<K>) -> Lanes<K> {
    let mut r = *a;
    for (x, y) in r.iter_mut().zip(b) {
        *x = mul(x, y);
    }
    r
}

/// [`pow_sqrt`] of `K` elements at once (the same chain, lanes interleaved).
#[must_use]
pub fn pow_sqrt_lanes<const K: usize>(a: &[Fe; K]) -> [Fe; K] {
    let a2 = a.map(|x| to4(&x));
    let x2 = mul_lanes(&sqr_n_lanes(&a2, 1), &a2);
    let x3 = mul_lanes(&sqr_n_lanes(&x2, 1), &a2);
    let x6 = mul_lanes(&sqr_n_lanes(&x3, 3), &x3);
    let x9 = mul_lanes(&sqr_n_lanes(&x6, 3), &x3);
    let x11 = mul_lanes(&sqr_n_lanes(&x9, 2), &x2);
    let x22 = mul_lanes(&sqr_n_lanes(&x11, 11), &x11);
    let x44 = mul_lanes(&sqr_n_lanes(&x22, 22), &x22);
    let x88 = mul_lanes(&sqr_n_lanes(&x44, 44), &x44);
    let x176 = mul_lanes(&sqr_n_lanes(&x88, 88), &x88);
    let x220 = mul_lanes(&sqr_n_lanes(&x176, 44), &x44);
    let x223 = mul_lanes(&sqr_n_lanes(&x220, 3), &x3);
    let t = mul_lanes(&sqr_n_lanes(&x223, 23), &x22);
    let t = mul_lanes(&sqr_n_lanes(&t, 6), &x2);
    sqr_n_lanes(&t, 2).map(|x| from4(&x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn limb_ops_match_5x52() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(31);
        let p_minus = |k: u8| {
            let mut b = [0xFF; 32];
            b[27] = 0xFE;
            b[28] = 0xFF;
            b[29] = 0xFF;
            b[30] = 0xFC;
            b[31] = 0x2F - k;
            b
        };
        let mut cases: Vec<[u8; 32]> = (0..300)
            .map(|_| {
                let mut b: [u8; 32] = rng.gen();
                b[0] &= 0x7F;
                b
            })
            .collect();
        cases.extend([p_minus(1), p_minus(2), [0; 32], {
            let mut b = [0; 32];
            b[31] = 1;
            b
        }]);
        for (i, a) in cases.iter().enumerate() {
            let b = &cases[(i + 1) % cases.len()];
            let (fa, fb) = (Fe::from_bytes_unchecked(a), Fe::from_bytes_unchecked(b));
            assert!(from4(&sqr(&to4(&fa))).equals(&fa.sqr()));
            assert!(from4(&mul(&to4(&fa), &to4(&fb))).equals(&fa.mul(&fb)));
        }
        // Inputs ≥ p (but < 2^256) are allowed inside the chains.
        let big = [u64::MAX; 4];
        let fe_big = from4(&big);
        assert!(from4(&sqr(&big)).equals(&fe_big.sqr()));
    }
}
