//! Every SHA-256 backend agrees with the `sha2` crate, for every shape the API offers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};
use sluice_consensus::hash::{
    sha256, sha256_many, sha256_many_with, sha256d, sha256d64, sha256d64_with, sha256d_many,
    sha256d_many_with, tagged_hash, tagged_hash_many, tagged_hash_many_with, Backend, Hash256,
    HashError,
};

fn reference(msg: &[u8]) -> Hash256 {
    Sha256::digest(msg).into()
}

fn reference_d(msg: &[u8]) -> Hash256 {
    reference(&reference(msg))
}

/// The backends this CPU runs; the others are named on stdout as skipped.
fn backends() -> Vec<Backend> {
    Backend::ALL
        .into_iter()
        .filter(|b| {
            let ok = b.is_available();
            if !ok {
                println!("skipping backend {b:?}: not supported by this CPU");
            }
            ok
        })
        .collect()
}

fn random_bytes(rng: &mut ChaCha8Rng, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rng.fill_bytes(&mut v);
    v
}

fn check_many(backend: Backend, msgs: &[&[u8]]) {
    let mut single = vec![[0u8; 32]; msgs.len()];
    sha256_many_with(backend, msgs, &mut single).unwrap();
    let mut double = vec![[0u8; 32]; msgs.len()];
    sha256d_many_with(backend, msgs, &mut double).unwrap();
    for (i, m) in msgs.iter().enumerate() {
        assert_eq!(
            single[i],
            reference(m),
            "{backend:?} sha256 msg {i} len {}",
            m.len()
        );
        assert_eq!(
            double[i],
            reference_d(m),
            "{backend:?} sha256d msg {i} len {}",
            m.len()
        );
    }
}

#[test]
fn scalar_backend_is_always_available() {
    assert!(Backend::Scalar.is_available());
    assert_eq!(Backend::Scalar.lanes(), 1);
}

#[test]
fn every_length_up_to_1024() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let data: Vec<Vec<u8>> = (0..=1024).map(|len| random_bytes(&mut rng, len)).collect();
    let msgs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
    for backend in backends() {
        check_many(backend, &msgs);
        // Reversed order puts long and short messages side by side in the lanes.
        let rev: Vec<&[u8]> = msgs.iter().rev().copied().collect();
        check_many(backend, &rev);
    }
}

#[test]
fn long_random_messages_among_short_ones() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let data: Vec<Vec<u8>> = (0..60)
        .map(|i| {
            let len = if i % 3 == 0 {
                rng.gen_range(10_000..=100_000)
            } else {
                rng.gen_range(0..300)
            };
            random_bytes(&mut rng, len)
        })
        .collect();
    let msgs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
    for backend in backends() {
        check_many(backend, &msgs);
    }
}

#[test]
fn unaligned_sub_slices() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let buf = random_bytes(&mut rng, 20_000);
    let msgs: Vec<&[u8]> = (0..97)
        .map(|i| {
            let start = 2 * i + 1; // odd offsets
            let len = rng.gen_range(0..=700);
            &buf[start..start + len]
        })
        .collect();
    for backend in backends() {
        check_many(backend, &msgs);
    }
}

#[test]
fn batch_sizes_around_lane_counts() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for n in [
        0usize, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 65, 100,
    ] {
        let data: Vec<Vec<u8>> = (0..n)
            .map(|_| {
                let len = rng.gen_range(0..200);
                random_bytes(&mut rng, len)
            })
            .collect();
        let msgs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
        let inputs: Vec<[u8; 64]> = (0..n)
            .map(|_| {
                let mut b = [0u8; 64];
                rng.fill_bytes(&mut b);
                b
            })
            .collect();
        for backend in backends() {
            check_many(backend, &msgs);
            let mut out = vec![[0u8; 32]; n];
            sha256d64_with(backend, &inputs, &mut out).unwrap();
            for (i, input) in inputs.iter().enumerate() {
                assert_eq!(out[i], reference_d(input), "{backend:?} d64 n {n} i {i}");
            }
        }
    }
}

#[test]
fn sha256d64_agrees_with_scalar_backend() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let inputs: Vec<[u8; 64]> = (0..1000)
        .map(|_| {
            let mut b = [0u8; 64];
            rng.fill_bytes(&mut b);
            b
        })
        .collect();
    let mut scalar = vec![[0u8; 32]; inputs.len()];
    sha256d64_with(Backend::Scalar, &inputs, &mut scalar).unwrap();
    for (s, i) in scalar.iter().zip(&inputs) {
        assert_eq!(*s, sha256d(i));
    }
    for backend in backends() {
        let mut out = vec![[0u8; 32]; inputs.len()];
        sha256d64_with(backend, &inputs, &mut out).unwrap();
        assert_eq!(out, scalar, "{backend:?}");
    }
    let mut auto = vec![[0u8; 32]; inputs.len()];
    sha256d64(&inputs, &mut auto);
    assert_eq!(auto, scalar);
}

#[test]
fn automatic_backend_matches_reference() {
    let msgs: Vec<&[u8]> = vec![
        b"",
        b"abc",
        &[7u8; 55],
        &[7u8; 56],
        &[9u8; 64],
        &[1u8; 1000],
    ];
    let mut one = vec![[0u8; 32]; msgs.len()];
    let mut two = vec![[0u8; 32]; msgs.len()];
    sha256_many(&msgs, &mut one);
    sha256d_many(&msgs, &mut two);
    for (i, m) in msgs.iter().enumerate() {
        assert_eq!(one[i], sha256(m));
        assert_eq!(two[i], sha256d(m));
    }
    assert!(Backend::auto_d64().is_available());
    assert!(Backend::auto_many().is_available());
}

#[test]
fn automatic_split_matches_reference_for_every_batch_size() {
    // The automatic functions split a batch between a wide and a narrow backend.
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    for n in 0..=50usize {
        let inputs: Vec<[u8; 64]> = (0..n)
            .map(|_| {
                let mut b = [0u8; 64];
                rng.fill_bytes(&mut b);
                b
            })
            .collect();
        let mut out = vec![[0u8; 32]; n];
        sha256d64(&inputs, &mut out);
        for (o, i) in out.iter().zip(&inputs) {
            assert_eq!(*o, reference_d(i), "n {n}");
        }
        let data: Vec<Vec<u8>> = (0..n)
            .map(|_| {
                let len = rng.gen_range(0..300);
                random_bytes(&mut rng, len)
            })
            .collect();
        let msgs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
        sha256d_many(&msgs, &mut out);
        for (o, m) in out.iter().zip(&msgs) {
            assert_eq!(*o, reference_d(m), "n {n}");
        }
    }
}

#[test]
fn known_answer_abc() {
    // FIPS 180-2 appendix B.1.
    let mut out = [[0u8; 32]; 1];
    for backend in backends() {
        sha256_many_with(backend, &[b"abc"], &mut out).unwrap();
        assert_eq!(
            hex::encode(out[0]),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "{backend:?}"
        );
    }
}

#[test]
fn output_length_mismatch_is_an_error() {
    let mut out = vec![[0u8; 32]; 2];
    assert_eq!(
        sha256d_many_with(Backend::Scalar, &[b"a"], &mut out),
        Err(HashError::LengthMismatch {
            inputs: 1,
            outputs: 2
        })
    );
    assert_eq!(
        sha256d64_with(Backend::Scalar, &[[0u8; 64]; 3], &mut out),
        Err(HashError::LengthMismatch {
            inputs: 3,
            outputs: 2
        })
    );
}

#[test]
fn unavailable_backend_is_an_error_not_a_crash() {
    for backend in Backend::ALL {
        let mut out = [[0u8; 32]; 1];
        let r = sha256d64_with(backend, &[[0u8; 64]], &mut out);
        if backend.is_available() {
            assert_eq!(r, Ok(()));
        } else {
            assert_eq!(r, Err(HashError::BackendUnavailable(backend)));
        }
    }
}

#[test]
fn tagged_hashes_from_midstate_match_reference() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut data: Vec<Vec<u8>> = (0..=300).map(|len| random_bytes(&mut rng, len)).collect();
    data.push(random_bytes(&mut rng, 70_000));
    let msgs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
    let long_tag = [b'x'; 100];
    for tag in [&b"TapSighash"[..], b"BIP0340/challenge", b"", &long_tag] {
        let tag_hash = reference(tag);
        let expected: Vec<Hash256> = msgs
            .iter()
            .map(|m| {
                let mut h = Sha256::new();
                h.update(tag_hash);
                h.update(tag_hash);
                h.update(m);
                h.finalize().into()
            })
            .collect();
        for backend in backends() {
            let mut out = vec![[0u8; 32]; msgs.len()];
            tagged_hash_many_with(backend, tag, &msgs, &mut out).unwrap();
            assert_eq!(out, expected, "{backend:?}");
        }
        let mut out = vec![[0u8; 32]; msgs.len()];
        tagged_hash_many(tag, &msgs, &mut out);
        assert_eq!(out, expected);
        assert_eq!(tagged_hash(tag, msgs[5]), expected[5]);
    }
}
