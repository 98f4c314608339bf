//! Outbound: one task per peer, serving the peer's bounded queue over one
//! connection it keeps: the one the peer opened to this node if there is
//! one, else one it opens. One connection per pair of nodes, not one per
//! direction: each costs each end about 35 KB (QUIC state, keys, tasks)
//! and keep-alives.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use bytes::Bytes;
use quinn::{Connection, ConnectionError, SendDatagramError, SendStream};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use super::attempts::{self, Failure};
use super::liveness::{STALL_AFTER, Stall};
use super::{CODE_OK, CONNECT_TIMEOUT, PEER_IDLE, PEER_QUEUE, Shared, TransportError, inbound};
use crate::message::Message;
use crate::transport::stats::Counters;
use crate::wire::{self, WireError};

/// A message encoded once, for every peer it goes to (cloning it clones a
/// reference to the bytes).
#[derive(Debug, Clone)]
pub(super) struct Frame {
    bytes: Bytes,
    /// A SWIM packet: sent as a datagram when it fits.
    swim: bool,
}

impl Frame {
    pub(super) fn encode(message: &Message) -> Result<Frame, WireError> {
        Ok(Frame {
            bytes: Bytes::from(wire::encode(message)?),
            swim: matches!(message, Message::Swim(_)),
        })
    }
}

/// The connection a peer's messages go on, and who opened it.
struct Cached {
    connection: Connection,
    /// Opened by this node, which closes it when the peer retires; one
    /// the peer opened is the peer's to close.
    ours: bool,
}

pub(super) struct Peer {
    addr: SocketAddr,
    queue: mpsc::Sender<Frame>,
    /// The connection to the peer, if any. Locked while connecting, so the
    /// peer task and sync sessions share one attempt.
    connection: tokio::sync::Mutex<Option<Cached>>,
    /// Sync sessions open with this peer (they keep it from retiring).
    sessions: AtomicUsize,
    /// Stream and datagram frames the peer had sent on the connection when
    /// this node last looked, to tell whether the peer still uses it.
    frames_seen: AtomicU64,
    task: Mutex<Option<JoinHandle<()>>>,
    /// Whether the cached connection stalled (see [`Stall`]).
    stall: Mutex<Stall>,
    /// Signalled when the peer reached this node anew (a connection from
    /// it): a connection attempt in progress starts again at once.
    reached: Notify,
}

impl Peer {
    /// Creates the peer and starts its task. Called with the peer map
    /// locked, so there is one task per address.
    pub(super) fn spawn(shared: &Arc<Shared>, addr: SocketAddr) -> Arc<Peer> {
        let (queue, receiver) = mpsc::channel(PEER_QUEUE);
        let peer = Arc::new(Peer {
            addr,
            queue,
            connection: tokio::sync::Mutex::new(None),
            sessions: AtomicUsize::new(0),
            frames_seen: AtomicU64::new(0),
            task: Mutex::new(None),
            stall: Mutex::new(Stall::default()),
            reached: Notify::new(),
        });
        let task = shared
            .runtime
            .spawn(run(shared.clone(), peer.clone(), receiver));
        *peer.task.lock().unwrap_or_else(PoisonError::into_inner) = Some(task);
        peer
    }

    pub(super) fn try_send(&self, frame: Frame) -> Result<(), mpsc::error::TrySendError<Frame>> {
        self.queue.try_send(frame)
    }

    /// Waits for the peer task to end (after the transport started closing).
    pub(super) async fn finished(&self) {
        let task = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    /// The round-trip time QUIC measures on the connection to the peer, if
    /// one is open (and not being replaced right now).
    pub(super) fn rtt(&self) -> Option<std::time::Duration> {
        let cached = self.connection.try_lock().ok()?;
        cached
            .as_ref()
            .map(|cached| &cached.connection)
            .filter(|connection| connection.close_reason().is_none())
            .map(Connection::rtt)
    }

    /// The live connection to the peer: the cached one, else one the peer
    /// opened to this node, else a new one. A stalled one is closed and
    /// replaced by a new one (see [`Stall`]).
    pub(super) async fn connection(
        &self,
        shared: &Arc<Shared>,
    ) -> Result<Connection, TransportError> {
        let mut cached = self.connection.lock().await;
        if let Some(Cached { connection, .. }) = cached.as_ref()
            && connection.close_reason().is_none()
        {
            if !self.stalled(connection) {
                return Ok(connection.clone());
            }
            debug!(peer = %self.addr, "connection to peer stalled (nothing received for {STALL_AFTER:?} after sending); connecting anew");
            // Closed, not left to deliver what it holds once the path is
            // back: sync sessions on the new connection fetch the same
            // versions, so both at once made a 10-node heal slower (and
            // keep-alives would hold a healed one open for good).
            connection.close(CODE_OK, b"stalled");
            // So is one the peer opened: it crosses the same broken path,
            // and has most likely backed off as well.
            if let Some(accepted) = shared.accepted_from(self.addr) {
                accepted.close(CODE_OK, b"stalled");
            }
        }
        *cached = None;
        if shared.is_closing() {
            return Err(TransportError::Closed);
        }
        let (connection, ours) = match shared.accepted_from(self.addr) {
            Some(connection) => {
                debug!(peer = %self.addr, "sending on the connection the peer opened");
                (connection, false)
            }
            None => (connect(shared, self.addr, &self.reached).await?, true),
        };
        // Watched from now (its age too, see `is_fresh`); new, so not stalled.
        let _ = self.stalled(&connection);
        *cached = Some(Cached {
            connection: connection.clone(),
            ours,
        });
        Ok(connection)
    }

    /// Whether `connection` (the cached one) stalled, by its counters now.
    fn stalled(&self, connection: &Connection) -> bool {
        let stats = connection.stats();
        self.stall
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .observe(
                connection.stable_id(),
                stats.udp_rx.datagrams,
                stats.udp_tx.datagrams,
                Instant::now(),
            )
    }

    /// Whether `connection` (the cached one) was made less than a second
    /// ago (see [`Stall::is_fresh`]).
    pub(super) fn is_fresh(&self, connection: &Connection) -> bool {
        self.stall
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_fresh(connection.stable_id(), Instant::now())
    }

    /// The peer opened a connection to this node: if this node is
    /// connecting to it, it starts again at once.
    pub(super) fn reached_us(&self) {
        self.reached.notify_waiters();
    }

    /// Closes the cached connection, so the next message opens a new one.
    pub(super) async fn drop_connection(&self) {
        if let Some(cached) = self.connection.lock().await.take() {
            cached.connection.close(CODE_OK, b"peer restarted");
        }
    }

    /// The cached connection if it is still open; never connects.
    pub(super) async fn open_connection(&self) -> Option<Connection> {
        let cached = self.connection.lock().await;
        cached
            .as_ref()
            .map(|cached| &cached.connection)
            .filter(|connection| connection.close_reason().is_none())
            .cloned()
    }

    /// Whether the peer sent anything on the cached connection since this
    /// node last asked (or is being connected to right now).
    fn peer_sent_lately(&self) -> bool {
        let Ok(cached) = self.connection.try_lock() else {
            return true;
        };
        let Some(cached) = cached.as_ref() else {
            return false;
        };
        let frames = cached.connection.stats().frame_rx;
        let sent = frames.stream + frames.datagram;
        self.frames_seen.swap(sent, Ordering::SeqCst) != sent
    }

    /// Removes the peer from the map if nothing is queued, no sync session
    /// is open and the peer did not use the connection either; true if it
    /// did (the task then ends).
    fn retire_if_idle(self: &Arc<Self>, shared: &Shared, queue: &mpsc::Receiver<Frame>) -> bool {
        let mut peers = shared.peers();
        if !queue.is_empty() || self.sessions.load(Ordering::SeqCst) > 0 || self.peer_sent_lately()
        {
            return false;
        }
        if peers
            .get(&self.addr)
            .is_some_and(|peer| Arc::ptr_eq(peer, self))
        {
            peers.remove(&self.addr);
        }
        true
    }
}

/// A sync session in progress with a peer; keeps the peer's connection
/// from being closed as idle.
pub(super) struct Session {
    peer: Arc<Peer>,
}

impl Session {
    /// Must be created with the peer map locked.
    pub(super) fn new(peer: Arc<Peer>) -> Session {
        peer.sessions.fetch_add(1, Ordering::SeqCst);
        Session { peer }
    }

    pub(super) fn peer(&self) -> &Peer {
        &self.peer
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.peer.sessions.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The peer task: takes messages off the queue and sends them until the
/// peer retires (idle) or the transport closes; then lets the in-flight
/// streams finish and closes the connection.
async fn run(shared: Arc<Shared>, peer: Arc<Peer>, mut queue: mpsc::Receiver<Frame>) {
    let mut shutdown = shared.shutdown.subscribe();
    let mut outbox: Option<Outbox> = None;
    let mut closing = false;
    loop {
        let frame = if closing {
            // The queue is closed: drain what was sent before close().
            queue.recv().await
        } else {
            tokio::select! {
                frame = queue.recv() => frame,
                () = tokio::time::sleep(PEER_IDLE) => {
                    if peer.retire_if_idle(&shared, &queue) {
                        debug!(peer = %peer.addr, "peer idle; closing its connection");
                        break;
                    }
                    continue;
                }
                _ = shutdown.wait_for(|closing| *closing) => {
                    closing = true;
                    queue.close();
                    continue;
                }
                reason = connection_end(&outbox) => {
                    if let Some(lost) = outbox.take() {
                        lost.ended(&shared, peer.addr, &reason);
                    }
                    continue;
                }
            }
        };
        let Some(frame) = frame else { break };
        let connection = if closing {
            // Deliver what is queued on a live connection; no new ones.
            peer.open_connection().await.ok_or(TransportError::Closed)
        } else {
            peer.connection(&shared).await
        };
        match connection {
            Ok(connection) => deliver(&shared, peer.addr, &connection, frame, &mut outbox).await,
            Err(error) => {
                let mut dropped = 1;
                while queue.try_recv().is_ok() {
                    dropped += 1;
                }
                Counters::add(&shared.counters.dropped, dropped);
                debug!(peer = %peer.addr, %error, dropped, "peer unreachable; dropping its queued messages");
            }
        }
    }
    if let Some(outbox) = outbox {
        outbox.finish(peer.addr).await;
    }
    if let Some(cached) = peer.connection.lock().await.take()
        && cached.ours
    {
        cached.connection.close(CODE_OK, b"");
    }
}

/// The unidirectional stream a peer's messages are written on, frame after
/// frame, for as long as the connection it was opened on lives. One stream
/// instead of one per message: no stream to open, finish and acknowledge
/// per message on either side, and the peer reads the frames in the order
/// they were sent (so versions of one origin do not overtake each other
/// and look like a gap). QUIC retransmits what is lost, so a message is
/// never lost to the path, only with the connection.
struct Outbox {
    /// The connection the stream belongs to.
    connection: Connection,
    stream: SendStream,
}

/// Resolves when the connection under `outbox` ends (never while there is
/// none).
async fn connection_end(outbox: &Option<Outbox>) -> ConnectionError {
    match outbox {
        Some(open) => open.connection.closed().await,
        None => std::future::pending().await,
    }
}

impl Outbox {
    /// The stream's connection ended. Unless this node closed it, or the
    /// peer shut down cleanly, frames written last may not have arrived;
    /// QUIC does not say which, so the loss counts as one dropped message.
    fn ended(self, shared: &Shared, addr: SocketAddr, reason: &ConnectionError) {
        match reason {
            ConnectionError::LocallyClosed => {}
            ConnectionError::ApplicationClosed(close) if close.error_code == CODE_OK => {}
            _ => {
                Counters::add(&shared.counters.dropped, 1);
                debug!(peer = %addr, %reason, "connection to peer lost; what was last sent on it may be lost");
            }
        }
    }

    /// Finishes the stream and waits until the peer acknowledged every
    /// frame on it (or the connection ended), so a closing transport
    /// delivers what was queued before it closed.
    async fn finish(mut self, addr: SocketAddr) {
        if self.stream.finish().is_err() {
            return;
        }
        match self.stream.stopped().await {
            Ok(None) => {}
            Ok(Some(code)) => debug!(peer = %addr, %code, "peer stopped our stream"),
            Err(error) => debug!(peer = %addr, %error, "stream to peer ended early"),
        }
    }
}

/// Sends one frame on `connection`: SWIM packets as a datagram when they
/// fit, everything else (and SWIM packets too large for a datagram) on the
/// peer's stream (see [`Outbox`]), opened on first use.
async fn deliver(
    shared: &Arc<Shared>,
    addr: SocketAddr,
    connection: &Connection,
    Frame { bytes: frame, swim }: Frame,
    outbox: &mut Option<Outbox>,
) {
    let counters = &shared.counters;
    let fits = || {
        connection
            .max_datagram_size()
            .is_some_and(|max| frame.len() <= max)
    };
    if swim && fits() {
        match connection.send_datagram(frame.clone()) {
            Ok(()) => {
                counters.sent(frame.len());
                return;
            }
            // The path shrank since we looked: use a stream.
            Err(SendDatagramError::TooLarge) => {}
            Err(error) => {
                Counters::add(&counters.dropped, 1);
                debug!(peer = %addr, %error, "cannot send a datagram; dropping it");
                return;
            }
        }
    }
    let id = connection.stable_id();
    if outbox
        .as_ref()
        .is_none_or(|open| open.connection.stable_id() != id)
    {
        // A new connection (the peer restarted, or the old one was lost).
        *outbox = None;
        match connection.open_uni().await {
            Ok(stream) => {
                Counters::add(&counters.streams_opened, 1);
                *outbox = Some(Outbox {
                    connection: connection.clone(),
                    stream,
                });
            }
            Err(error) => {
                Counters::add(&counters.dropped, 1);
                debug!(peer = %addr, %error, "cannot open a stream to peer; message dropped");
                return;
            }
        }
    }
    let Some(Outbox { stream, .. }) = outbox.as_mut() else {
        return;
    };
    let len = frame.len();
    match stream.write_chunk(frame).await {
        Ok(()) => counters.sent(len),
        Err(error) => {
            // The next message opens a new stream (on a new connection if
            // this one is gone).
            *outbox = None;
            Counters::add(&counters.dropped, 1);
            debug!(peer = %addr, %error, "stream to peer failed; message dropped");
        }
    }
}

/// Opens a connection to `addr` within [`CONNECT_TIMEOUT`] and serves what
/// the peer sends on it; a refused handshake (for example a certificate
/// from another CA) is logged at warn.
async fn connect(
    shared: &Arc<Shared>,
    addr: SocketAddr,
    reached: &Notify,
) -> Result<Connection, TransportError> {
    let counters = &shared.counters;
    let failed = || Counters::add(&counters.connect_failures, 1);
    let connecting = attempts::first_connected(&shared.endpoint, addr, reached);
    match tokio::time::timeout(CONNECT_TIMEOUT, connecting).await {
        Ok(Err(Failure::Start(source))) => {
            failed();
            debug!(peer = %addr, error = %source, "cannot connect to peer");
            Err(TransportError::Connect { addr, source })
        }
        Ok(Ok(connection)) => {
            Counters::add(&counters.connections_opened, 1);
            debug!(peer = %addr, "connected to peer");
            tokio::spawn(inbound::serve_opened(
                shared.clone(),
                addr,
                connection.clone(),
            ));
            Ok(connection)
        }
        Ok(Err(Failure::Handshake(source))) => {
            failed();
            match &source {
                ConnectionError::TimedOut => {
                    debug!(peer = %addr, error = %source, "peer did not answer");
                }
                _ => warn!(peer = %addr, error = %source, "connection to peer refused"),
            }
            Err(TransportError::Handshake { addr, source })
        }
        Err(_) => {
            failed();
            debug!(peer = %addr, "peer did not answer within {CONNECT_TIMEOUT:?}");
            Err(TransportError::ConnectTimeout { addr })
        }
    }
}
