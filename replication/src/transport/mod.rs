//! The QUIC transport: one quinn endpoint per node, on the node's gossip
//! UDP socket, acting as both server and client.
//!
//! # Channels
//! - [`Message::Swim`] travels as a QUIC datagram (or, when larger than the
//!   path allows, on a unidirectional stream).
//! - Every other message sent with [`Transport::send`] is written, frame
//!   after frame, on one unidirectional stream per peer connection (in
//!   order, retransmitted by QUIC when lost).
//! - A sync session is one bidirectional stream: the asking node writes
//!   [`Message::SyncRequest`] and finishes its side ([`Transport::open_sync`]);
//!   the answering node streams frames back through a [`SyncReply`].
//!
//! # Outbound
//! [`Transport::send`] never blocks and never waits: it encodes the message
//! (once for all its peers, with [`Transport::send_to_all`]) and puts the
//! frame on the peer's bounded queue, served by one task per peer that keeps
//! one connection: the one the peer opened to this node if any, else one
//! it opens (within [`CONNECT_TIMEOUT`]), so two nodes share one
//! connection (two only when both connected at once). A full queue, an
//! unreachable peer or a lost connection drops the message, with a log line
//! and a count in [`TransportStats::dropped`]: gossip tolerates loss and
//! anti-entropy repairs it. A failed connection leaves the cache and is
//! re-established on the next send; so is one that stalled (sent on,
//! nothing received for a second: a partition, see [`liveness`]), whose
//! backed-off loss probes would hold every later packet long after the
//! path is back; and a connection attempt still unanswered after a short
//! while is joined by a fresh one (see [`attempts`]). A peer task ends
//! once neither side used the connection for [`PEER_IDLE`], and closes it
//! if it opened it.
//!
//! # Inbound
//! Every connection, accepted or opened, gets a task reading its
//! datagrams, and one task per stream. Decoded messages go to the bounded
//! [`Inbound`] channel with `send().await`, so a slow consumer slows the
//! peers down (QUIC flow control) instead of losing messages. A frame that does not decode is
//! logged and its datagram or stream dropped; the connection stays.
//!
//! `from` in [`Inbound`] is the connection's remote UDP address, which is
//! the peer's gossip address since every node speaks from its one endpoint.

mod attempts;
mod inbound;
mod liveness;
mod peer;
mod stats;
mod sync;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use quinn::{Endpoint, VarInt};
use tokio::sync::{mpsc, watch};
use tracing::{debug, trace, warn};

use crate::message::Message;
use crate::sync::SyncState;
use crate::tls::{PeerTls, TlsError};
use crate::wire::WireError;

pub use liveness::ConnectionCheck;
use liveness::STALL_AFTER;
use peer::{Frame, Peer};
use stats::Counters;
pub use stats::TransportStats;
pub use sync::{SyncClient, SyncReply};

/// How long a connection attempt to a peer may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Messages waiting for one peer before new ones are dropped.
pub const PEER_QUEUE: usize = 1024;
/// Received messages waiting for the consumer before peers are slowed down.
pub const INBOUND_QUEUE: usize = 1024;
/// How long [`Transport::close`] waits for in-flight messages and for the
/// connections to close.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
/// A peer with nothing sent either way for this long loses its task (and
/// the connection, if this node opened it).
pub const PEER_IDLE: Duration = Duration::from_secs(60);
/// How long a sync session may wait for the peer's first frame: as long as
/// the core waits for it before opening another (one sync interval, 1 s by
/// default), so a late answer does not stream what the other fetches.
pub const SYNC_ANSWER_TIMEOUT: Duration = Duration::from_secs(1);
/// Streams being read from one connection at once.
const MAX_STREAM_READS_PER_CONNECTION: usize = 64;

/// Application close and stream error codes.
const CODE_OK: VarInt = VarInt::from_u32(0);
const CODE_BAD_FRAME: VarInt = VarInt::from_u32(1);
const CODE_ABANDONED: VarInt = VarInt::from_u32(2);

/// What arrives from peers.
#[derive(Debug)]
pub enum Inbound {
    /// A message from a datagram or a unidirectional stream.
    Message { from: SocketAddr, message: Message },
    /// A peer opened a sync session; answer through `reply`.
    Sync {
        from: SocketAddr,
        request: SyncState,
        reply: SyncReply,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("binding the peer endpoint on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("connecting to peer {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: quinn::ConnectError,
    },
    #[error("connecting to peer {addr}: no answer within {CONNECT_TIMEOUT:?}")]
    ConnectTimeout { addr: SocketAddr },
    #[error("handshake with peer {addr} failed: {source}")]
    Handshake {
        addr: SocketAddr,
        #[source]
        source: quinn::ConnectionError,
    },
    #[error("connection to peer {addr} lost: {source}")]
    ConnectionLost {
        addr: SocketAddr,
        #[source]
        source: quinn::ConnectionError,
    },
    #[error("stream with peer {addr}: {source}")]
    Stream {
        addr: SocketAddr,
        #[source]
        source: WireError,
    },
    #[error("sync with peer {addr}: no answer within {SYNC_ANSWER_TIMEOUT:?}")]
    NoAnswer { addr: SocketAddr },
    #[error("the transport is closed")]
    Closed,
}

/// A node's QUIC endpoint. Cheap to clone; all clones share the endpoint.
#[derive(Clone)]
pub struct Transport {
    shared: Arc<Shared>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("local_addr", &self.shared.local_addr)
            .finish_non_exhaustive()
    }
}

/// What the transport's tasks share.
struct Shared {
    endpoint: Endpoint,
    local_addr: SocketAddr,
    /// Where per-peer tasks are spawned, so `send` works from any thread.
    runtime: tokio::runtime::Handle,
    peers: Mutex<HashMap<SocketAddr, Arc<Peer>>>,
    /// The connections peers opened to this node, by their address: a
    /// peer's messages go on one of these when there is one.
    accepted: Mutex<HashMap<SocketAddr, quinn::Connection>>,
    /// Where connections this node opened deliver what peers send on them;
    /// weak, so dropping the receiver still stops the transport.
    inbound: mpsc::WeakSender<Inbound>,
    counters: Counters,
    /// Becomes true when [`Transport::close`] starts.
    shutdown: watch::Sender<bool>,
}

impl Shared {
    fn peers(&self) -> MutexGuard<'_, HashMap<SocketAddr, Arc<Peer>>> {
        self.peers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn accepted(&self) -> MutexGuard<'_, HashMap<SocketAddr, quinn::Connection>> {
        self.accepted.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The open connection `addr` made to this node, if any.
    fn accepted_from(&self, addr: SocketAddr) -> Option<quinn::Connection> {
        self.accepted()
            .get(&addr)
            .filter(|connection| connection.close_reason().is_none())
            .cloned()
    }

    /// `connection` from `addr` ended: forgotten, unless a newer one took
    /// its place.
    fn forget_accepted(&self, addr: SocketAddr, connection: &quinn::Connection) {
        let mut accepted = self.accepted();
        if accepted
            .get(&addr)
            .is_some_and(|known| known.stable_id() == connection.stable_id())
        {
            accepted.remove(&addr);
        }
    }

    fn is_closing(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// A connection from `addr` arrived: the path from it works (again).
    fn reached_by(&self, addr: SocketAddr) {
        let peer = self.peers().get(&addr).cloned();
        if let Some(peer) = peer {
            peer.reached_us();
        }
    }
}

impl Transport {
    /// Binds the endpoint on `addr` and starts accepting connections.
    /// Must be called inside a tokio runtime. The receiver yields what
    /// peers send; dropping it stops accepting connections.
    pub fn bind(
        addr: SocketAddr,
        tls: &PeerTls,
    ) -> Result<(Transport, mpsc::Receiver<Inbound>), TransportError> {
        let configs = tls.quic_configs()?;
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|error| TransportError::Bind {
                addr,
                source: std::io::Error::other(error),
            })?;
        let mut endpoint = Endpoint::server(configs.server, addr)
            .map_err(|source| TransportError::Bind { addr, source })?;
        endpoint.set_default_client_config(configs.client);
        let local_addr = endpoint
            .local_addr()
            .map_err(|source| TransportError::Bind { addr, source })?;
        if !configs.authenticated {
            warn!(
                %local_addr,
                "peer TLS is INSECURE: peers are not authenticated, anyone who can reach \
                 {local_addr} can join the cluster, read and write its data; \
                 configure mutual TLS for anything but a trusted network"
            );
        }

        let (shutdown, _) = watch::channel(false);
        let (inbound, receiver) = mpsc::channel(INBOUND_QUEUE);
        let shared = Arc::new(Shared {
            endpoint,
            local_addr,
            runtime,
            peers: Mutex::new(HashMap::new()),
            accepted: Mutex::new(HashMap::new()),
            inbound: inbound.downgrade(),
            counters: Counters::default(),
            shutdown,
        });
        shared
            .runtime
            .spawn(inbound::accept_loop(shared.clone(), inbound));
        debug!(%local_addr, "peer endpoint bound");
        Ok((Transport { shared }, receiver))
    }

    /// The address the endpoint is bound to (with the port the OS chose
    /// when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// Queues `message` for `to` and returns at once. Dropped (and counted)
    /// if the peer's queue is full, the peer cannot be reached or the
    /// transport is closing.
    pub fn send(&self, to: SocketAddr, message: Message) {
        self.send_to_all(&[to], message);
    }

    /// [`Transport::send`] to each of `to`, the message encoded once.
    pub fn send_to_all(&self, to: &[SocketAddr], message: Message) {
        match Frame::encode(&message) {
            Ok(frame) => to.iter().for_each(|to| self.queue(*to, frame.clone())),
            Err(error) => {
                Counters::add(&self.shared.counters.dropped, to.len() as u64);
                warn!(%error, "cannot encode a message; dropping it");
            }
        }
    }

    fn queue(&self, to: SocketAddr, frame: Frame) {
        let shared = &self.shared;
        let mut peers = shared.peers();
        if shared.is_closing() {
            Counters::add(&shared.counters.dropped, 1);
            trace!(peer = %to, "transport closing; dropping a message");
            return;
        }
        let peer = peers
            .entry(to)
            .or_insert_with(|| Peer::spawn(shared, to))
            .clone();
        drop(peers);
        match peer.try_send(frame) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                Counters::add(&shared.counters.dropped, 1);
                debug!(peer = %to, "peer queue full; dropping a message");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                Counters::add(&shared.counters.dropped, 1);
                debug!(peer = %to, "peer task ended; dropping a message");
            }
        }
    }

    /// The member at `to` came back (restarted, or renewed its identity):
    /// in the background, [`Transport::check_connection`].
    pub fn reconnect(&self, to: SocketAddr) {
        let transport = self.clone();
        self.shared.runtime.spawn(async move {
            transport.check_connection(to).await;
        });
    }

    /// Keeps the connection to `to` if the peer still answers on it (see
    /// [`liveness`]); otherwise forgets it, so the next message to `to`
    /// connects anew.
    pub async fn check_connection(&self, to: SocketAddr) -> ConnectionCheck {
        let peer = self.shared.peers().get(&to).cloned();
        // No open connection, or one being made right now: nothing stale.
        let Some(peer) = peer.filter(|peer| peer.rtt().is_some()) else {
            return ConnectionCheck::Absent;
        };
        let Some(connection) = peer.open_connection().await else {
            return ConnectionCheck::Absent;
        };
        // One just made (a stalled one replaced when the member came back
        // from a partition) has a round-trip time of its handshake alone,
        // and killing it for a late answer costs the sessions just opened
        // on it: it gets as long as a stall takes.
        let window = if peer.is_fresh(&connection) {
            STALL_AFTER
        } else {
            liveness::probe_window(&connection)
        };
        if liveness::answers(&connection, window).await {
            debug!(peer = %to, "peer back; its connection answers and is kept");
            return ConnectionCheck::Alive;
        }
        // Still open, so still the cached one (a closed one is replaced on
        // the next use, never an open one).
        if connection.close_reason().is_none() {
            debug!(peer = %to, "peer back; its connection does not answer: reconnecting");
            peer.drop_connection().await;
        }
        ConnectionCheck::Replaced
    }

    /// Opens a sync session with `to`: a bidirectional stream on the peer's
    /// connection (connecting first if needed) carrying `request`. The
    /// returned client yields what the peer streams back.
    pub async fn open_sync(
        &self,
        to: SocketAddr,
        request: SyncState,
    ) -> Result<SyncClient, TransportError> {
        let shared = &self.shared;
        let session = {
            let mut peers = shared.peers();
            if shared.is_closing() {
                return Err(TransportError::Closed);
            }
            let peer = peers.entry(to).or_insert_with(|| Peer::spawn(shared, to));
            // Counted under the lock, so the peer cannot retire meanwhile.
            peer::Session::new(peer.clone())
        };
        // From before connecting: the core waits that long in all.
        let answer_by = tokio::time::Instant::now() + SYNC_ANSWER_TIMEOUT;
        let connection = session.peer().connection(shared).await?;
        SyncClient::open(shared.clone(), session, connection, request, answer_by).await
    }

    /// Stops sending and accepting, gives in-flight messages and the
    /// connections up to [`CLOSE_TIMEOUT`] to finish, then closes the
    /// endpoint. Messages sent after this are dropped.
    pub async fn close(&self) {
        let shared = &self.shared;
        let deadline = tokio::time::Instant::now() + CLOSE_TIMEOUT;
        let peers: Vec<Arc<Peer>> = {
            let mut peers = shared.peers();
            shared.shutdown.send_replace(true);
            peers.drain().map(|(_, peer)| peer).collect()
        };
        let flushed = tokio::time::timeout_at(deadline, async {
            for peer in &peers {
                peer.finished().await;
            }
        })
        .await;
        if flushed.is_err() {
            debug!("closing with messages still in flight");
        }
        shared.endpoint.close(CODE_OK, b"shutdown");
        if tokio::time::timeout_at(deadline, shared.endpoint.wait_idle())
            .await
            .is_err()
        {
            debug!("closing before every connection drained");
        }
    }

    /// The round-trip time to `to` on its open connection, if any.
    pub fn rtt(&self, to: SocketAddr) -> Option<std::time::Duration> {
        let peer = self.shared.peers().get(&to).cloned();
        peer.and_then(|peer| peer.rtt())
    }

    /// What the transport moved so far.
    pub fn stats(&self) -> TransportStats {
        self.shared
            .counters
            .snapshot(self.shared.endpoint.open_connections())
    }
}

/// The peer's address with an IPv4-mapped IPv6 address turned back into
/// IPv4, so a peer has one address whatever the socket's family.
fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

/// Whether a QUIC close code is a TLS alert (RFC 9001, 4.8).
fn is_tls_alert(code: quinn::TransportErrorCode) -> bool {
    (0x100..0x200).contains(&u64::from(code))
}
