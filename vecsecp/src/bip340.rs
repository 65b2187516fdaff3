//! The BIP340 entry points: many Schnorr verifications through the chosen backend, with
//! libsecp256k1 deciding the lanes that hit an exceptional case.

use crate::ecdsa::LaneVerdicts;
use crate::field::limbs_from_be;
use crate::gtable::{g_tables, GTables};
use crate::lanes::Portable;
use crate::scalar::Scalar;
use crate::schnorr::{verify_lanes, SchnorrLane};
use crate::verify::{field_bytes_below_p, Backend};
use secp256k1::{schnorr::Signature, XOnlyPublicKey};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// One BIP340 check in raw form: a 32-byte message, the 64-byte signature, the x-only key.
/// Every value is accepted; the verdict is libsecp256k1's for the same bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawSchnorr {
    /// The message (a sighash in Bitcoin).
    pub msg: [u8; 32],
    /// r (x of R) then s, big-endian.
    pub sig: [u8; 64],
    /// The key's x-coordinate, big-endian.
    pub x: [u8; 32],
}

impl RawSchnorr {
    /// The raw form of a parsed (message, signature, key).
    pub fn new(msg: &[u8; 32], sig: &Signature, pk: &XOnlyPublicKey) -> RawSchnorr {
        RawSchnorr {
            msg: *msg,
            sig: sig.to_byte_array(),
            x: pk.to_byte_array(),
        }
    }

    /// libsecp256k1's verdict on these bytes.
    pub fn verify_libsecp(&self) -> bool {
        let Ok(pk) = XOnlyPublicKey::from_byte_array(self.x) else {
            return false;
        };
        secp256k1::schnorr::verify(&Signature::from_byte_array(self.sig), &self.msg, &pk).is_ok()
    }
}

/// Verifies every (message, signature, key) with the detected backend; the verdicts equal
/// libsecp256k1's `schnorr::verify`.
pub fn verify_schnorr_many(items: &[([u8; 32], Signature, XOnlyPublicKey)]) -> Vec<bool> {
    let raw: Vec<RawSchnorr> = items
        .iter()
        .map(|(m, s, k)| RawSchnorr::new(m, s, k))
        .collect();
    verify_schnorr_raw(Backend::detect(), &raw)
}

/// Verifies raw checks with a chosen backend (which must be available).
pub fn verify_schnorr_raw(backend: Backend, items: &[RawSchnorr]) -> Vec<bool> {
    schnorr_counting(backend, items).0
}

/// SHA256(SHA256(tag) ‖ SHA256(tag)) absorbed, for the challenge hash.
fn challenge_prefix() -> &'static Sha256 {
    static PREFIX: OnceLock<Sha256> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let tag = Sha256::digest(b"BIP0340/challenge");
        let mut h = Sha256::new();
        h.update(tag);
        h.update(tag);
        h
    })
}

/// [`verify_schnorr_raw`], and how many checks the lanes handed to libsecp256k1.
pub(crate) fn schnorr_counting(backend: Backend, items: &[RawSchnorr]) -> (Vec<bool>, usize) {
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
    let mut lanes: Vec<(usize, SchnorrLane)> = Vec::with_capacity(items.len());
    for (i, it) in items.iter().enumerate() {
        let mut r = [0u8; 32];
        let mut s = [0u8; 32];
        r.copy_from_slice(&it.sig[..32]);
        s.copy_from_slice(&it.sig[32..]);
        // libsecp256k1 refuses r ≥ p, s ≥ n and x ≥ p before any arithmetic.
        let Some(s) = Scalar::from_be_checked(&s) else {
            continue;
        };
        if !field_bytes_below_p(&r) || !field_bytes_below_p(&it.x) {
            continue;
        }
        let mut h = challenge_prefix().clone();
        h.update(r);
        h.update(it.x);
        h.update(it.msg);
        let e = Scalar::from_be_reduced(&h.finalize().into());
        lanes.push((
            i,
            SchnorrLane {
                x: limbs_from_be(&it.x),
                r: limbs_from_be(&r),
                s,
                e,
            },
        ));
    }
    let g = g_tables();
    let mut fallbacks = 0;
    for chunk in lanes.chunks(backend.lanes()) {
        let work: Vec<SchnorrLane> = chunk.iter().map(|c| c.1).collect();
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

fn run(backend: Backend, work: &[SchnorrLane], g: &GTables) -> LaneVerdicts {
    match backend {
        #[cfg(target_arch = "x86_64")]
        Backend::Ifma => {
            // SAFETY: schnorr_counting asserted that this CPU has AVX-512F and IFMA.
            unsafe { run_ifma(work, g) }
        }
        #[cfg(target_arch = "x86_64")]
        Backend::Avx2 => {
            // SAFETY: schnorr_counting asserted that this CPU has AVX2.
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
unsafe fn run_ifma(work: &[SchnorrLane], g: &GTables) -> LaneVerdicts {
    verify_lanes::<crate::lanes::ifma::Ifma>(work, g)
}

/// The AVX2 instantiation, compiled with the features it needs.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_avx2(work: &[SchnorrLane], g: &GTables) -> LaneVerdicts {
    verify_lanes::<crate::lanes::avx2::Avx2>(work, g)
}
