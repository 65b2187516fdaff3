//! Script verification flags with Core's `SCRIPT_VERIFY_*` names and bit positions.

use std::ops::{BitAnd, BitOr, BitOrAssign, Not};

/// A set of `SCRIPT_VERIFY_*` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct ScriptFlags(pub u32);

/// A flag name from script_tests.json or tx_valid.json is not one Core knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown script verification flag {0:?}")]
pub struct UnknownFlag(pub String);

macro_rules! flags {
    ($($name:ident = $bit:expr, $text:literal;)*) => {
        impl ScriptFlags {
            $(pub const $name: Self = Self(1 << $bit);)*
            /// Every defined flag, with its name.
            pub const ALL_NAMED: &'static [(&'static str, ScriptFlags)] = &[$(($text, Self::$name),)*];
        }
    };
}

flags! {
    P2SH = 0, "P2SH";
    STRICTENC = 1, "STRICTENC";
    DERSIG = 2, "DERSIG";
    LOW_S = 3, "LOW_S";
    NULLDUMMY = 4, "NULLDUMMY";
    SIGPUSHONLY = 5, "SIGPUSHONLY";
    MINIMALDATA = 6, "MINIMALDATA";
    DISCOURAGE_UPGRADABLE_NOPS = 7, "DISCOURAGE_UPGRADABLE_NOPS";
    CLEANSTACK = 8, "CLEANSTACK";
    CHECKLOCKTIMEVERIFY = 9, "CHECKLOCKTIMEVERIFY";
    CHECKSEQUENCEVERIFY = 10, "CHECKSEQUENCEVERIFY";
    WITNESS = 11, "WITNESS";
    DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM = 12, "DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM";
    MINIMALIF = 13, "MINIMALIF";
    NULLFAIL = 14, "NULLFAIL";
    WITNESS_PUBKEYTYPE = 15, "WITNESS_PUBKEYTYPE";
    CONST_SCRIPTCODE = 16, "CONST_SCRIPTCODE";
    TAPROOT = 17, "TAPROOT";
    DISCOURAGE_UPGRADABLE_TAPROOT_VERSION = 18, "DISCOURAGE_UPGRADABLE_TAPROOT_VERSION";
    DISCOURAGE_OP_SUCCESS = 19, "DISCOURAGE_OP_SUCCESS";
    DISCOURAGE_UPGRADABLE_PUBKEYTYPE = 20, "DISCOURAGE_UPGRADABLE_PUBKEYTYPE";
}

impl ScriptFlags {
    pub const NONE: Self = Self(0);
    /// Every defined flag.
    pub const ALL: Self = Self((1 << 21) - 1);

    /// Core's `GetBlockScriptFlags` for mainnet: P2SH, WITNESS and TAPROOT always (Core applies
    /// them retroactively; every historic block passes) except for the two exception blocks, plus
    /// DERSIG from 363725, CHECKLOCKTIMEVERIFY from 388381, CHECKSEQUENCEVERIFY from 419328 and
    /// NULLDUMMY from 481824 (segwit). `block_hash` is in internal byte order.
    #[must_use]
    pub fn mainnet_block_flags(height: u32, block_hash: &[u8; 32]) -> Self {
        let mut f = if *block_hash == display_hash(BIP16_EXCEPTION) {
            Self::NONE
        } else if *block_hash == display_hash(TAPROOT_EXCEPTION) {
            Self::P2SH | Self::WITNESS
        } else {
            Self::P2SH | Self::WITNESS | Self::TAPROOT
        };
        if height >= 363_725 {
            f |= Self::DERSIG;
        }
        if height >= 388_381 {
            f |= Self::CHECKLOCKTIMEVERIFY;
        }
        if height >= 419_328 {
            f |= Self::CHECKSEQUENCEVERIFY;
        }
        if height >= 481_824 {
            f |= Self::NULLDUMMY;
        }
        f
    }

    /// Mainnet consensus flags at `height` for any block other than the two exception blocks
    /// (see [`ScriptFlags::mainnet_block_flags`]).
    #[must_use]
    pub fn mainnet_consensus(height: u32) -> Self {
        Self::mainnet_block_flags(height, &[0; 32])
    }

    #[must_use]
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    #[must_use]
    pub fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// Parses a comma-separated list as in Core's tests ("P2SH,STRICTENC"); "" and "NONE" are
    /// the empty set.
    ///
    /// # Errors
    /// [`UnknownFlag`] naming the first unknown word.
    pub fn parse(s: &str) -> Result<Self, UnknownFlag> {
        let mut f = Self::NONE;
        if s.is_empty() || s == "NONE" {
            return Ok(f);
        }
        for word in s.split(',') {
            let (_, flag) = Self::ALL_NAMED
                .iter()
                .find(|(n, _)| *n == word)
                .ok_or_else(|| UnknownFlag(word.to_owned()))?;
            f |= *flag;
        }
        Ok(f)
    }
}

/// Mainnet block 170060, which violates BIP16 and is validated with no flags.
const BIP16_EXCEPTION: &str = "00000000000002dc756eebf4f49723ed8d30cc28a5f108eb94b1ba88ac4f9c22";
/// Mainnet block 692261, which violates taproot rules and is validated with P2SH+WITNESS only.
const TAPROOT_EXCEPTION: &str = "0000000000000000000f14c35b2d841e986ab5441de8c585d5ffe55ea1e395ad";

/// Internal byte order of a display-hex hash (constant input, so invalid hex cannot occur).
fn display_hash(hex: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    let b = hex.as_bytes();
    let nib = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => 0,
    };
    for (i, o) in out.iter_mut().enumerate() {
        let j = 62 - 2 * i;
        *o = (nib(b[j]) << 4) | nib(b[j + 1]);
    }
    out
}

impl BitOr for ScriptFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl BitOrAssign for ScriptFlags {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for ScriptFlags {
    type Output = Self;
    fn bitand(self, rhs: Self) -> Self {
        Self(self.0 & rhs.0)
    }
}

impl Not for ScriptFlags {
    type Output = Self;
    /// Complement within the defined flags.
    fn not(self) -> Self {
        Self(!self.0 & Self::ALL.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_names() {
        assert_eq!(
            ScriptFlags::parse("P2SH,STRICTENC"),
            Ok(ScriptFlags::P2SH | ScriptFlags::STRICTENC)
        );
        assert_eq!(ScriptFlags::parse(""), Ok(ScriptFlags::NONE));
        assert_eq!(ScriptFlags::parse("NONE"), Ok(ScriptFlags::NONE));
        assert!(ScriptFlags::parse("P2SH,BOGUS").is_err());
        assert_eq!(ScriptFlags::TAPROOT.0, 1 << 17);
        assert_eq!(ScriptFlags::ALL_NAMED.len(), 21);
        let exc = display_hash(BIP16_EXCEPTION);
        assert_eq!(exc[31], 0);
        assert_eq!(exc[0], 0x22);
        assert_eq!(
            ScriptFlags::mainnet_block_flags(170_060, &exc),
            ScriptFlags::NONE
        );
        assert_eq!(
            ScriptFlags::mainnet_consensus(100),
            ScriptFlags::P2SH | ScriptFlags::WITNESS | ScriptFlags::TAPROOT
        );
        assert!(ScriptFlags::mainnet_consensus(481_824).contains(ScriptFlags::NULLDUMMY));
    }
}
