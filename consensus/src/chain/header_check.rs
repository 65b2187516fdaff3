//! Header validation: Core's `CheckBlockHeader` and `ContextualCheckBlockHeader`.

use super::ancestors::{AncestorView, MissingAncestor};
use super::params::Params;
use super::pow::{check_proof_of_work, next_work_required};
use crate::header::Header;

/// How far a block's time may run ahead of the node's adjusted time (`MAX_FUTURE_BLOCK_TIME`).
pub const MAX_FUTURE_BLOCK_TIME: i64 = 2 * 60 * 60;

/// BIP94: how much earlier than its parent the first block of a period may be (`MAX_TIMEWARP`).
pub const MAX_TIMEWARP: i64 = 600;

/// A header Core would reject; `Display` is Core's reject reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// Hash above the target, or an unusable target.
    #[error("high-hash")]
    HighHash,
    /// `nBits` differs from the difficulty schedule.
    #[error("bad-diffbits")]
    BadDiffBits,
    /// Time not after the median time past of the last 11 blocks.
    #[error("time-too-old")]
    TimeTooOld,
    /// BIP94: first block of a period more than 600 s before its parent.
    #[error("time-timewarp-attack")]
    TimewarpAttack,
    /// More than two hours ahead of adjusted time.
    #[error("time-too-new")]
    TimeTooNew,
    /// Version below what an active BIP34/66/65 deployment requires.
    #[error("bad-version(0x{0:08x})")]
    BadVersion(i32),
    /// The header does not build on the tip it was offered to.
    #[error("prev-blk-not-found")]
    PrevBlockNotFound,
    /// The ancestor view lacked a block a rule needs.
    #[error(transparent)]
    MissingAncestor(#[from] MissingAncestor),
}

impl HeaderError {
    /// Whether the header itself is invalid forever (Core's `BLOCK_INVALID_HEADER`, which marks
    /// the index entry failed). `time-too-new` may pass later (`BLOCK_TIME_FUTURE`), and a
    /// missing parent or ancestor is a gap in what the caller supplied, not a verdict.
    #[must_use]
    pub fn is_permanent(&self) -> bool {
        !matches!(
            self,
            Self::TimeTooNew | Self::PrevBlockNotFound | Self::MissingAncestor(_)
        )
    }
}

/// Context-free header check: the proof of work matches the claimed target.
///
/// # Errors
/// [`HeaderError::HighHash`].
pub fn check_block_header(header: &Header, params: &Params) -> Result<(), HeaderError> {
    if check_proof_of_work(&header.block_hash(), header.bits, params) {
        Ok(())
    } else {
        Err(HeaderError::HighHash)
    }
}

/// Contextual header checks for `header` extending `view`'s tip, in Core's order:
/// difficulty, median time past, BIP94 timewarp, future time, version.
/// `adjusted_time` is the node's network-adjusted clock in Unix seconds.
///
/// # Errors
/// The first failing rule as a [`HeaderError`].
pub fn contextual_check_block_header<V: AncestorView + ?Sized>(
    header: &Header,
    view: &V,
    params: &Params,
    adjusted_time: i64,
) -> Result<(), HeaderError> {
    let prev_height = view.tip_height();
    let height = u64::from(prev_height) + 1;
    let time = i64::from(header.time);

    if header.bits != next_work_required(view, header.time, params)? {
        return Err(HeaderError::BadDiffBits);
    }

    if time <= view.median_time_past(prev_height)? {
        return Err(HeaderError::TimeTooOld);
    }

    if params.enforce_bip94 && height % u64::from(params.difficulty_adjustment_interval()) == 0 {
        let prev = view.get(prev_height)?;
        if time < i64::from(prev.time) - MAX_TIMEWARP {
            return Err(HeaderError::TimewarpAttack);
        }
    }

    if time > adjusted_time.saturating_add(MAX_FUTURE_BLOCK_TIME) {
        return Err(HeaderError::TimeTooNew);
    }

    let v = header.version;
    if (v < 2 && height >= u64::from(params.bip34_height))
        || (v < 3 && height >= u64::from(params.bip66_height))
        || (v < 4 && height >= u64::from(params.bip65_height))
    {
        return Err(HeaderError::BadVersion(v));
    }
    Ok(())
}

/// Both checks plus linkage (`header.prev_blockhash` must be the tip's hash), in the order
/// Core's `AcceptBlockHeader` applies them.
///
/// # Errors
/// The first failing rule as a [`HeaderError`].
pub fn check_header<V: AncestorView + ?Sized>(
    header: &Header,
    view: &V,
    params: &Params,
    adjusted_time: i64,
) -> Result<(), HeaderError> {
    // Core's AcceptBlockHeader order: proof of work, then the parent lookup, then context.
    check_block_header(header, params)?;
    let tip = view.get(view.tip_height())?;
    if header.prev_blockhash != tip.hash {
        return Err(HeaderError::PrevBlockNotFound);
    }
    contextual_check_block_header(header, view, params, adjusted_time)
}
