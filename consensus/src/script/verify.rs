//! Core's `VerifyScript`: scriptSig + scriptPubKey, P2SH, segwit v0 and taproot (BIP341/342).

use secp256k1::{Parity, Scalar, XOnlyPublicKey};

use super::error::ScriptError;
use super::flags::ScriptFlags;
use super::interpreter::{eval_script, eval_script_as, ExecData, FinalStack, SigVersion, Stack};
use super::opcodes::{is_op_success, OP_CHECKSIG, OP_DUP, OP_EQUALVERIFY, OP_HASH160};
use super::{
    cast_to_bool, is_p2sh, is_pay_to_anchor, is_push_only, push_data, read_op, witness_program,
    MAX_SCRIPT_ELEMENT_SIZE, MAX_STACK_SIZE,
};
use crate::encode::compact_size_len;
use crate::hash::{sha256, Hash256};
use crate::sigcheck::SignatureChecker;
use crate::sighash::HashWriter;

/// Leaf version of BIP342 tapscript.
pub const TAPROOT_LEAF_TAPSCRIPT: u8 = 0xc0;
/// Mask selecting the leaf version from the control block's first byte.
pub const TAPROOT_LEAF_MASK: u8 = 0xfe;
/// First byte of an annex.
pub const ANNEX_TAG: u8 = 0x50;
/// Control block: version/parity byte plus internal key.
pub const TAPROOT_CONTROL_BASE_SIZE: usize = 33;
/// One merkle path node.
pub const TAPROOT_CONTROL_NODE_SIZE: usize = 32;
/// At most 128 path nodes.
pub const TAPROOT_CONTROL_MAX_SIZE: usize =
    TAPROOT_CONTROL_BASE_SIZE + TAPROOT_CONTROL_NODE_SIZE * 128;
/// BIP342 validation weight budget offset.
pub const VALIDATION_WEIGHT_OFFSET: i64 = 50;

/// BIP341 tapleaf hash.
#[must_use]
pub fn tapleaf_hash(leaf_version: u8, script: &[u8]) -> Hash256 {
    let mut h = HashWriter::tagged(b"TapLeaf");
    h.write(&[leaf_version]).write_var_bytes(script);
    h.sha256()
}

/// BIP341 tapbranch hash (children sorted).
#[must_use]
pub fn tapbranch_hash(a: &[u8], b: &[u8]) -> Hash256 {
    let mut h = HashWriter::tagged(b"TapBranch");
    if a < b {
        h.write(a).write(b);
    } else {
        h.write(b).write(a);
    }
    h.sha256()
}

/// Checks that `program` (output key Q) commits to internal key P and `merkle_root`
/// with the given parity (Core's `XOnlyPubKey::CheckTapTweak`).
#[must_use]
pub fn check_tap_tweak(
    internal: &[u8],
    program: &[u8],
    merkle_root: Option<&Hash256>,
    parity_odd: bool,
) -> bool {
    let Some(p) = <[u8; 32]>::try_from(internal)
        .ok()
        .and_then(|b| XOnlyPublicKey::from_byte_array(b).ok())
    else {
        return false;
    };
    let mut h = HashWriter::tagged(b"TapTweak");
    h.write(internal);
    if let Some(root) = merkle_root {
        h.write(root);
    }
    let Ok(tweak) = Scalar::from_be_bytes(h.sha256()) else {
        return false;
    };
    // Same arithmetic as libsecp256k1's xonly_pubkey_tweak_add_check (Q = P + tG, compare x and
    // y parity), without parsing Q: that would cost a square root and cannot change the answer.
    let Ok((q, parity)) = p.add_tweak(&tweak) else {
        return false;
    };
    q.to_byte_array()[..] == *program && (parity == Parity::Odd) == parity_odd
}

fn execute_witness_script<C: SignatureChecker + ?Sized>(
    mut stack: Stack,
    script: &[u8],
    flags: ScriptFlags,
    sigversion: SigVersion,
    checker: &mut C,
    execdata: &mut ExecData,
) -> Result<(), ScriptError> {
    if sigversion == SigVersion::Tapscript {
        // OP_SUCCESSx anywhere (even unexecuted) makes the script succeed, if it decodes.
        let mut pc = 0;
        while pc < script.len() {
            let (op, _) = read_op(script, &mut pc).map_err(|_| ScriptError::BadOpcode)?;
            if is_op_success(op) {
                if flags.contains(ScriptFlags::DISCOURAGE_OP_SUCCESS) {
                    return Err(ScriptError::DiscourageOpSuccess);
                }
                return Ok(());
            }
        }
        if stack.len() > MAX_STACK_SIZE {
            return Err(ScriptError::StackSize);
        }
    }
    if stack.iter().any(|e| e.len() > MAX_SCRIPT_ELEMENT_SIZE) {
        return Err(ScriptError::PushSize);
    }
    // The final stack must be exactly one true element: its top decides the input.
    eval_script_as(
        &mut stack,
        script,
        flags,
        checker,
        sigversion,
        execdata,
        FinalStack::Decides,
    )?;
    if stack.len() != 1 {
        return Err(ScriptError::CleanStack);
    }
    if !stack.last().is_some_and(|v| cast_to_bool(v)) {
        return Err(ScriptError::EvalFalse);
    }
    Ok(())
}

fn witness_serialized_size(witness: &[&[u8]]) -> usize {
    compact_size_len(witness.len() as u64)
        + witness
            .iter()
            .map(|w| compact_size_len(w.len() as u64) + w.len())
            .sum::<usize>()
}

fn to_stack(items: &[&[u8]]) -> Stack {
    items.iter().map(|s| s.to_vec()).collect()
}

fn verify_witness_program<C: SignatureChecker + ?Sized>(
    witness: &[&[u8]],
    version: u8,
    program: &[u8],
    flags: ScriptFlags,
    checker: &mut C,
    is_p2sh: bool,
) -> Result<(), ScriptError> {
    let mut execdata = ExecData::default();
    if version == 0 {
        if program.len() == 32 {
            let Some((script, rest)) = witness.split_last() else {
                return Err(ScriptError::WitnessProgramWitnessEmpty);
            };
            if sha256(script)[..] != *program {
                return Err(ScriptError::WitnessProgramMismatch);
            }
            return execute_witness_script(
                to_stack(rest),
                script,
                flags,
                SigVersion::WitnessV0,
                checker,
                &mut execdata,
            );
        }
        if program.len() == 20 {
            if witness.len() != 2 {
                return Err(ScriptError::WitnessProgramMismatch);
            }
            let mut script = Vec::with_capacity(25);
            script.extend_from_slice(&[OP_DUP, OP_HASH160]);
            push_data(&mut script, program);
            script.extend_from_slice(&[OP_EQUALVERIFY, OP_CHECKSIG]);
            return execute_witness_script(
                to_stack(witness),
                &script,
                flags,
                SigVersion::WitnessV0,
                checker,
                &mut execdata,
            );
        }
        return Err(ScriptError::WitnessProgramWrongLength);
    }
    if version == 1 && program.len() == 32 && !is_p2sh {
        if !flags.contains(ScriptFlags::TAPROOT) {
            return Ok(());
        }
        let mut stack = witness;
        if stack.is_empty() {
            return Err(ScriptError::WitnessProgramWitnessEmpty);
        }
        if stack.len() >= 2 {
            if let Some((annex, rest)) = stack.split_last() {
                if annex.first() == Some(&ANNEX_TAG) {
                    let mut h = HashWriter::new();
                    h.write_var_bytes(annex);
                    execdata.annex_hash = Some(h.sha256());
                    stack = rest;
                }
            }
        }
        if let [sig] = stack {
            // Key path.
            return checker.check_schnorr(sig, program, SigVersion::Taproot, &execdata);
        }
        let [rest @ .., script, control] = stack else {
            return Err(ScriptError::WitnessProgramWitnessEmpty);
        };
        if control.len() < TAPROOT_CONTROL_BASE_SIZE
            || control.len() > TAPROOT_CONTROL_MAX_SIZE
            || !(control.len() - TAPROOT_CONTROL_BASE_SIZE)
                .is_multiple_of(TAPROOT_CONTROL_NODE_SIZE)
        {
            return Err(ScriptError::TaprootWrongControlSize);
        }
        let leaf_version = control[0] & TAPROOT_LEAF_MASK;
        let leaf = tapleaf_hash(leaf_version, script);
        let root = control[TAPROOT_CONTROL_BASE_SIZE..]
            .chunks_exact(TAPROOT_CONTROL_NODE_SIZE)
            .fold(leaf, |k, node| tapbranch_hash(&k, node));
        if !check_tap_tweak(
            &control[1..TAPROOT_CONTROL_BASE_SIZE],
            program,
            Some(&root),
            control[0] & 1 == 1,
        ) {
            return Err(ScriptError::WitnessProgramMismatch);
        }
        execdata.tapleaf_hash = Some(leaf);
        if leaf_version == TAPROOT_LEAF_TAPSCRIPT {
            // The budget is the serialised size of the whole witness (annex included) + 50.
            execdata.validation_weight_left = i64::try_from(witness_serialized_size(witness))
                .unwrap_or(i64::MAX)
                .saturating_add(VALIDATION_WEIGHT_OFFSET);
            return execute_witness_script(
                to_stack(rest),
                script,
                flags,
                SigVersion::Tapscript,
                checker,
                &mut execdata,
            );
        }
        if flags.contains(ScriptFlags::DISCOURAGE_UPGRADABLE_TAPROOT_VERSION) {
            return Err(ScriptError::DiscourageUpgradableTaprootVersion);
        }
        return Ok(());
    }
    if !is_p2sh && is_pay_to_anchor(version, program) {
        return Ok(());
    }
    if flags.contains(ScriptFlags::DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM) {
        return Err(ScriptError::DiscourageUpgradableWitnessProgram);
    }
    Ok(())
}

/// Core's `VerifyScript`: whether `script_sig` (with `witness`) satisfies `script_pubkey`.
///
/// # Errors
/// The [`ScriptError`] Core would report.
pub fn verify_script<C: SignatureChecker + ?Sized>(
    script_sig: &[u8],
    script_pubkey: &[u8],
    witness: &[&[u8]],
    flags: ScriptFlags,
    checker: &mut C,
) -> Result<(), ScriptError> {
    if flags.contains(ScriptFlags::SIGPUSHONLY) && !is_push_only(script_sig) {
        return Err(ScriptError::SigPushOnly);
    }
    let mut had_witness = false;
    let mut stack: Stack = Vec::new();
    eval_script(
        &mut stack,
        script_sig,
        flags,
        checker,
        SigVersion::Base,
        &mut ExecData::default(),
    )?;
    // Core always copies under P2SH; the copy is only read for P2SH outputs, so skip it otherwise.
    let stack_copy = if flags.contains(ScriptFlags::P2SH) && is_p2sh(script_pubkey) {
        stack.clone()
    } else {
        Vec::new()
    };
    eval_script_as(
        &mut stack,
        script_pubkey,
        flags,
        checker,
        SigVersion::Base,
        &mut ExecData::default(),
        FinalStack::Decides,
    )?;
    if !stack.last().is_some_and(|v| cast_to_bool(v)) {
        return Err(ScriptError::EvalFalse);
    }

    if flags.contains(ScriptFlags::WITNESS) {
        if let Some((version, program)) = witness_program(script_pubkey) {
            had_witness = true;
            if !script_sig.is_empty() {
                return Err(ScriptError::WitnessMalleated);
            }
            verify_witness_program(witness, version, program, flags, checker, false)?;
            stack.truncate(1);
        }
    }

    if flags.contains(ScriptFlags::P2SH) && is_p2sh(script_pubkey) {
        if !is_push_only(script_sig) {
            return Err(ScriptError::SigPushOnly);
        }
        stack = stack_copy;
        // Non-empty: the scriptPubKey consumed an element to succeed.
        let redeem = stack.pop().ok_or(ScriptError::InvalidStackOperation)?;
        eval_script_as(
            &mut stack,
            &redeem,
            flags,
            checker,
            SigVersion::Base,
            &mut ExecData::default(),
            FinalStack::Decides,
        )?;
        if !stack.last().is_some_and(|v| cast_to_bool(v)) {
            return Err(ScriptError::EvalFalse);
        }
        if flags.contains(ScriptFlags::WITNESS) {
            if let Some((version, program)) = witness_program(&redeem) {
                had_witness = true;
                let mut expected = Vec::with_capacity(redeem.len() + 1);
                push_data(&mut expected, &redeem);
                if script_sig != expected.as_slice() {
                    return Err(ScriptError::WitnessMalleatedP2sh);
                }
                verify_witness_program(witness, version, program, flags, checker, true)?;
                stack.truncate(1);
            }
        }
    }

    if flags.contains(ScriptFlags::CLEANSTACK) && stack.len() != 1 {
        return Err(ScriptError::CleanStack);
    }
    if flags.contains(ScriptFlags::WITNESS) && !had_witness && !witness.is_empty() {
        return Err(ScriptError::WitnessUnexpected);
    }
    Ok(())
}

/// Verifies input `input_index` of `tx` (Core's per-input `CScriptCheck`).
///
/// `spent_outputs` holds the output spent by every input of `tx`, in input order;
/// `precomputed` must come from [`crate::sighash::PrecomputedTxData::new`] on the same `tx` and
/// `spent_outputs`. With [`SchnorrMode::Defer`] the Schnorr checks of this input are appended to
/// the vector (and removed again if the input fails for another reason); the caller must
/// batch-verify them.
///
/// # Errors
/// The [`ScriptError`] Core would report, or [`ScriptError::BadInputContext`] when the index or
/// spent outputs do not fit `tx`.
///
/// [`SchnorrMode::Defer`]: crate::sigcheck::SchnorrMode::Defer
pub fn verify_input(
    tx: &crate::tx::Transaction<'_>,
    input_index: usize,
    spent_outputs: &[crate::sighash::SpentOutput<'_>],
    precomputed: &crate::sighash::PrecomputedTxData,
    flags: ScriptFlags,
    schnorr: crate::sigcheck::SchnorrMode<'_>,
) -> Result<(), ScriptError> {
    verify_input_cached(
        tx,
        input_index,
        spent_outputs,
        precomputed,
        flags,
        schnorr,
        None,
    )
}

/// [`verify_input`] parsing ECDSA keys through `keys`: what a block's script check uses, with
/// one cache shared by all its inputs and threads (keys repeat; see [`crate::keycache`]).
///
/// # Errors
/// As [`verify_input`]; the cache changes no verdict.
pub fn verify_input_cached(
    tx: &crate::tx::Transaction<'_>,
    input_index: usize,
    spent_outputs: &[crate::sighash::SpentOutput<'_>],
    precomputed: &crate::sighash::PrecomputedTxData,
    flags: ScriptFlags,
    schnorr: crate::sigcheck::SchnorrMode<'_>,
    keys: Option<&crate::keycache::PubkeyCache>,
) -> Result<(), ScriptError> {
    use crate::sigcheck::SchnorrMode;
    let deferral = Deferral {
        schnorr: match schnorr {
            SchnorrMode::Verify => None,
            SchnorrMode::Defer(items) => Some(items),
        },
        ecdsa: None,
    };
    verify_input_deferring(
        tx,
        input_index,
        spent_outputs,
        precomputed,
        flags,
        deferral,
        keys,
    )
}

/// Where [`verify_input_deferring`] records the signature checks it leaves to the caller;
/// `None`: those checks are made in place.
#[derive(Debug, Default)]
pub struct Deferral<'v> {
    /// Every Schnorr check (batch-verify them all: an invalid x-only key must fail).
    pub schnorr: Option<&'v mut Vec<crate::sigcheck::SchnorrItem>>,
    /// The ECDSA checks whose false answer fails the input whatever follows (see
    /// [`super::deferred`]); verify them all, e.g. with [`super::deferred::verify_ecdsa_items`].
    pub ecdsa: Option<&'v mut Vec<crate::sigcheck::EcdsaItem>>,
}

/// [`verify_input_cached`] with Schnorr and deferrable ECDSA checks recorded in `deferral`
/// instead of verified. An `Ok` means: the input is valid exactly when every recorded check
/// holds. On `Err` the input is invalid whatever the records say, and its records are removed
/// again; the error is the first one of the run that assumed every deferred check true (Core's
/// error, unless an earlier deferred check is false, where Core reports that check's failure).
///
/// # Errors
/// As [`verify_input`].
pub fn verify_input_deferring(
    tx: &crate::tx::Transaction<'_>,
    input_index: usize,
    spent_outputs: &[crate::sighash::SpentOutput<'_>],
    precomputed: &crate::sighash::PrecomputedTxData,
    flags: ScriptFlags,
    deferral: Deferral<'_>,
    keys: Option<&crate::keycache::PubkeyCache>,
) -> Result<(), ScriptError> {
    use crate::sigcheck::{SchnorrMode, TxSignatureChecker};
    if spent_outputs.len() != tx.inputs.len() {
        return Err(ScriptError::BadInputContext);
    }
    let (Some(input), Some(spent)) = (tx.inputs.get(input_index), spent_outputs.get(input_index))
    else {
        return Err(ScriptError::BadInputContext);
    };
    let witness: Vec<&[u8]> = input.witness.iter().collect();
    let Deferral {
        schnorr: mut schnorr_items,
        ecdsa: mut ecdsa_items,
    } = deferral;
    let schnorr_before = schnorr_items.as_ref().map_or(0, |v| v.len());
    let ecdsa_before = ecdsa_items.as_ref().map_or(0, |v| v.len());
    let result = {
        let mode = match schnorr_items.as_deref_mut() {
            Some(items) => SchnorrMode::Defer(items),
            None => SchnorrMode::Verify,
        };
        let mut checker = TxSignatureChecker::new(
            tx,
            input_index,
            spent.value,
            spent_outputs,
            precomputed,
            mode,
        )
        .with_key_cache(keys)
        .with_ecdsa_deferral(ecdsa_items.as_deref_mut());
        verify_script(
            input.script_sig,
            spent.script_pubkey,
            &witness,
            flags,
            &mut checker,
        )
    };
    if result.is_err() {
        if let Some(items) = schnorr_items {
            items.truncate(schnorr_before);
        }
        if let Some(items) = ecdsa_items {
            items.truncate(ecdsa_before);
        }
    }
    result
}
