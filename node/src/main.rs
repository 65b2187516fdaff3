//! `sluice`: the Sluice node binary.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use sluice_node::config::{ConfigFlags, NodeConfig};
use sluice_node::{demo, run};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Sluice: a Bitcoin full-validation node built around a high-throughput validation pipeline.
#[derive(Debug, Parser)]
#[command(name = "sluice", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Import Core-framed block files (like Core's -loadblock): files, or directories of
    /// blk?????.dat. Resumes from what the datadir holds.
    Import {
        /// Block files (Core's framing: magic, size, block) or directories of them, in order.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        flags: ConfigFlags,
    },
    /// Run the node: sync from peers (headers first), validate, serve the chain, follow the
    /// tip. Stops cleanly on SIGINT or SIGTERM; the next start resumes.
    Run {
        #[command(flatten)]
        flags: ConfigFlags,
    },
    /// Generate a chain into a temporary directory and import it (no flags or network needed).
    Demo(demo::DemoArgs),
    /// Print this node's QUIC key fingerprint (creating the key in the datadir on first use),
    /// for other nodes' `quic_peer = "<fingerprint>@host:port"`.
    QuicId {
        #[command(flatten)]
        flags: ConfigFlags,
    },
    /// Check a configuration: print the effective settings (secrets redacted) and what is
    /// wrong or weak in them; exits non-zero when `run` would refuse to start.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Print the version.
    Version,
}

#[derive(Debug, Subcommand)]
enum ConfigAction {
    /// Validate the file and flags as `run` would, and print the effective settings.
    Check {
        #[command(flatten)]
        flags: ConfigFlags,
    },
}

/// `sluice config check`: the settings on stdout (a valid TOML file), the verdicts on stderr.
fn config_check(flags: &ConfigFlags) -> anyhow::Result<()> {
    use sluice_node::hardening;
    let cfg = NodeConfig::resolve(flags)?;
    print!("{}", hardening::effective_toml(&cfg)?);
    let findings = hardening::audit(&cfg);
    let stop = hardening::blocking(&cfg, &findings);
    for f in &findings {
        let mut line = hardening::describe(f);
        if f.level == hardening::Level::Refuse && !stop.contains(f) {
            line = format!("  accepted risk: {}: {} [{}]", f.key, f.message, f.id);
        }
        eprintln!("{line}");
    }
    if !stop.is_empty() {
        anyhow::bail!("{} setting(s) would refuse the start", stop.len());
    }
    eprintln!("config OK ({:?})", cfg.network);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let start_logs = |cfg: &NodeConfig, default: &str| {
        sluice_node::logging::init(cfg.log_format, cfg.log_filter.as_deref(), default)
    };
    match cli.command {
        Some(Command::Import { paths, flags }) => {
            let cfg = NodeConfig::resolve(&flags)?;
            start_logs(&cfg, "warn")?;
            sluice_node::release::check(&cfg, sluice_governance::now())?;
            let report = sluice_pipeline::import(&cfg.import_config(), &paths)?;
            print!("{}", report.summary());
        }
        Some(Command::Run { flags }) => {
            let cfg = NodeConfig::resolve(&flags)?;
            start_logs(&cfg, "info")?;
            sluice_node::hardening::enforce(&cfg)?;
            sluice_node::release::check(&cfg, sluice_governance::now())?;
            run::run_until_signal(&cfg)?;
        }
        None => {
            start_logs(&NodeConfig::default(), "warn")?;
            demo::run(&demo::DemoArgs::default())?;
        }
        Some(Command::Demo(args)) => {
            start_logs(&NodeConfig::default(), "warn")?;
            demo::run(&args)?;
        }
        Some(Command::QuicId { flags }) => {
            let cfg = NodeConfig::resolve(&flags)?;
            start_logs(&cfg, "warn")?;
            println!("{}", run::quic_fingerprint(&cfg)?);
        }
        Some(Command::Config {
            action: ConfigAction::Check { flags },
        }) => config_check(&flags)?,
        Some(Command::Version) => println!("sluice {}", env!("CARGO_PKG_VERSION")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every flag of every command says what it does in `--help`.
    #[test]
    fn every_flag_has_help_text() {
        fn check(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                if !builtin && arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} --{}", arg.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                check(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        check(&super::Cli::command(), "sluice", &mut missing);
        assert!(missing.is_empty(), "flags without help: {missing:?}");
    }
}
