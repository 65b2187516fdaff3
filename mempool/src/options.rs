//! Policy constants and the mempool's options (Core's `policy/policy.h`,
//! `kernel/mempool_options.h`, `kernel/mempool_limits.h`, `policy/truc_policy.h`).

use sluice_consensus::script::ScriptFlags;

use crate::feerate::FeeRate;

/// Largest standard transaction weight.
pub const MAX_STANDARD_TX_WEIGHT: usize = 400_000;
/// Smallest standard non-witness size (CVE-2017-12842).
pub const MIN_STANDARD_TX_NONWITNESS_SIZE: usize = 65;
/// Sigops a standard P2SH redeem script may count.
pub const MAX_P2SH_SIGOPS: u32 = 15;
/// Largest standard sigop cost of one transaction (block limit / 5).
pub const MAX_STANDARD_TX_SIGOPS_COST: u64 = 80_000 / 5;
/// BIP54: potentially executed legacy sigops per standard transaction.
pub const MAX_TX_LEGACY_SIGOPS: u32 = 2_500;
pub const DEFAULT_INCREMENTAL_RELAY_FEE: i64 = 100;
pub const DEFAULT_BYTES_PER_SIGOP: i64 = 20;
pub const MAX_STANDARD_P2WSH_STACK_ITEMS: usize = 100;
pub const MAX_STANDARD_P2WSH_STACK_ITEM_SIZE: usize = 80;
pub const MAX_STANDARD_TAPSCRIPT_STACK_ITEM_SIZE: usize = 80;
pub const MAX_STANDARD_P2WSH_SCRIPT_SIZE: usize = 3600;
pub const MAX_STANDARD_SCRIPTSIG_SIZE: usize = 1650;
pub const DUST_RELAY_TX_FEE: i64 = 3000;
pub const DEFAULT_MIN_RELAY_TX_FEE: i64 = 100;
pub const DEFAULT_CLUSTER_LIMIT: usize = 64;
pub const DEFAULT_CLUSTER_SIZE_LIMIT_KVB: i64 = 101;
/// Default `-datacarriersize`: the whole standard weight in vbytes.
pub const MAX_OP_RETURN_RELAY: usize = MAX_STANDARD_TX_WEIGHT / 4;
pub const MAX_DUST_OUTPUTS_PER_TX: usize = 1;
pub const TX_MIN_STANDARD_VERSION: i32 = 1;
pub const TX_MAX_STANDARD_VERSION: i32 = 3;
pub const DEFAULT_MAX_MEMPOOL_SIZE_MB: usize = 300;
pub const DEFAULT_MEMPOOL_EXPIRY_HOURS: i64 = 336;
/// Rule 5: conflicting clusters a replacement may touch.
pub const MAX_REPLACEMENT_CANDIDATES: usize = 100;
/// Half-life of the rolling minimum fee after a trim, in seconds.
pub const ROLLING_FEE_HALFLIFE: i64 = 60 * 60 * 12;

pub const TRUC_VERSION: i32 = 3;
pub const TRUC_ANCESTOR_LIMIT: usize = 2;
pub const TRUC_DESCENDANT_LIMIT: usize = 2;
pub const TRUC_MAX_VSIZE: i64 = 10_000;
pub const TRUC_CHILD_MAX_VSIZE: i64 = 1_000;

/// Flags every transaction must pass (Core's `MANDATORY_SCRIPT_VERIFY_FLAGS`).
pub const MANDATORY_SCRIPT_VERIFY_FLAGS: ScriptFlags = ScriptFlags(
    ScriptFlags::P2SH.0
        | ScriptFlags::DERSIG.0
        | ScriptFlags::NULLDUMMY.0
        | ScriptFlags::CHECKLOCKTIMEVERIFY.0
        | ScriptFlags::CHECKSEQUENCEVERIFY.0
        | ScriptFlags::WITNESS.0
        | ScriptFlags::TAPROOT.0,
);

/// Flags standard transactions pass (Core's `STANDARD_SCRIPT_VERIFY_FLAGS`).
pub const STANDARD_SCRIPT_VERIFY_FLAGS: ScriptFlags = ScriptFlags(
    MANDATORY_SCRIPT_VERIFY_FLAGS.0
        | ScriptFlags::STRICTENC.0
        | ScriptFlags::MINIMALDATA.0
        | ScriptFlags::DISCOURAGE_UPGRADABLE_NOPS.0
        | ScriptFlags::CLEANSTACK.0
        | ScriptFlags::MINIMALIF.0
        | ScriptFlags::NULLFAIL.0
        | ScriptFlags::LOW_S.0
        | ScriptFlags::DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM.0
        | ScriptFlags::WITNESS_PUBKEYTYPE.0
        | ScriptFlags::CONST_SCRIPTCODE.0
        | ScriptFlags::DISCOURAGE_UPGRADABLE_TAPROOT_VERSION.0
        | ScriptFlags::DISCOURAGE_OP_SUCCESS.0
        | ScriptFlags::DISCOURAGE_UPGRADABLE_PUBKEYTYPE.0,
);

/// The mempool's configuration (Core's `MemPoolOptions` with its defaults).
#[derive(Debug, Clone)]
pub struct MempoolOptions {
    /// Memory budget (`-maxmempool`), in bytes of [`crate::Entry::usage`].
    pub max_size_bytes: usize,
    /// Entries older than this (seconds) are expired (`-mempoolexpiry`).
    pub expiry_secs: i64,
    pub incremental_relay_feerate: FeeRate,
    pub min_relay_feerate: FeeRate,
    pub dust_relay_feerate: FeeRate,
    /// Largest total of data-carrier scripts; `None` makes any data carrier non-standard.
    pub max_datacarrier_bytes: Option<usize>,
    pub permit_bare_multisig: bool,
    /// Apply standardness (`!-acceptnonstdtxn`).
    pub require_standard: bool,
    pub cluster_count: usize,
    /// Cluster size limit in vbytes (compared with sigop-adjusted weight / 4).
    pub cluster_size_vbytes: i64,
    pub bytes_per_sigop: i64,
}

impl Default for MempoolOptions {
    fn default() -> Self {
        Self {
            max_size_bytes: DEFAULT_MAX_MEMPOOL_SIZE_MB * 1_000_000,
            expiry_secs: DEFAULT_MEMPOOL_EXPIRY_HOURS * 3600,
            incremental_relay_feerate: FeeRate::per_kvb(DEFAULT_INCREMENTAL_RELAY_FEE),
            min_relay_feerate: FeeRate::per_kvb(DEFAULT_MIN_RELAY_TX_FEE),
            dust_relay_feerate: FeeRate::per_kvb(DUST_RELAY_TX_FEE),
            max_datacarrier_bytes: Some(MAX_OP_RETURN_RELAY),
            permit_bare_multisig: true,
            require_standard: true,
            cluster_count: DEFAULT_CLUSTER_LIMIT,
            cluster_size_vbytes: DEFAULT_CLUSTER_SIZE_LIMIT_KVB * 1000,
            bytes_per_sigop: DEFAULT_BYTES_PER_SIGOP,
        }
    }
}
