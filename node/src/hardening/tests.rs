//! Each rule of the audit, on each kind of network; the parse errors a config file gets.

use super::*;
use crate::secret::Secret;

fn mainnet() -> NodeConfig {
    NodeConfig {
        datadir: "/nonexistent/sluice-test".into(),
        ..NodeConfig::default()
    }
}

fn ids(cfg: &NodeConfig) -> Vec<(&'static str, Level)> {
    audit(cfg).iter().map(|f| (f.id, f.level)).collect()
}

#[test]
fn defaults_are_clean_on_every_network() {
    for network in [
        NetworkArg::Mainnet,
        NetworkArg::Testnet4,
        NetworkArg::Signet,
        NetworkArg::Regtest,
    ] {
        let cfg = NodeConfig {
            network,
            ..mainnet()
        };
        assert_eq!(audit(&cfg), vec![], "{network:?}");
        assert!(enforce(&cfg).is_ok());
    }
}

#[test]
fn public_rpc_without_rpcauth_is_refused_on_public_networks_only() {
    let cfg = NodeConfig {
        rpcbind: vec!["0.0.0.0".into()],
        ..mainnet()
    };
    assert_eq!(
        ids(&cfg),
        vec![("rpc-public-without-rpcauth", Level::Refuse)]
    );
    let err = format!("{:#}", enforce(&cfg).unwrap_err());
    assert!(
        err.contains("rpcbind") && err.contains("0.0.0.0:8332"),
        "{err}"
    );
    assert!(
        err.contains("accept_risk = [\"rpc-public-without-rpcauth\"]"),
        "{err}"
    );
    // With a plain password it is still refused (and the password is a warning of its own).
    let with_password = NodeConfig {
        rpcuser: Some("u".into()),
        rpcpassword: Some(Secret::new("hunter2".into())),
        ..cfg.clone()
    };
    assert_eq!(
        ids(&with_password),
        vec![
            ("rpc-public-without-rpcauth", Level::Refuse),
            ("rpc-plain-password", Level::Warn)
        ]
    );
    assert!(!format!("{:#}", enforce(&with_password).unwrap_err()).contains("hunter2"));
    // rpcauth makes it acceptable; loopback binds too; regtest only warns.
    let with_rpcauth = NodeConfig {
        rpcauth: vec![format!("alice:{}${}", "ab".repeat(16), "cd".repeat(32))],
        ..cfg.clone()
    };
    assert_eq!(ids(&with_rpcauth), vec![]);
    let loop_v6 = NodeConfig {
        rpcbind: vec!["[::1]:8332".into(), "127.0.0.2".into()],
        ..mainnet()
    };
    assert_eq!(ids(&loop_v6), vec![]);
    let regtest = NodeConfig {
        network: NetworkArg::Regtest,
        ..cfg.clone()
    };
    assert_eq!(
        ids(&regtest),
        vec![("rpc-public-without-rpcauth", Level::Warn)]
    );
    assert!(enforce(&regtest).is_ok());
    // With the server off nothing listens.
    let off = NodeConfig {
        server: false,
        ..cfg.clone()
    };
    assert_eq!(ids(&off), vec![]);
    // The operator may accept it by name.
    let accepted = NodeConfig {
        accept_risk: vec!["rpc-public-without-rpcauth".into()],
        ..cfg
    };
    assert!(enforce(&accepted).is_ok());
}

#[test]
fn open_quic_listener_is_refused_on_mainnet_only() {
    let cfg = NodeConfig {
        quic_listen: Some("0.0.0.0:9000".into()),
        quic_open: true,
        ..mainnet()
    };
    assert_eq!(ids(&cfg), vec![("quic-open-mainnet", Level::Refuse)]);
    assert!(format!("{:#}", enforce(&cfg).unwrap_err()).contains("quic_open"));
    let signet = NodeConfig {
        network: NetworkArg::Signet,
        ..cfg.clone()
    };
    assert_eq!(ids(&signet), vec![("quic-open-mainnet", Level::Warn)]);
    let pinned = NodeConfig {
        quic_open: false,
        quic_peer: vec![format!("{}@10.0.0.1:9000", "ab".repeat(32))],
        ..cfg
    };
    assert_eq!(ids(&pinned), vec![]);
}

#[test]
fn metrics_connections_and_errors() {
    let cfg = NodeConfig {
        metrics_bind: Some("0.0.0.0".into()),
        maxconnections: 5000,
        ..mainnet()
    };
    assert_eq!(
        ids(&cfg),
        vec![
            ("maxconnections-high", Level::Refuse),
            ("metrics-public", Level::Warn)
        ]
    );
    // Errors cannot be accepted away, and each names its key.
    let bad = NodeConfig {
        rpcpassword: Some(Secret::new("x".into())),
        listen: false,
        bind: vec!["127.0.0.1:1".into()],
        rpcbind: vec!["localhost".into()],
        rpcauth: vec!["bob:nohash".into()],
        quic_listen: Some("nowhere".into()),
        quic_peer: vec!["zz@host:1".into()],
        accept_risk: vec!["everything".into()],
        ..mainnet()
    };
    let found = audit(&bad);
    let keys: Vec<&str> = found.iter().map(|f| f.key).collect();
    for key in [
        "rpcpassword",
        "bind",
        "rpcauth",
        "rpcbind",
        "quic_listen",
        "quic_peer",
        "accept_risk",
    ] {
        assert!(keys.contains(&key), "{key} not named in {found:?}");
    }
    assert!(found.iter().all(|f| f.level == Level::Error));
    let err = format!("{:#}", enforce(&bad).unwrap_err());
    assert!(err.contains("error: quic_peer"), "{err}");
}

#[test]
fn datadir_checks() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let cfg = |d: &std::path::Path| NodeConfig {
        datadir: d.to_owned(),
        ..NodeConfig::default()
    };
    let f = audit(&cfg(&file));
    assert_eq!(f.len(), 1);
    assert!(f[0].key == "datadir" && f[0].message.contains("not a directory"));
    let d = dir.path().join("open");
    std::fs::create_dir(&d).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(ids(&cfg(&d)), vec![("datadir-permissions", Level::Warn)]);
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(ids(&cfg(&d)), vec![]);
}

#[test]
fn effective_settings_redact_secrets_and_parse_back() {
    let cfg = NodeConfig {
        rpcuser: Some("u".into()),
        rpcpassword: Some(Secret::new("hunter2".into())),
        rpcauth: vec![format!("alice:{}${}", "ab".repeat(16), "cd".repeat(32))],
        quic_peer: vec![format!("{}@10.0.0.1:9000", "ef".repeat(32))],
        ..mainnet()
    };
    let text = effective_toml(&cfg).unwrap();
    assert!(
        !text.contains("hunter2") && !text.contains(&"cd".repeat(32)),
        "{text}"
    );
    assert!(text.contains("alice:[redacted]"), "{text}");
    assert!(text.contains("[quic_limits]"), "{text}");
    // The printout is itself a valid config: every key the node has, nothing unknown.
    let back: NodeConfig = toml::from_str(&text).unwrap();
    assert_eq!(back.quic_peer, cfg.quic_peer);
    assert_eq!(back.maxconnections, cfg.maxconnections);
    assert_eq!(back.datadir, cfg.datadir);
    // The network's upload target is shown resolved, and reads back as the same amount.
    assert!(text.contains("maxuploadtarget = \"500G\""), "{text}");
    assert_eq!(back.max_upload_target(), cfg.max_upload_target());
    let signet = NodeConfig {
        network: NetworkArg::Signet,
        whitelist_download: vec![[10, 0, 0, 9].into()],
        ..cfg
    };
    let text = effective_toml(&signet).unwrap();
    assert!(text.contains("maxuploadtarget = \"100G\""), "{text}");
    assert!(
        text.contains("whitelist_download = [\"10.0.0.9\"]"),
        "{text}"
    );
}

#[test]
fn file_errors_name_the_key() {
    let err = |text: &str| toml::from_str::<NodeConfig>(text).unwrap_err().to_string();
    let e = err("netwrok = \"regtest\"\n");
    assert!(e.contains("unknown field `netwrok`"), "{e}");
    let e = err("cache_mb = \"lots\"\n");
    assert!(e.contains("cache_mb"), "{e}");
    let e = err("[quic_limits]\nmax_uni_streams = -1\n");
    assert!(e.contains("max_uni_streams"), "{e}");
    let e = err("network = \"mainnett\"\n");
    assert!(e.contains("network") && e.contains("mainnett"), "{e}");
}
