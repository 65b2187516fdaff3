//! The precomputed odd multiples of G shared by every lane: d·G and d·2^128·G for odd
//! d < 2^W_G, affine, made once per process by libsecp256k1 (the referee computes the
//! constants, so they cannot disagree with it).

use crate::field::limbs_from_be;
use crate::scalar::Scalar;
use secp256k1::{PublicKey, SecretKey};
use std::sync::OnceLock;

/// Window width of the G digits.
pub(crate) const W_G: u32 = 8;
/// Entries per table: the odd d below 2^W_G.
pub(crate) const G_ENTRIES: usize = 1 << (W_G - 1);

/// Two tables, entry e = (2e + 1)·base as ten limbs (x then y), for base G and 2^128·G.
#[derive(Debug)]
pub(crate) struct GTables {
    pub(crate) lo: Vec<u64>,
    pub(crate) hi: Vec<u64>,
}

/// The tables, made on first use (about 256 libsecp256k1 key derivations).
pub(crate) fn g_tables() -> &'static GTables {
    static TABLES: OnceLock<GTables> = OnceLock::new();
    TABLES.get_or_init(|| GTables {
        lo: table(0),
        hi: table(128),
    })
}

fn table(shift: u32) -> Vec<u64> {
    let mut base = [0u8; 32];
    base[31 - (shift / 8) as usize] = 1 << (shift % 8);
    let base = Scalar::from_be_checked(&base).expect("2^shift < n");
    let mut out = Vec::with_capacity(G_ENTRIES * 10);
    for e in 0..G_ENTRIES {
        let mut d = [0u8; 32];
        d[30..].copy_from_slice(&u16::try_from(2 * e + 1).expect("small").to_be_bytes());
        let k = Scalar::from_be_checked(&d).expect("small").mul(&base);
        let sk = SecretKey::from_secret_bytes(k.to_be()).expect("nonzero, below n");
        let pt = PublicKey::from_secret_key(&sk).serialize_uncompressed();
        let mut x = [0u8; 32];
        let mut y = [0u8; 32];
        x.copy_from_slice(&pt[1..33]);
        y.copy_from_slice(&pt[33..65]);
        out.extend_from_slice(&limbs_from_be(&x));
        out.extend_from_slice(&limbs_from_be(&y));
    }
    out
}
