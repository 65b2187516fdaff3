//! Workload profiles: which output types are created (and hence spent) and the shape of
//! transactions. Sources of the numbers are in loadgen/README.md.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::wallet::SpendKind;
use crate::LoadgenError;

/// A named workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub name: String,
    /// Output-type mix (relative weights). Inputs are drawn uniformly from the wallet's coins,
    /// so after warm-up the input mix follows this mix.
    pub kinds: Vec<(SpendKind, u32)>,
    /// Inputs per transaction: `(count, relative weight)`.
    pub inputs: Vec<(u32, u32)>,
    /// Outputs per transaction: `(count, relative weight)`.
    pub outputs: Vec<(u32, u32)>,
    /// Fee rate in sat/vB.
    pub feerate: u64,
}

/// Names accepted by [`Profile::by_name`].
pub const PROFILE_NAMES: [&str; 4] = ["mainnet-mix", "taproot", "legacy", "utxo-heavy"];

fn pick<T: Copy>(rng: &mut impl Rng, table: &[(T, u32)]) -> T {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut x = rng.gen_range(0..total.max(1));
    for (v, w) in table {
        if x < *w {
            return *v;
        }
        x -= w;
    }
    table[0].0
}

const MAINNET_INPUTS: [(u32, u32); 7] =
    [(1, 60), (2, 20), (3, 8), (4, 4), (6, 4), (10, 3), (20, 1)];
const MAINNET_OUTPUTS: [(u32, u32); 6] = [(1, 15), (2, 60), (3, 10), (5, 7), (10, 5), (30, 3)];

impl Profile {
    /// Looks up a built-in profile.
    ///
    /// # Errors
    /// [`LoadgenError::UnknownProfile`] listing the known names.
    pub fn by_name(name: &str) -> Result<Profile, LoadgenError> {
        use SpendKind as K;
        let (kinds, inputs, outputs): (Vec<_>, Vec<_>, Vec<_>) = match name {
            "mainnet-mix" => (
                vec![
                    (K::P2wpkh, 55),
                    (K::P2trKey, 20),
                    (K::P2pkh, 10),
                    (K::P2shP2wpkh, 7),
                    (K::P2wsh2of3, 5),
                    (K::P2trScript, 2),
                    (K::P2shMultisig, 1),
                ],
                MAINNET_INPUTS.to_vec(),
                MAINNET_OUTPUTS.to_vec(),
            ),
            "taproot" => (
                vec![(K::P2trKey, 80), (K::P2trScript, 20)],
                MAINNET_INPUTS.to_vec(),
                MAINNET_OUTPUTS.to_vec(),
            ),
            "legacy" => (
                vec![(K::P2pkh, 75), (K::P2shMultisig, 20), (K::BareMultisig, 5)],
                MAINNET_INPUTS.to_vec(),
                MAINNET_OUTPUTS.to_vec(),
            ),
            "utxo-heavy" => (
                vec![
                    (K::P2wpkh, 55),
                    (K::P2trKey, 20),
                    (K::P2pkh, 10),
                    (K::P2shP2wpkh, 7),
                    (K::P2wsh2of3, 5),
                    (K::P2trScript, 2),
                    (K::P2shMultisig, 1),
                ],
                vec![(1, 70), (2, 30)],
                vec![(20, 30), (50, 40), (100, 30)],
            ),
            other => {
                return Err(LoadgenError::UnknownProfile {
                    name: other.to_owned(),
                    known: PROFILE_NAMES.join(", "),
                })
            }
        };
        Ok(Profile {
            name: name.to_owned(),
            kinds,
            inputs,
            outputs,
            feerate: 1,
        })
    }

    pub(crate) fn pick_kind(&self, rng: &mut impl Rng) -> SpendKind {
        pick(rng, &self.kinds)
    }

    pub(crate) fn pick_inputs(&self, rng: &mut impl Rng) -> u32 {
        pick(rng, &self.inputs)
    }

    pub(crate) fn pick_outputs(&self, rng: &mut impl Rng) -> u32 {
        pick(rng, &self.outputs)
    }
}
