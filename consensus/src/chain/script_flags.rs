//! Which script rules a block's inputs are verified under (Core's `GetBlockScriptFlags`).

use super::params::{FlagException, Params};
use crate::hash::Hash256;
use crate::script::flags::ScriptFlags;

/// The script verification flags for the block `block_hash` at `height`.
///
/// P2SH, WITNESS and TAPROOT apply to every block (Core enforces them retroactively; every
/// historic block but the exception blocks passes), the exception blocks take their listed
/// flags instead; DERSIG, CHECKLOCKTIMEVERIFY, CHECKSEQUENCEVERIFY and NULLDUMMY follow the
/// BIP66, BIP65, CSV and segwit heights.
#[must_use]
pub fn script_flags(height: u32, block_hash: &Hash256, params: &Params) -> ScriptFlags {
    let mut flags = match params.script_flag_exception(block_hash) {
        Some(FlagException::None) => ScriptFlags::NONE,
        Some(FlagException::P2shWitness) => ScriptFlags::P2SH | ScriptFlags::WITNESS,
        None => ScriptFlags::P2SH | ScriptFlags::WITNESS | ScriptFlags::TAPROOT,
    };
    if height >= params.bip66_height {
        flags |= ScriptFlags::DERSIG;
    }
    if height >= params.bip65_height {
        flags |= ScriptFlags::CHECKLOCKTIMEVERIFY;
    }
    if height >= params.csv_height {
        flags |= ScriptFlags::CHECKSEQUENCEVERIFY;
    }
    if height >= params.segwit_height {
        flags |= ScriptFlags::NULLDUMMY;
    }
    flags
}
