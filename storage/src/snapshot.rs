//! Reader for Core's `dumptxoutset` UTXO snapshots (`node/utxo_snapshot.h`, version 2):
//! metadata (magic `utxo\xff`, u16 version, network magic, base block hash, u64 coin count),
//! then coins grouped by txid: txid, CompactSize count, then per coin CompactSize vout and the
//! coin in Core's compact encoding.

use sluice_consensus::coin::{Coin, OutPoint};
use sluice_consensus::hash::Hash256;

use crate::compress::{read_coin, DecodeError, Reader};

/// Snapshot file magic.
pub const SNAPSHOT_MAGIC: [u8; 5] = *b"utxo\xff";

/// Why a snapshot could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a UTXO snapshot (bad magic)")]
    BadMagic,
    #[error("unsupported snapshot version {0}")]
    Version(u16),
    #[error("snapshot data: {0}")]
    Decode(#[from] DecodeError),
    #[error("snapshot claims {claimed} coins but holds {found}")]
    CountMismatch { claimed: u64, found: u64 },
    #[error("{0} trailing bytes after the last coin")]
    Trailing(usize),
}

/// The snapshot header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotMetadata {
    pub version: u16,
    pub network_magic: [u8; 4],
    /// Base block hash, internal byte order.
    pub base_blockhash: Hash256,
    pub coins_count: u64,
}

/// Parses a whole snapshot into its metadata and coins (in file order).
pub fn read_snapshot(
    data: &[u8],
) -> Result<(SnapshotMetadata, Vec<(OutPoint, Coin)>), SnapshotError> {
    let mut r = Reader::new(data);
    if r.array::<5>()? != SNAPSHOT_MAGIC {
        return Err(SnapshotError::BadMagic);
    }
    let version = r.u16_le()?;
    if version != 2 {
        return Err(SnapshotError::Version(version));
    }
    let meta = SnapshotMetadata {
        version,
        network_magic: r.array()?,
        base_blockhash: r.array()?,
        coins_count: r.u64_le()?,
    };
    let mut coins = Vec::with_capacity(usize::try_from(meta.coins_count.min(1 << 20)).unwrap_or(0));
    while (coins.len() as u64) < meta.coins_count {
        if r.remaining() == 0 {
            return Err(SnapshotError::CountMismatch {
                claimed: meta.coins_count,
                found: coins.len() as u64,
            });
        }
        let txid = r.array::<32>()?;
        let n = r.compact_size()?;
        for _ in 0..n {
            let vout = u32::try_from(r.compact_size()?).map_err(|_| DecodeError::VarIntOverflow)?;
            coins.push((OutPoint { txid, vout }, read_coin(&mut r)?));
        }
    }
    if coins.len() as u64 != meta.coins_count {
        return Err(SnapshotError::CountMismatch {
            claimed: meta.coins_count,
            found: coins.len() as u64,
        });
    }
    if r.remaining() != 0 {
        return Err(SnapshotError::Trailing(r.remaining()));
    }
    Ok((meta, coins))
}
