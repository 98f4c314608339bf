//! Whether a connection still reaches a live peer process: asked when a
//! member comes back (up again, or under a renewed identity), and watched
//! on every use of a connection ([`Stall`]).
//!
//! A member back from a partition under a renewed SWIM identity is the
//! same process: its connection, with the sync sessions and broadcasts in
//! flight on it, is worth keeping. A restarted member took the
//! connection's state with it (packets on it go unanswered until the idle
//! timeout), and a connection stuck across a partition has backed its
//! retransmissions off for seconds: both are worth replacing at once. The
//! connection tells which: a live peer acknowledges a probe within a few
//! round trips.

use std::time::{Duration, Instant};

use quinn::Connection;

/// How long beyond three round trips a probe may wait for its
/// acknowledgement: the peer's delayed-ACK timer (25 ms by default) and a
/// busy peer's scheduling. A live connection that misses it is replaced,
/// which costs its sessions in flight; a dead one is used this much longer.
const PROBE_GRACE: Duration = Duration::from_millis(100);

/// What [`Transport::check_connection`](super::Transport::check_connection)
/// found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionCheck {
    /// The peer acknowledged the probe: the connection is kept.
    Alive,
    /// No acknowledgement in time: the connection was closed, and the next
    /// message connects anew.
    Replaced,
    /// There was no open connection to check.
    Absent,
}

/// How long a probe on `connection` may wait for its acknowledgement:
/// three round trips plus [`PROBE_GRACE`].
pub(super) fn probe_window(connection: &Connection) -> Duration {
    connection.rtt().saturating_mul(3) + PROBE_GRACE
}

/// Sends a probe on `connection` (an empty unidirectional stream, which the
/// peer reads as no message) and waits for the peer to acknowledge it; true
/// if it did within `window`.
pub(super) async fn answers(connection: &Connection, window: Duration) -> bool {
    let acknowledged = tokio::time::timeout(window, async {
        let mut stream = connection.open_uni().await.ok()?;
        stream.finish().ok()?;
        // `None`: every byte acknowledged; `Some(code)`: the peer stopped
        // the stream, an answer too.
        stream.stopped().await.ok()
    })
    .await;
    matches!(acknowledged, Ok(Some(_)))
}

/// How long a connection may receive nothing at all after this node sent
/// on it before it counts as stalled. A live peer acknowledges every
/// packet that asks for it within its delayed-ACK timer (25 ms) and a
/// round trip, so a second of silence is a path that drops everything (a
/// partition) or a peer that is gone, not a slow peer.
pub(super) const STALL_AFTER: Duration = Duration::from_secs(1);

/// Watches one connection for a stall: packets sent, nothing received.
///
/// A connection that sent into a partition is not closed by QUIC until its
/// idle timeout, but it is stuck: what it sent fills its congestion window
/// unacknowledged, and everything after (SWIM's datagrams too) waits for
/// its next loss probe, whose period doubles with every probe. Once the
/// partition heals, the next packet on it may leave seconds later; a new
/// connection's handshake leaves at once. So a stalled connection is
/// replaced on its next use instead of being kept.
///
/// Fed the connection's UDP datagram counters at each use, which is all
/// quinn tells: the stall is counted from the first use that saw datagrams
/// sent since the last one received (so a second at least, a little more
/// between uses).
#[derive(Debug, Default)]
pub(super) struct Stall {
    /// The connection watched (its `stable_id`); another one starts afresh.
    connection: Option<usize>,
    received: u64,
    /// Datagrams sent when the last one was received.
    sent_then: u64,
    /// The first use that saw datagrams sent and none received since.
    quiet_since: Option<Instant>,
    /// When the connection was first observed.
    first_seen: Option<Instant>,
}

impl Stall {
    /// The counters of `connection` at `now` (datagrams `received` and
    /// `sent` over its life); true if it is stalled.
    pub(super) fn observe(
        &mut self,
        connection: usize,
        received: u64,
        sent: u64,
        now: Instant,
    ) -> bool {
        if self.connection != Some(connection) {
            *self = Stall {
                connection: Some(connection),
                received,
                sent_then: sent,
                quiet_since: None,
                first_seen: Some(now),
            };
            return false;
        }
        if received != self.received {
            self.received = received;
            self.sent_then = sent;
            self.quiet_since = None;
            return false;
        }
        if sent == self.sent_then {
            // Nothing sent since the peer was last heard: nothing to answer.
            return false;
        }
        let since = *self.quiet_since.get_or_insert(now);
        now.saturating_duration_since(since) >= STALL_AFTER
    }

    /// Whether `connection` was first observed less than [`STALL_AFTER`]
    /// before `now`.
    pub(super) fn is_fresh(&self, connection: usize, now: Instant) -> bool {
        self.connection == Some(connection)
            && self
                .first_seen
                .is_some_and(|at| now.saturating_duration_since(at) < STALL_AFTER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stalled_only_after_sending_into_a_second_of_silence() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut stall = Stall::default();
        // A fresh connection, then a quiet one with nothing sent: idle, not
        // stalled, however long.
        assert!(!stall.observe(1, 5, 5, t0));
        assert!(!stall.observe(1, 5, 5, t0 + ms(60_000)));
        // Sent, answered within the second: fine.
        assert!(!stall.observe(1, 5, 6, t0 + ms(60_000)));
        assert!(!stall.observe(1, 6, 7, t0 + ms(60_900)));
        // Sent, then silence: stalled a second after the first use that saw it.
        assert!(!stall.observe(1, 6, 9, t0 + ms(61_000)));
        assert!(!stall.observe(1, 6, 12, t0 + ms(61_999)));
        assert!(stall.observe(1, 6, 14, t0 + ms(62_000)));
        assert!(stall.observe(1, 6, 14, t0 + ms(65_000)));
        // Anything received clears it.
        assert!(!stall.observe(1, 7, 14, t0 + ms(65_001)));
        assert!(!stall.observe(1, 7, 15, t0 + ms(65_002)));
        // Sent right after: silence counts from there.
        assert!(stall.observe(1, 7, 16, t0 + ms(66_002)));
        // A new connection starts afresh, whatever its counters.
        let mut other = Stall::default();
        assert!(!other.observe(1, 6, 9, t0));
        assert!(!other.observe(2, 6, 9, t0 + ms(5_000)));
        assert!(!other.observe(2, 6, 10, t0 + ms(5_000)));
        assert!(other.observe(2, 6, 10, t0 + ms(6_000)));
    }

    #[test]
    fn fresh_for_a_second_after_first_seen() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut stall = Stall::default();
        assert!(!stall.is_fresh(1, t0));
        stall.observe(1, 0, 0, t0);
        assert!(stall.is_fresh(1, t0 + ms(999)));
        assert!(!stall.is_fresh(2, t0 + ms(10)));
        stall.observe(1, 3, 3, t0 + ms(500));
        assert!(!stall.is_fresh(1, t0 + ms(1_000)));
        stall.observe(2, 3, 3, t0 + ms(2_000));
        assert!(stall.is_fresh(2, t0 + ms(2_500)));
    }
}
