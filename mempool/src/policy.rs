//! Standardness (Core's `policy/policy.cpp` and `script/solver.cpp`): output templates, dust,
//! `IsStandardTx`, input and witness standardness, virtual size.

use sluice_consensus::coin::{Amount, Coin};
use sluice_consensus::script::opcodes::{
    OP_1, OP_16, OP_CHECKMULTISIG, OP_CHECKSIG, OP_DUP, OP_EQUALVERIFY, OP_HASH160, OP_RETURN,
};
use sluice_consensus::script::sigops::legacy_sigop_count;
use sluice_consensus::script::{
    eval_script, is_p2sh, is_pay_to_anchor, is_push_only, read_op, witness_program, ExecData,
    ScriptFlags, SigVersion, MAX_SCRIPT_SIZE,
};
use sluice_consensus::sigcheck::NullChecker;
use sluice_consensus::tx::{Transaction, TxOut, WITNESS_SCALE_FACTOR};

use crate::feerate::FeeRate;
use crate::options::{
    MempoolOptions, MAX_DUST_OUTPUTS_PER_TX, MAX_P2SH_SIGOPS, MAX_STANDARD_P2WSH_SCRIPT_SIZE,
    MAX_STANDARD_P2WSH_STACK_ITEMS, MAX_STANDARD_P2WSH_STACK_ITEM_SIZE,
    MAX_STANDARD_SCRIPTSIG_SIZE, MAX_STANDARD_TAPSCRIPT_STACK_ITEM_SIZE, MAX_STANDARD_TX_WEIGHT,
    MAX_TX_LEGACY_SIGOPS, TX_MAX_STANDARD_VERSION, TX_MIN_STANDARD_VERSION,
};
use crate::reject::{Reject, RejectKind};

/// Output script templates (Core's `TxoutType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TxoutType {
    NonStandard,
    Anchor,
    PubKey,
    PubKeyHash,
    ScriptHash,
    /// Bare multisig: `m` of `n`.
    Multisig {
        m: u8,
        n: u8,
    },
    NullData,
    WitnessV0ScriptHash,
    WitnessV0KeyHash,
    WitnessV1Taproot,
    WitnessUnknown,
}

impl TxoutType {
    /// Core's `GetTxnOutputType` names (`decoderawtransaction`'s `type`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::NonStandard => "nonstandard",
            Self::Anchor => "anchor",
            Self::PubKey => "pubkey",
            Self::PubKeyHash => "pubkeyhash",
            Self::ScriptHash => "scripthash",
            Self::Multisig { .. } => "multisig",
            Self::NullData => "nulldata",
            Self::WitnessV0ScriptHash => "witness_v0_scripthash",
            Self::WitnessV0KeyHash => "witness_v0_keyhash",
            Self::WitnessV1Taproot => "witness_v1_taproot",
            Self::WitnessUnknown => "witness_unknown",
        }
    }
}

/// `CPubKey::ValidSize`: the length the first byte announces.
fn valid_pubkey_size(key: &[u8]) -> bool {
    match key.first() {
        Some(2 | 3) => key.len() == 33,
        Some(4 | 6 | 7) => key.len() == 65,
        _ => false,
    }
}

/// A multisig count `[min, max]` as OP_n or a minimal push (only 17..=20 can be pushed).
fn script_number(op: u8, data: &[u8], min: u8, max: u8) -> Option<u8> {
    let n = if (OP_1..=OP_16).contains(&op) {
        op - OP_1 + 1
    } else if op == 1 && data.len() == 1 && (17..=0x7f).contains(&data[0]) {
        data[0]
    } else {
        return None;
    };
    (min..=max).contains(&n).then_some(n)
}

fn match_multisig(spk: &[u8]) -> Option<(u8, u8)> {
    if spk.last() != Some(&OP_CHECKMULTISIG) {
        return None;
    }
    let mut pc = 0;
    let (op, data) = read_op(spk, &mut pc).ok()?;
    let m = script_number(op, data, 1, 20)?;
    let mut keys = 0u32;
    let (last_op, last_data) = loop {
        match read_op(spk, &mut pc) {
            Ok((op, data)) if valid_pubkey_size(data) => {
                let _ = op;
                keys += 1;
            }
            Ok((op, data)) => break (op, data),
            // Core's loop ends on a failed GetOp with the last (op, data) it left behind.
            Err(_) => break (0xff, &[][..]),
        }
    };
    let n = script_number(last_op, last_data, m, 20)?;
    (u32::from(n) == keys && pc + 1 == spk.len()).then_some((m, n))
}

/// Core's `Solver` (template only).
#[must_use]
pub fn solver(spk: &[u8]) -> TxoutType {
    if is_p2sh(spk) {
        return TxoutType::ScriptHash;
    }
    if let Some((version, program)) = witness_program(spk) {
        return match (version, program.len()) {
            (0, 20) => TxoutType::WitnessV0KeyHash,
            (0, 32) => TxoutType::WitnessV0ScriptHash,
            (1, 32) => TxoutType::WitnessV1Taproot,
            _ if is_pay_to_anchor(version, program) => TxoutType::Anchor,
            (0, _) => TxoutType::NonStandard,
            _ => TxoutType::WitnessUnknown,
        };
    }
    if spk.first() == Some(&OP_RETURN) && is_push_only(&spk[1..]) {
        return TxoutType::NullData;
    }
    if (spk.len() == 35 && spk[0] == 33 || spk.len() == 67 && spk[0] == 65)
        && spk.last() == Some(&OP_CHECKSIG)
        && valid_pubkey_size(&spk[1..spk.len() - 1])
    {
        return TxoutType::PubKey;
    }
    if spk.len() == 25
        && spk[0] == OP_DUP
        && spk[1] == OP_HASH160
        && spk[2] == 20
        && spk[23] == OP_EQUALVERIFY
        && spk[24] == OP_CHECKSIG
    {
        return TxoutType::PubKeyHash;
    }
    if let Some((m, n)) = match_multisig(spk) {
        return TxoutType::Multisig { m, n };
    }
    TxoutType::NonStandard
}

/// Core's `IsStandard(scriptPubKey)`: a known template, bare multisig at most x-of-3.
#[must_use]
pub fn is_standard_output(spk: &[u8]) -> Option<TxoutType> {
    let t = solver(spk);
    match t {
        TxoutType::NonStandard => None,
        TxoutType::Multisig { m, n } if !(1..=3).contains(&n) || m < 1 || m > n => None,
        _ => Some(t),
    }
}

/// `CScript::IsUnspendable`.
#[must_use]
pub fn is_unspendable(spk: &[u8]) -> bool {
    spk.first() == Some(&OP_RETURN) || spk.len() > MAX_SCRIPT_SIZE
}

/// Core's `GetDustThreshold`.
#[must_use]
pub fn dust_threshold(out: &TxOut<'_>, dust_relay: FeeRate) -> Amount {
    if is_unspendable(out.script_pubkey) {
        return 0;
    }
    let mut size = i64::try_from(out.raw.len()).unwrap_or(i64::MAX);
    size += if witness_program(out.script_pubkey).is_some() {
        32 + 4 + 1 + (107 / i64::try_from(WITNESS_SCALE_FACTOR).unwrap_or(4)) + 4
    } else {
        32 + 4 + 1 + 107 + 4
    };
    dust_relay.fee(size)
}

/// Indices of the dust outputs (Core's `GetDust`).
#[must_use]
pub fn dust_outputs(tx: &Transaction<'_>, dust_relay: FeeRate) -> Vec<u32> {
    (0u32..)
        .zip(&tx.outputs)
        .filter(|(_, o)| o.value < dust_threshold(o, dust_relay))
        .map(|(i, _)| i)
        .collect()
}

/// Core's `IsStandardTx`: `Err(reason)` names the first rule broken.
///
/// # Errors
/// Core's reason string ("version", "tx-size", "scriptsig-size", "scriptsig-not-pushonly",
/// "scriptpubkey", "datacarrier", "bare-multisig", "dust").
pub fn is_standard_tx(tx: &Transaction<'_>, opts: &MempoolOptions) -> Result<(), &'static str> {
    if tx.version > TX_MAX_STANDARD_VERSION || tx.version < TX_MIN_STANDARD_VERSION {
        return Err("version");
    }
    if tx.weight() > MAX_STANDARD_TX_WEIGHT {
        return Err("tx-size");
    }
    for input in &tx.inputs {
        if input.script_sig.len() > MAX_STANDARD_SCRIPTSIG_SIZE {
            return Err("scriptsig-size");
        }
        if !is_push_only(input.script_sig) {
            return Err("scriptsig-not-pushonly");
        }
    }
    let mut datacarrier_left = opts.max_datacarrier_bytes.unwrap_or(0);
    for out in &tx.outputs {
        let Some(t) = is_standard_output(out.script_pubkey) else {
            return Err("scriptpubkey");
        };
        if t == TxoutType::NullData {
            let size = out.script_pubkey.len();
            if size > datacarrier_left {
                return Err("datacarrier");
            }
            datacarrier_left -= size;
        } else if matches!(t, TxoutType::Multisig { .. }) && !opts.permit_bare_multisig {
            return Err("bare-multisig");
        }
    }
    if dust_outputs(tx, opts.dust_relay_feerate).len() > MAX_DUST_OUTPUTS_PER_TX {
        return Err("dust");
    }
    Ok(())
}

/// The stack a scriptSig leaves when run with no flags (the P2SH redeem-script extraction
/// Core does with `EvalScript(.., SCRIPT_VERIFY_NONE, BaseSignatureChecker())`).
fn script_sig_stack(
    script_sig: &[u8],
) -> Result<Vec<Vec<u8>>, sluice_consensus::script::ScriptError> {
    let mut stack = Vec::new();
    eval_script(
        &mut stack,
        script_sig,
        ScriptFlags::NONE,
        &mut NullChecker,
        SigVersion::Base,
        &mut ExecData::default(),
    )?;
    Ok(stack)
}

fn nonstandard_inputs(details: String) -> Reject {
    Reject::with(
        RejectKind::NotStandard,
        "bad-txns-nonstandard-inputs",
        details,
    )
}

/// Core's `ValidateInputsStandardness` (BIP54 legacy sigop limit, spent templates, P2SH
/// redeem-script sigops). `coins` are the spent coins in input order.
///
/// # Errors
/// `bad-txns-nonstandard-inputs` with Core's detail.
pub fn validate_inputs_standardness(tx: &Transaction<'_>, coins: &[Coin]) -> Result<(), Reject> {
    if tx.is_coinbase() {
        return Ok(());
    }
    let mut sigops = 0u32;
    for (input, coin) in tx.inputs.iter().zip(coins) {
        sigops = sigops.saturating_add(legacy_sigop_count(input.script_sig, true));
        sigops = sigops.saturating_add(sluice_consensus::script::sigops::p2sh_sigop_count(
            &coin.script_pubkey,
            input.script_sig,
        ));
        if sigops > MAX_TX_LEGACY_SIGOPS {
            return Err(nonstandard_inputs(
                "non-witness sigops exceed bip54 limit".into(),
            ));
        }
    }
    for (i, (input, coin)) in tx.inputs.iter().zip(coins).enumerate() {
        match solver(&coin.script_pubkey) {
            TxoutType::NonStandard => {
                return Err(nonstandard_inputs(format!("input {i} script unknown")));
            }
            TxoutType::WitnessUnknown => {
                return Err(nonstandard_inputs(format!(
                    "input {i} witness program is undefined"
                )));
            }
            TxoutType::ScriptHash => {
                let stack = script_sig_stack(input.script_sig).map_err(|e| {
                    nonstandard_inputs(format!(
                        "p2sh scriptsig malformed (input {i}: {})",
                        crate::script_error_string(e)
                    ))
                })?;
                let Some(redeem) = stack.last() else {
                    return Err(nonstandard_inputs(format!(
                        "input {i} P2SH redeemscript missing"
                    )));
                };
                let n = legacy_sigop_count(redeem, true);
                if n > MAX_P2SH_SIGOPS {
                    return Err(nonstandard_inputs(format!(
                        "p2sh redeemscript sigops exceed limit (input {i}: {n} > {MAX_P2SH_SIGOPS})"
                    )));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Core's `IsWitnessStandard`.
#[must_use]
pub fn is_witness_standard(tx: &Transaction<'_>, coins: &[Coin]) -> bool {
    if tx.is_coinbase() {
        return true;
    }
    for (input, coin) in tx.inputs.iter().zip(coins) {
        if input.witness.is_empty() {
            continue;
        }
        let mut prev: &[u8] = &coin.script_pubkey;
        if witness_program(prev).is_some_and(|(v, p)| is_pay_to_anchor(v, p)) {
            return false;
        }
        let redeem;
        let mut p2sh = false;
        if is_p2sh(prev) {
            let Ok(stack) = script_sig_stack(input.script_sig) else {
                return false;
            };
            let Some(last) = stack.into_iter().last() else {
                return false;
            };
            redeem = last;
            prev = &redeem;
            p2sh = true;
        }
        let Some((version, program)) = witness_program(prev) else {
            return false;
        };
        let items: Vec<&[u8]> = input.witness.iter().collect();
        if version == 0 && program.len() == 32 {
            let Some((script, rest)) = items.split_last() else {
                return false;
            };
            if script.len() > MAX_STANDARD_P2WSH_SCRIPT_SIZE
                || rest.len() > MAX_STANDARD_P2WSH_STACK_ITEMS
                || rest
                    .iter()
                    .any(|it| it.len() > MAX_STANDARD_P2WSH_STACK_ITEM_SIZE)
            {
                return false;
            }
        }
        if version == 1 && program.len() == 32 && !p2sh {
            let mut stack = &items[..];
            if stack.len() >= 2 && stack.last().is_some_and(|a| a.first() == Some(&0x50)) {
                return false;
            }
            if stack.len() >= 2 {
                let Some((control, rest)) = stack.split_last() else {
                    return false;
                };
                let Some((_script, args)) = rest.split_last() else {
                    return false;
                };
                stack = args;
                let Some(&leaf) = control.first() else {
                    return false;
                };
                if leaf & 0xfe == 0xc0
                    && stack
                        .iter()
                        .any(|it| it.len() > MAX_STANDARD_TAPSCRIPT_STACK_ITEM_SIZE)
                {
                    return false;
                }
            } else if stack.is_empty() {
                return false;
            }
        }
    }
    true
}

/// Core's `SpendsNonAnchorWitnessProg`: whether a witness-less failure may be a stripped witness.
#[must_use]
pub fn spends_non_anchor_witness_prog(tx: &Transaction<'_>, coins: &[Coin]) -> bool {
    if tx.is_coinbase() {
        return false;
    }
    for (input, coin) in tx.inputs.iter().zip(coins) {
        if let Some((v, p)) = witness_program(&coin.script_pubkey) {
            if !is_pay_to_anchor(v, p) {
                return true;
            }
        }
        if is_p2sh(&coin.script_pubkey) {
            let Ok(stack) = script_sig_stack(input.script_sig) else {
                continue;
            };
            if stack.last().is_some_and(|r| witness_program(r).is_some()) {
                return true;
            }
        }
    }
    false
}

/// Core's `GetSigOpsAdjustedWeight`.
#[must_use]
pub fn sigops_adjusted_weight(weight: i64, sigop_cost: i64, bytes_per_sigop: i64) -> i64 {
    weight.max(sigop_cost * bytes_per_sigop)
}

/// Core's `GetVirtualTransactionSize(weight, sigop_cost, bytes_per_sigop)`.
#[must_use]
pub fn virtual_size(weight: i64, sigop_cost: i64, bytes_per_sigop: i64) -> i64 {
    (sigops_adjusted_weight(weight, sigop_cost, bytes_per_sigop) + 3) / 4
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0))
            .collect()
    }

    #[test]
    fn templates() {
        let key = format!("02{}", "11".repeat(32));
        assert_eq!(solver(&h(&format!("21{key}ac"))), TxoutType::PubKey);
        assert_eq!(
            solver(&h(&format!("76a914{}88ac", "00".repeat(20)))),
            TxoutType::PubKeyHash
        );
        assert_eq!(
            solver(&h(&format!("a914{}87", "00".repeat(20)))),
            TxoutType::ScriptHash
        );
        assert_eq!(solver(&h("51024e73")), TxoutType::Anchor);
        assert_eq!(
            solver(&h(&format!("5120{}", "00".repeat(32)))),
            TxoutType::WitnessV1Taproot
        );
        assert_eq!(
            solver(&h(&format!("5220{}", "00".repeat(32)))),
            TxoutType::WitnessUnknown
        );
        assert_eq!(
            solver(&h(&format!("0015{}", "00".repeat(21)))),
            TxoutType::NonStandard
        );
        assert_eq!(solver(&h("6a0401020304")), TxoutType::NullData);
        assert_eq!(solver(&h("6a")), TxoutType::NullData);
        assert_eq!(solver(&h("6a61")), TxoutType::NonStandard);
        let ms = format!("5121{key}21{key}52ae");
        assert_eq!(solver(&h(&ms)), TxoutType::Multisig { m: 1, n: 2 });
        let ms4 = format!("5121{key}21{key}21{key}21{key}54ae");
        assert_eq!(solver(&h(&ms4)), TxoutType::Multisig { m: 1, n: 4 });
        assert!(is_standard_output(&h(&ms4)).is_none());
        assert_eq!(
            solver(&h(&format!("5121{key}53ae"))),
            TxoutType::NonStandard
        );
    }

    #[test]
    fn vsize_rounds_up() {
        assert_eq!(virtual_size(561, 0, 20), 141);
        assert_eq!(virtual_size(400, 40, 20), 200);
    }
}
