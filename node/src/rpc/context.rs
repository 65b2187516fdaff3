//! What methods read: the committed tip, the UTXO store, the block files, and the node's event
//! loop (header tree, peers), which answers queries sent to it as closures.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard};
use std::time::Instant;

use sluice_consensus::block::Block;
use sluice_consensus::chain::Params;
use sluice_consensus::coin::OutPoint;
use sluice_consensus::hash::Hash256;
use sluice_pipeline::bitcoin::BitcoinStages;
use sluice_storage::blockstore::BlockStore;
use sluice_storage::ChainStore;
use tokio::sync::{mpsc, oneshot, watch};

use super::error::{RpcError, RPC_INTERNAL_ERROR, RPC_INVALID_PARAMETER};
use crate::run::{NodeLoop, TipStatus};

/// A question for the node's event loop, answered on its task (it owns the header tree and
/// the peers). Closures must be quick: the loop moves every network message.
pub type NodeQuery = Box<dyn FnOnce(&mut NodeLoop) + Send>;

/// The mempool as RPC methods outside the mempool's own see it (`getrawtransaction` without a
/// block hash, `gettxout` with `include_mempool`). Installed with [`Context::set_mempool`].
pub trait MempoolView: Send + Sync {
    /// The serialized transaction with this txid, if in the mempool.
    fn transaction(&self, txid: &Hash256) -> Option<Vec<u8>>;
    /// Whether a mempool transaction spends this outpoint.
    fn spends(&self, outpoint: &OutPoint) -> bool;
}

/// Everything the built-in methods need.
pub struct Context {
    pub params: Params,
    pub status: watch::Receiver<TipStatus>,
    pub blocks: Arc<Mutex<BlockStore>>,
    pub stages: Arc<BitcoinStages>,
    pub node: mpsc::UnboundedSender<NodeQuery>,
    pub started: Instant,
    pub datadir: PathBuf,
    /// What the node tells peers: its service bits and user agent.
    pub local_services: u64,
    pub subversion: String,
    mempool: RwLock<Option<Arc<dyn MempoolView>>>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("datadir", &self.datadir)
            .finish()
    }
}

impl Context {
    #[must_use]
    pub fn new(
        params: Params,
        status: watch::Receiver<TipStatus>,
        blocks: Arc<Mutex<BlockStore>>,
        stages: Arc<BitcoinStages>,
        node: mpsc::UnboundedSender<NodeQuery>,
        datadir: PathBuf,
        (local_services, subversion): (u64, String),
    ) -> Self {
        Self {
            params,
            status,
            blocks,
            stages,
            node,
            started: Instant::now(),
            datadir,
            local_services,
            subversion,
            mempool: RwLock::new(None),
        }
    }

    /// Installs the mempool's view (the seam the mempool plugs into).
    pub fn set_mempool(&self, view: Arc<dyn MempoolView>) {
        *self.mempool.write().unwrap_or_else(PoisonError::into_inner) = Some(view);
    }

    /// The mempool's view, when one is installed.
    #[must_use]
    pub fn mempool(&self) -> Option<Arc<dyn MempoolView>> {
        self.mempool
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Runs `f` on the event loop and waits for its answer. Called from RPC worker threads
    /// (never from the async runtime).
    ///
    /// # Errors
    /// The loop has stopped (-1).
    pub fn query<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut NodeLoop) -> R + Send + 'static,
    ) -> Result<R, RpcError> {
        let (tx, rx) = oneshot::channel();
        self.node
            .send(Box::new(move |l: &mut NodeLoop| {
                let _ = tx.send(f(l));
            }))
            .map_err(|_| RpcError::misc("the node is shutting down"))?;
        rx.blocking_recv()
            .map_err(|_| RpcError::misc("the node is shutting down"))
    }

    /// The UTXO store, read-locked (briefly: the apply stage waits for the write lock).
    pub fn store(&self) -> RwLockReadGuard<'_, ChainStore> {
        self.stages
            .store
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The active chain's tip: height and hash (from the store, so it agrees with
    /// [`Context::hash_at`]).
    #[must_use]
    pub fn tip(&self) -> (u32, Hash256) {
        self.store().tip().unwrap_or((0, self.params.genesis_hash))
    }

    /// The active chain's hash at `height`.
    ///
    /// # Errors
    /// A storage fault (-32603).
    pub fn hash_at(&self, height: u32) -> Result<Option<Hash256>, RpcError> {
        self.store()
            .hash_at_height(height)
            .map_err(|e| RpcError::new(RPC_INTERNAL_ERROR, format!("reading the chain index: {e}")))
    }

    /// The stored bytes of block `hash`, if held.
    ///
    /// # Errors
    /// Reading the block files failed (-32603).
    pub fn block_bytes(&self, hash: &Hash256) -> Result<Option<Vec<u8>>, RpcError> {
        let store = self.blocks.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(pos) = store.get(hash) else {
            return Ok(None);
        };
        store.read(&pos).map(Some).map_err(|e| {
            RpcError::new(
                RPC_INTERNAL_ERROR,
                format!("Block data expected but can't be read: {e}"),
            )
        })
    }

    /// Number of transactions of a held block (0 when not held).
    #[must_use]
    pub fn tx_count(&self, hash: &Hash256) -> usize {
        self.block_bytes(hash)
            .ok()
            .flatten()
            .and_then(|b| Block::parse(&b).ok().map(|b| b.transactions.len()))
            .unwrap_or(0)
    }
}

/// Core's `ParseHashV`: 64 hex digits in display order to internal order.
///
/// # Errors
/// -8 with Core's message.
pub fn parse_hash(s: &str, name: &str) -> Result<Hash256, RpcError> {
    if s.len() != 64 {
        return Err(RpcError::new(
            RPC_INVALID_PARAMETER,
            format!("{name} must be of length 64 (not {}, for '{s}')", s.len()),
        ));
    }
    let mut h: Hash256 = hex::decode(s)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| {
            RpcError::new(
                RPC_INVALID_PARAMETER,
                format!("{name} must be hexadecimal string (not '{s}')"),
            )
        })?;
    h.reverse();
    Ok(h)
}
