//! Counting the signatures an input carries, without its spent output.
//!
//! The race's lower bound needs the number of signature verifications in a chain. Every
//! signature present in an input must be verified at least once, so counting the pushes that
//! are shaped like signatures gives a lower bound on verification work (a CHECKMULTISIG may try
//! more keys than it has signatures; that only makes the real work larger):
//! - a witness of one 64/65-byte element is a taproot key-path spend: one Schnorr signature;
//! - a witness ending in a taproot control block (0xc0/0xc1 leaf version, 33 + 32k bytes)
//!   is a script-path spend: each 64/65-byte stack element is a Schnorr signature;
//! - otherwise every witness element and every scriptSig push shaped like a DER signature
//!   plus sighash byte (0x30, length byte matching, 9..=73 bytes) is one ECDSA signature.

use bitcoin::script::Instruction;
use bitcoin::TxIn;
use serde::{Deserialize, Serialize};

/// Signatures by algorithm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigCount {
    pub ecdsa: u64,
    pub schnorr: u64,
}

impl SigCount {
    #[must_use]
    pub fn total(&self) -> u64 {
        self.ecdsa + self.schnorr
    }
}

impl std::ops::AddAssign for SigCount {
    fn add_assign(&mut self, rhs: Self) {
        self.ecdsa += rhs.ecdsa;
        self.schnorr += rhs.schnorr;
    }
}

/// Whether `b` looks like a DER-encoded ECDSA signature followed by a sighash byte.
#[must_use]
pub fn looks_like_ecdsa_sig(b: &[u8]) -> bool {
    (9..=73).contains(&b.len()) && b[0] == 0x30 && usize::from(b[1]) + 3 == b.len()
}

fn is_schnorr_sig(b: &[u8]) -> bool {
    b.len() == 64 || b.len() == 65
}

fn is_control_block(b: &[u8]) -> bool {
    b.len() >= 33 && (b.len() - 33) % 32 == 0 && b[0] & 0xfe == 0xc0
}

/// Signatures carried by one input (see the module docs for the rules).
#[must_use]
pub fn count_input_signatures(input: &TxIn) -> SigCount {
    let mut n = SigCount::default();
    let mut stack: Vec<&[u8]> = input.witness.iter().collect();
    // BIP341: a last element starting with 0x50 (with ≥ 2 elements) is the annex.
    if stack.len() >= 2 && stack.last().is_some_and(|a| a.first() == Some(&0x50)) {
        stack.pop();
    }
    if stack.len() == 1 && is_schnorr_sig(stack[0]) {
        n.schnorr += 1;
    } else if stack.len() >= 2 && stack.last().is_some_and(|c| is_control_block(c)) {
        // Script path: the last two elements are the control block and the leaf script.
        n.schnorr += stack[..stack.len() - 2]
            .iter()
            .filter(|e| is_schnorr_sig(e))
            .count() as u64;
    } else {
        n.ecdsa += stack.iter().filter(|e| looks_like_ecdsa_sig(e)).count() as u64;
    }
    n.ecdsa += input
        .script_sig
        .instructions()
        .filter_map(Result::ok)
        .filter(
            |ins| matches!(ins, Instruction::PushBytes(p) if looks_like_ecdsa_sig(p.as_bytes())),
        )
        .count() as u64;
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::{ScriptBuf, Witness};

    fn der_sig() -> Vec<u8> {
        // 0x30 len 0x02 0x20 r(32) 0x02 0x20 s(32) + sighash byte = 71 bytes.
        let mut v = vec![0x30, 68, 0x02, 32];
        v.extend([1u8; 32]);
        v.extend([0x02, 32]);
        v.extend([2u8; 32]);
        v.push(0x01);
        v
    }

    fn input(script_sig: ScriptBuf, witness: &[Vec<u8>]) -> TxIn {
        TxIn {
            script_sig,
            witness: Witness::from_slice(witness),
            ..TxIn::default()
        }
    }

    #[test]
    fn p2wpkh_and_p2pkh_count_one_ecdsa() {
        let w = input(ScriptBuf::new(), &[der_sig(), vec![2u8; 33]]);
        assert_eq!(
            count_input_signatures(&w),
            SigCount {
                ecdsa: 1,
                schnorr: 0
            }
        );
        let script_sig = bitcoin::script::Builder::new()
            .push_slice(<&bitcoin::script::PushBytes>::try_from(der_sig().as_slice()).unwrap())
            .push_slice([2u8; 33])
            .into_script();
        let l = input(script_sig, &[]);
        assert_eq!(
            count_input_signatures(&l),
            SigCount {
                ecdsa: 1,
                schnorr: 0
            }
        );
    }

    #[test]
    fn taproot_key_and_script_paths_count_schnorr() {
        let key = input(ScriptBuf::new(), &[vec![7u8; 64]]);
        assert_eq!(
            count_input_signatures(&key),
            SigCount {
                ecdsa: 0,
                schnorr: 1
            }
        );
        let mut control = vec![0xc0];
        control.extend([3u8; 32]);
        let script = input(
            ScriptBuf::new(),
            &[vec![7u8; 64], vec![8u8; 65], vec![0x51], control],
        );
        assert_eq!(
            count_input_signatures(&script),
            SigCount {
                ecdsa: 0,
                schnorr: 2
            }
        );
    }

    #[test]
    fn non_signatures_are_not_counted() {
        let w = input(ScriptBuf::new(), &[vec![0x30, 5, 1, 2], vec![0u8; 40]]);
        assert_eq!(count_input_signatures(&w), SigCount::default());
        assert!(!looks_like_ecdsa_sig(&[]));
    }
}
