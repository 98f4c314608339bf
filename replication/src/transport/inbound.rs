//! Inbound: accepting connections and reading what peers send on them, on
//! accepted connections and on those this node opened alike (a peer sends
//! on whichever connection the two share, see [`super::peer`]).

use std::net::SocketAddr;
use std::sync::Arc;

use quinn::{
    Connection, ConnectionError, Incoming, ReadError, RecvStream, SendStream, TransportErrorCode,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tracing::{debug, warn};

use super::{
    CODE_BAD_FRAME, CODE_OK, Inbound, MAX_STREAM_READS_PER_CONNECTION, Shared, SyncReply,
    canonical, is_tls_alert,
};
use crate::message::Message;
use crate::transport::stats::Counters;
use crate::wire::{self, WireError};

/// Accepts connections until the transport closes or the inbound receiver
/// is dropped.
pub(super) async fn accept_loop(shared: Arc<Shared>, inbound: mpsc::Sender<Inbound>) {
    let mut shutdown = shared.shutdown.subscribe();
    loop {
        let incoming = tokio::select! {
            incoming = shared.endpoint.accept() => incoming,
            _ = shutdown.wait_for(|closing| *closing) => None,
            () = inbound.closed() => {
                debug!("inbound receiver dropped; no longer accepting peers");
                shared.endpoint.set_server_config(None);
                None
            }
        };
        let Some(incoming) = incoming else { break };
        tokio::spawn(serve_connection(shared.clone(), incoming, inbound.clone()));
    }
}

/// Completes the handshake of one incoming connection, then reads its
/// datagrams and streams until it ends.
async fn serve_connection(shared: Arc<Shared>, incoming: Incoming, inbound: mpsc::Sender<Inbound>) {
    let remote = canonical(incoming.remote_address());
    shared.reached_by(remote);
    let connection = match incoming.await {
        Ok(connection) => connection,
        Err(error) => {
            Counters::add(&shared.counters.connections_refused, 1);
            match &error {
                ConnectionError::TimedOut => {
                    debug!(peer = %remote, %error, "incoming peer connection timed out");
                }
                // One of its attempts side by side lost (see `attempts`).
                ConnectionError::ConnectionClosed(close)
                    if close.error_code == TransportErrorCode::APPLICATION_ERROR =>
                {
                    debug!(peer = %remote, %error, "incoming peer dropped its connection attempt");
                }
                ConnectionError::ConnectionClosed(close) if is_tls_alert(close.error_code) => {
                    warn!(peer = %remote, %error, "incoming peer gave up the handshake: it does not accept our certificate");
                }
                _ => warn!(peer = %remote, %error, "refused an incoming peer connection"),
            }
            return;
        }
    };
    Counters::add(&shared.counters.connections_accepted, 1);
    debug!(peer = %remote, "peer connected");
    shared.accepted().insert(remote, connection.clone());
    serve(&shared, &connection, &inbound).await;
    shared.forget_accepted(remote, &connection);
    let reason = connection.close_reason();
    debug!(peer = %remote, reason = ?reason, "peer connection ended");
}

/// Reads what the peer sends on a connection this node opened until it
/// ends, then logs how it ended. A peer that refuses our certificate may
/// do so only after our side of the handshake completed, so the refusal
/// shows here rather than when connecting.
pub(super) async fn serve_opened(shared: Arc<Shared>, addr: SocketAddr, connection: Connection) {
    // None once the transport stopped accepting: nothing to read for.
    if let Some(inbound) = shared.inbound.upgrade() {
        serve(&shared, &connection, &inbound).await;
    }
    let reason = connection.closed().await;
    match &reason {
        ConnectionError::ConnectionClosed(close) if is_tls_alert(close.error_code) => {
            warn!(peer = %addr, error = %reason, "peer refused our connection (TLS); is our certificate signed by its CA?");
        }
        ConnectionError::LocallyClosed => {}
        _ => debug!(peer = %addr, error = %reason, "connection to peer ended"),
    }
}

/// Reads a connection's datagrams and streams until it ends.
async fn serve(shared: &Arc<Shared>, connection: &Connection, inbound: &mpsc::Sender<Inbound>) {
    tokio::join!(
        read_datagrams(shared, connection, inbound),
        accept_uni_streams(shared, connection, inbound),
        accept_bi_streams(shared, connection, inbound),
    );
}

fn from(connection: &Connection) -> SocketAddr {
    canonical(connection.remote_address())
}

async fn read_datagrams(shared: &Shared, connection: &Connection, inbound: &mpsc::Sender<Inbound>) {
    while let Ok(datagram) = connection.read_datagram().await {
        let from = from(connection);
        match wire::decode(&datagram) {
            Ok(message) => {
                shared.counters.received(datagram.len());
                if inbound
                    .send(Inbound::Message { from, message })
                    .await
                    .is_err()
                {
                    connection.close(CODE_OK, b"shutdown");
                    return;
                }
            }
            Err(error) => {
                Counters::add(&shared.counters.rejected_frames, 1);
                warn!(peer = %from, %error, "dropping a malformed datagram");
            }
        }
    }
}

async fn accept_uni_streams(
    shared: &Arc<Shared>,
    connection: &Connection,
    inbound: &mpsc::Sender<Inbound>,
) {
    // Bounds the streams read at once (and so the memory of partly
    // received frames); the rest wait in QUIC flow control.
    let permits = Arc::new(Semaphore::new(MAX_STREAM_READS_PER_CONNECTION));
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let Ok(stream) = connection.accept_uni().await else {
            return;
        };
        tokio::spawn(read_uni(
            shared.clone(),
            connection.clone(),
            stream,
            inbound.clone(),
            permit,
        ));
    }
}

/// Reads the frames of one unidirectional stream (normally exactly one).
async fn read_uni(
    shared: Arc<Shared>,
    connection: Connection,
    mut stream: RecvStream,
    inbound: mpsc::Sender<Inbound>,
    _permit: OwnedSemaphorePermit,
) {
    loop {
        match wire::read_frame_sized(&mut stream).await {
            Ok(Some((message, len))) => {
                shared.counters.received(len);
                let from = from(&connection);
                if inbound
                    .send(Inbound::Message { from, message })
                    .await
                    .is_err()
                {
                    connection.close(CODE_OK, b"shutdown");
                    return;
                }
            }
            Ok(None) => return,
            Err(error) => {
                reject_stream(&shared, &connection, &mut stream, &error);
                return;
            }
        }
    }
}

/// Logs a stream that failed. Garbage is counted, logged at warn and the
/// stream stopped; a stream cut by its peer or a lost connection is not
/// the frame's fault.
fn reject_stream(
    shared: &Shared,
    connection: &Connection,
    stream: &mut RecvStream,
    error: &WireError,
) {
    let from = from(connection);
    match error {
        WireError::Read(ReadError::ConnectionLost(_) | ReadError::Reset(_)) => {
            debug!(peer = %from, %error, "peer stream ended early");
        }
        _ => {
            Counters::add(&shared.counters.rejected_frames, 1);
            warn!(peer = %from, %error, "dropping a malformed stream");
            let _ = stream.stop(CODE_BAD_FRAME);
        }
    }
}

async fn accept_bi_streams(
    shared: &Arc<Shared>,
    connection: &Connection,
    inbound: &mpsc::Sender<Inbound>,
) {
    while let Ok((send, recv)) = connection.accept_bi().await {
        tokio::spawn(serve_sync(
            shared.clone(),
            connection.clone(),
            send,
            recv,
            inbound.clone(),
        ));
    }
}

/// A bidirectional stream must open with a sync request; it is then
/// handed to the consumer with a [`SyncReply`] for the answer.
async fn serve_sync(
    shared: Arc<Shared>,
    connection: Connection,
    mut send: SendStream,
    mut recv: RecvStream,
    inbound: mpsc::Sender<Inbound>,
) {
    let from = from(&connection);
    match wire::read_frame_sized(&mut recv).await {
        Ok(Some((Message::SyncRequest(request), len))) => {
            shared.counters.received(len);
            let reply = SyncReply::new(shared.clone(), from, send);
            // If the consumer is gone the reply is dropped, which resets
            // the stream.
            let _ = inbound
                .send(Inbound::Sync {
                    from,
                    request,
                    reply,
                })
                .await;
        }
        Ok(Some((other, _))) => {
            Counters::add(&shared.counters.rejected_frames, 1);
            warn!(peer = %from, message = kind(&other), "bidirectional stream did not open with a sync request; dropping it");
            let _ = send.reset(CODE_BAD_FRAME);
            let _ = recv.stop(CODE_BAD_FRAME);
        }
        Ok(None) => {
            debug!(peer = %from, "empty bidirectional stream");
            let _ = send.finish();
        }
        Err(error) => {
            reject_stream(&shared, &connection, &mut recv, &error);
            let _ = send.reset(CODE_BAD_FRAME);
        }
    }
}

fn kind(message: &Message) -> &'static str {
    match message {
        Message::Swim(_) => "Swim",
        Message::Broadcast(_) => "Broadcast",
        Message::SyncRequest(_) => "SyncRequest",
        Message::SyncChunks(_) => "SyncChunks",
        Message::SyncBusy => "SyncBusy",
    }
}
