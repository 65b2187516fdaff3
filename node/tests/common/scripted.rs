//! A scripted peer for misbehaviour tests: it serves a chain of blocks (from files, with our
//! own net crate) and misbehaves as told. bitcoind cannot play these parts: it never serves an
//! invalid block, a mutated copy, or withholds blocks it announced.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use bitcoin::hashes::Hash as _;
use sluice_consensus::hash::Hash256;
use sluice_consensus::header::Header;
use sluice_loadgen::block::{assemble, block_time, subsidy, CoinbaseSpec};
use sluice_net::peer::PeerConfig;
use sluice_net::wire::Inventory;
use sluice_net::{Message, Network, NetworkConfig, PeerEvent};
use sluice_storage::blockfile::{read_block_file, MAGIC_REGTEST};

/// How the peer misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// Serves its chain honestly.
    Honest,
    /// Announces its chain but never sends a block.
    Withhold,
    /// Sends every block with its last byte flipped (a copy whose merkle root no longer matches).
    Mutate,
}

/// A running scripted peer; it stops when dropped.
pub struct ScriptedPeer {
    pub addr: SocketAddr,
    /// Peers that connected, and whether they are still connected.
    pub events: Arc<std::sync::Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
    network: Network,
}

impl Drop for ScriptedPeer {
    fn drop(&mut self) {
        self.network.shutdown();
        self.task.abort();
    }
}

/// The honest chain up to `fork`, then a block whose coinbase claims one satoshi too many, then
/// `extra` empty blocks: more work than the honest chain when `fork + 1 + extra` is larger.
pub fn invalid_branch(honest: &[Vec<u8>], fork: u32, extra: u32) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = honest[..=fork as usize].to_vec();
    let prev: bitcoin::Block = bitcoin::consensus::deserialize(&out[fork as usize]).unwrap();
    let mut prev_hash = prev.block_hash();
    for height in fork + 1..=fork + 1 + extra {
        let over = u64::from(height == fork + 1);
        let coinbase = CoinbaseSpec {
            bip34_height: height,
            value: subsidy(height) + over,
            script_pubkey: bitcoin::ScriptBuf::from_bytes(vec![0x51]),
            commitment_override: None,
        };
        let block = assemble(prev_hash, block_time(height) + 1, &coinbase, Vec::new());
        prev_hash = block.block_hash();
        out.push(bitcoin::consensus::serialize(&block));
    }
    assert_ne!(prev_hash, bitcoin::BlockHash::all_zeros());
    out
}

/// Reads a loadgen chain directory's blocks (genesis first).
pub fn read_blocks(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for f in sluice_storage::blockfile::list_block_files(dir).unwrap() {
        out.extend(
            read_block_file(&f, MAGIC_REGTEST)
                .unwrap()
                .blocks
                .into_iter()
                .map(|b| b.bytes),
        );
    }
    out
}

impl ScriptedPeer {
    /// Listens on loopback and serves `blocks` (a chain from genesis) following `script`.
    pub async fn start(blocks: Vec<Vec<u8>>, script: Script) -> Self {
        let headers: Vec<Header> = blocks.iter().map(|b| Header::decode(b).unwrap()).collect();
        let by_hash: HashMap<Hash256, usize> = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.block_hash(), i))
            .collect();
        let mut cfg = NetworkConfig::new(PeerConfig::new(MAGIC_REGTEST));
        cfg.listen = vec!["127.0.0.1:0".parse().unwrap()];
        cfg.v2 = false;
        let (network, mut rx) = Network::start(cfg).await.unwrap();
        let addr = network.local_addrs()[0];
        let events = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = events.clone();
        let net = network.clone();
        let task = tokio::spawn(async move {
            while let Some((peer, ev)) = rx.recv().await {
                match ev {
                    PeerEvent::Connected(_) => {
                        log.lock().unwrap().push(format!("connected {peer}"));
                    }
                    PeerEvent::Disconnect { reason, discourage } => log
                        .lock()
                        .unwrap()
                        .push(format!("disconnected {peer}: {reason} {discourage}")),
                    PeerEvent::Message(Message::GetHeaders(req)) => {
                        let start = req
                            .locator
                            .iter()
                            .find_map(|h| by_hash.get(h))
                            .map_or(1, |i| i + 1);
                        let reply: Vec<Header> =
                            headers.iter().skip(start).take(2000).copied().collect();
                        let _ = net.send(peer, Message::Headers(reply)).await;
                    }
                    PeerEvent::Message(Message::GetData(items)) => {
                        if script == Script::Withhold {
                            continue;
                        }
                        for Inventory { hash, .. } in items {
                            let Some(&i) = by_hash.get(&hash) else {
                                continue;
                            };
                            let mut b = blocks[i].clone();
                            if script == Script::Mutate {
                                if let Some(last) = b.last_mut() {
                                    *last ^= 1;
                                }
                            }
                            let _ = net.send(peer, Message::Block(b.into())).await;
                        }
                    }
                    PeerEvent::Message(_) => {}
                }
            }
        });
        Self {
            addr,
            events,
            task,
            network,
        }
    }

    /// Waits up to 60 s for a peer to disconnect from it: the node may reach the honest tip
    /// before it has processed this peer's blocks (it downloads every peer's chain at once).
    pub async fn dropped(&self) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !self.was_disconnected() {
            if std::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        true
    }

    /// Whether a peer disconnected from it (its log names each disconnection).
    pub fn was_disconnected(&self) -> bool {
        self.events
            .lock()
            .unwrap()
            .iter()
            .any(|e| e.starts_with("disconnected"))
    }
}
