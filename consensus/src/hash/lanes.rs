//! Multi-lane driver: feeds N independent messages to an N-lane compression engine.
//!
//! All of this is safe Rust; the engines (AVX2, AVX-512, two-way SHA-NI) live in `simd`. Each lane
//! walks its own message block by block; when a lane's message ends, its digest is written out
//! and the next pending message is loaded into that lane, so one long message does not stall
//! the others. When the queue is empty and only a few lanes are still busy, the leftovers are
//! finished by a single-stream compressor rather than burning full-width rounds on idle lanes.

use super::scalar::{block_words, state_bytes, Start, Tail, IV};
use super::Hash256;

/// An engine compressing N independent blocks at once. Words are transposed: `w[j][lane]`
/// is big-endian message word `j` of lane `lane`, `state[i][lane]` likewise.
pub(crate) trait LaneEngine<const N: usize>: Copy {
    /// One compression of every lane's block into every lane's state.
    fn compress(self, state: &mut [[u32; N]; 8], w: &[[u32; N]; 16]);

    /// One compression of each lane's block (transposing them first).
    fn compress_blocks(self, state: &mut [[u32; N]; 8], blocks: &[&[u8; 64]; N]) {
        self.compress(state, &transpose(blocks));
    }

    /// Double SHA-256 of N 64-byte messages; returns the final transposed state words.
    fn d64_blocks(self, blocks: &[&[u8; 64]; N]) -> [[u32; N]; 8] {
        self.d64(&transpose(blocks))
    }

    /// Double SHA-256 of N 64-byte messages given as transposed words; returns the final
    /// transposed state words of the second hash.
    fn d64(self, w: &[[u32; N]; 16]) -> [[u32; N]; 8] {
        let mut state = [[0u32; N]; 8];
        for (s, iv) in state.iter_mut().zip(IV) {
            *s = [iv; N];
        }
        self.compress(&mut state, w);
        let mut pad = [[0u32; N]; 16];
        for (p, word) in pad.iter_mut().zip(super::scalar::PAD64_WORDS) {
            *p = [word; N];
        }
        self.compress(&mut state, &pad);
        self.second_hash(&state)
    }

    /// SHA-256 of N 32-byte digests given as their transposed state words.
    fn second_hash(self, first: &[[u32; N]; 8]) -> [[u32; N]; 8] {
        let mut w = [[0u32; N]; 16];
        w[..8].copy_from_slice(first);
        for (p, word) in w[8..].iter_mut().zip(super::scalar::PAD32_TAIL) {
            *p = [word; N];
        }
        let mut state = [[0u32; N]; 8];
        for (s, iv) in state.iter_mut().zip(IV) {
            *s = [iv; N];
        }
        self.compress(&mut state, &w);
        state
    }
}

/// Digest of lane `lane` of a transposed state.
fn lane_digest<const N: usize>(state: &[[u32; N]; 8], lane: usize) -> Hash256 {
    let mut words = [0u32; 8];
    for (w, s) in words.iter_mut().zip(state) {
        *w = s.get(lane).copied().unwrap_or_default();
    }
    state_bytes(&words)
}

/// An idle lane's block.
static ZERO_BLOCK: [u8; 64] = [0; 64];

/// Big-endian words of N blocks, transposed (`w[j][lane]`).
fn transpose<const N: usize>(blocks: &[&[u8; 64]; N]) -> [[u32; N]; 16] {
    let mut w = [[0u32; N]; 16];
    for (lane, block) in blocks.iter().enumerate() {
        set_lane_block(&mut w, lane, block);
    }
    w
}

/// Set the big-endian words of `block` as lane `lane` of `w`.
fn set_lane_block<const N: usize>(w: &mut [[u32; N]; 16], lane: usize, block: &[u8; 64]) {
    for (row, word) in w.iter_mut().zip(block_words(block)) {
        if let Some(slot) = row.get_mut(lane) {
            *slot = word;
        }
    }
}

/// Double SHA-256 of 64-byte inputs, N at a time; a partial last batch is zero-padded.
pub(crate) fn sha256d64<const N: usize, E: LaneEngine<N>>(
    engine: E,
    inputs: &[[u8; 64]],
    out: &mut [Hash256],
) {
    for (ins, outs) in inputs.chunks(N).zip(out.chunks_mut(N)) {
        let blocks: [&[u8; 64]; N] =
            std::array::from_fn(|lane| ins.get(lane).unwrap_or(&ZERO_BLOCK));
        let state = engine.d64_blocks(&blocks);
        for (lane, o) in outs.iter_mut().enumerate() {
            *o = lane_digest(&state, lane);
        }
    }
}

/// SHA-256 of each digest in `hashes`, in place (the second half of a double SHA-256).
pub(crate) fn rehash32<const N: usize, E: LaneEngine<N>>(engine: E, hashes: &mut [Hash256]) {
    // One block per digest: the 32 bytes, 0x80, zeros, bit length 256.
    let mut blocks = [[0u8; 64]; N];
    for block in &mut blocks {
        block[32] = 0x80;
        block[62] = 0x01;
    }
    for chunk in hashes.chunks_mut(N) {
        for (block, h) in blocks.iter_mut().zip(chunk.iter()) {
            block[..32].copy_from_slice(h);
        }
        let refs: [&[u8; 64]; N] = std::array::from_fn(|lane| &blocks[lane]);
        let mut state = [[0u32; N]; 8];
        for (row, iv) in state.iter_mut().zip(IV) {
            *row = [iv; N];
        }
        engine.compress_blocks(&mut state, &refs);
        for (lane, h) in chunk.iter_mut().enumerate() {
            *h = lane_digest(&state, lane);
        }
    }
}

/// One message in flight in a lane. Small on purpose: lanes are refilled thousands of times
/// per block, so the padding is built on demand rather than stored.
#[derive(Debug, Clone, Copy)]
struct Cursor<'a> {
    msg: &'a [u8],
    /// Index of the message (and its digest slot).
    idx: usize,
    /// Next block to compress.
    next: usize,
    /// Whole 64-byte blocks taken straight from the message.
    whole: usize,
    /// All blocks including padding.
    total: usize,
    /// Bytes hashed before the message (they count in the padded length).
    prefix: u64,
}

impl<'a> Cursor<'a> {
    fn new(idx: usize, msg: &'a [u8], prefix: u64) -> Self {
        let whole = msg.len() / 64;
        let total = whole + if msg.len() % 64 < 56 { 1 } else { 2 };
        Self {
            msg,
            idx,
            next: 0,
            whole,
            total,
            prefix,
        }
    }

    /// Block `next` when it lies wholly inside the message.
    fn msg_block(&self) -> Option<&'a [u8; 64]> {
        let start = self.next * 64;
        self.msg.get(start..start + 64)?.first_chunk::<64>()
    }

    /// Block `next` when it is (partly) padding: the message's last bytes, `0x80`, zeros and,
    /// in the final block, the 64-bit big-endian bit length.
    fn pad_block(&self, block: &mut [u8; 64]) {
        *block = [0; 64];
        if self.next == self.whole {
            let rest = self.msg.get(self.whole * 64..).unwrap_or_default();
            block[..rest.len()].copy_from_slice(rest);
            block[rest.len()] = 0x80;
        }
        if self.next + 1 == self.total {
            let bits = self
                .prefix
                .wrapping_add(self.msg.len() as u64)
                .wrapping_mul(8);
            block[56..].copy_from_slice(&bits.to_be_bytes());
        }
    }

    /// Finish this message from its current block with a single-stream compressor.
    fn finish_single(
        &self,
        mut state: [u32; 8],
        single: &impl Fn(&mut [u32; 8], &[u8]),
    ) -> Hash256 {
        let tail = Tail::new(self.msg, self.prefix);
        if self.next < self.whole {
            single(
                &mut state,
                self.msg
                    .get(self.next * 64..self.whole * 64)
                    .unwrap_or_default(),
            );
            single(&mut state, tail.bytes());
        } else {
            let skip = (self.next - self.whole) * 64;
            single(&mut state, tail.bytes().get(skip..).unwrap_or_default());
        }
        state_bytes(&state)
    }
}

/// SHA-256 of `prefix || msg` for each message (`start` holds the state after the common
/// prefix; [`super::scalar::FRESH`] for none), N lanes at a time with refilling. `single` compresses whole
/// blocks of one stream; it finishes the stragglers once at most `N / 4` lanes (one lane for
/// N = 2) are busy and nothing is pending.
pub(crate) fn sha256_many<const N: usize, E: LaneEngine<N>>(
    engine: E,
    start: Start,
    msgs: &[&[u8]],
    out: &mut [Hash256],
    single: impl Fn(&mut [u32; 8], &[u8]),
) {
    let mut pending = msgs.iter().enumerate();
    let mut lanes: [Option<Cursor<'_>>; N] = std::array::from_fn(|_| None);
    let mut state = [[0u32; N]; 8];
    let mut pads = [[0u8; 64]; N];
    for (lane, slot) in lanes.iter_mut().enumerate() {
        *slot = pending.next().map(|(i, m)| Cursor::new(i, m, start.prefix));
        reset_lane(&mut state, lane, &start.state);
    }
    let mut active = lanes.iter().filter(|l| l.is_some()).count();
    let mut exhausted = msgs.len() <= N;
    while active > 0 {
        if exhausted && active * 4 <= N.max(4) {
            for (lane, cursor) in lanes.iter().enumerate() {
                if let Some(c) = cursor {
                    let mut s = [0u32; 8];
                    for (word, row) in s.iter_mut().zip(&state) {
                        *word = row.get(lane).copied().unwrap_or_default();
                    }
                    if let Some(o) = out.get_mut(c.idx) {
                        *o = c.finish_single(s, &single);
                    }
                }
            }
            return;
        }
        for (cursor, pad) in lanes.iter().zip(pads.iter_mut()) {
            if let Some(c) = cursor {
                if c.msg_block().is_none() {
                    c.pad_block(pad);
                }
            }
        }
        let blocks: [&[u8; 64]; N] = std::array::from_fn(|lane| match lanes.get(lane) {
            Some(Some(c)) => c.msg_block().unwrap_or(&pads[lane]),
            _ => &ZERO_BLOCK,
        });
        engine.compress_blocks(&mut state, &blocks);
        for (lane, cursor) in lanes.iter_mut().enumerate() {
            let Some(c) = cursor else { continue };
            c.next += 1;
            if c.next < c.total {
                continue;
            }
            if let Some(o) = out.get_mut(c.idx) {
                *o = lane_digest(&state, lane);
            }
            *cursor = pending.next().map(|(i, m)| Cursor::new(i, m, start.prefix));
            if cursor.is_some() {
                reset_lane(&mut state, lane, &start.state);
            } else {
                active -= 1;
                exhausted = true;
            }
        }
    }
}

fn reset_lane<const N: usize>(state: &mut [[u32; N]; 8], lane: usize, init: &[u32; 8]) {
    for (row, iv) in state.iter_mut().zip(init) {
        if let Some(slot) = row.get_mut(lane) {
            *slot = *iv;
        }
    }
}
