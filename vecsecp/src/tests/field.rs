//! Field arithmetic of every backend against num-bigint, on random and edge values.

use super::reference::{from_limbs, p, rand_limbs, to_limbs};
use crate::field::{Fe, M52, MAX_MAG, P};
use crate::lanes::{Lane64, Portable, MAX_LANES};
use num_bigint::BigUint;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

/// Edge values as limbs: 0, 1, p − 1, p, 2^256 − 1, the magnitude-1 maximum, 2^52.
fn edges() -> Vec<[u64; 5]> {
    let m48 = (1u64 << 48) - 1;
    let mut pm1 = P;
    pm1[0] -= 1;
    vec![
        [0; 5],
        [1, 0, 0, 0, 0],
        pm1,
        P,
        [M52, M52, M52, M52, m48],
        [M52, M52, M52, M52, (1 << 48) + (1 << 11)],
        [0, 1, 0, 0, 0],
        [M52, 0, 0, 0, 0],
        [0, 0, 0, 0, 1 << 48],
    ]
}

fn lanes_of(rng: &mut ChaCha20Rng, edge: &[[u64; 5]], round: usize) -> [[u64; 5]; MAX_LANES] {
    let mut out = [[0u64; 5]; MAX_LANES];
    for (i, x) in out.iter_mut().enumerate() {
        *x = if round < edge.len() * edge.len() && i < 2 {
            edge[if i == 0 {
                round / edge.len()
            } else {
                round % edge.len()
            }]
        } else if rng.gen_bool(0.2) {
            edge[rng.gen_range(0..edge.len())]
        } else {
            rand_limbs(rng)
        };
    }
    out
}

/// Asserts lane values (mod p) and the magnitude-1 limb bounds of `got`.
fn check<V: Lane64>(got: &Fe<V>, want: &[BigUint], what: &str) {
    let lanes = got.to_lanes();
    for (i, w) in want.iter().enumerate().take(V::LANES) {
        let v = from_limbs(&lanes[i]);
        assert_eq!(v % p(), w % p(), "{what}, lane {i}");
        if got.mag == 1 {
            assert!(
                lanes[i][..4].iter().all(|&x| x <= M52),
                "{what}: limb bound"
            );
            assert!(lanes[i][4] <= (1 << 48) + (1 << 11), "{what}: limb 4 bound");
        }
    }
}

fn vals(l: &[[u64; 5]; MAX_LANES]) -> Vec<BigUint> {
    l.iter().map(from_limbs).collect()
}

pub(crate) fn field_matches_reference<V: Lane64>(rounds: usize) {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let edge = edges();
    let pp = p();
    for round in 0..rounds {
        let la = lanes_of(&mut rng, &edge, round);
        let lb = lanes_of(&mut rng, &edge, round.wrapping_mul(7) + 3);
        let (a, b) = (Fe::<V>::from_lanes(&la), Fe::<V>::from_lanes(&lb));
        let (va, vb) = (vals(&la), vals(&lb));
        let zip = |f: &dyn Fn(&BigUint, &BigUint) -> BigUint| -> Vec<BigUint> {
            va.iter().zip(&vb).map(|(x, y)| f(x, y)).collect()
        };
        check(&a.mul(&b), &zip(&|x, y| x * y), "mul");
        check(&a.sqr(), &zip(&|x, _| x * x), "sqr");
        check(&a.add(&b).carry(), &zip(&|x, y| x + y), "add");
        let sub_ref = |x: &BigUint, y: &BigUint| x + (&pp << 8u32) - y;
        check(&a.sub(&b).carry(), &zip(&sub_ref), "sub");
        check(&a.neg().carry(), &zip(&|x, _| (&pp << 8u32) - x), "neg");
        // A long lazy chain up to the largest magnitude carry accepts.
        let mut big = a;
        let mut vbig = va.clone();
        while big.mag + b.mag <= MAX_MAG / 3 {
            big = big.add(&b).sub(&a);
            vbig = vbig
                .iter()
                .zip(&va)
                .zip(&vb)
                .map(|((s, x), y)| s + y + (&pp << 8u32) - x)
                .collect();
        }
        check(&big.carry(), &vbig, "lazy chain");
        check(
            &a.mul_small(8).carry().mul(&b),
            &zip(&|x, y| x * y * 8u8),
            "mul_small",
        );
        // Normalization gives the canonical representative.
        let n = a.sub(&b).normalize().to_lanes();
        for i in 0..V::LANES {
            let want = (&va[i] + (&pp << 4u32) - &vb[i]) % &pp;
            assert_eq!(from_limbs(&n[i]), want, "normalize, lane {i}");
            assert_eq!(to_limbs(&want), n[i], "normalize limbs, lane {i}");
        }
        // Zero tests: a − a is zero, a − b is zero exactly when equal mod p.
        let full = crate::lanes::full_mask(V::LANES);
        assert_eq!(a.sub(&a).is_zero(), full, "a - a");
        let mut want_eq = 0;
        for i in 0..V::LANES {
            if &va[i] % &pp == &vb[i] % &pp {
                want_eq |= 1 << i;
            }
        }
        assert_eq!(a.eq(&b), want_eq, "eq");
        let mut want_odd = 0;
        for (i, x) in va.iter().enumerate().take(V::LANES) {
            if (x % &pp).bit(0) {
                want_odd |= 1 << i;
            }
        }
        assert_eq!(a.is_odd(), want_odd, "is_odd");
    }
}

pub(crate) fn inverse_and_sqrt_match<V: Lane64>(rounds: usize) {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let edge = edges();
    let pp = p();
    for round in 0..rounds {
        let la = lanes_of(&mut rng, &edge, round * 3);
        let a = Fe::<V>::from_lanes(&la);
        let va = vals(&la);
        let inv = a.invert().to_lanes();
        let sq = a.sqr();
        let root = sq.sqrt_candidate().to_lanes();
        let cand = a.sqrt_candidate();
        let cand_ok = cand.sqr().eq(&a);
        for i in 0..V::LANES {
            let x = &va[i] % &pp;
            let xi = from_limbs(&inv[i]);
            if x == BigUint::from(0u8) {
                assert_eq!(xi % &pp, BigUint::from(0u8));
            } else {
                assert_eq!(x.clone() * xi % &pp, BigUint::from(1u8), "invert lane {i}");
            }
            let r = from_limbs(&root[i]);
            assert_eq!(&r * &r % &pp, &x * &x % &pp, "sqrt lane {i}");
            // Euler's criterion decides which lanes have a root.
            let is_sq = x == BigUint::from(0u8)
                || x.modpow(&((&pp - 1u8) >> 1u32), &pp) == BigUint::from(1u8);
            assert_eq!(cand_ok >> i & 1 == 1, is_sq, "sqrt existence lane {i}");
        }
    }
}

#[test]
fn portable_8_lanes() {
    field_matches_reference::<Portable<8>>(300);
    inverse_and_sqrt_match::<Portable<8>>(6);
}

#[test]
fn portable_1_lane() {
    field_matches_reference::<Portable<1>>(300);
}

#[cfg(target_arch = "x86_64")]
#[test]
fn ifma_8_lanes() {
    use crate::lanes::ifma::{available, Ifma};
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn run() {
        field_matches_reference::<Ifma>(300);
        inverse_and_sqrt_match::<Ifma>(6);
    }
    if !available() {
        eprintln!("skipped: no AVX-512 IFMA on this CPU");
        return;
    }
    // SAFETY: the CPU has AVX-512F and IFMA (checked just above).
    unsafe { run() };
}

#[test]
fn portable_radix26_products() {
    // The AVX2 backend's algorithm (products through 32-bit multiplies) in plain u64, with
    // the debug assertions that no 32-bit multiplicand is wider.
    field_matches_reference::<Portable<4, false>>(300);
    inverse_and_sqrt_match::<Portable<4, false>>(6);
}

#[cfg(target_arch = "x86_64")]
#[test]
fn avx2_4_lanes() {
    use crate::lanes::avx2::{available, Avx2};
    #[target_feature(enable = "avx2")]
    fn run() {
        field_matches_reference::<Avx2>(300);
        inverse_and_sqrt_match::<Avx2>(6);
    }
    if !available() {
        eprintln!("skipped: no AVX2 on this CPU");
        return;
    }
    // SAFETY: the CPU has AVX2 (checked just above).
    unsafe { run() };
}

#[cfg(target_arch = "x86_64")]
#[test]
fn avx2_primitives_match_portable() {
    // Every lane primitive of the AVX2 backend against the portable twin on random and
    // boundary words, including the emulated 52-bit multiplies (IFMA semantics: only the low
    // 52 bits of each multiplicand count) and every blend mask.
    use crate::lanes::avx2::{available, Avx2};
    #[target_feature(enable = "avx2")]
    fn run() {
        type P4 = Portable<4, false>;
        let mut rng = ChaCha20Rng::seed_from_u64(13);
        let edge = [
            0,
            1,
            M52,
            M52 + 1,
            u64::MAX,
            1 << 63,
            (1 << 26) - 1,
            1 << 32,
        ];
        let word = |rng: &mut ChaCha20Rng| {
            if rng.gen_bool(0.3) {
                edge[rng.gen_range(0..edge.len())]
            } else {
                rng.gen()
            }
        };
        let same = |v: Avx2, p: P4, what: &str| assert_eq!(v.store(), p.store(), "{what}");
        for _ in 0..2000 {
            let mut x = [[0u64; MAX_LANES]; 3];
            for a in &mut x {
                for w in a.iter_mut().take(4) {
                    *w = word(&mut rng);
                }
            }
            let (a, b, c) = (Avx2::load(&x[0]), Avx2::load(&x[1]), Avx2::load(&x[2]));
            let (pa, pb, pc) = (P4::load(&x[0]), P4::load(&x[1]), P4::load(&x[2]));
            same(a.add(b), pa.add(pb), "add");
            same(a.sub(b), pa.sub(pb), "sub");
            same(a.and(b), pa.and(pb), "and");
            same(a.or(b), pa.or(pb), "or");
            same(a.xor(b), pa.xor(pb), "xor");
            same(a.shr::<26>(), pa.shr::<26>(), "shr");
            same(a.shl::<10>(), pa.shl::<10>(), "shl");
            let m32 = P4::splat(0xFFFF_FFFF);
            same(b.mul32(c), pb.and(m32).mul32(pc.and(m32)), "mul32");
            let m52 = P4::splat(M52);
            let (qb, qc) = (pb.and(m52), pc.and(m52));
            same(a.madd52lo(b, c), pa.madd52lo(qb, qc), "madd52lo");
            same(a.madd52hi(b, c), pa.madd52hi(qb, qc), "madd52hi");
            assert_eq!(a.zero_mask(), pa.zero_mask(), "zero_mask");
            let mask = rng.gen_range(0..16u32);
            same(Avx2::blend(mask, a, b), P4::blend(mask, pa, pb), "blend");
        }
        let base: Vec<u64> = (0..64).map(|_| rng.gen()).collect();
        let idx = [3, 0, 17, 40, 0, 0, 0, 0];
        let g = Avx2::gather::<3>(&base, &idx, 7);
        let pg = P4::gather::<3>(&base, &idx, 7);
        for k in 0..3 {
            same(g[k], pg[k], "gather");
        }
    }
    if !available() {
        eprintln!("skipped: no AVX2 on this CPU");
        return;
    }
    // SAFETY: the CPU has AVX2 (checked just above).
    unsafe { run() };
}
