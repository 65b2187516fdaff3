//! Genesis blocks, built byte for byte the way Core's `CreateGenesisBlock` builds them.

use crate::hash::{sha256d, Hash256};
use crate::header::Header;

/// Satoshi's headline, embedded in the mainnet, signet and regtest genesis coinbase.
const SATOSHI_MSG: &[u8] = b"The Times 03/Jan/2009 Chancellor on brink of second bailout for banks";

/// Satoshi's genesis output key.
const SATOSHI_KEY: [u8; 65] = hex_bytes(concat!(
    "04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61de",
    "b649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f"
));

/// Testnet4's genesis headline.
const TESTNET4_MSG: &[u8] =
    b"03/May/2024 000000000000000000001ebd58c244970b3aa9d783bb001011fbe8ea8e98e00e";

const OP_CHECKSIG: u8 = 0xac;
const OP_PUSHDATA1: u8 = 0x4c;

/// Parses hex at compile time (used only on literals, so a bad digit is a build error).
pub(crate) const fn hex_bytes<const N: usize>(s: &str) -> [u8; N] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("bad hex digit in constant"),
        }
    }
    let b = s.as_bytes();
    assert!(b.len() == 2 * N, "hex constant has the wrong length");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

/// A hash written in display (big-endian) hex, converted to internal byte order at compile time.
pub(crate) const fn display_hash(s: &str) -> Hash256 {
    let be: [u8; 32] = hex_bytes(s);
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = be[31 - i];
        i += 1;
    }
    out
}

/// `CScript() << data`: the minimal push Core's `operator<<(std::vector)` emits.
fn push_data(script: &mut Vec<u8>, data: &[u8]) {
    match data.len() {
        // Lengths are literals below 256 here; only the direct and PUSHDATA1 forms occur.
        n if n < OP_PUSHDATA1 as usize => script.push(n as u8),
        n => {
            script.push(OP_PUSHDATA1);
            script.push(n as u8);
        }
    }
    script.extend_from_slice(data);
}

/// Which genesis variant to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GenesisSpec {
    pub time: u32,
    pub nonce: u32,
    pub bits: u32,
    pub testnet4: bool,
}

/// The serialised genesis coinbase transaction.
fn coinbase_tx(testnet4: bool) -> Vec<u8> {
    // scriptSig: CScript() << 486604799 << CScriptNum(4) << message
    let mut script_sig = vec![0x04, 0xff, 0xff, 0x00, 0x1d, 0x01, 0x04];
    push_data(
        &mut script_sig,
        if testnet4 { TESTNET4_MSG } else { SATOSHI_MSG },
    );
    let mut script_pubkey = Vec::new();
    if testnet4 {
        push_data(&mut script_pubkey, &[0u8; 33]);
    } else {
        push_data(&mut script_pubkey, &SATOSHI_KEY);
    }
    script_pubkey.push(OP_CHECKSIG);

    let mut tx = Vec::with_capacity(256);
    tx.extend_from_slice(&1i32.to_le_bytes());
    tx.push(1); // one input
    tx.extend_from_slice(&[0u8; 32]);
    tx.extend_from_slice(&u32::MAX.to_le_bytes());
    tx.push(script_sig.len() as u8);
    tx.extend_from_slice(&script_sig);
    tx.extend_from_slice(&u32::MAX.to_le_bytes());
    tx.push(1); // one output
    tx.extend_from_slice(&(50i64 * 100_000_000).to_le_bytes());
    tx.push(script_pubkey.len() as u8);
    tx.extend_from_slice(&script_pubkey);
    tx.extend_from_slice(&0u32.to_le_bytes());
    tx
}

/// The genesis header for `spec` (its merkle root is the coinbase txid).
pub(crate) fn genesis_header(spec: GenesisSpec) -> Header {
    Header {
        version: 1,
        prev_blockhash: [0; 32],
        merkle_root: sha256d(&coinbase_tx(spec.testnet4)),
        time: spec.time,
        bits: spec.bits,
        nonce: spec.nonce,
    }
}

/// The full serialised genesis block for `spec`.
pub(crate) fn genesis_block(spec: GenesisSpec) -> Vec<u8> {
    let tx = coinbase_tx(spec.testnet4);
    let mut block = Vec::with_capacity(81 + tx.len());
    block.extend_from_slice(&genesis_header(spec).encode());
    block.push(1);
    block.extend_from_slice(&tx);
    block
}
