//! Change capture's per-connection state: the SQL functions the capture
//! triggers call, and the hooks that mark transaction boundaries.
//!
//! - `patina_capture()` is 1 unless a merge is running: merged rows must not
//!   be captured again as local writes (no echo).
//! - `patina_txn()` numbers the connection's transactions. The triggers bump
//!   the persisted `db_version` only when the row's `txn` marker differs from
//!   it, so every local write transaction advances `db_version` exactly once,
//!   and a rollback (or ROLLBACK TO) undoes the bump with everything else.
//! - `patina_seq()` orders the writes within a transaction.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;

#[derive(Debug)]
pub(crate) struct CaptureState {
    enabled: AtomicBool,
    txn: AtomicI64,
    seq: AtomicI64,
}

impl CaptureState {
    fn end_transaction(&self) {
        self.txn.fetch_add(1, Ordering::Relaxed);
        self.seq.store(0, Ordering::Relaxed);
    }

    /// Turns capture off until the guard is dropped.
    pub(crate) fn pause(self: &Arc<Self>) -> PausedCapture {
        self.enabled.store(false, Ordering::Relaxed);
        PausedCapture(Arc::clone(self))
    }
}

/// Capture is off while this lives.
#[derive(Debug)]
pub(crate) struct PausedCapture(Arc<CaptureState>);

impl Drop for PausedCapture {
    fn drop(&mut self) {
        self.0.enabled.store(true, Ordering::Relaxed);
    }
}

/// Registers the capture functions and transaction hooks on `conn`.
pub(crate) fn install(conn: &Connection) -> rusqlite::Result<Arc<CaptureState>> {
    let state = Arc::new(CaptureState {
        enabled: AtomicBool::new(true),
        txn: AtomicI64::new(1),
        seq: AtomicI64::new(0),
    });
    // Not deterministic: each call may answer differently.
    let flags = FunctionFlags::SQLITE_UTF8;

    let s = Arc::clone(&state);
    conn.create_scalar_function("patina_capture", 0, flags, move |_| {
        Ok(s.enabled.load(Ordering::Relaxed))
    })?;
    let s = Arc::clone(&state);
    conn.create_scalar_function("patina_txn", 0, flags, move |_| {
        Ok(s.txn.load(Ordering::Relaxed))
    })?;
    let s = Arc::clone(&state);
    conn.create_scalar_function("patina_seq", 0, flags, move |_| {
        Ok(s.seq.fetch_add(1, Ordering::Relaxed))
    })?;

    let s = Arc::clone(&state);
    conn.commit_hook(Some(move || {
        s.end_transaction();
        false
    }));
    let s = Arc::clone(&state);
    conn.rollback_hook(Some(move || s.end_transaction()));
    Ok(state)
}
