//! Multi-scalar multiplication Σ kᵢ·Pᵢ with 128-bit scalars: Strauss (interleaved wNAF) for few
//! terms, Pippenger (signed-digit bucket method) for many.
//!
//! Full 256-bit scalars enter through [`Terms::push_full`], which applies the GLV endomorphism
//! (k·P = k1·P + k2·λP with |k1|, |k2| < 2^128), so every term has a 128-bit scalar and the
//! number of doublings is halved. Signs are folded into the points.

use std::sync::OnceLock;

use super::group::{Affine, Jacobian};
use super::scalar::Scalar;

/// wNAF width for the generator in Strauss: its tables are computed once and shared.
const W_G: usize = 12;
/// wNAF width for other points in Strauss (tables built per call).
const W_P: usize = 5;

/// Odd multiples G, 3G, .., (2^(W_G-1) - 1)·G and the same for λG, affine.
fn g_tables() -> &'static (Vec<Affine>, Vec<Affine>) {
    static TABLES: OnceLock<(Vec<Affine>, Vec<Affine>)> = OnceLock::new();
    TABLES.get_or_init(|| {
        let g = odd_multiples(&[Affine::GENERATOR], 1 << (W_G - 2));
        let lg = g.iter().map(Affine::endo).collect();
        (g, lg)
    })
}

/// `count` odd multiples of each point, in affine form with one shared inversion.
fn odd_multiples(points: &[Affine], count: usize) -> Vec<Affine> {
    let mut jac = Vec::with_capacity(points.len() * count);
    for p in points {
        let pj = Jacobian::from_affine(p);
        let p2 = pj.double();
        let mut cur = pj;
        jac.push(cur);
        for _ in 1..count {
            cur = cur.add(&p2);
            jac.push(cur);
        }
    }
    Jacobian::batch_to_affine(&jac)
}

/// Up to this many terms Strauss beats Pippenger (measured with the `batch_schnorr` bench).
pub const STRAUSS_MAX_TERMS: usize = 56;

/// Bits covered by the recodings: 128-bit scalars plus one bit for the final carry.
const BITS: usize = 129;

/// A list of (point, 128-bit scalar) terms plus a multiple of the generator.
#[derive(Clone, Debug, Default)]
pub struct Terms {
    points: Vec<Affine>,
    scalars: Vec<u128>,
    /// `Some((j, neg))`: this point is `±λ·points[j]`, so Strauss derives its table from j's
    /// with one multiplication by β per entry instead of point additions.
    endo_of: Vec<Option<(usize, bool)>>,
    g: Scalar,
}

impl Terms {
    #[must_use]
    pub fn with_capacity(n: usize) -> Terms {
        Terms {
            points: Vec::with_capacity(n),
            scalars: Vec::with_capacity(n),
            endo_of: Vec::with_capacity(n),
            g: Scalar::ZERO,
        }
    }

    /// Number of 128-bit terms, counting the generator's as two.
    #[must_use]
    pub fn len(&self) -> usize {
        self.points.len() + if self.g.is_zero() { 0 } else { 2 }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `k·G`. Strauss uses precomputed wide tables for G.
    pub fn add_g(&mut self, k: &Scalar) {
        self.g = self.g.add(k);
    }

    /// The same sum with the generator moved into the ordinary terms.
    fn with_g_as_terms(&self) -> Terms {
        let mut t = Terms {
            points: self.points.clone(),
            scalars: self.scalars.clone(),
            endo_of: self.endo_of.clone(),
            g: Scalar::ZERO,
        };
        t.push_full(&Affine::GENERATOR, &self.g);
        t
    }

    /// Adds `(negate ? -k : k)·p` for a 128-bit `k`.
    pub fn push_u128(&mut self, p: &Affine, negate: bool, k: u128) {
        if k == 0 || p.infinity {
            return;
        }
        self.points.push(if negate { p.neg() } else { *p });
        self.scalars.push(k);
        self.endo_of.push(None);
    }

    /// Adds `k·p` for any scalar, via the GLV split into two 128-bit terms.
    pub fn push_full(&mut self, p: &Affine, k: &Scalar) {
        let (k1, k2) = k.split_lambda();
        match (k1.to_signed_u128(), k2.to_signed_u128()) {
            (Some((n1, a1)), Some((n2, a2))) => {
                let before = self.points.len();
                self.push_u128(p, n1, a1);
                let base = (self.points.len() > before).then_some(before);
                let before = self.points.len();
                self.push_u128(&p.endo(), n2, a2);
                if let (Some(j), true) = (base, self.points.len() > before) {
                    if let Some(link) = self.endo_of.last_mut() {
                        *link = Some((j, n1 != n2));
                    }
                }
            }
            // libsecp256k1 proves the split halves fit in 128 bits; should that ever fail, use
            // k = lo + 2^128·hi without the endomorphism rather than give a wrong answer.
            _ => self.push_full_without_endo(p, k),
        }
    }

    /// Adds `k·p` as `lo·p + hi·(2^128·p)`: the GLV-free path.
    fn push_full_without_endo(&mut self, p: &Affine, k: &Scalar) {
        let lo = u128::from(k.d[0]) | (u128::from(k.d[1]) << 64);
        let hi = u128::from(k.d[2]) | (u128::from(k.d[3]) << 64);
        self.push_u128(p, false, lo);
        let mut shifted = Jacobian::from_affine(p);
        for _ in 0..128 {
            shifted = shifted.double();
        }
        self.push_u128(&shifted.to_affine(), false, hi);
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
        const TABLE: usize = 1 << (W_P - 2);
        let (g1, g2) = self.g.split_lambda();
        let (Some((neg1, k1)), Some((neg2, k2))) = (g1.to_signed_u128(), g2.to_signed_u128())
        else {
            return self.with_g_as_terms().strauss();
        };
        let (gt, lgt) = g_tables();
        // (digits, negate, table, table offset) per term.
        let mut rows: Vec<([i16; BITS], bool, &[Affine], usize)> =
            Vec::with_capacity(self.points.len() + 2);
        for (neg, k, table) in [(neg1, k1, gt), (neg2, k2, lgt)] {
            if k != 0 {
                rows.push((wnaf(k, W_G), neg, table, 0));
            }
        }
        let table = self.strauss_tables(TABLE);
        for (t, &k) in self.scalars.iter().enumerate() {
            rows.push((wnaf(k, W_P), false, &table, t * TABLE));
        }
        let top = rows
            .iter()
            .filter_map(|r| r.0.iter().rposition(|&d| d != 0))
            .max();
        let Some(top) = top else {
            return Jacobian::INFINITY;
        };
        let mut acc = Jacobian::INFINITY;
        for bit in (0..=top).rev() {
            acc = acc.double();
            for (digits, neg, table, offset) in &rows {
                let d = digits[bit];
                if d != 0 {
                    if let Some(p) = table.get(offset + usize::from(d.unsigned_abs() / 2)) {
                        acc = if (d > 0) != *neg {
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

    /// Odd multiples P, 3P, .., (2·count - 1)·P of every term's point, `count` per term: made
    /// affine with one inversion for independent points, mapped through λ for GLV partners.
    fn strauss_tables(&self, count: usize) -> Vec<Affine> {
        let own: Vec<Affine> = self
            .points
            .iter()
            .zip(&self.endo_of)
            .filter(|(_, link)| link.is_none())
            .map(|(p, _)| *p)
            .collect();
        let own_tables = odd_multiples(&own, count);
        let mut own_chunks = own_tables.chunks_exact(count);
        let mut table: Vec<Affine> = Vec::with_capacity(self.points.len() * count);
        for link in &self.endo_of {
            match link {
                None => table.extend_from_slice(own_chunks.next().unwrap_or(&[])),
                Some((j, neg)) => {
                    for e in j * count..(j + 1) * count {
                        let q = table.get(e).map_or(Affine::INFINITY, Affine::endo);
                        table.push(if *neg { q.neg() } else { q });
                    }
                }
            }
        }
        table
    }

    /// Pippenger's bucket method (see `pippenger.rs`).
    #[must_use]
    pub fn pippenger(&self) -> Jacobian {
        if !self.g.is_zero() {
            return self.with_g_as_terms().pippenger();
        }
        super::pippenger::pippenger(&self.points, &self.scalars)
    }
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
fn wnaf(k: u128, w: usize) -> [i16; BITS] {
    let mut out = [0i16; BITS];
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
            *slot = word as i16;
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
        for w in 2..=W_G {
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
    fn glv_free_path_matches_naive() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(15);
        let p = random_point(&mut rng);
        let k = Scalar::from_bytes_reduced(&rng.gen());
        let mut terms = Terms::default();
        terms.push_full_without_endo(&p, &k);
        assert!(terms.strauss().to_affine().equals(&naive(&[p], &[k])));
    }

    #[test]
    fn generator_tables_match_generic_terms() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(14);
        for extra in [0usize, 1, 3, 50] {
            let g_k = Scalar::from_bytes_reduced(&rng.gen());
            let mut with_tables = Terms::default();
            with_tables.add_g(&g_k);
            let mut generic = Terms::default();
            generic.push_full(&Affine::GENERATOR, &g_k);
            for _ in 0..extra {
                let p = random_point(&mut rng);
                let k = Scalar::from_bytes_reduced(&rng.gen());
                with_tables.push_full(&p, &k);
                generic.push_full(&p, &k);
            }
            let a = with_tables.strauss().to_affine();
            assert!(a.equals(&generic.strauss().to_affine()));
            assert!(a.equals(&with_tables.pippenger().to_affine()));
            assert!(a.equals(&generic.pippenger().to_affine()));
            if extra == 0 {
                assert!(a.equals(&naive(&[Affine::GENERATOR], &[g_k])));
            }
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
