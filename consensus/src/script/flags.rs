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

    /// Consensus flags (Core's `GetBlockScriptFlags` on mainnet, ignoring its two historic
    /// exception blocks) for a block at `height`. P2SH is keyed on height 173805 (the first block
    /// where BIP16's timestamp rule applies); DERSIG 363725, CLTV 388381, CSV 419328,
    /// WITNESS+NULLDUMMY 481824, TAPROOT 709632.
    #[must_use]
    pub fn mainnet_consensus(height: u32) -> Self {
        let mut f = Self::NONE;
        if height >= 173_805 {
            f |= Self::P2SH;
        }
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
            f |= Self::WITNESS | Self::NULLDUMMY;
        }
        if height >= 709_632 {
            f |= Self::TAPROOT;
        }
        f
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
    }
}
