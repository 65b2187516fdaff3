//! Core's `EvalScript`: executes one script on a stack.

use std::borrow::Cow;

use ripemd::Ripemd160;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::checksig::{eval_checkmultisig, eval_checksig};
use super::error::ScriptError;
use super::flags::ScriptFlags;
use super::num::{self, DEFAULT_MAX_NUM_SIZE};
use super::opcodes::*;
use super::{
    cast_to_bool, check_minimal_push, read_op, MAX_OPS_PER_SCRIPT, MAX_SCRIPT_ELEMENT_SIZE,
    MAX_SCRIPT_SIZE, MAX_STACK_SIZE,
};
use crate::hash::Hash256;
use crate::sigcheck::SignatureChecker;

/// Which rules a script runs under (Core's `SigVersion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigVersion {
    /// Bare scripts and BIP16 redeem scripts.
    Base,
    /// Segwit v0 (P2WPKH, P2WSH).
    WitnessV0,
    /// Taproot key path.
    Taproot,
    /// Taproot script path, leaf version 0xc0 (BIP342).
    Tapscript,
}

/// Per-input execution context (Core's `ScriptExecutionData`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecData {
    /// SHA256 of the CompactSize-prefixed annex, when the witness has one.
    pub annex_hash: Option<Hash256>,
    /// Tapleaf hash of the executing tapscript.
    pub tapleaf_hash: Option<Hash256>,
    /// Opcode position of the last executed OP_CODESEPARATOR (`u32::MAX` if none).
    pub codeseparator_pos: u32,
    /// BIP342 validation weight budget remaining.
    pub validation_weight_left: i64,
}

impl Default for ExecData {
    fn default() -> Self {
        Self {
            annex_hash: None,
            tapleaf_hash: None,
            codeseparator_pos: u32::MAX,
            validation_weight_left: 0,
        }
    }
}

/// The script stack.
pub type Stack = Vec<Vec<u8>>;

/// Core's `ConditionStack`: only the depth and the position of the first false are observable.
#[derive(Debug, Default)]
struct ConditionStack {
    size: u32,
    first_false: Option<u32>,
}

impl ConditionStack {
    fn all_true(&self) -> bool {
        self.first_false.is_none()
    }
    fn push(&mut self, v: bool) {
        if self.first_false.is_none() && !v {
            self.first_false = Some(self.size);
        }
        self.size += 1;
    }
    fn pop(&mut self) -> Result<(), ScriptError> {
        if self.size == 0 {
            return Err(ScriptError::UnbalancedConditional);
        }
        self.size -= 1;
        if self.first_false == Some(self.size) {
            self.first_false = None;
        }
        Ok(())
    }
    fn toggle_top(&mut self) -> Result<(), ScriptError> {
        if self.size == 0 {
            return Err(ScriptError::UnbalancedConditional);
        }
        match self.first_false {
            None => self.first_false = Some(self.size - 1),
            Some(p) if p == self.size - 1 => self.first_false = None,
            Some(_) => {}
        }
        Ok(())
    }
}

const FALSE: Vec<u8> = Vec::new();

fn truth(b: bool) -> Vec<u8> {
    if b {
        vec![1]
    } else {
        FALSE
    }
}

/// `stack[len - k]` (Core's `stacktop(-k)`), with the depth already checked by the caller.
#[inline]
fn top(stack: &Stack, k: usize) -> Result<&Vec<u8>, ScriptError> {
    stack
        .len()
        .checked_sub(k)
        .and_then(|i| stack.get(i))
        .ok_or(ScriptError::InvalidStackOperation)
}

#[inline]
fn need(stack: &Stack, n: usize) -> Result<(), ScriptError> {
    if stack.len() < n {
        Err(ScriptError::InvalidStackOperation)
    } else {
        Ok(())
    }
}

#[inline]
fn pop(stack: &mut Stack) -> Result<Vec<u8>, ScriptError> {
    stack.pop().ok_or(ScriptError::InvalidStackOperation)
}

fn pop_num(stack: &mut Stack, minimal: bool) -> Result<i64, ScriptError> {
    let v = pop(stack)?;
    num::decode(&v, minimal, DEFAULT_MAX_NUM_SIZE)
}

fn is_disabled(op: u8) -> bool {
    matches!(
        op,
        OP_CAT
            | OP_SUBSTR
            | OP_LEFT
            | OP_RIGHT
            | OP_INVERT
            | OP_AND
            | OP_OR
            | OP_XOR
            | OP_2MUL
            | OP_2DIV
            | OP_MUL
            | OP_DIV
            | OP_MOD
            | OP_LSHIFT
            | OP_RSHIFT
    )
}

/// Whether a false result of this signature opcode fails the input whatever follows, so that
/// its ECDSA check may be answered later (the argument is in [`super::deferred`]): a VERIFY
/// form, NULLFAIL (a failing non-empty signature is an error), or the last opcode of a script
/// whose final top element decides the input.
fn false_fails_input(verify: bool, flags: ScriptFlags, fin: FinalStack, last_op: bool) -> bool {
    verify || flags.contains(ScriptFlags::NULLFAIL) || (fin == FinalStack::Decides && last_op)
}

/// Executes `script` on `stack` under `sigversion` (Base, WitnessV0 or Tapscript).
///
/// # Errors
/// The first [`ScriptError`] hit, as Core reports it.
pub fn eval_script<C: SignatureChecker + ?Sized>(
    stack: &mut Stack,
    script: &[u8],
    flags: ScriptFlags,
    checker: &mut C,
    sigversion: SigVersion,
    execdata: &mut ExecData,
) -> Result<(), ScriptError> {
    eval_script_as(
        stack,
        script,
        flags,
        checker,
        sigversion,
        execdata,
        FinalStack::Consumed,
    )
}

/// What the caller does with the stack a script leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FinalStack {
    /// Anything (e.g. a scriptSig's stack feeds the scriptPubKey).
    Consumed,
    /// The input fails unless the top element is true (scriptPubKey, P2SH redeem script,
    /// witness script): a false result of the script's last opcode fails the input.
    Decides,
}

/// [`eval_script`], told what happens to the final stack (which lets a last CHECKSIG or
/// CHECKMULTISIG defer its check, see [`super::deferred`]).
#[allow(clippy::too_many_lines)]
pub(crate) fn eval_script_as<C: SignatureChecker + ?Sized>(
    stack: &mut Stack,
    script: &[u8],
    flags: ScriptFlags,
    checker: &mut C,
    sigversion: SigVersion,
    execdata: &mut ExecData,
    final_stack: FinalStack,
) -> Result<(), ScriptError> {
    let legacy = matches!(sigversion, SigVersion::Base | SigVersion::WitnessV0);
    if legacy && script.len() > MAX_SCRIPT_SIZE {
        return Err(ScriptError::ScriptSize);
    }
    let minimal = flags.contains(ScriptFlags::MINIMALDATA);
    let mut pc = 0usize;
    let mut begin_codehash = 0usize;
    let mut exec = ConditionStack::default();
    let mut altstack: Stack = Vec::new();
    let mut op_count = 0usize;
    let mut opcode_pos: u32 = 0;
    execdata.codeseparator_pos = u32::MAX;

    while pc < script.len() {
        let f_exec = exec.all_true();
        let (op, data) = read_op(script, &mut pc).map_err(|_| ScriptError::BadOpcode)?;
        if data.len() > MAX_SCRIPT_ELEMENT_SIZE {
            return Err(ScriptError::PushSize);
        }
        if legacy && op > OP_16 {
            op_count += 1;
            if op_count > MAX_OPS_PER_SCRIPT {
                return Err(ScriptError::OpCount);
            }
        }
        if is_disabled(op) {
            return Err(ScriptError::DisabledOpcode);
        }
        if op == OP_CODESEPARATOR
            && sigversion == SigVersion::Base
            && flags.contains(ScriptFlags::CONST_SCRIPTCODE)
        {
            return Err(ScriptError::OpCodeSeparator);
        }

        if f_exec && op <= OP_PUSHDATA4 {
            if minimal && !check_minimal_push(data, op) {
                return Err(ScriptError::MinimalData);
            }
            stack.push(data.to_vec());
        } else if f_exec || (OP_IF..=OP_ENDIF).contains(&op) {
            match op {
                OP_1NEGATE | OP_1..=OP_16 => {
                    stack.push(num::encode(i64::from(op) - i64::from(OP_1 - 1)));
                }
                OP_NOP => {}
                OP_CHECKLOCKTIMEVERIFY => {
                    if flags.contains(ScriptFlags::CHECKLOCKTIMEVERIFY) {
                        need(stack, 1)?;
                        // Five-byte operands: lock times reach 2^32-1.
                        let n = num::decode(top(stack, 1)?, minimal, 5)?;
                        if n < 0 {
                            return Err(ScriptError::NegativeLocktime);
                        }
                        if !checker.check_lock_time(n) {
                            return Err(ScriptError::UnsatisfiedLocktime);
                        }
                    }
                    // Not enabled: a plain NOP2 (Core does not apply DISCOURAGE_UPGRADABLE_NOPS).
                }
                OP_CHECKSEQUENCEVERIFY => {
                    if flags.contains(ScriptFlags::CHECKSEQUENCEVERIFY) {
                        need(stack, 1)?;
                        let n = num::decode(top(stack, 1)?, minimal, 5)?;
                        if n < 0 {
                            return Err(ScriptError::NegativeLocktime);
                        }
                        // Disabled relative lock times leave the opcode a NOP (future soft forks).
                        if n & (1 << 31) == 0 && !checker.check_sequence(n) {
                            return Err(ScriptError::UnsatisfiedLocktime);
                        }
                    }
                    // Not enabled: a plain NOP3.
                }
                OP_NOP1 | OP_NOP4..=OP_NOP10 => {
                    if flags.contains(ScriptFlags::DISCOURAGE_UPGRADABLE_NOPS) {
                        return Err(ScriptError::DiscourageUpgradableNops);
                    }
                }
                OP_IF | OP_NOTIF => {
                    let mut value = false;
                    if f_exec {
                        need(stack, 1)?;
                        let v = top(stack, 1)?;
                        if sigversion == SigVersion::Tapscript
                            && (v.len() > 1 || (v.len() == 1 && v[0] != 1))
                        {
                            return Err(ScriptError::TapscriptMinimalIf);
                        }
                        if sigversion == SigVersion::WitnessV0
                            && flags.contains(ScriptFlags::MINIMALIF)
                            && (v.len() > 1 || (v.len() == 1 && v[0] != 1))
                        {
                            return Err(ScriptError::MinimalIf);
                        }
                        value = cast_to_bool(v);
                        if op == OP_NOTIF {
                            value = !value;
                        }
                        stack.pop();
                    }
                    exec.push(value);
                }
                OP_ELSE => exec.toggle_top()?,
                OP_ENDIF => exec.pop()?,
                OP_VERIFY => {
                    need(stack, 1)?;
                    if cast_to_bool(top(stack, 1)?) {
                        stack.pop();
                    } else {
                        return Err(ScriptError::Verify);
                    }
                }
                OP_RETURN => return Err(ScriptError::OpReturn),
                OP_TOALTSTACK => {
                    let v = pop(stack)?;
                    altstack.push(v);
                }
                OP_FROMALTSTACK => {
                    let v = altstack
                        .pop()
                        .ok_or(ScriptError::InvalidAltstackOperation)?;
                    stack.push(v);
                }
                OP_2DROP => {
                    need(stack, 2)?;
                    stack.truncate(stack.len() - 2);
                }
                OP_2DUP => {
                    need(stack, 2)?;
                    let (a, b) = (top(stack, 2)?.clone(), top(stack, 1)?.clone());
                    stack.push(a);
                    stack.push(b);
                }
                OP_3DUP => {
                    need(stack, 3)?;
                    let (a, b, c) = (
                        top(stack, 3)?.clone(),
                        top(stack, 2)?.clone(),
                        top(stack, 1)?.clone(),
                    );
                    stack.push(a);
                    stack.push(b);
                    stack.push(c);
                }
                OP_2OVER => {
                    need(stack, 4)?;
                    let (a, b) = (top(stack, 4)?.clone(), top(stack, 3)?.clone());
                    stack.push(a);
                    stack.push(b);
                }
                OP_2ROT => {
                    need(stack, 6)?;
                    let n = stack.len();
                    let moved: Vec<Vec<u8>> = stack.drain(n - 6..n - 4).collect();
                    stack.extend(moved);
                }
                OP_2SWAP => {
                    need(stack, 4)?;
                    let n = stack.len();
                    stack.swap(n - 4, n - 2);
                    stack.swap(n - 3, n - 1);
                }
                OP_IFDUP => {
                    need(stack, 1)?;
                    let v = top(stack, 1)?;
                    if cast_to_bool(v) {
                        let v = v.clone();
                        stack.push(v);
                    }
                }
                OP_DEPTH => {
                    stack.push(num::encode(i64::try_from(stack.len()).unwrap_or(i64::MAX)));
                }
                OP_DROP => {
                    pop(stack)?;
                }
                OP_DUP => {
                    let v = top(stack, 1)?.clone();
                    stack.push(v);
                }
                OP_NIP => {
                    need(stack, 2)?;
                    let n = stack.len();
                    stack.remove(n - 2);
                }
                OP_OVER => {
                    need(stack, 2)?;
                    let v = top(stack, 2)?.clone();
                    stack.push(v);
                }
                OP_PICK | OP_ROLL => {
                    need(stack, 2)?;
                    let n = num::to_i32_saturating(pop_num(stack, minimal)?);
                    let n = usize::try_from(n).map_err(|_| ScriptError::InvalidStackOperation)?;
                    if n >= stack.len() {
                        return Err(ScriptError::InvalidStackOperation);
                    }
                    let idx = stack.len() - n - 1;
                    let v = if op == OP_ROLL {
                        stack.remove(idx)
                    } else {
                        stack[idx].clone()
                    };
                    stack.push(v);
                }
                OP_ROT => {
                    need(stack, 3)?;
                    let n = stack.len();
                    stack.swap(n - 3, n - 2);
                    stack.swap(n - 2, n - 1);
                }
                OP_SWAP => {
                    need(stack, 2)?;
                    let n = stack.len();
                    stack.swap(n - 2, n - 1);
                }
                OP_TUCK => {
                    need(stack, 2)?;
                    let v = top(stack, 1)?.clone();
                    let n = stack.len();
                    stack.insert(n - 2, v);
                }
                OP_SIZE => {
                    let len = top(stack, 1)?.len();
                    stack.push(num::encode(i64::try_from(len).unwrap_or(i64::MAX)));
                }
                OP_EQUAL | OP_EQUALVERIFY => {
                    need(stack, 2)?;
                    let b = pop(stack)?;
                    let a = pop(stack)?;
                    let equal = a == b;
                    if op == OP_EQUALVERIFY {
                        if !equal {
                            stack.push(truth(false));
                            return Err(ScriptError::EqualVerify);
                        }
                    } else {
                        stack.push(truth(equal));
                    }
                }
                OP_1ADD | OP_1SUB | OP_NEGATE | OP_ABS | OP_NOT | OP_0NOTEQUAL => {
                    need(stack, 1)?;
                    let bn = num::decode(top(stack, 1)?, minimal, DEFAULT_MAX_NUM_SIZE)?;
                    let r = match op {
                        OP_1ADD => bn + 1,
                        OP_1SUB => bn - 1,
                        OP_NEGATE => -bn,
                        OP_ABS => bn.abs(),
                        OP_NOT => i64::from(bn == 0),
                        _ => i64::from(bn != 0),
                    };
                    stack.pop();
                    stack.push(num::encode(r));
                }
                OP_ADD
                | OP_SUB
                | OP_BOOLAND
                | OP_BOOLOR
                | OP_NUMEQUAL
                | OP_NUMEQUALVERIFY
                | OP_NUMNOTEQUAL
                | OP_LESSTHAN
                | OP_GREATERTHAN
                | OP_LESSTHANOREQUAL
                | OP_GREATERTHANOREQUAL
                | OP_MIN
                | OP_MAX => {
                    need(stack, 2)?;
                    let a = num::decode(top(stack, 2)?, minimal, DEFAULT_MAX_NUM_SIZE)?;
                    let b = num::decode(top(stack, 1)?, minimal, DEFAULT_MAX_NUM_SIZE)?;
                    let r = match op {
                        OP_ADD => a + b,
                        OP_SUB => a - b,
                        OP_BOOLAND => i64::from(a != 0 && b != 0),
                        OP_BOOLOR => i64::from(a != 0 || b != 0),
                        OP_NUMEQUAL | OP_NUMEQUALVERIFY => i64::from(a == b),
                        OP_NUMNOTEQUAL => i64::from(a != b),
                        OP_LESSTHAN => i64::from(a < b),
                        OP_GREATERTHAN => i64::from(a > b),
                        OP_LESSTHANOREQUAL => i64::from(a <= b),
                        OP_GREATERTHANOREQUAL => i64::from(a >= b),
                        OP_MIN => a.min(b),
                        _ => a.max(b),
                    };
                    stack.truncate(stack.len() - 2);
                    stack.push(num::encode(r));
                    if op == OP_NUMEQUALVERIFY {
                        if r != 0 {
                            stack.pop();
                        } else {
                            return Err(ScriptError::NumEqualVerify);
                        }
                    }
                }
                OP_WITHIN => {
                    need(stack, 3)?;
                    let x = num::decode(top(stack, 3)?, minimal, DEFAULT_MAX_NUM_SIZE)?;
                    let lo = num::decode(top(stack, 2)?, minimal, DEFAULT_MAX_NUM_SIZE)?;
                    let hi = num::decode(top(stack, 1)?, minimal, DEFAULT_MAX_NUM_SIZE)?;
                    stack.truncate(stack.len() - 3);
                    stack.push(truth(lo <= x && x < hi));
                }
                OP_RIPEMD160 | OP_SHA1 | OP_SHA256 | OP_HASH160 | OP_HASH256 => {
                    let v = pop(stack)?;
                    let h: Vec<u8> = match op {
                        OP_RIPEMD160 => Ripemd160::digest(&v).to_vec(),
                        OP_SHA1 => Sha1::digest(&v).to_vec(),
                        OP_SHA256 => Sha256::digest(&v).to_vec(),
                        OP_HASH160 => Ripemd160::digest(Sha256::digest(&v)).to_vec(),
                        _ => crate::hash::sha256d(&v).to_vec(),
                    };
                    stack.push(h);
                }
                OP_CODESEPARATOR => {
                    begin_codehash = pc;
                    execdata.codeseparator_pos = opcode_pos;
                }
                OP_CHECKSIG | OP_CHECKSIGVERIFY => {
                    need(stack, 2)?;
                    let n = stack.len();
                    let deferrable = false_fails_input(
                        op == OP_CHECKSIGVERIFY,
                        flags,
                        final_stack,
                        pc == script.len(),
                    );
                    let ok = eval_checksig(
                        &stack[n - 2],
                        &stack[n - 1],
                        Cow::Borrowed(&script[begin_codehash..]),
                        execdata,
                        flags,
                        checker,
                        sigversion,
                        deferrable,
                    )?;
                    stack.truncate(n - 2);
                    if op == OP_CHECKSIGVERIFY {
                        if !ok {
                            return Err(ScriptError::CheckSigVerify);
                        }
                    } else {
                        stack.push(truth(ok));
                    }
                }
                OP_CHECKSIGADD => {
                    if legacy {
                        return Err(ScriptError::BadOpcode);
                    }
                    need(stack, 3)?;
                    let n = stack.len();
                    let count = num::decode(&stack[n - 2], minimal, DEFAULT_MAX_NUM_SIZE)?;
                    // Tapscript only: Schnorr, which has its own deferral.
                    let ok = eval_checksig(
                        &stack[n - 3],
                        &stack[n - 1],
                        Cow::Borrowed(&script[begin_codehash..]),
                        execdata,
                        flags,
                        checker,
                        sigversion,
                        false,
                    )?;
                    stack.truncate(n - 3);
                    stack.push(num::encode(count + i64::from(ok)));
                }
                OP_CHECKMULTISIG | OP_CHECKMULTISIGVERIFY => {
                    if sigversion == SigVersion::Tapscript {
                        return Err(ScriptError::TapscriptCheckMultisig);
                    }
                    let deferrable = false_fails_input(
                        op == OP_CHECKMULTISIGVERIFY,
                        flags,
                        final_stack,
                        pc == script.len(),
                    );
                    let ok = eval_checkmultisig(
                        stack,
                        &script[begin_codehash..],
                        &mut op_count,
                        flags,
                        checker,
                        sigversion,
                        deferrable,
                    )?;
                    if op == OP_CHECKMULTISIGVERIFY {
                        if !ok {
                            return Err(ScriptError::CheckMultisigVerify);
                        }
                    } else {
                        stack.push(truth(ok));
                    }
                }
                _ => return Err(ScriptError::BadOpcode),
            }
        }
        if stack.len() + altstack.len() > MAX_STACK_SIZE {
            return Err(ScriptError::StackSize);
        }
        opcode_pos = opcode_pos.wrapping_add(1);
    }
    if exec.size != 0 {
        return Err(ScriptError::UnbalancedConditional);
    }
    Ok(())
}
