//! The entry points: many ECDSA verifications, run through the chosen backend in groups of
//! its lane count, with libsecp256k1 deciding the lanes that hit an exceptional case.

use crate::ecdsa::{verify_lanes, EcdsaLane, LaneVerdicts};
use crate::field::limbs_from_be;
use crate::gtable::{g_tables, GTables};
use crate::lanes::Portable;
use crate::scalar::Scalar;
use secp256k1::{ecdsa::Signature, Message, PublicKey};

/// Whether the AVX2 backend beats libsecp256k1 one at a time, as measured by
/// `benches/vecsecp.rs`; `Backend::detect` picks it only then. It does not: 0.37–0.46× of
/// libsecp256k1 (2026-12-02, figures and the reason in docs/benchmarks.md).
const AVX2_PAYS: bool = false;

/// Which implementation verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Eight lanes of AVX-512 IFMA.
    Ifma,
    /// Four lanes of AVX2 (products through 32-bit multiplies).
    Avx2,
    /// The plain-`u64` twin of the vector code, eight lanes (for tests and comparison).
    Portable,
    /// libsecp256k1, one signature at a time: what a machine without vector units gets.
    Libsecp,
}

impl Backend {
    /// Every backend, the vector ones first; filter with [`Backend::is_available`].
    pub const ALL: [Backend; 4] = [
        Backend::Ifma,
        Backend::Avx2,
        Backend::Portable,
        Backend::Libsecp,
    ];

    /// The fastest backend this CPU runs: IFMA when present, else AVX2 when present and
    /// measured faster than libsecp256k1 (`AVX2_PAYS`), else libsecp256k1.
    pub fn detect() -> Backend {
        #[cfg(target_arch = "x86_64")]
        {
            if crate::lanes::ifma::available() {
                return Backend::Ifma;
            }
            if AVX2_PAYS && crate::lanes::avx2::available() {
                return Backend::Avx2;
            }
        }
        Backend::Libsecp
    }

    /// Whether this CPU can run the backend.
    pub fn is_available(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            Backend::Ifma => crate::lanes::ifma::available(),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => crate::lanes::avx2::available(),
            #[cfg(not(target_arch = "x86_64"))]
            Backend::Ifma | Backend::Avx2 => false,
            Backend::Portable | Backend::Libsecp => true,
        }
    }

    /// Signatures verified together.
    pub(crate) fn lanes(self) -> usize {
        match self {
            Backend::Ifma | Backend::Portable => 8,
            Backend::Avx2 => 4,
            Backend::Libsecp => 1,
        }
    }
}

/// One ECDSA check in raw form: message hash, r and s (big-endian, unparsed), key (x, y).
/// Every value is accepted; the verdict is libsecp256k1's for the same bytes (a key off the
/// curve or r, s ≥ n fail as they fail to parse there; high s fails as in `verify_ecdsa`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawEcdsa {
    /// The 32-byte message hash.
    pub msg: [u8; 32],
    /// r, big-endian.
    pub r: [u8; 32],
    /// s, big-endian.
    pub s: [u8; 32],
    /// The key's x-coordinate, big-endian.
    pub x: [u8; 32],
    /// The key's y-coordinate, big-endian.
    pub y: [u8; 32],
}

impl RawEcdsa {
    /// The raw form of a parsed (message, signature, key).
    pub fn new(msg: &[u8; 32], sig: &Signature, pk: &PublicKey) -> RawEcdsa {
        let rs = sig.serialize_compact();
        let pt = pk.serialize_uncompressed();
        let mut r = RawEcdsa {
            msg: *msg,
            r: [0; 32],
            s: [0; 32],
            x: [0; 32],
            y: [0; 32],
        };
        r.r.copy_from_slice(&rs[..32]);
        r.s.copy_from_slice(&rs[32..]);
        r.x.copy_from_slice(&pt[1..33]);
        r.y.copy_from_slice(&pt[33..]);
        r
    }

    /// libsecp256k1's verdict on these bytes.
    pub fn verify_libsecp(&self) -> bool {
        let mut pt = [4u8; 65];
        pt[1..33].copy_from_slice(&self.x);
        pt[33..].copy_from_slice(&self.y);
        let mut rs = [0u8; 64];
        rs[..32].copy_from_slice(&self.r);
        rs[32..].copy_from_slice(&self.s);
        let (Ok(pk), Ok(sig)) = (PublicKey::from_slice(&pt), Signature::from_compact(&rs)) else {
            return false;
        };
        secp256k1::ecdsa::verify(&sig, Message::from_digest(self.msg), &pk).is_ok()
    }
}

/// Verifies every (message hash, signature, key) with the detected backend; the verdicts
/// equal libsecp256k1's `verify_ecdsa` (which rejects high s: normalize first where Core does).
pub fn verify_ecdsa_many(items: &[([u8; 32], Signature, PublicKey)]) -> Vec<bool> {
    let raw: Vec<RawEcdsa> = items
        .iter()
        .map(|(m, s, k)| RawEcdsa::new(m, s, k))
        .collect();
    verify_ecdsa_raw(Backend::detect(), &raw)
}

/// Verifies raw checks with a chosen backend (which must be available: see
/// [`Backend::is_available`]; an unavailable one panics).
pub fn verify_ecdsa_raw(backend: Backend, items: &[RawEcdsa]) -> Vec<bool> {
    verify_counting(backend, items).0
}

/// [`verify_ecdsa_raw`], and how many checks the lanes handed to libsecp256k1.
pub(crate) fn verify_counting(backend: Backend, items: &[RawEcdsa]) -> (Vec<bool>, usize) {
    assert!(
        backend.is_available(),
        "backend {backend:?} not available on this CPU"
    );
    let mut out = vec![false; items.len()];
    if backend == Backend::Libsecp {
        for (o, it) in out.iter_mut().zip(items) {
            *o = it.verify_libsecp();
        }
        return (out, 0);
    }
    // Parse and screen as libsecp256k1 does, then invert every s at once.
    let mut pending: Vec<(usize, Scalar, Scalar, Scalar)> = Vec::with_capacity(items.len());
    for (i, it) in items.iter().enumerate() {
        let (Some(r), Some(s)) = (
            Scalar::from_be_checked(&it.r),
            Scalar::from_be_checked(&it.s),
        ) else {
            continue;
        };
        if r.is_zero() || s.is_zero() || s.is_high() || !coords_below_p(it) {
            continue;
        }
        pending.push((i, r, s, Scalar::from_be_reduced(&it.msg)));
    }
    let mut inv: Vec<Scalar> = pending.iter().map(|p| p.2).collect();
    Scalar::batch_invert(&mut inv);
    let lanes: Vec<(usize, EcdsaLane)> = pending
        .iter()
        .zip(&inv)
        .map(|(&(i, r, _, z), w)| {
            let it = &items[i];
            let lane = EcdsaLane {
                x: limbs_from_be(&it.x),
                y: limbs_from_be(&it.y),
                u1: z.mul(w),
                u2: r.mul(w),
                r,
            };
            (i, lane)
        })
        .collect();
    let g = g_tables();
    let mut fallbacks = 0;
    for chunk in lanes.chunks(backend.lanes()) {
        let work: Vec<EcdsaLane> = chunk.iter().map(|c| c.1).collect();
        let v = run(backend, &work, g);
        for (k, (i, _)) in chunk.iter().enumerate() {
            out[*i] = if v.fallback >> k & 1 == 1 {
                fallbacks += 1;
                items[*i].verify_libsecp()
            } else {
                v.ok >> k & 1 == 1
            };
        }
    }
    (out, fallbacks)
}

/// Coordinates that are field elements (below p); libsecp256k1 refuses others at parse.
fn coords_below_p(it: &RawEcdsa) -> bool {
    field_bytes_below_p(&it.x) && field_bytes_below_p(&it.y)
}

/// Whether 32 big-endian bytes are below p.
pub(crate) fn field_bytes_below_p(b: &[u8; 32]) -> bool {
    let mut p = [0xFFu8; 32];
    p[27] = 0xFE;
    p[30] = 0xFC;
    p[31] = 0x2F;
    *b < p
}

fn run(backend: Backend, work: &[EcdsaLane], g: &GTables) -> LaneVerdicts {
    match backend {
        #[cfg(target_arch = "x86_64")]
        Backend::Ifma => {
            // SAFETY: verify_ecdsa_raw asserted that this CPU has AVX-512F and IFMA.
            unsafe { run_ifma(work, g) }
        }
        #[cfg(target_arch = "x86_64")]
        Backend::Avx2 => {
            // SAFETY: verify_ecdsa_raw asserted that this CPU has AVX2.
            unsafe { run_avx2(work, g) }
        }
        _ => verify_lanes::<Portable<8>>(work, g),
    }
}

/// The IFMA instantiation, compiled with the features it needs.
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512 IFMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512ifma")]
unsafe fn run_ifma(work: &[EcdsaLane], g: &GTables) -> LaneVerdicts {
    verify_lanes::<crate::lanes::ifma::Ifma>(work, g)
}

/// The AVX2 instantiation, compiled with the features it needs (without them every lane
/// operation would be a call).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_avx2(work: &[EcdsaLane], g: &GTables) -> LaneVerdicts {
    verify_lanes::<crate::lanes::avx2::Avx2>(work, g)
}
