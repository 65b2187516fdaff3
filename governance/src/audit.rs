//! The append-only audit log: one JSON object per line, each entry's hash covering the
//! previous entry's hash, its sequence number and its length-prefixed body. Editing,
//! reordering or dropping an entry breaks the chain; cutting entries off the end is caught by
//! checking against a head (sequence number and hash) remembered from earlier.

use serde::{Deserialize, Serialize};

use crate::error::{Error, LogFault};
use crate::hash::{Digest, Preimage, TAG_LOG};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    seq: u64,
    prev: String,
    body: String,
    hash: String,
}

/// The last entry of a log: what a reader remembers to detect truncation later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogHead {
    /// Its sequence number (entries count from 0).
    pub seq: u64,
    /// Its hash.
    pub hash: Digest,
}

impl LogHead {
    /// Parses `SEQ:HASH`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let bad = || Error::parse("log head", "expected SEQ:HASH");
        let (seq, hash) = s.split_once(':').ok_or_else(bad)?;
        if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        Ok(LogHead {
            seq: seq.parse().map_err(|_| bad())?,
            hash: Digest::from_hex("log head", hash)?,
        })
    }
}

impl std::fmt::Display for LogHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// Hash of entry `seq` with body `body` after `prev` (all zeros before the first entry).
pub fn entry_hash(prev: &Digest, seq: u64, body: &[u8]) -> Digest {
    Preimage::new()
        .digest(prev)
        .u64(seq)
        .bytes(body)
        .finish(TAG_LOG)
}

/// Checks a whole log; returns its head (`None` when empty). With `expect`, the log must
/// still hold that entry, unchanged.
pub fn verify_log(text: &[u8], expect: Option<&LogHead>) -> Result<Option<LogHead>, Error> {
    let entries = parse_entries(text)?;
    // Sequence numbers first, so a swap reads as a reorder rather than as a gap.
    for (i, pair) in entries.windows(2).enumerate() {
        if pair[1].0.seq <= pair[0].0.seq {
            return Err(Error::Log {
                seq: i as u64 + 1,
                fault: LogFault::Reordered,
            });
        }
    }
    for (i, (e, _, _)) in entries.iter().enumerate() {
        if e.seq != i as u64 {
            return Err(Error::Log {
                seq: i as u64,
                fault: LogFault::Dropped,
            });
        }
    }
    let mut prev = Digest::default();
    let mut head = None;
    for (e, stated_prev, stated_hash) in &entries {
        if *stated_prev != prev {
            return Err(Error::Log {
                seq: e.seq,
                fault: LogFault::PrevMismatch,
            });
        }
        let hash = entry_hash(&prev, e.seq, e.body.as_bytes());
        if hash != *stated_hash {
            return Err(Error::Log {
                seq: e.seq,
                fault: LogFault::HashMismatch,
            });
        }
        prev = hash;
        head = Some(LogHead { seq: e.seq, hash });
    }
    if let Some(want) = expect {
        let got = usize::try_from(want.seq).ok().and_then(|i| entries.get(i));
        match got {
            None => {
                return Err(Error::Log {
                    seq: want.seq,
                    fault: LogFault::Truncated,
                })
            }
            Some((_, _, h)) if *h != want.hash => {
                return Err(Error::Log {
                    seq: want.seq,
                    fault: LogFault::HeadMismatch,
                })
            }
            Some(_) => {}
        }
    }
    Ok(head)
}

type Parsed = (Entry, Digest, Digest);

fn parse_entries(text: &[u8]) -> Result<Vec<Parsed>, Error> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    // Every entry ends with a newline; a last line without one is a torn write.
    let Some(body) = text.strip_suffix(b"\n") else {
        let seq = text.iter().filter(|&&b| b == b'\n').count() as u64;
        return Err(Error::Log {
            seq,
            fault: LogFault::Truncated,
        });
    };
    body.split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| {
            let malformed = Error::Log {
                seq: i as u64,
                fault: LogFault::Malformed,
            };
            let e: Entry = serde_json::from_slice(line).map_err(|_| malformed)?;
            let prev = Digest::from_hex("prev", &e.prev).map_err(|_| Error::Log {
                seq: i as u64,
                fault: LogFault::Malformed,
            })?;
            let hash = Digest::from_hex("hash", &e.hash).map_err(|_| Error::Log {
                seq: i as u64,
                fault: LogFault::Malformed,
            })?;
            Ok((e, prev, hash))
        })
        .collect()
}

/// Checks `text` and returns the line that appends `body`, and the new head.
pub fn append_line(text: &[u8], body: &str) -> Result<(String, LogHead), Error> {
    let head = verify_log(text, None)?;
    let (seq, prev) = match head {
        Some(h) => (h.seq + 1, h.hash),
        None => (0, Digest::default()),
    };
    let hash = entry_hash(&prev, seq, body.as_bytes());
    let entry = Entry {
        seq,
        prev: prev.to_hex(),
        body: body.to_string(),
        hash: hash.to_hex(),
    };
    let line = serde_json::to_string(&entry).map_err(|e| Error::parse("log entry", e))?;
    Ok((line + "\n", LogHead { seq, hash }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn log_of(bodies: &[&str]) -> (Vec<u8>, LogHead) {
        let mut text = Vec::new();
        let mut head = None;
        for b in bodies {
            let (line, h) = append_line(&text, b).unwrap();
            text.extend_from_slice(line.as_bytes());
            head = Some(h);
        }
        (text, head.unwrap())
    }

    fn lines(text: &[u8]) -> Vec<Vec<u8>> {
        text.split_inclusive(|&b| b == b'\n')
            .map(<[u8]>::to_vec)
            .collect()
    }

    fn fault(r: Result<Option<LogHead>, Error>) -> (u64, LogFault) {
        match r {
            Err(Error::Log { seq, fault }) => (seq, fault),
            other => panic!("expected a log fault, got {other:?}"),
        }
    }

    #[test]
    fn intact_log_verifies_with_its_head() {
        let (text, head) = log_of(&["a", "b", "c"]);
        assert_eq!(verify_log(&text, Some(&head)).unwrap(), Some(head));
        assert_eq!(head.seq, 2);
        assert_eq!(verify_log(b"", None).unwrap(), None);
    }

    #[test]
    fn edited_entry_detected() {
        let (text, _) = log_of(&["approve x", "approve y"]);
        let edited = String::from_utf8(text)
            .unwrap()
            .replacen("approve y", "approve z", 1);
        assert_eq!(
            fault(verify_log(edited.as_bytes(), None)),
            (1, LogFault::HashMismatch)
        );
    }

    #[test]
    fn edited_and_rehashed_entry_breaks_the_next_link() {
        let (text, _) = log_of(&["a", "b", "c"]);
        let mut l = lines(&text);
        let (forged, _) = append_line(&l[0], "B").unwrap();
        l[1] = forged.into_bytes();
        assert_eq!(
            fault(verify_log(&l.concat(), None)),
            (2, LogFault::PrevMismatch)
        );
    }

    #[test]
    fn reordered_entries_detected() {
        let (text, _) = log_of(&["a", "b", "c"]);
        let mut l = lines(&text);
        l.swap(1, 2);
        assert_eq!(
            fault(verify_log(&l.concat(), None)),
            (2, LogFault::Reordered)
        );
    }

    #[test]
    fn dropped_entry_detected() {
        let (text, _) = log_of(&["a", "b", "c"]);
        let mut l = lines(&text);
        l.remove(1);
        assert_eq!(fault(verify_log(&l.concat(), None)), (1, LogFault::Dropped));
    }

    #[test]
    fn truncation_detected() {
        let (text, head) = log_of(&["a", "b", "c"]);
        // A torn last line.
        assert_eq!(
            fault(verify_log(&text[..text.len() - 5], None)),
            (2, LogFault::Truncated)
        );
        // Whole entries cut off: only a remembered head can tell.
        let l = lines(&text);
        let cut = l[..2].concat();
        assert!(verify_log(&cut, None).is_ok());
        assert_eq!(
            fault(verify_log(&cut, Some(&head))),
            (2, LogFault::Truncated)
        );
    }

    #[test]
    fn rewritten_history_misses_the_head() {
        let (text, head) = log_of(&["a", "b", "c"]);
        let (other, _) = log_of(&["a", "b", "C"]);
        assert!(verify_log(&text, Some(&head)).is_ok());
        assert_eq!(
            fault(verify_log(&other, Some(&head))),
            (2, LogFault::HeadMismatch)
        );
    }

    #[test]
    fn malformed_and_unknown_fields() {
        let (text, _) = log_of(&["a"]);
        let extra = String::from_utf8(text)
            .unwrap()
            .replacen("{", "{\"x\":1,", 1);
        assert_eq!(
            fault(verify_log(extra.as_bytes(), None)),
            (0, LogFault::Malformed)
        );
        assert_eq!(
            fault(verify_log(b"not json\n", None)),
            (0, LogFault::Malformed)
        );
    }

    #[test]
    fn head_round_trip() {
        let (_, head) = log_of(&["a"]);
        assert_eq!(LogHead::parse(&head.to_string()).unwrap(), head);
        assert!(LogHead::parse("x:00").is_err());
    }
}
