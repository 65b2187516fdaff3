//! BIP340 verification of one independent signature per lane: P = lift_x(x) (even y),
//! R = s·G − e·P (see `chain`), then R must have an even y and x(R) = r. The parity needs
//! affine coordinates: one inversion per lane (an exponentiation, all lanes at once).

use crate::chain::lincomb;
use crate::ecdsa::LaneVerdicts;
use crate::field::Fe;
use crate::gtable::GTables;
use crate::lanes::{full_mask, Lane64, MAX_LANES};
use crate::point::Affine;
use crate::scalar::Scalar;

/// One lane's work: the key's x and r (limbs of values below p), s and the challenge e.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SchnorrLane {
    pub(crate) x: [u64; 5],
    pub(crate) r: [u64; 5],
    pub(crate) s: Scalar,
    pub(crate) e: Scalar,
}

/// Verifies `lanes` (at most `V::LANES`; absent lanes copy lane 0 and are masked off).
#[inline(always)]
pub(crate) fn verify_lanes<V: Lane64>(lanes: &[SchnorrLane], g: &GTables) -> LaneVerdicts {
    assert!(!lanes.is_empty() && lanes.len() <= V::LANES);
    let active = full_mask(lanes.len());
    let lane = |i: usize| &lanes[if i < lanes.len() { i } else { 0 }];
    let mut xs = [[0u64; 5]; MAX_LANES];
    let mut rs = [[0u64; 5]; MAX_LANES];
    let mut u1 = [Scalar::default(); MAX_LANES];
    let mut u2 = [Scalar::default(); MAX_LANES];
    for i in 0..V::LANES {
        let l = lane(i);
        (xs[i], rs[i], u1[i], u2[i]) = (l.x, l.r, l.s, l.e.neg());
    }
    // lift_x: y = (x³ + 7)^((p+1)/4) when that squares back, negated to be even.
    let x = Fe::<V>::from_lanes(&xs);
    let rhs = x.sqr().mul(&x).add(&Fe::splat(&[7, 0, 0, 0, 0])).carry();
    let y = rhs.sqrt_candidate();
    let has_root = y.sqr().eq(&rhs);
    let y = Fe::select(y.is_odd(), &y.neg().carry(), &y);
    let (acc, fallback) = lincomb(&Affine { x, y }, &u1, &u2, g);
    // Affine R: X/Z², Y/Z³ (Z ≠ 0 in the lanes that do not fall back).
    let zi = acc.z.invert();
    let zi2 = zi.sqr();
    let rx = acc.x.mul(&zi2);
    let ry = acc.y.mul(&zi2.mul(&zi));
    let ok = rx.eq(&Fe::from_lanes(&rs)) & !ry.is_odd();
    let fallback = fallback & has_root & active;
    LaneVerdicts {
        ok: ok & has_root & active & !fallback,
        fallback,
    }
}
