//! Random and mutated scripts never panic the interpreter, under every sigversion and flag mix.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::data;
use sluice_consensus::block::Block;
use sluice_consensus::script::{eval_script, verify_script, ExecData, ScriptFlags, SigVersion};
use sluice_consensus::sigcheck::NullChecker;

#[test]
fn mutated_scripts_never_panic() {
    let raw = std::fs::read(data().join("blocks/mainnet-866342.block")).unwrap();
    let block = Block::parse(&raw).unwrap();
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    for tx in block.transactions.iter().step_by(5) {
        for i in &tx.inputs {
            seeds.push(i.script_sig.to_vec());
            seeds.extend(
                i.witness
                    .iter()
                    .filter(|w| w.len() < 600)
                    .map(<[u8]>::to_vec),
            );
        }
        seeds.extend(tx.outputs.iter().map(|o| o.script_pubkey.to_vec()));
    }
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let versions = [
        SigVersion::Base,
        SigVersion::WitnessV0,
        SigVersion::Tapscript,
    ];
    let mut runs = 0usize;
    let mut oks = 0usize;
    for seed in seeds.iter().filter(|s| !s.is_empty()).take(3000) {
        for _ in 0..4 {
            let mut s = seed.clone();
            for _ in 0..1 + rnd() % 4 {
                let at = (rnd() as usize) % s.len();
                match rnd() % 3 {
                    0 => s[at] = rnd() as u8,
                    1 => s.insert(at, rnd() as u8),
                    _ => {
                        s.remove(at);
                        if s.is_empty() {
                            s.push(0x51);
                        }
                    }
                }
            }
            let flags = ScriptFlags((rnd() as u32) & ScriptFlags::ALL.0);
            for v in versions {
                let mut stack = vec![vec![1u8], vec![], s.clone()];
                let mut ex = ExecData {
                    validation_weight_left: 1000,
                    tapleaf_hash: Some([0; 32]),
                    ..ExecData::default()
                };
                if eval_script(&mut stack, &s, flags, &mut NullChecker, v, &mut ex).is_ok() {
                    oks += 1;
                }
                runs += 1;
            }
            let _ = verify_script(&s, seed, &[&s[..], seed], flags, &mut NullChecker);
            let _ = verify_script(seed, &s, &[], flags, &mut NullChecker);
            runs += 2;
        }
    }
    assert!(runs > 10_000, "{runs} runs");
    assert!(oks > 0);
}
