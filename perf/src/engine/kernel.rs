//! Bitcoin Core's engine: libbitcoinkernel's `ChainstateManager`, fed block by block with
//! `process_block`, like a node importing blocks, with its chainstate and block index on disk
//! (LevelDB in a fresh data directory) and the kernel's default cache sizes.
//!
//! Threads: Core's `-par=N` means N script-checking threads *including* the validation thread,
//! which also works the check queue, so the kernel gets `worker_threads = N − 1` to use the same
//! N cores as Sluice with N threads (what `bitcoind -par=N` would do).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context as _;
use bitcoinkernel::prelude::*;
use bitcoinkernel::{
    Block, BlockValidationStateRef, ChainType, ChainstateManagerBuilder, ContextBuilder,
    ProcessBlockResult, ValidationMode,
};

use super::{EngineConfig, EngineKind, EngineRun, Rejection, Tip};
use crate::chain::{ChainFiles, Network};
use crate::usage::Usage;

fn chain_type(n: Network) -> ChainType {
    match n {
        Network::Mainnet => ChainType::Mainnet,
        Network::Regtest => ChainType::Regtest,
        Network::Testnet4 => ChainType::Testnet4,
        Network::Signet => ChainType::Signet,
    }
}

/// Display (reversed) hex of a kernel block hash.
fn display_hex(internal: [u8; 32]) -> String {
    let mut b = internal;
    b.reverse();
    hex::encode(b)
}

/// Imports the chain with the kernel. See the module docs.
///
/// # Errors
/// Kernel set-up failures and unreadable block files.
pub fn run(config: &EngineConfig) -> anyhow::Result<EngineRun> {
    bitcoinkernel::disable_logging();
    let chain = ChainFiles::open(&config.chain)?;
    // The validation interface reports why a block failed to connect; remember the first.
    let failures: Arc<Mutex<Vec<Rejection>>> = Arc::default();
    let sink = Arc::clone(&failures);
    let context = ContextBuilder::new()
        .chain_type(chain_type(chain.network))
        .with_block_checked_validation(move |block: Block, state: BlockValidationStateRef<'_>| {
            if state.mode() != ValidationMode::Valid {
                if let Ok(mut v) = sink.lock() {
                    v.push(Rejection {
                        hash: display_hex(block.hash().to_bytes()),
                        reason: format!("{:?}/{:?}", state.mode(), state.result()),
                    });
                }
            }
        })
        .build()
        .map_err(|e| anyhow::anyhow!("kernel context: {e}"))?;
    let data = config.data_dir.join("core");
    let blocks = data.join("blocks");
    std::fs::create_dir_all(&blocks).context("creating Core data dir")?;
    let workers = i32::try_from(config.threads.saturating_sub(1)).unwrap_or(i32::MAX);
    let chainman =
        ChainstateManagerBuilder::new(&context, &data.to_string_lossy(), &blocks.to_string_lossy())
            .map_err(|e| anyhow::anyhow!("chainstate options: {e}"))?
            .worker_threads(workers)
            .build()
            .map_err(|e| anyhow::anyhow!("chainstate manager: {e}"))?;

    let before = Usage::now()?;
    let start = Instant::now();
    let mut connected_at = Vec::new();
    let mut rejected_here: Option<Rejection> = None;
    chain.for_each_block(|path, index, bytes| {
        let block = Block::new(bytes)
            .map_err(|e| anyhow::anyhow!("{}: block {index} unreadable: {e}", path.display()))?;
        if chainman.process_block(&block) == ProcessBlockResult::Rejected && rejected_here.is_none()
        {
            rejected_here = Some(Rejection {
                hash: display_hex(block.hash().to_bytes()),
                reason: "process_block rejected".to_owned(),
            });
        }
        let height = u64::try_from(chainman.active_chain().height()).unwrap_or(0);
        connected_at.push((height, start.elapsed().as_secs_f64()));
        Ok::<(), anyhow::Error>(())
    })?;
    let tip = {
        let active = chainman.active_chain();
        let tip_entry = active.tip();
        Tip {
            height: u64::try_from(tip_entry.height()).unwrap_or(0),
            hash: display_hex(tip_entry.block_hash().to_bytes()),
        }
    };
    // Shutting down flushes the coins cache and block index to disk, as a node does; Sluice's
    // import likewise ends with its state durable, so the flush is part of the timed work.
    drop(chainman);
    let wall_s = start.elapsed().as_secs_f64();
    let after = Usage::now()?;
    let (user_s, system_s) = after.cpu_since(&before);
    let first_rejected = failures
        .lock()
        .ok()
        .and_then(|v| v.first().cloned())
        .or(rejected_here);
    Ok(EngineRun {
        engine: EngineKind::Core,
        threads: config.threads,
        wall_s,
        user_s,
        system_s,
        peak_rss_bytes: after.max_rss_bytes,
        tip,
        first_rejected,
        connected_at,
        stages: Vec::new(),
    })
}
