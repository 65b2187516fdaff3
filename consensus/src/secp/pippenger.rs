//! Pippenger's bucket method with affine bucket accumulation.
//!
//! Per c-bit signed window every point goes into the bucket of its digit. Instead of adding
//! into Jacobian buckets (8M + 3S per mixed addition), the points of each bucket are summed
//! pairwise in affine coordinates, level by level, with one shared field inversion per level
//! (Montgomery's trick): about 5M + 1S per addition. The buckets are then combined with a
//! running sum, Σ j·Bⱼ = Σ_k Σ_{j≥k} Bⱼ.

use super::field::Fe;
use super::group::{Affine, Jacobian};

/// Bits covered: 128-bit scalars plus one for the final signed-digit carry.
const BITS: usize = 129;

/// Fewer pairs than this at a reduction level do not amortise the level's field inversion
/// (≈ 270 multiplications; an affine addition saves ≈ 4.5 over a mixed Jacobian one), so the
/// remaining points are added into Jacobian bucket sums instead. Measured (whole batch, CPU time
/// per signature, two runs each): n=256: 4 → 18.97, 8 → 18.60, 16 → 18.6, 32 → 18.59, 64 →
/// 18.9, never → 21.9 µs; n=64: 32 and 64 both 24.1-24.2; n=1024/4096: 16 and 64 equal
/// (15.5 / 13.9), never 18.6 / 17.0. Affine accumulation pays at every size.
const MIN_AFFINE_PAIRS: usize = 32;

/// Cost in field multiplications, per window, used to pick c (see module docs).
fn window_cost(n: usize, c: usize) -> usize {
    let nb = 1usize << (c - 1);
    let per_bucket = n.div_ceil(nb).max(1);
    let levels = (usize::BITS - per_bucket.leading_zeros()) as usize + 2;
    let affine = 13 * n / 2 + 270 * levels;
    let jacobian = 11 * n;
    BITS.div_ceil(c) * (affine.min(jacobian) + 27 * nb + 7 * c)
}

/// The window width minimising the estimated cost for `n` points.
#[must_use]
pub fn window_for(n: usize) -> usize {
    (2..=16).min_by_key(|&c| window_cost(n, c)).unwrap_or(8)
}

/// How a pair of points is combined at one reduction level.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PairKind {
    /// Distinct x: λ = (y2 - y1) / (x2 - x1).
    Add,
    /// Same point: λ = 3x² / 2y.
    Double,
    /// P + (-P) or an infinity operand: no inversion needed.
    Special,
}

fn classify(a: &Affine, b: &Affine) -> (PairKind, Fe) {
    if a.infinity || b.infinity {
        return (PairKind::Special, Fe::ONE);
    }
    let dx = b.x.add(&a.x.negate(1));
    if !dx.is_zero() {
        return (PairKind::Add, dx);
    }
    if a.y.equals(&b.y) {
        (PairKind::Double, a.y.add(&a.y))
    } else {
        (PairKind::Special, Fe::ONE)
    }
}

/// a + b given the inverse of the pair's denominator.
fn combine(a: &Affine, b: &Affine, kind: PairKind, inv: &Fe) -> Affine {
    let lambda = match kind {
        PairKind::Special => {
            return if a.infinity {
                *b
            } else if b.infinity {
                *a
            } else {
                Affine::INFINITY // b = -a
            };
        }
        PairKind::Add => b.y.add(&a.y.negate(1)).mul(inv),
        PairKind::Double => a.x.sqr().mul_int(3).mul(inv),
    };
    let x3 = lambda.sqr().add(&a.x.add(&b.x).negate(2)).normalized_weak();
    let y3 = lambda
        .mul(&a.x.add(&x3.negate(1)))
        .add(&a.y.negate(1))
        .normalized_weak();
    Affine {
        x: x3,
        y: y3,
        infinity: false,
    }
}

/// Reusable buffers for one multiplication.
struct Scratch {
    kinds: Vec<PairKind>,
    dens: Vec<Fe>,
    prefix: Vec<Fe>,
}

impl Scratch {
    /// Inverts `dens` in place (all non-zero) with one field inversion.
    fn invert_dens(&mut self) {
        self.prefix.clear();
        let mut acc = Fe::ONE;
        for d in &self.dens {
            self.prefix.push(acc);
            acc = acc.mul(d);
        }
        let mut inv = acc.invert();
        for (d, pre) in self.dens.iter_mut().zip(&self.prefix).rev() {
            let next = inv.mul(d);
            *d = inv.mul(pre);
            inv = next;
        }
    }
}

/// Sums each bucket's points (segments `start[b]..start[b]+len[b]` of `pts`) pairwise until
/// every bucket holds at most one point or too few pairs remain to pay for an inversion.
fn reduce_buckets(pts: &mut [Affine], start: &[usize], len: &mut [usize], s: &mut Scratch) {
    loop {
        s.kinds.clear();
        s.dens.clear();
        for (&st, &l) in start.iter().zip(len.iter()) {
            for k in 0..l / 2 {
                if let (Some(a), Some(b)) = (pts.get(st + 2 * k), pts.get(st + 2 * k + 1)) {
                    let (kind, den) = classify(a, b);
                    s.kinds.push(kind);
                    s.dens.push(den);
                }
            }
        }
        if s.kinds.len() < MIN_AFFINE_PAIRS {
            return;
        }
        s.invert_dens();
        let mut idx = 0;
        for (&st, l) in start.iter().zip(len.iter_mut()) {
            // Writing pair k's sum to st + k is safe: that slot was read by pair k/2 < k.
            for k in 0..*l / 2 {
                if let (Some(a), Some(b), Some(kind), Some(inv)) = (
                    pts.get(st + 2 * k),
                    pts.get(st + 2 * k + 1),
                    s.kinds.get(idx),
                    s.dens.get(idx),
                ) {
                    let sum = combine(a, b, *kind, inv);
                    if let Some(slot) = pts.get_mut(st + k) {
                        *slot = sum;
                    }
                }
                idx += 1;
            }
            if *l % 2 == 1 {
                pts.swap(st + *l / 2, st + *l - 1);
            }
            *l = l.div_ceil(2);
        }
    }
}

/// Σ kᵢ·Pᵢ for 128-bit scalars.
#[must_use]
pub fn pippenger(points: &[Affine], scalars: &[u128]) -> Jacobian {
    let n = points.len().min(scalars.len());
    if n == 0 {
        return Jacobian::INFINITY;
    }
    let c = window_for(n);
    let windows = BITS.div_ceil(c);
    let half = 1i64 << (c - 1);
    let mask = (1u128 << c) - 1;
    // Window-major signed digits in (-2^(c-1), 2^(c-1)].
    let mut digits = vec![0i32; windows * n];
    for (i, &k) in scalars.iter().take(n).enumerate() {
        let mut carry = 0i64;
        for w in 0..windows {
            let off = w * c;
            let raw = if off >= 128 {
                carry
            } else {
                ((k >> off) & mask) as i64 + carry
            };
            let (d, cy) = if raw > half {
                (raw - (1i64 << c), 1)
            } else {
                (raw, 0)
            };
            carry = cy;
            if let Some(slot) = digits.get_mut(w * n + i) {
                *slot = d as i32;
            }
        }
    }
    let nb = 1usize << (c - 1);
    let mut start = vec![0usize; nb];
    let mut len = vec![0usize; nb];
    let mut fill = vec![0usize; nb];
    let mut pts: Vec<Affine> = Vec::with_capacity(n);
    let mut scratch = Scratch {
        kinds: Vec::with_capacity(n / 2 + 1),
        dens: Vec::with_capacity(n / 2 + 1),
        prefix: Vec::with_capacity(n / 2 + 1),
    };
    let mut acc = Jacobian::INFINITY;
    for w in (0..windows).rev() {
        for _ in 0..c {
            acc = acc.double();
        }
        let row = digits.get(w * n..(w + 1) * n).unwrap_or(&[]);
        // Counting sort of the points by bucket.
        len.fill(0);
        for &d in row {
            if d != 0 {
                if let Some(l) = len.get_mut(d.unsigned_abs() as usize - 1) {
                    *l += 1;
                }
            }
        }
        let mut total = 0;
        for ((s, f), l) in start.iter_mut().zip(fill.iter_mut()).zip(&len) {
            *s = total;
            *f = total;
            total += l;
        }
        pts.clear();
        pts.resize(total, Affine::INFINITY);
        for (&d, p) in row.iter().zip(points) {
            if d == 0 {
                continue;
            }
            if let Some(f) = fill.get_mut(d.unsigned_abs() as usize - 1) {
                if let Some(slot) = pts.get_mut(*f) {
                    *slot = if d > 0 { *p } else { p.neg() };
                }
                *f += 1;
            }
        }
        reduce_buckets(&mut pts, &start, &mut len, &mut scratch);
        let mut running = Jacobian::INFINITY;
        let mut sum = Jacobian::INFINITY;
        for (&s, &l) in start.iter().zip(&len).rev() {
            let bucket = pts.get(s..s + l).unwrap_or(&[]);
            if let [p] = bucket {
                running = running.add_affine(p);
            } else if !bucket.is_empty() {
                let mut b = Jacobian::INFINITY;
                for p in bucket {
                    b = b.add_affine(p);
                }
                running = running.add(&b);
            }
            sum = sum.add(&running);
        }
        acc = acc.add(&sum);
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::super::msm::Terms;
    use super::super::scalar::Scalar;
    use super::*;
    use rand::{Rng, SeedableRng};

    fn point(seed: u8) -> Affine {
        (seed..=255)
            .find_map(|s| Affine::from_xonly(&[s; 32]))
            .unwrap_or(Affine::GENERATOR)
    }

    #[test]
    fn repeated_and_opposite_points_hit_doubling_and_cancellation() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
        let p = point(3);
        let q = point(90);
        let mut terms = Terms::default();
        let mut want = Scalar::ZERO;
        let mut want_q = Scalar::ZERO;
        for i in 0..300u32 {
            // Mostly the same small scalar, so whole buckets fill with copies of one point.
            let k: u128 = if i % 3 == 0 { rng.gen() } else { 3 };
            let (pt, neg) = match i % 4 {
                0 => (p, false),
                1 => (p, true),
                2 => (p, false),
                _ => (q, false),
            };
            terms.push_u128(&pt, neg, k);
            let ks = Scalar::from_u128(k);
            let signed = if neg { ks.negate() } else { ks };
            if i % 4 == 3 {
                want_q = want_q.add(&signed);
            } else {
                want = want.add(&signed);
            }
        }
        let mut reference = Terms::default();
        reference.push_full(&p, &want);
        reference.push_full(&q, &want_q);
        let got = terms.pippenger().to_affine();
        assert!(got.equals(&reference.strauss().to_affine()));
        assert!(got.equals(&terms.strauss().to_affine()));
    }

    #[test]
    fn identical_points_in_one_bucket_are_doubled() {
        let p = point(7);
        let mut terms = Terms::default();
        // 512 copies: three affine levels of pure doublings (256, 128, 64 pairs), then Jacobian.
        for _ in 0..512 {
            terms.push_u128(&p, false, 3);
        }
        let mut reference = Terms::default();
        reference.push_u128(&p, false, 1536);
        assert!(terms
            .pippenger()
            .to_affine()
            .equals(&reference.strauss().to_affine()));
    }

    #[test]
    fn window_choice_grows_with_size() {
        assert!(window_for(10) <= window_for(1000));
        assert!(window_for(1000) <= window_for(100_000));
    }
}
