//! The two ends of a sync session's bidirectional stream.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use quinn::{Connection, RecvStream, SendStream};

use super::peer::Session;
use super::{CODE_ABANDONED, Shared, TransportError};
use crate::message::Message;
use crate::sync::SyncState;
use crate::wire;

/// The asking side of a sync session: yields the frames the peer streams
/// back ([`Message::SyncChunks`]…, or [`Message::SyncBusy`]).
pub struct SyncClient {
    shared: Arc<Shared>,
    peer: SocketAddr,
    recv: RecvStream,
    /// Until the first frame: when the peer must have answered by.
    answer_by: Option<tokio::time::Instant>,
    /// Keeps the peer's connection from being closed as idle.
    _session: Session,
}

impl fmt::Debug for SyncClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncClient")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

impl SyncClient {
    pub(super) async fn open(
        shared: Arc<Shared>,
        session: Session,
        connection: Connection,
        request: SyncState,
        answer_by: tokio::time::Instant,
    ) -> Result<SyncClient, TransportError> {
        let peer = super::canonical(connection.remote_address());
        // Connecting took the whole wait (a peer just back from a
        // partition): the core has moved on to another peer, which streams
        // what this one would.
        if tokio::time::Instant::now() >= answer_by {
            return Err(TransportError::NoAnswer { addr: peer });
        }
        let (mut send, recv) = connection
            .open_bi()
            .await
            .map_err(|source| TransportError::ConnectionLost { addr: peer, source })?;
        let len = wire::write_frame(&mut send, &Message::SyncRequest(request))
            .await
            .map_err(|source| TransportError::Stream { addr: peer, source })?;
        // Finishing only fails if the stream was already reset or stopped.
        let _ = send.finish();
        shared.counters.sent(len);
        Ok(SyncClient {
            shared,
            peer,
            recv,
            answer_by: Some(answer_by),
            _session: session,
        })
    }

    /// The peer this session is with.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The next frame the peer sent, `None` once it finished the stream.
    /// A peer that abandons the session (or a lost connection), or sends no
    /// first frame within [`super::SYNC_ANSWER_TIMEOUT`] of asking to open
    /// the session (connecting included), is an error.
    pub async fn next(&mut self) -> Result<Option<Message>, TransportError> {
        let read = wire::read_frame_sized(&mut self.recv);
        let frame = match self.answer_by.take() {
            // A session opened across a partition would otherwise wait for
            // the connection's idle timeout, and start streaming when the
            // partition heals, while the core has fetched the same
            // versions in another session meanwhile.
            Some(by) => tokio::time::timeout_at(by, read)
                .await
                .map_err(|_| TransportError::NoAnswer { addr: self.peer })?,
            None => read.await,
        };
        match frame {
            Ok(Some((message, len))) => {
                self.shared.counters.received(len);
                Ok(Some(message))
            }
            Ok(None) => Ok(None),
            Err(source) => Err(TransportError::Stream {
                addr: self.peer,
                source,
            }),
        }
    }
}

/// The answering side of a sync session. Each [`send`](Self::send) waits
/// for flow control, which is what bounds the answer's memory. Dropping a
/// reply without [`finish`](Self::finish) resets the stream, so the asking
/// side sees an error rather than a complete answer.
pub struct SyncReply {
    shared: Arc<Shared>,
    peer: SocketAddr,
    send: Option<SendStream>,
}

impl fmt::Debug for SyncReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncReply")
            .field("peer", &self.peer)
            .field("finished", &self.send.is_none())
            .finish_non_exhaustive()
    }
}

impl SyncReply {
    pub(super) fn new(shared: Arc<Shared>, peer: SocketAddr, send: SendStream) -> SyncReply {
        SyncReply {
            shared,
            peer,
            send: Some(send),
        }
    }

    /// The peer that asked.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Writes one frame, waiting while the peer's receive window is full.
    pub async fn send(&mut self, message: &Message) -> Result<(), TransportError> {
        let peer = self.peer;
        let send = self.send.as_mut().ok_or(TransportError::Closed)?;
        let len = wire::write_frame(send, message)
            .await
            .map_err(|source| TransportError::Stream { addr: peer, source })?;
        self.shared.counters.sent(len);
        Ok(())
    }

    /// Ends the answer and waits until the peer has received all of it
    /// (or gave up on it, or the connection ended).
    pub async fn finish(mut self) {
        if let Some(mut send) = self.send.take()
            && send.finish().is_ok()
        {
            let _ = send.stopped().await;
        }
    }
}

impl Drop for SyncReply {
    fn drop(&mut self) {
        if let Some(mut send) = self.send.take() {
            let _ = send.reset(CODE_ABANDONED);
        }
    }
}
