//! Connecting to a peer that may just have become reachable again: more
//! than one handshake in flight, so the first packet that crosses a healed
//! path is answered at once.
//!
//! A QUIC handshake whose first packet was lost resends it only after its
//! loss timer, a second with quinn's first round-trip guess (333 ms), two
//! the next time. A peer on the other side of a partition is connected to
//! over and over while it lasts, so when it heals the attempt in progress
//! is most likely waiting on that timer. Instead, an attempt that has not
//! connected within [`RESEND_AFTER`] is joined by a new one (whose first
//! packet leaves now), and so is every attempt in progress when the peer
//! itself connects to this node, the surest sign that the path is back.
//! The first to connect wins; the others are dropped. The first attempt
//! is never cut short, so a slow peer still completes it.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use quinn::{ConnectError, Connection, ConnectionError, Endpoint};
use tokio::sync::Notify;
use tokio::task::{AbortHandle, JoinSet};

use crate::tls::PEER_NAME;

/// How long an attempt runs alone before another joins it. On loopback or
/// a LAN a handshake takes a few milliseconds; across a WAN more, and a
/// later attempt then costs one extra handshake packet.
pub(super) const RESEND_AFTER: Duration = Duration::from_millis(250);
/// Attempts in flight at most: the first, which runs until the caller
/// gives up (a slow peer still completes it), and the newest after it
/// (older later ones are dropped: their first packet is the one lost, and
/// each costs the peer a handshake when the path is back).
const MAX_ATTEMPTS: usize = 3;

/// Why no attempt connected.
#[derive(Debug)]
pub(super) enum Failure {
    /// The endpoint refused to start one (a bad address, a closed endpoint).
    Start(ConnectError),
    /// The peer refused the handshake (TLS), or every attempt failed.
    Handshake(ConnectionError),
}

/// Connects to `addr`, starting attempts side by side as described in the
/// module doc; `reached` signals that the peer connected to this node.
/// Runs until one connects or fails other than by timing out (the caller
/// bounds it in time).
pub(super) async fn first_connected(
    endpoint: &Endpoint,
    addr: SocketAddr,
    reached: &Notify,
) -> Result<Connection, Failure> {
    let mut attempts = JoinSet::new();
    let mut later: VecDeque<AbortHandle> = VecDeque::new();
    loop {
        // Created before the attempt starts, so a signal after is not missed.
        let reached_now = reached.notified();
        tokio::pin!(reached_now);
        let connecting = endpoint.connect(addr, PEER_NAME).map_err(Failure::Start)?;
        let handle = attempts.spawn(connecting);
        if attempts.len() > 1 {
            later.push_back(handle);
        }
        while later.len() > MAX_ATTEMPTS - 1 {
            if let Some(oldest) = later.pop_front() {
                oldest.abort();
            }
        }
        let resend = tokio::time::sleep(RESEND_AFTER);
        tokio::pin!(resend);
        let outcome = loop {
            tokio::select! {
                done = attempts.join_next() => match done {
                    Some(Ok(Ok(connection))) => return Ok(connection),
                    // A refusal is final; a timed-out attempt leaves the
                    // others running.
                    Some(Ok(Err(ConnectionError::TimedOut))) if !attempts.is_empty() => {}
                    Some(Ok(Err(error))) => break Err(Failure::Handshake(error)),
                    // Dropped for a newer one.
                    Some(Err(error)) if error.is_cancelled() && !attempts.is_empty() => {}
                    // Only if the runtime shuts down: as a lost connection.
                    Some(Err(_)) | None => {
                        break Err(Failure::Handshake(ConnectionError::LocallyClosed));
                    }
                },
                () = &mut resend => break Ok(()),
                () = &mut reached_now => break Ok(()),
            }
        };
        outcome?;
    }
}
