//! Signet's block solution (BIP325, Core's `signet.cpp` `CheckSignetBlockSolution`).
//!
//! The block's signer proves consent by spending a virtual output locked with the network's
//! challenge script. The solution (scriptSig and witness) rides in the coinbase's witness
//! commitment output after the `ecc7daa2` header; the signed message commits to the block
//! header fields and a merkle root computed with that solution removed.

use super::block_check::witness_commitment_index;
use super::params::Params;
use crate::block::Block;
use crate::encode::{write_compact_size, Reader};
use crate::hash::Hash256;
use crate::merkle::merkle_root;
use crate::script::flags::ScriptFlags;
use crate::script::{push_data, read_op, verify_input};
use crate::sigcheck::SchnorrMode;
use crate::sighash::{PrecomputedTxData, SpentOutput};
use crate::tx::Transaction;

/// Marks the signet solution inside the witness commitment script.
pub const SIGNET_HEADER: [u8; 4] = [0xec, 0xc7, 0xda, 0xa2];

const OP_0: u8 = 0x00;
const OP_RETURN: u8 = 0x6a;

/// Why a signet block solution is rejected (Core reports all as `bad-signet-blksig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignetError {
    /// No coinbase, no witness commitment, or an unparsable solution.
    #[error("bad-signet-blksig")]
    Malformed,
    /// The solution does not satisfy the challenge.
    #[error("bad-signet-blksig")]
    Invalid,
}

/// Core's `FetchAndClearCommitmentSection`: the data after the first push that starts with
/// `SIGNET_HEADER` (and has more), plus the commitment script re-encoded with that data
/// removed. Pushes are re-encoded minimally and parsing stops at the first bad opcode, exactly
/// as Core's `CScript` round trip does.
fn fetch_and_clear(script: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut replacement = Vec::with_capacity(script.len());
    let mut found: Option<Vec<u8>> = None;
    let mut pc = 0;
    while pc < script.len() {
        let Ok((op, data)) = read_op(script, &mut pc) else {
            break;
        };
        if data.is_empty() {
            replacement.push(op);
            continue;
        }
        if found.is_none() && data.len() > SIGNET_HEADER.len() && data.starts_with(&SIGNET_HEADER) {
            found = Some(data[SIGNET_HEADER.len()..].to_vec());
            push_data(&mut replacement, &SIGNET_HEADER);
        } else {
            push_data(&mut replacement, data);
        }
    }
    found.map(|solution| (solution, replacement))
}

fn write_tx(
    out: &mut Vec<u8>,
    prevout: (&Hash256, u32),
    script_sig: &[u8],
    witness: &[&[u8]],
    script_pubkey: &[u8],
) {
    out.extend_from_slice(&0u32.to_le_bytes()); // version 0
    let has_witness = !witness.is_empty();
    if has_witness {
        out.extend_from_slice(&[0, 1]);
    }
    out.push(1);
    out.extend_from_slice(prevout.0);
    out.extend_from_slice(&prevout.1.to_le_bytes());
    write_compact_size(out, script_sig.len() as u64);
    out.extend_from_slice(script_sig);
    out.extend_from_slice(&0u32.to_le_bytes()); // sequence 0
    out.push(1);
    out.extend_from_slice(&0i64.to_le_bytes());
    write_compact_size(out, script_pubkey.len() as u64);
    out.extend_from_slice(script_pubkey);
    if has_witness {
        write_compact_size(out, witness.len() as u64);
        for item in witness {
            write_compact_size(out, item.len() as u64);
            out.extend_from_slice(item);
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes()); // lock time 0
}

/// Re-serialises `tx` with output `index`'s script replaced (for the modified coinbase txid,
/// which excludes witnesses).
fn txid_with_output_script(tx: &Transaction<'_>, index: usize, script: &[u8]) -> Hash256 {
    let mut out = Vec::with_capacity(tx.base_size() + script.len());
    out.extend_from_slice(&tx.version.to_le_bytes());
    write_compact_size(&mut out, tx.inputs.len() as u64);
    for i in &tx.inputs {
        out.extend_from_slice(i.raw);
    }
    write_compact_size(&mut out, tx.outputs.len() as u64);
    for (n, o) in tx.outputs.iter().enumerate() {
        if n == index {
            out.extend_from_slice(&o.value.to_le_bytes());
            write_compact_size(&mut out, script.len() as u64);
            out.extend_from_slice(script);
        } else {
            out.extend_from_slice(o.raw);
        }
    }
    out.extend_from_slice(&tx.lock_time.to_le_bytes());
    crate::hash::sha256d(&out)
}

/// Core's `CheckSignetBlockSolution` against `challenge`. The genesis block always passes.
///
/// # Errors
/// [`SignetError`] (`bad-signet-blksig`).
pub fn check_signet_block_solution(
    block: &Block<'_>,
    challenge: &[u8],
    params: &Params,
) -> Result<(), SignetError> {
    if block.header.block_hash() == params.genesis_hash {
        return Ok(());
    }
    let cb = block.transactions.first().ok_or(SignetError::Malformed)?;
    let cidx = witness_commitment_index(block).ok_or(SignetError::Malformed)?;
    let commitment = cb.outputs[cidx].script_pubkey;

    let mut script_sig: &[u8] = &[];
    let mut witness: Vec<&[u8]> = Vec::new();
    let solution_and_script = fetch_and_clear(commitment);
    let modified_script: &[u8] = match &solution_and_script {
        // No solution: allowed, so that OP_TRUE works as a trivial challenge.
        None => commitment,
        Some((solution, replacement)) => {
            let mut r = Reader::new(solution);
            script_sig = r.read_var_bytes().map_err(|_| SignetError::Malformed)?;
            let n = r.read_compact_size().map_err(|_| SignetError::Malformed)?;
            for _ in 0..n {
                witness.push(r.read_var_bytes().map_err(|_| SignetError::Malformed)?);
            }
            if r.remaining() != 0 {
                return Err(SignetError::Malformed);
            }
            replacement
        }
    };

    let mut leaves: Vec<Hash256> = Vec::with_capacity(block.transactions.len());
    leaves.push(txid_with_output_script(cb, cidx, modified_script));
    leaves.extend(block.transactions.iter().skip(1).map(Transaction::txid));
    let signet_merkle = merkle_root(&leaves).0;

    let mut block_data = Vec::with_capacity(72);
    block_data.extend_from_slice(&block.header.version.to_le_bytes());
    block_data.extend_from_slice(&block.header.prev_blockhash);
    block_data.extend_from_slice(&signet_merkle);
    block_data.extend_from_slice(&block.header.time.to_le_bytes());
    let mut spend_sig = vec![OP_0];
    push_data(&mut spend_sig, &block_data);

    let mut to_spend = Vec::new();
    write_tx(
        &mut to_spend,
        (&[0; 32], u32::MAX),
        &spend_sig,
        &[],
        challenge,
    );
    let to_spend_txid = crate::hash::sha256d(&to_spend);

    let mut to_sign = Vec::new();
    write_tx(
        &mut to_sign,
        (&to_spend_txid, 0),
        script_sig,
        &witness,
        &[OP_RETURN],
    );
    let tx = Transaction::parse_exact(&to_sign).map_err(|_| SignetError::Malformed)?;
    let spent = [SpentOutput {
        value: 0,
        script_pubkey: challenge,
    }];
    let pre = PrecomputedTxData::new(&tx, &spent);
    let flags =
        ScriptFlags::P2SH | ScriptFlags::WITNESS | ScriptFlags::DERSIG | ScriptFlags::NULLDUMMY;
    verify_input(&tx, 0, &spent, &pre, flags, SchnorrMode::Verify).map_err(|_| SignetError::Invalid)
}
