//! Change capture's per-connection state: the SQL functions the capture
//! triggers call, and the hooks that mark transaction boundaries.
//!
//! - `patina_capture()` is 1 unless a merge is running: merged rows must not
//!   be captured again as local writes (no echo).
//! - `patina_dbv()` is the db_version of the open transaction, or NULL
//!   until its first captured write; `patina_set_dbv(v)` sets it. The
//!   triggers compute it once per transaction from the version log (its
//!   highest local entry is the last committed db_version), so a rolled-back
//!   transaction, or one whose every write was rolled back to a savepoint,
//!   leaves no version behind.
//! - `patina_seq()` orders the writes within a transaction.
//! - `patina_pack(k1, k2, …)` encodes a primary key for the version log.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;

use crate::pack;

#[derive(Debug)]
pub(crate) struct CaptureState {
    enabled: AtomicBool,
    /// The open transaction's db_version, 0 while none is assigned.
    db_version: AtomicI64,
    seq: AtomicI64,
}

impl CaptureState {
    fn end_transaction(&self) {
        self.db_version.store(0, Ordering::Relaxed);
        self.seq.store(0, Ordering::Relaxed);
    }

    /// Whether the open transaction was given a db_version (it wrote a
    /// local version).
    pub(crate) fn assigned(&self) -> bool {
        self.db_version.load(Ordering::Relaxed) > 0
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

/// Gives the open transaction its db_version on its first captured write:
/// one more than this node's highest version-log entry. A statement of its
/// own: inside an INSERT into the log the same subquery would scan the log.
pub(crate) const ASSIGN_DB_VERSION: &str = "SELECT patina_set_dbv(\
     (SELECT coalesce(max(dbv), 0) FROM __patina_log WHERE site = 0) + 1) \
     WHERE patina_dbv() IS NULL";

/// The open transaction's db_version, once assigned.
pub(crate) const TXN_VERSION: &str = "patina_dbv()";

/// Registers the capture functions and transaction hooks on `conn`.
pub(crate) fn install(conn: &Connection) -> rusqlite::Result<Arc<CaptureState>> {
    let state = Arc::new(CaptureState {
        enabled: AtomicBool::new(true),
        db_version: AtomicI64::new(0),
        seq: AtomicI64::new(0),
    });
    // Not deterministic: each call may answer differently.
    let flags = FunctionFlags::SQLITE_UTF8;

    let s = Arc::clone(&state);
    conn.create_scalar_function("patina_capture", 0, flags, move |_| {
        Ok(s.enabled.load(Ordering::Relaxed))
    })?;
    let s = Arc::clone(&state);
    conn.create_scalar_function("patina_dbv", 0, flags, move |_| {
        let v = s.db_version.load(Ordering::Relaxed);
        Ok((v > 0).then_some(v))
    })?;
    let s = Arc::clone(&state);
    conn.create_scalar_function("patina_set_dbv", 1, flags, move |ctx| {
        let v: i64 = ctx.get(0)?;
        s.db_version.store(v, Ordering::Relaxed);
        Ok(v)
    })?;
    let s = Arc::clone(&state);
    conn.create_scalar_function("patina_seq", 0, flags, move |_| {
        Ok(s.seq.fetch_add(1, Ordering::Relaxed))
    })?;
    conn.create_scalar_function(
        "patina_pack",
        -1,
        flags | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let values = (0..ctx.len()).map(|i| ctx.get_raw(i));
            Ok(pack::pack(values))
        },
    )?;

    let s = Arc::clone(&state);
    conn.commit_hook(Some(move || {
        s.end_transaction();
        false
    }));
    let s = Arc::clone(&state);
    conn.rollback_hook(Some(move || s.end_transaction()));
    Ok(state)
}
