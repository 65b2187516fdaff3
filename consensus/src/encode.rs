//! Consensus decoding primitives: a bounds-checked byte reader and Core's CompactSize.
//!
//! Every read returns a typed [`DecodeError`]; nothing here panics on outside input.

/// Core's `MAX_SIZE`: the largest CompactSize accepted when it sizes a vector.
pub const MAX_SIZE: u64 = 0x0200_0000;

/// Why bytes could not be decoded as a consensus object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended before the object did.
    #[error("unexpected end of data: needed {needed} bytes at offset {at}")]
    UnexpectedEnd { at: usize, needed: usize },
    /// A CompactSize used more bytes than its value requires ("non-canonical ReadCompactSize()").
    #[error("non-canonical CompactSize at offset {0}")]
    NonCanonicalCompactSize(usize),
    /// A CompactSize above `MAX_SIZE` ("ReadCompactSize(): size too large").
    #[error("CompactSize {0} exceeds MAX_SIZE")]
    CompactSizeTooLarge(u64),
    /// The segwit flag announced witnesses but every witness stack was empty.
    #[error("superfluous witness record")]
    SuperfluousWitness,
    /// The segwit flag byte held bits other than 1 ("Unknown transaction optional data").
    #[error("unknown transaction optional data (flag {0:#04x})")]
    UnknownOptionalData(u8),
    /// Bytes remained after an object that must span the whole input.
    #[error("{0} trailing bytes after the object")]
    TrailingBytes(usize),
}

/// A forward-only reader over a borrowed byte slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    #[must_use]
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    #[must_use]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not yet consumed.
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Takes the next `n` bytes.
    ///
    /// # Errors
    /// [`DecodeError::UnexpectedEnd`] when fewer than `n` bytes remain.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(DecodeError::UnexpectedEnd {
                at: self.pos,
                needed: n,
            })?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn take_array<const N: usize>(&mut self) -> Result<&'a [u8; N], DecodeError> {
        let at = self.pos;
        self.take(N)?
            .try_into()
            .map_err(|_| DecodeError::UnexpectedEnd { at, needed: N })
    }

    /// # Errors
    /// [`DecodeError::UnexpectedEnd`].
    pub fn read_u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take_array::<1>()?[0])
    }

    /// # Errors
    /// [`DecodeError::UnexpectedEnd`].
    pub fn read_u16_le(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(*self.take_array()?))
    }

    /// # Errors
    /// [`DecodeError::UnexpectedEnd`].
    pub fn read_u32_le(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(*self.take_array()?))
    }

    /// # Errors
    /// [`DecodeError::UnexpectedEnd`].
    pub fn read_i32_le(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from_le_bytes(*self.take_array()?))
    }

    /// # Errors
    /// [`DecodeError::UnexpectedEnd`].
    pub fn read_u64_le(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(*self.take_array()?))
    }

    /// # Errors
    /// [`DecodeError::UnexpectedEnd`].
    pub fn read_i64_le(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(*self.take_array()?))
    }

    /// # Errors
    /// [`DecodeError::UnexpectedEnd`].
    pub fn read_hash(&mut self) -> Result<&'a [u8; 32], DecodeError> {
        self.take_array()
    }

    /// Core's `ReadCompactSize(range_check = true)`: canonical encodings only, at most `MAX_SIZE`.
    ///
    /// # Errors
    /// [`DecodeError::NonCanonicalCompactSize`], [`DecodeError::CompactSizeTooLarge`],
    /// [`DecodeError::UnexpectedEnd`].
    pub fn read_compact_size(&mut self) -> Result<u64, DecodeError> {
        let v = self.read_compact_size_unchecked()?;
        if v > MAX_SIZE {
            return Err(DecodeError::CompactSizeTooLarge(v));
        }
        Ok(v)
    }

    /// A canonical CompactSize without the `MAX_SIZE` range check.
    ///
    /// # Errors
    /// [`DecodeError::NonCanonicalCompactSize`], [`DecodeError::UnexpectedEnd`].
    fn read_compact_size_unchecked(&mut self) -> Result<u64, DecodeError> {
        let at = self.pos;
        let (v, min) = match self.read_u8()? {
            0xfd => (u64::from(self.read_u16_le()?), 0xfd),
            0xfe => (u64::from(self.read_u32_le()?), 0x1_0000),
            0xff => (self.read_u64_le()?, 0x1_0000_0000),
            b => return Ok(u64::from(b)),
        };
        if v < min {
            return Err(DecodeError::NonCanonicalCompactSize(at));
        }
        Ok(v)
    }

    /// A CompactSize length followed by that many bytes.
    ///
    /// # Errors
    /// As [`Reader::read_compact_size`] and [`Reader::take`].
    pub fn read_var_bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.read_compact_size()?;
        // n <= MAX_SIZE fits in usize on every supported target.
        self.take(usize::try_from(n).map_err(|_| DecodeError::CompactSizeTooLarge(n))?)
    }
}

/// Appends the CompactSize encoding of `n` to `out`.
pub fn write_compact_size(out: &mut Vec<u8>, n: u64) {
    match n {
        0..=0xfc => out.push(n as u8),
        0xfd..=0xffff => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xfe);
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        _ => {
            out.push(0xff);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
}

/// Length of the CompactSize encoding of `n`.
#[must_use]
pub fn compact_size_len(n: u64) -> usize {
    match n {
        0..=0xfc => 1,
        0xfd..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_size_canonical_and_range() {
        for n in [0u64, 1, 0xfc, 0xfd, 0xffff, 0x1_0000, MAX_SIZE] {
            let mut v = Vec::new();
            write_compact_size(&mut v, n);
            assert_eq!(v.len(), compact_size_len(n));
            let mut r = Reader::new(&v);
            assert_eq!(r.read_compact_size(), Ok(n));
            assert_eq!(r.remaining(), 0);
        }
        assert_eq!(
            Reader::new(&[0xfd, 0xfc, 0x00]).read_compact_size(),
            Err(DecodeError::NonCanonicalCompactSize(0))
        );
        assert_eq!(
            Reader::new(&[0xfe, 0xff, 0xff, 0, 0]).read_compact_size(),
            Err(DecodeError::NonCanonicalCompactSize(0))
        );
        assert_eq!(
            Reader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]).read_compact_size(),
            Err(DecodeError::NonCanonicalCompactSize(0))
        );
        assert_eq!(
            Reader::new(&[0xfe, 0x01, 0x00, 0x00, 0x02]).read_compact_size(),
            Err(DecodeError::CompactSizeTooLarge(0x0200_0001))
        );
        assert!(matches!(
            Reader::new(&[0xfd, 0x01]).read_compact_size(),
            Err(DecodeError::UnexpectedEnd { .. })
        ));
    }
}
