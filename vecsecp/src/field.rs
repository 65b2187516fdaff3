//! GF(p), p = 2^256 − 2^32 − 977, in radix 2^52 (five limbs), one element per lane.
//!
//! Written once over [`Lane64`], so the IFMA backend and the portable one run the same
//! algorithm. The constraint that shapes it: IFMA multiplies only the low 52 bits of each
//! operand, so every multiplicand must have all five limbs below 2^52. Backends without a
//! 52-bit multiply (AVX2) keep this representation and form products in radix 2^26 instead
//! (`field26.rs`), so everything but `mul` and `sqr` is shared. Products leave
//! [`Fe::mul`] in that form; sums and differences are lazy and must pass through
//! [`Fe::carry`] before they are multiplied.
//!
//! Magnitude (tracked in `mag` and checked by debug assertions on every operation): an element
//! of magnitude m has limbs 0..3 ≤ m·(2^52 − 1) and limb 4 ≤ m·(2^48 + 2^11). Magnitude 1 is
//! what `mul`, `sqr` and `carry` return, and what `mul`/`sqr` require (limb 4 < 2^49 < 2^52).
//! Magnitudes add under `add`; `sub(b)` adds 2·mag(b)·p (whose limbs dominate b's) before
//! subtracting, so the result has magnitude mag(a) + 2·mag(b). `carry` accepts up to
//! [`MAX_MAG`] (limbs below 2^63, so its additions cannot overflow).

use crate::lanes::{Lane64, MAX_LANES};

/// 2^52 − 1.
pub(crate) const M52: u64 = (1 << 52) - 1;
/// 2^48 − 1: limb 4 of a 256-bit value.
const M48: u64 = (1 << 48) - 1;
/// 2^256 mod p.
const C: u64 = 0x1_0000_03D1;
/// 2^260 mod p (= 16·C): the weight of limb position 5.
const R: u64 = 0x10_0000_3D10;
/// p in limbs.
pub(crate) const P: [u64; 5] = [0xF_FFFE_FFFF_FC2F, M52, M52, M52, M48];
/// Largest magnitude `carry` (and so `normalize`/`is_zero`) accepts.
pub(crate) const MAX_MAG: u32 = 2047;

/// Field elements in `V::LANES` lanes; limb `j` of every lane in `l[j]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fe<V> {
    pub(crate) l: [V; 5],
    /// Magnitude bound (see the module docs); bookkeeping for debug assertions.
    pub(crate) mag: u32,
}

/// Limbs of a 256-bit big-endian integer (no reduction).
pub(crate) fn limbs_from_be(b: &[u8; 32]) -> [u64; 5] {
    let mut w = [0u64; 4];
    for (i, chunk) in b.rchunks_exact(8).enumerate() {
        let mut a = [0u8; 8];
        a.copy_from_slice(chunk);
        w[i] = u64::from_be_bytes(a);
    }
    [
        w[0] & M52,
        (w[0] >> 52 | w[1] << 12) & M52,
        (w[1] >> 40 | w[2] << 24) & M52,
        (w[2] >> 28 | w[3] << 36) & M52,
        w[3] >> 16,
    ]
}

impl<V: Lane64> Fe<V> {
    /// Every lane `v` (limbs below 2^52, limb 4 below 2^48: magnitude 1).
    #[inline(always)]
    pub(crate) fn splat(v: &[u64; 5]) -> Self {
        Self {
            l: v.map(V::splat),
            mag: 1,
        }
    }

    /// Lane `i` holds `lanes[i]`, given as magnitude-1 limbs.
    #[inline(always)]
    pub(crate) fn from_lanes(lanes: &[[u64; 5]; MAX_LANES]) -> Self {
        let mut l = [V::splat(0); 5];
        for (j, limb) in l.iter_mut().enumerate() {
            *limb = V::load(&lanes.map(|x| x[j]));
        }
        Self { l, mag: 1 }
    }

    /// The limbs of every lane, as they are (not normalized).
    #[inline(always)]
    #[cfg(test)]
    pub(crate) fn to_lanes(self) -> [[u64; 5]; MAX_LANES] {
        let cols = self.l.map(V::store);
        let mut out = [[0u64; 5]; MAX_LANES];
        for (i, lane) in out.iter_mut().enumerate() {
            for (j, x) in lane.iter_mut().enumerate() {
                *x = cols[j][i];
            }
        }
        out
    }

    /// `self + o`, lazily.
    #[inline(always)]
    pub(crate) fn add(&self, o: &Self) -> Self {
        let mag = self.mag + o.mag;
        debug_assert!(mag <= MAX_MAG);
        let mut l = self.l;
        for (x, y) in l.iter_mut().zip(o.l) {
            *x = x.add(y);
        }
        Self { l, mag }
    }

    /// `self − o`, lazily: `self + 2·mag(o)·p − o` limb by limb, never negative.
    #[inline(always)]
    pub(crate) fn sub(&self, o: &Self) -> Self {
        let k = 2 * u64::from(o.mag);
        let mag = self.mag + 2 * o.mag;
        debug_assert!(mag <= MAX_MAG);
        let mut l = self.l;
        for j in 0..5 {
            l[j] = l[j].add(V::splat(k * P[j])).sub(o.l[j]);
        }
        Self { l, mag }
    }

    /// `−self`, lazily.
    #[inline(always)]
    pub(crate) fn neg(&self) -> Self {
        Self {
            l: [V::splat(0); 5],
            mag: 0,
        }
        .sub(self)
    }

    /// `k·self`, lazily, by additions (k small).
    #[inline(always)]
    pub(crate) fn mul_small(&self, k: u32) -> Self {
        debug_assert!(k >= 1);
        let mut r = *self;
        for _ in 1..k {
            r = r.add(self);
        }
        r
    }

    /// Lanes of `a` where `mask` has the bit, else of `b`.
    #[inline(always)]
    pub(crate) fn select(mask: u32, a: &Self, b: &Self) -> Self {
        let mut l = b.l;
        for (x, y) in l.iter_mut().zip(a.l) {
            *x = V::blend(mask, y, *x);
        }
        Self {
            l,
            mag: a.mag.max(b.mag),
        }
    }

    /// Carries every limb into the next, folding what leaves limb 4 (above 2^256) back in as
    /// 2^256 ≡ C. Result: magnitude 1, the same value mod p. Requires magnitude ≤ MAX_MAG.
    #[inline(always)]
    pub(crate) fn carry(&self) -> Self {
        debug_assert!(self.mag <= MAX_MAG);
        Self::carry_limbs(self.l)
    }

    /// The carry chain on raw limbs: limbs 0..3 below 2^63, limb 4 any.
    /// Bits 48.. of limb 4 (< 2^16) times C (< 2^33) are < 2^49, exact in the low-52 IFMA
    /// product. After the chain limbs 0..3 are below 2^52 and limb 4 is below 2^48 plus the
    /// carry out of limb 3, which is below 2^11: magnitude 1.
    /// Without IFMA the product top·C is top·(C mod 2^32) (top < 2^16 fits `mul32`) plus
    /// top·2^32.
    #[inline(always)]
    pub(crate) fn carry_limbs(mut t: [V; 5]) -> Self {
        let m52 = V::splat(M52);
        let top = t[4].shr::<48>();
        t[4] = t[4].and(V::splat(M48));
        t[0] = if V::NATIVE_MADD52 {
            t[0].madd52lo(top, V::splat(C))
        } else {
            t[0].add(top.mul32(V::splat(C & 0xFFFF_FFFF)))
                .add(top.shl::<32>())
        };
        for j in 0..4 {
            t[j + 1] = t[j + 1].add(t[j].shr::<52>());
            t[j] = t[j].and(m52);
        }
        Self { l: t, mag: 1 }
    }

    /// Reduces the ten column sums of a product (each below 2^56, column 9 below 2^52).
    ///
    /// Column k ≥ 5 weighs 2^(52k) = 2^(52(k−5))·2^260 ≡ 2^(52(k−5))·R. Each such column is
    /// split at bit 52 (IFMA reads 52 bits): its low part times R lands in columns k−5 and
    /// k−4, its high part (< 2^4) times R (< 2^41, exact) in column k−4. Column 9's high half
    /// of the product with R lands in position 5 (< 2^37) and is folded once more. The five
    /// sums stay below 2^57 and go through the carry chain.
    #[inline(always)]
    fn reduce(c: [V; 10]) -> Self {
        let m52 = V::splat(M52);
        let r = V::splat(R);
        let mut t = [c[0], c[1], c[2], c[3], c[4]];
        for k in 5..9 {
            let lo = c[k].and(m52);
            let hi = c[k].shr::<52>();
            t[k - 5] = t[k - 5].madd52lo(lo, r);
            t[k - 4] = t[k - 4].madd52hi(lo, r).madd52lo(hi, r);
        }
        t[4] = t[4].madd52lo(c[9], r);
        let e = V::splat(0).madd52hi(c[9], r);
        t[0] = t[0].madd52lo(e, r);
        t[1] = t[1].madd52hi(e, r);
        Self::carry_limbs(t)
    }

    /// `self·o`. Both magnitude 1; result magnitude 1.
    #[inline(always)]
    pub(crate) fn mul(&self, o: &Self) -> Self {
        if V::NATIVE_MADD52 {
            self.mul52(o)
        } else {
            self.mul26(o)
        }
    }

    /// `self²`. Magnitude 1 in and out.
    #[inline(always)]
    pub(crate) fn sqr(&self) -> Self {
        if V::NATIVE_MADD52 {
            self.sqr52()
        } else {
            self.sqr26()
        }
    }

    /// `self·o` with 52-bit multiplies. Both magnitude 1; result magnitude 1.
    ///
    /// Column k collects the low halves of a_i·b_j (i + j = k) and the high halves of
    /// a_i·b_j (i + j = k − 1): at most nine 52-bit terms, below 2^56.
    #[inline(always)]
    pub(crate) fn mul52(&self, o: &Self) -> Self {
        debug_assert!(self.mag <= 1 && o.mag <= 1, "mul needs carried operands");
        let (a, b) = (&self.l, &o.l);
        let mut c = [V::splat(0); 10];
        for i in 0..5 {
            for j in 0..5 {
                c[i + j] = c[i + j].madd52lo(a[i], b[j]);
                c[i + j + 1] = c[i + j + 1].madd52hi(a[i], b[j]);
            }
        }
        Self::reduce(c)
    }

    /// `self²` with 52-bit multiplies. Magnitude 1 in and out. Cross products once, doubled,
    /// plus the squares: the columns obey the same bounds as in `mul52`.
    #[inline(always)]
    pub(crate) fn sqr52(&self) -> Self {
        debug_assert!(self.mag <= 1, "sqr needs a carried operand");
        let a = &self.l;
        let mut c = [V::splat(0); 10];
        for i in 0..5 {
            for j in i + 1..5 {
                c[i + j] = c[i + j].madd52lo(a[i], a[j]);
                c[i + j + 1] = c[i + j + 1].madd52hi(a[i], a[j]);
            }
        }
        for x in &mut c {
            *x = x.add(*x);
        }
        for i in 0..5 {
            c[2 * i] = c[2 * i].madd52lo(a[i], a[i]);
            c[2 * i + 1] = c[2 * i + 1].madd52hi(a[i], a[i]);
        }
        Self::reduce(c)
    }

    /// `self^(2^n)`.
    #[inline(always)]
    pub(crate) fn sqr_n(&self, n: usize) -> Self {
        let mut r = *self;
        for _ in 0..n {
            r = r.sqr();
        }
        r
    }

    /// The unique representative below p (magnitude up to MAX_MAG in).
    ///
    /// After `carry` the value v is below 2^256 + 2^219. w = v + C carried is at least 2^256
    /// exactly when v ≥ p, and then w − 2^256 = v − p < p: so take w with its bit 256 dropped
    /// when that bit is set, else v.
    #[inline(always)]
    pub(crate) fn normalize(&self) -> Self {
        let v = self.carry();
        let m52 = V::splat(M52);
        let mut w = v.l;
        w[0] = w[0].add(V::splat(C));
        for j in 0..4 {
            w[j + 1] = w[j + 1].add(w[j].shr::<52>());
            w[j] = w[j].and(m52);
        }
        let ge = full(V::LANES) & !w[4].shr::<48>().zero_mask();
        w[4] = w[4].and(V::splat(M48));
        Self::select(ge, &Self { l: w, mag: 1 }, &v)
    }

    /// Mask of the lanes holding 0 mod p. After `carry` the value is below 2p, so it is 0 mod
    /// p exactly when it is 0 or p, and limbs 0..3 below 2^52 make both forms unique.
    #[inline(always)]
    pub(crate) fn is_zero(&self) -> u32 {
        let v = self.carry();
        let mut z = v.l[0];
        let mut q = v.l[0].xor(V::splat(P[0]));
        for (limb, pj) in v.l.iter().zip(P).skip(1) {
            z = z.or(*limb);
            q = q.or(limb.xor(V::splat(pj)));
        }
        z.zero_mask() | q.zero_mask()
    }

    /// Mask of the lanes where `self ≡ o`.
    #[inline(always)]
    pub(crate) fn eq(&self, o: &Self) -> u32 {
        self.sub(o).is_zero()
    }

    /// Mask of the lanes whose normalized value is odd.
    #[inline(always)]
    pub(crate) fn is_odd(&self) -> u32 {
        let n = self.normalize();
        full(V::LANES) & !n.l[0].and(V::splat(1)).zero_mask()
    }

    /// `self^(2^223 − 1)` and the intermediate `self^(2^22 − 1)`, `self^3`: the common start of
    /// the inversion and square-root chains (exponents p − 2 and (p + 1)/4 both begin with 223
    /// one bits).
    #[inline(always)]
    fn pow_223_ones(&self) -> (Self, Self, Self) {
        let x2 = self.sqr().mul(self);
        let x3 = x2.sqr().mul(self);
        let x6 = x3.sqr_n(3).mul(&x3);
        let x9 = x6.sqr_n(3).mul(&x3);
        let x11 = x9.sqr_n(2).mul(&x2);
        let x22 = x11.sqr_n(11).mul(&x11);
        let x44 = x22.sqr_n(22).mul(&x22);
        let x88 = x44.sqr_n(44).mul(&x44);
        let x176 = x88.sqr_n(88).mul(&x88);
        let x220 = x176.sqr_n(44).mul(&x44);
        let x223 = x220.sqr_n(3).mul(&x3);
        (x223, x22, x2)
    }

    /// `self^(p−2)`: the inverse, and 0 for 0. p − 2 in binary: 223 ones, a zero, 22 ones,
    /// then 0000101101.
    #[inline(always)]
    pub(crate) fn invert(&self) -> Self {
        let (x223, x22, x2) = self.pow_223_ones();
        let t = x223.sqr_n(23).mul(&x22);
        let t = t.sqr_n(5).mul(self);
        let t = t.sqr_n(3).mul(&x2);
        t.sqr_n(2).mul(self)
    }

    /// `self^((p+1)/4)`: a square root when one exists (the caller checks by squaring).
    /// (p + 1)/4 in binary: 223 ones, a zero, 22 ones, then 00001100.
    #[inline(always)]
    pub(crate) fn sqrt_candidate(&self) -> Self {
        let (x223, x22, x2) = self.pow_223_ones();
        let t = x223.sqr_n(23).mul(&x22);
        let t = t.sqr_n(6).mul(&x2);
        t.sqr_n(2)
    }
}

/// All-lanes mask.
#[inline(always)]
fn full(lanes: usize) -> u32 {
    crate::lanes::full_mask(lanes)
}
