//! BIP324 short message ids: one byte instead of the 12-byte command for common messages.
//! The table is Core's `V2_MESSAGE_IDS` (BIP324's list, plus ids Core added since).

use crate::wire::Command;

/// Index = short id; empty = unassigned (id 0 means "a 12-byte command follows").
const SHORT_IDS: [&str; 38] = [
    "",
    "addr",
    "block",
    "blocktxn",
    "cmpctblock",
    "feefilter",
    "filteradd",
    "filterclear",
    "filterload",
    "getblocks",
    "getblocktxn",
    "getdata",
    "getheaders",
    "headers",
    "inv",
    "mempool",
    "merkleblock",
    "notfound",
    "ping",
    "pong",
    "sendcmpct",
    "tx",
    "getcfilters",
    "cfilter",
    "getcfheaders",
    "cfheaders",
    "getcfcheckpt",
    "cfcheckpt",
    "addrv2",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "feature",
];

/// The short id of a command, if it has one.
#[must_use]
pub fn short_id(command: Command) -> Option<u8> {
    let name = command.as_str();
    if name.is_empty() {
        return None;
    }
    SHORT_IDS
        .iter()
        .position(|&n| n == name)
        .and_then(|i| u8::try_from(i).ok())
}

/// The command for a short id; `None` for 0 and unassigned ids.
#[must_use]
pub fn command_for(id: u8) -> Option<Command> {
    match SHORT_IDS.get(usize::from(id)) {
        Some(name) if !name.is_empty() => Command::new(name),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::command::names;

    #[test]
    fn bip324_ids() {
        assert_eq!(short_id(names::BLOCK), Some(2));
        assert_eq!(short_id(names::HEADERS), Some(13));
        assert_eq!(short_id(names::ADDRV2), Some(28));
        assert_eq!(short_id(names::VERSION), None);
        assert_eq!(short_id(names::SENDHEADERS), None);
        assert_eq!(command_for(18), Some(names::PING));
        assert_eq!(command_for(0), None);
        assert_eq!(command_for(29), None);
        assert_eq!(command_for(255), None);
        for id in 1..=u8::MAX {
            if let Some(c) = command_for(id) {
                assert_eq!(short_id(c), Some(id));
            }
        }
    }
}
