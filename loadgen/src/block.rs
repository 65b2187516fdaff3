//! Regtest block assembly: BIP34 coinbase, BIP141 witness commitment, merkle root, PoW grinding.

use bitcoin::absolute::LockTime;
use bitcoin::block::{Header, Version};
use bitcoin::hashes::Hash;
use bitcoin::opcodes::all::OP_RETURN;
use bitcoin::script::{Builder, PushBytesBuf};
use bitcoin::{
    Amount, Block, BlockHash, CompactTarget, OutPoint, ScriptBuf, Sequence, Target, Transaction,
    TxIn, TxMerkleNode, TxOut, Witness,
};

/// Regtest's `powLimit` compact form (Core: `genesis.nBits`, no retargeting on regtest).
pub const REGTEST_BITS: u32 = 0x207f_ffff;
/// Regtest genesis timestamp.
pub const GENESIS_TIME: u32 = 1_296_688_602;
/// Seconds between generated blocks (timestamps only need to exceed the median time past).
pub const BLOCK_INTERVAL: u32 = 600;
pub const COINBASE_MATURITY: u32 = 100;
/// Regtest `nSubsidyHalvingInterval`.
pub const HALVING_INTERVAL: u32 = 150;
pub const MAX_BLOCK_WEIGHT: u64 = 4_000_000;
pub const MAX_BLOCK_SIGOPS_COST: u64 = 80_000;
/// BIP9 "top bits" version, as Core mines.
pub const BLOCK_VERSION: i32 = 0x2000_0000;

/// Block subsidy at `height` under regtest's 150-block halving schedule.
#[must_use]
pub fn subsidy(height: u32) -> u64 {
    let halvings = height / HALVING_INTERVAL;
    if halvings >= 64 {
        0
    } else {
        5_000_000_000u64 >> halvings
    }
}

/// Timestamp of the generated block at `height`.
#[must_use]
pub fn block_time(height: u32) -> u32 {
    GENESIS_TIME + height * BLOCK_INTERVAL
}

/// Median of the (up to 11) previous timestamps, as Core's `GetMedianTimePast`.
#[must_use]
pub fn median_time_past(prev_times: &[u32]) -> u32 {
    let start = prev_times.len().saturating_sub(11);
    let mut t: Vec<u32> = prev_times[start..].to_vec();
    t.sort_unstable();
    t.get(t.len() / 2).copied().unwrap_or(0)
}

/// Coinbase choices; the defaults make a valid coinbase.
#[derive(Debug, Clone)]
pub struct CoinbaseSpec {
    /// Height pushed in the scriptSig (BIP34).
    pub bip34_height: u32,
    pub value: u64,
    pub script_pubkey: ScriptBuf,
    /// Replace the witness commitment hash by this (bad-commitment mutant).
    pub commitment_override: Option<[u8; 32]>,
}

/// Whether any transaction carries witness data (then BIP141 needs a commitment).
#[must_use]
pub fn has_witness(txs: &[Transaction]) -> bool {
    txs.iter()
        .any(|t| t.input.iter().any(|i| !i.witness.is_empty()))
}

fn coinbase_tx(spec: &CoinbaseSpec, witness: bool) -> Transaction {
    let script_sig = Builder::new()
        .push_int(i64::from(spec.bip34_height))
        // keeps the scriptSig >= 2 bytes when the height is a single OP_N
        .push_slice(b"sluice")
        .into_script();
    let mut cb = Transaction {
        version: bitcoin::transaction::Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::null(),
            script_sig,
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value: Amount::from_sat(spec.value),
            script_pubkey: spec.script_pubkey.clone(),
        }],
    };
    if witness {
        cb.input[0].witness = Witness::from_slice(&[[0u8; 32]]);
    }
    cb
}

/// Builds the block (coinbase first), computes the commitment and merkle root, and grinds a
/// valid nonce.
#[must_use]
pub fn assemble(
    prev: BlockHash,
    time: u32,
    coinbase: &CoinbaseSpec,
    txs: Vec<Transaction>,
) -> Block {
    let witness = has_witness(&txs);
    let mut txdata = Vec::with_capacity(txs.len() + 1);
    txdata.push(coinbase_tx(coinbase, witness));
    txdata.extend(txs);
    let mut block = Block {
        header: Header {
            version: Version::from_consensus(BLOCK_VERSION),
            prev_blockhash: prev,
            merkle_root: TxMerkleNode::all_zeros(),
            time,
            bits: CompactTarget::from_consensus(REGTEST_BITS),
            nonce: 0,
        },
        txdata,
    };
    if witness {
        set_witness_commitment(&mut block, coinbase.commitment_override);
    }
    block.header.merkle_root = block
        .compute_merkle_root()
        .unwrap_or_else(TxMerkleNode::all_zeros);
    grind(&mut block.header, true);
    block
}

/// (Re)writes the BIP141 commitment output as the coinbase's last output.
pub fn set_witness_commitment(block: &mut Block, override_hash: Option<[u8; 32]>) {
    let root = block.witness_root();
    let Some(cb) = block.txdata.first_mut() else {
        return;
    };
    cb.output.retain(|o| !is_commitment(&o.script_pubkey));
    let hash = match (override_hash, root) {
        (Some(h), _) => h,
        (None, Some(root)) => Block::compute_witness_commitment(&root, &[0u8; 32]).to_byte_array(),
        (None, None) => [0; 32],
    };
    let mut data = vec![0xaa, 0x21, 0xa9, 0xed];
    data.extend_from_slice(&hash);
    let spk = Builder::new()
        .push_opcode(OP_RETURN)
        .push_slice(PushBytesBuf::try_from(data).unwrap_or_default())
        .into_script();
    cb.output.push(TxOut {
        value: Amount::ZERO,
        script_pubkey: spk,
    });
}

fn is_commitment(spk: &ScriptBuf) -> bool {
    let b = spk.as_bytes();
    b.len() >= 38 && b[0] == 0x6a && b[1] == 0x24 && b[2..6] == [0xaa, 0x21, 0xa9, 0xed]
}

/// Recomputes merkle root (and commitment when `commitment`) then grinds a valid nonce.
pub fn finish(block: &mut Block, commitment: bool) {
    if commitment {
        set_witness_commitment(block, None);
    }
    block.header.merkle_root = block
        .compute_merkle_root()
        .unwrap_or_else(TxMerkleNode::all_zeros);
    grind(&mut block.header, true);
}

/// Searches nonces from 0 until the header's hash meets (`valid`) or misses its target.
pub fn grind(header: &mut Header, valid: bool) {
    let target = Target::from_compact(header.bits);
    header.nonce = 0;
    while target.is_met_by(header.block_hash()) != valid {
        header.nonce = header.nonce.wrapping_add(1);
        if header.nonce == 0 {
            // Exhausted the nonce space (never at regtest difficulty): bump the time.
            header.time += 1;
        }
    }
}
