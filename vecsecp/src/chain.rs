//! u1·G + u2·P in every lane, for independent (u1, u2, P) per lane.
//!
//! u2·P goes through the GLV split u2 = k1 + λ·k2 (|k1|, |k2| < 2^128) with 5-bit signed odd
//! digits over per-lane tables of 16 odd multiples of P and of λ·P; u1·G = a + b·2^128 with
//! 8-bit digits over the shared tables of G and 2^128·G. All four share one chain of 128
//! doublings, and every lane performs the same operations. Odd-digit recoding needs odd
//! scalars, so an even one is incremented and its point subtracted once at the end (a masked
//! addition).

use crate::field::Fe;
use crate::gtable::{GTables, W_G};
use crate::lanes::{full_mask, Lane64, MAX_LANES};
use crate::point::{affine_from_limbs, Affine, Jacobian, LaneTable};
use crate::recode::{index_sign, odd_digits};
use crate::scalar::Scalar;

/// Window width and count of the P digits (|k| < 2^128 needs 26 windows of 5 bits).
const W_P: u32 = 5;
const L_P: usize = 26;
/// Count of the G digits (17 windows of 8 bits: the top one at bit 128).
const L_G: usize = 17;
/// Length of the doubling chain: the highest digit position.
const TOP: usize = 128;
/// Odd multiples per lane table.
const P_ENTRIES: usize = 1 << (W_P - 1);

/// β, a cube root of unity mod p, in limbs: λ·(x, y) = (β·x, y).
pub(crate) const BETA: [u64; 5] = [
    0x9_6C28_7195_01EE,
    0x7_512F_5899_5C13,
    0xC_3434_E99C_F049,
    0x7106_E644_79EA,
    0x7AE9_6A2B_657C,
];

/// Digits of one scalar for every lane, window by window: table index and negation mask.
struct Digits<const L: usize> {
    idx: [[u64; MAX_LANES]; L],
    neg: [u32; L],
    /// Lanes whose scalar was even (incremented; the point is subtracted at the end).
    corr: u32,
    /// Lanes whose point is negated (from the GLV sign).
    flip: u32,
}

impl<const L: usize> Digits<L> {
    fn new() -> Self {
        Self {
            idx: [[0; MAX_LANES]; L],
            neg: [0; L],
            corr: 0,
            flip: 0,
        }
    }

    /// Records lane `lane`'s |v| (point negated when `flip`); false when v is out of range.
    fn set(&mut self, lane: usize, v: u128, flip: bool, w: u32) -> bool {
        let (v, corr) = if v & 1 == 0 {
            (v + 1, true)
        } else {
            (v, false)
        };
        let Some(d) = odd_digits::<L>(v, w) else {
            return false;
        };
        for (i, &di) in d.iter().enumerate() {
            let (ix, s) = index_sign(di);
            self.idx[i][lane] = ix;
            self.neg[i] |= u32::from(s != flip) << lane;
        }
        self.corr |= u32::from(corr) << lane;
        self.flip |= u32::from(flip) << lane;
        true
    }
}

/// Entry `idx[i]` of a shared G table for every lane.
#[inline(always)]
fn lookup_shared<V: Lane64>(table: &[u64], idx: &[u64; MAX_LANES]) -> Affine<V> {
    let at = idx.map(|i| i * 10);
    affine_from_limbs(&V::gather::<10>(table, &at, 1))
}

/// u1[i]·G + u2[i]·P[i] per lane, and the lanes that must be left to libsecp256k1 (a scalar
/// out of the recoding's range, which the GLV bounds rule out, or an exceptional case of the
/// group law, which leaves Z = 0; see `point`). `P` must be on the curve in the lanes that
/// count.
#[inline(always)]
pub(crate) fn lincomb<V: Lane64>(
    pk: &Affine<V>,
    u1: &[Scalar; MAX_LANES],
    u2: &[Scalar; MAX_LANES],
    g: &GTables,
) -> (Jacobian<V>, u32) {
    let mut dp1 = Digits::<L_P>::new();
    let mut dp2 = Digits::<L_P>::new();
    let mut dg1 = Digits::<L_G>::new();
    let mut dg2 = Digits::<L_G>::new();
    let mut fallback = 0u32;
    for i in 0..V::LANES {
        let (k1, k2) = u2[i].split_lambda();
        let ok = match (k1.to_signed_small(), k2.to_signed_small()) {
            (Some((n1, v1)), Some((n2, v2))) => {
                dp1.set(i, v1, n1, W_P)
                    & dp2.set(i, v2, n2, W_P)
                    & dg1.set(i, u1[i].half(0), false, W_G)
                    & dg2.set(i, u1[i].half(1), false, W_G)
            }
            _ => false,
        };
        if !ok {
            fallback |= 1 << i;
        }
    }
    let beta = Fe::splat(&BETA);
    let (tp, tl) = LaneTable::<P_ENTRIES>::build(pk, &beta);

    // The chain, from the top G digits down.
    let first = lookup_shared::<V>(&g.lo, &dg1.idx[L_G - 1]);
    let first_y = Fe::select(dg1.neg[L_G - 1], &first.y.neg().carry(), &first.y);
    let mut acc = Jacobian::from_affine(&Affine {
        x: first.x,
        y: first_y,
    });
    acc = acc.add_affine(&lookup_shared(&g.hi, &dg2.idx[L_G - 1]), dg2.neg[L_G - 1]);
    for pos in (0..TOP).rev() {
        acc = acc.double();
        if pos % W_P as usize == 0 {
            let w = pos / W_P as usize;
            acc = acc.add_affine(&tp.lookup(&dp1.idx[w]), dp1.neg[w]);
            acc = acc.add_affine(&tl.lookup(&dp2.idx[w]), dp2.neg[w]);
        }
        if pos % W_G as usize == 0 {
            let w = pos / W_G as usize;
            acc = acc.add_affine(&lookup_shared(&g.lo, &dg1.idx[w]), dg1.neg[w]);
            acc = acc.add_affine(&lookup_shared(&g.hi, &dg2.idx[w]), dg2.neg[w]);
        }
    }
    // Corrections for even scalars: subtract the (signed) point of entry 0.
    let zero = [0u64; MAX_LANES];
    let all = full_mask(V::LANES);
    let corr = |acc: Jacobian<V>, pt: &Affine<V>, flip: u32, mask: u32| {
        if mask == 0 {
            return acc;
        }
        let sum = acc.add_affine(pt, !flip & all);
        Jacobian {
            x: Fe::select(mask, &sum.x, &acc.x),
            y: Fe::select(mask, &sum.y, &acc.y),
            z: Fe::select(mask, &sum.z, &acc.z),
        }
    };
    acc = corr(acc, &tp.lookup(&zero), dp1.flip, dp1.corr);
    acc = corr(acc, &tl.lookup(&zero), dp2.flip, dp2.corr);
    acc = corr(acc, &lookup_shared(&g.lo, &zero), 0, dg1.corr);
    acc = corr(acc, &lookup_shared(&g.hi, &zero), 0, dg2.corr);
    (acc, fallback | acc.z_is_zero() | tp.bad)
}
