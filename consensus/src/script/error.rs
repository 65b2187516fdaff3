//! Script failures, mirroring Core's `ScriptError_t`.

/// Why a script failed. Variant names follow Core's `SCRIPT_ERR_*`; [`ScriptError::name`] gives
/// the spelling script_tests.json uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[allow(missing_docs)]
pub enum ScriptError {
    #[error("unknown error")]
    UnknownError,
    #[error("script evaluated without error but finished with a false/empty top stack element")]
    EvalFalse,
    #[error("OP_RETURN was encountered")]
    OpReturn,
    #[error("script number overflow or non-minimal encoding")]
    ScriptNum,
    #[error("script is too big")]
    ScriptSize,
    #[error("push value size limit exceeded")]
    PushSize,
    #[error("operation limit exceeded")]
    OpCount,
    #[error("stack size limit exceeded")]
    StackSize,
    #[error("signature count negative or greater than pubkey count")]
    SigCount,
    #[error("pubkey count negative or limit exceeded")]
    PubkeyCount,
    #[error("script failed an OP_VERIFY operation")]
    Verify,
    #[error("script failed an OP_EQUALVERIFY operation")]
    EqualVerify,
    #[error("script failed an OP_CHECKMULTISIGVERIFY operation")]
    CheckMultisigVerify,
    #[error("script failed an OP_CHECKSIGVERIFY operation")]
    CheckSigVerify,
    #[error("script failed an OP_NUMEQUALVERIFY operation")]
    NumEqualVerify,
    #[error("opcode missing or not understood")]
    BadOpcode,
    #[error("attempted to use a disabled opcode")]
    DisabledOpcode,
    #[error("operation not valid with the current stack size")]
    InvalidStackOperation,
    #[error("operation not valid with the current altstack size")]
    InvalidAltstackOperation,
    #[error("invalid OP_IF construction")]
    UnbalancedConditional,
    #[error("negative locktime")]
    NegativeLocktime,
    #[error("locktime requirement not satisfied")]
    UnsatisfiedLocktime,
    #[error("signature hash type missing or not understood")]
    SigHashtype,
    #[error("non-canonical DER signature")]
    SigDer,
    #[error("data push larger than necessary")]
    MinimalData,
    #[error("only push operators allowed in signatures")]
    SigPushOnly,
    #[error("non-canonical signature: S value is unnecessarily high")]
    SigHighS,
    #[error("dummy CHECKMULTISIG argument must be zero")]
    SigNullDummy,
    #[error("public key is neither compressed or uncompressed")]
    PubkeyType,
    #[error("stack size must be exactly one after execution")]
    CleanStack,
    #[error("OP_IF/NOTIF argument must be minimal")]
    MinimalIf,
    #[error("signature must be zero for failed CHECK(MULTI)SIG operation")]
    SigNullFail,
    #[error("NOPx reserved for soft-fork upgrades")]
    DiscourageUpgradableNops,
    #[error("witness version reserved for soft-fork upgrades")]
    DiscourageUpgradableWitnessProgram,
    #[error("taproot version reserved for soft-fork upgrades")]
    DiscourageUpgradableTaprootVersion,
    #[error("OP_SUCCESSx reserved for soft-fork upgrades")]
    DiscourageOpSuccess,
    #[error("public key version reserved for soft-fork upgrades")]
    DiscourageUpgradablePubkeyType,
    #[error("witness program has incorrect length")]
    WitnessProgramWrongLength,
    #[error("witness program was passed an empty witness")]
    WitnessProgramWitnessEmpty,
    #[error("witness program hash mismatch")]
    WitnessProgramMismatch,
    #[error("witness requires empty scriptSig")]
    WitnessMalleated,
    #[error("witness requires only-redeemscript scriptSig")]
    WitnessMalleatedP2sh,
    #[error("witness provided for non-witness script")]
    WitnessUnexpected,
    #[error("using non-compressed keys in segwit")]
    WitnessPubkeyType,
    #[error("invalid Schnorr signature size")]
    SchnorrSigSize,
    #[error("invalid Schnorr signature hash type")]
    SchnorrSigHashtype,
    #[error("invalid Schnorr signature")]
    SchnorrSig,
    #[error("invalid taproot control block size")]
    TaprootWrongControlSize,
    #[error("too much signature validation relative to witness weight")]
    TapscriptValidationWeight,
    #[error("OP_CHECKMULTISIG(VERIFY) is not available in tapscript")]
    TapscriptCheckMultisig,
    #[error("OP_IF/NOTIF argument must be minimal in tapscript")]
    TapscriptMinimalIf,
    #[error("empty public key in tapscript")]
    TapscriptEmptyPubkey,
    #[error("using OP_CODESEPARATOR in non-witness script")]
    OpCodeSeparator,
    #[error("signature is found in scriptCode")]
    SigFindAndDelete,
    /// Not a Core script error: the caller passed an input index or spent outputs that do not
    /// fit the transaction (Core asserts on this instead).
    #[error("input index or spent outputs do not match the transaction")]
    BadInputContext,
}

impl ScriptError {
    /// The name script_tests.json and Core's `FormatScriptError` use.
    #[must_use]
    pub fn name(self) -> &'static str {
        use ScriptError as E;
        match self {
            E::UnknownError => "UNKNOWN_ERROR",
            E::EvalFalse => "EVAL_FALSE",
            E::OpReturn => "OP_RETURN",
            E::ScriptNum => "SCRIPTNUM",
            E::ScriptSize => "SCRIPT_SIZE",
            E::PushSize => "PUSH_SIZE",
            E::OpCount => "OP_COUNT",
            E::StackSize => "STACK_SIZE",
            E::SigCount => "SIG_COUNT",
            E::PubkeyCount => "PUBKEY_COUNT",
            E::Verify => "VERIFY",
            E::EqualVerify => "EQUALVERIFY",
            E::CheckMultisigVerify => "CHECKMULTISIGVERIFY",
            E::CheckSigVerify => "CHECKSIGVERIFY",
            E::NumEqualVerify => "NUMEQUALVERIFY",
            E::BadOpcode => "BAD_OPCODE",
            E::DisabledOpcode => "DISABLED_OPCODE",
            E::InvalidStackOperation => "INVALID_STACK_OPERATION",
            E::InvalidAltstackOperation => "INVALID_ALTSTACK_OPERATION",
            E::UnbalancedConditional => "UNBALANCED_CONDITIONAL",
            E::NegativeLocktime => "NEGATIVE_LOCKTIME",
            E::UnsatisfiedLocktime => "UNSATISFIED_LOCKTIME",
            E::SigHashtype => "SIG_HASHTYPE",
            E::SigDer => "SIG_DER",
            E::MinimalData => "MINIMALDATA",
            E::SigPushOnly => "SIG_PUSHONLY",
            E::SigHighS => "SIG_HIGH_S",
            E::SigNullDummy => "SIG_NULLDUMMY",
            E::PubkeyType => "PUBKEYTYPE",
            E::CleanStack => "CLEANSTACK",
            E::MinimalIf => "MINIMALIF",
            E::SigNullFail => "NULLFAIL",
            E::DiscourageUpgradableNops => "DISCOURAGE_UPGRADABLE_NOPS",
            E::DiscourageUpgradableWitnessProgram => "DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM",
            E::DiscourageUpgradableTaprootVersion => "DISCOURAGE_UPGRADABLE_TAPROOT_VERSION",
            E::DiscourageOpSuccess => "DISCOURAGE_OP_SUCCESS",
            E::DiscourageUpgradablePubkeyType => "DISCOURAGE_UPGRADABLE_PUBKEYTYPE",
            E::WitnessProgramWrongLength => "WITNESS_PROGRAM_WRONG_LENGTH",
            E::WitnessProgramWitnessEmpty => "WITNESS_PROGRAM_WITNESS_EMPTY",
            E::WitnessProgramMismatch => "WITNESS_PROGRAM_MISMATCH",
            E::WitnessMalleated => "WITNESS_MALLEATED",
            E::WitnessMalleatedP2sh => "WITNESS_MALLEATED_P2SH",
            E::WitnessUnexpected => "WITNESS_UNEXPECTED",
            E::WitnessPubkeyType => "WITNESS_PUBKEYTYPE",
            E::SchnorrSigSize => "SCHNORR_SIG_SIZE",
            E::SchnorrSigHashtype => "SCHNORR_SIG_HASHTYPE",
            E::SchnorrSig => "SCHNORR_SIG",
            E::TaprootWrongControlSize => "TAPROOT_WRONG_CONTROL_SIZE",
            E::TapscriptValidationWeight => "TAPSCRIPT_VALIDATION_WEIGHT",
            E::TapscriptCheckMultisig => "TAPSCRIPT_CHECKMULTISIG",
            E::TapscriptMinimalIf => "TAPSCRIPT_MINIMALIF",
            E::TapscriptEmptyPubkey => "TAPSCRIPT_EMPTY_PUBKEY",
            E::OpCodeSeparator => "OP_CODESEPARATOR",
            E::SigFindAndDelete => "SIG_FINDANDDELETE",
            E::BadInputContext => "BAD_INPUT_CONTEXT",
        }
    }
}
