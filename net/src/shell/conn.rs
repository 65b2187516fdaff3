//! One connection's task: moves bytes between a `TcpStream` and a [`Peer`], fires its timers,
//! forwards its events and applies commands from the layer above.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::registry::{PeerCommand, PeerId};
use super::Shared;
use crate::peer::{DisconnectReason, Peer, PeerEvent};

/// Bytes read from the socket per call.
const READ_CHUNK: usize = 64 * 1024;

/// How a connection ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Finished; the final `Disconnect` has been reported.
    Done,
    /// An outbound v2 attempt the peer did not accept: reconnect with v1, nothing reported.
    RetryV1,
}

/// Runs `peer` over `stream` until the connection ends.
pub(crate) async fn drive(
    shared: &Arc<Shared>,
    id: PeerId,
    stream: TcpStream,
    mut peer: Peer,
    commands: &mut mpsc::Receiver<PeerCommand>,
) -> Outcome {
    let addr = peer.conn().addr;
    let (mut rd, mut wr) = stream.into_split();
    let mut rbuf = vec![0u8; READ_CHUNK];
    let mut out: VecDeque<Vec<u8>> = VecDeque::new();
    let mut out_bytes = 0usize;
    let mut written = 0usize; // of out.front()
    let mut pending: VecDeque<PeerEvent> = VecDeque::new();
    let mut shutdown = shared.shutdown.subscribe();
    let mut discourage_requested = false;
    if *shutdown.borrow_and_update() {
        peer.disconnect(DisconnectReason::Shutdown);
    }
    loop {
        while let Some(bytes) = peer.poll_transmit() {
            out_bytes += bytes.len();
            out.push_back(bytes);
        }
        if out_bytes > shared.max_send_queue {
            peer.disconnect(DisconnectReason::SendBufferFull);
        }
        while let Some(ev) = peer.poll_event() {
            pending.push_back(ev);
        }
        if peer.is_closed() {
            if peer.should_reconnect_v1() && pending.is_empty() {
                return Outcome::RetryV1;
            }
            for ev in pending {
                let ev = match ev {
                    PeerEvent::Disconnect { reason, discourage } => {
                        let discourage = discourage || discourage_requested;
                        if discourage {
                            shared.registry().discourage(addr);
                            tracing::info!(%id, %addr, %reason, "peer discouraged");
                        }
                        PeerEvent::Disconnect { reason, discourage }
                    }
                    other => other,
                };
                // The layer above may be gone at shutdown; nothing left to tell then.
                let _ = shared.events.send((id, ev)).await;
            }
            return Outcome::Done;
        }
        let deadline = peer.poll_timeout().map(tokio::time::Instant::from_std);
        tokio::select! {
            cmd = commands.recv() => match cmd {
                Some(PeerCommand::Send(msg)) => peer.send(&msg),
                Some(PeerCommand::Disconnect { discourage }) => {
                    discourage_requested = discourage;
                    peer.disconnect(DisconnectReason::Local);
                }
                None => peer.disconnect(DisconnectReason::Shutdown),
            },
            permit = shared.events.reserve(), if !pending.is_empty() => match permit {
                Ok(permit) => {
                    if let Some(ev) = pending.pop_front() {
                        permit.send((id, ev));
                    }
                }
                Err(_) => peer.disconnect(DisconnectReason::Shutdown),
            },
            r = wr.write(out.front().map_or(&[][..], |b| &b[written..])), if !out.is_empty() => {
                match r {
                    Ok(0) => peer.disconnect(DisconnectReason::Io(std::io::ErrorKind::WriteZero)),
                    Ok(n) => {
                        shared.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
                        written += n;
                        out_bytes -= n;
                        if out.front().is_some_and(|b| written == b.len()) {
                            out.pop_front();
                            written = 0;
                        }
                    }
                    Err(e) => peer.disconnect(DisconnectReason::Io(e.kind())),
                }
            }
            // Reading pauses while events wait for the layer above: TCP pushes back on the peer.
            r = rd.read(&mut rbuf), if pending.is_empty() => match r {
                Ok(0) | Err(_) if peer.should_reconnect_v1() => return Outcome::RetryV1,
                Ok(0) => peer.disconnect(DisconnectReason::Closed),
                Ok(n) => {
                    shared.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
                    peer.handle_bytes(&rbuf[..n], Instant::now());
                }
                Err(e) => peer.disconnect(DisconnectReason::Io(e.kind())),
            },
            () = sleep_until(deadline), if deadline.is_some() => peer.handle_timeout(Instant::now()),
            _ = shutdown.changed() => peer.disconnect(DisconnectReason::Shutdown),
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
