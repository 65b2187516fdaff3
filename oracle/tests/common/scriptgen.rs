//! Random, really-signed script spends and random mutations of them, for the script
//! differential (oracle/tests/script_vs_core.rs) and the `script_vs_core` fuzz target.
//!
//! Every standard output type is built and signed with rust-bitcoin and libsecp256k1: P2PK,
//! P2PKH, bare multisig, P2SH multisig, P2SH-wrapped CSV script, P2WPKH, P2SH-P2WPKH, P2WSH
//! multisig, P2WSH CLTV script, P2TR key path and P2TR script path. Then, half of the time, the
//! spend is mutated: byte flips, opcode insertions, truncations, signature and sighash-byte
//! corruption, witness element drops/additions, amount/sequence/locktime changes after signing.
//! The verdict is never predicted here: the kernel and Sluice must simply agree.

#![allow(dead_code)]

use bitcoin::absolute::LockTime;
use bitcoin::hashes::Hash;
use bitcoin::key::{CompressedPublicKey, TapTweak};
use bitcoin::opcodes::all as op;
use bitcoin::script::{Builder, PushBytesBuf};
use bitcoin::secp256k1::{All, Keypair, Message, Secp256k1, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, Prevouts, SighashCache, TapSighashType};
use bitcoin::taproot::{LeafVersion, TapLeafHash, TaprootBuilder};
use bitcoin::transaction::Version;
use bitcoin::{
    Amount, OutPoint, PublicKey, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid, Witness,
};
use rand::Rng;

/// rust-bitcoin's libsecp256k1 context, built once (its types are what rust-bitcoin takes).
static SECP: std::sync::LazyLock<Secp256k1<All>> = std::sync::LazyLock::new(Secp256k1::new);

/// Core's script verification flag bits (script/interpreter.h), the ones the kernel exposes.
pub mod flags {
    pub const P2SH: u32 = 1 << 0;
    pub const DERSIG: u32 = 1 << 2;
    pub const NULLDUMMY: u32 = 1 << 4;
    pub const CHECKLOCKTIMEVERIFY: u32 = 1 << 9;
    pub const CHECKSEQUENCEVERIFY: u32 = 1 << 10;
    pub const WITNESS: u32 = 1 << 11;
    pub const TAPROOT: u32 = 1 << 17;
    pub const ALL: [u32; 7] = [
        P2SH,
        DERSIG,
        NULLDUMMY,
        CHECKLOCKTIMEVERIFY,
        CHECKSEQUENCEVERIFY,
        WITNESS,
        TAPROOT,
    ];
}

/// The output types the generator spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    P2pk,
    P2pkh,
    BareMultisig,
    P2shMultisig,
    P2shCsv,
    P2wpkh,
    P2shP2wpkh,
    P2wshMultisig,
    P2wshCltv,
    P2trKey,
    P2trScript,
}

pub const KINDS: [Kind; 11] = [
    Kind::P2pk,
    Kind::P2pkh,
    Kind::BareMultisig,
    Kind::P2shMultisig,
    Kind::P2shCsv,
    Kind::P2wpkh,
    Kind::P2shP2wpkh,
    Kind::P2wshMultisig,
    Kind::P2wshCltv,
    Kind::P2trKey,
    Kind::P2trScript,
];

/// One input to verify: the spending transaction, every output it spends, which input, and the
/// verification flags.
#[derive(Debug, Clone)]
pub struct Case {
    pub tx: Transaction,
    pub prevouts: Vec<TxOut>,
    pub input: usize,
    pub flags: u32,
    pub kind: Kind,
    pub mutation: &'static str,
}

impl Case {
    /// Everything needed to replay the case, as hex.
    pub fn hex(&self) -> String {
        let prevouts: Vec<String> = self
            .prevouts
            .iter()
            .map(|o| {
                format!(
                    "{}:{}",
                    o.value.to_sat(),
                    hex::encode(o.script_pubkey.as_bytes())
                )
            })
            .collect();
        format!(
            "kind={:?} mutation={} input={} flags=0x{:x}\ntx={}\nprevouts={}",
            self.kind,
            self.mutation,
            self.input,
            self.flags,
            bitcoin::consensus::encode::serialize_hex(&self.tx),
            prevouts.join(",")
        )
    }
}

/// What signing one input needs, decided when its prevout is made.
enum Signer {
    /// Legacy / P2SH: scriptSig = [OP_0 if multisig] sigs.. + extra pushes; `code` is the script
    /// code the sighash commits to.
    Legacy {
        keys: Vec<SecretKey>,
        code: ScriptBuf,
        multisig: bool,
        tail: Vec<Vec<u8>>,
    },
    /// Segwit v0: witness = [empty if multisig] sigs.. + tail; `code` is the script code.
    SegwitV0 {
        keys: Vec<SecretKey>,
        code: ScriptBuf,
        multisig: bool,
        tail: Vec<Vec<u8>>,
        script_sig: ScriptBuf,
    },
    TaprootKey {
        keypair: Keypair,
    },
    TaprootScript {
        keypair: Keypair,
        leaf: ScriptBuf,
        control: Vec<u8>,
    },
}

fn key<R: Rng>(rng: &mut R) -> SecretKey {
    loop {
        let bytes: [u8; 32] = rng.gen();
        if let Ok(k) = SecretKey::from_slice(&bytes) {
            return k;
        }
    }
}

fn pubkey(k: &SecretKey) -> PublicKey {
    PublicKey::new(k.public_key(&SECP))
}

fn push(data: &[u8]) -> PushBytesBuf {
    PushBytesBuf::try_from(data.to_vec()).expect("generator pushes are small")
}

fn multisig(m: usize, keys: &[SecretKey]) -> ScriptBuf {
    let mut b = Builder::new().push_int(i64::try_from(m).expect("small"));
    for k in keys {
        b = b.push_key(&pubkey(k));
    }
    b.push_int(i64::try_from(keys.len()).expect("small"))
        .push_opcode(op::OP_CHECKMULTISIG)
        .into_script()
}

/// Makes the output spent by one input, and how to sign for it.
fn make_prevout<R: Rng>(rng: &mut R, kind: Kind, lock_time: u32, sequence: u32) -> (TxOut, Signer) {
    let value = Amount::from_sat(rng.gen_range(546..5_000_000_000));
    let k = key(rng);
    let pk = pubkey(&k);
    let cpk = CompressedPublicKey(pk.inner);
    let (spk, signer) = match kind {
        Kind::P2pk => {
            let spk = ScriptBuf::new_p2pk(&pk);
            (
                spk.clone(),
                Signer::Legacy {
                    keys: vec![k],
                    code: spk,
                    multisig: false,
                    tail: vec![],
                },
            )
        }
        Kind::P2pkh => {
            let spk = ScriptBuf::new_p2pkh(&pk.pubkey_hash());
            let tail = vec![pk.to_bytes()];
            (
                spk.clone(),
                Signer::Legacy {
                    keys: vec![k],
                    code: spk,
                    multisig: false,
                    tail,
                },
            )
        }
        Kind::BareMultisig => {
            let keys = vec![k, key(rng)];
            let spk = multisig(1, &keys);
            (
                spk.clone(),
                Signer::Legacy {
                    keys: vec![keys[0]],
                    code: spk,
                    multisig: true,
                    tail: vec![],
                },
            )
        }
        Kind::P2shMultisig => {
            let keys = vec![k, key(rng), key(rng)];
            let redeem = multisig(2, &keys);
            let tail = vec![redeem.to_bytes()];
            (
                redeem.to_p2sh(),
                Signer::Legacy {
                    keys: keys[..2].to_vec(),
                    code: redeem,
                    multisig: true,
                    tail,
                },
            )
        }
        Kind::P2shCsv => {
            let redeem = Builder::new()
                .push_int(i64::from(sequence & 0xffff))
                .push_opcode(op::OP_CSV)
                .push_opcode(op::OP_DROP)
                .push_key(&pk)
                .push_opcode(op::OP_CHECKSIG)
                .into_script();
            let tail = vec![redeem.to_bytes()];
            (
                redeem.to_p2sh(),
                Signer::Legacy {
                    keys: vec![k],
                    code: redeem,
                    multisig: false,
                    tail,
                },
            )
        }
        Kind::P2wpkh | Kind::P2shP2wpkh => {
            let spk = ScriptBuf::new_p2wpkh(&cpk.wpubkey_hash());
            let code = ScriptBuf::new_p2pkh(&pk.pubkey_hash());
            let tail = vec![pk.to_bytes()];
            if kind == Kind::P2wpkh {
                (
                    spk,
                    Signer::SegwitV0 {
                        keys: vec![k],
                        code,
                        multisig: false,
                        tail,
                        script_sig: ScriptBuf::new(),
                    },
                )
            } else {
                let script_sig = Builder::new()
                    .push_slice(push(spk.as_bytes()))
                    .into_script();
                (
                    spk.to_p2sh(),
                    Signer::SegwitV0 {
                        keys: vec![k],
                        code,
                        multisig: false,
                        tail,
                        script_sig,
                    },
                )
            }
        }
        Kind::P2wshMultisig => {
            let keys = vec![k, key(rng), key(rng)];
            let ws = multisig(2, &keys);
            let tail = vec![ws.to_bytes()];
            (
                ws.to_p2wsh(),
                Signer::SegwitV0 {
                    keys: keys[..2].to_vec(),
                    code: ws,
                    multisig: true,
                    tail,
                    script_sig: ScriptBuf::new(),
                },
            )
        }
        Kind::P2wshCltv => {
            let ws = Builder::new()
                .push_int(i64::from(lock_time))
                .push_opcode(op::OP_CLTV)
                .push_opcode(op::OP_DROP)
                .push_key(&pk)
                .push_opcode(op::OP_CHECKSIG)
                .into_script();
            let tail = vec![ws.to_bytes()];
            (
                ws.to_p2wsh(),
                Signer::SegwitV0 {
                    keys: vec![k],
                    code: ws,
                    multisig: false,
                    tail,
                    script_sig: ScriptBuf::new(),
                },
            )
        }
        Kind::P2trKey => {
            let keypair = Keypair::from_secret_key(&SECP, &k);
            let (internal, _) = keypair.x_only_public_key();
            let spk = ScriptBuf::new_p2tr(&SECP, internal, None);
            (spk, Signer::TaprootKey { keypair })
        }
        Kind::P2trScript => {
            let internal_kp = Keypair::from_secret_key(&SECP, &key(rng));
            let keypair = Keypair::from_secret_key(&SECP, &k);
            // `<pk> CHECKSIG`, or the BIP342 form `0 <pk> CHECKSIGADD 1 NUMEQUAL`.
            let leaf = if rng.gen_bool(0.5) {
                Builder::new()
                    .push_x_only_key(&keypair.x_only_public_key().0)
                    .push_opcode(op::OP_CHECKSIG)
                    .into_script()
            } else {
                Builder::new()
                    .push_int(0)
                    .push_x_only_key(&keypair.x_only_public_key().0)
                    .push_opcode(op::OP_CHECKSIGADD)
                    .push_int(1)
                    .push_opcode(op::OP_NUMEQUAL)
                    .into_script()
            };
            let other = Builder::new().push_opcode(op::OP_RETURN).into_script();
            let info = TaprootBuilder::new()
                .add_leaf(1, leaf.clone())
                .and_then(|b| b.add_leaf(1, other))
                .expect("two leaves at depth 1")
                .finalize(&SECP, internal_kp.x_only_public_key().0)
                .expect("complete tree");
            let control = info
                .control_block(&(leaf.clone(), LeafVersion::TapScript))
                .expect("leaf is in the tree")
                .serialize();
            let spk = ScriptBuf::new_p2tr_tweaked(info.output_key());
            (
                spk,
                Signer::TaprootScript {
                    keypair,
                    leaf,
                    control,
                },
            )
        }
    };
    (
        TxOut {
            value,
            script_pubkey: spk,
        },
        signer,
    )
}

fn ecdsa_sig(k: &SecretKey, digest: [u8; 32], hash_type: u32) -> Vec<u8> {
    let sig = SECP.sign_ecdsa(&Message::from_digest(digest), k);
    let mut v = sig.serialize_der().to_vec();
    v.push(u8::try_from(hash_type & 0xff).expect("masked"));
    v
}

fn ecdsa_hash_type<R: Rng>(rng: &mut R) -> u32 {
    [0x01, 0x02, 0x03, 0x81, 0x82, 0x83][rng.gen_range(0..6)]
}

fn tap_hash_type<R: Rng>(rng: &mut R) -> TapSighashType {
    [
        TapSighashType::Default,
        TapSighashType::All,
        TapSighashType::None,
        TapSighashType::Single,
        TapSighashType::AllPlusAnyoneCanPay,
        TapSighashType::SinglePlusAnyoneCanPay,
    ][rng.gen_range(0..6)]
}

fn schnorr_sig(kp: &Keypair, digest: [u8; 32], ty: TapSighashType) -> Vec<u8> {
    let sig = SECP.sign_schnorr_no_aux_rand(&Message::from_digest(digest), kp);
    let mut v = sig.serialize().to_vec();
    if ty != TapSighashType::Default {
        v.push(ty as u8);
    }
    v
}

/// Signs input `i` of `tx` (whose prevouts are `prevouts`) as `signer` says.
fn sign<R: Rng>(rng: &mut R, tx: &mut Transaction, prevouts: &[TxOut], i: usize, signer: &Signer) {
    let mut cache = SighashCache::new(tx.clone());
    match signer {
        Signer::Legacy {
            keys,
            code,
            multisig,
            tail,
        } => {
            let ht = ecdsa_hash_type(rng);
            let digest = cache
                .legacy_signature_hash(i, code, ht)
                .expect("input index in range")
                .to_byte_array();
            let mut b = Builder::new();
            if *multisig {
                b = b.push_opcode(op::OP_PUSHBYTES_0);
            }
            for k in keys {
                b = b.push_slice(push(&ecdsa_sig(k, digest, ht)));
            }
            for t in tail {
                b = b.push_slice(push(t));
            }
            tx.input[i].script_sig = b.into_script();
        }
        Signer::SegwitV0 {
            keys,
            code,
            multisig,
            tail,
            script_sig,
        } => {
            let ht = ecdsa_hash_type(rng);
            let digest = cache
                .p2wsh_signature_hash(
                    i,
                    code,
                    prevouts[i].value,
                    EcdsaSighashType::from_consensus(ht),
                )
                .expect("input index in range")
                .to_byte_array();
            let mut w: Vec<Vec<u8>> = Vec::new();
            if *multisig {
                w.push(Vec::new());
            }
            for k in keys {
                w.push(ecdsa_sig(k, digest, ht));
            }
            w.extend(tail.iter().cloned());
            tx.input[i].witness = Witness::from_slice(&w);
            tx.input[i].script_sig = script_sig.clone();
        }
        Signer::TaprootKey { keypair } => {
            let ty = tap_hash_type(rng);
            let tweaked = keypair.tap_tweak(&SECP, None).to_keypair();
            let digest = cache
                .taproot_key_spend_signature_hash(i, &Prevouts::All(prevouts), ty)
                .map_or([0u8; 32], Hash::to_byte_array);
            tx.input[i].witness = Witness::from_slice(&[schnorr_sig(&tweaked, digest, ty)]);
        }
        Signer::TaprootScript {
            keypair,
            leaf,
            control,
        } => {
            let ty = tap_hash_type(rng);
            let leaf_hash = TapLeafHash::from_script(leaf, LeafVersion::TapScript);
            let digest = cache
                .taproot_script_spend_signature_hash(i, &Prevouts::All(prevouts), leaf_hash, ty)
                .map_or([0u8; 32], Hash::to_byte_array);
            let sig = schnorr_sig(keypair, digest, ty);
            tx.input[i].witness = Witness::from_slice(&[sig, leaf.to_bytes(), control.clone()]);
        }
    }
}

/// A random, correctly signed spend (every input signed), with random flags.
pub fn signed_case<R: Rng>(rng: &mut R) -> Case {
    let n_in = rng.gen_range(1..=3usize);
    let lock_time = if rng.gen_bool(0.5) {
        rng.gen_range(1..500_000_000u32)
    } else {
        0
    };
    let sequences: Vec<u32> = (0..n_in)
        .map(|_| match rng.gen_range(0..3) {
            0 => 0xffff_ffff,
            1 => 0xffff_fffe,
            _ => rng.gen_range(0..0xffffu32),
        })
        .collect();
    let kinds: Vec<Kind> = (0..n_in)
        .map(|_| KINDS[rng.gen_range(0..KINDS.len())])
        .collect();
    // Time-locked scripts need a sequence that lets them pass: CSV wants the disable bit clear
    // (a relative lock the script's value satisfies), CLTV wants a non-final sequence.
    let sequences: Vec<u32> = sequences
        .iter()
        .zip(&kinds)
        .map(|(s, k)| match k {
            Kind::P2shCsv => s & 0xffff,
            Kind::P2wshCltv if *s == 0xffff_ffff => 0xffff_fffe,
            _ => *s,
        })
        .collect();
    let needs_v2 = kinds.contains(&Kind::P2shCsv);
    let made: Vec<(TxOut, Signer)> = kinds
        .iter()
        .zip(&sequences)
        .map(|(k, s)| make_prevout(rng, *k, lock_time, *s))
        .collect();
    let mut tx = Transaction {
        version: Version(if needs_v2 || rng.gen_bool(0.8) { 2 } else { 1 }),
        lock_time: LockTime::from_consensus(lock_time),
        input: sequences
            .iter()
            .map(|s| TxIn {
                previous_output: OutPoint::new(
                    Txid::from_byte_array(rng.gen()),
                    rng.gen_range(0..4),
                ),
                script_sig: ScriptBuf::new(),
                sequence: Sequence(*s),
                witness: Witness::new(),
            })
            .collect(),
        output: (0..n_in + rng.gen_range(0..2usize))
            .map(|_| TxOut {
                value: Amount::from_sat(rng.gen_range(0..1_000_000)),
                script_pubkey: ScriptBuf::new_p2wpkh(
                    &CompressedPublicKey(pubkey(&key(rng)).inner).wpubkey_hash(),
                ),
            })
            .collect(),
    };
    let prevouts: Vec<TxOut> = made.iter().map(|(o, _)| o.clone()).collect();
    for (i, (_, signer)) in made.iter().enumerate() {
        sign(rng, &mut tx, &prevouts, i, signer);
    }
    let input = rng.gen_range(0..n_in);
    let flags = if rng.gen_bool(0.5) {
        flags::ALL.iter().fold(0, |a, f| a | f)
    } else {
        let mut f = flags::ALL
            .iter()
            .filter(|_| rng.gen_bool(0.5))
            .fold(0, |a, f| a | f);
        if f & flags::WITNESS != 0 {
            f |= flags::P2SH; // Core refuses WITNESS without P2SH.
        }
        f
    };
    Case {
        tx,
        prevouts,
        input,
        flags,
        kind: kinds[input],
        mutation: "none",
    }
}

fn flip<R: Rng>(rng: &mut R, v: &mut [u8]) -> bool {
    if v.is_empty() {
        return false;
    }
    let i = rng.gen_range(0..v.len());
    v[i] ^= 1 << rng.gen_range(0..8);
    true
}

/// Applies one random mutation to the verified input of `case` (or the transaction around it).
pub fn mutate<R: Rng>(rng: &mut R, case: &mut Case) {
    let i = case.input;
    let mut witness: Vec<Vec<u8>> = case.tx.input[i]
        .witness
        .iter()
        .map(<[u8]>::to_vec)
        .collect();
    let mut script_sig = case.tx.input[i].script_sig.to_bytes();
    let choice = rng.gen_range(0..12);
    case.mutation = match choice {
        0 if flip(rng, &mut script_sig) => "flip-scriptsig-byte",
        1 if !witness.is_empty() => {
            let e = rng.gen_range(0..witness.len());
            if !flip(rng, &mut witness[e]) {
                witness[e].push(rng.gen());
            }
            "flip-witness-byte"
        }
        2 => {
            let mut spk = case.prevouts[i].script_pubkey.to_bytes();
            flip(rng, &mut spk);
            case.prevouts[i].script_pubkey = ScriptBuf::from_bytes(spk);
            "flip-scriptpubkey-byte"
        }
        3 => {
            // Insert a random opcode into the scriptSig or the witness/leaf script.
            let opcode: u8 = rng.gen();
            if witness.len() >= 2 && rng.gen_bool(0.7) {
                let e = if case.kind == Kind::P2trScript {
                    witness.len() - 2
                } else {
                    witness.len() - 1
                };
                let pos = rng.gen_range(0..=witness[e].len());
                witness[e].insert(pos, opcode);
            } else {
                let pos = rng.gen_range(0..=script_sig.len());
                script_sig.insert(pos, opcode);
            }
            "insert-opcode"
        }
        4 if !script_sig.is_empty() => {
            script_sig.truncate(rng.gen_range(0..script_sig.len()));
            "truncate-scriptsig"
        }
        5 if !witness.is_empty() => {
            let e = rng.gen_range(0..witness.len());
            let len = witness[e].len();
            witness[e].truncate(if len == 0 { 0 } else { rng.gen_range(0..len) });
            "truncate-witness-element"
        }
        6 => {
            // Corrupt a signature: the first witness element or the first scriptSig push body.
            if let Some(sig) = witness.iter_mut().find(|e| e.len() >= 9) {
                let last = sig.len() - 1;
                let idx = rng.gen_range(0..last);
                sig[idx] ^= 0x01;
            } else if script_sig.len() > 10 {
                let idx = rng.gen_range(2..script_sig.len().min(70));
                script_sig[idx] ^= 0x01;
            }
            "corrupt-signature"
        }
        7 => {
            // Change the sighash byte of a signature.
            let ht: u8 =
                [0x00, 0x01, 0x02, 0x03, 0x04, 0x41, 0x81, 0x83, 0x84, 0xff][rng.gen_range(0..10)];
            if let Some(sig) = witness
                .iter_mut()
                .find(|e| e.len() == 64 || e.len() == 65 || (e.len() > 66 && e[0] == 0x30))
            {
                if sig.len() == 64 {
                    sig.push(ht);
                } else if let Some(b) = sig.last_mut() {
                    *b = ht;
                }
            } else if let Some(pos) = script_sig.iter().position(|b| *b == 0x30) {
                let len = usize::from(script_sig.get(pos + 1).copied().unwrap_or(0)) + 2;
                if let Some(b) = script_sig.get_mut(pos + len) {
                    *b = ht;
                }
            }
            "change-sighash-byte"
        }
        8 => {
            let v = case.prevouts[i].value.to_sat();
            case.prevouts[i].value = Amount::from_sat(v ^ (1 << rng.gen_range(0..20)));
            "change-amount"
        }
        9 => {
            case.tx.input[i].sequence = Sequence(rng.gen());
            "change-sequence"
        }
        10 => {
            case.tx.lock_time = LockTime::from_consensus(rng.gen());
            "change-locktime"
        }
        _ => {
            if !witness.is_empty() && rng.gen_bool(0.5) {
                witness.remove(rng.gen_range(0..witness.len()));
                "drop-witness-element"
            } else {
                let n = rng.gen_range(0..80);
                witness.insert(0, (0..n).map(|_| rng.gen()).collect());
                "add-witness-element"
            }
        }
    };
    case.tx.input[i].witness = Witness::from_slice(&witness);
    case.tx.input[i].script_sig = ScriptBuf::from_bytes(script_sig);
}

/// A signed case, mutated with probability one half.
pub fn random_case<R: Rng>(rng: &mut R) -> Case {
    let mut c = signed_case(rng);
    if rng.gen_bool(0.5) {
        mutate(rng, &mut c);
    }
    c
}
