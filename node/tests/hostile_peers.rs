//! Hostile peers while Sluice syncs from an honest bitcoind: each attack on its own inbound
//! connection, all at once. A peer floods `inv` (full 50,000-entry messages of unknown
//! transactions), `addrv2` and unsolicited junk transactions; another sends a long low-work
//! header chain forking from genesis and then an oversized `inv`; another announces a payload
//! of 33 MB in a frame header; another opens the handshake one byte at a time and stops.
//!
//! Checked: the node reaches bitcoind's tip with bitcoind's UTXO set (MuHash); the peers that
//! broke protocol rules (oversized message, oversized `inv`) are disconnected; the process's
//! resident memory stays under a bound far below what the floods would take if kept.
//! Loopback only; every loop is bounded in count and time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{muhash, node_config, wait_tip};
use sluice_bitcoind::Bitcoind;
use sluice_consensus::chain::{check_proof_of_work, Params};
use sluice_consensus::header::Header;
use sluice_loadgen::{generate, ChainSpec};
use sluice_net::peer::PeerConfig;
use sluice_net::wire::{AddrV2, AddrV2Entry};
use sluice_net::wire::{InvType, Inventory};
use sluice_net::{Message, Network, NetworkConfig, PeerEvent};
use sluice_node::run;
use sluice_storage::blockfile::MAGIC_REGTEST;
use tokio::io::AsyncWriteExt;

const BLOCKS: u32 = 300;
const LIMIT: Duration = Duration::from_secs(180);
/// Resident memory the whole test process (node included) may reach. The inv flood alone is
/// 200 × 50,000 hashes: 320 MB of announcements if they were kept.
const RSS_BOUND_MB: u64 = 400;

fn rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap()
        / 1024
}

/// A client network that connects to `node` and reports events of that one connection.
async fn attacker(
    node: SocketAddr,
) -> (
    Network,
    sluice_net::PeerId,
    tokio::sync::mpsc::Receiver<(sluice_net::PeerId, PeerEvent)>,
) {
    let mut cfg = NetworkConfig::new(PeerConfig::new(MAGIC_REGTEST));
    cfg.v2 = false;
    let (net, mut rx) = Network::start(cfg).await.unwrap();
    let peer = net.connect(node).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some((p, PeerEvent::Connected(_)))) if p == peer => break,
            Ok(Some(_)) => {}
            other => panic!("attacker not connected: {other:?}"),
        }
    }
    (net, peer, rx)
}

/// Waits (bounded) for the attacker's connection to end.
async fn disconnected(
    rx: &mut tokio::sync::mpsc::Receiver<(sluice_net::PeerId, PeerEvent)>,
    peer: sluice_net::PeerId,
) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some((p, PeerEvent::Disconnect { .. }))) if p == peer => return true,
            Ok(Some(_)) => {}
            _ => return false,
        }
    }
}

fn low_work_headers(n: usize) -> Vec<Header> {
    let p = Params::regtest();
    let mut prev = p.genesis_header();
    (0..n)
        .map(|i| {
            let mut h = Header {
                version: 4,
                prev_blockhash: prev.block_hash(),
                merkle_root: [0xee; 32],
                time: prev.time + 1,
                bits: prev.bits,
                nonce: u32::try_from(i).unwrap() << 8,
            };
            while !check_proof_of_work(&h.block_hash(), h.bits, &p) {
                h.nonce += 1;
            }
            prev = h;
            h
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_spam_and_oversized_messages_do_not_stop_an_honest_sync() {
    let chain = tempfile::tempdir().unwrap();
    generate(&ChainSpec::small("mainnet-mix", BLOCKS, 53), chain.path()).unwrap();
    let seed = tokio::task::block_in_place(|| {
        let s = Bitcoind::start(&[Bitcoind::loadblock(chain.path())]);
        s.wait_height(BLOCKS, LIMIT);
        s
    });
    let data = tempfile::tempdir().unwrap();
    let node = run::start(&node_config(data.path(), &[seed.p2p.to_string()], false))
        .await
        .unwrap();
    let addr = node.p2p_addrs[0];

    // Flooder: full-size inv messages, addrv2 and junk transactions.
    let (flood_net, flood_peer, _flood_rx) = attacker(addr).await;
    let flood = tokio::spawn(async move {
        let mut n = 0u64;
        for round in 0..200u32 {
            let inv: Vec<Inventory> = (0..50_000u32)
                .map(|i| {
                    let mut hash = [0u8; 32];
                    hash[..4].copy_from_slice(&round.to_le_bytes());
                    hash[4..8].copy_from_slice(&i.to_le_bytes());
                    Inventory {
                        kind: InvType::WTX,
                        hash,
                    }
                })
                .collect();
            let addrs: Vec<AddrV2Entry> = (0..1000u32)
                .map(|i| AddrV2Entry {
                    time: 1_700_000_000,
                    services: 1,
                    addr: AddrV2::Ipv4(Ipv4Addr::from(0x0a00_0000 | (round << 10) | i)),
                    port: 8333,
                })
                .collect();
            let junk: Arc<[u8]> = vec![round as u8; 200].into();
            for msg in [Message::Inv(inv), Message::AddrV2(addrs), Message::Tx(junk)] {
                if flood_net.send(flood_peer, msg).await.is_err() {
                    return n;
                }
                n += 1;
            }
        }
        n
    });

    // Header spammer: 2,000 low-work headers from genesis, then an inv over the limit.
    let (spam_net, spam_peer, mut spam_rx) = attacker(addr).await;
    spam_net
        .send(spam_peer, Message::Headers(low_work_headers(2000)))
        .await
        .unwrap();
    let too_many = vec![
        Inventory {
            kind: InvType::WTX,
            hash: [7; 32],
        };
        50_001
    ];
    let _ = spam_net.send(spam_peer, Message::Inv(too_many)).await;

    // Oversized frame: a header announcing 33 MB, then silence.
    let mut big = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut frame = Vec::from(MAGIC_REGTEST);
    frame.extend_from_slice(b"block\0\0\0\0\0\0\0");
    frame.extend_from_slice(&(33u32 << 20).to_le_bytes());
    frame.extend_from_slice(&[0; 4]);
    big.write_all(&frame).await.unwrap();

    // Slowloris: the first bytes of a version message, one every 100 ms, then nothing.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    for b in &MAGIC_REGTEST {
        slow.write_all(&[*b]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    wait_tip(&node, &seed.best_hash(), LIMIT).await;
    let sent = tokio::time::timeout(LIMIT, flood).await.unwrap().unwrap();
    assert!(sent > 0, "the flood sent nothing");
    assert_eq!(muhash(&node), seed.muhash(), "UTXO set under attack");
    assert!(
        disconnected(&mut spam_rx, spam_peer).await,
        "the peer sending a 50,001-entry inv is disconnected"
    );
    let mut buf = [0u8; 64];
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        use tokio::io::AsyncReadExt;
        loop {
            match big.read(&mut buf).await {
                Ok(0) | Err(_) => return true,
                Ok(_) => {}
            }
        }
    })
    .await
    .unwrap_or(false);
    assert!(closed, "the peer announcing 33 MB is disconnected");
    let rss = rss_mb();
    println!("{sent} flood messages sent; peak RSS {rss} MB");
    assert!(rss < RSS_BOUND_MB, "peak RSS {rss} MB");
    drop(slow);
    node.shutdown().await.unwrap();
}
