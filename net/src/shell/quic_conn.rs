//! One QUIC connection's task: the same [`Peer`] as over TCP, fed whole v1 frames from the
//! control stream and from one unidirectional stream per large message; its output routed the
//! same way. Reader and writer tasks end with the connection (their handles abort on drop).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use quinn::VarInt;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::registry::{PeerCommand, PeerId};
use super::Shared;
use crate::peer::{DisconnectReason, Peer, PeerEvent};
use crate::quic::protocol::{close, payload_len, route, FrameLimitError, Route};
use crate::quic::QuicLimits;
use crate::wire::HEADER_LEN;

/// Frames read but not yet taken by the connection loop (each at most one message): small,
/// so a peer that outpaces the layer above is pushed back by QUIC flow control.
const INBOX: usize = 2;
/// Bytes asked of quinn per read while a message is assembled: memory grows with what the
/// peer actually sent, never with what it announced.
const READ_CHUNK: usize = 64 * 1024;

/// Why reading from the peer failed.
#[derive(Debug)]
enum ReadFail {
    /// Over a limit: the connection ends and the address is discouraged.
    Limit(String),
    /// Broke the stream rules (truncated, trailing data, empty stream).
    Protocol(String),
    /// The connection or stream ended.
    Lost(String),
}

async fn read_frame(
    stream: &mut quinn::RecvStream,
    max: usize,
) -> Result<Option<Vec<u8>>, ReadFail> {
    let mut header = [0u8; HEADER_LEN];
    let mut got = 0;
    while got < HEADER_LEN {
        match stream.read(&mut header[got..]).await {
            Ok(Some(n)) => got += n,
            Ok(None) if got == 0 => return Ok(None),
            Ok(None) => return Err(ReadFail::Protocol("stream ended inside a header".into())),
            Err(e) => return Err(ReadFail::Lost(e.to_string())),
        }
    }
    let len =
        payload_len(&header, max).map_err(|e: FrameLimitError| ReadFail::Limit(e.to_string()))?;
    let total = HEADER_LEN + len;
    let mut frame = Vec::with_capacity(total.min(HEADER_LEN + READ_CHUNK));
    frame.extend_from_slice(&header);
    while frame.len() < total {
        match stream
            .read_chunk((total - frame.len()).min(READ_CHUNK), true)
            .await
        {
            Ok(Some(chunk)) => frame.extend_from_slice(&chunk.bytes),
            Ok(None) => return Err(ReadFail::Protocol("stream ended inside a message".into())),
            Err(e) => return Err(ReadFail::Lost(e.to_string())),
        }
    }
    Ok(Some(frame))
}

/// One message on its own stream: exactly one frame, then the end of the stream.
async fn read_one(mut stream: quinn::RecvStream, max: usize) -> Result<Vec<u8>, ReadFail> {
    let frame = read_frame(&mut stream, max)
        .await?
        .ok_or_else(|| ReadFail::Protocol("empty message stream".into()))?;
    match stream.read_chunk(1, true).await {
        Ok(None) => Ok(frame),
        Ok(Some(_)) => Err(ReadFail::Limit(
            "data after the message on its stream".into(),
        )),
        Err(e) => Err(ReadFail::Lost(e.to_string())),
    }
}

type Inbox = mpsc::Sender<Result<Vec<u8>, ReadFail>>;

async fn control_reader(mut recv: quinn::RecvStream, max: usize, tx: Inbox) {
    loop {
        let r = match read_frame(&mut recv, max).await {
            Ok(Some(f)) => Ok(f),
            Ok(None) => Err(ReadFail::Lost("control stream closed".into())),
            Err(e) => Err(e),
        };
        let end = r.is_err();
        if tx.send(r).await.is_err() || end {
            return;
        }
    }
}

async fn stream_reader(conn: quinn::Connection, max: usize, timeout: Duration, tx: Inbox) {
    // At most `max_uni_streams` are open at once (quinn enforces it): so is this set.
    let mut readers = JoinSet::new();
    loop {
        tokio::select! {
            s = conn.accept_uni() => match s {
                Ok(stream) => {
                    let tx = tx.clone();
                    readers.spawn(async move {
                        let r = match tokio::time::timeout(timeout, read_one(stream, max)).await {
                            Ok(r) => r,
                            Err(_) => Err(ReadFail::Limit(format!("message not complete in {timeout:?}"))),
                        };
                        let _ = tx.send(r).await;
                    });
                }
                Err(e) => {
                    let _ = tx.send(Err(ReadFail::Lost(e.to_string()))).await;
                    return;
                }
            },
            Some(_) = readers.join_next(), if !readers.is_empty() => {}
        }
    }
}

/// Writes frames in order: small ones on the control stream, large ones each on a new stream
/// (opening waits for the peer's stream credit; the bodies are written concurrently).
async fn writer(
    conn: quinn::Connection,
    mut send: quinn::SendStream,
    mut frames: mpsc::UnboundedReceiver<Vec<u8>>,
    queued: Arc<AtomicUsize>,
) -> String {
    let mut bodies: JoinSet<Result<(), String>> = JoinSet::new();
    loop {
        tokio::select! {
            f = frames.recv() => {
                let Some(frame) = f else { return "writer closed".into() };
                let n = frame.len();
                match route(&frame) {
                    Route::Control => {
                        if let Err(e) = send.write_all(&frame).await {
                            return format!("control stream: {e}");
                        }
                        queued.fetch_sub(n, Ordering::Relaxed);
                    }
                    Route::OwnStream => {
                        let mut s = match conn.open_uni().await {
                            Ok(s) => s,
                            Err(e) => return format!("opening a stream: {e}"),
                        };
                        let queued = queued.clone();
                        bodies.spawn(async move {
                            s.write_all(&frame).await.map_err(|e| format!("message stream: {e}"))?;
                            s.finish().map_err(|e| format!("message stream: {e}"))?;
                            queued.fetch_sub(n, Ordering::Relaxed);
                            Ok(())
                        });
                    }
                }
            }
            Some(r) = bodies.join_next(), if !bodies.is_empty() => match r {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return e,
                Err(e) => return format!("message stream task: {e}"),
            },
        }
    }
}

/// Aborts a task when dropped.
struct Abort(tokio::task::JoinHandle<()>);

impl Drop for Abort {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `peer` over an established QUIC connection until it ends.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn drive(
    shared: &Arc<Shared>,
    limits: &QuicLimits,
    id: PeerId,
    conn: quinn::Connection,
    send: quinn::SendStream,
    recv: quinn::RecvStream,
    mut peer: Peer,
    commands: &mut mpsc::Receiver<PeerCommand>,
) {
    let addr = peer.conn().addr;
    let (in_tx, mut inbox) = mpsc::channel(INBOX);
    let _control = Abort(tokio::spawn(control_reader(
        recv,
        limits.max_message,
        in_tx.clone(),
    )));
    let _streams = Abort(tokio::spawn(stream_reader(
        conn.clone(),
        limits.max_message,
        limits.message_timeout,
        in_tx,
    )));
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let queued = Arc::new(AtomicUsize::new(0));
    let mut writer_task = tokio::spawn(writer(conn.clone(), send, out_rx, queued.clone()));
    let mut pending: VecDeque<PeerEvent> = VecDeque::new();
    let mut shutdown = shared.shutdown.subscribe();
    let mut discourage_requested = false;
    let mut close_code = close::PEER;
    if *shutdown.borrow_and_update() {
        peer.disconnect(DisconnectReason::Shutdown);
    }
    let mut writer_done = false;
    loop {
        while let Some(frame) = peer.poll_transmit() {
            queued.fetch_add(frame.len(), Ordering::Relaxed);
            // The writer only ends with the connection, which the loop notices below.
            let _ = out_tx.send(frame);
        }
        if queued.load(Ordering::Relaxed) > shared.max_send_queue {
            peer.disconnect(DisconnectReason::SendBufferFull);
        }
        while let Some(ev) = peer.poll_event() {
            pending.push_back(ev);
        }
        if peer.is_closed() {
            let mut reason_text = String::from("disconnect");
            for ev in pending {
                let ev = match ev {
                    PeerEvent::Disconnect { reason, discourage } => {
                        let discourage = discourage || discourage_requested;
                        if discourage {
                            shared.registry().discourage(addr);
                            tracing::info!(%id, %addr, %reason, "peer discouraged");
                        }
                        if matches!(reason, DisconnectReason::Shutdown | DisconnectReason::Local) {
                            close_code = close::DONE;
                        }
                        reason_text = reason.to_string();
                        tracing::debug!(%id, %addr, %reason, transport = "quic", "disconnected");
                        PeerEvent::Disconnect { reason, discourage }
                    }
                    other => other,
                };
                let _ = shared.events.send((id, ev)).await;
            }
            conn.close(VarInt::from_u32(close_code), reason_text.as_bytes());
            writer_task.abort();
            return;
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
            // Reading pauses while events wait for the layer above: flow control pushes back.
            r = inbox.recv(), if pending.is_empty() => match r {
                Some(Ok(frame)) => peer.handle_bytes(&frame, Instant::now()),
                Some(Err(ReadFail::Limit(why))) => {
                    tracing::info!(%id, %addr, %why, "quic peer over a limit");
                    close_code = close::LIMIT;
                    discourage_requested = true;
                    peer.disconnect(DisconnectReason::Quic(why));
                }
                Some(Err(ReadFail::Protocol(why))) => {
                    close_code = close::PROTOCOL;
                    discourage_requested = true;
                    peer.disconnect(DisconnectReason::Quic(why));
                }
                Some(Err(ReadFail::Lost(why))) => {
                    let why = conn.close_reason().map_or(why, |r| r.to_string());
                    peer.disconnect(DisconnectReason::Quic(why));
                }
                None => peer.disconnect(DisconnectReason::Closed),
            },
            w = &mut writer_task, if !writer_done => {
                writer_done = true;
                let why = w.unwrap_or_else(|e| e.to_string());
                let why = conn.close_reason().map_or(why, |r| r.to_string());
                peer.disconnect(DisconnectReason::Quic(why));
            }
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
