//! BIP341/342 signature hash (`TapSighash`) for taproot key-path and tapscript spends.

use super::{
    HashWriter, PrecomputedTxData, SpentOutput, SIGHASH_ALL, SIGHASH_ANYONECANPAY, SIGHASH_DEFAULT,
    SIGHASH_SINGLE,
};
use crate::hash::{sha256, Hash256};
use crate::tx::Transaction;

/// Script-path context committed to by tapscript signatures (BIP342).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TapscriptContext {
    pub tapleaf_hash: Hash256,
    /// Opcode position of the last executed OP_CODESEPARATOR, or `u32::MAX`.
    pub codeseparator_pos: u32,
}

/// Why a taproot signature hash could not be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TaprootSighashError {
    /// Not one of 0x00..=0x03, 0x81..=0x83, or SIGHASH_SINGLE without a matching output.
    #[error("invalid taproot sighash type")]
    InvalidHashType,
    /// The precomputed data lacks the spent outputs (or the input index is out of range).
    #[error("spent outputs missing for taproot sighash")]
    MissingSpentOutputs,
}

/// BIP341 signature hash for input `n_in`. `annex_hash` is SHA256 of the CompactSize-prefixed
/// annex when present; `script` is `Some` for script-path (tapscript) spends.
///
/// # Errors
/// [`TaprootSighashError`].
pub fn taproot_sighash(
    tx: &Transaction<'_>,
    n_in: usize,
    spent: &[SpentOutput<'_>],
    pre: &PrecomputedTxData,
    hash_type: u8,
    annex_hash: Option<&Hash256>,
    script: Option<&TapscriptContext>,
) -> Result<Hash256, TaprootSighashError> {
    let (
        Some(prevouts),
        Some(amounts),
        Some(scripts),
        Some(sequences),
        Some(outputs),
        Some(input),
        Some(spent_here),
    ) = (
        pre.prevouts_single.as_ref(),
        pre.spent_amounts_single.as_ref(),
        pre.spent_scripts_single.as_ref(),
        pre.sequences_single.as_ref(),
        pre.outputs_single.as_ref(),
        tx.inputs.get(n_in),
        spent.get(n_in),
    )
    else {
        return Err(TaprootSighashError::MissingSpentOutputs);
    };
    if !(hash_type <= 0x03 || (0x81..=0x83).contains(&hash_type)) {
        return Err(TaprootSighashError::InvalidHashType);
    }
    let output_type = if hash_type == SIGHASH_DEFAULT {
        SIGHASH_ALL
    } else {
        hash_type & 3
    };
    let anyone = hash_type & SIGHASH_ANYONECANPAY != 0;
    let mut h = HashWriter::tagged(b"TapSighash");
    h.write(&[0u8, hash_type])
        .write(&tx.version.to_le_bytes())
        .write(&tx.lock_time.to_le_bytes());
    if !anyone {
        h.write(prevouts)
            .write(amounts)
            .write(scripts)
            .write(sequences);
    }
    if output_type == SIGHASH_ALL {
        h.write(outputs);
    }
    let ext_flag = u8::from(script.is_some());
    h.write(&[(ext_flag << 1) | u8::from(annex_hash.is_some())]);
    if anyone {
        h.write(input.prev_txid)
            .write(&input.prev_vout.to_le_bytes())
            .write(&spent_here.value.to_le_bytes())
            .write_var_bytes(spent_here.script_pubkey)
            .write(&input.sequence.to_le_bytes());
    } else {
        // n_in < inputs.len() <= MAX_SIZE, so it fits in u32.
        h.write(&(n_in as u32).to_le_bytes());
    }
    if let Some(a) = annex_hash {
        h.write(a);
    }
    if output_type == SIGHASH_SINGLE {
        let out = tx
            .outputs
            .get(n_in)
            .ok_or(TaprootSighashError::InvalidHashType)?;
        h.write(&sha256(out.raw));
    }
    if let Some(s) = script {
        h.write(&s.tapleaf_hash)
            .write(&[0u8])
            .write(&s.codeseparator_pos.to_le_bytes());
    }
    Ok(h.sha256())
}
