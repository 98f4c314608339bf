//! `subscriptions.db`, a SQLite file of its own beside the store's: each
//! subscription (its query and counters), its materialized result (rows
//! with their stable ids, keys and values) and its change log, kept for
//! the retention so clients can resume. Only the subscription worker
//! writes it, one transaction per round, and publishes a round's changes
//! once it committed.
//!
//! It is as durable as the node's data: with `durability = normal` (WAL,
//! `synchronous = NORMAL`) a committed round survives a crash of the
//! process but a power loss may lose the last rounds — as it may lose the
//! last commits of the data — and then the change ids they were given,
//! which clients may have seen, are given again to other changes; with
//! `durability = full` every round is fsynced before it is published, so
//! a change id a client saw is never forgotten. Checkpoints run from the
//! server's checkpoint thread ([`super::super::checkpoint`]), not inside a
//! round's commit: SQLite's automatic checkpoint copies the WAL and
//! fsyncs both files in the commit that crosses its limit, which held up
//! the notifications of that round and of the rounds queued behind it by
//! tens of milliseconds. The worker still checkpoints what is left past
//! the writer's limit, so the WAL cannot grow without bound.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use super::super::checkpoint;

/// Changes are kept this long…
pub(crate) const RETENTION: Duration = Duration::from_secs(600);
/// …and at most this many per subscription.
pub(crate) const RETAINED_CHANGES: i64 = 100_000;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS subscriptions (
        id TEXT PRIMARY KEY, query TEXT NOT NULL UNIQUE,
        change_id INTEGER NOT NULL, next_row INTEGER NOT NULL,
        pruned_through INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS changes (
        sub TEXT NOT NULL, change_id INTEGER NOT NULL, at_ms INTEGER NOT NULL,
        channel TEXT NOT NULL, payload TEXT NOT NULL,
        PRIMARY KEY (sub, change_id)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS rows (
        sub TEXT NOT NULL, row_id INTEGER NOT NULL, key BLOB, vals BLOB NOT NULL,
        PRIMARY KEY (sub, row_id)) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS rows_by_key ON rows (sub, key);
    CREATE TABLE IF NOT EXISTS row_keys (
        sub TEXT NOT NULL, occ INTEGER NOT NULL, k BLOB NOT NULL, row_id INTEGER NOT NULL,
        PRIMARY KEY (sub, occ, k, row_id)) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS row_keys_by_row ON row_keys (sub, row_id);";

/// Opens (creating) the file at `path`; `full`: fsync every commit (the
/// node's data is kept with `durability = full`). Does not start its
/// checkpoints ([`checkpoint::spawn`]).
pub(crate) fn open(path: &Path, full: bool) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    let synchronous = if full { "FULL" } else { "NORMAL" };
    conn.execute_batch(&format!("PRAGMA synchronous = {synchronous};"))?;
    conn.pragma_update(None, "wal_autocheckpoint", checkpoint::WRITER_LIMIT_PAGES)?;
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}

/// A subscription's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub id: String,
    pub query: String,
    /// The last change id given out (0: none yet).
    pub change_id: i64,
    /// The next row id to give out.
    pub next_row: i64,
    /// Changes up to this one are no longer in the log.
    pub pruned_through: i64,
}

/// A materialized result row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredRow {
    pub row_id: i64,
    /// The encoded keys of the rows it joins (incremental queries only).
    pub key: Option<Vec<u8>>,
    pub vals: Vec<u8>,
}

pub(crate) fn load(conn: &Connection) -> rusqlite::Result<Vec<Record>> {
    let mut stmt = conn.prepare(
        "SELECT id, query, change_id, next_row, pruned_through FROM subscriptions ORDER BY id",
    )?;
    stmt.query_map([], |row| {
        Ok(Record {
            id: row.get(0)?,
            query: row.get(1)?,
            change_id: row.get(2)?,
            next_row: row.get(3)?,
            pruned_through: row.get(4)?,
        })
    })?
    .collect()
}

/// Writes a record (new, or its counters).
pub(crate) fn save(conn: &Connection, record: &Record) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO subscriptions (id, query, change_id, next_row, pruned_through)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET change_id = excluded.change_id,
             next_row = excluded.next_row, pruned_through = excluded.pruned_through",
    )?
    .execute(params![
        record.id,
        record.query,
        record.change_id,
        record.next_row,
        record.pruned_through
    ])
    .map(drop)
}

/// Forgets a subscription and everything it kept.
pub(crate) fn remove(conn: &Connection, id: &str) -> rusqlite::Result<()> {
    for table in ["subscriptions", "changes", "rows", "row_keys"] {
        let column = if table == "subscriptions" {
            "id"
        } else {
            "sub"
        };
        conn.execute(&format!("DELETE FROM {table} WHERE {column} = ?1"), [id])?;
    }
    Ok(())
}

pub(crate) fn all_rows(conn: &Connection, sub: &str) -> rusqlite::Result<Vec<StoredRow>> {
    let mut stmt =
        conn.prepare_cached("SELECT row_id, key, vals FROM rows WHERE sub = ?1 ORDER BY row_id")?;
    stmt.query_map([sub], stored_row)?.collect()
}

/// The rows whose occurrence `occ` joins the row with encoded key `k`.
pub(crate) fn rows_joining(
    conn: &Connection,
    sub: &str,
    occ: usize,
    k: &[u8],
) -> rusqlite::Result<Vec<StoredRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.row_id, r.key, r.vals FROM row_keys AS k
         JOIN rows AS r ON r.sub = k.sub AND r.row_id = k.row_id
         WHERE k.sub = ?1 AND k.occ = ?2 AND k.k = ?3",
    )?;
    stmt.query_map(params![sub, occ as i64, k], stored_row)?
        .collect()
}

fn stored_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRow> {
    Ok(StoredRow {
        row_id: row.get(0)?,
        key: row.get(1)?,
        vals: row.get(2)?,
    })
}

/// Adds a result row, with the keys of the rows it joins.
pub(crate) fn insert_row(
    conn: &Connection,
    sub: &str,
    row_id: i64,
    key: Option<&[u8]>,
    occurrence_keys: &[Vec<u8>],
    vals: &[u8],
) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT INTO rows (sub, row_id, key, vals) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![sub, row_id, key, vals])?;
    let mut keys = conn.prepare_cached(
        "INSERT OR IGNORE INTO row_keys (sub, occ, k, row_id) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (occ, k) in occurrence_keys.iter().enumerate() {
        keys.execute(params![sub, occ as i64, k, row_id])?;
    }
    Ok(())
}

pub(crate) fn update_row(
    conn: &Connection,
    sub: &str,
    row_id: i64,
    vals: &[u8],
) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE rows SET vals = ?3 WHERE sub = ?1 AND row_id = ?2")?
        .execute(params![sub, row_id, vals])
        .map(drop)
}

/// Removes a result row; returns the keys of the rows it joined, by
/// occurrence.
pub(crate) fn delete_row(
    conn: &Connection,
    sub: &str,
    row_id: i64,
) -> rusqlite::Result<Vec<(usize, Vec<u8>)>> {
    conn.prepare_cached("DELETE FROM rows WHERE sub = ?1 AND row_id = ?2")?
        .execute(params![sub, row_id])?;
    let mut stmt = conn
        .prepare_cached("DELETE FROM row_keys WHERE sub = ?1 AND row_id = ?2 RETURNING occ, k")?;
    stmt.query_map(params![sub, row_id], occurrence_key)?
        .collect()
}

/// The keys of the rows subscription `sub`'s result rows join, by
/// occurrence, once per result row.
pub(crate) fn held_keys(conn: &Connection, sub: &str) -> rusqlite::Result<Vec<(usize, Vec<u8>)>> {
    let mut stmt = conn.prepare_cached("SELECT occ, k FROM row_keys WHERE sub = ?1")?;
    stmt.query_map([sub], occurrence_key)?.collect()
}

fn occurrence_key(row: &rusqlite::Row<'_>) -> rusqlite::Result<(usize, Vec<u8>)> {
    let occ: i64 = row.get(0)?;
    Ok((usize::try_from(occ).unwrap_or(usize::MAX), row.get(1)?))
}

/// Appends change `change_id` to the log.
pub(crate) fn append(
    conn: &Connection,
    sub: &str,
    change_id: i64,
    at_ms: i64,
    channel: &str,
    payload: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO changes (sub, change_id, at_ms, channel, payload) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![sub, change_id, at_ms, channel, payload])
    .map(drop)
}

/// The logged changes after `after`, in order: (channel, payload).
pub(crate) fn changes_after(
    conn: &Connection,
    sub: &str,
    after: i64,
) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT channel, payload FROM changes WHERE sub = ?1 AND change_id > ?2 ORDER BY change_id",
    )?;
    stmt.query_map(params![sub, after], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect()
}

/// Drops changes older than `before_ms` or beyond the newest
/// [`RETAINED_CHANGES`]; returns the highest change id dropped, if any.
pub(crate) fn prune(
    conn: &Connection,
    sub: &str,
    before_ms: i64,
    last: i64,
) -> rusqlite::Result<Option<i64>> {
    let floor = last.saturating_sub(RETAINED_CHANGES);
    let through: Option<i64> = conn
        .prepare_cached(
            "SELECT max(change_id) FROM changes WHERE sub = ?1 AND (at_ms < ?2 OR change_id <= ?3)",
        )?
        .query_row(params![sub, before_ms, floor], |row| row.get(0))
        .optional()?
        .flatten();
    if let Some(through) = through {
        conn.prepare_cached("DELETE FROM changes WHERE sub = ?1 AND change_id <= ?2")?
            .execute(params![sub, through])?;
    }
    Ok(through)
}
