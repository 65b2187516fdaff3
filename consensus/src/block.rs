//! Zero-copy block view: the decoded header plus borrowed transaction views.

use crate::encode::{DecodeError, Reader};
use crate::header::{Header, HEADER_SIZE};
use crate::tx::Transaction;

/// A block parsed from its consensus serialisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block<'a> {
    pub header: Header,
    /// The 80 header bytes as received.
    pub header_bytes: &'a [u8],
    pub transactions: Vec<Transaction<'a>>,
    raw: &'a [u8],
}

impl<'a> Block<'a> {
    /// Parses a block that spans all of `bytes`.
    ///
    /// # Errors
    /// Any [`DecodeError`] of the header or a transaction, or [`DecodeError::TrailingBytes`].
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let (b, used) = Self::parse_prefix(bytes)?;
        if used != bytes.len() {
            return Err(DecodeError::TrailingBytes(bytes.len() - used));
        }
        Ok(b)
    }

    /// Parses a block from the front of `bytes`, returning it and the bytes consumed.
    /// (Core's network code ignores bytes after a block; callers choose.)
    ///
    /// # Errors
    /// Any [`DecodeError`] of the header or a transaction.
    pub fn parse_prefix(bytes: &'a [u8]) -> Result<(Self, usize), DecodeError> {
        let mut r = Reader::new(bytes);
        let header_bytes = r.take(HEADER_SIZE)?;
        let header = Header::decode(header_bytes).map_err(|_| DecodeError::UnexpectedEnd {
            at: 0,
            needed: HEADER_SIZE,
        })?;
        let n = r.read_compact_size()?;
        // A transaction takes at least 10 bytes; never allocate from the claimed count alone.
        let cap = usize::try_from(n).unwrap_or(0).min(r.remaining() / 10);
        let mut transactions = Vec::with_capacity(cap);
        for _ in 0..n {
            transactions.push(Transaction::parse_from(&mut r, bytes)?);
        }
        let used = r.position();
        Ok((
            Self {
                header,
                header_bytes,
                transactions,
                raw: &bytes[..used],
            },
            used,
        ))
    }

    /// The serialisation this view was parsed from.
    #[must_use]
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Serialised size with witnesses.
    #[must_use]
    pub fn total_size(&self) -> usize {
        self.raw.len()
    }

    /// Serialised size without witnesses.
    #[must_use]
    pub fn base_size(&self) -> usize {
        let witness_bytes: usize = self
            .transactions
            .iter()
            .map(|t| t.total_size() - t.base_size())
            .sum();
        self.raw.len() - witness_bytes
    }

    /// BIP141 block weight.
    #[must_use]
    pub fn weight(&self) -> usize {
        self.base_size() * 3 + self.total_size()
    }
}
