//! Signature opcodes: encoding rules (DERSIG/LOW_S/STRICTENC/pubkey types), OP_CHECKSIG in its
//! legacy/v0 and tapscript forms, and OP_CHECKMULTISIG.

use std::borrow::Cow;

use super::error::ScriptError;
use super::flags::ScriptFlags;
use super::interpreter::{ExecData, SigVersion, Stack};
use super::num::{self, DEFAULT_MAX_NUM_SIZE};
use super::{find_and_delete, push_data, MAX_OPS_PER_SCRIPT, MAX_PUBKEYS_PER_MULTISIG};
use crate::sigcheck::{is_low_s, SignatureChecker};

/// BIP342 validation weight charged per executed signature check.
pub const VALIDATION_WEIGHT_PER_SIGOP_PASSED: i64 = 50;

/// Core's `IsValidSignatureEncoding` (BIP66 strict DER plus the hashtype byte).
#[must_use]
pub fn is_valid_signature_encoding(sig: &[u8]) -> bool {
    let n = sig.len();
    if !(9..=73).contains(&n) || sig[0] != 0x30 || usize::from(sig[1]) != n - 3 {
        return false;
    }
    let len_r = usize::from(sig[3]);
    if 5 + len_r >= n {
        return false;
    }
    let len_s = usize::from(sig[5 + len_r]);
    if len_r + len_s + 7 != n || sig[2] != 0x02 || len_r == 0 || sig[4] & 0x80 != 0 {
        return false;
    }
    if len_r > 1 && sig[4] == 0 && sig[5] & 0x80 == 0 {
        return false;
    }
    if sig[len_r + 4] != 0x02 || len_s == 0 || sig[len_r + 6] & 0x80 != 0 {
        return false;
    }
    !(len_s > 1 && sig[len_r + 6] == 0 && sig[len_r + 7] & 0x80 == 0)
}

fn is_defined_hashtype(sig: &[u8]) -> bool {
    sig.last().is_some_and(|&b| (1..=3).contains(&(b & !0x80)))
}

/// Core's `CheckSignatureEncoding`.
///
/// # Errors
/// `SigDer`, `SigHighS` or `SigHashtype` per the flags.
pub fn check_signature_encoding(sig: &[u8], flags: ScriptFlags) -> Result<(), ScriptError> {
    // An empty signature is the compact way to fail a CHECK(MULTI)SIG.
    if sig.is_empty() {
        return Ok(());
    }
    if flags.intersects(ScriptFlags::DERSIG | ScriptFlags::LOW_S | ScriptFlags::STRICTENC)
        && !is_valid_signature_encoding(sig)
    {
        return Err(ScriptError::SigDer);
    }
    if flags.contains(ScriptFlags::LOW_S) {
        if !is_valid_signature_encoding(sig) {
            return Err(ScriptError::SigDer);
        }
        if !is_low_s(&sig[..sig.len() - 1]) {
            return Err(ScriptError::SigHighS);
        }
    }
    if flags.contains(ScriptFlags::STRICTENC) && !is_defined_hashtype(sig) {
        return Err(ScriptError::SigHashtype);
    }
    Ok(())
}

fn is_compressed_or_uncompressed(pk: &[u8]) -> bool {
    match pk.first() {
        _ if pk.len() < 33 => false,
        Some(4) => pk.len() == 65,
        Some(2 | 3) => pk.len() == 33,
        _ => false,
    }
}

fn is_compressed(pk: &[u8]) -> bool {
    pk.len() == 33 && (pk[0] == 2 || pk[0] == 3)
}

/// Core's `CheckPubKeyEncoding`.
///
/// # Errors
/// `PubkeyType` or `WitnessPubkeyType`.
pub fn check_pubkey_encoding(
    pk: &[u8],
    flags: ScriptFlags,
    sigversion: SigVersion,
) -> Result<(), ScriptError> {
    if flags.contains(ScriptFlags::STRICTENC) && !is_compressed_or_uncompressed(pk) {
        return Err(ScriptError::PubkeyType);
    }
    if flags.contains(ScriptFlags::WITNESS_PUBKEYTYPE)
        && sigversion == SigVersion::WitnessV0
        && !is_compressed(pk)
    {
        return Err(ScriptError::WitnessPubkeyType);
    }
    Ok(())
}

/// Removes pushes of `sig` from `code` (legacy only), as Core does before hashing.
fn strip_signature<'s>(
    code: &mut Cow<'s, [u8]>,
    sig: &[u8],
    flags: ScriptFlags,
) -> Result<(), ScriptError> {
    let mut pattern = Vec::with_capacity(sig.len() + 5);
    push_data(&mut pattern, sig);
    // Only copy the script when the pattern occurs at all.
    if code.len() < pattern.len() || !code.windows(pattern.len()).any(|w| w == pattern.as_slice()) {
        return Ok(());
    }
    let mut owned = code.to_vec();
    let found = find_and_delete(&mut owned, &pattern);
    if found > 0 {
        if flags.contains(ScriptFlags::CONST_SCRIPTCODE) {
            return Err(ScriptError::SigFindAndDelete);
        }
        *code = Cow::Owned(owned);
    }
    Ok(())
}

/// OP_CHECKSIG / OP_CHECKSIGVERIFY / OP_CHECKSIGADD's check. `Ok(success)` when the script
/// may continue; `Err` when it fails outright. `deferrable`: a false ECDSA result fails the
/// input whatever follows, so the checker may answer it later (see [`super::deferred`]).
///
/// # Errors
/// Encoding, NULLFAIL and tapscript rule violations.
#[allow(clippy::too_many_arguments)]
pub fn eval_checksig<C: SignatureChecker + ?Sized>(
    sig: &[u8],
    pubkey: &[u8],
    mut script_code: Cow<'_, [u8]>,
    execdata: &mut ExecData,
    flags: ScriptFlags,
    checker: &mut C,
    sigversion: SigVersion,
    deferrable: bool,
) -> Result<bool, ScriptError> {
    match sigversion {
        SigVersion::Base | SigVersion::WitnessV0 => {
            if sigversion == SigVersion::Base {
                strip_signature(&mut script_code, sig, flags)?;
            }
            check_signature_encoding(sig, flags)?;
            check_pubkey_encoding(pubkey, flags, sigversion)?;
            let ok = if deferrable {
                checker.check_ecdsa_deferrable(sig, pubkey, &script_code, sigversion)
            } else {
                checker.check_ecdsa(sig, pubkey, &script_code, sigversion)
            };
            if !ok && flags.contains(ScriptFlags::NULLFAIL) && !sig.is_empty() {
                return Err(ScriptError::SigNullFail);
            }
            Ok(ok)
        }
        SigVersion::Tapscript | SigVersion::Taproot => {
            let success = !sig.is_empty();
            if success {
                // Every non-empty signature spends validation weight, even with unknown key types.
                execdata.validation_weight_left -= VALIDATION_WEIGHT_PER_SIGOP_PASSED;
                if execdata.validation_weight_left < 0 {
                    return Err(ScriptError::TapscriptValidationWeight);
                }
            }
            match pubkey.len() {
                0 => return Err(ScriptError::TapscriptEmptyPubkey),
                32 => {
                    if success {
                        checker.check_schnorr(sig, pubkey, sigversion, execdata)?;
                    }
                }
                _ => {
                    if flags.contains(ScriptFlags::DISCOURAGE_UPGRADABLE_PUBKEYTYPE) {
                        return Err(ScriptError::DiscourageUpgradablePubkeyType);
                    }
                }
            }
            Ok(success)
        }
    }
}

/// OP_CHECKMULTISIG(VERIFY) on `stack`: consumes its operands (and the dummy) and returns
/// whether the signatures matched; the caller pushes the result or fails for VERIFY.
/// `deferrable`: a false result of the whole opcode fails the input whatever follows; then a
/// check made when as many signatures as keys remain (a false one ends the opcode false) may
/// be answered later (see [`super::deferred`]).
///
/// # Errors
/// Count, encoding, NULLFAIL and NULLDUMMY violations.
pub fn eval_checkmultisig<C: SignatureChecker + ?Sized>(
    stack: &mut Stack,
    script_code: &[u8],
    op_count: &mut usize,
    flags: ScriptFlags,
    checker: &mut C,
    sigversion: SigVersion,
    deferrable: bool,
) -> Result<bool, ScriptError> {
    let minimal = flags.contains(ScriptFlags::MINIMALDATA);
    let depth = stack.len();
    // stacktop(-k) == stack[depth - k]
    let at = |k: usize| {
        depth
            .checked_sub(k)
            .ok_or(ScriptError::InvalidStackOperation)
    };
    let mut i = 1usize;
    if depth < i {
        return Err(ScriptError::InvalidStackOperation);
    }
    let keys_count =
        num::to_i32_saturating(num::decode(&stack[at(i)?], minimal, DEFAULT_MAX_NUM_SIZE)?);
    if !(0..=MAX_PUBKEYS_PER_MULTISIG).contains(&keys_count) {
        return Err(ScriptError::PubkeyCount);
    }
    let mut keys_count = usize::try_from(keys_count).map_err(|_| ScriptError::PubkeyCount)?;
    *op_count += keys_count;
    if *op_count > MAX_OPS_PER_SCRIPT {
        return Err(ScriptError::OpCount);
    }
    i += 1;
    let mut ikey = i;
    // Key slots still to pop before the NULLFAIL check applies to signature slots.
    let mut ikey2 = keys_count + 2;
    i += keys_count;
    if depth < i {
        return Err(ScriptError::InvalidStackOperation);
    }
    let sigs_count =
        num::to_i32_saturating(num::decode(&stack[at(i)?], minimal, DEFAULT_MAX_NUM_SIZE)?);
    let mut sigs_count = usize::try_from(sigs_count).map_err(|_| ScriptError::SigCount)?;
    if sigs_count > keys_count {
        return Err(ScriptError::SigCount);
    }
    i += 1;
    let mut isig = i;
    i += sigs_count;
    if depth < i {
        return Err(ScriptError::InvalidStackOperation);
    }

    let mut code = Cow::Borrowed(script_code);
    if sigversion == SigVersion::Base {
        for k in 0..sigs_count {
            let sig = &stack[at(isig + k)?];
            strip_signature(&mut code, sig, flags)?;
        }
    }

    let mut success = true;
    while success && sigs_count > 0 {
        let sig = &stack[at(isig)?];
        let pubkey = &stack[at(ikey)?];
        check_signature_encoding(sig, flags)?;
        check_pubkey_encoding(pubkey, flags, sigversion)?;
        // No spare key left: a failed match makes the whole opcode false.
        let ok = if deferrable && sigs_count == keys_count {
            checker.check_ecdsa_deferrable(sig, pubkey, &code, sigversion)
        } else {
            checker.check_ecdsa(sig, pubkey, &code, sigversion)
        };
        if ok {
            isig += 1;
            sigs_count -= 1;
        }
        ikey += 1;
        keys_count -= 1;
        // More signatures left than keys: cannot succeed.
        if sigs_count > keys_count {
            success = false;
        }
    }

    // Pop every operand; with NULLFAIL a failed check requires all signatures to be empty.
    while i > 1 {
        i -= 1;
        let last = stack.last().ok_or(ScriptError::InvalidStackOperation)?;
        if !success && flags.contains(ScriptFlags::NULLFAIL) && ikey2 == 0 && !last.is_empty() {
            return Err(ScriptError::SigNullFail);
        }
        ikey2 = ikey2.saturating_sub(1);
        stack.pop();
    }
    // The extra (dummy) element consumed by the historic off-by-one.
    let dummy = stack.pop().ok_or(ScriptError::InvalidStackOperation)?;
    if flags.contains(ScriptFlags::NULLDUMMY) && !dummy.is_empty() {
        return Err(ScriptError::SigNullDummy);
    }
    Ok(success)
}
