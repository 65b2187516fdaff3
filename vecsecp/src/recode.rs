//! Signed odd-digit recoding: every window adds one table entry, so all lanes run the same
//! sequence of operations whatever their scalars.

/// Digits d_0..d_{L−1} of an odd `v`, each odd with |d_i| < 2^w, with v = Σ d_i·2^(w·i).
/// `None` when v is even or too large for L windows (v must be below about 2^(w·L − 1)).
///
/// Each step takes d = (t mod 2^(w+1)) − 2^w, odd because t is; then t − d ≡ 2^w
/// (mod 2^(w+1)), so the next t = (t − d)/2^w is odd again, and the last t is the top digit.
pub(crate) fn odd_digits<const L: usize>(v: u128, w: u32) -> Option<[i16; L]> {
    if v & 1 == 0 {
        return None;
    }
    let mut t = v;
    let mut out = [0i16; L];
    let half = 1u128 << w;
    let mask = (1u128 << (w + 1)) - 1;
    for d in out.iter_mut().take(L - 1) {
        let m = t & mask; // odd, in [1, 2^(w+1))
        let (digit, next) = if m >= half {
            (i16::try_from(m - half).ok()?, (t - (m - half)) >> w)
        } else {
            (
                -i16::try_from(half - m).ok()?,
                t.checked_add(half - m)? >> w,
            )
        };
        *d = digit;
        t = next;
    }
    if t >= half {
        return None;
    }
    out[L - 1] = i16::try_from(t).ok()?;
    Some(out)
}

/// Table index and sign of a digit: entry (|d| − 1)/2 holds |d|·P.
pub(crate) fn index_sign(d: i16) -> (u64, bool) {
    (u64::from(d.unsigned_abs() - 1) / 2, d < 0)
}
