//! ECDSA verification of one independent signature per lane: R = u1·G + u2·P, then the
//! x-coordinate comparison of libsecp256k1's `secp256k1_ecdsa_sig_verify`.
//!
//! u2·P goes through the GLV split u2 = k1 + λ·k2 (|k1|, |k2| < 2^128) with 5-bit signed odd
//! digits over per-lane tables of 16 odd multiples of P and of λ·P; u1·G = a + b·2^128 with
//! 8-bit digits over the shared tables of G and 2^128·G. All four share one chain of 128
//! doublings. Odd-digit recoding needs odd scalars, so an even one is incremented and the
//! point subtracted once at the end (a masked addition).

use crate::field::{limbs_from_be, Fe};
use crate::gtable::{GTables, W_G};
use crate::lanes::{full_mask, Lane64, MAX_LANES};
use crate::point::{affine_from_limbs, Affine, Jacobian, LaneTable};
use crate::recode::{index_sign, odd_digits};
use crate::scalar::{Scalar, N};

/// Window width and count of the P digits (|k| < 2^128 needs 26 windows of 5 bits).
const W_P: u32 = 5;
const L_P: usize = 26;
/// Count of the G digits (17 windows of 8 bits: the top one at bit 128).
const L_G: usize = 17;
/// Length of the doubling chain: the highest digit position.
const TOP: usize = 128;
/// Odd multiples per lane table.
const P_ENTRIES: usize = 1 << (W_P - 1);

/// β, a cube root of unity mod p, in limbs.
pub(crate) const BETA: [u64; 5] = [
    0x9_6C28_7195_01EE,
    0x7_512F_5899_5C13,
    0xC_3434_E99C_F049,
    0x7106_E644_79EA,
    0x7AE9_6A2B_657C,
];

/// One lane's work: the key (affine, canonical limbs), u1, u2 and r.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EcdsaLane {
    pub(crate) x: [u64; 5],
    pub(crate) y: [u64; 5],
    pub(crate) u1: Scalar,
    pub(crate) u2: Scalar,
    pub(crate) r: Scalar,
}

/// Per-lane outcome as masks: `ok` verified; `fallback` must be decided by libsecp256k1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LaneVerdicts {
    pub(crate) ok: u32,
    pub(crate) fallback: u32,
}

/// Digits of one scalar for every lane, window by window: table index and negation mask.
struct Digits<const L: usize> {
    idx: [[u64; MAX_LANES]; L],
    neg: [u32; L],
    /// Lanes whose scalar was even (incremented; the point is subtracted at the end).
    corr: u32,
    /// Whether the lane's point is negated (from the GLV sign).
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

/// Verifies `lanes` (at most `V::LANES`; absent lanes copy lane 0 and are masked off).
#[inline(always)]
pub(crate) fn verify_lanes<V: Lane64>(lanes: &[EcdsaLane], g: &GTables) -> LaneVerdicts {
    assert!(!lanes.is_empty() && lanes.len() <= V::LANES);
    let active = full_mask(lanes.len());
    let lane = |i: usize| &lanes[if i < lanes.len() { i } else { 0 }];

    // Scalars: GLV halves of u2, 128-bit halves of u1, digits; lanes out of range fall back.
    let mut dp1 = Digits::<L_P>::new();
    let mut dp2 = Digits::<L_P>::new();
    let mut dg1 = Digits::<L_G>::new();
    let mut dg2 = Digits::<L_G>::new();
    let mut fallback = 0u32;
    let mut xs = [[0u64; 5]; MAX_LANES];
    let mut ys = [[0u64; 5]; MAX_LANES];
    let mut rs = [[0u64; 5]; MAX_LANES];
    let mut rns = [[0u64; 5]; MAX_LANES];
    let mut small_r = 0u32;
    for i in 0..V::LANES {
        let l = lane(i);
        xs[i] = l.x;
        ys[i] = l.y;
        let (k1, k2) = l.u2.split_lambda();
        let ok = match (k1.to_signed_small(), k2.to_signed_small()) {
            (Some((n1, v1)), Some((n2, v2))) => {
                dp1.set(i, v1, n1, W_P)
                    & dp2.set(i, v2, n2, W_P)
                    & dg1.set(i, l.u1.half(0), false, W_G)
                    & dg2.set(i, l.u1.half(1), false, W_G)
            }
            _ => false,
        };
        if !ok {
            fallback |= 1 << i;
        }
        rs[i] = limbs_from_be(&l.r.to_be());
        // r + n as an integer, when it is below p (it is then another candidate x).
        if let Some(rn) = r_plus_n_below_p(&l.r) {
            rns[i] = limbs_from_be(&rn);
            small_r |= 1 << i;
        }
    }

    let pk = Affine {
        x: Fe::<V>::from_lanes(&xs),
        y: Fe::from_lanes(&ys),
    };
    let on_curve = pk.on_curve();
    let beta = Fe::splat(&BETA);
    let (tp, tl) = LaneTable::<P_ENTRIES>::build(&pk, &beta);

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

    // x(R) = X/Z² equals r, or r + n when that is below p.
    fallback |= acc.z_is_zero() | tp.bad;
    let zz = acc.z.sqr();
    let eq1 = acc.x.eq(&Fe::from_lanes(&rs).mul(&zz));
    let eq2 = acc.x.eq(&Fe::from_lanes(&rns).mul(&zz)) & small_r;
    let fallback = fallback & on_curve & active;
    LaneVerdicts {
        ok: (eq1 | eq2) & on_curve & active & !fallback,
        fallback,
    }
}

/// p − n.
const P_MINUS_N: [u64; 4] = [0x402D_A172_2FC9_BAEE, 0x4551_2319_50B7_5FC4, 1, 0];

/// r + n as big-endian bytes when r < p − n.
fn r_plus_n_below_p(r: &Scalar) -> Option<[u8; 32]> {
    let lt = (0..4)
        .rev()
        .find(|&i| r.0[i] != P_MINUS_N[i])
        .is_some_and(|i| r.0[i] < P_MINUS_N[i]);
    if !lt {
        return None;
    }
    let mut out = [0u64; 4];
    let mut carry = 0u128;
    for i in 0..4 {
        let t = u128::from(r.0[i]) + u128::from(N[i]) + carry;
        out[i] = t as u64;
        carry = t >> 64;
    }
    Some(Scalar(out).to_be())
}
