//! Signature operation counting (Core's `GetSigOpCount`, `GetP2SHSigOpCount`,
//! `CountWitnessSigOps`, `GetTransactionSigOpCost`).

use super::flags::ScriptFlags;
use super::opcodes::{
    decode_op_n, OP_1, OP_16, OP_CHECKMULTISIG, OP_CHECKMULTISIGVERIFY, OP_CHECKSIG,
    OP_CHECKSIGVERIFY,
};
use super::{is_p2sh, is_push_only, read_op, witness_program, MAX_PUBKEYS_PER_MULTISIG};
use crate::sighash::SpentOutput;
use crate::tx::{Transaction, Witness, WITNESS_SCALE_FACTOR};

/// Core's `CScript::GetSigOpCount(fAccurate)`. Counting stops at the first undecodable
/// instruction.
#[must_use]
pub fn legacy_sigop_count(script: &[u8], accurate: bool) -> u32 {
    let mut n = 0u32;
    let mut last = 0xffu8; // OP_INVALIDOPCODE
    let mut pc = 0;
    while pc < script.len() {
        let Ok((op, _)) = read_op(script, &mut pc) else {
            break;
        };
        match op {
            OP_CHECKSIG | OP_CHECKSIGVERIFY => n += 1,
            OP_CHECKMULTISIG | OP_CHECKMULTISIGVERIFY => {
                n += if accurate && (OP_1..=OP_16).contains(&last) {
                    u32::from(decode_op_n(last))
                } else {
                    MAX_PUBKEYS_PER_MULTISIG as u32
                };
            }
            _ => {}
        }
        last = op;
    }
    n
}

/// Core's `CScript::GetSigOpCount(scriptSig)`: for P2SH, the accurate count of the redeem
/// script (the last push of a push-only scriptSig); otherwise the accurate count of the script.
#[must_use]
pub fn p2sh_sigop_count(script_pubkey: &[u8], script_sig: &[u8]) -> u32 {
    if !is_p2sh(script_pubkey) {
        return legacy_sigop_count(script_pubkey, true);
    }
    let mut pc = 0;
    let mut last: &[u8] = &[];
    while pc < script_sig.len() {
        match read_op(script_sig, &mut pc) {
            Ok((op, data)) if op <= OP_16 => last = data,
            _ => return 0,
        }
    }
    legacy_sigop_count(last, true)
}

fn witness_sigops(version: u8, program: &[u8], witness: &Witness<'_>) -> u32 {
    if version == 0 {
        if program.len() == 20 {
            return 1;
        }
        if program.len() == 32 {
            if let Some(script) = witness.last() {
                return legacy_sigop_count(script, true);
            }
        }
    }
    0
}

/// Core's `CountWitnessSigOps`.
#[must_use]
pub fn witness_sigop_count(
    script_sig: &[u8],
    script_pubkey: &[u8],
    witness: &Witness<'_>,
    flags: ScriptFlags,
) -> u32 {
    if !flags.contains(ScriptFlags::WITNESS) {
        return 0;
    }
    if let Some((v, p)) = witness_program(script_pubkey) {
        return witness_sigops(v, p, witness);
    }
    if is_p2sh(script_pubkey) && is_push_only(script_sig) {
        let mut pc = 0;
        let mut last: &[u8] = &[];
        while pc < script_sig.len() {
            match read_op(script_sig, &mut pc) {
                Ok((_, data)) => last = data,
                Err(_) => break,
            }
        }
        if let Some((v, p)) = witness_program(last) {
            return witness_sigops(v, p, witness);
        }
    }
    0
}

/// Core's `GetLegacySigOpCount`: inaccurate counts over every scriptSig and scriptPubKey.
#[must_use]
pub fn legacy_tx_sigops(tx: &Transaction<'_>) -> u32 {
    let ins: u32 = tx
        .inputs
        .iter()
        .map(|i| legacy_sigop_count(i.script_sig, false))
        .sum();
    let outs: u32 = tx
        .outputs
        .iter()
        .map(|o| legacy_sigop_count(o.script_pubkey, false))
        .sum();
    ins + outs
}

/// Core's `GetP2SHSigOpCount` (0 for coinbases). `spent` is in input order.
#[must_use]
pub fn p2sh_tx_sigops(tx: &Transaction<'_>, spent: &[SpentOutput<'_>]) -> u32 {
    if tx.is_coinbase() {
        return 0;
    }
    tx.inputs
        .iter()
        .zip(spent)
        .filter(|(_, s)| is_p2sh(s.script_pubkey))
        .map(|(i, s)| p2sh_sigop_count(s.script_pubkey, i.script_sig))
        .sum()
}

/// Core's `GetTransactionSigOpCost`: legacy and P2SH sigops weighted by 4, plus witness sigops.
/// `spent` holds the outputs spent by each input (ignored for coinbases).
#[must_use]
pub fn sigop_cost(tx: &Transaction<'_>, spent: &[SpentOutput<'_>], flags: ScriptFlags) -> u64 {
    let scale = WITNESS_SCALE_FACTOR as u64;
    let mut cost = u64::from(legacy_tx_sigops(tx)) * scale;
    if tx.is_coinbase() {
        return cost;
    }
    if flags.contains(ScriptFlags::P2SH) {
        cost += u64::from(p2sh_tx_sigops(tx, spent)) * scale;
    }
    for (i, s) in tx.inputs.iter().zip(spent) {
        cost += u64::from(witness_sigop_count(
            i.script_sig,
            s.script_pubkey,
            &i.witness,
            flags,
        ));
    }
    cost
}

#[cfg(test)]
mod tests {
    use super::super::opcodes::{OP_0, OP_1, OP_2, OP_ENDIF, OP_EQUAL, OP_HASH160, OP_IF};
    use super::super::push_data;
    use super::*;
    use crate::tx::Witness;

    fn p2sh_of(script: &[u8]) -> Vec<u8> {
        use ripemd::{Digest, Ripemd160};
        let h = Ripemd160::digest(crate::hash::sha256(script));
        let mut s = vec![OP_HASH160];
        push_data(&mut s, &h);
        s.push(OP_EQUAL);
        s
    }

    /// Core's sigopcount_tests GetSigOpCount case.
    #[test]
    fn core_get_sigop_count() {
        assert_eq!(legacy_sigop_count(&[], false), 0);
        let dummy = [0u8; 20];
        let mut s1 = vec![OP_1];
        push_data(&mut s1, &dummy);
        push_data(&mut s1, &dummy);
        s1.extend_from_slice(&[OP_2, OP_CHECKMULTISIG]);
        assert_eq!(legacy_sigop_count(&s1, true), 2);
        s1.extend_from_slice(&[OP_IF, OP_CHECKSIG, OP_ENDIF]);
        assert_eq!(legacy_sigop_count(&s1, true), 3);
        assert_eq!(legacy_sigop_count(&s1, false), 21);
        let p2sh = p2sh_of(&s1);
        let mut sig = vec![OP_0];
        push_data(&mut sig, &s1);
        assert_eq!(p2sh_sigop_count(&p2sh, &sig), 3);
        assert_eq!(legacy_sigop_count(&p2sh, true), 0);
        // Non-push scriptSig: 0.
        sig.push(OP_CHECKSIG);
        assert_eq!(p2sh_sigop_count(&p2sh, &sig), 0);
    }

    #[test]
    fn witness_sigops_p2wpkh_and_p2sh_wrapped() {
        let w = Witness::default();
        let p2wpkh = [&[0u8, 20][..], &[7u8; 20][..]].concat();
        assert_eq!(
            witness_sigop_count(&[], &p2wpkh, &w, ScriptFlags::WITNESS | ScriptFlags::P2SH),
            1
        );
        assert_eq!(witness_sigop_count(&[], &p2wpkh, &w, ScriptFlags::P2SH), 0);
        let mut sig = Vec::new();
        push_data(&mut sig, &p2wpkh);
        assert_eq!(
            witness_sigop_count(
                &sig,
                &p2sh_of(&p2wpkh),
                &w,
                ScriptFlags::WITNESS | ScriptFlags::P2SH
            ),
            1
        );
        // P2WSH with an empty witness counts nothing.
        let p2wsh = [&[0u8, 32][..], &[7u8; 32][..]].concat();
        assert_eq!(
            witness_sigop_count(&[], &p2wsh, &w, ScriptFlags::WITNESS | ScriptFlags::P2SH),
            0
        );
    }
}
