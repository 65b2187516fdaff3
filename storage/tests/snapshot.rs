//! Core's real signet `dumptxoutset` file (height 100, v2 format): parse all coins, reproduce
//! the metadata, round-trip Core's coin encoding, and load it into a store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{assert_store_eq, config, model_muhash, Model};
use sluice_consensus::hash::to_display_hex;
use sluice_storage::compress::write_coin;
use sluice_storage::snapshot::{read_snapshot, SnapshotError, SNAPSHOT_MAGIC};
use sluice_storage::ChainStore;

fn data() -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/snapshots/signet-100-utxo-v2.dat");
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn signet_snapshot_parses_and_reserialises_byte_for_byte() {
    let bytes = data();
    let (meta, coins) = read_snapshot(&bytes).unwrap();
    assert_eq!(meta.version, 2);
    assert_eq!(meta.network_magic, [0x0a, 0x03, 0xcf, 0x40]);
    assert_eq!(meta.coins_count, 100);
    assert_eq!(coins.len(), 100);
    eprintln!("base block {}", to_display_hex(&meta.base_blockhash));
    // Re-serialise exactly as Core's WriteUTXOSnapshot does: header, then per-txid groups.
    let mut out = Vec::new();
    out.extend_from_slice(&SNAPSHOT_MAGIC);
    out.extend_from_slice(&meta.version.to_le_bytes());
    out.extend_from_slice(&meta.network_magic);
    out.extend_from_slice(&meta.base_blockhash);
    out.extend_from_slice(&meta.coins_count.to_le_bytes());
    let mut i = 0;
    while i < coins.len() {
        let txid = coins[i].0.txid;
        let group: Vec<_> = coins[i..]
            .iter()
            .take_while(|(o, _)| o.txid == txid)
            .collect();
        out.extend_from_slice(&txid);
        assert!(group.len() < 0xfd);
        out.push(group.len() as u8);
        for (op, coin) in &group {
            assert!(op.vout < 0xfd);
            out.push(op.vout as u8);
            write_coin(&mut out, coin);
        }
        i += group.len();
    }
    assert_eq!(out, bytes, "Core's coin encoding reproduced byte for byte");
    // Signet heights 1..=100: coinbase outputs at heights up to the base block.
    assert!(coins.iter().all(|(_, c)| c.height <= 100 && c.height >= 1));
    assert!(coins.iter().any(|(_, c)| c.coinbase));
    // Truncations are typed errors.
    for cut in [3, 40, 60, bytes.len() - 1] {
        assert!(read_snapshot(&bytes[..cut]).is_err());
    }
    assert!(matches!(
        read_snapshot(&[&bytes[..], &[0][..]].concat()),
        Err(SnapshotError::Trailing(1))
    ));
}

#[test]
fn signet_snapshot_loads_into_a_store() {
    let (_, coins) = read_snapshot(&data()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = ChainStore::open(dir.path(), &config(1 << 20)).unwrap();
    store.connect_block(0, [0; 32], &[], &coins).unwrap();
    store.checkpoint().unwrap();
    drop(store);
    let mut store = ChainStore::open(dir.path(), &config(1 << 20)).unwrap();
    let model: Model = coins.into_iter().collect();
    assert_store_eq(&mut store, &model);
    eprintln!(
        "signet-100 MuHash (display order): {}",
        to_display_hex(&model_muhash(&model))
    );
}
