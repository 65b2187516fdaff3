//! The v1 (plaintext) transport: frames with magic and checksum.

use std::collections::VecDeque;

use crate::wire::{encode_frame, Command, FrameDecoder, FrameError, RawMessage};

/// Sans-IO v1 transport: received bytes in, framed messages out; messages in, bytes out.
#[derive(Debug)]
pub struct V1Transport {
    magic: [u8; 4],
    decoder: FrameDecoder,
    outbox: VecDeque<Vec<u8>>,
    queued: usize,
}

impl V1Transport {
    /// A transport for the network with this magic.
    #[must_use]
    pub fn new(magic: [u8; 4]) -> Self {
        Self {
            magic,
            decoder: FrameDecoder::new(magic),
            outbox: VecDeque::new(),
            queued: 0,
        }
    }

    /// Frames every complete message in `input` into `out`; partial data is kept.
    ///
    /// # Errors
    /// A [`FrameError`] (bad magic, bad command, oversized, bad checksum): fatal.
    pub fn receive(
        &mut self,
        mut input: &[u8],
        out: &mut VecDeque<RawMessage>,
    ) -> Result<(), FrameError> {
        while let Some(m) = self.decoder.decode(&mut input)? {
            out.push_back(m);
        }
        Ok(())
    }

    /// Queues one message.
    pub fn send(&mut self, command: Command, payload: &[u8]) {
        let mut frame = Vec::new();
        encode_frame(self.magic, command, payload, &mut frame);
        self.queued += frame.len();
        self.outbox.push_back(frame);
    }

    /// The next bytes to write.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        let b = self.outbox.pop_front()?;
        self.queued -= b.len();
        Some(b)
    }

    /// Bytes queued and not yet handed out by [`Self::poll_transmit`].
    #[must_use]
    pub fn queued_bytes(&self) -> usize {
        self.queued
    }
}
