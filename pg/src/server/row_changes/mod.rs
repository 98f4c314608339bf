//! Row-change capture: which rows of watched tables each committed
//! transaction changed (a session's commit or a merge from other nodes),
//! handed to consumers in commit order while the writer is still held.
//!
//! Watching a table installs TEMP triggers on the writer's connection (so
//! unwatched tables cost nothing) that append one event per row written
//! (insert, update with the mask of non-key columns whose value changed,
//! delete; an update of the key is a delete and an insert) to a TEMP table
//! of the watched table, numbered in write order across tables. The events
//! are rows of the transaction like any other: a rollback, a ROLLBACK TO
//! and a failed statement undo them, so what is left once the writer is
//! released is exactly what committed. [`Capture::settle`] then folds the
//! events per row (existence before and after the transaction decides
//! insert, update or delete; an insert followed by a delete is nothing),
//! reads the values as the table holds them after the commit, empties the
//! event tables and calls the consumers.
//!
//! The triggers are rebuilt when the schema changes (a column added to a
//! watched table; the transaction that added it reports the new column in
//! every row it updated, as the triggers that saw the updates predate it)
//! and removed once no [`TableWatch`] wants their table.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use patina_store::{Store, Versions};
use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use super::errors::PgError;

mod resolve;
#[cfg(test)]
mod tests;
mod triggers;

use resolve::*;
use triggers::*;

/// What a transaction did to one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowOp {
    Insert,
    Update,
    Delete,
}

/// One row a committed transaction (a local commit or a merge) changed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RowChange {
    pub table: String,
    pub op: RowOp,
    /// Primary-key columns and values (for a delete, the deleted row's key).
    pub pk: Vec<(String, Value)>,
    /// Insert: every column; Update: the columns whose value changed; Delete: empty.
    /// Values as the table holds them after the commit.
    pub columns: Vec<(String, Value)>,
    /// The writing site (hex site id, as `Store::site_id().to_string()`) and its db_version.
    pub origin: String,
    pub db_version: u64,
}

/// The rows one committed transaction changed, in the order first touched.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Committed {
    pub rows: Vec<RowChange>,
}

/// Called after every commit or merge that changed watched rows.
pub(crate) type Consumer = Arc<dyn Fn(&Arc<Committed>) + Send + Sync>;

/// Who wrote what the writer committed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Origin<'a> {
    /// A local transaction: this site, its last db_version.
    Local,
    /// A merge of this batch: each row's change set.
    Merged(&'a [Versions]),
}

/// The capture state of the writer's connection.
#[derive(Default)]
pub(crate) struct Capture {
    state: Mutex<State>,
    consumers: RwLock<Vec<Consumer>>,
    /// Numbers events across tables in write order.
    seq: Arc<AtomicI64>,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    /// Watched tables (as stored) and how many guards want each.
    wanted: HashMap<String, usize>,
    /// Tables with triggers on the writer, and the shape they capture.
    installed: HashMap<String, Shape>,
    /// The main schema's version when the installed shapes were checked.
    schema_version: i64,
}

/// A table's columns as its triggers capture them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shape {
    /// Every column, in table order.
    columns: Vec<String>,
    /// The primary-key columns, in key order.
    key: Vec<String>,
    /// The columns outside the key, in table order (the update mask's).
    others: Vec<String>,
}

/// Capture of some tables; it stops when the last guard for a table drops.
pub(crate) struct TableWatch {
    capture: Arc<Capture>,
    tables: Vec<String>,
}

impl std::fmt::Debug for TableWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableWatch")
            .field("tables", &self.tables)
            .finish()
    }
}

impl Drop for TableWatch {
    fn drop(&mut self) {
        // The triggers go at the next settle, which holds the writer.
        let mut state = self.capture.state();
        for table in &self.tables {
            if let Some(count) = state.wanted.get_mut(table) {
                *count -= 1;
                if *count == 0 {
                    state.wanted.remove(table);
                }
            }
        }
    }
}

impl Capture {
    /// Registers the function the triggers number events with on the
    /// writer's connection.
    pub fn install(&self, conn: &Connection) -> rusqlite::Result<()> {
        let seq = self.seq.clone();
        conn.create_scalar_function("patina_row_seq", 0, FunctionFlags::SQLITE_UTF8, move |_| {
            Ok(seq.fetch_add(1, Ordering::Relaxed))
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a consumer.
    pub fn add_consumer(&self, consumer: Consumer) {
        self.consumers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(consumer);
    }

    /// Starts capturing `tables` (replicated tables of `store`, named as
    /// stored, else 42P01). The caller holds the writer, with no
    /// transaction open.
    pub fn watch(
        self: &Arc<Self>,
        store: &Store,
        tables: &[String],
    ) -> Result<TableWatch, PgError> {
        let replicated = store.replicated_tables();
        if let Some(unknown) = tables.iter().find(|t| !replicated.contains(t)) {
            return Err(PgError::new(
                "42P01",
                format!("relation \"{unknown}\" does not exist"),
            ));
        }
        let guard = TableWatch {
            capture: self.clone(),
            tables: tables.to_vec(),
        };
        let synced = {
            let mut state = self.state();
            for table in tables {
                *state.wanted.entry(table.clone()).or_default() += 1;
            }
            sync(&mut state, store.conn())
        };
        // On failure the guard drops, unwatching again.
        synced?;
        Ok(guard)
    }

    /// Hands what the writer committed since the last call to the
    /// consumers, then brings the triggers up to the watched tables and
    /// the schema. The caller holds the writer, with no transaction open.
    pub fn settle(&self, store: &Store, origin: Origin<'_>) {
        if !store.conn().is_autocommit() {
            // A commit that failed: what is open is rolled back, not settled.
            return;
        }
        let mut state = self.state();
        if state.installed.is_empty() && state.wanted.is_empty() {
            return;
        }
        let schema_changed =
            schema_version(store.conn()).map_or(true, |version| version != state.schema_version);
        let collected = collect(store, &state.installed, schema_changed, origin);
        if let Err(error) = clear(store.conn(), &state.installed) {
            tracing::error!(%error, "clearing captured row changes failed");
        }
        if let Err(error) = sync(&mut state, store.conn()) {
            tracing::error!(%error, "updating the row-change triggers failed");
        }
        drop(state);
        let committed = match collected {
            Ok(committed) if committed.rows.is_empty() => return,
            Ok(committed) => Arc::new(committed),
            Err(error) => {
                tracing::error!(%error, "reading captured row changes failed");
                return;
            }
        };
        let consumers = self
            .consumers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for consumer in consumers {
            consumer(&committed);
        }
    }
}
