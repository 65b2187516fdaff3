//! ECDSA verification of one independent signature per lane: R = u1·G + u2·P (see `chain`),
//! then the x-coordinate comparison of libsecp256k1's `secp256k1_ecdsa_sig_verify`, done
//! projectively (X = r·Z², no inversion).

use crate::chain::lincomb;
use crate::field::{limbs_from_be, Fe};
use crate::gtable::GTables;
use crate::lanes::{full_mask, Lane64, MAX_LANES};
use crate::point::Affine;
use crate::scalar::{Scalar, N};

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

/// Verifies `lanes` (at most `V::LANES`; absent lanes copy lane 0 and are masked off).
#[inline(always)]
pub(crate) fn verify_lanes<V: Lane64>(lanes: &[EcdsaLane], g: &GTables) -> LaneVerdicts {
    assert!(!lanes.is_empty() && lanes.len() <= V::LANES);
    let active = full_mask(lanes.len());
    let lane = |i: usize| &lanes[if i < lanes.len() { i } else { 0 }];
    let mut xs = [[0u64; 5]; MAX_LANES];
    let mut ys = [[0u64; 5]; MAX_LANES];
    let mut rs = [[0u64; 5]; MAX_LANES];
    let mut rns = [[0u64; 5]; MAX_LANES];
    let mut u1 = [Scalar::default(); MAX_LANES];
    let mut u2 = [Scalar::default(); MAX_LANES];
    let mut small_r = 0u32;
    for i in 0..V::LANES {
        let l = lane(i);
        (xs[i], ys[i], u1[i], u2[i]) = (l.x, l.y, l.u1, l.u2);
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
    let (acc, fallback) = lincomb(&pk, &u1, &u2, g);
    // x(R) = X/Z² equals r, or r + n when that is below p.
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
