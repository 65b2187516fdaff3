//! Scripts as Core's RPC shows them (core_io.cpp `ScriptToUniv`): `asm`, `desc` (the inferred
//! descriptor with its checksum, script/descriptor.cpp), `hex`, `address` and `type` (Core's
//! `Solver` names).

use serde_json::{json, Map, Value};
use sluice_consensus::chain::Network;
use sluice_consensus::script::checksig::is_valid_signature_encoding;
use sluice_consensus::script::opcodes::{
    opcode_name, OP_1, OP_16, OP_CHECKMULTISIG, OP_CHECKSIG, OP_PUSHDATA4, OP_RETURN,
};
use sluice_consensus::script::{is_p2sh, is_pay_to_anchor, read_op, witness_program};

/// Core's `ScriptToAsmStr`. `sighash_decode`: show a trailing sighash byte of what looks like a
/// signature as `[ALL]` etc. (Core does this for scriptSigs).
#[must_use]
pub fn asm(script: &[u8], sighash_decode: bool) -> String {
    let mut out = String::new();
    let mut pc = 0;
    let unspendable = script.first() == Some(&OP_RETURN) || script.len() > 10_000;
    while pc < script.len() {
        if !out.is_empty() {
            out.push(' ');
        }
        let Ok((op, data)) = read_op(script, &mut pc) else {
            out.push_str("[error]");
            return out;
        };
        if op <= OP_PUSHDATA4 {
            if data.len() <= 4 {
                out.push_str(&script_num(data).to_string());
            } else if sighash_decode && !unspendable && is_valid_signature_encoding(data) {
                let (body, last) = data.split_at(data.len() - 1);
                match sighash_name(last[0]) {
                    Some(name) => {
                        out.push_str(&hex::encode(body));
                        out.push_str(&format!("[{name}]"));
                    }
                    None => out.push_str(&hex::encode(data)),
                }
            } else {
                out.push_str(&hex::encode(data));
            }
        } else {
            out.push_str(opcode_name(op));
        }
    }
    out
}

/// `CScriptNum(vch, false).getint()` for pushes of at most 4 bytes.
fn script_num(data: &[u8]) -> i64 {
    let Some(&last) = data.last() else {
        return 0;
    };
    let mut v: i64 = 0;
    for (i, b) in data.iter().enumerate() {
        v |= i64::from(*b) << (8 * i);
    }
    if last & 0x80 != 0 {
        let mask = !(0x80i64 << (8 * (data.len() - 1)));
        -(v & mask)
    } else {
        v
    }
}

/// Core's `mapSigHashTypes`.
fn sighash_name(b: u8) -> Option<&'static str> {
    Some(match b {
        0x01 => "ALL",
        0x81 => "ALL|ANYONECANPAY",
        0x02 => "NONE",
        0x82 => "NONE|ANYONECANPAY",
        0x03 => "SINGLE",
        0x83 => "SINGLE|ANYONECANPAY",
        _ => return None,
    })
}

/// A push of a public key of a valid size for its header byte (`CPubKey::ValidSize`).
fn valid_size_pubkey(data: &[u8]) -> bool {
    match data.first() {
        Some(2 | 3) => data.len() == 33,
        Some(4 | 6 | 7) => data.len() == 65,
        _ => false,
    }
}

/// The output type and its solutions, as Core's `Solver`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind<'a> {
    NonStandard,
    PubKey(&'a [u8]),
    PubKeyHash,
    ScriptHash,
    Multisig { required: u8, keys: Vec<&'a [u8]> },
    NullData,
    WitnessV0KeyHash,
    WitnessV0ScriptHash,
    Taproot(&'a [u8]),
    Anchor,
    WitnessUnknown,
}

impl Kind<'_> {
    /// Core's `GetTxnOutputType`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Kind::NonStandard => "nonstandard",
            Kind::PubKey(_) => "pubkey",
            Kind::PubKeyHash => "pubkeyhash",
            Kind::ScriptHash => "scripthash",
            Kind::Multisig { .. } => "multisig",
            Kind::NullData => "nulldata",
            Kind::WitnessV0KeyHash => "witness_v0_keyhash",
            Kind::WitnessV0ScriptHash => "witness_v0_scripthash",
            Kind::Taproot(_) => "witness_v1_taproot",
            Kind::Anchor => "anchor",
            Kind::WitnessUnknown => "witness_unknown",
        }
    }
}

fn push_only_from(script: &[u8], mut pc: usize) -> bool {
    while pc < script.len() {
        match read_op(script, &mut pc) {
            Ok((op, _)) if op <= OP_16 => {}
            _ => return false,
        }
    }
    true
}

fn multisig(script: &[u8]) -> Option<Kind<'_>> {
    let (&first, rest) = script.split_first()?;
    let (&last, rest) = rest.split_last()?;
    if last != OP_CHECKMULTISIG || !(OP_1..=OP_16).contains(&first) {
        return None;
    }
    let (&n_op, body) = rest.split_last()?;
    if !(OP_1..=OP_16).contains(&n_op) {
        return None;
    }
    let mut keys = Vec::new();
    let mut pc = 0;
    while pc < body.len() {
        let (op, data) = read_op(body, &mut pc).ok()?;
        if op > OP_PUSHDATA4 || !valid_size_pubkey(data) {
            return None;
        }
        keys.push(data);
    }
    let (m, n) = (first - OP_1 + 1, n_op - OP_1 + 1);
    (usize::from(n) == keys.len() && m <= n).then_some(Kind::Multisig { required: m, keys })
}

/// Core's `Solver`.
#[must_use]
pub fn solve(script: &[u8]) -> Kind<'_> {
    if is_p2sh(script) {
        return Kind::ScriptHash;
    }
    if let Some((version, program)) = witness_program(script) {
        return match (version, program.len()) {
            (0, 20) => Kind::WitnessV0KeyHash,
            (0, 32) => Kind::WitnessV0ScriptHash,
            (1, 32) => Kind::Taproot(program),
            _ if is_pay_to_anchor(version, program) => Kind::Anchor,
            (0, _) => Kind::NonStandard,
            _ => Kind::WitnessUnknown,
        };
    }
    if script.first() == Some(&OP_RETURN) && push_only_from(script, 1) {
        return Kind::NullData;
    }
    let n = script.len();
    if (n == 35 || n == 67)
        && script[0] as usize == n - 2
        && script[n - 1] == OP_CHECKSIG
        && valid_size_pubkey(&script[1..n - 1])
    {
        return Kind::PubKey(&script[1..n - 1]);
    }
    if n == 25 && script[..3] == [0x76, 0xa9, 0x14] && script[23..] == [0x88, 0xac] {
        return Kind::PubKeyHash;
    }
    multisig(script).unwrap_or(Kind::NonStandard)
}

fn bitcoin_network(n: Network) -> bitcoin::Network {
    match n {
        Network::Mainnet => bitcoin::Network::Bitcoin,
        Network::Testnet4 => bitcoin::Network::Testnet4,
        Network::Signet => bitcoin::Network::Signet,
        Network::Regtest => bitcoin::Network::Regtest,
    }
}

/// The address of an output script (`ExtractDestination` + `EncodeDestination`), never for
/// bare public keys, multisig, data or non-standard scripts.
#[must_use]
pub fn address(script: &[u8], kind: &Kind<'_>, network: Network) -> Option<String> {
    match kind {
        Kind::PubKeyHash
        | Kind::ScriptHash
        | Kind::WitnessV0KeyHash
        | Kind::WitnessV0ScriptHash
        | Kind::Taproot(_)
        | Kind::Anchor
        | Kind::WitnessUnknown => bitcoin::Address::from_script(
            bitcoin::Script::from_bytes(script),
            bitcoin_network(network),
        )
        .ok()
        .map(|a| a.to_string()),
        _ => None,
    }
}

/// Core's `InferDescriptor` for a script with no signing data, with its checksum.
#[must_use]
pub fn descriptor(script: &[u8], kind: &Kind<'_>, network: Network) -> String {
    let non_hybrid = |k: &[u8]| matches!(k.first(), Some(2..=4));
    let body = match kind {
        Kind::PubKey(k) if non_hybrid(k) => format!("pk({})", hex::encode(k)),
        Kind::Multisig { required, keys } if keys.iter().all(|k| non_hybrid(k)) => {
            let keys: Vec<String> = keys.iter().map(hex::encode).collect();
            format!("multi({required},{})", keys.join(","))
        }
        Kind::Taproot(x)
            if <[u8; 32]>::try_from(*x)
                .is_ok_and(|b| secp256k1::XOnlyPublicKey::from_byte_array(b).is_ok()) =>
        {
            format!("rawtr({})", hex::encode(x))
        }
        _ => match address(script, kind, network) {
            Some(a) => format!("addr({a})"),
            None => format!("raw({})", hex::encode(script)),
        },
    };
    with_checksum(&body)
}

/// Appends `#` and the descriptor checksum (BIP380).
#[must_use]
pub fn with_checksum(desc: &str) -> String {
    const INPUT: &str = "0123456789()[],'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#\"\\ ";
    const CHECKSUM: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    fn polymod(c: u64, val: u64) -> u64 {
        let c0 = c >> 35;
        let mut c = ((c & 0x7_ffff_ffff) << 5) ^ val;
        for (bit, g) in [
            0xf5_dee5_1989,
            0xa9_fdca_3312,
            0x1b_ab10_e32d,
            0x37_06b1_677a,
            0x64_4d62_6ffd,
        ]
        .into_iter()
        .enumerate()
        {
            if c0 >> bit & 1 == 1 {
                c ^= g;
            }
        }
        c
    }
    let mut c = 1u64;
    let mut cls = 0u64;
    let mut count = 0;
    for ch in desc.chars() {
        let Some(pos) = INPUT.find(ch) else {
            return desc.to_owned();
        };
        let pos = pos as u64;
        c = polymod(c, pos & 31);
        cls = cls * 3 + (pos >> 5);
        count += 1;
        if count == 3 {
            c = polymod(c, cls);
            cls = 0;
            count = 0;
        }
    }
    if count > 0 {
        c = polymod(c, cls);
    }
    for _ in 0..8 {
        c = polymod(c, 0);
    }
    c ^= 1;
    let sum: String = (0..8)
        .map(|j| char::from(CHECKSUM[((c >> (5 * (7 - j))) & 31) as usize]))
        .collect();
    format!("{desc}#{sum}")
}

/// Core's `ScriptToUniv(script, include_hex = true, include_address = true)`.
#[must_use]
pub fn script_pubkey_json(script: &[u8], network: Network) -> Value {
    let kind = solve(script);
    let mut o = Map::new();
    o.insert("asm".into(), asm(script, false).into());
    o.insert("desc".into(), descriptor(script, &kind, network).into());
    o.insert("hex".into(), hex::encode(script).into());
    if let Some(a) = address(script, &kind, network) {
        o.insert("address".into(), a.into());
    }
    o.insert("type".into(), kind.name().into());
    Value::Object(o)
}

/// A scriptSig as Core shows it in a transaction input.
#[must_use]
pub fn script_sig_json(script: &[u8]) -> Value {
    json!({"asm": asm(script, true), "hex": hex::encode(script)})
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn asm_like_core() {
        // P2PKH
        let spk = hex::decode("76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac").unwrap();
        assert_eq!(
            asm(&spk, false),
            "OP_DUP OP_HASH160 62e907b15cbf27d5425399ebf6f0fb50ebb88f18 OP_EQUALVERIFY OP_CHECKSIG"
        );
        // Small pushes are numbers; OP_0/OP_1NEGATE/OP_16 by value; truncated push is [error].
        assert_eq!(
            asm(&[0x00, 0x4f, 0x60, 0x01, 0x81, 0x02, 0xff, 0x00], false),
            "0 -1 16 -1 255"
        );
        assert_eq!(asm(&[0x6a, 0x05, 1, 2], false), "OP_RETURN [error]");
        assert_eq!(asm(&[0xba, 0xfe], false), "OP_CHECKSIGADD OP_UNKNOWN");
    }

    #[test]
    fn descriptor_checksums_match_bip380_examples() {
        assert_eq!(with_checksum("raw(deadbeef)"), "raw(deadbeef)#89f8spxm");
    }

    #[test]
    fn types_and_addresses() {
        let p2wpkh = hex::decode("0014751e76e8199196d454941c45d1b3a323f1433bd6").unwrap();
        let k = solve(&p2wpkh);
        assert_eq!(k.name(), "witness_v0_keyhash");
        assert_eq!(
            address(&p2wpkh, &k, Network::Mainnet).unwrap(),
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
        );
        assert_eq!(solve(&[0x6a, 0x01, 0x01]).name(), "nulldata");
        assert_eq!(solve(&[0x6a, 0xac]).name(), "nonstandard");
        assert_eq!(solve(&[0x51, 0x02, 0x4e, 0x73]).name(), "anchor");
        let mut ms = vec![0x51, 33];
        ms.extend([2u8; 33]);
        ms.extend([0x51, 0xae]);
        assert_eq!(solve(&ms).name(), "multisig");
        assert!(descriptor(&ms, &solve(&ms), Network::Regtest).starts_with("multi(1,0202"));
    }
}
