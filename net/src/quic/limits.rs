//! Every QUIC resource limit, set explicitly (quinn's defaults allow 100 streams per peer and
//! windows sized for bulk transfer, not for untrusted peers), and the quinn configurations
//! built from them.

use std::sync::Arc;
use std::time::Duration;

use quinn::{IdleTimeout, TransportConfig, VarInt};

use crate::wire::MAX_MESSAGE_PAYLOAD;

/// The congestion controller of QUIC connections (quinn's implementations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Congestion {
    /// CUBIC (RFC 9438), quinn's default: the window shrinks on every loss event.
    #[default]
    Cubic,
    /// NewReno (RFC 9002's reference controller).
    NewReno,
    /// BBR (quinn marks it experimental): paces at the measured bottleneck rate and does not
    /// treat random loss as congestion, as Linux TCP's BBR does.
    Bbr,
}

/// Resource limits of QUIC connections. Each is a node config value (`[quic_limits]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuicLimits {
    /// Unread bytes a peer may have in flight on one stream (flow-control window). Default
    /// 2 MiB: a block streams without waiting on window updates at ~160 Mbit/s over 100 ms.
    pub stream_receive_window: u64,
    /// Unread bytes a peer may have in flight on the whole connection. Default 16 MiB:
    /// room for every concurrently open block stream (`max_uni_streams` × the stream window),
    /// which is the part of the block-download window (16 blocks per peer) in transit at once.
    pub receive_window: u64,
    /// Bytes we keep unacknowledged towards a peer. Default 16 MiB (as the receive window).
    pub send_window: u64,
    /// Concurrent unidirectional streams a peer may open (one per large message). Default 8.
    pub max_uni_streams: u32,
    /// Concurrent bidirectional streams a client may open: the control stream only. Default 1.
    pub max_bidi_streams: u32,
    /// Inbound QUIC connections (established and handshaking) per remote IP. Default 4.
    pub max_connections_per_ip: usize,
    /// Time for the QUIC/TLS handshake plus the Sluice hello. Default 10 s.
    pub handshake_timeout: Duration,
    /// A connection with no packets this long is dropped. Default 60 s.
    pub idle_timeout: Duration,
    /// QUIC PINGs at this interval keep quiet connections (and NAT mappings) alive. Default
    /// 15 s; must be below `idle_timeout`.
    pub keep_alive: Duration,
    /// Handshakes in progress above which new clients must first prove their address with a
    /// Retry round trip (QUIC address validation). Default 16.
    pub retry_above_handshakes: usize,
    /// Time allowed for one message on its own stream to arrive whole. Default 120 s (a
    /// 4 MB block at ~270 kbit/s): a peer trickling an endless stream cannot hold a slot.
    pub message_timeout: Duration,
    /// The largest message payload accepted; never above TCP's 4,000,000 bytes.
    pub max_message: usize,
    /// Congestion controller. Default CUBIC; on links with random loss BBR keeps its rate
    /// (measured with `perf lossy`, docs/benchmarks.md).
    pub congestion: Congestion,
}

impl Default for QuicLimits {
    fn default() -> Self {
        Self {
            stream_receive_window: 2 << 20,
            receive_window: 16 << 20,
            send_window: 16 << 20,
            max_uni_streams: 8,
            max_bidi_streams: 1,
            max_connections_per_ip: 4,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            keep_alive: Duration::from_secs(15),
            retry_above_handshakes: 16,
            message_timeout: Duration::from_secs(120),
            max_message: MAX_MESSAGE_PAYLOAD,
            congestion: Congestion::default(),
        }
    }
}

/// A limit that makes no sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("quic limit {field}: {why}")]
pub struct LimitError {
    /// The field.
    pub field: &'static str,
    /// What is wrong.
    pub why: &'static str,
}

impl QuicLimits {
    /// Checks that the limits are usable together.
    ///
    /// # Errors
    /// The first inconsistent field.
    pub fn validate(&self) -> Result<(), LimitError> {
        let err = |field, why| Err(LimitError { field, why });
        if self.max_message > MAX_MESSAGE_PAYLOAD {
            return err("max_message", "above the P2P limit of 4,000,000 bytes");
        }
        if self.stream_receive_window == 0 || self.stream_receive_window > VarInt::MAX.into_inner()
        {
            return err("stream_receive_window", "must be 1..2^62");
        }
        if self.receive_window < self.stream_receive_window
            || self.receive_window > VarInt::MAX.into_inner()
        {
            return err("receive_window", "must be at least stream_receive_window");
        }
        if self.max_uni_streams == 0 {
            return err("max_uni_streams", "large messages need at least one stream");
        }
        if self.max_bidi_streams == 0 {
            return err("max_bidi_streams", "the control stream needs one");
        }
        if self.max_connections_per_ip == 0 {
            return err("max_connections_per_ip", "must be at least 1");
        }
        if self.keep_alive.is_zero() || self.keep_alive >= self.idle_timeout {
            return err("keep_alive", "must be above zero and below idle_timeout");
        }
        if IdleTimeout::try_from(self.idle_timeout).is_err() {
            return err("idle_timeout", "too large for QUIC");
        }
        if self.handshake_timeout.is_zero() || self.message_timeout.is_zero() {
            return err("handshake_timeout/message_timeout", "must be above zero");
        }
        Ok(())
    }

    /// The transport parameters of a connection. `server`: the control stream is opened by
    /// the client, so only a server accepts a bidirectional stream.
    ///
    /// # Errors
    /// [`Self::validate`].
    pub fn transport(&self, server: bool) -> Result<TransportConfig, LimitError> {
        self.validate()?;
        let var = |v: u64| VarInt::from_u64(v).unwrap_or(VarInt::MAX);
        let mut t = TransportConfig::default();
        t.stream_receive_window(var(self.stream_receive_window))
            .receive_window(var(self.receive_window))
            .send_window(self.send_window)
            .max_concurrent_uni_streams(VarInt::from_u32(self.max_uni_streams))
            .max_concurrent_bidi_streams(VarInt::from_u32(if server {
                self.max_bidi_streams
            } else {
                0
            }))
            .keep_alive_interval(Some(self.keep_alive))
            // Datagrams are unused: none buffered.
            .datagram_receive_buffer_size(None)
            .datagram_send_buffer_size(0)
            .allow_spin(false);
        let idle = IdleTimeout::try_from(self.idle_timeout).map_err(|_| LimitError {
            field: "idle_timeout",
            why: "too large for QUIC",
        })?;
        t.max_idle_timeout(Some(idle));
        match self.congestion {
            Congestion::Cubic => {
                t.congestion_controller_factory(Arc::new(quinn::congestion::CubicConfig::default()))
            }
            Congestion::NewReno => t.congestion_controller_factory(Arc::new(
                quinn::congestion::NewRenoConfig::default(),
            )),
            Congestion::Bbr => {
                t.congestion_controller_factory(Arc::new(quinn::congestion::BbrConfig::default()))
            }
        };
        Ok(t)
    }

    /// The limits as the node config prints them (one line each), for docs and logs.
    #[must_use]
    pub fn summary(&self) -> String {
        format!(
            "stream window {} B, connection window {} B, {} uni / {} bidi streams, {} conns/IP, \
             handshake {:?}, idle {:?}, keep-alive {:?}, retry above {} handshakes, message {:?}, \
             max message {} B, congestion {:?}",
            self.stream_receive_window,
            self.receive_window,
            self.max_uni_streams,
            self.max_bidi_streams,
            self.max_connections_per_ip,
            self.handshake_timeout,
            self.idle_timeout,
            self.keep_alive,
            self.retry_above_handshakes,
            self.message_timeout,
            self.max_message,
            self.congestion
        )
    }
}

/// The shared transport config of one side.
///
/// # Errors
/// [`QuicLimits::validate`].
pub fn transport_arc(
    limits: &QuicLimits,
    server: bool,
) -> Result<Arc<TransportConfig>, LimitError> {
    Ok(Arc::new(limits.transport(server)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bounded() {
        let l = QuicLimits::default();
        l.validate().unwrap();
        assert_eq!(l.max_message, 4_000_000);
        // Every concurrently open large-message stream fits the connection window.
        assert!(l.receive_window >= u64::from(l.max_uni_streams) * l.stream_receive_window);
        assert!(l.max_uni_streams <= 16 && l.max_bidi_streams == 1);
        l.transport(true).unwrap();
        l.transport(false).unwrap();
    }

    #[test]
    fn inconsistent_limits_refused() {
        let bad = |f: fn(&mut QuicLimits)| {
            let mut l = QuicLimits::default();
            f(&mut l);
            l.validate().unwrap_err().field
        };
        assert_eq!(bad(|l| l.max_message = 4_000_001), "max_message");
        assert_eq!(bad(|l| l.receive_window = 1), "receive_window");
        assert_eq!(
            bad(|l| l.stream_receive_window = 0),
            "stream_receive_window"
        );
        assert_eq!(bad(|l| l.max_uni_streams = 0), "max_uni_streams");
        assert_eq!(bad(|l| l.max_bidi_streams = 0), "max_bidi_streams");
        assert_eq!(
            bad(|l| l.max_connections_per_ip = 0),
            "max_connections_per_ip"
        );
        assert_eq!(bad(|l| l.keep_alive = l.idle_timeout), "keep_alive");
        assert_eq!(
            bad(|l| l.handshake_timeout = Duration::ZERO),
            "handshake_timeout/message_timeout"
        );
    }
}
