//! Absolute and relative lock times: `IsFinalTx` and BIP68 sequence locks
//! (Core's `consensus/tx_verify.cpp`).

use super::ancestors::{AncestorView, MissingAncestor};

/// Lock times below this are heights, at or above it Unix times.
pub const LOCKTIME_THRESHOLD: u32 = 500_000_000;
/// An input with this sequence opts out of lock time.
pub const SEQUENCE_FINAL: u32 = 0xffff_ffff;
/// BIP68: sequence carries no relative lock when set.
pub const SEQUENCE_LOCKTIME_DISABLE_FLAG: u32 = 1 << 31;
/// BIP68: relative lock in units of 512 s when set, blocks otherwise.
pub const SEQUENCE_LOCKTIME_TYPE_FLAG: u32 = 1 << 22;
/// BIP68: the lock value bits.
pub const SEQUENCE_LOCKTIME_MASK: u32 = 0x0000_ffff;
/// BIP68: time locks count in 2^9 = 512 second units.
pub const SEQUENCE_LOCKTIME_GRANULARITY: u32 = 9;

/// Whether a transaction with `lock_time` and input `sequences` may be in a block at
/// `block_height` whose lock-time cutoff is `block_time` (block time, or the parent's median
/// time past once BIP113 is active). Core's `IsFinalTx`.
pub fn is_final_tx<I>(lock_time: u32, sequences: I, block_height: u32, block_time: i64) -> bool
where
    I: IntoIterator<Item = u32>,
{
    if lock_time == 0 {
        return true;
    }
    let cutoff = if lock_time < LOCKTIME_THRESHOLD {
        i64::from(block_height)
    } else {
        block_time
    };
    if i64::from(lock_time) < cutoff {
        return true;
    }
    sequences.into_iter().all(|s| s == SEQUENCE_FINAL)
}

/// The lock a transaction's inputs impose, in `nLockTime` semantics: the last *invalid*
/// height and time (-1 = no constraint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceLock {
    pub min_height: i64,
    pub min_time: i64,
}

impl SequenceLock {
    /// No relative lock.
    pub const NONE: Self = Self {
        min_height: -1,
        min_time: -1,
    };
}

/// Core's `CalculateSequenceLocks` for a transaction in the block at `view.tip_height() + 1`.
///
/// `inputs` yields each input's `(nSequence, height of the coin it spends)`; a coin created
/// in the block itself has height `tip + 1`. BIP68 applies only when `enforce_bip68`
/// (CSV active: `LOCKTIME_VERIFY_SEQUENCE`) and `tx_version >= 2`, compared unsigned as in Core.
///
/// # Errors
/// [`MissingAncestor`] if a time lock needs a median time past the view cannot give.
pub fn calculate_sequence_locks<V, I>(
    tx_version: u32,
    inputs: I,
    enforce_bip68: bool,
    view: &V,
) -> Result<SequenceLock, MissingAncestor>
where
    V: AncestorView + ?Sized,
    I: IntoIterator<Item = (u32, u32)>,
{
    let mut lock = SequenceLock::NONE;
    if !(tx_version >= 2 && enforce_bip68) {
        return Ok(lock);
    }
    for (sequence, coin_height) in inputs {
        if sequence & SEQUENCE_LOCKTIME_DISABLE_FLAG != 0 {
            continue;
        }
        let value = i64::from(sequence & SEQUENCE_LOCKTIME_MASK);
        if sequence & SEQUENCE_LOCKTIME_TYPE_FLAG != 0 {
            // Measured from the median time past of the block before the coin's block.
            let coin_time = view.median_time_past(coin_height.saturating_sub(1))?;
            lock.min_time = lock
                .min_time
                .max(coin_time + (value << SEQUENCE_LOCKTIME_GRANULARITY) - 1);
        } else {
            lock.min_height = lock.min_height.max(i64::from(coin_height) + value - 1);
        }
    }
    Ok(lock)
}

/// Core's `EvaluateSequenceLocks`: whether `lock` is satisfied by the block at
/// `view.tip_height() + 1`, whose time reference is the tip's median time past.
///
/// # Errors
/// [`MissingAncestor`] if the tip's median time past cannot be computed.
pub fn evaluate_sequence_locks<V: AncestorView + ?Sized>(
    lock: SequenceLock,
    view: &V,
) -> Result<bool, MissingAncestor> {
    let tip = view.tip_height();
    let block_height = i64::from(tip) + 1;
    let block_time = view.median_time_past(tip)?;
    Ok(lock.min_height < block_height && lock.min_time < block_time)
}

/// `SequenceLocks`: calculate and evaluate in one go.
///
/// # Errors
/// [`MissingAncestor`] as for the two steps.
pub fn sequence_locks<V, I>(
    tx_version: u32,
    inputs: I,
    enforce_bip68: bool,
    view: &V,
) -> Result<bool, MissingAncestor>
where
    V: AncestorView + ?Sized,
    I: IntoIterator<Item = (u32, u32)>,
{
    let lock = calculate_sequence_locks(tx_version, inputs, enforce_bip68, view)?;
    evaluate_sequence_locks(lock, view)
}
