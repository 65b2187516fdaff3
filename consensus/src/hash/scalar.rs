//! Portable SHA-256 compression (FIPS 180-4), one message at a time.
//!
//! This is the fallback on CPUs without AVX2/AVX-512/SHA-NI and the baseline the benchmarks
//! compare against. It is deliberately plain Rust with no CPU-specific code, so it behaves the
//! same on every architecture.

/// Round constants, FIPS 180-4 §4.2.2.
pub(crate) const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// Initial hash value, FIPS 180-4 §5.3.3.
pub(crate) const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Message words of the padding block that follows a 64-byte message (bit length 512).
pub(crate) const PAD64_WORDS: [u32; 16] =
    [0x8000_0000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 512];

/// Message words 8..16 of the single block hashing a 32-byte message (bit length 256).
pub(crate) const PAD32_TAIL: [u32; 8] = [0x8000_0000, 0, 0, 0, 0, 0, 0, 256];

const fn expand(block: [u32; 16]) -> [u32; 64] {
    let mut w = [0u32; 64];
    let mut i = 0;
    while i < 16 {
        w[i] = block[i];
        i += 1;
    }
    while i < 64 {
        w[i] = ssig1(w[i - 2])
            .wrapping_add(w[i - 7])
            .wrapping_add(ssig0(w[i - 15]))
            .wrapping_add(w[i - 16]);
        i += 1;
    }
    w
}

/// `K[i] + W[i]` for the constant padding block after a 64-byte message: its schedule never
/// changes, so the lane backends skip the message expansion for it (as Core's SHA256D64 does).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // only the x86 lanes use it
pub(crate) const PAD64_KW: [u32; 64] = {
    let w = expand(PAD64_WORDS);
    let mut kw = [0u32; 64];
    let mut i = 0;
    while i < 64 {
        kw[i] = K[i].wrapping_add(w[i]);
        i += 1;
    }
    kw
};

const fn ssig0(x: u32) -> u32 {
    x.rotate_right(7) ^ x.rotate_right(18) ^ (x >> 3)
}

const fn ssig1(x: u32) -> u32 {
    x.rotate_right(17) ^ x.rotate_right(19) ^ (x >> 10)
}

/// Big-endian message words of one 64-byte block.
pub(crate) fn block_words(block: &[u8; 64]) -> [u32; 16] {
    let mut w = [0u32; 16];
    for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
        *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    w
}

/// Compress one block given as message words.
pub(crate) fn compress_words(state: &mut [u32; 8], block: [u32; 16]) {
    let w = expand(block);
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
    for (k, wi) in K.iter().zip(w.iter()) {
        let t1 = h
            .wrapping_add(e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25))
            .wrapping_add((e & f) ^ (!e & g))
            .wrapping_add(*k)
            .wrapping_add(*wi);
        let t2 = (a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22))
            .wrapping_add((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d.wrapping_add(t1);
        d = c;
        c = b;
        b = a;
        a = t1.wrapping_add(t2);
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
        *s = s.wrapping_add(v);
    }
}

/// Compress every whole 64-byte block of `blocks` (its length must be a multiple of 64).
pub(crate) fn compress_blocks(state: &mut [u32; 8], blocks: &[u8]) {
    for block in blocks.chunks_exact(64) {
        let mut b = [0u8; 64];
        b.copy_from_slice(block);
        compress_words(state, block_words(&b));
    }
}

/// Serialise a state as the big-endian digest.
pub(crate) fn state_bytes(state: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// The final one or two blocks of a message: the bytes after its last whole block, the `0x80`
/// marker, zeros, and the 64-bit big-endian bit length.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tail {
    buf: [u8; 128],
    blocks: usize,
}

impl Tail {
    /// Padding for `msg` hashed after `prefix` bytes (a multiple of 64) already compressed:
    /// `msg.len() / 64` whole blocks come from the message itself.
    pub(crate) fn new(msg: &[u8], prefix: u64) -> Self {
        let whole = msg.len() / 64 * 64;
        let rest = msg.get(whole..).unwrap_or_default();
        let mut buf = [0u8; 128];
        buf[..rest.len()].copy_from_slice(rest);
        buf[rest.len()] = 0x80;
        let blocks = if rest.len() < 56 { 1 } else { 2 };
        let bits = prefix.wrapping_add(msg.len() as u64).wrapping_mul(8);
        buf[blocks * 64 - 8..blocks * 64].copy_from_slice(&bits.to_be_bytes());
        Self { buf, blocks }
    }

    /// The padding bytes: 64 or 128 of them.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf[..self.blocks * 64]
    }
}

/// Where hashing starts: the state after `prefix` bytes (a multiple of 64) were compressed,
/// e.g. the BIP340 tag prefix `SHA256(tag) || SHA256(tag)`, or nothing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Start {
    pub(crate) state: [u32; 8],
    pub(crate) prefix: u64,
}

/// Hashing from the beginning.
pub(crate) const FRESH: Start = Start {
    state: IV,
    prefix: 0,
};

/// SHA-256 of one message with a given whole-block compressor.
pub(crate) fn sha256_with(msg: &[u8], compress: impl Fn(&mut [u32; 8], &[u8])) -> [u8; 32] {
    sha256_from(FRESH, msg, compress)
}

/// SHA-256 of `prefix || msg` where `start` holds the state after the prefix.
pub(crate) fn sha256_from(
    start: Start,
    msg: &[u8],
    compress: impl Fn(&mut [u32; 8], &[u8]),
) -> [u8; 32] {
    let mut state = start.state;
    let whole = msg.len() / 64 * 64;
    compress(&mut state, msg.get(..whole).unwrap_or_default());
    compress(&mut state, Tail::new(msg, start.prefix).bytes());
    state_bytes(&state)
}

/// Double SHA-256 of one 64-byte message with a given whole-block compressor.
pub(crate) fn sha256d64_with(
    input: &[u8; 64],
    compress: impl Fn(&mut [u32; 8], &[u8]),
) -> [u8; 32] {
    let mut state = IV;
    compress(&mut state, input);
    compress(&mut state, &PAD64_BLOCK);
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(&state_bytes(&state));
    block[32] = 0x80;
    block[62] = 0x01; // bit length 256, big-endian
    let mut second = IV;
    compress(&mut second, &block);
    state_bytes(&second)
}

/// The padding block after a 64-byte message, as bytes.
const PAD64_BLOCK: [u8; 64] = {
    let mut b = [0u8; 64];
    b[0] = 0x80;
    b[62] = 0x02; // bit length 512, big-endian
    b
};
