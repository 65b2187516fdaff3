//! Every series: updated through its seam, read back from the rendered text.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use sluice_net::{Direction, PeerId, TransportKind};
use tokio::sync::watch;

use super::*;

/// The value of the sample `series` (name and labels exactly as rendered).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.rsplit_once(' ').filter(|(s, _)| *s == series))
        .and_then(|(_, v)| v.parse().ok())
}

/// Checks the structure of the exposition format: every family has one HELP and one TYPE line
/// before its samples, samples of a family are contiguous and belong to it (with `_bucket`,
/// `_sum`, `_count` for histograms), histogram buckets are cumulative and end with `+Inf`
/// equal to `_count`, label values are quoted, values parse.
fn check_format(text: &str) {
    let mut typed: HashMap<String, String> = HashMap::new();
    let mut helped: HashSet<String> = HashSet::new();
    let mut done: HashSet<String> = HashSet::new();
    let mut current: Option<String> = None;
    let mut last_bucket: Option<(String, f64)> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap().to_owned();
            assert!(helped.insert(name.clone()), "two HELP lines for {name}");
            if let Some(c) = current.take() {
                done.insert(c);
            }
            assert!(!done.contains(&name), "{name} appears twice");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(helped.contains(name), "TYPE before HELP for {name}");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            assert!(typed.insert(name.into(), kind.into()).is_none());
            current = Some(name.into());
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.is_empty(),
            "stray line {line:?}"
        );
        let (series, v) = line.rsplit_once(' ').unwrap();
        let v: f64 = match v {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
        };
        let (name, labels) = series.split_once('{').unwrap_or((series, ""));
        if !labels.is_empty() {
            assert!(labels.ends_with("\"}"), "{line}");
            for pair in labels.trim_end_matches('}').split("\",") {
                let (k, val) = pair.split_once("=\"").unwrap_or_else(|| panic!("{line}"));
                assert!(!k.is_empty() && !val.contains('\n'), "{line}");
            }
        }
        let family = current
            .as_deref()
            .unwrap_or_else(|| panic!("sample before TYPE: {line}"));
        let kind = &typed[family];
        if kind == "histogram" {
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .unwrap_or_else(|| panic!("{name} is not a histogram series"));
            assert_eq!(base, family);
            let key: Vec<&str> = labels
                .trim_start_matches('{')
                .trim_end_matches('}')
                .split(',')
                .filter(|p| !p.starts_with("le="))
                .collect();
            let key = key.join(",");
            if name.ends_with("_bucket") {
                let prev = last_bucket
                    .as_ref()
                    .filter(|(k, _)| *k == key)
                    .map_or(0.0, |(_, p)| *p);
                assert!(v >= prev, "buckets must be cumulative: {line}");
                last_bucket = Some((key, v));
            } else if name.ends_with("_count") {
                let (k, inf) = last_bucket.take().expect("buckets before _count");
                assert_eq!(k, key, "_count after its own buckets: {line}");
                assert_eq!(inf, v, "+Inf bucket equals _count: {line}");
            }
        } else {
            assert_eq!(name, family, "sample of another family: {line}");
            if kind == "counter" {
                assert!(name.ends_with("_total"), "{name}");
                assert!(v >= 0.0);
            }
        }
    }
}

#[test]
fn an_empty_registry_renders_every_family_validly() {
    let m = NodeMetrics::new(Sources::default());
    let text = m.render();
    check_format(&text);
    for series in [
        "sluice_chain_height",
        "sluice_header_height",
        "sluice_blocks_connected_total",
        "sluice_mempool_transactions",
        "sluice_mempool_bytes",
        "sluice_mempool_orphans",
        "sluice_peers{direction=\"inbound\",transport=\"v1\"}",
        "sluice_peers{direction=\"outbound\",transport=\"v2\"}",
        "sluice_net_bytes_total{direction=\"in\"}",
    ] {
        assert_eq!(value(&text, series), Some(0.0), "{series} in\n{text}");
    }
    assert!(text.contains("# TYPE sluice_rpc_request_duration_seconds histogram\n"));
}

#[test]
fn upload_target_series() {
    let m = NodeMetrics::new(Sources::default());
    let text = m.render();
    for series in [
        "sluice_upload_target_bytes",
        "sluice_upload_cycle_sent_bytes",
        "sluice_upload_target_reached",
        "sluice_upload_refused_total",
    ] {
        assert_eq!(value(&text, series), Some(0.0), "{series} in\n{text}");
    }
    m.set_upload(5 << 30, 1234, true);
    m.upload_refused();
    m.upload_refused();
    let text = m.render();
    check_format(&text);
    assert_eq!(
        value(&text, "sluice_upload_target_bytes"),
        Some(5_368_709_120.0)
    );
    assert_eq!(value(&text, "sluice_upload_cycle_sent_bytes"), Some(1234.0));
    assert_eq!(value(&text, "sluice_upload_target_reached"), Some(1.0));
    assert_eq!(value(&text, "sluice_upload_refused_total"), Some(2.0));
    m.set_upload(5 << 30, 0, false);
    assert_eq!(
        value(&m.render(), "sluice_upload_target_reached"),
        Some(0.0)
    );
}

#[test]
fn chain_header_and_block_series() {
    let (tx, rx) = watch::channel(TipStatus::default());
    let m = NodeMetrics::new(Sources {
        status: Some(rx),
        ..Sources::default()
    });
    tx.send_replace(TipStatus {
        height: 120,
        utxo_count: 77,
        ..TipStatus::default()
    });
    m.set_header_height(150);
    for _ in 0..3 {
        m.block_connected();
    }
    m.block_disconnected();
    let text = m.render();
    check_format(&text);
    assert_eq!(value(&text, "sluice_chain_height"), Some(120.0));
    assert_eq!(value(&text, "sluice_header_height"), Some(150.0));
    assert_eq!(value(&text, "sluice_utxos"), Some(77.0));
    assert_eq!(value(&text, "sluice_blocks_connected_total"), Some(3.0));
    assert_eq!(value(&text, "sluice_blocks_disconnected_total"), Some(1.0));
    let s = m.snapshot();
    assert_eq!((s.height, s.headers, s.blocks_connected), (120, 150, 3));
}

#[test]
fn peers_by_direction_and_transport() {
    let m = NodeMetrics::new(Sources::default());
    m.peer_connected(PeerId(1), Direction::Outbound, TransportKind::V2);
    m.peer_connected(PeerId(2), Direction::Outbound, TransportKind::V2);
    m.peer_connected(PeerId(3), Direction::Inbound, TransportKind::V1);
    m.peer_disconnected(PeerId(2));
    m.peer_disconnected(PeerId(9)); // never finished its handshake: nothing to remove
    let text = m.render();
    let peers = |d: &str, t: &str| {
        value(
            &text,
            &format!("sluice_peers{{direction=\"{d}\",transport=\"{t}\"}}"),
        )
    };
    assert_eq!(peers("outbound", "v2"), Some(1.0));
    assert_eq!(peers("inbound", "v1"), Some(1.0));
    assert_eq!(peers("inbound", "v2"), Some(0.0));
    assert_eq!(peers("outbound", "v1"), Some(0.0));
    assert_eq!(m.snapshot().peers, 2);
}

#[test]
fn fault_counters_and_datadir_space() {
    let dir = tempfile::tempdir().unwrap();
    let m = NodeMetrics::new(Sources {
        datadir: Some(dir.path().to_owned()),
        ..Sources::default()
    });
    let text = m.render();
    check_format(&text);
    for series in [
        "sluice_blocks_invalid_total{kind=\"invalid\"}",
        "sluice_blocks_invalid_total{kind=\"mutated\"}",
        "sluice_transactions_rejected_total",
        "sluice_peers_discouraged_total",
        "sluice_rpc_auth_failures_total",
    ] {
        assert_eq!(value(&text, series), Some(0.0), "{series} in\n{text}");
    }
    m.block_invalid(false);
    m.block_invalid(true);
    m.block_invalid(true);
    m.tx_rejected();
    m.peer_discouraged();
    for _ in 0..4 {
        m.rpc_auth_failed();
    }
    let text = m.render();
    check_format(&text);
    let v = |s: &str| value(&text, s);
    assert_eq!(
        v("sluice_blocks_invalid_total{kind=\"invalid\"}"),
        Some(1.0)
    );
    assert_eq!(
        v("sluice_blocks_invalid_total{kind=\"mutated\"}"),
        Some(2.0)
    );
    assert_eq!(v("sluice_transactions_rejected_total"), Some(1.0));
    assert_eq!(v("sluice_peers_discouraged_total"), Some(1.0));
    assert_eq!(v("sluice_rpc_auth_failures_total"), Some(4.0));
    // The free space agrees with an independent statvfs of the same directory (within what
    // other processes may write meanwhile: 1 GiB).
    let (free, size) = (
        v("sluice_datadir_free_bytes").unwrap(),
        v("sluice_datadir_size_bytes").unwrap(),
    );
    assert!(size > 0.0 && free <= size, "free {free} size {size}");
    let st = nix::sys::statvfs::statvfs(dir.path()).unwrap();
    #[allow(clippy::cast_precision_loss, clippy::useless_conversion)]
    let expect = (u64::from(st.blocks_available()) * u64::from(st.fragment_size())) as f64;
    assert!(
        (free - expect).abs() < f64::from(1u32 << 30),
        "{free} vs {expect}"
    );
    // A datadir that is gone: the series is left out, not made up.
    let gone = NodeMetrics::new(Sources {
        datadir: Some(dir.path().join("missing")),
        ..Sources::default()
    });
    assert_eq!(value(&gone.render(), "sluice_datadir_free_bytes"), None);
}

#[test]
fn mempool_seam() {
    let m = NodeMetrics::new(Sources::default());
    m.set_mempool(12, 3456);
    let text = m.render();
    assert_eq!(value(&text, "sluice_mempool_transactions"), Some(12.0));
    assert_eq!(value(&text, "sluice_mempool_bytes"), Some(3456.0));
    m.set_mempool(0, 0);
    assert_eq!(value(&m.render(), "sluice_mempool_bytes"), Some(0.0));
    assert_eq!(value(&m.render(), "sluice_mempool_orphans"), Some(0.0));
    m.set_orphans(3);
    assert_eq!(value(&m.render(), "sluice_mempool_orphans"), Some(3.0));
}

#[test]
fn rpc_latency_histogram_per_method() {
    let m = NodeMetrics::new(Sources::default());
    m.observe_rpc("getblockcount", Duration::from_micros(80));
    m.observe_rpc("getblockcount", Duration::from_millis(3));
    m.observe_rpc("getblock", Duration::from_secs(20));
    let text = m.render();
    check_format(&text);
    let b = |method: &str, le: &str| {
        value(
            &text,
            &format!(
                "sluice_rpc_request_duration_seconds_bucket{{method=\"{method}\",le=\"{le}\"}}"
            ),
        )
    };
    assert_eq!(b("getblockcount", "0.0001"), Some(1.0));
    assert_eq!(b("getblockcount", "0.0025"), Some(1.0));
    assert_eq!(b("getblockcount", "0.005"), Some(2.0));
    assert_eq!(b("getblockcount", "+Inf"), Some(2.0));
    assert_eq!(b("getblock", "10"), Some(0.0), "20 s is above every bound");
    assert_eq!(b("getblock", "+Inf"), Some(1.0));
    let sum = value(
        &text,
        "sluice_rpc_request_duration_seconds_sum{method=\"getblockcount\"}",
    );
    assert_eq!(sum, Some(0.00308));
}

#[test]
fn rpc_method_labels_are_bounded_and_escaped() {
    let m = NodeMetrics::new(Sources::default());
    for i in 0..200 {
        m.observe_rpc(&format!("m{i}"), Duration::from_micros(1));
    }
    m.observe_rpc("m0", Duration::from_micros(1));
    let text = m.render();
    check_format(&text);
    let methods: HashSet<&str> = text
        .lines()
        .filter(|l| l.starts_with("sluice_rpc_request_duration_seconds_count"))
        .collect();
    assert_eq!(methods.len(), MAX_RPC_METHODS);
    let count = |method: &str| {
        value(
            &text,
            &format!("sluice_rpc_request_duration_seconds_count{{method=\"{method}\"}}"),
        )
    };
    assert_eq!(
        count("m0"),
        Some(2.0),
        "known methods keep their own series"
    );
    assert_eq!(count(OTHER_METHOD), Some(f64::from(200 - 63)));

    let m = NodeMetrics::new(Sources::default());
    m.observe_rpc("we\"ird\\\nname", Duration::from_micros(1));
    let text = m.render();
    check_format(&text);
    assert!(text.contains("method=\"we\\\"ird\\\\\\nname\""), "{text}");
}

struct Memory(Vec<Vec<u8>>);

impl sluice_pipeline::chainstate::BlockReader<usize> for Memory {
    fn read(&mut self, loc: &usize) -> std::io::Result<Vec<u8>> {
        Ok(self.0[*loc].clone())
    }
}

#[test]
fn pipeline_stage_and_batch_series() {
    use sluice_consensus::header::Header;
    use sluice_pipeline::chainstate::{Chainstate, Wait};
    use sluice_pipeline::coordinator::CoordinatorLimits;

    let dir = tempfile::tempdir().unwrap();
    let cfg = sluice_pipeline::testchain::test_import_config(dir.path().join("chain"));
    let params = sluice_consensus::chain::Params::regtest();
    let blocks = sluice_pipeline::testchain::linear(&params, 20, 2);
    let mut chain = Chainstate::<usize>::open(&cfg, CoordinatorLimits::default()).unwrap();
    let m = NodeMetrics::new(Sources {
        pipeline: chain.probe(),
        ..Sources::default()
    });
    let before = m.render();
    check_format(&before);
    assert_eq!(
        value(&before, "sluice_stage_items_total{stage=\"apply\"}"),
        Some(0.0)
    );
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    for (i, b) in blocks.iter().enumerate() {
        let header = Header::decode(b).unwrap();
        let _ = chain.coordinator_mut().offer(&header, i, None, now);
    }
    let mut committed = 0;
    let mut count = |r| {
        committed += usize::from(matches!(
            r,
            sluice_pipeline::coordinator::Resolved::Committed(_)
        ));
    };
    chain
        .drive(&mut Memory(blocks), Wait::Block, &mut count)
        .unwrap();
    // The last blocks resolve as the pipeline drains; its counters outlive it.
    chain.finish(&mut count).unwrap();
    assert_eq!(committed, 20);
    let text = m.render();
    check_format(&text);
    for stage in ["parse", "context", "fetch", "script", "batch", "apply"] {
        let items = value(
            &text,
            &format!("sluice_stage_items_total{{stage=\"{stage}\"}}"),
        );
        assert!(items.is_some_and(|n| n >= 1.0), "{stage}: {items:?}");
        let busy = value(
            &text,
            &format!("sluice_stage_busy_seconds_total{{stage=\"{stage}\"}}"),
        );
        assert!(busy.is_some_and(|s| s > 0.0), "{stage}: {busy:?}");
        let depth = value(
            &text,
            &format!("sluice_stage_queue_depth{{stage=\"{stage}\"}}"),
        );
        assert!(depth.is_some(), "{stage}");
    }
    assert_eq!(
        value(&text, "sluice_stage_items_total{stage=\"apply\"}"),
        Some(20.0)
    );
    assert_eq!(
        value(&text, "sluice_stage_workers{stage=\"parse\"}"),
        Some(1.0)
    );
    // OP_TRUE blocks carry no deferred signatures; every block went through some batch.
    assert_eq!(value(&text, "sluice_batch_blocks_sum"), Some(20.0));
    assert_eq!(value(&text, "sluice_batch_signatures_sum"), Some(0.0));
    assert!(value(&text, "sluice_batch_blocks_count").is_some_and(|n| (1.0..=20.0).contains(&n)));
}
