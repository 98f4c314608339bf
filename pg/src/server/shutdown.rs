//! Ending a listener's sessions when it stops, as PostgreSQL's fast
//! shutdown does: what a session runs is interrupted, whatever transaction
//! it holds open rolls back, and its client gets FATAL 57P01 `terminating
//! connection due to administrator command` before the connection closes.
//! Once nothing writes any more, [`Database::close`] checkpoints the
//! database, so the node leaves no WAL behind.

use std::collections::HashSet;
use std::future::Future;
use std::io;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures::SinkExt;
use tokio::sync::watch;

use super::database::Database;
use super::errors::PgError;
use super::interrupts::{Interrupts, Reason};
use super::messages;
use super::startup::Wire;

/// One listener's sessions, and whether they are being terminated.
#[derive(Debug, Default)]
pub(crate) struct Terminator {
    terminating: watch::Sender<bool>,
    /// The pids of the listener's sessions.
    sessions: Mutex<HashSet<i32>>,
}

impl Terminator {
    fn sessions(&self) -> MutexGuard<'_, HashSet<i32>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Turns true when the listener's sessions are terminated.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.terminating.subscribe()
    }

    /// Counts session `pid` among the listener's until the guard drops.
    pub fn track(&self, pid: i32) -> Tracked<'_> {
        self.sessions().insert(pid);
        Tracked(self, pid)
    }

    /// Terminates every session of the listener, and any that finishes
    /// its start later.
    pub fn terminate(&self, interrupts: &Interrupts) {
        self.terminating.send_replace(true);
        let pids: Vec<i32> = self.sessions().iter().copied().collect();
        interrupts.terminate(&pids);
    }
}

/// A session counted by a [`Terminator`].
pub(crate) struct Tracked<'a>(&'a Terminator, i32);

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        self.0.sessions().remove(&self.1);
    }
}

/// The error every terminated session ends with.
fn termination_error() -> PgError {
    PgError::new(Reason::Terminate.code(), Reason::Terminate.message())
}

/// Whether a statement failed because its session is being terminated:
/// the connection ends there, nothing more goes to the client but the
/// FATAL [`farewell`] sends.
pub(crate) fn ends_session(error: &PgError) -> bool {
    error.code == Reason::Terminate.code()
}

/// What [`ends_session`] errors turn into on their way out of the
/// message loop.
pub(crate) fn aborted() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        Reason::Terminate.message(),
    )
}

/// Runs a connection's start or message loop until it ends or the
/// session is terminated ([`aborted`]). A statement running on SQLite when
/// termination starts is interrupted ([`Terminator::terminate`]); anything
/// the loop awaits (the client, the writer, COPY data) is dropped.
pub(crate) async fn until_terminated<T>(
    terminating: &mut watch::Receiver<bool>,
    work: impl Future<Output = io::Result<T>>,
) -> io::Result<T> {
    tokio::select! {
        // Termination first: a loop that is ready again must not go on.
        biased;
        _ = terminating.wait_for(|terminating| *terminating) => Err(aborted()),
        result = work => result,
    }
}

/// Sends a terminated session's client the FATAL error; any other end of
/// the loop passes through.
pub(crate) async fn farewell(
    wire: &mut Wire,
    terminating: &watch::Receiver<bool>,
    result: io::Result<()>,
) -> io::Result<()> {
    match result {
        Err(error) if error.kind() == io::ErrorKind::ConnectionAborted && *terminating.borrow() => {
            tracing::debug!("terminating a session: its listener stops");
            wire.send(messages::fatal(&termination_error())).await
        }
        result => result,
    }
}

/// How often closing tries the final checkpoint while another runs (the
/// background checkpoints', see `checkpoint`), and how long between tries.
const CHECKPOINT_TRIES: u32 = 40;
const CHECKPOINT_RETRY: Duration = Duration::from_millis(25);

impl Database {
    /// Closes the database once nothing else writes (listeners stopped,
    /// replication stopped): waits for the writer, then checkpoints the
    /// whole WAL into the database file and truncates it.
    pub async fn close(&self) {
        let lease = self.writer().await;
        for _ in 0..CHECKPOINT_TRIES {
            // (busy, WAL pages): busy while another checkpoint runs or a
            // reader still reads from the WAL.
            let checkpoint = lease
                .conn()
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
                });
            match checkpoint {
                Ok((0, _)) => {
                    tracing::info!("database closed: WAL checkpointed");
                    return;
                }
                Ok(_) => tokio::time::sleep(CHECKPOINT_RETRY).await,
                Err(error) => {
                    tracing::warn!(%error, "checkpointing the WAL at shutdown failed");
                    return;
                }
            }
        }
        tracing::warn!("database closed with a WAL: it stayed busy; the next start replays it");
    }
}
