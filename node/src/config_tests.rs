use super::*;

#[test]
fn file_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sluice.toml");
    std::fs::write(
        &p,
        "network = \"regtest\"\ncache_mb = 64\nscript_workers = 3\nkey_cache_entries = 10\necdsa = \"portable\"\n",
    )
    .unwrap();
    let flags = ConfigFlags {
        config: Some(p),
        script_workers: Some(5),
        quiet: true,
        ..ConfigFlags::default()
    };
    let c = NodeConfig::resolve(&flags).unwrap();
    assert_eq!(c.network, NetworkArg::Regtest);
    assert_eq!(c.cache_mb, 64);
    assert_eq!(c.script_workers, 5, "flag beats file");
    assert!(!c.progress);
    let ic = c.import_config();
    assert_eq!(ic.cache_bytes, 64 << 20);
    assert_eq!(ic.shell.script_workers, 5);
    assert_eq!(ic.key_cache_entries, 10);
    assert_eq!(ic.ecdsa, Some(EcdsaBackend::Portable));
}

#[test]
fn quic_fields_and_limits() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sluice.toml");
    let fp = "ab".repeat(32);
    std::fs::write(
        &p,
        format!(
            "quic_listen = \"127.0.0.1:9000\"\nquic_peer = [\"{fp}@10.0.0.1:9000\"]\n\
             [quic_limits]\nmax_uni_streams = 3\nidle_timeout_ms = 5000\n\
             congestion = \"new-reno\"\n"
        ),
    )
    .unwrap();
    let flags = ConfigFlags {
        config: Some(p),
        quic_peer: vec![format!("{fp}@10.0.0.2:9000")],
        quic_connect: vec!["10.0.0.1:9000".into()],
        ..ConfigFlags::default()
    };
    let c = NodeConfig::resolve(&flags).unwrap();
    assert_eq!(c.quic_listen.as_deref(), Some("127.0.0.1:9000"));
    assert_eq!(c.quic_peer.len(), 2, "file and flag pins add up");
    assert_eq!(c.quic_connect, vec!["10.0.0.1:9000".to_owned()]);
    assert!(!c.quic_open, "closed to unknown keys by default");
    let l = QuicLimits::from(&c.quic_limits);
    assert_eq!(l.max_uni_streams, 3);
    assert_eq!(l.idle_timeout, Duration::from_secs(5));
    assert_eq!(l.congestion, Congestion::NewReno);
    let bbr = ConfigFlags {
        quic_congestion: Some(QuicCongestionArg::Bbr),
        ..flags
    };
    let c = NodeConfig::resolve(&bbr).unwrap();
    assert_eq!(
        QuicLimits::from(&c.quic_limits).congestion,
        Congestion::Bbr,
        "the flag wins over the file"
    );
    // Unset limits keep the net crate's defaults, in both directions of the conversion.
    assert_eq!(l.receive_window, QuicLimits::default().receive_window);
    assert_eq!(
        QuicLimits::from(&QuicLimitsConfig::default()),
        QuicLimits::default()
    );
}

#[derive(Debug, clap::Parser)]
struct Cli {
    #[command(flatten)]
    flags: ConfigFlags,
}

/// The settings `args` (command-line flags, no file) resolve to.
fn parse(args: &[&str]) -> NodeConfig {
    use clap::Parser;
    let cli = Cli::try_parse_from(std::iter::once("sluice").chain(args.iter().copied())).unwrap();
    NodeConfig::resolve(&cli.flags).unwrap()
}

#[test]
fn metrics_and_log_settings() {
    let c = parse(&[]);
    assert_eq!(c.metrics_addr().unwrap(), None, "off unless asked for");
    assert_eq!(c.log_format, LogFormat::Human);
    let c = parse(&["--metrics-bind"]);
    assert_eq!(
        c.metrics_addr().unwrap(),
        Some(SocketAddr::from(([127, 0, 0, 1], DEFAULT_METRICS_PORT))),
        "loopback when enabled without an address"
    );
    let c = parse(&["--metrics-bind", "0.0.0.0:9999", "--log-format", "json"]);
    assert_eq!(
        c.metrics_addr().unwrap(),
        Some(SocketAddr::from(([0, 0, 0, 0], 9999)))
    );
    assert_eq!(c.log_format, LogFormat::Json);
    let c = parse(&["--metrics-bind", "[::1]", "--log-filter", "debug"]);
    assert_eq!(
        c.metrics_addr().unwrap(),
        Some(SocketAddr::new(
            IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
            9332
        ))
    );
    assert_eq!(c.log_filter.as_deref(), Some("debug"));
    let c = parse(&["--metrics-bind", "localhost:1"]);
    assert!(c.metrics_addr().is_err());

    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sluice.toml");
    std::fs::write(
        &p,
        "metrics_bind = \"127.0.0.1:9400\"\nlog_format = \"json\"\n",
    )
    .unwrap();
    let c = NodeConfig::from_file(&p).unwrap();
    assert_eq!(
        c.metrics_addr().unwrap(),
        Some(SocketAddr::from(([127, 0, 0, 1], 9400)))
    );
    assert_eq!(c.log_format, LogFormat::Json);
}

#[test]
fn unknown_field_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.toml");
    std::fs::write(&p, "netwrok = \"regtest\"\n").unwrap();
    assert!(NodeConfig::from_file(&p).is_err());
}

#[test]
fn upload_target_per_network_file_and_flag() {
    assert_eq!(parse(&[]).max_upload_target(), 500 << 30, "mainnet profile");
    for (net, want) in [
        ("testnet4", 100u64 << 30),
        ("signet", 100 << 30),
        ("regtest", 0),
    ] {
        assert_eq!(
            parse(&["--network", net]).max_upload_target(),
            want,
            "{net}"
        );
    }
    let c = parse(&[
        "--maxuploadtarget",
        "5000",
        "--whitelist-download",
        "10.0.0.1",
    ]);
    assert_eq!(
        c.max_upload_target(),
        5000 << 20,
        "bare number: MiB, as Core"
    );
    assert_eq!(c.whitelist_download, vec![IpAddr::from([10, 0, 0, 1])]);
    assert_eq!(
        parse(&["--maxuploadtarget", "0"]).max_upload_target(),
        0,
        "0: none"
    );
    let bad = <Cli as clap::Parser>::try_parse_from(["sluice", "--maxuploadtarget", "5Q"]);
    assert!(bad.is_err_and(|e| e.to_string().contains("unknown unit")));

    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sluice.toml");
    std::fs::write(
        &p,
        "network = \"signet\"\nmaxuploadtarget = \"2g\"\nwhitelist_download = [\"::1\"]\n",
    )
    .unwrap();
    let c = NodeConfig::from_file(&p).unwrap();
    assert_eq!(c.max_upload_target(), 2_000_000_000);
    assert_eq!(c.whitelist_download, vec!["::1".parse::<IpAddr>().unwrap()]);
    std::fs::write(&p, "maxuploadtarget = true\n").unwrap();
    let err = format!("{:#}", NodeConfig::from_file(&p).unwrap_err());
    assert!(err.contains("maxuploadtarget"), "{err}");
}
