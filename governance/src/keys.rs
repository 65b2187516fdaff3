//! BIP340 signing keys and their encrypted-at-rest file.
//!
//! Key file layout (142 bytes):
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `SLGOVKEY` |
//! | 1 | format version, 1 |
//! | 1 | KDF id, 1 = Argon2id v0x13 |
//! | 4+4+4 | Argon2 memory (KiB), passes, lanes, big-endian |
//! | 16 | salt |
//! | 24 | XChaCha20-Poly1305 nonce |
//! | 32 | x-only public key |
//! | 48 | encrypted 32-byte secret + 16-byte tag |
//!
//! The first 94 bytes (the header) are the AEAD's associated data: changing the KDF cost, the
//! salt or the advertised public key makes decryption fail instead of silently weakening or
//! mislabelling the key.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::rngs::OsRng;
use rand::RngCore;
use secp256k1::{schnorr, Keypair, XOnlyPublicKey};
use zeroize::{Zeroize, Zeroizing};

use crate::error::Error;
use crate::hash::{parse_hex_array, Digest};

const MAGIC: &[u8; 8] = b"SLGOVKEY";
const FORMAT: u8 = 1;
const KDF_ARGON2ID: u8 = 1;
const HEADER_LEN: usize = 8 + 1 + 1 + 12 + 16 + 24 + 32;
const CIPHERTEXT_LEN: usize = 32 + 16;
/// Exact length of a key file.
pub const KEY_FILE_LEN: usize = HEADER_LEN + CIPHERTEXT_LEN;

/// Argon2id cost parameters stored in a key file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub passes: u32,
    /// Lanes.
    pub lanes: u32,
}

impl KdfParams {
    /// 64 MiB, 3 passes, 1 lane: RFC 9106's second recommended option.
    pub const DEFAULT: KdfParams = KdfParams {
        memory_kib: 64 * 1024,
        passes: 3,
        lanes: 1,
    };

    /// A file could otherwise ask for a 4 TiB allocation, or for a cost too low to matter.
    fn check(self) -> Result<Self, Error> {
        let ok = (8 * 1024..=1024 * 1024).contains(&self.memory_kib)
            && (1..=64).contains(&self.passes)
            && (1..=16).contains(&self.lanes);
        if ok {
            Ok(self)
        } else {
            Err(Error::KeyFile("Argon2 parameters out of range"))
        }
    }
}

/// A BIP340 signing key; its secret is erased from memory on drop.
pub struct SigningKey {
    keypair: Keypair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret, not even by accident through `{:?}`.
        write!(
            f,
            "SigningKey({})",
            hex::encode(self.public().to_byte_array())
        )
    }
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        self.keypair.non_secure_erase();
    }
}

impl SigningKey {
    /// A fresh key from the operating system's randomness.
    pub fn generate() -> Self {
        loop {
            let mut bytes = Zeroizing::new([0u8; 32]);
            OsRng.fill_bytes(&mut bytes[..]);
            // Fails only for 0 or ≥ the group order: probability ~2^-128, so just draw again.
            if let Ok(key) = Self::from_secret(&bytes) {
                return key;
            }
        }
    }

    /// From 32 secret bytes.
    pub fn from_secret(secret: &[u8; 32]) -> Result<Self, Error> {
        Keypair::from_secret_bytes(*secret)
            .map(|keypair| SigningKey { keypair })
            .map_err(|_| Error::KeyFile("secret is not a valid secp256k1 scalar"))
    }

    /// The x-only public key.
    pub fn public(&self) -> XOnlyPublicKey {
        self.keypair.x_only_public_key().0
    }

    /// A BIP340 signature over a 32-byte tagged-hash message, with fresh auxiliary randomness.
    pub fn sign(&self, msg: &Digest) -> [u8; 64] {
        let mut aux = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(&mut aux[..]);
        schnorr::sign_with_aux_rand(&msg.0, &self.keypair, &aux).to_byte_array()
    }

    /// Encrypts the key under `password` into the key-file format.
    pub fn encrypt(&self, password: &[u8], params: KdfParams) -> Result<Vec<u8>, Error> {
        let params = params.check()?;
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut salt);
        OsRng.fill_bytes(&mut nonce);
        let mut out = Vec::with_capacity(KEY_FILE_LEN);
        out.extend_from_slice(MAGIC);
        out.push(FORMAT);
        out.push(KDF_ARGON2ID);
        out.extend_from_slice(&params.memory_kib.to_be_bytes());
        out.extend_from_slice(&params.passes.to_be_bytes());
        out.extend_from_slice(&params.lanes.to_be_bytes());
        out.extend_from_slice(&salt);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&self.public().to_byte_array());
        let key = derive(password, &salt, params)?;
        let cipher = XChaCha20Poly1305::new((&*key).into());
        let secret = Zeroizing::new(self.keypair.to_secret_bytes());
        let ct = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &secret[..],
                    aad: &out,
                },
            )
            .map_err(|_| Error::KeyFile("encryption failed"))?;
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Decrypts a key file. A wrong password and a tampered file are indistinguishable, by
    /// design of the AEAD.
    pub fn decrypt(file: &[u8], password: &[u8]) -> Result<Self, Error> {
        let header = KeyFileHeader::parse(file)?;
        let key = derive(password, &header.salt, header.params)?;
        let cipher = XChaCha20Poly1305::new((&*key).into());
        let aad = &file[..HEADER_LEN];
        let plain = Zeroizing::new(
            cipher
                .decrypt(
                    XNonce::from_slice(&header.nonce),
                    Payload {
                        msg: &file[HEADER_LEN..],
                        aad,
                    },
                )
                .map_err(|_| Error::KeyFile("wrong password or corrupted key file"))?,
        );
        let mut secret = Zeroizing::new([0u8; 32]);
        if plain.len() != 32 {
            return Err(Error::KeyFile("decrypted secret has the wrong length"));
        }
        secret.copy_from_slice(&plain);
        let key = Self::from_secret(&secret)?;
        if key.public() != header.public {
            return Err(Error::KeyFile(
                "secret does not match the header's public key",
            ));
        }
        Ok(key)
    }
}

/// The unencrypted part of a key file.
#[derive(Debug, Clone)]
pub struct KeyFileHeader {
    /// KDF cost.
    pub params: KdfParams,
    salt: [u8; 16],
    nonce: [u8; 24],
    /// The advertised public key (authenticated only once the file is decrypted).
    pub public: XOnlyPublicKey,
}

impl KeyFileHeader {
    /// Checks the layout and reads the header fields.
    pub fn parse(file: &[u8]) -> Result<Self, Error> {
        if file.len() != KEY_FILE_LEN {
            return Err(Error::BadLength {
                field: "key file".into(),
                expected: KEY_FILE_LEN,
                found: file.len(),
            });
        }
        if &file[..8] != MAGIC {
            return Err(Error::KeyFile("not a sluice-gov key file (bad magic)"));
        }
        if file[8] != FORMAT || file[9] != KDF_ARGON2ID {
            return Err(Error::KeyFile("unsupported key file version or KDF"));
        }
        let be =
            |at: usize| u32::from_be_bytes([file[at], file[at + 1], file[at + 2], file[at + 3]]);
        let params = KdfParams {
            memory_kib: be(10),
            passes: be(14),
            lanes: be(18),
        }
        .check()?;
        let mut salt = [0u8; 16];
        salt.copy_from_slice(&file[22..38]);
        let mut nonce = [0u8; 24];
        nonce.copy_from_slice(&file[38..62]);
        let mut pk = [0u8; 32];
        pk.copy_from_slice(&file[62..94]);
        let public = XOnlyPublicKey::from_byte_array(pk).map_err(|_| Error::InvalidPoint {
            field: "key file public key".into(),
        })?;
        Ok(KeyFileHeader {
            params,
            salt,
            nonce,
            public,
        })
    }
}

fn derive(password: &[u8], salt: &[u8; 16], p: KdfParams) -> Result<Zeroizing<[u8; 32]>, Error> {
    let params = Params::new(p.memory_kib, p.passes, p.lanes, Some(32))
        .map_err(|_| Error::KeyFile("Argon2 parameters rejected"))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password, salt, &mut key[..])
        .map_err(|_| Error::KeyFile("Argon2 failed"))?;
    Ok(key)
}

/// Parses a hex x-only public key, telling a bad length from a point not on the curve.
pub fn parse_xonly(field: &str, s: &str) -> Result<XOnlyPublicKey, Error> {
    let bytes = parse_hex_array::<32>(field, s)?;
    XOnlyPublicKey::from_byte_array(bytes).map_err(|_| Error::InvalidPoint {
        field: field.into(),
    })
}

/// Parses a hex BIP340 signature (64 bytes).
pub fn parse_signature(field: &str, s: &str) -> Result<[u8; 64], Error> {
    parse_hex_array::<64>(field, s)
}

/// Verifies a BIP340 signature over a tagged-hash message.
pub fn verify(public: &XOnlyPublicKey, msg: &Digest, sig: &[u8; 64]) -> bool {
    let sig = schnorr::Signature::from_byte_array(*sig);
    schnorr::verify(&sig, &msg.0, public).is_ok()
}

/// Wipes a password buffer; used by the CLI after reading a password file.
pub fn wipe(buf: &mut Vec<u8>) {
    buf.zeroize();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::hash::tagged_hash;

    const CHEAP: KdfParams = KdfParams {
        memory_kib: 8 * 1024,
        passes: 1,
        lanes: 1,
    };

    #[test]
    fn sign_verify_round_trip() {
        let k = SigningKey::generate();
        let m = tagged_hash("t", b"m");
        let sig = k.sign(&m);
        assert!(verify(&k.public(), &m, &sig));
        assert!(!verify(&k.public(), &tagged_hash("t", b"n"), &sig));
    }

    #[test]
    fn key_file_round_trip_and_wrong_password() {
        let k = SigningKey::generate();
        let file = k.encrypt(b"pw", CHEAP).unwrap();
        assert_eq!(file.len(), KEY_FILE_LEN);
        let back = SigningKey::decrypt(&file, b"pw").unwrap();
        assert_eq!(back.public(), k.public());
        assert!(matches!(
            SigningKey::decrypt(&file, b"other"),
            Err(Error::KeyFile(_))
        ));
    }

    #[test]
    fn header_is_authenticated() {
        let k = SigningKey::generate();
        let file = k.encrypt(b"pw", CHEAP).unwrap();
        // Flip a salt bit, then a public key bit (keeping it a valid point by swapping in
        // another key): both must fail to decrypt rather than yield a key.
        let mut salted = file.clone();
        salted[25] ^= 1;
        assert!(matches!(
            SigningKey::decrypt(&salted, b"pw"),
            Err(Error::KeyFile(_))
        ));
        let mut relabelled = file.clone();
        relabelled[62..94].copy_from_slice(&SigningKey::generate().public().to_byte_array());
        assert!(matches!(
            SigningKey::decrypt(&relabelled, b"pw"),
            Err(Error::KeyFile(_))
        ));
    }

    #[test]
    fn malformed_key_files() {
        let k = SigningKey::generate();
        let file = k.encrypt(b"pw", CHEAP).unwrap();
        assert!(matches!(
            SigningKey::decrypt(&file[..100], b"pw"),
            Err(Error::BadLength {
                expected: KEY_FILE_LEN,
                found: 100,
                ..
            })
        ));
        let mut greedy = file.clone();
        greedy[10..14].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            SigningKey::decrypt(&greedy, b"pw"),
            Err(Error::KeyFile("Argon2 parameters out of range"))
        ));
        let mut magic = file;
        magic[0] = b'X';
        assert!(matches!(
            SigningKey::decrypt(&magic, b"pw"),
            Err(Error::KeyFile(_))
        ));
    }

    #[test]
    fn xonly_errors_are_typed() {
        assert!(matches!(
            parse_xonly("k", "00"),
            Err(Error::BadLength { .. })
        ));
        // x ≥ p is no field element, so no point.
        let not_on_curve = "ff".repeat(32);
        assert!(matches!(
            parse_xonly("k", &not_on_curve),
            Err(Error::InvalidPoint { .. })
        ));
    }
}
