//! The original (pre-segwit) signature hash, Core's `CTransactionSignatureSerializer`, with its
//! quirks: OP_CODESEPARATORs removed from the scriptCode (and a truncated trailing push cut
//! short exactly as Core's iterator leaves it), and SIGHASH_SINGLE without a matching output
//! hashing to 1.

use super::{HashWriter, SIGHASH_ANYONECANPAY, SIGHASH_NONE, SIGHASH_SINGLE};
use crate::hash::Hash256;
use crate::script::opcodes::OP_CODESEPARATOR;
use crate::script::read_op;
use crate::tx::Transaction;

/// The "hash" Core returns for SIGHASH_SINGLE without a corresponding output.
pub const SIGHASH_ONE: Hash256 = {
    let mut h = [0u8; 32];
    h[0] = 1;
    h
};

/// Legacy signature hash of input `n_in` of `tx` for `script_code` and the full 32-bit
/// `hash_type` (only its low byte is normally set, but the serialisation carries all 32 bits).
/// Returns [`SIGHASH_ONE`] when `n_in` is out of range (Core asserts instead).
#[must_use]
pub fn legacy_sighash(
    tx: &Transaction<'_>,
    n_in: usize,
    script_code: &[u8],
    hash_type: i32,
) -> Hash256 {
    let base = hash_type.to_le_bytes()[0] & 0x1f;
    let single = base == SIGHASH_SINGLE;
    let none = base == SIGHASH_NONE;
    let anyone = hash_type & i32::from(SIGHASH_ANYONECANPAY) != 0;
    if n_in >= tx.inputs.len() || (single && n_in >= tx.outputs.len()) {
        return SIGHASH_ONE;
    }
    let mut h = HashWriter::new();
    h.write(&tx.version.to_le_bytes());
    let n_inputs = if anyone { 1 } else { tx.inputs.len() };
    h.write_compact(n_inputs);
    for k in 0..n_inputs {
        let idx = if anyone { n_in } else { k };
        let input = &tx.inputs[idx];
        h.write(input.prev_txid)
            .write(&input.prev_vout.to_le_bytes());
        if idx == n_in {
            write_script_code(&mut h, script_code);
        } else {
            h.write_compact(0);
        }
        if idx != n_in && (single || none) {
            h.write(&0u32.to_le_bytes());
        } else {
            h.write(&input.sequence.to_le_bytes());
        }
    }
    let n_outputs = if none {
        0
    } else if single {
        n_in + 1
    } else {
        tx.outputs.len()
    };
    h.write_compact(n_outputs);
    for (k, out) in tx.outputs.iter().take(n_outputs).enumerate() {
        if single && k != n_in {
            // CTxOut() : value -1, empty script
            h.write(&(-1i64).to_le_bytes()).write_compact(0);
        } else {
            h.write(out.raw);
        }
    }
    h.write(&tx.lock_time.to_le_bytes());
    h.write(&hash_type.to_le_bytes());
    h.sha256d()
}

/// Core's `SerializeScriptCode`: the length counts every byte except OP_CODESEPARATORs, and the
/// bytes written are the runs between separators up to where decoding stopped.
fn write_script_code(h: &mut HashWriter, script: &[u8]) {
    let mut pc = 0;
    let mut separators = 0;
    while pc < script.len() {
        match read_op(script, &mut pc) {
            Ok((OP_CODESEPARATOR, _)) => separators += 1,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    h.write_compact(script.len() - separators);
    let mut pc = 0;
    let mut begin = 0;
    while pc < script.len() {
        match read_op(script, &mut pc) {
            Ok((OP_CODESEPARATOR, _)) => {
                h.write(&script[begin..pc - 1]);
                begin = pc;
            }
            Ok(_) => {}
            Err(e) => {
                pc = e.pc;
                break;
            }
        }
    }
    if begin != script.len() {
        h.write(&script[begin..pc]);
    }
}
