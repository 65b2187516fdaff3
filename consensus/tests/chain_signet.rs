//! Signet block solutions (BIP325): real signet blocks 1 and 2 (the pregenerated blocks of
//! Core's feature_signet.py) and Core's signet_parse_tests cases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sluice_consensus::block::Block;
use sluice_consensus::chain::params::DEFAULT_SIGNET_CHALLENGE;
use sluice_consensus::chain::signet::{check_signet_block_solution, SignetError};
use sluice_consensus::chain::{
    check_block, contextual_check_block, BlockError, HeaderChain, Network, Params,
};
use sluice_consensus::encode::write_compact_size;
use sluice_consensus::hash::to_display_hex;

const BLOCK_1: &str = concat!(
    "00000020f61eee3b63a380a477a063af32b2bbc97c9ff9f01f2c4225e973988108000000f575c83235984e7dc4",
    "afc1f30944c170462e84437ab6f2d52e16878a79e4678bd1914d5fae77031eccf4070001010000000001010000",
    "000000000000000000000000000000000000000000000000000000000000ffffffff025151feffffff0200f205",
    "2a010000001600149243f727dd5343293eb83174324019ec16c2630f0000000000000000776a24aa21a9ede2f6",
    "1c3f71d1defd3fa999dfa36953755c690689799962b48bebd836974e8cf94c4fecc7daa2490047304402205e42",
    "3a8754336ca99dbe16509b877ef1bf98d008836c725005b3c787c41ebe46022047246e4467ad7cc7f1ad98662a",
    "fcaf14c115e0095a227c7b05c5182591c23e7e0100012000000000000000000000000000000000000000000000",
    "0000000000000000000000000000",
);

const BLOCK_2: &str = concat!(
    "00000020a868e8514be5e46dabd6a122132f423f36a43b716a40c394e2a8d063e1010000f4c6c717e99d800c69",
    "9c25a2006a75a0c5c09f432a936f385e6fce139cdbd1a5e9964d5fae77031e7d026e0001010000000001010000",
    "000000000000000000000000000000000000000000000000000000000000ffffffff025a51feffffff0200f205",
    "2a01000000160014aaa671c82b138e3b8f510cd801e5f2bd0aa305940000000000000000776a24aa21a9ede2f6",
    "1c3f71d1defd3fa999dfa36953755c690689799962b48bebd836974e8cf94c4fecc7daa2490047304402204230",
    "9f4c3c7a1a2ac8c24f890f962df1c0086cec10be0868087cfc427520cb2702201dafee8911c269b7e786e24204",
    "5bb57cef3f5b0f177010c6159abae42f646cc50100012000000000000000000000000000000000000000000000",
    "0000000000000000000000000000",
);

fn blocks() -> [Vec<u8>; 2] {
    [hex::decode(BLOCK_1).unwrap(), hex::decode(BLOCK_2).unwrap()]
}

#[test]
fn real_signet_blocks_pass() {
    let p = Params::new(Network::Signet);
    let [b1, b10] = blocks();
    // Block 1 builds on genesis: every header and block check.
    let b = Block::parse(&b1).unwrap();
    let mut chain = HeaderChain::from_genesis(&p);
    check_block(&b, &p).unwrap();
    contextual_check_block(&b, &chain, &p).unwrap();
    chain
        .accept(&b.header, &p, i64::from(b.header.time))
        .unwrap();
    assert_eq!(
        to_display_hex(&b.header.block_hash()),
        "00000086d6b2636cb2a392d45edc4ec544a10024d30141c9adf4bfd9de533b53"
    );
    // The second pregenerated block is height 10 (coinbase starts with OP_10); its ancestors
    // are not here, so only the context-free checks (PoW, signet solution, merkle...) apply.
    let b = Block::parse(&b10).unwrap();
    assert_eq!(b.transactions[0].inputs[0].script_sig[0], 0x5a);
    check_block(&b, &p).unwrap();
}

#[test]
fn real_signet_block_fails_another_challenge() {
    // Core's feature_signet.py: the same keys as a 2-of-2 reject block 1.
    let mut two_of_two = DEFAULT_SIGNET_CHALLENGE.to_vec();
    two_of_two[0] = 0x52;
    let p = Params::signet(&two_of_two);
    let raw = &blocks()[0];
    let b = Block::parse(raw).unwrap();
    assert_eq!(
        check_signet_block_solution(&b, &two_of_two, &p),
        Err(SignetError::Invalid)
    );
    // Through CheckBlock (PoW passes: same limit), with Core's reject reason.
    let r = check_block(&b, &p);
    assert_eq!(r, Err(BlockError::BadSignetBlockSig));
    assert_eq!(r.unwrap_err().to_string(), "bad-signet-blksig");
}

#[test]
fn signed_message_commits_to_the_header() {
    let p = Params::new(Network::Signet);
    let raw = blocks()[0].clone();
    // Changing the time (outside the merkle tree) breaks the signature.
    let mut tampered = raw.clone();
    tampered[68] ^= 1;
    let b = Block::parse(&tampered).unwrap();
    assert_eq!(
        check_signet_block_solution(&b, &DEFAULT_SIGNET_CHALLENGE, &p),
        Err(SignetError::Invalid)
    );
    // The nonce is not committed to (the signer cannot know it in advance).
    let mut renonced = raw;
    renonced[76] ^= 1;
    let b = Block::parse(&renonced).unwrap();
    assert_eq!(
        check_signet_block_solution(&b, &DEFAULT_SIGNET_CHALLENGE, &p),
        Ok(())
    );
}

/// A block whose coinbase has one output with `script`, plus a dummy second transaction.
fn block_with_commitment(script: &[u8]) -> Vec<u8> {
    let mut cb = vec![1, 0, 0, 0, 1];
    cb.extend_from_slice(&[0; 32]);
    cb.extend_from_slice(&u32::MAX.to_le_bytes());
    cb.extend_from_slice(&[2, 0x51, 0x51]);
    cb.extend_from_slice(&u32::MAX.to_le_bytes());
    cb.push(1);
    cb.extend_from_slice(&0i64.to_le_bytes());
    write_compact_size(&mut cb, script.len() as u64);
    cb.extend_from_slice(script);
    cb.extend_from_slice(&0u32.to_le_bytes());
    let mut raw = vec![0u8; 80];
    raw[0] = 4;
    raw.push(2);
    raw.extend_from_slice(&cb);
    raw.extend_from_slice(&cb);
    raw
}

// Core's validation_tests.cpp signet_parse_tests, with challenge OP_TRUE.
#[test]
fn core_signet_parse_cases() {
    let challenge = [0x51u8];
    let p = Params::signet(&challenge);
    let check = |script: &[u8]| {
        let raw = block_with_commitment(script);
        check_signet_block_solution(&Block::parse(&raw).unwrap(), &challenge, &p)
    };
    // No witness commitment: invalid.
    assert_eq!(check(&[]), Err(SignetError::Malformed));
    // Commitment without a signet section: valid (OP_TRUE needs no solution).
    let mut c141 = vec![0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];
    c141.extend_from_slice(&[0xff; 32]);
    assert_eq!(check(&c141), Ok(()));
    let with_325 = |data: &[u8]| {
        let mut s = c141.clone();
        s.push(u8::try_from(data.len()).unwrap());
        s.extend_from_slice(data);
        s
    };
    let header = [0xec, 0xc7, 0xda, 0xa2];
    // Header with no data after it: not a solution, valid.
    assert_eq!(check(&with_325(&header)), Ok(()));
    // Premature end of data.
    assert_eq!(
        check(&with_325(&[0xec, 0xc7, 0xda, 0xa2, 0x01, 0x51])),
        Err(SignetError::Malformed)
    );
    // scriptSig OP_TRUE and an empty witness: valid.
    assert_eq!(
        check(&with_325(&[0xec, 0xc7, 0xda, 0xa2, 0x01, 0x51, 0x00])),
        Ok(())
    );
    // Extraneous data.
    assert_eq!(
        check(&with_325(&[0xec, 0xc7, 0xda, 0xa2, 0x01, 0x51, 0x00, 0x00])),
        Err(SignetError::Malformed)
    );
    // And an unsatisfiable challenge fails even without a solution.
    let never = [0x00u8];
    let raw = block_with_commitment(&c141);
    assert_eq!(
        check_signet_block_solution(
            &Block::parse(&raw).unwrap(),
            &never,
            &Params::signet(&never)
        ),
        Err(SignetError::Invalid)
    );
}
