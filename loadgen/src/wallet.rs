//! Deterministic keys and the output scripts the generator pays to and spends from.
//!
//! Key `i` is `SHA256("sluice-loadgen key" || seed || i)`; multisig scripts for key `i` use keys
//! `i, i+1, i+2` (mod [`N_KEYS`]), so the whole wallet is re-derivable from the seed alone.

use std::collections::HashMap;

use bitcoin::hashes::{sha256, Hash};
use bitcoin::key::{Keypair, TapTweak, TweakedKeypair};
use bitcoin::opcodes::all::{
    OP_CHECKMULTISIG, OP_CHECKSIG, OP_PUSHNUM_1, OP_PUSHNUM_2, OP_PUSHNUM_3,
};
use bitcoin::script::Builder;
use bitcoin::secp256k1::SecretKey;

use crate::sign::SECP;
use bitcoin::taproot::{ControlBlock, LeafVersion, TapLeafHash, TaprootBuilder};
use bitcoin::{CompressedPublicKey, PublicKey, ScriptBuf, XOnlyPublicKey};
use serde::{Deserialize, Serialize};

/// Number of distinct keys in a generated wallet.
pub const N_KEYS: usize = 256;

/// How an output is locked (and therefore how its spending input is signed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpendKind {
    P2pkh,
    P2wpkh,
    P2shP2wpkh,
    /// 2-of-3 multisig in P2WSH.
    P2wsh2of3,
    /// BIP86-style key-path-only taproot output.
    P2trKey,
    /// Taproot output spent through a `<key> OP_CHECKSIG` leaf of a two-leaf tree.
    P2trScript,
    /// 2-of-3 multisig in P2SH.
    P2shMultisig,
    /// Bare 1-of-3 multisig output script.
    BareMultisig,
}

impl SpendKind {
    pub const ALL: [SpendKind; 8] = [
        SpendKind::P2pkh,
        SpendKind::P2wpkh,
        SpendKind::P2shP2wpkh,
        SpendKind::P2wsh2of3,
        SpendKind::P2trKey,
        SpendKind::P2trScript,
        SpendKind::P2shMultisig,
        SpendKind::BareMultisig,
    ];

    /// Short stable name (used in manifests).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            SpendKind::P2pkh => "p2pkh",
            SpendKind::P2wpkh => "p2wpkh",
            SpendKind::P2shP2wpkh => "p2sh-p2wpkh",
            SpendKind::P2wsh2of3 => "p2wsh-2of3",
            SpendKind::P2trKey => "p2tr-key",
            SpendKind::P2trScript => "p2tr-script",
            SpendKind::P2shMultisig => "p2sh-multisig",
            SpendKind::BareMultisig => "bare-multisig",
        }
    }

    /// Signatures per spend: (ECDSA, Schnorr key path, Schnorr script path).
    #[must_use]
    pub fn signatures(self) -> (u64, u64, u64) {
        match self {
            SpendKind::P2pkh
            | SpendKind::P2wpkh
            | SpendKind::P2shP2wpkh
            | SpendKind::BareMultisig => (1, 0, 0),
            SpendKind::P2wsh2of3 | SpendKind::P2shMultisig => (2, 0, 0),
            SpendKind::P2trKey => (0, 1, 0),
            SpendKind::P2trScript => (0, 0, 1),
        }
    }

    /// Upper bound of the weight a signed input adds over an unsigned one (empty scriptSig and
    /// witness). ECDSA signatures are at most 72 bytes with the sighash byte: libsecp256k1
    /// signs low-S (s <= 32 bytes), r takes 33 bytes at most. The witness-count byte every input
    /// of a witness transaction carries is added by the caller ([`Self::has_witness`]).
    #[must_use]
    pub fn input_extra_weight(self) -> u64 {
        match self {
            // scriptSig <72 sig> <33 pk> = 107 bytes
            SpendKind::P2pkh => 107 * 4,
            // witness: sig + pk
            SpendKind::P2wpkh => 73 + 34,
            // scriptSig push of the 22-byte witness program
            SpendKind::P2shP2wpkh => 23 * 4 + 73 + 34,
            // witness: empty, 2 sigs, 105-byte script
            SpendKind::P2wsh2of3 => 1 + 2 * 73 + 106,
            SpendKind::P2trKey => 65,
            // witness: sig, 35-byte leaf, 65-byte control block
            SpendKind::P2trScript => 65 + 35 + 66,
            // scriptSig: OP_0, 2 sigs, PUSHDATA1 105 (254 bytes: 3-byte length varint)
            SpendKind::P2shMultisig => (1 + 2 * 73 + 2 + 105 + 2) * 4,
            // scriptSig: OP_0, 1 sig
            SpendKind::BareMultisig => (1 + 73) * 4,
        }
    }

    /// Whether spending it puts data in the witness.
    #[must_use]
    pub fn has_witness(self) -> bool {
        !matches!(
            self,
            SpendKind::P2pkh | SpendKind::P2shMultisig | SpendKind::BareMultisig
        )
    }

    /// Sigop cost of spending such an output (P2SH redeem scripts x4, witness scripts x1).
    #[must_use]
    pub fn input_sigop_cost(self) -> u64 {
        match self {
            SpendKind::P2wpkh | SpendKind::P2shP2wpkh => 1,
            SpendKind::P2wsh2of3 => 3,
            SpendKind::P2shMultisig => 12,
            SpendKind::P2pkh
            | SpendKind::P2trKey
            | SpendKind::P2trScript
            | SpendKind::BareMultisig => 0,
        }
    }

    /// Sigop cost of creating such an output (legacy count of the scriptPubKey x4).
    #[must_use]
    pub fn output_sigop_cost(self) -> u64 {
        match self {
            SpendKind::P2pkh => 4,
            // CHECKMULTISIG counts 20 in the legacy (inaccurate) count.
            SpendKind::BareMultisig => 80,
            _ => 0,
        }
    }
}

/// Everything needed to pay to and spend from one key index.
#[derive(Debug)]
pub struct KeyEntry {
    pub keypair: Keypair,
    pub pubkey: PublicKey,
    pub xonly: XOnlyPublicKey,
    /// BIP86 tweaked keypair for [`SpendKind::P2trKey`].
    pub tweaked: TweakedKeypair,
    /// `[pk_i, pk_i+1, pk_i+2]` 2-of-3 multisig script.
    pub multisig_2of3: ScriptBuf,
    /// `[pk_i, pk_i+1, pk_i+2]` 1-of-3 multisig script.
    pub multisig_1of3: ScriptBuf,
    /// `<xonly_i> OP_CHECKSIG` leaf and its control block (internal key `i+1`).
    pub leaf: ScriptBuf,
    pub leaf_hash: TapLeafHash,
    pub control_block: ControlBlock,
    /// Script pubkeys, indexed like [`SpendKind::ALL`].
    pub spks: [ScriptBuf; 8],
}

/// The deterministic wallet of a generated chain.
#[derive(Debug)]
pub struct Wallet {
    pub keys: Vec<KeyEntry>,
    owners: HashMap<ScriptBuf, (SpendKind, u16)>,
}

fn kind_index(kind: SpendKind) -> usize {
    SpendKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)
}

fn secret(seed: u64, i: usize) -> SecretKey {
    let mut ctr = 0u32;
    loop {
        let mut data = b"sluice-loadgen key".to_vec();
        data.extend_from_slice(&seed.to_le_bytes());
        data.extend_from_slice(&(i as u64).to_le_bytes());
        data.extend_from_slice(&ctr.to_le_bytes());
        let h = sha256::Hash::hash(&data);
        // A hash is a valid scalar except with negligible probability; retry if not.
        if let Ok(sk) = SecretKey::from_slice(h.as_byte_array()) {
            return sk;
        }
        ctr += 1;
    }
}

impl Wallet {
    /// Derives the wallet of `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        let keypairs: Vec<Keypair> = (0..N_KEYS)
            .map(|i| Keypair::from_secret_key(&SECP, &secret(seed, i)))
            .collect();
        let pubkeys: Vec<PublicKey> = keypairs
            .iter()
            .map(|k| PublicKey::new(k.public_key()))
            .collect();
        let mut keys = Vec::with_capacity(N_KEYS);
        let mut owners = HashMap::new();
        for i in 0..N_KEYS {
            let (j, k) = ((i + 1) % N_KEYS, (i + 2) % N_KEYS);
            let keypair = keypairs[i];
            let pubkey = pubkeys[i];
            let (xonly, _) = keypair.x_only_public_key();
            let multisig = |m| {
                Builder::new()
                    .push_opcode(m)
                    .push_key(&pubkeys[i])
                    .push_key(&pubkeys[j])
                    .push_key(&pubkeys[k])
                    .push_opcode(OP_PUSHNUM_3)
                    .push_opcode(OP_CHECKMULTISIG)
                    .into_script()
            };
            let multisig_2of3 = multisig(OP_PUSHNUM_2);
            let multisig_1of3 = multisig(OP_PUSHNUM_1);
            let leaf = Builder::new()
                .push_x_only_key(&xonly)
                .push_opcode(OP_CHECKSIG)
                .into_script();
            let other_leaf = Builder::new()
                .push_x_only_key(&keypairs[k].x_only_public_key().0)
                .push_opcode(OP_CHECKSIG)
                .into_script();
            let internal = keypairs[j].x_only_public_key().0;
            let spend_info = TaprootBuilder::new()
                .add_leaf(1, leaf.clone())
                .and_then(|b| b.add_leaf(1, other_leaf))
                .ok()
                .and_then(|b| b.finalize(&SECP, internal).ok());
            let Some(spend_info) = spend_info else {
                unreachable!("a two-leaf tree at depth 1 is always complete")
            };
            let Some(control_block) =
                spend_info.control_block(&(leaf.clone(), LeafVersion::TapScript))
            else {
                unreachable!("the leaf was added to the tree")
            };
            let cpk = CompressedPublicKey(pubkey.inner);
            let p2wpkh = ScriptBuf::new_p2wpkh(&cpk.wpubkey_hash());
            let spks = [
                ScriptBuf::new_p2pkh(&pubkey.pubkey_hash()),
                p2wpkh.clone(),
                ScriptBuf::new_p2sh(&p2wpkh.script_hash()),
                ScriptBuf::new_p2wsh(&multisig_2of3.wscript_hash()),
                ScriptBuf::new_p2tr(&SECP, xonly, None),
                ScriptBuf::new_p2tr_tweaked(spend_info.output_key()),
                ScriptBuf::new_p2sh(&multisig_2of3.script_hash()),
                multisig_1of3.clone(),
            ];
            for (n, spk) in spks.iter().enumerate() {
                owners.insert(spk.clone(), (SpendKind::ALL[n], i as u16));
            }
            keys.push(KeyEntry {
                keypair,
                pubkey,
                xonly,
                tweaked: keypair.tap_tweak(&SECP, None),
                multisig_2of3,
                multisig_1of3,
                leaf_hash: TapLeafHash::from_script(&leaf, LeafVersion::TapScript),
                leaf,
                control_block,
                spks,
            });
        }
        Wallet { keys, owners }
    }

    /// Key entry `i` (taken modulo [`N_KEYS`]).
    #[must_use]
    pub fn key(&self, i: u16) -> &KeyEntry {
        &self.keys[usize::from(i) % N_KEYS]
    }

    /// The script pubkey of `kind` for key `i`.
    #[must_use]
    pub fn spk(&self, kind: SpendKind, i: u16) -> &ScriptBuf {
        &self.key(i).spks[kind_index(kind)]
    }

    /// Which wallet kind and key own `spk`, if any.
    #[must_use]
    pub fn owner(&self, spk: &ScriptBuf) -> Option<(SpendKind, u16)> {
        self.owners.get(spk).copied()
    }
}
