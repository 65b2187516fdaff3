//! Deferred ECDSA checks: which signature checks the interpreter may answer later, and how
//! the recorded checks are verified many at a time (SIMD lanes, `sluice-vecsecp`) with
//! libsecp256k1 as the referee.
//!
//! # Which checks defer, and why that is sound
//!
//! A check defers only where a false answer makes the input fail whatever the script does
//! next. The interpreter then records the check, answers true and runs on; the caller verifies
//! every record and fails the input when one is false. If every record holds, the run was
//! Core's run exactly. If some record is false, take the first one: every earlier check was
//! answered correctly, so Core's run is identical up to it, gets false there, and fails by the
//! rule below — so the input fails in Core too. If our run fails with an error, Core's run
//! either hits the same error or fails at an earlier false deferred check: invalid either way.
//! The verdict is Core's for every input. Only the error can differ, in one case: a deferred
//! check is false *and* a later error ends the run, which reports the later error where Core
//! reports the failed check. So callers explain every failed input (a script error, or a false
//! deferred check) by running it again with every check in place ([`explain_failure`]): the
//! error is then Core's. That run accepting the input is an internal fault, never a verdict.
//!
//! The forms (legacy and segwit v0 ECDSA only; tapscript's Schnorr checks have their own
//! batch). Everything but the curve equation is still done in place, in Core's order: the
//! encoding rules (DERSIG, LOW_S, STRICTENC, key types, errors as in Core), the sighash, the
//! lax DER and key parses. An empty signature, an unparsable key or signature, or a negative
//! segwit amount are false at once and never deferred.
//! 1. `OP_CHECKSIGVERIFY`, anywhere (a scriptSig too): false is `SCRIPT_ERR_CHECKSIGVERIFY`.
//! 2. Any `OP_CHECKSIG(VERIFY)` when NULLFAIL is set (policy, not block validation): a false
//!    check with a non-empty signature is `SCRIPT_ERR_SIG_NULLFAIL`.
//! 3. `OP_CHECKSIG` as the last opcode of a script whose final top element decides the input:
//!    the scriptPubKey (bare P2PK, P2PKH), a P2SH redeem script, a segwit v0 witness script
//!    (P2WSH, and P2WPKH's implied `DUP HASH160 <h> EQUALVERIFY CHECKSIG`, so P2SH-P2WPKH too).
//!    It pushes false as the script's last act; after it come only the stack-size and
//!    unbalanced-conditional checks (errors) and the final test (`EVAL_FALSE`, or
//!    `CLEANSTACK` for a witness script). A scriptSig's stack feeds the scriptPubKey (which may
//!    `OP_NOT` it), so a scriptSig's last CHECKSIG is kept in place, as is every CHECKSIG whose
//!    result an opcode can read (`OP_NOT`, `OP_IF`, `OP_BOOLOR`, `OP_CHECKSIG OP_VERIFY` …).
//! 4. Inside `OP_CHECKMULTISIG(VERIFY)` of form 1–3 (VERIFY, NULLFAIL, or last opcode of a
//!    deciding script): only a check made when as many signatures as keys remain. A false one
//!    leaves more signatures than keys, so the opcode ends false (then NULLFAIL fails on the
//!    non-empty signature, VERIFY fails, or false is the final top). Checks made with a spare
//!    key are kept in place: a false one just moves to the next key and the opcode may still
//!    succeed. So every check of an n-of-n (Lightning's 2-of-2) defers, and the checks of an
//!    m-of-n after its spare keys are used up.
//!
//! Inputs spend either legacy/segwit v0 scripts (ECDSA only) or taproot outputs (Schnorr only:
//! a witness program needs an empty scriptSig), so no input mixes the two deferrals.

use crate::keycache::PubkeyCache;
use crate::sigcheck::{EcdsaItem, SchnorrItem, SchnorrMode};
use crate::sighash::{PrecomputedTxData, SpentOutput};
use crate::tx::Transaction;

use super::verify::{verify_input_cached, verify_input_deferring, Deferral};
use super::{ScriptError, ScriptFlags};

pub use sluice_vecsecp::Backend as EcdsaBackend;

/// Deferred ECDSA checks handed to [`verify_ecdsa_items`] at a time by the block's script
/// stage (one rayon task each): a multiple of the 8 IFMA lanes, large enough to amortise the
/// batched inversion of s, small enough to spread a block over the pool.
pub const ECDSA_GROUP: usize = 256;

/// An internal disagreement while verifying deferred checks: not a verdict on anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeferredFault {
    /// The vector backend and libsecp256k1 answer differently for the same check.
    #[error("vecsecp backend {backend:?} and libsecp256k1 disagree on a deferred {kind} check (msg {msg}, key {key})")]
    Disagreement {
        backend: EcdsaBackend,
        kind: &'static str,
        msg: String,
        key: String,
    },
    /// A deferred check failed, yet the input passes with every check made in place.
    #[error(
        "input {input} of transaction {txid} failed a deferred ECDSA check but passes in place"
    )]
    Unexplained { txid: String, input: usize },
}

/// Verifies deferred checks with `backend` (which must be available on this CPU: see
/// [`EcdsaBackend::is_available`]); returns the indices of the false ones, ascending. A false
/// answer of a vector backend is confirmed by libsecp256k1 before it is returned.
///
/// # Errors
/// [`DeferredFault::Disagreement`] when libsecp256k1 finds a signature valid that the backend
/// rejected.
pub fn verify_ecdsa_items(
    backend: EcdsaBackend,
    items: &[EcdsaItem],
) -> Result<Vec<usize>, DeferredFault> {
    if backend == EcdsaBackend::Libsecp {
        // The referee itself: no conversion to raw form, no confirmation.
        return Ok((0..items.len())
            .filter(|&i| !items[i].verify_libsecp())
            .collect());
    }
    let raw: Vec<sluice_vecsecp::RawEcdsa> = items
        .iter()
        .map(|it| sluice_vecsecp::RawEcdsa::new(&it.msg, &it.sig, &it.pubkey))
        .collect();
    let verdicts = sluice_vecsecp::verify_ecdsa_raw(backend, &raw);
    let mut failing = Vec::new();
    for (i, (ok, item)) in verdicts.iter().zip(items).enumerate() {
        if *ok {
            continue;
        }
        if item.verify_libsecp() {
            return Err(DeferredFault::Disagreement {
                backend,
                kind: "ECDSA",
                msg: hex_string(&item.msg),
                key: hex_string(&item.pubkey.serialize()),
            });
        }
        failing.push(i);
    }
    Ok(failing)
}

/// The most deferred Schnorr checks verified in lanes at once; larger sets go to the batch
/// equation, whose cost per signature keeps falling with n. Measured with IFMA (criterion
/// `bip340_verify`, 2026-12-02, per signature): lanes 12.3 µs against the batch's 16.7 µs at
/// n = 1,024, but 13.3 against 12.4 µs at n = 4,096; the crossover lies between the two.
pub const SCHNORR_LANES_UP_TO: usize = 2048;

/// Whether `n` deferred Schnorr checks go through `backend`'s lanes rather than the scalar
/// batch equation: with a vector backend, from `SINGLE_VERIFY_BELOW` signatures (fewer are
/// checked one by one with libsecp256k1, cheaper than either) up to [`SCHNORR_LANES_UP_TO`].
/// The portable and AVX2 backends are slower than the batch and take this path only when
/// forced, so that tests cover it with every backend.
#[must_use]
pub fn schnorr_in_lanes(backend: Option<EcdsaBackend>, n: usize) -> bool {
    backend.is_some_and(|b| b != EcdsaBackend::Libsecp)
        && (crate::secp::batch::SINGLE_VERIFY_BELOW..=SCHNORR_LANES_UP_TO).contains(&n)
}

/// Verifies deferred BIP340 checks one per lane with a vector `backend`; returns the indices of
/// the false ones, ascending, each confirmed by libsecp256k1 as in [`verify_ecdsa_items`].
///
/// # Errors
/// [`DeferredFault::Disagreement`] when libsecp256k1 finds a signature valid that the backend
/// rejected.
pub fn verify_schnorr_items(
    backend: EcdsaBackend,
    items: &[SchnorrItem],
) -> Result<Vec<usize>, DeferredFault> {
    let raw: Vec<sluice_vecsecp::RawSchnorr> = items
        .iter()
        .map(|it| sluice_vecsecp::RawSchnorr {
            msg: it.msg,
            sig: it.sig,
            x: it.pubkey,
        })
        .collect();
    let verdicts = sluice_vecsecp::verify_schnorr_raw(backend, &raw);
    let mut failing = Vec::new();
    for (i, (ok, raw)) in verdicts.iter().zip(&raw).enumerate() {
        if *ok {
            continue;
        }
        if backend != EcdsaBackend::Libsecp && raw.verify_libsecp() {
            return Err(DeferredFault::Disagreement {
                backend,
                kind: "Schnorr",
                msg: hex_string(&raw.msg),
                key: hex_string(&raw.x),
            });
        }
        failing.push(i);
    }
    Ok(failing)
}

fn hex_string(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Core's error for an input that failed with deferred checks (a false record, or an error in
/// the run that assumed them true): the input run again with every signature checked in place.
///
/// # Errors
/// [`DeferredFault::Unexplained`] when that run accepts the input.
pub fn explain_failure(
    tx: &Transaction<'_>,
    input_index: usize,
    spent_outputs: &[SpentOutput<'_>],
    precomputed: &PrecomputedTxData,
    flags: ScriptFlags,
    keys: Option<&PubkeyCache>,
) -> Result<ScriptError, DeferredFault> {
    match verify_input_cached(
        tx,
        input_index,
        spent_outputs,
        precomputed,
        flags,
        SchnorrMode::Verify,
        keys,
    ) {
        Err(e) => Ok(e),
        Ok(()) => Err(DeferredFault::Unexplained {
            txid: crate::hash::to_display_hex(&tx.txid()),
            input: input_index,
        }),
    }
}

/// Why [`verify_input_with_backend`] did not accept an input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputCheckError {
    /// The input is invalid (Core's error).
    #[error(transparent)]
    Script(#[from] ScriptError),
    /// An internal disagreement: no verdict.
    #[error(transparent)]
    Fault(#[from] DeferredFault),
}

/// One input as the block's script stage checks it: deferrable ECDSA checks recorded and
/// verified by `backend`, a failure explained in place; Schnorr verified in place. For tests
/// and tools (the pipeline groups the checks of many inputs).
///
/// # Errors
/// The input's [`ScriptError`], or a [`DeferredFault`].
pub fn verify_input_with_backend(
    tx: &Transaction<'_>,
    input_index: usize,
    spent_outputs: &[SpentOutput<'_>],
    precomputed: &PrecomputedTxData,
    flags: ScriptFlags,
    backend: EcdsaBackend,
    keys: Option<&PubkeyCache>,
) -> Result<(), InputCheckError> {
    let mut items = Vec::new();
    let run = verify_input_deferring(
        tx,
        input_index,
        spent_outputs,
        precomputed,
        flags,
        Deferral {
            schnorr: None,
            ecdsa: Some(&mut items),
        },
        keys,
    );
    if run.is_ok() && verify_ecdsa_items(backend, &items)?.is_empty() {
        return Ok(());
    }
    Err(explain_failure(tx, input_index, spent_outputs, precomputed, flags, keys)?.into())
}
