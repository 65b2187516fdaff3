//! [`CoreNode`]: one kernel `ChainstateManager` with the block-checked callback wired up.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use bitcoinkernel::prelude::*;
use bitcoinkernel::{
    Block, BlockHash, BlockValidationResult, BlockValidationStateRef, ChainType, ChainstateManager,
    ChainstateManagerBuilder, Context, ContextBuilder, ProcessBlockResult, ValidationMode,
};
use sluice_storage::blockfile::{list_block_files, read_block_file};

use crate::log_capture;
use crate::OracleError;

/// Which network's consensus parameters the kernel applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoreChain {
    Mainnet,
    Testnet,
    Testnet4,
    Signet,
    Regtest,
}

impl CoreChain {
    fn kernel(self) -> ChainType {
        match self {
            CoreChain::Mainnet => ChainType::Mainnet,
            CoreChain::Testnet => ChainType::Testnet,
            CoreChain::Testnet4 => ChainType::Testnet4,
            CoreChain::Signet => ChainType::Signet,
            CoreChain::Regtest => ChainType::Regtest,
        }
    }

    /// The 4-byte network magic framing this chain's `blk?????.dat` records.
    #[must_use]
    pub fn magic(self) -> [u8; 4] {
        use sluice_storage::blockfile as bf;
        match self {
            CoreChain::Mainnet => bf::MAGIC_MAINNET,
            CoreChain::Testnet => [0x0b, 0x11, 0x09, 0x07],
            CoreChain::Testnet4 => bf::MAGIC_TESTNET4,
            CoreChain::Signet => bf::MAGIC_SIGNET,
            CoreChain::Regtest => bf::MAGIC_REGTEST,
        }
    }
}

/// How to start a kernel node. The kernel's C API has no cache-size knob, so none is offered.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    pub chain: CoreChain,
    /// Data directory; block files go to `data_dir/blocks`. Created if missing.
    pub data_dir: PathBuf,
    /// Script-check worker threads (0 = validate on the calling thread).
    pub worker_threads: usize,
    /// Keep the block index and UTXO databases in memory (faster for tests).
    pub in_memory_dbs: bool,
}

impl CoreConfig {
    /// Regtest with in-memory databases and no worker threads: the usual test setup.
    #[must_use]
    pub fn regtest(data_dir: &Path) -> Self {
        CoreConfig {
            chain: CoreChain::Regtest,
            data_dir: data_dir.to_path_buf(),
            worker_threads: 0,
            in_memory_dbs: true,
        }
    }
}

/// Core's verdict on one block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockVerdict {
    /// Fully validated and now part of the active chain.
    Accepted,
    /// Invalid: `reason` is Core's reject reason (e.g. `bad-txns-inputs-missingorspent`), or the
    /// coarse validation result when the log line was not found; `result` is the coarse class.
    Rejected { reason: String, result: String },
    /// Already known and valid.
    Duplicate,
    /// Stored but not connected (e.g. a side branch with less work): not yet validated fully.
    StoredNotConnected,
}

impl BlockVerdict {
    #[must_use]
    pub fn is_rejected(&self) -> bool {
        matches!(self, BlockVerdict::Rejected { .. })
    }
}

/// Active chain tip: height and block hash in internal (little-endian, on-wire) byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tip {
    pub height: i32,
    pub hash: [u8; 32],
}

/// One coin spent by a block, from Core's undo data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpentCoin {
    pub value: i64,
    pub script_pubkey: Vec<u8>,
    pub height: u32,
    pub coinbase: bool,
}

/// One block fed by [`CoreNode::import_dir`].
#[derive(Debug, Clone)]
pub struct ImportedBlock {
    pub file: PathBuf,
    pub offset: u64,
    pub hash: Option<[u8; 32]>,
    pub verdict: Result<BlockVerdict, String>,
}

#[derive(Debug, Clone, Copy)]
struct Checked {
    mode: ValidationMode,
    result: BlockValidationResult,
}

type CheckedMap = Arc<Mutex<HashMap<[u8; 32], Checked>>>;

/// A Bitcoin Core kernel instance. Field order matters: the chainstate manager must be dropped
/// before the context it was built from.
pub struct CoreNode {
    chainman: ChainstateManager,
    _context: Context,
    checked: CheckedMap,
    chain: CoreChain,
}

impl std::fmt::Debug for CoreNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoreNode")
            .field("chain", &self.chain)
            .field("tip", &self.tip())
            .finish_non_exhaustive()
    }
}

fn utf8(p: &Path) -> Result<&str, OracleError> {
    p.to_str()
        .ok_or_else(|| OracleError::NonUtf8Path(p.to_path_buf()))
}

impl CoreNode {
    /// Starts a kernel node on `config.data_dir` (genesis only on a fresh directory).
    ///
    /// # Errors
    /// Directory creation or kernel start-up failures.
    pub fn new(config: &CoreConfig) -> Result<Self, OracleError> {
        log_capture::install();
        let blocks_dir = config.data_dir.join("blocks");
        std::fs::create_dir_all(&blocks_dir).map_err(|source| OracleError::Io {
            path: blocks_dir.clone(),
            source,
        })?;
        let checked: CheckedMap = Arc::default();
        let sink = Arc::clone(&checked);
        let context = ContextBuilder::new()
            .chain_type(config.chain.kernel())
            .with_block_checked_validation(
                move |block: Block, state: BlockValidationStateRef<'_>| {
                    let entry = Checked {
                        mode: state.mode(),
                        result: state.result(),
                    };
                    sink.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(block.hash().to_bytes(), entry);
                },
            )
            .build()?;
        let workers = i32::try_from(config.worker_threads).unwrap_or(i32::MAX);
        let chainman =
            ChainstateManagerBuilder::new(&context, utf8(&config.data_dir)?, utf8(&blocks_dir)?)?
                .worker_threads(workers)
                .block_tree_db_in_memory(config.in_memory_dbs)
                .chainstate_db_in_memory(config.in_memory_dbs)
                .build()?;
        Ok(CoreNode {
            chainman,
            _context: context,
            checked,
            chain: config.chain,
        })
    }

    /// The chain this node validates.
    #[must_use]
    pub fn chain(&self) -> CoreChain {
        self.chain
    }

    /// Active tip.
    #[must_use]
    pub fn tip(&self) -> Tip {
        let tip = self.chainman.active_chain().tip();
        Tip {
            height: tip.height(),
            hash: tip.block_hash().to_bytes(),
        }
    }

    /// Validates one serialized block. The verdict combines `ProcessNewBlock`'s return value
    /// (which alone only means "stored"), the block-checked callback and the active chain.
    ///
    /// # Errors
    /// [`OracleError::BlockDecode`] if the bytes are not a block at all.
    pub fn process_block(&self, bytes: &[u8]) -> Result<BlockVerdict, OracleError> {
        let block = Block::new(bytes).map_err(|e| OracleError::BlockDecode(e.to_string()))?;
        let hash = block.hash().to_bytes();
        self.lock_checked().remove(&hash);
        let (result, lines) = log_capture::capture(|| self.chainman.process_block(&block));
        let checked = self.lock_checked().get(&hash).copied();
        let rejected = |checked: Option<Checked>| {
            let result =
                checked.map_or_else(|| "unknown".to_owned(), |c| format!("{:?}", c.result));
            let reason = log_capture::reject_reason(&lines).unwrap_or_else(|| result.clone());
            BlockVerdict::Rejected { reason, result }
        };
        if let Some(c) = checked {
            if c.mode != ValidationMode::Valid {
                return Ok(rejected(checked));
            }
        }
        Ok(match result {
            ProcessBlockResult::Rejected => rejected(checked),
            ProcessBlockResult::Duplicate => BlockVerdict::Duplicate,
            ProcessBlockResult::NewBlock => {
                if self.in_active_chain(&hash) {
                    BlockVerdict::Accepted
                } else {
                    BlockVerdict::StoredNotConnected
                }
            }
        })
    }

    fn lock_checked(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Checked>> {
        self.checked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `hash` (internal byte order) is on the active chain.
    #[must_use]
    pub fn in_active_chain(&self, hash: &[u8; 32]) -> bool {
        self.chainman
            .get_block_tree_entry(&BlockHash::from(*hash))
            .is_some_and(|e| self.chainman.active_chain().contains(&e))
    }

    /// Hash of the active-chain block at `height`.
    #[must_use]
    pub fn hash_at(&self, height: usize) -> Option<[u8; 32]> {
        self.chainman
            .active_chain()
            .at_height(height)
            .map(|e| e.block_hash().to_bytes())
    }

    /// Serialized block bytes of a stored block.
    ///
    /// # Errors
    /// Unknown block or read failure.
    pub fn block_bytes(&self, hash: &[u8; 32]) -> Result<Vec<u8>, OracleError> {
        let entry = self.entry(hash)?;
        Ok(self.chainman.read_block_data(&entry)?.consensus_encode()?)
    }

    fn entry(&self, hash: &[u8; 32]) -> Result<bitcoinkernel::BlockTreeEntry<'_>, OracleError> {
        self.chainman
            .get_block_tree_entry(&BlockHash::from(*hash))
            .ok_or_else(|| OracleError::UnknownBlock(display_hash(hash)))
    }

    /// Coins spent by a connected block, from its undo data: one `Vec` per non-coinbase
    /// transaction, one [`SpentCoin`] per input, in block order.
    ///
    /// # Errors
    /// Unknown block or undo data not readable (e.g. block not connected).
    pub fn spent_outputs(&self, hash: &[u8; 32]) -> Result<Vec<Vec<SpentCoin>>, OracleError> {
        let entry = self.entry(hash)?;
        let undo = self.chainman.read_spent_outputs(&entry)?;
        let mut out = Vec::with_capacity(undo.count());
        for tx in undo.iter() {
            let coins = tx
                .coins()
                .map(|c| {
                    let o = c.output();
                    SpentCoin {
                        value: o.value(),
                        script_pubkey: o.script_pubkey().to_bytes(),
                        height: c.confirmation_height(),
                        coinbase: c.is_coinbase(),
                    }
                })
                .collect();
            out.push(coins);
        }
        Ok(out)
    }

    /// Feeds every block of a Core-framed directory (or single `blk?????.dat` file) in file
    /// order and returns one verdict per record. Undecodable records get `Err(reason)`.
    ///
    /// # Errors
    /// I/O errors listing or reading the files.
    pub fn import_dir(&self, dir: &Path) -> Result<Vec<ImportedBlock>, OracleError> {
        let mut out = Vec::new();
        for file in list_block_files(dir)? {
            for rec in read_block_file(&file, self.chain.magic())?.blocks {
                let hash = rec.bytes.get(..80).map(header_hash);
                let verdict = self.process_block(&rec.bytes).map_err(|e| e.to_string());
                out.push(ImportedBlock {
                    file: file.clone(),
                    offset: rec.offset,
                    hash,
                    verdict,
                });
            }
        }
        Ok(out)
    }
}

/// Double-SHA256 of an 80-byte header, via the kernel (internal byte order).
fn header_hash(header: &[u8]) -> [u8; 32] {
    bitcoinkernel::BlockHeader::new(header).map_or([0; 32], |h| h.hash().to_bytes())
}

/// Hash in the usual display order (reversed hex).
#[must_use]
pub fn display_hash(hash: &[u8; 32]) -> String {
    use std::fmt::Write;
    hash.iter()
        .rev()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
