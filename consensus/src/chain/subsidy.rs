//! The block subsidy schedule (Core's `GetBlockSubsidy`).

use super::params::Params;
use crate::coin::Amount;

/// One bitcoin in satoshis.
pub const COIN: Amount = 100_000_000;

/// New coins a block at `height` may create: 50 BTC halved every
/// `subsidy_halving_interval` blocks, zero from the 64th halving on.
#[must_use]
pub fn block_subsidy(height: u32, params: &Params) -> Amount {
    let halvings = height / params.subsidy_halving_interval.max(1);
    if halvings >= 64 {
        return 0;
    }
    (50 * COIN) >> halvings
}
