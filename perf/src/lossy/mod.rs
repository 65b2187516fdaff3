//! `perf lossy`: block propagation between two Sluice nodes over a lossy, rate-limited link,
//! QUIC against TCP (BIP324 v2). Two network namespaces joined by a veth pair; nftables drops
//! a share of the packets arriving on each side and `tc tbf` limits each side's rate. Both
//! nodes start from the same imported prefix of a loadgen chain; the chain's last `--blocks`
//! full-weight blocks are then submitted to the sender one at a time (`submitblock`), and each
//! block's latency is the time from the sender connecting it to the receiver connecting it
//! (both from the nodes' own log timestamps, one clock). Percentiles come from an HDR
//! histogram.

pub mod latency;
pub mod netns;
pub mod node;
pub mod report;
pub mod run;

use std::path::PathBuf;

use sluice_loadgen::FULL_BLOCK_WEIGHT;

use self::node::Transport;

/// `perf lossy` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct LossyArgs {
    /// Full-weight blocks relayed per transport and loss level.
    #[arg(long, default_value_t = 200)]
    pub blocks: u32,
    /// Loss levels, percent of packets dropped on each side's ingress (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "0,1,3")]
    pub loss: Vec<f64>,
    /// Rate limit of each direction, Mbit/s (tc tbf); 0 = none.
    #[arg(long, default_value_t = 50)]
    pub rate_mbit: u32,
    /// Transports to measure (comma-separated: quic, tcp).
    #[arg(long, value_delimiter = ',', default_value = "quic,tcp", value_parser = parse_transport)]
    pub transports: Vec<Transport>,
    /// An existing loadgen chain directory (its last --blocks blocks are relayed, the rest is
    /// the imported prefix); default: generate one into the work directory.
    #[arg(long)]
    pub chain: Option<PathBuf>,
    /// Blocks before the relayed ones in a generated chain (the first 100 are coinbase-only
    /// warm-up; the relayed blocks must be full-weight).
    #[arg(long, default_value_t = 110)]
    pub prefix: u32,
    /// loadgen profile of a generated chain.
    #[arg(long, default_value = "mainnet-mix")]
    pub profile: String,
    /// loadgen seed of a generated chain.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Script threads of each node (the nodes validate one after the other, so each may use
    /// every core).
    #[arg(long, default_value_t = 2)]
    pub script_workers: usize,
    /// The `sluice` binary (default: next to this `perf`).
    #[arg(long)]
    pub sluice: Option<PathBuf>,
    /// Report directory (report.json, report.md, latency_cdf.svg).
    #[arg(long, default_value = "lossy-report")]
    pub out: PathBuf,
    /// Where the chain and the node datadirs go (default: a temporary directory).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// TCP congestion control inside both namespaces (e.g. reno, bbr; a namespace may only pick
    /// one listed in the machine's net.ipv4.tcp_allowed_congestion_control); default: what new
    /// namespaces inherit from this machine. QUIC's is `--quic-cc`.
    #[arg(long)]
    pub tcp_cc: Option<String>,
    /// QUIC congestion control of both nodes (`sluice run --quic-congestion`): cubic (quinn's
    /// default), new-reno or bbr.
    #[arg(long, value_enum, default_value = "cubic")]
    pub quic_cc: sluice_node::config::QuicCongestionArg,
    /// Longest one block may take from submission to the receiver connecting it, seconds.
    #[arg(long, default_value_t = 120)]
    pub block_timeout_s: u64,
    /// Longest the whole measurement may take, seconds.
    #[arg(long, default_value_t = 4 * 3600)]
    pub timeout_s: u64,
}

fn parse_transport(s: &str) -> Result<Transport, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "quic" => Ok(Transport::Quic),
        "tcp" | "v2" | "tcp-v2" => Ok(Transport::Tcp),
        other => Err(format!("unknown transport {other:?} (quic or tcp)")),
    }
}

impl LossyArgs {
    /// Checks the flags before anything is created.
    ///
    /// # Errors
    /// A flag out of range, with the reason.
    pub fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.blocks >= 1, "--blocks must be at least 1");
        anyhow::ensure!(!self.loss.is_empty(), "--loss needs at least one level");
        for &l in &self.loss {
            anyhow::ensure!(
                l.is_finite() && (0.0..50.0).contains(&l),
                "--loss {l}: a percentage from 0 to below 50"
            );
        }
        anyhow::ensure!(
            self.rate_mbit <= 100_000,
            "--rate-mbit {}: at most 100000",
            self.rate_mbit
        );
        anyhow::ensure!(!self.transports.is_empty(), "--transports needs one");
        anyhow::ensure!(
            self.chain.is_some() || self.prefix >= 101,
            "--prefix {}: a generated chain's first 100 blocks are coinbase-only, so the \
             prefix must be at least 101 for the relayed blocks to be full-weight",
            self.prefix
        );
        anyhow::ensure!(
            self.script_workers >= 1,
            "--script-workers must be at least 1"
        );
        anyhow::ensure!(
            self.block_timeout_s >= 1,
            "--block-timeout-s must be positive"
        );
        Ok(())
    }

    /// The chain spec of a generated chain.
    #[must_use]
    pub fn spec(&self) -> sluice_loadgen::ChainSpec {
        sluice_loadgen::ChainSpec {
            target_weight: FULL_BLOCK_WEIGHT,
            ..sluice_loadgen::ChainSpec::new(&self.profile, self.prefix + self.blocks, self.seed)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        a: LossyArgs,
    }

    fn parse(args: &[&str]) -> Result<LossyArgs, String> {
        let mut v = vec!["perf"];
        v.extend_from_slice(args);
        Cli::try_parse_from(v)
            .map(|c| c.a)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_the_issue_measurement() {
        let a = parse(&[]).unwrap();
        a.check().unwrap();
        assert_eq!(a.blocks, 200);
        assert_eq!(a.loss, vec![0.0, 1.0, 3.0]);
        assert_eq!(a.transports, vec![Transport::Quic, Transport::Tcp]);
        assert_eq!(a.spec().blocks, 310);
        assert_eq!(a.spec().target_weight, FULL_BLOCK_WEIGHT);
    }

    #[test]
    fn bad_flags_are_refused_with_a_reason() {
        let a = parse(&["--loss", "1,60"]).unwrap();
        assert!(a.check().unwrap_err().to_string().contains("--loss 60"));
        let a = parse(&["--blocks", "0"]).unwrap();
        assert!(a.check().is_err());
        let a = parse(&["--prefix", "50"]).unwrap();
        assert!(a.check().unwrap_err().to_string().contains("coinbase-only"));
        // With an explicit chain the prefix is whatever precedes the relayed blocks.
        let a = parse(&["--prefix", "50", "--chain", "/x"]).unwrap();
        a.check().unwrap();
        let e = parse(&["--transports", "quic,udp"]).unwrap_err();
        assert!(e.contains("unknown transport"), "{e}");
        let a = parse(&["--transports", "tcp", "--loss", "0.5"]).unwrap();
        assert_eq!(a.transports, vec![Transport::Tcp]);
        assert_eq!(a.loss, vec![0.5]);
    }
}
