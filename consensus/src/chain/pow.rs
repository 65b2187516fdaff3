//! Proof of work: targets, work, and the difficulty schedule (Core's `pow.cpp`).

use super::ancestors::{AncestorView, MissingAncestor};
use super::params::Params;
use super::u256::U256;
use crate::hash::Hash256;

/// The target encoded by `bits` if it is a usable proof-of-work target: not negative, not
/// zero, no overflow, and not above `pow_limit` (Core's `DeriveTarget`).
#[must_use]
pub fn derive_target(bits: u32, pow_limit: &U256) -> Option<U256> {
    let c = U256::from_compact(bits);
    if c.negative || c.value.is_zero() || c.overflow || c.value > *pow_limit {
        return None;
    }
    Some(c.value)
}

/// Whether `hash` (internal byte order) satisfies the target `bits` (`CheckProofOfWork`).
#[must_use]
pub fn check_proof_of_work(hash: &Hash256, bits: u32, params: &Params) -> bool {
    derive_target(bits, &params.pow_limit).is_some_and(|target| U256::from_le_bytes(hash) <= target)
}

/// Expected number of hashes for a block with target `bits` (`GetBitsProof`):
/// `2^256 / (target + 1)`, or zero for an invalid target.
#[must_use]
pub fn block_proof(bits: u32) -> U256 {
    let c = U256::from_compact(bits);
    if c.negative || c.overflow || c.value.is_zero() {
        return U256::ZERO;
    }
    // 2^256 / (t+1) == ~t / (t+1) + 1, computed without a 257-bit intermediate.
    let divisor = c.value.wrapping_add(&U256::ONE);
    match c.value.not().checked_div(&divisor) {
        Some(q) => q.wrapping_add(&U256::ONE),
        // t = 2^256-1 makes t+1 wrap to zero; Core would divide by zero there. Such a target
        // cannot come from a compact encoding (the mantissa is at most 23 bits).
        None => U256::ONE,
    }
}

/// Timespans are positive for every network's params; a negative value (only a hand-edited
/// `Params` could give one) maps to 0 here.
fn non_negative(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Core's `CalculateNextWorkRequired` for the retarget after a period whose last block has
/// `last_time`/`last_bits` and whose first block has `first_time`/`first_bits`.
/// `first_bits` matters only under BIP94, where the period's first block sets the base.
#[must_use]
pub fn calculate_next_work_required(
    last_time: i64,
    last_bits: u32,
    first_time: i64,
    first_bits: u32,
    params: &Params,
) -> u32 {
    if params.pow_no_retargeting {
        return last_bits;
    }
    let timespan = params.pow_target_timespan;
    let actual = (last_time - first_time).clamp(timespan / 4, timespan * 4);
    let base = if params.enforce_bip94 {
        first_bits
    } else {
        last_bits
    };
    let mut target = U256::from_compact(base)
        .value
        .wrapping_mul_u64(non_negative(actual));
    target = target
        .checked_div(&U256::from_u64(non_negative(timespan)))
        .unwrap_or(U256::ZERO);
    if target > params.pow_limit {
        target = params.pow_limit;
    }
    target.to_compact(false)
}

/// The `nBits` a block at `view.tip_height() + 1` with timestamp `time` must carry
/// (Core's `GetNextWorkRequired`, including testnet's 20-minute min-difficulty rule and BIP94).
///
/// # Errors
/// [`MissingAncestor`] if the view lacks a block the schedule needs.
pub fn next_work_required<V: AncestorView + ?Sized>(
    view: &V,
    time: u32,
    params: &Params,
) -> Result<u32, MissingAncestor> {
    let last_height = view.tip_height();
    let last = view.get(last_height)?;
    let interval = params.difficulty_adjustment_interval();
    let pow_limit_bits = params.pow_limit.to_compact(false);

    if (u64::from(last_height) + 1) % u64::from(interval) != 0 {
        if params.pow_allow_min_difficulty_blocks {
            // A block more than twice the spacing after its parent may (must) be min-difficulty.
            if i64::from(time) > i64::from(last.time) + params.pow_target_spacing * 2 {
                return Ok(pow_limit_bits);
            }
            // Otherwise: the bits of the last block that was not a min-difficulty exception.
            let mut h = last_height;
            let mut bits = last.bits;
            while h > 0 && !h.is_multiple_of(interval) && bits == pow_limit_bits {
                h -= 1;
                bits = view.get(h)?.bits;
            }
            return Ok(bits);
        }
        return Ok(last.bits);
    }

    // Retarget: the period's first block is interval-1 blocks below the last.
    let first_height = last_height + 1 - interval;
    let first = view.get(first_height)?;
    Ok(calculate_next_work_required(
        i64::from(last.time),
        last.bits,
        i64::from(first.time),
        first.bits,
        params,
    ))
}

/// Whether `new_bits` at `height` is a possible successor of `old_bits` (Core's
/// `PermittedDifficultyTransition`): unchanged off retarget heights, within the factor-4
/// clamp on them; always true where min-difficulty blocks are allowed.
#[must_use]
pub fn permitted_difficulty_transition(
    params: &Params,
    height: u32,
    old_bits: u32,
    new_bits: u32,
) -> bool {
    if params.pow_allow_min_difficulty_blocks {
        return true;
    }
    if height.is_multiple_of(params.difficulty_adjustment_interval()) {
        let timespan = params.pow_target_timespan;
        let observed = U256::from_compact(new_bits).value;
        let bound = |span: i64| {
            let mut t = U256::from_compact(old_bits)
                .value
                .wrapping_mul_u64(non_negative(span))
                .checked_div(&U256::from_u64(non_negative(timespan)))
                .unwrap_or(U256::ZERO);
            if t > params.pow_limit {
                t = params.pow_limit;
            }
            // Round through the compact encoding, as Core does.
            U256::from_compact(t.to_compact(false)).value
        };
        if bound(timespan * 4) < observed {
            return false;
        }
        if bound(timespan / 4) > observed {
            return false;
        }
        true
    } else {
        old_bits == new_bits
    }
}
