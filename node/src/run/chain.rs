//! The chain thread: owns the [`Chainstate`] (store, pipeline, coordinator), takes blocks the
//! network layer stored, and reports commits, verdicts and faults back. It blocks on the
//! pipeline, so it runs on its own OS thread, never on the async runtime.

use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use crossbeam::channel::{select, unbounded, Receiver, Sender};
use sluice_consensus::hash::Hash256;
use sluice_consensus::header::Header;
use sluice_net::sync::PeerId;
use sluice_pipeline::chainstate::{BlockReader, Chainstate, Wait};
use sluice_pipeline::coordinator::{CoordinatorLimits, Offered, Resolved};
use sluice_pipeline::ImportConfig;
use sluice_storage::blockstore::{BlockPos, BlockStore};
use tokio::sync::{mpsc, watch};

/// What the network side sends the chain thread.
#[derive(Debug)]
pub enum ChainMsg {
    /// A stored block; `from` is the peer that sent it (`None`: replayed from disk).
    Block {
        header: Header,
        pos: BlockPos,
        bytes: Option<Arc<[u8]>>,
        from: Option<PeerId>,
    },
    /// Finish what is in flight, checkpoint and stop.
    Shutdown,
}

/// What the chain thread reports.
#[derive(Debug, Clone)]
pub enum ChainEvent {
    /// A block was connected to the active chain.
    Connected { hash: Hash256, height: u32 },
    /// The tip was disconnected (reorganisation).
    Disconnected { hash: Hash256, height: u32 },
    /// A block broke a rule (`mutated`: only this copy was bad).
    Invalid {
        hash: Hash256,
        reason: String,
        mutated: bool,
        from: Option<PeerId>,
    },
    /// The chain thread stopped on a fault: the node must stop.
    Fault(String),
    /// The chain thread finished (after a shutdown request).
    Stopped,
}

/// The committed tip and the UTXO set's figures, for status and RPC readers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TipStatus {
    pub height: u32,
    pub hash: Hash256,
    pub utxo_count: u64,
    /// MuHash of the UTXO set in display hex, when tracked.
    pub muhash: Option<String>,
}

struct Reader(Arc<Mutex<BlockStore>>);

impl BlockReader<BlockPos> for Reader {
    fn read(&mut self, loc: &BlockPos) -> std::io::Result<Vec<u8>> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .read(loc)
            .map_err(std::io::Error::other)
    }
}

/// A running chain thread.
#[derive(Debug)]
pub struct ChainThread {
    pub input: Sender<ChainMsg>,
    /// The pipeline's live counters (for metrics).
    pub probe: Option<sluice_pipeline::engine::PipelineProbe>,
    /// The UTXO store and the stages' shared state, for RPC readers.
    pub shared: Arc<sluice_pipeline::bitcoin::BitcoinStages>,
    /// Joined after the thread reports `Stopped` or a fault.
    pub handle: Option<JoinHandle<()>>,
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Opens the chainstate and starts the thread.
///
/// # Errors
/// The store could not be opened.
pub fn start(
    cfg: &ImportConfig,
    blocks: Arc<Mutex<BlockStore>>,
    events: mpsc::UnboundedSender<ChainEvent>,
    status: watch::Sender<TipStatus>,
) -> anyhow::Result<ChainThread> {
    let chain = Chainstate::<BlockPos>::open(cfg, CoordinatorLimits::default())?;
    let probe = chain.probe();
    let shared = chain.shared();
    let (input, rx) = unbounded();
    let handle = std::thread::Builder::new()
        .name("chain".into())
        .spawn(move || {
            let mut worker = Worker {
                chain,
                reader: Reader(blocks),
                events,
                status,
                senders: std::collections::HashMap::new(),
            };
            worker.publish();
            let result = worker.run(&rx);
            let msg = match result {
                Ok(()) => ChainEvent::Stopped,
                Err(e) => {
                    tracing::error!("chain thread stopped: {e:#}");
                    ChainEvent::Fault(format!("{e:#}"))
                }
            };
            let _ = worker.events.send(msg);
        })?;
    Ok(ChainThread {
        input,
        probe,
        shared,
        handle: Some(handle),
    })
}

struct Worker {
    chain: Chainstate<BlockPos>,
    reader: Reader,
    events: mpsc::UnboundedSender<ChainEvent>,
    status: watch::Sender<TipStatus>,
    /// Which peer sent each block not yet resolved (to discourage it if the block is bad).
    senders: std::collections::HashMap<Hash256, PeerId>,
}

impl Worker {
    fn run(&mut self, rx: &Receiver<ChainMsg>) -> anyhow::Result<()> {
        loop {
            self.drive()?;
            let feedback = self
                .chain
                .feedback()
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("pipeline gone"))?;
            select! {
                recv(rx) -> msg => match msg {
                    Ok(ChainMsg::Block { header, pos, bytes, from }) => self.offer(&header, pos, bytes, from),
                    Ok(ChainMsg::Shutdown) | Err(_) => return self.finish(),
                },
                recv(feedback) -> msg => {
                    let msg = msg.map_err(|_| anyhow::anyhow!("a pipeline stage stopped unexpectedly"))?;
                    let r = self.chain.apply_feedback(msg)?;
                    self.resolved(r);
                }
            }
        }
    }

    fn offer(
        &mut self,
        header: &Header,
        pos: BlockPos,
        bytes: Option<Arc<[u8]>>,
        from: Option<PeerId>,
    ) {
        let hash = header.block_hash();
        match self
            .chain
            .coordinator_mut()
            .offer(header, pos, bytes, now_secs())
        {
            Offered::Refused { reason } => {
                let _ = self.events.send(ChainEvent::Invalid {
                    hash,
                    reason,
                    mutated: false,
                    from,
                });
            }
            Offered::Accepted { .. } | Offered::Orphan => {
                if let Some(p) = from {
                    self.senders.insert(hash, p);
                }
            }
            Offered::Duplicate | Offered::OrphanPoolFull => {}
        }
        for (child, reason) in self.chain.coordinator_mut().take_refused() {
            let from = self.senders.remove(&child);
            let _ = self.events.send(ChainEvent::Invalid {
                hash: child,
                reason,
                mutated: false,
                from,
            });
        }
    }

    fn drive(&mut self) -> anyhow::Result<()> {
        let mut out = Vec::new();
        self.chain
            .drive(&mut self.reader, Wait::Return, &mut |r| out.push(r))?;
        for r in out {
            self.resolved(r);
        }
        Ok(())
    }

    fn resolved(&mut self, r: Resolved) {
        let ev = match r {
            Resolved::Committed(c) => {
                self.senders.remove(&c.hash);
                self.publish();
                ChainEvent::Connected {
                    hash: c.hash,
                    height: c.height,
                }
            }
            Resolved::Disconnected { hash, height } => {
                self.publish();
                ChainEvent::Disconnected { hash, height }
            }
            Resolved::Rejected {
                hash,
                reason,
                mutated,
                ..
            } => ChainEvent::Invalid {
                from: self.senders.remove(&hash),
                hash,
                reason,
                mutated,
            },
            Resolved::Discarded | Resolved::Checkpointed => return,
        };
        let _ = self.events.send(ev);
    }

    fn publish(&self) {
        let store = self.chain.store();
        let (height, hash) = store.tip().unwrap_or((0, self.chain.params().genesis_hash));
        let status = TipStatus {
            height,
            hash,
            utxo_count: store.coin_count(),
            muhash: store
                .muhash()
                .map(|m| sluice_consensus::hash::to_display_hex(&m)),
        };
        drop(store);
        self.status.send_replace(status);
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        let mut out = Vec::new();
        let result = self.chain.finish(&mut |r| out.push(r));
        for r in out {
            self.resolved(r);
        }
        result?;
        self.publish();
        Ok(())
    }
}
