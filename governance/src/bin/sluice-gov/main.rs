//! `sluice-gov`: maintainer keys, signed approvals, keyring rotation, the audit log and
//! release manifests for Sluice. `verify` exits 0 only when a change is approved, so CI can
//! gate on it. See governance/README.md and docs/governance.md.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mimalloc::MiMalloc;

mod change;
mod common;
mod keys;
mod release;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

#[derive(Parser, Debug)]
#[command(
    name = "sluice-gov",
    version,
    about = "Sluice governance: keys, approvals, keyrings, audit log, releases"
)]
struct Cli {
    /// Use this time (YYYY-MM-DDTHH:MM:SSZ) instead of the system clock: for auditing history
    /// and reproducible signing. Verifying with a past time accepts what has since expired.
    #[arg(long, global = true, value_name = "TIME")]
    now: Option<String>,
    #[command(subcommand)]
    cmd: Cmd,
}

/// Where the repository, its keyrings and its approvals are.
#[derive(clap::Args, Debug, Clone)]
struct RepoArgs {
    /// The git repository.
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// Directory of keyring-N.toml files [default: <repo>/governance/keyrings].
    #[arg(long)]
    keyrings: Option<PathBuf>,
    /// Directory of *.approval.toml and *.emergency.toml files [default: <repo>/governance/approvals].
    #[arg(long)]
    approvals: Option<PathBuf>,
    /// Network or release channel the approvals are for.
    #[arg(long, default_value = "main")]
    channel: String,
}

/// A signing key and its password.
#[derive(clap::Args, Debug, Clone)]
struct KeyArgs {
    /// Encrypted key file (from `keygen`).
    #[arg(long)]
    key: PathBuf,
    /// File holding the key's password (first line; `-` reads standard input).
    #[arg(long)]
    password_file: PathBuf,
    /// Your id in the keyring.
    #[arg(long)]
    signer: String,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Generate a BIP340 key, encrypted at rest; prints the x-only public key.
    Keygen {
        /// Where to write the encrypted key (refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
        /// File holding the new key's password (first line; `-` reads standard input).
        #[arg(long)]
        password_file: PathBuf,
        /// Argon2id memory cost in KiB (8192 to 1048576).
        #[arg(long, default_value_t = 65536)]
        argon2_memory_kib: u32,
    },
    /// Print a key file's x-only public key (after decrypting it, so the key is proven).
    Pubkey {
        /// Encrypted key file.
        #[arg(long)]
        key: PathBuf,
        /// File holding the key's password.
        #[arg(long)]
        password_file: PathBuf,
    },
    /// Keyring tools.
    #[command(subcommand)]
    Keyring(KeyringCmd),
    /// Sign the rotation from the newest trusted keyring to the next one (keyring-N.toml);
    /// the signature goes to keyring-N.sig.toml beside it.
    Rotate {
        /// Directory of the trusted keyring chain.
        #[arg(long)]
        keyrings: PathBuf,
        /// The proposed keyring-N.toml (may already sit in the keyrings directory).
        #[arg(long)]
        new: PathBuf,
        /// Encrypted key file.
        #[arg(long)]
        key: PathBuf,
        /// File holding the key's password.
        #[arg(long)]
        password_file: PathBuf,
        /// Append an entry to this audit log.
        #[arg(long)]
        log: Option<PathBuf>,
    },
    /// Sign an approval of a change (BASE..TARGET or one commit) at the tier derived from
    /// the paths it changes.
    Sign {
        /// The change: BASE..TARGET (any git revisions), or REV alone for REV~1..REV.
        range: String,
        #[command(flatten)]
        repo: RepoArgs,
        #[command(flatten)]
        key: KeyArgs,
        /// When the change was proposed [default: the approval file's, else now].
        #[arg(long)]
        proposed_at: Option<String>,
        /// How long the signature stays valid.
        #[arg(long, default_value = "90d")]
        valid_for: String,
        /// Sign for this tier instead of the derived one (the verifier derives the tier itself,
        /// so such an approval only verifies if the tiers agree).
        #[arg(long)]
        tier: Option<String>,
        /// Append an entry to this audit log.
        #[arg(long)]
        log: Option<PathBuf>,
    },
    /// Verify that a change (BASE..TARGET or one commit) is approved; exit status 0 only if
    /// it is.
    Verify {
        /// The change: BASE..TARGET (any git revisions), or REV alone for REV~1..REV.
        range: String,
        #[command(flatten)]
        repo: RepoArgs,
        /// Remember the newest trusted keyring here and refuse older ones later.
        #[arg(long)]
        trust_state: Option<PathBuf>,
    },
    /// Sign an emergency override shortening the review period of one target tree.
    Emergency {
        /// The target revision whose tree the override names.
        target: String,
        #[command(flatten)]
        repo: RepoArgs,
        #[command(flatten)]
        key: KeyArgs,
        /// The shortened review period (e.g. 1h).
        #[arg(long)]
        review_period: String,
        /// How long the override lasts from now (at most the keyring's max_window).
        #[arg(long)]
        valid_for: String,
    },
    /// The append-only audit log.
    #[command(subcommand)]
    Log(LogCmd),
    /// Release manifests.
    #[command(subcommand)]
    Release(ReleaseCmd),
}

#[derive(Subcommand, Debug)]
enum KeyringCmd {
    /// Print a keyring file's digest (what the next keyring names as `previous`).
    Digest {
        /// The keyring file.
        file: PathBuf,
    },
    /// Verify the keyring chain from the pinned root; prints the trusted version.
    Verify {
        /// Directory of keyring-N.toml files.
        #[arg(long, default_value = "governance/keyrings")]
        keyrings: PathBuf,
        /// Remember the newest trusted keyring here and refuse older ones later.
        #[arg(long)]
        trust_state: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum LogCmd {
    /// Verify the log, then append one entry; prints the new head.
    Append {
        /// The log file (created if missing).
        #[arg(long)]
        log: PathBuf,
        /// The entry's text.
        #[arg(long)]
        body: String,
    },
    /// Verify the log; prints its head.
    Verify {
        /// The log file.
        #[arg(long)]
        log: PathBuf,
        /// A head seen earlier (SEQ:HASH): the log must still contain it, unchanged.
        #[arg(long)]
        head: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum ReleaseCmd {
    /// Write an unsigned manifest of the given files (paths relative to the manifest).
    New {
        /// Manifest to write (refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
        /// Release channel (e.g. stable).
        #[arg(long)]
        channel: String,
        /// Release name (e.g. 0.1.0).
        #[arg(long)]
        release: String,
        /// When the release was proposed [default: now].
        #[arg(long)]
        proposed_at: Option<String>,
        /// Files, relative to the manifest's directory.
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Add your signature to a manifest, at the release tier.
    Sign {
        /// The manifest.
        #[arg(long)]
        manifest: PathBuf,
        /// Directory of keyring-N.toml files.
        #[arg(long, default_value = "governance/keyrings")]
        keyrings: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
        /// How long the signature stays valid.
        #[arg(long, default_value = "365d")]
        valid_for: String,
        /// Append an entry to this audit log.
        #[arg(long)]
        log: Option<PathBuf>,
    },
    /// Verify a manifest's signatures and files, as the node does before starting.
    Verify {
        /// The manifest.
        #[arg(long)]
        manifest: PathBuf,
        /// Directory of keyring-N.toml files [default: the keyring compiled into the binary].
        #[arg(long)]
        keyrings: Option<PathBuf>,
    },
    /// Write a CycloneDX 1.5 JSON SBOM from `cargo metadata --locked --format-version 1`
    /// output and Cargo.lock (its timestamp is --now, so pass SOURCE_DATE_EPOCH's time for a
    /// reproducible file).
    Sbom {
        /// `cargo metadata --locked --format-version 1` output.
        #[arg(long)]
        metadata: PathBuf,
        /// The lock file (for package checksums).
        #[arg(long, default_value = "Cargo.lock")]
        lock: PathBuf,
        /// The released component's name.
        #[arg(long, default_value = "sluice")]
        name: String,
        /// The release name (e.g. 0.1.0).
        #[arg(long)]
        release: String,
        /// SBOM to write (refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sluice-gov: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let now = common::now(cli.now.as_deref())?;
    match cli.cmd {
        Cmd::Keygen {
            out,
            password_file,
            argon2_memory_kib,
        } => keys::keygen(&out, &password_file, argon2_memory_kib),
        Cmd::Pubkey { key, password_file } => keys::pubkey(&key, &password_file),
        Cmd::Keyring(KeyringCmd::Digest { file }) => keys::digest(&file),
        Cmd::Keyring(KeyringCmd::Verify {
            keyrings,
            trust_state,
        }) => keys::verify_keyrings(&keyrings, trust_state.as_deref(), now),
        Cmd::Rotate {
            keyrings,
            new,
            key,
            password_file,
            log,
        } => keys::rotate(&keyrings, &new, &key, &password_file, log.as_deref(), now),
        Cmd::Sign {
            range,
            repo,
            key,
            proposed_at,
            valid_for,
            tier,
            log,
        } => change::sign(
            &change::SignRequest {
                range,
                repo,
                key,
                proposed_at,
                valid_for,
                tier,
                log,
            },
            now,
        ),
        Cmd::Verify {
            range,
            repo,
            trust_state,
        } => change::verify(&range, &repo, trust_state.as_deref(), now),
        Cmd::Emergency {
            target,
            repo,
            key,
            review_period,
            valid_for,
        } => change::emergency(&target, &repo, &key, &review_period, &valid_for, now),
        Cmd::Log(LogCmd::Append { log, body }) => release::log_append(&log, &body),
        Cmd::Log(LogCmd::Verify { log, head }) => release::log_verify(&log, head.as_deref()),
        Cmd::Release(ReleaseCmd::New {
            out,
            channel,
            release,
            proposed_at,
            files,
        }) => release::new(
            &out,
            &channel,
            &release,
            proposed_at.as_deref(),
            &files,
            now,
        ),
        Cmd::Release(ReleaseCmd::Sign {
            manifest,
            keyrings,
            key,
            valid_for,
            log,
        }) => release::sign(&manifest, &keyrings, &key, &valid_for, log.as_deref(), now),
        Cmd::Release(ReleaseCmd::Verify { manifest, keyrings }) => {
            release::verify(&manifest, keyrings.as_deref(), now)
        }
        Cmd::Release(ReleaseCmd::Sbom {
            metadata,
            lock,
            name,
            release,
            out,
        }) => release::sbom(&metadata, &lock, &name, &release, &out, now),
    }
}
