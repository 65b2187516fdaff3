//! Rules that need the coins a block spends: Core's `CheckTxInputs`, BIP68 sequence locks,
//! the coinbase amount limit, and BIP30. Looking the coins up is the caller's job.

use super::ancestors::{AncestorView, MissingAncestor};
use super::block_check::MAX_BLOCK_SIGOPS_COST;
use super::block_error::{BlockError, TxInputError};
use super::genesis::display_hash;
use super::locktime::sequence_locks;
use super::params::Params;
use super::script_flags::script_flags;
use super::subsidy::block_subsidy;
use crate::block::Block;
use crate::coin::{money_range, Amount, Coin, OutPoint};
use crate::hash::Hash256;
use crate::script::flags::ScriptFlags;
use crate::script::sigops::sigop_cost as sigop_cost_of;
use crate::sighash::SpentOutput;
use crate::tx::Transaction;

/// Core's `CheckTxInputs` for `tx` spending `coins` (one per input, in order) in a block at
/// `spend_height`. Returns the fee.
///
/// # Errors
/// [`TxInputError`] naming the failed rule.
pub fn check_tx_inputs(
    tx: &Transaction<'_>,
    coins: &[Coin],
    spend_height: u32,
) -> Result<Amount, TxInputError> {
    if coins.len() != tx.inputs.len() {
        return Err(TxInputError::InputsMissing);
    }
    let mut value_in: Amount = 0;
    for coin in coins {
        if coin.coinbase
            && i64::from(spend_height) - i64::from(coin.height)
                < i64::from(super::params::COINBASE_MATURITY)
        {
            return Err(TxInputError::PrematureCoinbaseSpend);
        }
        // Core adds before range-checking; a checked add reports the same failure without UB.
        if !money_range(coin.value) {
            return Err(TxInputError::InputValuesOutOfRange);
        }
        value_in = value_in
            .checked_add(coin.value)
            .filter(|v| money_range(*v))
            .ok_or(TxInputError::InputValuesOutOfRange)?;
    }
    let value_out = value_out(tx).ok_or(TxInputError::OutputTotalOutOfRange)?;
    if value_in < value_out {
        return Err(TxInputError::InBelowOut);
    }
    let fee = value_in - value_out;
    if !money_range(fee) {
        return Err(TxInputError::FeeOutOfRange);
    }
    Ok(fee)
}

/// Sum of output values, `None` if any value or partial sum leaves the money range
/// (Core's `GetValueOut` throws there).
#[must_use]
pub fn value_out(tx: &Transaction<'_>) -> Option<Amount> {
    tx.outputs.iter().try_fold(0i64, |acc, o| {
        if !money_range(o.value) {
            return None;
        }
        acc.checked_add(o.value).filter(|v| money_range(*v))
    })
}

/// The transaction version as Core stores it (`uint32_t`), for BIP68's unsigned comparison.
#[must_use]
pub fn tx_version_u32(tx: &Transaction<'_>) -> u32 {
    u32::from_le_bytes(tx.version.to_le_bytes())
}

/// BIP68 for one transaction in the block at `view.tip_height() + 1`: its inputs' relative
/// locks are satisfied. `coins` are the spent coins, in input order. BIP68 is enforced only
/// from the CSV height.
///
/// # Errors
/// [`MissingAncestor`] when a needed median time past is unavailable.
pub fn check_sequence_locks<V: AncestorView + ?Sized>(
    tx: &Transaction<'_>,
    coins: &[Coin],
    view: &V,
    params: &Params,
) -> Result<bool, MissingAncestor> {
    let height = u64::from(view.tip_height()) + 1;
    let enforce = height >= u64::from(params.csv_height);
    let inputs = tx
        .inputs
        .iter()
        .zip(coins)
        .map(|(i, c)| (i.sequence, c.height));
    sequence_locks(tx_version_u32(tx), inputs, enforce, view)
}

/// What the caller learned while connecting a block's spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpendSummary {
    /// Sum of all fees.
    pub fees: Amount,
    /// Total sigop cost (legacy, P2SH and witness; Core's `GetTransactionSigOpCost` summed).
    pub sigop_cost: u64,
    /// The script flags the block's inputs must be verified under.
    pub flags: ScriptFlags,
}

/// The coin-dependent checks of Core's `ConnectBlock` other than scripts and BIP30, in Core's
/// order: per transaction `CheckTxInputs`, the accumulated-fee range and BIP68 (non-coinbase),
/// then the running sigop cost against [`MAX_BLOCK_SIGOPS_COST`]; finally the coinbase may
/// claim at most subsidy + fees. `spent` holds the coins of every non-coinbase input in block
/// order (the layout of undo data). Run [`super::check_block`] first.
///
/// # Errors
/// The first failing rule as a [`BlockError`].
pub fn check_block_spends<V: AncestorView + ?Sized>(
    block: &Block<'_>,
    spent: &[Coin],
    view: &V,
    params: &Params,
) -> Result<SpendSummary, BlockError> {
    let height = view
        .tip_height()
        .checked_add(1)
        .ok_or(BlockError::InputsMissing)?;
    let flags = script_flags(height, &block.header.block_hash(), params);
    let mut fees: Amount = 0;
    let mut sigop_cost: u64 = 0;
    let mut rest = spent;
    let mut outputs: Vec<SpentOutput<'_>> = Vec::new();
    for tx in &block.transactions {
        outputs.clear();
        if !tx.is_coinbase() {
            let n = tx.inputs.len();
            if rest.len() < n {
                return Err(BlockError::InputsMissing);
            }
            let (coins, tail) = rest.split_at(n);
            rest = tail;
            let fee = check_tx_inputs(tx, coins, height)?;
            fees = fees
                .checked_add(fee)
                .filter(|f| money_range(*f))
                .ok_or(BlockError::AccumulatedFeeOutOfRange)?;
            if !check_sequence_locks(tx, coins, view, params)? {
                return Err(BlockError::NonFinal);
            }
            outputs.extend(coins.iter().map(|c| SpentOutput {
                value: c.value,
                script_pubkey: &c.script_pubkey,
            }));
        }
        sigop_cost = sigop_cost.saturating_add(sigop_cost_of(tx, &outputs, flags));
        if sigop_cost > MAX_BLOCK_SIGOPS_COST {
            return Err(BlockError::TooManySigops);
        }
    }
    if !rest.is_empty() {
        return Err(BlockError::InputsMissing);
    }
    check_coinbase_amount(block, fees, height, params)?;
    Ok(SpendSummary {
        fees,
        sigop_cost,
        flags,
    })
}

/// `bad-cb-amount`: the coinbase may claim at most subsidy + fees.
///
/// # Errors
/// [`BlockError::BadCoinbaseAmount`] (also when the coinbase outputs are out of range).
pub fn check_coinbase_amount(
    block: &Block<'_>,
    fees: Amount,
    height: u32,
    params: &Params,
) -> Result<(), BlockError> {
    let cb = block
        .transactions
        .first()
        .ok_or(BlockError::CoinbaseMissing)?;
    let out = value_out(cb).ok_or(BlockError::BadCoinbaseAmount)?;
    if out > fees + block_subsidy(height, params) {
        return Err(BlockError::BadCoinbaseAmount);
    }
    Ok(())
}

/// From this height on BIP30 is checked again: coinbases of early blocks can encode it
/// (`BIP34_IMPLIES_BIP30_LIMIT`).
pub const BIP34_IMPLIES_BIP30_LIMIT: u32 = 1_983_702;

const BIP30_REPEATS: [(u32, Hash256); 2] = [
    (
        91_842,
        display_hash("00000000000a4d0a398161ffc163c503763b1f4360639393e0e4c8e300e0caec"),
    ),
    (
        91_880,
        display_hash("00000000000743f190a18c5577a3c2d2a1f610ae9601ac046a38084ccb7cd721"),
    ),
];

const BIP30_UNSPENDABLE: [(u32, Hash256); 2] = [
    (
        91_722,
        display_hash("00000000000271a2dc26e7667f8419f2e15416dc6955e5a6c6cdf3f2574dd08e"),
    ),
    (
        91_812,
        display_hash("00000000000af0aed4792b1acee3d966af36cf5def14935db8de83d6f9306f2f"),
    ),
];

/// Core's `IsBIP30Repeat`: the two mainnet blocks that duplicated earlier coinbases.
#[must_use]
pub fn is_bip30_repeat(height: u32, block_hash: &Hash256) -> bool {
    BIP30_REPEATS.contains(&(height, *block_hash))
}

/// Core's `IsBIP30Unspendable`: the two mainnet blocks whose coinbase outputs were overwritten
/// (and so never enter the UTXO set).
#[must_use]
pub fn is_bip30_unspendable(height: u32, block_hash: &Hash256) -> bool {
    BIP30_UNSPENDABLE.contains(&(height, *block_hash))
}

/// Whether ConnectBlock must run the BIP30 check for the block `block_hash` at
/// `view.tip_height() + 1`: not for the two repeat blocks, not while the chain's block at the
/// BIP34 height is the known BIP34 block — until [`BIP34_IMPLIES_BIP30_LIMIT`].
///
/// # Errors
/// Never for a complete view; [`MissingAncestor`] is not raised (an absent BIP34 ancestor
/// means BIP34 is not yet buried, as in Core).
pub fn bip30_applies<V: AncestorView + ?Sized>(
    block_hash: &Hash256,
    view: &V,
    params: &Params,
) -> Result<bool, MissingAncestor> {
    let height = view.tip_height().saturating_add(1);
    let mut enforce = !is_bip30_repeat(height, block_hash);
    if let Some(a) = view.ancestor(params.bip34_height) {
        if params.bip34_height <= view.tip_height() && a.hash == params.bip34_hash {
            enforce = false;
        }
    }
    Ok(enforce || height >= BIP34_IMPLIES_BIP30_LIMIT)
}

/// BIP30: no transaction may create an output that already exists unspent.
/// `have_unspent` answers whether an unspent coin exists at the outpoint.
///
/// # Errors
/// [`BlockError::Bip30`].
pub fn check_bip30<F: FnMut(&OutPoint) -> bool>(
    block: &Block<'_>,
    mut have_unspent: F,
) -> Result<(), BlockError> {
    for tx in &block.transactions {
        let txid = tx.txid();
        for vout in 0..tx.outputs.len() {
            let op = OutPoint {
                txid,
                vout: u32::try_from(vout).map_err(|_| BlockError::Bip30)?,
            };
            if have_unspent(&op) {
                return Err(BlockError::Bip30);
            }
        }
    }
    Ok(())
}
