//! Signature checking behind a trait (Core's `BaseSignatureChecker`), and the transaction
//! checker that hashes and verifies with libsecp256k1, or defers Schnorr checks to a batch and
//! deferrable ECDSA checks to a group verification (see [`crate::script::deferred`]).

use secp256k1::{ecdsa, schnorr, Message, PublicKey, XOnlyPublicKey};

use crate::coin::Amount;
use crate::hash::Hash256;
use crate::keycache::PubkeyCache;
use crate::script::interpreter::{ExecData, SigVersion};
use crate::script::ScriptError;
use crate::sighash::bip143::segwit_v0_sighash;
use crate::sighash::bip341::{taproot_sighash, TapscriptContext};
use crate::sighash::legacy::legacy_sighash;
use crate::sighash::{PrecomputedTxData, SpentOutput, SIGHASH_DEFAULT};
use crate::tx::Transaction;

/// Core's `LOCKTIME_THRESHOLD`: below are heights, at or above are timestamps.
pub const LOCKTIME_THRESHOLD: i64 = 500_000_000;
const SEQUENCE_FINAL: u32 = 0xffff_ffff;
const SEQUENCE_LOCKTIME_DISABLE_FLAG: i64 = 1 << 31;
const SEQUENCE_LOCKTIME_TYPE_FLAG: i64 = 1 << 22;
const SEQUENCE_LOCKTIME_MASK: i64 = 0x0000_ffff;

/// What the interpreter asks of the transaction context. The defaults fail every check, as
/// Core's `BaseSignatureChecker` does.
pub trait SignatureChecker {
    /// `sig` includes the trailing hashtype byte; `script_code` is the (FindAndDelete'd for
    /// legacy) code from the last executed OP_CODESEPARATOR.
    fn check_ecdsa(
        &mut self,
        _sig: &[u8],
        _pubkey: &[u8],
        _script_code: &[u8],
        _sigversion: SigVersion,
    ) -> bool {
        false
    }
    /// The same check, called by the interpreter only where a false answer makes the input
    /// fail whatever the script does next (see [`crate::script::deferred`] for the forms and
    /// why). An implementation may record the check and answer true, provided its caller
    /// verifies every record and fails the input when one is false. Default: in place.
    fn check_ecdsa_deferrable(
        &mut self,
        sig: &[u8],
        pubkey: &[u8],
        script_code: &[u8],
        sigversion: SigVersion,
    ) -> bool {
        self.check_ecdsa(sig, pubkey, script_code, sigversion)
    }
    /// `pubkey` is 32 bytes; `sig` 64 or 65 bytes is the caller's responsibility to check
    /// (this returns `SchnorrSigSize` otherwise).
    ///
    /// # Errors
    /// The script error the failed check raises.
    fn check_schnorr(
        &mut self,
        _sig: &[u8],
        _pubkey: &[u8],
        _sigversion: SigVersion,
        _execdata: &ExecData,
    ) -> Result<(), ScriptError> {
        Err(ScriptError::SchnorrSig)
    }
    fn check_lock_time(&self, _lock_time: i64) -> bool {
        false
    }
    fn check_sequence(&self, _sequence: i64) -> bool {
        false
    }
}

/// A checker that fails everything (Core's `BaseSignatureChecker`).
#[derive(Debug, Clone, Copy, Default)]
pub struct NullChecker;
impl SignatureChecker for NullChecker {}

/// A Schnorr check recorded for later batch verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchnorrItem {
    pub msg: [u8; 32],
    /// x-only public key (not yet known to be on the curve).
    pub pubkey: [u8; 32],
    pub sig: [u8; 64],
}

/// An ECDSA check recorded for later verification: everything but the curve equation is done
/// (sighash, lax DER parse with S normalised, key parse), so the check holds exactly when
/// `secp256k1::ecdsa::verify(&sig, msg, &pubkey)` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EcdsaItem {
    pub msg: Hash256,
    /// Lax-parsed, low-S.
    pub sig: ecdsa::Signature,
    pub pubkey: PublicKey,
}

impl EcdsaItem {
    /// libsecp256k1's verdict: the referee every other verifier must agree with.
    #[must_use]
    pub fn verify_libsecp(&self) -> bool {
        ecdsa::verify(&self.sig, Message::from_digest(self.msg), &self.pubkey).is_ok()
    }
}

/// How Schnorr signatures are handled.
#[derive(Debug)]
pub enum SchnorrMode<'v> {
    /// Verify each signature immediately with libsecp256k1.
    Verify,
    /// Record each check and report success; the caller must batch-verify every recorded item
    /// (an invalid x-only key must fail the batch) before accepting the transaction.
    Defer(&'v mut Vec<SchnorrItem>),
}

/// Signature checker for one input of a transaction (Core's `TransactionSignatureChecker`).
#[derive(Debug)]
pub struct TxSignatureChecker<'t, 'a, 'v> {
    tx: &'t Transaction<'a>,
    input_index: usize,
    amount: Amount,
    spent: &'t [SpentOutput<'t>],
    precomputed: &'t PrecomputedTxData,
    schnorr: SchnorrMode<'v>,
    keys: Option<&'t PubkeyCache>,
    /// Where deferrable ECDSA checks are recorded; `None`: every check in place.
    ecdsa: Option<&'v mut Vec<EcdsaItem>>,
}

impl<'t, 'a, 'v> TxSignatureChecker<'t, 'a, 'v> {
    /// `spent` holds the outputs spent by every input (needed by taproot sighashes);
    /// `amount` is the value of the output this input spends.
    #[must_use]
    pub fn new(
        tx: &'t Transaction<'a>,
        input_index: usize,
        amount: Amount,
        spent: &'t [SpentOutput<'t>],
        precomputed: &'t PrecomputedTxData,
        schnorr: SchnorrMode<'v>,
    ) -> Self {
        Self {
            tx,
            input_index,
            amount,
            spent,
            precomputed,
            schnorr,
            keys: None,
            ecdsa: None,
        }
    }

    /// Records deferrable ECDSA checks in `items` instead of verifying them (the caller must
    /// verify every record and fail the input on a false one).
    #[must_use]
    pub fn with_ecdsa_deferral(mut self, items: Option<&'v mut Vec<EcdsaItem>>) -> Self {
        self.ecdsa = items;
        self
    }

    /// Everything of an ECDSA check but the curve equation; `None` when the check is false
    /// without it (bad key or signature encoding, negative amount, empty signature).
    fn prepare_ecdsa(
        &self,
        sig: &[u8],
        pubkey: &[u8],
        script_code: &[u8],
        sigversion: SigVersion,
    ) -> Option<EcdsaItem> {
        if !pubkey_len_ok(pubkey) {
            return None;
        }
        let (&hash_type, der) = sig.split_last()?;
        let hash_type = i32::from(hash_type);
        let msg = match sigversion {
            SigVersion::WitnessV0 => {
                if self.amount < 0 {
                    return None;
                }
                segwit_v0_sighash(
                    self.tx,
                    self.input_index,
                    script_code,
                    self.amount,
                    hash_type,
                    self.precomputed,
                )
            }
            _ => legacy_sighash(self.tx, self.input_index, script_code, hash_type),
        };
        let (sig, pubkey) = parse_ecdsa_lax(der, pubkey, self.keys)?;
        Some(EcdsaItem { msg, sig, pubkey })
    }

    /// Parses ECDSA keys through `keys` (a memo shared with other inputs and threads).
    #[must_use]
    pub fn with_key_cache(mut self, keys: Option<&'t PubkeyCache>) -> Self {
        self.keys = keys;
        self
    }

    fn sequence(&self) -> u32 {
        self.tx
            .inputs
            .get(self.input_index)
            .map_or(SEQUENCE_FINAL, |i| i.sequence)
    }
}

/// Core's `CPubKey` length rule: the header byte fixes the size (33 for 02/03, 65 for 04/06/07).
fn pubkey_len_ok(pubkey: &[u8]) -> bool {
    match pubkey.first() {
        Some(2 | 3) => pubkey.len() == 33,
        Some(4 | 6 | 7) => pubkey.len() == 65,
        _ => false,
    }
}

/// The parsing half of Core's `CPubKey::Verify`: key (through `keys` when given, a memo that
/// changes no verdict), lax DER signature with S normalised. `None` means the check is false.
fn parse_ecdsa_lax(
    der_sig: &[u8],
    pubkey: &[u8],
    keys: Option<&PubkeyCache>,
) -> Option<(ecdsa::Signature, PublicKey)> {
    if !pubkey_len_ok(pubkey) {
        return None;
    }
    let pk = match keys {
        Some(cache) => cache.parse(pubkey),
        None => PublicKey::from_slice(pubkey).ok(),
    }?;
    let mut sig = ecdsa::Signature::from_der_lax(der_sig).ok()?;
    sig.normalize_s();
    Some((sig, pk))
}

/// ECDSA verification as Core's `CPubKey::Verify`: lax DER parse, normalise S, verify. The key
/// is parsed through `keys` when given (a memo that changes no verdict).
#[must_use]
pub fn verify_ecdsa_lax(
    sighash: &Hash256,
    der_sig: &[u8],
    pubkey: &[u8],
    keys: Option<&PubkeyCache>,
) -> bool {
    parse_ecdsa_lax(der_sig, pubkey, keys).is_some_and(|(sig, pubkey)| {
        EcdsaItem {
            msg: *sighash,
            sig,
            pubkey,
        }
        .verify_libsecp()
    })
}

/// Core's `CPubKey::CheckLowS`: the lax-parsed signature's S is already normalised.
#[must_use]
pub fn is_low_s(der_sig: &[u8]) -> bool {
    let Ok(sig) = ecdsa::Signature::from_der_lax(der_sig) else {
        return false;
    };
    let mut n = sig;
    n.normalize_s();
    n == sig
}

/// BIP340 verification of one signature.
#[must_use]
pub fn verify_schnorr(msg: &Hash256, sig: &[u8; 64], pubkey: &[u8; 32]) -> bool {
    let Ok(pk) = XOnlyPublicKey::from_byte_array(*pubkey) else {
        return false;
    };
    let sig = schnorr::Signature::from_byte_array(*sig);
    schnorr::verify(&sig, msg, &pk).is_ok()
}

impl SignatureChecker for TxSignatureChecker<'_, '_, '_> {
    fn check_ecdsa(
        &mut self,
        sig: &[u8],
        pubkey: &[u8],
        script_code: &[u8],
        sigversion: SigVersion,
    ) -> bool {
        self.prepare_ecdsa(sig, pubkey, script_code, sigversion)
            .is_some_and(|item| item.verify_libsecp())
    }

    fn check_ecdsa_deferrable(
        &mut self,
        sig: &[u8],
        pubkey: &[u8],
        script_code: &[u8],
        sigversion: SigVersion,
    ) -> bool {
        let Some(item) = self.prepare_ecdsa(sig, pubkey, script_code, sigversion) else {
            return false;
        };
        match self.ecdsa.as_deref_mut() {
            Some(items) => {
                items.push(item);
                true
            }
            None => item.verify_libsecp(),
        }
    }

    fn check_schnorr(
        &mut self,
        sig: &[u8],
        pubkey: &[u8],
        sigversion: SigVersion,
        execdata: &ExecData,
    ) -> Result<(), ScriptError> {
        let pubkey: &[u8; 32] = pubkey.try_into().map_err(|_| ScriptError::SchnorrSig)?;
        let (sig64, hash_type) = match sig.len() {
            64 => (sig, SIGHASH_DEFAULT),
            65 => {
                if sig[64] == SIGHASH_DEFAULT {
                    return Err(ScriptError::SchnorrSigHashtype);
                }
                (&sig[..64], sig[64])
            }
            _ => return Err(ScriptError::SchnorrSigSize),
        };
        let sig64: &[u8; 64] = sig64.try_into().map_err(|_| ScriptError::SchnorrSigSize)?;
        let script_ctx = match sigversion {
            SigVersion::Tapscript => Some(TapscriptContext {
                tapleaf_hash: execdata.tapleaf_hash.ok_or(ScriptError::UnknownError)?,
                codeseparator_pos: execdata.codeseparator_pos,
            }),
            _ => None,
        };
        let msg = taproot_sighash(
            self.tx,
            self.input_index,
            self.spent,
            self.precomputed,
            hash_type,
            execdata.annex_hash.as_ref(),
            script_ctx.as_ref(),
        )
        .map_err(|_| ScriptError::SchnorrSigHashtype)?;
        match &mut self.schnorr {
            SchnorrMode::Verify => {
                if verify_schnorr(&msg, sig64, pubkey) {
                    Ok(())
                } else {
                    Err(ScriptError::SchnorrSig)
                }
            }
            SchnorrMode::Defer(items) => {
                items.push(SchnorrItem {
                    msg,
                    pubkey: *pubkey,
                    sig: *sig64,
                });
                Ok(())
            }
        }
    }

    fn check_lock_time(&self, lock_time: i64) -> bool {
        let tx_lock = i64::from(self.tx.lock_time);
        // Both must be heights or both timestamps.
        if (tx_lock < LOCKTIME_THRESHOLD) != (lock_time < LOCKTIME_THRESHOLD) {
            return false;
        }
        if lock_time > tx_lock {
            return false;
        }
        // A final input would make nLockTime ineffective, so CLTV demands a non-final one.
        self.sequence() != SEQUENCE_FINAL
    }

    fn check_sequence(&self, sequence: i64) -> bool {
        let tx_seq = i64::from(self.sequence());
        // Core compares the version as unsigned: negative versions count as >= 2.
        if u32::from_le_bytes(self.tx.version.to_le_bytes()) < 2 {
            return false;
        }
        if tx_seq & SEQUENCE_LOCKTIME_DISABLE_FLAG != 0 {
            return false;
        }
        let mask = SEQUENCE_LOCKTIME_TYPE_FLAG | SEQUENCE_LOCKTIME_MASK;
        let tx_masked = tx_seq & mask;
        let masked = sequence & mask;
        // Both must be block-based or both time-based.
        if (tx_masked < SEQUENCE_LOCKTIME_TYPE_FLAG) != (masked < SEQUENCE_LOCKTIME_TYPE_FLAG) {
            return false;
        }
        masked <= tx_masked
    }
}
