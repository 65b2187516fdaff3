//! Bitcoin Script: instruction decoding, script templates, the interpreter and sigop counting.

pub mod checksig;
pub mod deferred;
pub mod error;
pub mod flags;
pub mod interpreter;
pub mod num;
pub mod opcodes;
pub mod sigops;
pub mod verify;

use opcodes::{
    OP_0, OP_1, OP_16, OP_1NEGATE, OP_EQUAL, OP_HASH160, OP_PUSHDATA1, OP_PUSHDATA2, OP_PUSHDATA4,
};

pub use error::ScriptError;
pub use flags::ScriptFlags;
pub use interpreter::{eval_script, ExecData, SigVersion};
pub use verify::{
    verify_input, verify_input_cached, verify_input_deferring, verify_script, Deferral,
};

/// Largest stack element (and push) in bytes.
pub const MAX_SCRIPT_ELEMENT_SIZE: usize = 520;
/// Non-push opcodes allowed per legacy/v0 script.
pub const MAX_OPS_PER_SCRIPT: usize = 201;
/// Public keys allowed per CHECKMULTISIG.
pub const MAX_PUBKEYS_PER_MULTISIG: i32 = 20;
/// Largest legacy/v0 script in bytes.
pub const MAX_SCRIPT_SIZE: usize = 10_000;
/// Combined stack and altstack depth limit.
pub const MAX_STACK_SIZE: usize = 1000;

/// A script instruction could not be decoded (a push runs past the end of the script).
/// `pc` is where Core's `GetScriptOp` leaves its iterator on that failure, which matters for
/// the legacy sighash's scriptCode serialisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadOp {
    pub pc: usize,
}

/// Decodes the instruction at `*pc` exactly as Core's `GetScriptOp`, advancing `*pc`.
/// Returns the opcode and its push data (empty for non-push opcodes).
///
/// # Errors
/// [`BadOp`] when the script ends inside the instruction (also at `*pc >= script.len()`).
#[inline]
pub fn read_op<'a>(script: &'a [u8], pc: &mut usize) -> Result<(u8, &'a [u8]), BadOp> {
    let Some(&op) = script.get(*pc) else {
        return Err(BadOp { pc: *pc });
    };
    *pc += 1;
    if op > OP_PUSHDATA4 {
        return Ok((op, &[]));
    }
    let len_bytes = match op {
        OP_PUSHDATA1 => 1,
        OP_PUSHDATA2 => 2,
        OP_PUSHDATA4 => 4,
        _ => 0,
    };
    let size = if len_bytes == 0 {
        usize::from(op)
    } else {
        let Some(b) = script.get(*pc..*pc + len_bytes) else {
            return Err(BadOp { pc: *pc });
        };
        *pc += len_bytes;
        b.iter()
            .rev()
            .fold(0usize, |acc, &x| (acc << 8) | usize::from(x))
    };
    let end = pc.checked_add(size).filter(|&e| e <= script.len());
    let Some(end) = end else {
        return Err(BadOp { pc: *pc });
    };
    let data = &script[*pc..end];
    *pc = end;
    Ok((op, data))
}

/// Iterator over `(opcode, push data)` that stops at the first undecodable instruction
/// (like Core's `while (script.GetOp(pc, opcode))` loops).
#[derive(Debug, Clone)]
pub struct Instructions<'a> {
    script: &'a [u8],
    pc: usize,
    failed: bool,
}

impl<'a> Instructions<'a> {
    #[must_use]
    pub fn new(script: &'a [u8]) -> Self {
        Self {
            script,
            pc: 0,
            failed: false,
        }
    }

    /// Current position (after the last instruction returned).
    #[must_use]
    pub fn pc(&self) -> usize {
        self.pc
    }

    /// Whether iteration stopped on an undecodable instruction rather than the script end.
    #[must_use]
    pub fn failed(&self) -> bool {
        self.failed
    }
}

impl<'a> Iterator for Instructions<'a> {
    type Item = (u8, &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pc >= self.script.len() {
            return None;
        }
        match read_op(self.script, &mut self.pc) {
            Ok(x) => Some(x),
            Err(e) => {
                self.pc = e.pc;
                self.failed = true;
                None
            }
        }
    }
}

/// Core's `CScript::IsPushOnly`: only pushes and `OP_1NEGATE`..`OP_16` (incl. `OP_RESERVED`).
#[must_use]
pub fn is_push_only(script: &[u8]) -> bool {
    let mut pc = 0;
    while pc < script.len() {
        match read_op(script, &mut pc) {
            Ok((op, _)) if op <= OP_16 => {}
            _ => return false,
        }
    }
    true
}

/// Core's `CScript::IsPayToScriptHash`.
#[must_use]
pub fn is_p2sh(script: &[u8]) -> bool {
    script.len() == 23 && script[0] == OP_HASH160 && script[1] == 0x14 && script[22] == OP_EQUAL
}

/// Core's `CScript::IsWitnessProgram`: `(version, program)` when the script is one.
#[must_use]
pub fn witness_program(script: &[u8]) -> Option<(u8, &[u8])> {
    if script.len() < 4 || script.len() > 42 {
        return None;
    }
    let v = script[0];
    if v != OP_0 && !(OP_1..=OP_16).contains(&v) {
        return None;
    }
    if usize::from(script[1]) + 2 == script.len() {
        Some((opcodes::decode_op_n(v), &script[2..]))
    } else {
        None
    }
}

/// Pay-to-anchor (BIP-less P2A, `OP_1 <0x4e73>`) as a witness program.
#[must_use]
pub fn is_pay_to_anchor(version: u8, program: &[u8]) -> bool {
    version == 1 && program == [0x4e, 0x73]
}

/// Core's `CastToBool`: false for any zero, including negative zero.
#[must_use]
pub fn cast_to_bool(v: &[u8]) -> bool {
    match v.split_last() {
        None => false,
        Some((&last, rest)) => rest.iter().any(|&b| b != 0) || (last != 0 && last != 0x80),
    }
}

/// Core's `CheckMinimalPush`: whether `data` was pushed with the smallest possible opcode.
#[must_use]
pub fn check_minimal_push(data: &[u8], op: u8) -> bool {
    match data.len() {
        0 => op == OP_0,
        1 if (1..=16).contains(&data[0]) => op == OP_1 + (data[0] - 1),
        1 if data[0] == 0x81 => op == OP_1NEGATE,
        n if n <= 75 => usize::from(op) == n,
        n if n <= 255 => op == OP_PUSHDATA1,
        n if n <= 65535 => op == OP_PUSHDATA2,
        _ => true,
    }
}

/// Appends `CScript() << data` (a push of `data` with the shortest length prefix).
pub fn push_data(out: &mut Vec<u8>, data: &[u8]) {
    let n = data.len();
    if n < usize::from(OP_PUSHDATA1) {
        out.push(n as u8);
    } else if n <= 0xff {
        out.push(OP_PUSHDATA1);
        out.push(n as u8);
    } else if n <= 0xffff {
        out.push(OP_PUSHDATA2);
        out.extend_from_slice(&(n as u16).to_le_bytes());
    } else {
        out.push(OP_PUSHDATA4);
        out.extend_from_slice(&(n as u32).to_le_bytes());
    }
    out.extend_from_slice(data);
}

/// Core's `FindAndDelete`: removes every occurrence of `pattern` that starts on an instruction
/// boundary. Returns the number removed; `script` is only rewritten when that is non-zero.
pub fn find_and_delete(script: &mut Vec<u8>, pattern: &[u8]) -> usize {
    if pattern.is_empty() {
        return 0;
    }
    let mut found = 0;
    let mut result = Vec::new();
    let (mut pc, mut pc2) = (0usize, 0usize);
    let end = script.len();
    loop {
        result.extend_from_slice(&script[pc2..pc]);
        while end - pc >= pattern.len() && script[pc..pc + pattern.len()] == *pattern {
            pc += pattern.len();
            found += 1;
        }
        pc2 = pc;
        if pc >= end || read_op(script, &mut pc).is_err() {
            break;
        }
    }
    if found > 0 {
        result.extend_from_slice(&script[pc2..end]);
        *script = result;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_op_failure_positions_match_core() {
        // PUSHDATA2 with a one-byte length: pc stays after the opcode.
        let mut pc = 0;
        assert_eq!(read_op(&[OP_PUSHDATA2, 1], &mut pc), Err(BadOp { pc: 1 }));
        // Push of 5 with 2 bytes present: pc after the opcode.
        let mut pc = 0;
        assert_eq!(read_op(&[5, 1, 2], &mut pc), Err(BadOp { pc: 1 }));
        let mut pc = 0;
        assert_eq!(
            read_op(&[OP_PUSHDATA1, 3, 1], &mut pc),
            Err(BadOp { pc: 2 })
        );
    }

    #[test]
    fn find_and_delete_as_core() {
        // Cases from Core's script_FindAndDelete unit test.
        let cases: &[(&str, &str, usize, &str)] = &[
            ("5152", "", 0, "5152"),
            ("515253", "52", 1, "5153"),
            ("535153535453", "53", 4, "5154"),
            ("0302ff03", "0302ff03", 1, ""),
            ("0302ff030302ff03", "0302ff03", 2, ""),
            ("0302ff030302ff03", "02", 0, "0302ff030302ff03"),
            ("0302ff030302ff03", "ff", 0, "0302ff030302ff03"),
            ("0302ff030302ff03", "03", 2, "02ff0302ff03"),
            ("02feed5169", "feed51", 0, "02feed5169"),
            ("02feed5169", "02feed51", 1, "69"),
            ("516902feed5169", "feed51", 0, "516902feed5169"),
            ("516902feed5169", "02feed51", 1, "516969"),
            ("00005151", "0051", 1, "0051"),
            ("000051005151", "0051", 2, "0051"),
            ("0003feed", "03feed", 1, "00"),
            ("0003feed", "00", 1, "03feed"),
        ];
        for (s, d, n, expect) in cases {
            let mut script = hex::decode(s).unwrap();
            assert_eq!(
                find_and_delete(&mut script, &hex::decode(d).unwrap()),
                *n,
                "{s} - {d}"
            );
            assert_eq!(hex::encode(&script), *expect, "{s} - {d}");
        }
    }

    #[test]
    fn templates() {
        assert!(cast_to_bool(&[0, 1]));
        assert!(!cast_to_bool(&[0, 0x80]));
        assert!(!cast_to_bool(&[]));
        assert!(is_push_only(&[0x50, 0x51]));
        assert!(!is_push_only(&[0x61]));
        assert_eq!(
            witness_program(&[0x51, 0x02, 0x4e, 0x73]),
            Some((1, &[0x4e, 0x73][..]))
        );
    }
}
