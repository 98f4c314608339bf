//! Whether a connection still reaches a live peer process, asked when a
//! member comes back (up again, or under a renewed identity).
//!
//! A member back from a partition under a renewed SWIM identity is the
//! same process: its connection, with the sync sessions and broadcasts in
//! flight on it, is worth keeping. A restarted member took the
//! connection's state with it (packets on it go unanswered until the idle
//! timeout), and a connection stuck across a partition has backed its
//! retransmissions off for seconds: both are worth replacing at once. The
//! connection tells which: a live peer acknowledges a probe within a few
//! round trips.

use std::time::Duration;

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

/// Sends a probe on `connection` (an empty unidirectional stream, which the
/// peer reads as no message) and waits for the peer to acknowledge it; true
/// if it did within three round trips plus [`PROBE_GRACE`].
pub(super) async fn answers(connection: &Connection) -> bool {
    let window = connection.rtt().saturating_mul(3) + PROBE_GRACE;
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
