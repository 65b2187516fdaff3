//! Core's compact coin encoding (`compressor.cpp`, `serialize.h` VARINT, `coins.h` Coin):
//! `VARINT(height*2 + coinbase)`, `VARINT(CompressAmount(value))`, then the compressed script
//! (P2PKH / P2SH / P2PK special cases, otherwise `VARINT(len + 6)` and the raw bytes).
//!
//! The same encoding is used by `dumptxoutset` snapshots, so the snapshot reader reuses it.

use sluice_consensus::coin::Coin;

/// Core's `MAX_SCRIPT_SIZE`: longer scripts are replaced by `OP_RETURN` on decode, as Core does.
pub const MAX_SCRIPT_SIZE: usize = 10_000;
/// Core's `ScriptCompression::nSpecialScripts`.
const SPECIAL_SCRIPTS: u64 = 6;

/// Why a compact encoding could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("unexpected end of data")]
    Eof,
    #[error("VARINT too large")]
    VarIntOverflow,
    #[error("compressed P2PK key is not on the curve")]
    BadPubKey,
    #[error("amount out of range")]
    BadAmount,
}

/// Appends Core's VARINT (MSB base-128 with the "minus one" trick).
pub fn write_varint(out: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 10];
    let mut len = 0usize;
    loop {
        tmp[len] = (n & 0x7f) as u8 | if len > 0 { 0x80 } else { 0 };
        if n <= 0x7f {
            break;
        }
        n = (n >> 7) - 1;
        len += 1;
    }
    out.extend(tmp[..=len].iter().rev());
}

/// A cursor over untrusted bytes: every read is bounds-checked.
#[derive(Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    #[must_use]
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    #[must_use]
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::Eof)?;
        let s = self.data.get(self.pos..end).ok_or(DecodeError::Eof)?;
        self.pos = end;
        Ok(s)
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.bytes(N)?);
        Ok(a)
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u16_le(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub fn u32_le(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn u64_le(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// Core's `ReadVarInt` for an integer of `bits` width (32 or 64).
    pub fn varint(&mut self, bits: u32) -> Result<u64, DecodeError> {
        let max = if bits >= 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        let mut n: u64 = 0;
        loop {
            let b = self.u8()?;
            if n > (max >> 7) {
                return Err(DecodeError::VarIntOverflow);
            }
            n = (n << 7) | u64::from(b & 0x7f);
            if b & 0x80 != 0 {
                if n == max {
                    return Err(DecodeError::VarIntOverflow);
                }
                n += 1;
            } else {
                return Ok(n);
            }
        }
    }

    /// Bitcoin's CompactSize (the snapshot's per-txid coin count and vouts use it).
    pub fn compact_size(&mut self) -> Result<u64, DecodeError> {
        let b = self.u8()?;
        Ok(match b {
            0xfd => u64::from(self.u16_le()?),
            0xfe => u64::from(self.u32_le()?),
            0xff => self.u64_le()?,
            _ => u64::from(b),
        })
    }
}

/// Core's `CompressAmount`.
#[must_use]
pub fn compress_amount(mut n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    let mut e = 0u64;
    while n % 10 == 0 && e < 9 {
        n /= 10;
        e += 1;
    }
    if e < 9 {
        let d = n % 10;
        n /= 10;
        1 + (n * 9 + d - 1) * 10 + e
    } else {
        1 + (n - 1) * 10 + 9
    }
}

/// Core's `DecompressAmount` (wrapping like Core's unsigned arithmetic on hostile input).
#[must_use]
pub fn decompress_amount(mut x: u64) -> u64 {
    if x == 0 {
        return 0;
    }
    x -= 1;
    let mut e = x % 10;
    x /= 10;
    let mut n = if e < 9 {
        let d = (x % 9) + 1;
        x /= 9;
        x.wrapping_mul(10).wrapping_add(d)
    } else {
        x.wrapping_add(1)
    };
    while e > 0 {
        n = n.wrapping_mul(10);
        e -= 1;
    }
    n
}

/// Core's `CompressScript` + `ScriptCompression::Ser`.
pub fn write_script(out: &mut Vec<u8>, s: &[u8]) {
    const DUP: u8 = 0x76;
    const HASH160: u8 = 0xa9;
    const EQUALVERIFY: u8 = 0x88;
    const EQUAL: u8 = 0x87;
    const CHECKSIG: u8 = 0xac;
    if s.len() == 25
        && s[0] == DUP
        && s[1] == HASH160
        && s[2] == 20
        && s[23] == EQUALVERIFY
        && s[24] == CHECKSIG
    {
        out.push(0);
        out.extend_from_slice(&s[3..23]);
        return;
    }
    if s.len() == 23 && s[0] == HASH160 && s[1] == 20 && s[22] == EQUAL {
        out.push(1);
        out.extend_from_slice(&s[2..22]);
        return;
    }
    if s.len() == 35 && s[0] == 33 && s[34] == CHECKSIG && (s[1] == 2 || s[1] == 3) {
        out.extend_from_slice(&s[1..34]);
        return;
    }
    // Uncompressed P2PK only if the key is fully valid (otherwise it could not be restored).
    if s.len() == 67
        && s[0] == 65
        && s[66] == CHECKSIG
        && s[1] == 4
        && secp256k1::PublicKey::from_slice(&s[1..66]).is_ok()
    {
        out.push(4 | (s[65] & 1));
        out.extend_from_slice(&s[2..34]);
        return;
    }
    write_varint(out, s.len() as u64 + SPECIAL_SCRIPTS);
    out.extend_from_slice(s);
}

/// Core's `ScriptCompression::Unser` + `DecompressScript`.
pub fn read_script(r: &mut Reader<'_>) -> Result<Vec<u8>, DecodeError> {
    let n = r.varint(32)?;
    match n {
        0 => {
            let h = r.bytes(20)?;
            let mut s = Vec::with_capacity(25);
            s.extend_from_slice(&[0x76, 0xa9, 20]);
            s.extend_from_slice(h);
            s.extend_from_slice(&[0x88, 0xac]);
            Ok(s)
        }
        1 => {
            let h = r.bytes(20)?;
            let mut s = Vec::with_capacity(23);
            s.extend_from_slice(&[0xa9, 20]);
            s.extend_from_slice(h);
            s.push(0x87);
            Ok(s)
        }
        2 | 3 => {
            let x = r.bytes(32)?;
            let mut s = Vec::with_capacity(35);
            s.push(33);
            s.push(n as u8);
            s.extend_from_slice(x);
            s.push(0xac);
            Ok(s)
        }
        4 | 5 => {
            let x = r.bytes(32)?;
            let mut c = [0u8; 33];
            c[0] = (n - 2) as u8;
            c[1..].copy_from_slice(x);
            let pk = secp256k1::PublicKey::from_slice(&c).map_err(|_| DecodeError::BadPubKey)?;
            let mut s = Vec::with_capacity(67);
            s.push(65);
            s.extend_from_slice(&pk.serialize_uncompressed());
            s.push(0xac);
            Ok(s)
        }
        _ => {
            let len = usize::try_from(n - SPECIAL_SCRIPTS).map_err(|_| DecodeError::Eof)?;
            if len > MAX_SCRIPT_SIZE {
                // Core replaces overly long scripts with a short invalid one and skips the bytes.
                r.bytes(len)?;
                Ok(vec![0x6a])
            } else {
                Ok(r.bytes(len)?.to_vec())
            }
        }
    }
}

/// Appends Core's `Coin` serialisation (as in the chainstate and in `dumptxoutset`).
pub fn write_coin(out: &mut Vec<u8>, coin: &Coin) {
    write_varint(out, u64::from(coin.height) * 2 + u64::from(coin.coinbase));
    #[allow(clippy::cast_sign_loss)] // coin values are never negative (checked by consensus)
    write_varint(out, compress_amount(coin.value as u64));
    write_script(out, &coin.script_pubkey);
}

/// Reads Core's `Coin` serialisation.
pub fn read_coin(r: &mut Reader<'_>) -> Result<Coin, DecodeError> {
    let code = r.varint(32)?;
    let value =
        i64::try_from(decompress_amount(r.varint(64)?)).map_err(|_| DecodeError::BadAmount)?;
    let script_pubkey = read_script(r)?;
    Ok(Coin {
        value,
        script_pubkey,
        height: u32::try_from(code >> 1).map_err(|_| DecodeError::VarIntOverflow)?,
        coinbase: code & 1 == 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_matches_core_examples() {
        // serialize_tests.cpp varint_bitpatterns.
        let cases: &[(u64, &str)] = &[
            (0, "00"),
            (0x7f, "7f"),
            (0x80, "8000"),
            (0x1234, "a334"),
            (0xffff, "82fe7f"),
            (0x123456, "c7e756"),
            (0x80123456, "86ffc7e756"),
            (0xffffffff, "8efefefe7f"),
            (0xffffffffffffffff, "80fefefefefefefefe7f"),
        ];
        for (n, hex) in cases {
            let mut v = Vec::new();
            write_varint(&mut v, *n);
            assert_eq!(hex::encode(&v), *hex, "{n:#x}");
            assert_eq!(Reader::new(&v).varint(64).unwrap(), *n);
        }
        assert_eq!(
            Reader::new(&hex::decode("ffffffffffffffff7f").unwrap()).varint(32),
            Err(DecodeError::VarIntOverflow)
        );
    }

    #[test]
    fn amount_compression_matches_core_vectors() {
        // compress_tests.cpp: compress_amounts.
        for (n, c) in [
            (0u64, 0u64),
            (1, 1),
            (1_000_000, 7),
            (100_000_000, 9),
            (5_000_000_000, 50),
            (2_100_000_000_000_000, 21_000_000),
        ] {
            assert_eq!(compress_amount(n), c);
            assert_eq!(decompress_amount(c), n);
        }
        for i in 0..100_000u64 {
            assert_eq!(decompress_amount(compress_amount(i)), i);
            assert_eq!(compress_amount(decompress_amount(i)), i);
        }
    }

    #[test]
    fn script_special_cases_roundtrip() {
        let p2pkh = hex::decode("76a914000102030405060708090a0b0c0d0e0f1011121388ac").unwrap();
        let p2sh = hex::decode("a914000102030405060708090a0b0c0d0e0f1011121387").unwrap();
        let g = secp256k1::PublicKey::from_secret_key(
            &secp256k1::SecretKey::from_secret_bytes([1; 32]).unwrap(),
        );
        let mut p2pk_c = vec![33];
        p2pk_c.extend_from_slice(&g.serialize());
        p2pk_c.push(0xac);
        let mut p2pk_u = vec![65];
        p2pk_u.extend_from_slice(&g.serialize_uncompressed());
        p2pk_u.push(0xac);
        let mut bad_u = p2pk_u.clone();
        bad_u[10] ^= 1; // no longer on the curve: stored raw
        for (s, len) in [
            (&p2pkh, 21),
            (&p2sh, 21),
            (&p2pk_c, 33),
            (&p2pk_u, 33),
            (&bad_u, 68),
        ] {
            let mut v = Vec::new();
            write_script(&mut v, s);
            assert_eq!(v.len(), len);
            let mut r = Reader::new(&v);
            assert_eq!(&read_script(&mut r).unwrap(), s);
            assert_eq!(r.remaining(), 0);
        }
    }

    #[test]
    fn truncated_coin_is_an_error() {
        let coin = Coin {
            value: 12345,
            script_pubkey: vec![0x51; 40],
            height: 700_000,
            coinbase: true,
        };
        let mut v = Vec::new();
        write_coin(&mut v, &coin);
        assert_eq!(read_coin(&mut Reader::new(&v)).unwrap(), coin);
        for cut in 0..v.len() {
            assert_eq!(
                read_coin(&mut Reader::new(&v[..cut])),
                Err(DecodeError::Eof)
            );
        }
    }
}
