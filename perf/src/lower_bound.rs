//! The signature-verification floor of a chain on this machine.
//!
//! Verifying every signature is work no validator can skip, so
//! `(ECDSA count × ECDSA cost + Schnorr count × Schnorr cost) / cores` is a lower bound on the
//! wall time of any full validation. Costs are measured here with libsecp256k1 (the `secp256k1`
//! crate): single verification for ECDSA; for Schnorr the per-signature cost of Sluice's batch
//! verifier (`sluice_consensus::secp::BatchVerifier`) on batches of 256 (named in the result).

use std::time::{Duration, Instant};

use secp256k1::{schnorr, Keypair, Message, PublicKey, SecretKey};

use sluice_consensus::secp::BatchVerifier;

use crate::report::LowerBound;
use crate::sigcount::SigCount;

/// Per-signature verification costs, in microseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct SigCosts {
    pub ecdsa_us: f64,
    pub schnorr_us: f64,
    pub schnorr_method: String,
}

fn digest(i: u64) -> [u8; 32] {
    let mut d = [0u8; 32];
    d[..8].copy_from_slice(&i.to_le_bytes());
    d[8] = 1;
    d
}

fn message(i: u64) -> Message {
    Message::from_digest(digest(i))
}

fn secret(i: u64) -> SecretKey {
    let mut k = [0x11u8; 32];
    k[..8].copy_from_slice(&(i + 1).to_le_bytes());
    // Non-zero and far below the curve order (high bytes 0x11): always a valid key.
    SecretKey::from_secret_bytes(k).expect("constant in-range key")
}

/// Times `f` over the set of `n` items repeatedly for at least `budget`; µs per item.
fn time_per_item(n: usize, budget: Duration, mut f: impl FnMut(usize) -> bool) -> f64 {
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed() < budget {
        for i in 0..n {
            assert!(f(i), "verification of a valid signature failed");
        }
        done += n as u64;
    }
    #[allow(clippy::cast_precision_loss)]
    let per = start.elapsed().as_secs_f64() * 1e6 / done as f64;
    per
}

/// Measures libsecp256k1 verification costs on this machine (single thread).
#[must_use]
pub fn measure(budget: Duration) -> SigCosts {
    const N: usize = 256;
    let ecdsa: Vec<(Message, secp256k1::ecdsa::Signature, PublicKey)> = (0..N as u64)
        .map(|i| {
            let sk = secret(i);
            let m = message(i);
            (
                m,
                secp256k1::ecdsa::sign(m, &sk),
                PublicKey::from_secret_key(&sk),
            )
        })
        .collect();
    let schnorr: Vec<(Message, schnorr::Signature, secp256k1::XOnlyPublicKey)> = (0..N as u64)
        .map(|i| {
            let kp = Keypair::from_secret_key(&secret(i));
            let m = message(i);
            (
                m,
                schnorr::sign_no_aux_rand(m.as_ref(), &kp),
                kp.x_only_public_key().0,
            )
        })
        .collect();
    let ecdsa_us = time_per_item(N, budget, |i| {
        let (m, s, p) = &ecdsa[i];
        secp256k1::ecdsa::verify(s, *m, p).is_ok()
    });
    // Schnorr: one batch of all N signatures through Sluice's BatchVerifier, repeated.
    let mut batch = BatchVerifier::with_capacity(N);
    for (i, (_, s, p)) in schnorr.iter().enumerate() {
        batch.push(digest(i as u64), p.to_byte_array(), s.to_byte_array());
    }
    let randomness = [7u8; 32];
    let schnorr_us = time_per_item(1, budget, |_| batch.verify(randomness).is_ok()) / N as f64;
    SigCosts {
        ecdsa_us,
        schnorr_us,
        schnorr_method: format!("Sluice BatchVerifier, batches of {N}"),
    }
}

/// The bound for `sigs` on `cores` cores, and how far `sluice_wall_s` is above it.
#[must_use]
pub fn bound(costs: &SigCosts, sigs: SigCount, cores: usize, sluice_wall_s: f64) -> LowerBound {
    #[allow(clippy::cast_precision_loss)]
    let work_s =
        (sigs.ecdsa as f64 * costs.ecdsa_us + sigs.schnorr as f64 * costs.schnorr_us) / 1e6;
    #[allow(clippy::cast_precision_loss)]
    let seconds = work_s / cores.max(1) as f64;
    LowerBound {
        ecdsa_verify_us: costs.ecdsa_us,
        schnorr_verify_us: costs.schnorr_us,
        schnorr_method: costs.schnorr_method.clone(),
        cores,
        seconds,
        sluice_over_bound: if seconds > 0.0 {
            sluice_wall_s / seconds
        } else {
            0.0
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_are_plausible_and_bound_divides_by_cores() {
        let c = measure(Duration::from_millis(30));
        // libsecp256k1 verifies in tens of µs on any recent x86; allow a wide band.
        assert!(c.ecdsa_us > 1.0 && c.ecdsa_us < 5_000.0, "{c:?}");
        assert!(c.schnorr_us > 1.0 && c.schnorr_us < 5_000.0, "{c:?}");
        let fixed = SigCosts {
            ecdsa_us: 50.0,
            schnorr_us: 40.0,
            schnorr_method: "test".into(),
        };
        let b = bound(
            &fixed,
            SigCount {
                ecdsa: 20_000,
                schnorr: 10_000,
            },
            2,
            1.4,
        );
        // (20000·50 + 10000·40) µs = 1.4 s of work, over 2 cores = 0.7 s.
        assert!((b.seconds - 0.7).abs() < 1e-9);
        assert!((b.sluice_over_bound - 2.0).abs() < 1e-9);
    }
}
