//! Core's `CScriptNum`: little-endian sign-magnitude integers of bounded length.

use super::error::ScriptError;

/// Default maximum operand size in bytes.
pub const DEFAULT_MAX_NUM_SIZE: usize = 4;

/// Decodes a script number. `require_minimal` rejects encodings with superfluous bytes
/// (MINIMALDATA); longer than `max_size` bytes is an error (Core's `scriptnum_error`).
///
/// # Errors
/// [`ScriptError::ScriptNum`].
pub fn decode(v: &[u8], require_minimal: bool, max_size: usize) -> Result<i64, ScriptError> {
    // Script numbers are at most 5 bytes in consensus (CLTV/CSV); 8 is what fits an i64.
    if v.len() > max_size.min(8) {
        return Err(ScriptError::ScriptNum);
    }
    let Some((&last, rest)) = v.split_last() else {
        return Ok(0);
    };
    if require_minimal && last & 0x7f == 0 && rest.last().is_none_or(|&b| b & 0x80 == 0) {
        return Err(ScriptError::ScriptNum);
    }
    let mut result: i64 = 0;
    for (i, &b) in v.iter().enumerate() {
        result |= i64::from(b) << (8 * i);
    }
    if last & 0x80 != 0 {
        let mask = !(0x80i64 << (8 * (v.len() - 1)));
        return Ok(-(result & mask));
    }
    Ok(result)
}

/// Encodes a value as Core's `CScriptNum::serialize`.
#[must_use]
pub fn encode(value: i64) -> Vec<u8> {
    if value == 0 {
        return Vec::new();
    }
    let neg = value < 0;
    let mut abs = value.unsigned_abs();
    let mut out = Vec::with_capacity(9);
    while abs > 0 {
        out.push((abs & 0xff) as u8);
        abs >>= 8;
    }
    // The top bit is the sign: add a byte when it is already taken by the magnitude.
    if let Some(last) = out.last_mut() {
        if *last & 0x80 != 0 {
            out.push(if neg { 0x80 } else { 0 });
        } else if neg {
            *last |= 0x80;
        }
    }
    out
}

/// Core's `CScriptNum::getint`: saturates to the `i32` range.
#[must_use]
pub fn to_i32_saturating(value: i64) -> i32 {
    i32::try_from(value).unwrap_or(if value > 0 { i32::MAX } else { i32::MIN })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_minimality() {
        for v in [
            0i64,
            1,
            -1,
            127,
            128,
            -128,
            255,
            256,
            0x7fff_ffff,
            -0x7fff_ffff,
            1 << 39,
        ] {
            let e = encode(v);
            assert_eq!(decode(&e, true, 8), Ok(v), "{v}");
        }
        assert_eq!(encode(-1), vec![0x81]);
        assert_eq!(encode(128), vec![0x80, 0x00]);
        assert_eq!(decode(&[0x00], true, 4), Err(ScriptError::ScriptNum));
        assert_eq!(decode(&[0x80], true, 4), Err(ScriptError::ScriptNum));
        assert_eq!(decode(&[0x80], false, 4), Ok(0));
        assert_eq!(decode(&[0x01, 0x00], true, 4), Err(ScriptError::ScriptNum));
        assert_eq!(decode(&[0x80, 0x00], true, 4), Ok(128));
        assert_eq!(
            decode(&[1, 2, 3, 4, 5], false, 4),
            Err(ScriptError::ScriptNum)
        );
        assert_eq!(to_i32_saturating(1 << 40), i32::MAX);
    }
}
