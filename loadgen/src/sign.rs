//! Signing with rust-bitcoin and libsecp256k1 (never with Sluice's consensus code).
//!
//! ECDSA nonces are RFC6979 (deterministic); Schnorr aux randomness is derived from a per-tx seed
//! and the input index, so the output is identical whatever the thread count.

use bitcoin::hashes::{sha256, Hash};
use bitcoin::opcodes::OP_0;
use bitcoin::script::{Builder, PushBytesBuf};
use std::sync::LazyLock;

use bitcoin::secp256k1::{All, Message, Secp256k1};
use bitcoin::sighash::{Annex, EcdsaSighashType, Prevouts, SighashCache, TapSighashType};
use bitcoin::{ScriptBuf, Transaction, TxOut, Witness};

use crate::wallet::{SpendKind, Wallet};
use crate::LoadgenError;

/// rust-bitcoin's libsecp256k1 context (signing and verification tables), built once.
pub(crate) static SECP: LazyLock<Secp256k1<All>> = LazyLock::new(Secp256k1::new);

/// How one input is to be signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spend {
    /// An output of the wallet: `kind` for key index `key`.
    Wallet { kind: SpendKind, key: u16 },
    /// Taproot key path (BIP86 key `key`) with an annex in the witness.
    P2trKeyAnnex { key: u16, annex: Vec<u8> },
    /// P2WSH of `script`, a script ending in a single `<pk_key> OP_CHECKSIG`.
    P2wshSingleSig { script: ScriptBuf, key: u16 },
}

/// Signatures made, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SigCounts {
    pub ecdsa: u64,
    pub schnorr_key: u64,
    pub schnorr_script: u64,
}

impl SigCounts {
    pub fn add(&mut self, o: SigCounts) {
        self.ecdsa += o.ecdsa;
        self.schnorr_key += o.schnorr_key;
        self.schnorr_script += o.schnorr_script;
    }
}

enum Filled {
    ScriptSig(ScriptBuf),
    Witness(Witness),
    Both(ScriptBuf, Witness),
}

fn push(bytes: &[u8]) -> Result<PushBytesBuf, LoadgenError> {
    PushBytesBuf::try_from(bytes.to_vec()).map_err(|_| LoadgenError::Sign("push too large".into()))
}

fn sighash_err(e: impl std::fmt::Display) -> LoadgenError {
    LoadgenError::Sign(e.to_string())
}

fn ecdsa(digest: [u8; 32], key: &bitcoin::key::Keypair) -> Vec<u8> {
    let msg = Message::from_digest(digest);
    let sig = SECP.sign_ecdsa(&msg, &key.secret_key());
    bitcoin::ecdsa::Signature {
        signature: sig,
        sighash_type: EcdsaSighashType::All,
    }
    .to_vec()
}

fn schnorr(digest: [u8; 32], key: &bitcoin::key::Keypair, aux: &[u8; 32]) -> Vec<u8> {
    let msg = Message::from_digest(digest);
    SECP.sign_schnorr_with_aux_rand(&msg, key, aux)
        .serialize()
        .to_vec()
}

/// Signs every input of `tx` in place. `prevouts[i]` is the output spent by input `i`.
///
/// # Errors
/// Mismatched lengths or a sighash that cannot be computed.
pub fn sign_tx(
    tx: &mut Transaction,
    prevouts: &[TxOut],
    spends: &[Spend],
    wallet: &Wallet,
    aux_seed: &[u8; 32],
) -> Result<SigCounts, LoadgenError> {
    if prevouts.len() != tx.input.len() || spends.len() != tx.input.len() {
        return Err(LoadgenError::Sign(format!(
            "{} inputs, {} prevouts, {} spend descriptions",
            tx.input.len(),
            prevouts.len(),
            spends.len()
        )));
    }
    let mut counts = SigCounts::default();
    let mut filled = Vec::with_capacity(spends.len());
    {
        let mut cache = SighashCache::new(&*tx);
        let all = Prevouts::All(prevouts);
        for (i, (spend, prev)) in spends.iter().zip(prevouts).enumerate() {
            let aux = {
                let mut d = aux_seed.to_vec();
                d.extend_from_slice(&(i as u64).to_le_bytes());
                sha256::Hash::hash(&d).to_byte_array()
            };
            let value = prev.value;
            let f = match spend {
                Spend::Wallet { kind, key } => {
                    let k = wallet.key(*key);
                    match kind {
                        SpendKind::P2pkh => {
                            let h = cache
                                .legacy_signature_hash(i, &prev.script_pubkey, 1)
                                .map_err(sighash_err)?;
                            counts.ecdsa += 1;
                            let sig = ecdsa(h.to_byte_array(), &k.keypair);
                            Filled::ScriptSig(
                                Builder::new()
                                    .push_slice(push(&sig)?)
                                    .push_key(&k.pubkey)
                                    .into_script(),
                            )
                        }
                        SpendKind::P2wpkh | SpendKind::P2shP2wpkh => {
                            let program = wallet.spk(SpendKind::P2wpkh, *key);
                            let h = cache
                                .p2wpkh_signature_hash(i, program, value, EcdsaSighashType::All)
                                .map_err(sighash_err)?;
                            counts.ecdsa += 1;
                            let sig = ecdsa(h.to_byte_array(), &k.keypair);
                            let mut w = Witness::new();
                            w.push(sig);
                            w.push(k.pubkey.to_bytes());
                            if *kind == SpendKind::P2wpkh {
                                Filled::Witness(w)
                            } else {
                                let ss = Builder::new()
                                    .push_slice(push(program.as_bytes())?)
                                    .into_script();
                                Filled::Both(ss, w)
                            }
                        }
                        SpendKind::P2wsh2of3 => {
                            let h = cache
                                .p2wsh_signature_hash(
                                    i,
                                    &k.multisig_2of3,
                                    value,
                                    EcdsaSighashType::All,
                                )
                                .map_err(sighash_err)?;
                            counts.ecdsa += 2;
                            let mut w = Witness::new();
                            w.push([]);
                            w.push(ecdsa(h.to_byte_array(), &k.keypair));
                            w.push(ecdsa(
                                h.to_byte_array(),
                                &wallet.key(key.wrapping_add(1)).keypair,
                            ));
                            w.push(k.multisig_2of3.as_bytes());
                            Filled::Witness(w)
                        }
                        SpendKind::P2shMultisig | SpendKind::BareMultisig => {
                            let (script, nsig) = if *kind == SpendKind::P2shMultisig {
                                (&k.multisig_2of3, 2)
                            } else {
                                (&k.multisig_1of3, 1)
                            };
                            let h = cache
                                .legacy_signature_hash(i, script, 1)
                                .map_err(sighash_err)?;
                            let mut b = Builder::new().push_opcode(OP_0);
                            for n in 0..nsig {
                                let signer = &wallet.key(key.wrapping_add(n)).keypair;
                                b = b.push_slice(push(&ecdsa(h.to_byte_array(), signer))?);
                                counts.ecdsa += 1;
                            }
                            if *kind == SpendKind::P2shMultisig {
                                b = b.push_slice(push(script.as_bytes())?);
                            }
                            Filled::ScriptSig(b.into_script())
                        }
                        SpendKind::P2trKey => {
                            let h = cache
                                .taproot_key_spend_signature_hash(i, &all, TapSighashType::Default)
                                .map_err(sighash_err)?;
                            counts.schnorr_key += 1;
                            let kp = k.tweaked.to_keypair();
                            Filled::Witness(Witness::from_slice(&[schnorr(
                                h.to_byte_array(),
                                &kp,
                                &aux,
                            )]))
                        }
                        SpendKind::P2trScript => {
                            let h = cache
                                .taproot_script_spend_signature_hash(
                                    i,
                                    &all,
                                    k.leaf_hash,
                                    TapSighashType::Default,
                                )
                                .map_err(sighash_err)?;
                            counts.schnorr_script += 1;
                            let mut w = Witness::new();
                            w.push(schnorr(h.to_byte_array(), &k.keypair, &aux));
                            w.push(k.leaf.as_bytes());
                            w.push(k.control_block.serialize());
                            Filled::Witness(w)
                        }
                    }
                }
                Spend::P2trKeyAnnex { key, annex } => {
                    let a = Annex::new(annex).map_err(sighash_err)?;
                    let h = cache
                        .taproot_signature_hash(i, &all, Some(a), None, TapSighashType::Default)
                        .map_err(sighash_err)?;
                    counts.schnorr_key += 1;
                    let kp = wallet.key(*key).tweaked.to_keypair();
                    let mut w = Witness::new();
                    w.push(schnorr(h.to_byte_array(), &kp, &aux));
                    w.push(annex);
                    Filled::Witness(w)
                }
                Spend::P2wshSingleSig { script, key } => {
                    let h = cache
                        .p2wsh_signature_hash(i, script, value, EcdsaSighashType::All)
                        .map_err(sighash_err)?;
                    counts.ecdsa += 1;
                    let mut w = Witness::new();
                    w.push(ecdsa(h.to_byte_array(), &wallet.key(*key).keypair));
                    w.push(script.as_bytes());
                    Filled::Witness(w)
                }
            };
            filled.push(f);
        }
    }
    for (input, f) in tx.input.iter_mut().zip(filled) {
        match f {
            Filled::ScriptSig(s) => input.script_sig = s,
            Filled::Witness(w) => input.witness = w,
            Filled::Both(s, w) => {
                input.script_sig = s;
                input.witness = w;
            }
        }
    }
    Ok(counts)
}
