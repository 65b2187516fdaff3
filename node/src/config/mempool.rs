//! The mempool's settings (`[mempool]` in the config file, `--maxmempool` … on the command
//! line), named as Core's options. Fee rates are in sat/kvB (Core's flags take BTC/kvB:
//! `-minrelaytxfee=0.000001` is `minrelaytxfee = 100` here; a decimal is refused, not
//! misread).

use clap::Args;
use serde::{Deserialize, Serialize};
use sluice_mempool::{FeeRate, MempoolOptions};

/// `[mempool]`: defaults are Core's (`MempoolOptions::default()`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct MempoolConfig {
    /// Memory budget, MB (Core's `-maxmempool`, default 300).
    pub maxmempool: usize,
    /// Hours a transaction may stay unconfirmed (`-mempoolexpiry`, default 336).
    pub mempoolexpiry: i64,
    /// Minimum relay fee rate, sat/kvB (`-minrelaytxfee`, default 100).
    pub minrelaytxfee: i64,
    /// Fee rate a replacement or a trimmed pool's floor adds, sat/kvB (`-incrementalrelayfee`,
    /// default 100).
    pub incrementalrelayfee: i64,
    /// Fee rate defining dust outputs, sat/kvB (`-dustrelayfee`, default 3000).
    pub dustrelayfee: i64,
    /// Largest total of data-carrier (OP_RETURN) scripts, bytes (`-datacarriersize`, default
    /// 100,000); `datacarrier = false` makes any data carrier non-standard.
    pub datacarriersize: usize,
    /// Relay data-carrier outputs at all (`-datacarrier`, default true).
    pub datacarrier: bool,
    /// Relay bare multisig outputs (`-permitbaremultisig`, default true).
    pub permitbaremultisig: bool,
    /// Transactions per cluster at most (`-limitclustercount`, default 64).
    pub limitclustercount: usize,
    /// Cluster size at most, kvB (`-limitclustersize`, default 101).
    pub limitclustersize: i64,
    /// Virtual bytes charged per sigop (`-bytespersigop`, default 20).
    pub bytespersigop: i64,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        let d = MempoolOptions::default();
        Self {
            maxmempool: d.max_size_bytes / 1_000_000,
            mempoolexpiry: d.expiry_secs / 3600,
            minrelaytxfee: d.min_relay_feerate.sat_per_kvb(),
            incrementalrelayfee: d.incremental_relay_feerate.sat_per_kvb(),
            dustrelayfee: d.dust_relay_feerate.sat_per_kvb(),
            datacarriersize: d.max_datacarrier_bytes.unwrap_or(0),
            datacarrier: d.max_datacarrier_bytes.is_some(),
            permitbaremultisig: d.permit_bare_multisig,
            limitclustercount: d.cluster_count,
            limitclustersize: d.cluster_size_vbytes / 1000,
            bytespersigop: d.bytes_per_sigop,
        }
    }
}

impl MempoolConfig {
    /// The pool's options.
    ///
    /// # Errors
    /// A negative fee rate, expiry, cluster size or sigop charge, or a zero-sized pool or
    /// cluster.
    pub fn options(&self) -> anyhow::Result<MempoolOptions> {
        anyhow::ensure!(self.maxmempool > 0, "mempool.maxmempool must be positive");
        anyhow::ensure!(
            self.mempoolexpiry > 0,
            "mempool.mempoolexpiry must be positive"
        );
        for (name, v) in [
            ("minrelaytxfee", self.minrelaytxfee),
            ("incrementalrelayfee", self.incrementalrelayfee),
            ("dustrelayfee", self.dustrelayfee),
            ("bytespersigop", self.bytespersigop),
        ] {
            anyhow::ensure!(v >= 0, "mempool.{name} must not be negative");
        }
        anyhow::ensure!(
            self.limitclustercount > 0 && self.limitclustersize > 0,
            "mempool cluster limits must be positive"
        );
        Ok(MempoolOptions {
            max_size_bytes: self.maxmempool.saturating_mul(1_000_000),
            expiry_secs: self.mempoolexpiry.saturating_mul(3600),
            min_relay_feerate: FeeRate::per_kvb(self.minrelaytxfee),
            incremental_relay_feerate: FeeRate::per_kvb(self.incrementalrelayfee),
            dust_relay_feerate: FeeRate::per_kvb(self.dustrelayfee),
            max_datacarrier_bytes: self.datacarrier.then_some(self.datacarriersize),
            permit_bare_multisig: self.permitbaremultisig,
            cluster_count: self.limitclustercount,
            cluster_size_vbytes: self.limitclustersize.saturating_mul(1000),
            bytes_per_sigop: self.bytespersigop,
            ..MempoolOptions::default()
        })
    }
}

/// Command-line overrides of `[mempool]`.
#[derive(Debug, Clone, Default, Args)]
pub struct MempoolFlags {
    /// Mempool memory budget, MB (default 300).
    #[arg(long)]
    pub maxmempool: Option<usize>,
    /// Hours an unconfirmed transaction stays in the mempool (default 336).
    #[arg(long)]
    pub mempoolexpiry: Option<i64>,
    /// Minimum relay fee rate, sat/kvB (default 100 = Core's 0.000001 BTC/kvB).
    #[arg(long)]
    pub minrelaytxfee: Option<i64>,
    /// Incremental relay fee rate for replacements and trimming, sat/kvB (default 100).
    #[arg(long)]
    pub incrementalrelayfee: Option<i64>,
    /// Dust threshold fee rate, sat/kvB (default 3000).
    #[arg(long)]
    pub dustrelayfee: Option<i64>,
    /// Largest total of OP_RETURN data-carrier scripts per transaction, bytes (default 100000).
    #[arg(long)]
    pub datacarriersize: Option<usize>,
    /// Relay transactions with data-carrier outputs (true/false; default true).
    #[arg(long)]
    pub datacarrier: Option<bool>,
    /// Relay bare multisig outputs (true/false; default true).
    #[arg(long)]
    pub permitbaremultisig: Option<bool>,
    /// Transactions per mempool cluster at most (default 64).
    #[arg(long)]
    pub limitclustercount: Option<usize>,
    /// Mempool cluster size at most, kvB (default 101).
    #[arg(long)]
    pub limitclustersize: Option<i64>,
    /// Virtual bytes charged per signature operation (default 20).
    #[arg(long)]
    pub bytespersigop: Option<i64>,
}

impl MempoolFlags {
    /// Applies the flags given over `c`.
    pub fn apply(&self, c: &mut MempoolConfig) {
        macro_rules! set {
            ($($f:ident),*) => {$(
                if let Some(v) = self.$f {
                    c.$f = v;
                }
            )*};
        }
        set!(
            maxmempool,
            mempoolexpiry,
            minrelaytxfee,
            incrementalrelayfee,
            dustrelayfee,
            datacarriersize,
            datacarrier,
            permitbaremultisig,
            limitclustercount,
            limitclustersize,
            bytespersigop
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_cores_and_file_then_flags_apply() {
        let d = MempoolConfig::default();
        let o = d.options().expect("defaults");
        let core = MempoolOptions::default();
        assert_eq!(o.max_size_bytes, core.max_size_bytes);
        assert_eq!(o.expiry_secs, 336 * 3600);
        assert_eq!(o.min_relay_feerate.sat_per_kvb(), 100);
        assert_eq!(o.dust_relay_feerate.sat_per_kvb(), 3000);
        assert_eq!(o.max_datacarrier_bytes, Some(100_000));
        assert_eq!((o.cluster_count, o.cluster_size_vbytes), (64, 101_000));
        let mut c: MempoolConfig =
            toml::from_str("maxmempool = 50\nminrelaytxfee = 1000\ndatacarrier = false\n")
                .expect("toml");
        let flags = MempoolFlags {
            maxmempool: Some(20),
            limitclustercount: Some(10),
            ..MempoolFlags::default()
        };
        flags.apply(&mut c);
        let o = c.options().expect("valid");
        assert_eq!(o.max_size_bytes, 20_000_000);
        assert_eq!(o.min_relay_feerate.sat_per_kvb(), 1000);
        assert_eq!(o.max_datacarrier_bytes, None);
        assert_eq!(o.cluster_count, 10);
        // Core's BTC/kvB spelling is refused rather than misread; so are unknown keys and
        // negative rates.
        assert!(toml::from_str::<MempoolConfig>("minrelaytxfee = 0.00001").is_err());
        assert!(toml::from_str::<MempoolConfig>("maxmempol = 5").is_err());
        let neg = MempoolConfig {
            dustrelayfee: -1,
            ..MempoolConfig::default()
        };
        assert!(neg.options().is_err());
    }
}
