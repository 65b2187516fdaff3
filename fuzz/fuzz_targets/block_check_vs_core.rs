//! Differential fuzz target: block and transaction parsing and Core's context-free `CheckBlock`.
//!
//! The first byte chooses which of the proof-of-work and merkle checks run (on both sides: the
//! mutations that reach the transaction rules usually break the merkle root, so the rules behind
//! it need runs without it); the rest is a block. Regtest parameters, so real mainnet blocks in
//! the seed corpus pass the proof of work. Core's kernel and Sluice must agree on whether the
//! bytes decode (Core ignores bytes after a block, so Sluice's prefix parse is compared), on the
//! block hash and every txid, on the verdict, and on its class: Core's `BLOCK_INVALID_HEADER`
//! for proof of work, `BLOCK_MUTATED` for the merkle checks, `BLOCK_CONSENSUS` for the rest.

#![no_main]

use std::sync::OnceLock;

use bitcoinkernel::prelude::*;
use bitcoinkernel::{
    Block, BlockCheckResult, BlockValidationResult, ChainParams, ChainType, BLOCK_CHECK_BASE,
    BLOCK_CHECK_MERKLE, BLOCK_CHECK_POW,
};
use libfuzzer_sys::fuzz_target;
use sluice_consensus::block::Block as SluiceBlock;
use sluice_consensus::chain::block_check::{check_block_with, CheckBlockOptions};
use sluice_consensus::chain::{BlockError, Params};

struct Both {
    core: ChainParams,
    sluice: Params,
}

// The kernel's parameters are thread-safe handles; libFuzzer runs targets on one thread.
unsafe impl Sync for Both {}
unsafe impl Send for Both {}

fn params() -> &'static Both {
    static P: OnceLock<Both> = OnceLock::new();
    P.get_or_init(|| Both {
        core: ChainParams::new(ChainType::Regtest),
        sluice: Params::regtest(),
    })
}

/// Core's class of a Sluice rejection from `CheckBlock`.
fn class(e: &BlockError) -> BlockValidationResult {
    match e {
        BlockError::Header(_) => BlockValidationResult::InvalidHeader,
        e if e.is_mutation() => BlockValidationResult::Mutated,
        _ => BlockValidationResult::Consensus,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, raw)) = data.split_first() else {
        return;
    };
    let opts = CheckBlockOptions {
        check_pow: mode & 1 != 0,
        check_merkle_root: mode & 2 != 0,
    };
    let mut flags = BLOCK_CHECK_BASE;
    if opts.check_pow {
        flags |= BLOCK_CHECK_POW;
    }
    if opts.check_merkle_root {
        flags |= BLOCK_CHECK_MERKLE;
    }
    let p = params();
    let core = Block::new(raw).ok();
    let sluice = SluiceBlock::parse_prefix(raw).ok().map(|(b, _)| b);
    let (core, sluice) = match (core, sluice) {
        (None, None) => return,
        (Some(_), None) => panic!("Core decodes the block, Sluice does not"),
        (None, Some(_)) => panic!("Sluice decodes the block, Core does not"),
        (Some(c), Some(s)) => (c, s),
    };
    assert_eq!(
        core.hash().to_bytes(),
        sluice.header.block_hash(),
        "block hash"
    );
    assert_eq!(core.transaction_count(), sluice.transactions.len());
    for (i, tx) in sluice.transactions.iter().enumerate() {
        let Ok(ct) = core.transaction(i) else {
            panic!("Core has no transaction {i}");
        };
        assert_eq!(ct.txid().to_bytes(), tx.txid(), "txid of transaction {i}");
    }
    let verdict = check_block_with(&sluice, &p.sluice, opts);
    match (core.check(&p.core, flags), verdict) {
        (BlockCheckResult::Valid, Ok(())) => {}
        (BlockCheckResult::Valid, Err(e)) => panic!("Core accepts, Sluice rejects: {e}"),
        (BlockCheckResult::Invalid(state), Ok(())) => {
            panic!("Sluice accepts, Core rejects ({:?})", state.result())
        }
        (BlockCheckResult::Invalid(state), Err(e)) => {
            assert_eq!(state.result(), class(&e), "class of the rejection {e}");
        }
    }
});
