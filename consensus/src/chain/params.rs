//! Chain parameters for each network, transcribed from Core's `kernel/chainparams.cpp`.

use super::genesis::{display_hash, genesis_block, genesis_header, hex_bytes, GenesisSpec};
use super::u256::U256;
use crate::encode::write_compact_size;
use crate::hash::{sha256d, Hash256};
use crate::header::Header;

/// The networks Sluice knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Network {
    Mainnet,
    Testnet4,
    Signet,
    Regtest,
}

/// Script-flag overrides Core applies to individual historical blocks
/// (`consensus.script_flag_exceptions`). Kept as a small enum so this module does not
/// depend on the interpreter's flag type; [`super::script_flags`] maps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagException {
    /// `SCRIPT_VERIFY_NONE` (the BIP16 exception block).
    None,
    /// `SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_WITNESS` (the Taproot exception block).
    P2shWitness,
}

/// The default signet challenge (a 1-of-2 multisig).
pub const DEFAULT_SIGNET_CHALLENGE: [u8; 71] = hex_bytes(concat!(
    "512103ad5e0edad18cb1f0fc0d28a3d4f1f3e445640337489abb10404f2d1e086be43021",
    "0359ef5021964fe22d6f8e05b2463c9540ce96883fe3b278760f048f5189f2e6c452ae"
));

/// Coinbase outputs may be spent only this many blocks later (`COINBASE_MATURITY`).
pub const COINBASE_MATURITY: u32 = 100;

/// Consensus parameters of one network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub network: Network,
    /// P2P / block-file magic (`pchMessageStart`).
    pub magic: [u8; 4],
    genesis: GenesisSpec,
    /// Genesis block hash, internal byte order.
    pub genesis_hash: Hash256,
    pub subsidy_halving_interval: u32,
    /// Hashes of blocks whose script flags are overridden.
    pub script_flag_exceptions: Vec<(Hash256, FlagException)>,
    /// BIP34 activation height and the hash of the block at that height (zero on test
    /// networks, as in Core, which keeps BIP30 enforced there).
    pub bip34_height: u32,
    pub bip34_hash: Hash256,
    pub bip65_height: u32,
    pub bip66_height: u32,
    /// CSV (BIP68, BIP112, BIP113).
    pub csv_height: u32,
    /// Segwit (BIP141, BIP143, BIP147).
    pub segwit_height: u32,
    /// Historical activation of BIP16 (P2SH) by block time. Informational only: Core enforces
    /// P2SH, WITNESS and TAPROOT script rules on every block except `script_flag_exceptions`.
    pub bip16_time: i64,
    /// Historical Taproot activation height. Informational only, see `bip16_time`.
    pub taproot_height: u32,
    pub pow_limit: U256,
    pub pow_target_spacing: i64,
    pub pow_target_timespan: i64,
    pub pow_allow_min_difficulty_blocks: bool,
    /// BIP94: timewarp fix and retargeting from the period's first block (testnet4).
    pub enforce_bip94: bool,
    pub pow_no_retargeting: bool,
    /// Signet block challenge (`None` off signet).
    pub signet_challenge: Option<Vec<u8>>,
}

const POW_LIMIT_MAIN: &str = "00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
const POW_LIMIT_SIGNET: &str = "00000377ae000000000000000000000000000000000000000000000000000000";
const POW_LIMIT_REGTEST: &str = "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
const TWO_WEEKS: i64 = 14 * 24 * 60 * 60;
const TEN_MINUTES: i64 = 10 * 60;

fn limit(hex: &str) -> U256 {
    // The constants above are 64 valid hex digits; the fallback is unreachable.
    U256::from_be_hex(hex).unwrap_or(U256::ZERO)
}

impl Params {
    /// Parameters for `network` (signet with the default challenge).
    #[must_use]
    pub fn new(network: Network) -> Self {
        match network {
            Network::Mainnet => Self::mainnet(),
            Network::Testnet4 => Self::testnet4(),
            Network::Signet => Self::signet(&DEFAULT_SIGNET_CHALLENGE),
            Network::Regtest => Self::regtest(),
        }
    }

    #[must_use]
    pub fn mainnet() -> Self {
        let genesis = GenesisSpec {
            time: 1_231_006_505,
            nonce: 2_083_236_893,
            bits: 0x1d00_ffff,
            testnet4: false,
        };
        Self {
            network: Network::Mainnet,
            magic: [0xf9, 0xbe, 0xb4, 0xd9],
            genesis,
            genesis_hash: genesis_header(genesis).block_hash(),
            subsidy_halving_interval: 210_000,
            script_flag_exceptions: vec![
                (
                    display_hash(
                        "00000000000002dc756eebf4f49723ed8d30cc28a5f108eb94b1ba88ac4f9c22",
                    ),
                    FlagException::None,
                ),
                (
                    display_hash(
                        "0000000000000000000f14c35b2d841e986ab5441de8c585d5ffe55ea1e395ad",
                    ),
                    FlagException::P2shWitness,
                ),
            ],
            bip34_height: 227_931,
            bip34_hash: display_hash(
                "000000000000024b89b42a942fe0d9fea3bb44ab7bd1b19115dd6a759c0808b8",
            ),
            bip65_height: 388_381,
            bip66_height: 363_725,
            csv_height: 419_328,
            segwit_height: 481_824,
            bip16_time: 1_333_238_400,
            taproot_height: 709_632,
            pow_limit: limit(POW_LIMIT_MAIN),
            pow_target_spacing: TEN_MINUTES,
            pow_target_timespan: TWO_WEEKS,
            pow_allow_min_difficulty_blocks: false,
            enforce_bip94: false,
            pow_no_retargeting: false,
            signet_challenge: None,
        }
    }

    #[must_use]
    pub fn testnet4() -> Self {
        let genesis = GenesisSpec {
            time: 1_714_777_860,
            nonce: 393_743_547,
            bits: 0x1d00_ffff,
            testnet4: true,
        };
        Self {
            network: Network::Testnet4,
            magic: [0x1c, 0x16, 0x3f, 0x28],
            genesis,
            genesis_hash: genesis_header(genesis).block_hash(),
            subsidy_halving_interval: 210_000,
            script_flag_exceptions: Vec::new(),
            bip34_height: 1,
            bip34_hash: [0; 32],
            bip65_height: 1,
            bip66_height: 1,
            csv_height: 1,
            segwit_height: 1,
            bip16_time: 0,
            taproot_height: 0,
            pow_limit: limit(POW_LIMIT_MAIN),
            pow_target_spacing: TEN_MINUTES,
            pow_target_timespan: TWO_WEEKS,
            pow_allow_min_difficulty_blocks: true,
            enforce_bip94: true,
            pow_no_retargeting: false,
            signet_challenge: None,
        }
    }

    /// Signet with the given block challenge; the magic derives from it as in Core.
    #[must_use]
    pub fn signet(challenge: &[u8]) -> Self {
        let genesis = GenesisSpec {
            time: 1_598_918_400,
            nonce: 52_613_770,
            bits: 0x1e03_77ae,
            testnet4: false,
        };
        // Magic = first 4 bytes of SHA256d(CompactSize(len) || challenge).
        let mut ser = Vec::with_capacity(challenge.len() + 9);
        write_compact_size(&mut ser, challenge.len() as u64);
        ser.extend_from_slice(challenge);
        let h = sha256d(&ser);
        Self {
            network: Network::Signet,
            magic: [h[0], h[1], h[2], h[3]],
            genesis,
            genesis_hash: genesis_header(genesis).block_hash(),
            subsidy_halving_interval: 210_000,
            script_flag_exceptions: Vec::new(),
            bip34_height: 1,
            bip34_hash: [0; 32],
            bip65_height: 1,
            bip66_height: 1,
            csv_height: 1,
            segwit_height: 1,
            bip16_time: 0,
            taproot_height: 0,
            pow_limit: limit(POW_LIMIT_SIGNET),
            pow_target_spacing: TEN_MINUTES,
            pow_target_timespan: TWO_WEEKS,
            pow_allow_min_difficulty_blocks: false,
            enforce_bip94: false,
            pow_no_retargeting: false,
            signet_challenge: Some(challenge.to_vec()),
        }
    }

    /// Regtest with Core's defaults (`-testactivationheight` not applied, BIP94 off).
    #[must_use]
    pub fn regtest() -> Self {
        let genesis = GenesisSpec {
            time: 1_296_688_602,
            nonce: 2,
            bits: 0x207f_ffff,
            testnet4: false,
        };
        Self {
            network: Network::Regtest,
            magic: [0xfa, 0xbf, 0xb5, 0xda],
            genesis,
            genesis_hash: genesis_header(genesis).block_hash(),
            subsidy_halving_interval: 150,
            script_flag_exceptions: Vec::new(),
            bip34_height: 1,
            bip34_hash: [0; 32],
            bip65_height: 1,
            bip66_height: 1,
            csv_height: 1,
            segwit_height: 0,
            bip16_time: 0,
            taproot_height: 0,
            pow_limit: limit(POW_LIMIT_REGTEST),
            pow_target_spacing: TEN_MINUTES,
            pow_target_timespan: 24 * 60 * 60,
            pow_allow_min_difficulty_blocks: true,
            enforce_bip94: false,
            pow_no_retargeting: true,
            signet_challenge: None,
        }
    }

    /// Blocks per retarget period (`DifficultyAdjustmentInterval`): 2016, or 144 on regtest.
    #[must_use]
    pub fn difficulty_adjustment_interval(&self) -> u32 {
        // Both are positive constants for every real network; clamp so that hand-edited
        // parameters can never yield a zero interval (a modulo by zero).
        let n = self.pow_target_timespan / self.pow_target_spacing.max(1);
        u32::try_from(n).unwrap_or(u32::MAX).max(1)
    }

    /// The genesis header.
    #[must_use]
    pub fn genesis_header(&self) -> Header {
        genesis_header(self.genesis)
    }

    /// The serialised genesis block.
    #[must_use]
    pub fn genesis_block(&self) -> Vec<u8> {
        genesis_block(self.genesis)
    }

    /// The flag override for `block_hash`, if it is one of the exception blocks.
    #[must_use]
    pub fn script_flag_exception(&self, block_hash: &Hash256) -> Option<FlagException> {
        self.script_flag_exceptions
            .iter()
            .find(|(h, _)| h == block_hash)
            .map(|(_, f)| *f)
    }
}
