//! Multi-scalar multiplication Σ kᵢ·Pᵢ with 128-bit scalars: Strauss (interleaved wNAF) for few
//! terms, Pippenger (signed-digit bucket method) for many.
//!
//! Full 256-bit scalars enter through [`Terms::push_full`], which applies the GLV endomorphism
//! (k·P = k1·P + k2·λP with |k1|, |k2| < 2^128), so every term has a 128-bit scalar and the
//! number of doublings is halved. Signs are folded into the points.

use super::group::{Affine, Jacobian};
use super::scalar::Scalar;

/// Up to this many terms Strauss beats Pippenger (measured with the `batch_schnorr` bench).
pub const STRAUSS_MAX_TERMS: usize = 40;

/// Bits covered by the recodings: 128-bit scalars plus one bit for the final carry.
const BITS: usize = 129;

/// A list of (point, 128-bit scalar) terms.
#[derive(Clone, Debug, Default)]
pub struct Terms {
    points: Vec<Affine>,
    scalars: Vec<u128>,
}

impl Terms {
    #[must_use]
    pub fn with_capacity(n: usize) -> Terms {
        Terms {
            points: Vec::with_capacity(n),
            scalars: Vec::with_capacity(n),
        }
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.points.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Adds `(negate ? -k : k)·p` for a 128-bit `k`.
    pub fn push_u128(&mut self, p: &Affine, negate: bool, k: u128) {
        if k == 0 || p.infinity {
            return;
        }
        self.points.push(if negate { p.neg() } else { *p });
        self.scalars.push(k);
    }

    /// Adds `k·p` for any scalar, via the GLV split into two 128-bit terms.
    pub fn push_full(&mut self, p: &Affine, k: &Scalar) {
        let (k1, k2) = k.split_lambda();
        match (k1.to_signed_u128(), k2.to_signed_u128()) {
            (Some((n1, a1)), Some((n2, a2))) => {
                self.push_u128(p, n1, a1);
                self.push_u128(&p.endo(), n2, a2);
            }
            // libsecp256k1 proves the split halves fit in 128 bits; should that ever fail, use
            // k = lo + 2^128·hi without the endomorphism rather than give a wrong answer.
            _ => {
                let lo = u128::from(k.d[0]) | (u128::from(k.d[1]) << 64);
                let hi = u128::from(k.d[2]) | (u128::from(k.d[3]) << 64);
                self.push_u128(p, false, lo);
                let mut shifted = Jacobian::from_affine(p);
                for _ in 0..128 {
                    shifted = shifted.double();
                }
                self.push_u128(&shifted.to_affine(), false, hi);
            }
        }
    }

    /// Σ kᵢ·Pᵢ, choosing the algorithm by size.
    #[must_use]
    pub fn sum(&self) -> Jacobian {
        if self.len() <= STRAUSS_MAX_TERMS {
            self.strauss()
        } else {
            self.pippenger()
        }
    }

    /// Strauss: one shared doubling chain, each term adding odd multiples from its wNAF.
    #[must_use]
    pub fn strauss(&self) -> Jacobian {
        const W: usize = 5;
        const TABLE: usize = 1 << (W - 2);
        if self.is_empty() {
            return Jacobian::INFINITY;
        }
        // Odd multiples P, 3P, .., 15P of every point, made affine with one inversion.
        let mut jac = Vec::with_capacity(self.len() * TABLE);
        for p in &self.points {
            let pj = Jacobian::from_affine(p);
            let p2 = pj.double();
            let mut cur = pj;
            jac.push(cur);
            for _ in 1..TABLE {
                cur = cur.add(&p2);
                jac.push(cur);
            }
        }
        let table = Jacobian::batch_to_affine(&jac);
        let wnafs: Vec<[i8; BITS]> = self.scalars.iter().map(|&k| wnaf(k, W)).collect();
        let top = wnafs
            .iter()
            .filter_map(|w| w.iter().rposition(|&d| d != 0))
            .max();
        let Some(top) = top else {
            return Jacobian::INFINITY;
        };
        let mut acc = Jacobian::INFINITY;
        for bit in (0..=top).rev() {
            acc = acc.double();
            for (t, w) in wnafs.iter().enumerate() {
                let d = w[bit];
                if d != 0 {
                    let idx = t * TABLE + usize::from(d.unsigned_abs() / 2);
                    if let Some(p) = table.get(idx) {
                        acc = if d > 0 {
                            acc.add_affine(p)
                        } else {
                            acc.add_affine(&p.neg())
                        };
                    }
                }
            }
        }
        acc
    }

    /// Pippenger: per c-bit signed window, drop each point into the bucket of its digit, then
    /// sum the buckets with a running sum (Σ j·Bⱼ in 2·2^(c-1) additions).
    #[must_use]
    pub fn pippenger(&self) -> Jacobian {
        let n = self.len();
        if n == 0 {
            return Jacobian::INFINITY;
        }
        let c = pippenger_window(n);
        let windows = BITS.div_ceil(c);
        // Window-major signed digits in (-2^(c-1), 2^(c-1)].
        let mut digits = vec![0i32; windows * n];
        for (i, &k) in self.scalars.iter().enumerate() {
            let mut carry = 0u32;
            for w in 0..windows {
                let raw = bits_u128(k, w * c, c) + carry;
                let half = 1u32 << (c - 1);
                let d = if raw > half {
                    carry = 1;
                    i64::from(raw) - (1i64 << c)
                } else {
                    carry = 0;
                    i64::from(raw)
                };
                if let Some(slot) = digits.get_mut(w * n + i) {
                    *slot = d as i32;
                }
            }
        }
        let nb = 1usize << (c - 1);
        let mut buckets = vec![Jacobian::INFINITY; nb];
        let mut acc = Jacobian::INFINITY;
        for w in (0..windows).rev() {
            for _ in 0..c {
                acc = acc.double();
            }
            buckets.fill(Jacobian::INFINITY);
            let row = digits.get(w * n..(w + 1) * n).unwrap_or(&[]);
            for (d, p) in row.iter().zip(&self.points) {
                let d = *d;
                if d > 0 {
                    if let Some(b) = buckets.get_mut(d.unsigned_abs() as usize - 1) {
                        *b = b.add_affine(p);
                    }
                } else if d < 0 {
                    if let Some(b) = buckets.get_mut(d.unsigned_abs() as usize - 1) {
                        *b = b.add_affine(&p.neg());
                    }
                }
            }
            let mut running = Jacobian::INFINITY;
            let mut sum = Jacobian::INFINITY;
            for b in buckets.iter().rev() {
                running = running.add(b);
                sum = sum.add(&running);
            }
            acc = acc.add(&sum);
        }
        acc
    }
}

/// Bucket window width minimising windows·(points + 2^c) for `n` terms.
fn pippenger_window(n: usize) -> usize {
    let cost = |c: usize| BITS.div_ceil(c) * (n + (3 << c) / 2);
    (2..=16).min_by_key(|&c| cost(c)).unwrap_or(8)
}

/// `count` bits of `k` from bit `offset` (zero beyond bit 127).
fn bits_u128(k: u128, offset: usize, count: usize) -> u32 {
    if offset >= 128 {
        return 0;
    }
    ((k >> offset) & ((1u128 << count) - 1)) as u32
}

/// Width-`w` NAF of a 128-bit scalar: odd digits |d| < 2^(w-1), at least w-1 zeros between
/// non-zero digits (libsecp256k1's `ecmult_wnaf` recoding).
fn wnaf(k: u128, w: usize) -> [i8; BITS] {
    let mut out = [0i8; BITS];
    let mut carry = 0u32;
    let mut bit = 0;
    while bit < BITS {
        if bits_u128(k, bit, 1) == carry {
            bit += 1;
            continue;
        }
        let now = w.min(BITS - bit);
        let mut word = i64::from(bits_u128(k, bit, now) + carry);
        carry = u32::from((word >> (w - 1)) & 1 == 1);
        word -= i64::from(carry) << w;
        if let Some(slot) = out.get_mut(bit) {
            *slot = word as i8;
        }
        bit += now;
    }
    out
}

#[cfg(test)]
#[allow(clippy::cast_sign_loss, clippy::cast_possible_wrap)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn random_point(rng: &mut impl Rng) -> Affine {
        loop {
            let mut b = [0u8; 32];
            rng.fill(&mut b);
            if let Some(p) = Affine::from_xonly(&b) {
                return if rng.gen() { p } else { p.neg() };
            }
        }
    }

    fn naive(points: &[Affine], scalars: &[Scalar]) -> Affine {
        let mut acc = Jacobian::INFINITY;
        for (p, k) in points.iter().zip(scalars) {
            let mut term = Jacobian::INFINITY;
            for i in (0..256).rev() {
                term = term.double();
                if k.bit(i) == 1 {
                    term = term.add_affine(p);
                }
            }
            acc = acc.add(&term);
        }
        acc.to_affine()
    }

    #[test]
    fn wnaf_reconstructs_scalar() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for w in 2..=8 {
            for _ in 0..200 {
                let k: u128 = rng.gen();
                let digits = wnaf(k, w);
                let mut v: i128 = 0;
                let mut hi_sum: i128 = 0; // digits can reach bit 128, tracked separately
                for (i, &d) in digits.iter().enumerate() {
                    if d != 0 {
                        assert!(d % 2 != 0 && i32::from(d).abs() < (1 << (w - 1)));
                    }
                    if i == 128 {
                        hi_sum = i128::from(d);
                    } else {
                        v = v.wrapping_add(i128::from(d).wrapping_shl(i as u32));
                    }
                }
                // k = v + hi_sum·2^128 (mod 2^128 the second part vanishes).
                assert_eq!(v as u128, k);
                assert!(hi_sum == 0 || hi_sum == 1);
            }
        }
    }

    #[test]
    fn strauss_and_pippenger_match_naive() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        for &n in &[1usize, 2, 5, 17, 60] {
            let points: Vec<Affine> = (0..n).map(|_| random_point(&mut rng)).collect();
            let scalars: Vec<Scalar> = (0..n)
                .map(|_| {
                    let mut b = [0u8; 32];
                    rng.fill(&mut b);
                    Scalar::from_bytes_reduced(&b)
                })
                .collect();
            let mut terms = Terms::default();
            for (p, k) in points.iter().zip(&scalars) {
                terms.push_full(p, k);
            }
            let want = naive(&points, &scalars);
            assert!(terms.strauss().to_affine().equals(&want), "strauss n={n}");
            assert!(
                terms.pippenger().to_affine().equals(&want),
                "pippenger n={n}"
            );
            assert!(terms.sum().to_affine().equals(&want));
        }
    }

    #[test]
    fn cancelling_terms_give_infinity() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
        let p = random_point(&mut rng);
        let mut terms = Terms::default();
        let k = Scalar::from_u128(rng.gen());
        terms.push_full(&p, &k);
        terms.push_full(&p, &k.negate());
        // Same point in many buckets and doubling cases inside buckets.
        for _ in 0..40 {
            terms.push_full(&p, &Scalar::from_u128(5));
            terms.push_full(&p.neg(), &Scalar::from_u128(5));
        }
        assert!(terms.strauss().is_infinity());
        assert!(terms.pippenger().is_infinity());
    }
}
