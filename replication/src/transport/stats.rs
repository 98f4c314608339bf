//! Counters of what the transport moved, for metrics.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of the transport's counters (all since [`bind`]) and of its
/// open connections.
///
/// [`bind`]: super::Transport::bind
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransportStats {
    /// Messages handed to QUIC (datagrams sent, frames written to a stream).
    pub messages_sent: u64,
    /// Frame bytes of those messages.
    pub bytes_sent: u64,
    /// Messages received and handed to the inbound channel.
    pub messages_received: u64,
    /// Frame bytes of those messages.
    pub bytes_received: u64,
    /// Outbound messages dropped: peer queue full, peer unreachable,
    /// connection lost mid-write (a peer stream whose connection failed
    /// counts once), or the transport closed.
    pub dropped: u64,
    /// Inbound frames (datagrams or streams) rejected as garbage, truncated
    /// or oversized.
    pub rejected_frames: u64,
    /// Outbound unidirectional streams opened (one per connection: every
    /// message that is not a datagram goes on the peer's one stream).
    pub streams_opened: u64,
    /// Outbound connections established.
    pub connections_opened: u64,
    /// Outbound connection attempts that failed (timeout, refused, TLS).
    pub connect_failures: u64,
    /// Inbound connections whose handshake completed.
    pub connections_accepted: u64,
    /// Inbound connection attempts whose handshake failed (for example a
    /// certificate that does not chain to the CA).
    pub connections_refused: u64,
    /// Connections open right now, both directions.
    pub open_connections: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) messages_sent: AtomicU64,
    pub(crate) bytes_sent: AtomicU64,
    pub(crate) messages_received: AtomicU64,
    pub(crate) bytes_received: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) rejected_frames: AtomicU64,
    pub(crate) streams_opened: AtomicU64,
    pub(crate) connections_opened: AtomicU64,
    pub(crate) connect_failures: AtomicU64,
    pub(crate) connections_accepted: AtomicU64,
    pub(crate) connections_refused: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn sent(&self, bytes: usize) {
        Self::add(&self.messages_sent, 1);
        Self::add(&self.bytes_sent, bytes as u64);
    }

    pub(crate) fn received(&self, bytes: usize) {
        Self::add(&self.messages_received, 1);
        Self::add(&self.bytes_received, bytes as u64);
    }

    pub(crate) fn snapshot(&self, open_connections: usize) -> TransportStats {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        TransportStats {
            messages_sent: get(&self.messages_sent),
            bytes_sent: get(&self.bytes_sent),
            messages_received: get(&self.messages_received),
            bytes_received: get(&self.bytes_received),
            dropped: get(&self.dropped),
            rejected_frames: get(&self.rejected_frames),
            streams_opened: get(&self.streams_opened),
            connections_opened: get(&self.connections_opened),
            connect_failures: get(&self.connect_failures),
            connections_accepted: get(&self.connections_accepted),
            connections_refused: get(&self.connections_refused),
            open_connections: open_connections as u64,
        }
    }
}
