//! A network partition and a deep reorganisation, in a network namespace of the test's own.
//!
//! Four nodes: side A is bitcoind A and Sluice A (TCP), side B is bitcoind B and Sluice B (TCP).
//! Two links cross the sides: bitcoind B → bitcoind A over TCP, and Sluice B → Sluice A over
//! QUIC. The links first lose 3 % of their packets (nftables `numgen random`) while a few blocks
//! cross; then they are cut (every packet of the two connections dropped, by conntrack's
//! their ports), each side mines its own branch (A 50 blocks, B 55), the cut is
//! healed, and every node must converge on B's branch, the one with the most work: side A
//! reorganises 50 blocks deep. All four end with the same tip and the same UTXO set (MuHash).
//!
//! The links are also rate-limited (`tc tbf` on the namespace's loopback, 50 Mbit/s), and side B
//! has a third peer that relays a branch with an invalid block and more work than either side:
//! Sluice B drops it and no node follows it.
//!
//! The test re-runs itself under `unshare --net` (only a loopback device there), so its
//! nftables rules and its ports never touch the machine's network, and the namespace dies with
//! the process. Needs root; bounded in time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::scripted::{invalid_branch, read_blocks, Script, ScriptedPeer};
use common::{muhash, node_config, pin_of, wait_tip, with_quic};
use sluice_bitcoind::{free_port, Bitcoind};
use sluice_loadgen::{generate, ChainSpec};
use sluice_node::run::{self, NodeHandle};

const INNER: &str = "SLUICE_PARTITION_INNER";
const TEST: &str = "a_partition_heals_onto_the_most_work_chain_after_a_deep_reorg";
const BLOCKS: u32 = 100;
const LIMIT: Duration = Duration::from_secs(120);
const TABLE: &str = "sluice_partition";

#[test]
fn a_partition_heals_onto_the_most_work_chain_after_a_deep_reorg() {
    if std::env::var_os(INNER).is_some() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(inner());
        return;
    }
    let status = Command::new("unshare")
        .args(["--net", "--"])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
        .env(INNER, "1")
        .status()
        .expect("unshare (util-linux)");
    assert!(status.success(), "the test in its namespace: {status}");
}

fn sh(program: &str, args: &[&str], stdin: Option<&str>) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    if let Some(text) = stdin {
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "{program} {args:?}: {status}");
}

/// The two crossing links' rules: `loss` percent of their packets dropped, or all when cut. Each
/// link is one connection to a port nothing else uses, so its packets in both directions are
/// those to or from that port.
fn links(ports: [u16; 2], loss: u32, cut: bool) {
    let action = if cut {
        "counter drop".to_string()
    } else {
        format!("numgen random mod 100 < {loss} counter drop")
    };
    let set = format!("{{ {}, {} }}", ports[0], ports[1]);
    let _ = Command::new("nft")
        .args(["delete", "table", "inet", TABLE])
        .stderr(Stdio::null())
        .status();
    sh(
        "nft",
        &["-f", "-"],
        Some(&format!(
            "table inet {TABLE} {{\n  chain input {{\n    type filter hook input priority 0; policy accept;\n    \
             meta l4proto {{ tcp, udp }} th dport {set} {action}\n    \
             meta l4proto {{ tcp, udp }} th sport {set} {action}\n  }}\n}}\n"
        )),
    );
}

async fn all_at(nodes: &[&NodeHandle], cores: &[&Bitcoind], tip: &str) {
    for n in nodes {
        wait_tip(n, tip, LIMIT).await;
    }
    tokio::task::block_in_place(|| {
        for c in cores {
            c.wait_for(LIMIT, |b| b.best_hash() == tip);
        }
    });
}

fn mine(core: &Bitcoind, n: u32, tag: u8) -> String {
    // A script of each side's own, so the two branches never share a block.
    core.cli(&[
        "generatetodescriptor",
        &n.to_string(),
        &format!("raw(01{tag:02x})"),
    ]);
    core.best_hash()
}

async fn inner() {
    sh("ip", &["link", "set", "lo", "up"], None);
    sh(
        "tc",
        &[
            "qdisc", "add", "dev", "lo", "root", "tbf", "rate", "50mbit", "burst", "256kb",
            "latency", "500ms",
        ],
        None,
    );
    let chain = tempfile::tempdir().unwrap();
    generate(&ChainSpec::small("mainnet-mix", BLOCKS, 47), chain.path()).unwrap();
    // The liar's branch: valid up to 60, then a bad coinbase amount, then 200 more blocks.
    let liar = ScriptedPeer::start(
        invalid_branch(&read_blocks(chain.path()), 60, 200),
        Script::Honest,
    )
    .await;

    // bitcoind A listens on a second port for the crossing link only.
    let cross_tcp = free_port();
    let (core_a, core_b) = tokio::task::block_in_place(|| {
        let a = Bitcoind::start(&[
            Bitcoind::loadblock(chain.path()),
            format!("-bind=127.0.0.1:{cross_tcp}"),
        ]);
        a.wait_height(BLOCKS, LIMIT);
        let b = Bitcoind::start(&[format!("-connect=127.0.0.1:{cross_tcp}")]);
        b.wait_height(BLOCKS, LIMIT);
        (a, b)
    });
    let tip = core_a.best_hash();

    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut ca = node_config(da.path(), &[core_a.p2p.to_string()], false);
    let mut cb = node_config(
        db.path(),
        &[core_b.p2p.to_string(), liar.addr.to_string()],
        false,
    );
    let fb = with_quic(&mut cb, &[], &[]);
    with_quic(&mut ca, &[format!("{fb}@127.0.0.1:1")], &[]);
    let a = run::start(&ca).await.unwrap();
    cb.quic_peer = vec![pin_of(&a)];
    cb.quic_connect = vec![a.quic_addr.unwrap().to_string()];
    let b = run::start(&cb).await.unwrap();
    let ports = [cross_tcp, a.quic_addr.unwrap().port()];
    all_at(&[&a, &b], &[&core_a, &core_b], &tip).await;

    // Lossy links: blocks still cross.
    links(ports, 3, false);
    let tip = tokio::task::block_in_place(|| mine(&core_a, 5, 0xaa));
    all_at(&[&a, &b], &[&core_a, &core_b], &tip).await;

    // Cut: each side mines its own branch and follows only it.
    links(ports, 0, true);
    let (tip_a, tip_b) =
        tokio::task::block_in_place(|| (mine(&core_a, 50, 0xa1), mine(&core_b, 55, 0xb1)));
    all_at(&[&a], &[&core_a], &tip_a).await;
    all_at(&[&b], &[&core_b], &tip_b).await;
    assert_ne!(tip_a, tip_b);
    // Still apart a while later: nothing crossed the cut.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        common::tip_of(&a),
        tip_a,
        "Sluice A saw side B through the cut"
    );
    assert_eq!(tokio::task::block_in_place(|| core_a.best_hash()), tip_a);

    // Healed: everyone converges on B's branch, the one with more work.
    links(ports, 0, false);
    all_at(&[&a, &b], &[&core_a, &core_b], &tip_b).await;
    let want = tokio::task::block_in_place(|| core_b.muhash());
    assert_eq!(tokio::task::block_in_place(|| core_a.muhash()), want);
    assert_eq!(
        muhash(&a),
        want,
        "Sluice A after the 50-block reorganisation"
    );
    assert_eq!(muhash(&b), want, "Sluice B");
    assert_eq!(a.status.borrow().height, BLOCKS + 5 + 55);
    assert!(
        liar.dropped().await,
        "Sluice B dropped the peer relaying an invalid block"
    );
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}
