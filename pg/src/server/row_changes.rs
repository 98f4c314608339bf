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

/// Installs, rebuilds and removes triggers so the installed set is the
/// wanted one, in the current shapes.
fn sync(state: &mut State, conn: &Connection) -> rusqlite::Result<()> {
    if state.installed.is_empty() && state.wanted.is_empty() {
        return Ok(());
    }
    let version = schema_version(conn)?;
    let schema_changed = version != state.schema_version;
    let unwanted: Vec<String> = state
        .installed
        .keys()
        .filter(|table| !state.wanted.contains_key(*table))
        .cloned()
        .collect();
    for table in unwanted {
        conn.execute_batch(&uninstall_sql(&table))?;
        state.installed.remove(&table);
    }
    let wanted: Vec<String> = state.wanted.keys().cloned().collect();
    for table in wanted {
        let installed = state.installed.get(&table);
        if installed.is_some() && !schema_changed {
            continue;
        }
        let shape = read_shape(conn, &table)?;
        if shape.as_ref() == installed {
            continue;
        }
        conn.execute_batch(&uninstall_sql(&table))?;
        state.installed.remove(&table);
        if let Some(shape) = shape {
            conn.execute_batch(&install_sql(&table, &shape))?;
            state.installed.insert(table, shape);
        }
    }
    state.schema_version = version;
    Ok(())
}

fn schema_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA main.schema_version", [], |row| row.get(0))
}

/// A table's shape, `None` if it does not exist.
fn read_shape(conn: &Connection, table: &str) -> rusqlite::Result<Option<Shape>> {
    let mut stmt =
        conn.prepare_cached("SELECT name, pk FROM pragma_table_info(?1, 'main') ORDER BY cid")?;
    let info: Vec<(String, i64)> = stmt
        .query_map([table], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    if info.is_empty() {
        return Ok(None);
    }
    let mut key: Vec<&(String, i64)> = info.iter().filter(|(_, pk)| *pk > 0).collect();
    key.sort_by_key(|(_, pk)| *pk);
    Ok(Some(Shape {
        columns: info.iter().map(|(name, _)| name.clone()).collect(),
        key: key.iter().map(|(name, _)| name.clone()).collect(),
        others: info
            .iter()
            .filter(|(_, pk)| *pk == 0)
            .map(|(name, _)| name.clone())
            .collect(),
    }))
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The TEMP table holding a watched table's events.
fn events_table(table: &str) -> String {
    quote(&format!("__patina_rows_{table}"))
}

fn trigger(table: &str, op: &str) -> String {
    quote(&format!("__patina_rows_{op}_{table}"))
}

fn uninstall_sql(table: &str) -> String {
    format!(
        "DROP TRIGGER IF EXISTS temp.{}; DROP TRIGGER IF EXISTS temp.{}; \
         DROP TRIGGER IF EXISTS temp.{}; DROP TABLE IF EXISTS temp.{};",
        trigger(table, "insert"),
        trigger(table, "update"),
        trigger(table, "delete"),
        events_table(table),
    )
}

/// Event kinds as the triggers write them.
const INSERTED: i64 = 0;
const UPDATED: i64 = 1;
const DELETED: i64 = 2;

fn install_sql(table: &str, shape: &Shape) -> String {
    let events = events_table(table);
    let key_columns: Vec<String> = (0..shape.key.len()).map(|i| format!("k{i}")).collect();
    let key_of = |row: &str| -> String {
        shape
            .key
            .iter()
            .map(|k| format!("{row}.{}", quote(k)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let same_key = shape
        .key
        .iter()
        .map(|k| format!("OLD.{k} IS NEW.{k}", k = quote(k)))
        .collect::<Vec<_>>()
        .join(" AND ");
    let append = |op: i64, mask: &str, row: &str, condition: &str| {
        format!(
            "INSERT INTO {events} (seq, op, mask, {keys}) SELECT patina_row_seq(), {op}, {mask}, {values}{condition};",
            keys = key_columns.join(", "),
            values = key_of(row),
        )
    };
    let moved = format!(" WHERE NOT ({same_key})");
    let mut on_update = vec![
        append(DELETED, "NULL", "OLD", &moved),
        append(INSERTED, "NULL", "NEW", &moved),
    ];
    if !shape.others.is_empty() {
        let differs: Vec<String> = shape
            .others
            .iter()
            .map(|c| format!("(OLD.{c} IS NOT NEW.{c})", c = quote(c)))
            .collect();
        let mask = format!("'' || {}", differs.join(" || "));
        // Recorded even if nothing differs: after a column is added in the
        // transaction, the write may be to a column this trigger predates.
        on_update.push(append(UPDATED, &mask, "NEW", &format!(" WHERE {same_key}")));
    }
    let target = format!("main.{}", quote(table));
    format!(
        "CREATE TEMP TABLE {events} (seq INTEGER NOT NULL, op INTEGER NOT NULL, mask TEXT, {keys});
         CREATE TEMP TRIGGER {insert} AFTER INSERT ON {target} BEGIN {on_insert} END;
         CREATE TEMP TRIGGER {update} AFTER UPDATE ON {target} BEGIN {on_update} END;
         CREATE TEMP TRIGGER {delete} AFTER DELETE ON {target} BEGIN {on_delete} END;",
        keys = key_columns.join(", "),
        insert = trigger(table, "insert"),
        update = trigger(table, "update"),
        delete = trigger(table, "delete"),
        on_insert = append(INSERTED, "NULL", "NEW", ""),
        on_update = on_update.join(" "),
        on_delete = append(DELETED, "NULL", "OLD", ""),
    )
}

/// Empties the event tables.
fn clear(conn: &Connection, installed: &HashMap<String, Shape>) -> rusqlite::Result<()> {
    for table in installed.keys() {
        conn.prepare_cached(&format!("DELETE FROM temp.{}", events_table(table)))?
            .execute([])?;
    }
    Ok(())
}

/// A key value that can be hashed and compared (floats by their bits).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum KeyValue {
    Null,
    Integer(i64),
    Real(u64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<&Value> for KeyValue {
    fn from(value: &Value) -> KeyValue {
        match value {
            Value::Null => KeyValue::Null,
            Value::Integer(i) => KeyValue::Integer(*i),
            Value::Real(f) => KeyValue::Real(f.to_bits()),
            Value::Text(s) => KeyValue::Text(s.clone()),
            Value::Blob(b) => KeyValue::Blob(b.clone()),
        }
    }
}

impl From<&patina_store::Value> for KeyValue {
    fn from(value: &patina_store::Value) -> KeyValue {
        match value {
            patina_store::Value::Null => KeyValue::Null,
            patina_store::Value::Integer(i) => KeyValue::Integer(*i),
            patina_store::Value::Real(f) => KeyValue::Real(f.to_bits()),
            patina_store::Value::Text(s) => KeyValue::Text(s.clone()),
            patina_store::Value::Blob(b) => KeyValue::Blob(b.clone()),
        }
    }
}

/// One row's events folded over the transaction.
struct Touched {
    table: String,
    key: Vec<Value>,
    existed: bool,
    exists: bool,
    /// Non-key columns changed (by position in the shape's `others`).
    changed: Vec<bool>,
    /// Deleted and inserted again: every column counts as changed.
    recreated: bool,
}

impl Touched {
    fn apply(&mut self, op: i64, mask: Option<&str>) {
        match op {
            INSERTED => {
                self.recreated |= self.existed;
                self.exists = true;
            }
            DELETED => self.exists = false,
            _ => {
                self.exists = true;
                let mask = mask.unwrap_or_default().as_bytes();
                if self.changed.len() < mask.len() {
                    self.changed.resize(mask.len(), false);
                }
                for (changed, bit) in self.changed.iter_mut().zip(mask) {
                    *changed |= *bit == b'1';
                }
            }
        }
    }
}

/// One row write, as a trigger recorded it.
struct Event<'a> {
    seq: i64,
    table: &'a str,
    op: i64,
    mask: Option<String>,
    key: Vec<Value>,
}

/// (lower-cased table, key) → the (site, db_version) that wrote it.
type RowOrigins = HashMap<(String, Vec<KeyValue>), (String, u64)>;

/// Reads the events of every installed table and resolves them into the
/// rows the transaction changed.
///
/// After a schema change (a column added in the transaction) the values
/// are read in the table's shape now, and an updated row reports the new
/// columns too: the triggers that saw the update did not know them.
fn collect(
    store: &Store,
    installed: &HashMap<String, Shape>,
    schema_changed: bool,
    origin: Origin<'_>,
) -> rusqlite::Result<Committed> {
    let conn = store.conn();
    let mut events: Vec<Event<'_>> = Vec::new();
    for (table, shape) in installed {
        let keys: Vec<String> = (0..shape.key.len()).map(|i| format!("k{i}")).collect();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT seq, op, mask, {} FROM temp.{}",
            keys.join(", "),
            events_table(table)
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let key = (0..shape.key.len())
                .map(|i| row.get::<_, Value>(3 + i))
                .collect::<rusqlite::Result<_>>()?;
            events.push(Event {
                seq: row.get(0)?,
                table,
                op: row.get(1)?,
                mask: row.get(2)?,
                key,
            });
        }
    }
    if events.is_empty() {
        return Ok(Committed::default());
    }
    events.sort_by_key(|event| event.seq);
    let mut touched: Vec<Touched> = Vec::new();
    let mut index: HashMap<(&str, Vec<KeyValue>), usize> = HashMap::new();
    for Event {
        table,
        op,
        mask,
        key,
        ..
    } in events
    {
        let hashed = (table, key.iter().map(KeyValue::from).collect());
        let at = *index.entry(hashed).or_insert_with(|| {
            touched.push(Touched {
                table: table.to_owned(),
                key,
                existed: op != INSERTED,
                exists: op != INSERTED,
                changed: Vec::new(),
                recreated: false,
            });
            touched.len() - 1
        });
        touched[at].apply(op, mask.as_deref());
    }
    let mut origins = Origins::new(store, origin);
    let mut shapes: HashMap<String, Option<Shape>> = HashMap::new();
    let mut rows = Vec::new();
    for row in touched {
        let seen = &installed[&row.table];
        let shape = match shapes.get(&row.table) {
            Some(shape) => shape,
            None => {
                let now = if schema_changed {
                    read_shape(conn, &row.table)?
                } else {
                    Some(seen.clone())
                };
                shapes.entry(row.table.clone()).or_insert(now)
            }
        };
        let Some(shape) = shape else {
            continue;
        };
        let added = shape.others.iter().any(|c| !seen.others.contains(c));
        let op = match (row.existed, row.exists) {
            (false, true) => RowOp::Insert,
            (true, true) if row.recreated || added || row.changed.contains(&true) => RowOp::Update,
            (true, false) => RowOp::Delete,
            _ => continue,
        };
        let columns = if op == RowOp::Delete {
            Vec::new()
        } else {
            let Some(values) = read_row(conn, &row.table, shape, &row.key)? else {
                tracing::warn!(table = %row.table, "a changed row is missing after its commit");
                continue;
            };
            let masked: Vec<&String> = seen
                .others
                .iter()
                .zip(row.changed.iter().chain(std::iter::repeat(&false)))
                .filter(|(_, changed)| **changed)
                .map(|(name, _)| name)
                .collect();
            // Columns added since the triggers were made are reported
            // whether or not the update wrote them.
            let changed = |name: &String| {
                op == RowOp::Insert
                    || row.recreated
                    || masked.contains(&name)
                    || (shape.others.contains(name) && !seen.others.contains(name))
            };
            shape
                .columns
                .iter()
                .zip(values)
                .filter(|(name, _)| changed(name))
                .map(|(name, value)| (name.clone(), value))
                .collect()
        };
        let (site, db_version) = origins.of(&row.table, &row.key)?;
        rows.push(RowChange {
            pk: shape.key.iter().cloned().zip(row.key).collect(),
            table: row.table,
            op,
            columns,
            origin: site,
            db_version,
        });
    }
    Ok(Committed { rows })
}

/// The row's values in the shape's column order, `None` if it is gone.
fn read_row(
    conn: &Connection,
    table: &str,
    shape: &Shape,
    key: &[Value],
) -> rusqlite::Result<Option<Vec<Value>>> {
    let columns: Vec<String> = shape.columns.iter().map(|c| quote(c)).collect();
    let matches: Vec<String> = shape
        .key
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{} IS ?{}", quote(k), i + 1))
        .collect();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {} FROM main.{} WHERE {}",
        columns.join(", "),
        quote(table),
        matches.join(" AND ")
    ))?;
    let mut rows = stmt.query(params_from_iter(key))?;
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    (0..columns.len())
        .map(|i| row.get::<_, Value>(i))
        .collect::<rusqlite::Result<_>>()
        .map(Some)
}

/// The (site, db_version) that wrote each row.
enum Origins<'a> {
    Local(&'a Store, Option<(String, u64)>),
    Merged {
        batch: &'a [Versions],
        /// The last change set of the batch writing each row.
        rows: Option<RowOrigins>,
    },
}

impl<'a> Origins<'a> {
    fn new(store: &'a Store, origin: Origin<'a>) -> Origins<'a> {
        match origin {
            Origin::Local => Origins::Local(store, None),
            Origin::Merged(batch) => Origins::Merged { batch, rows: None },
        }
    }

    fn of(&mut self, table: &str, key: &[Value]) -> rusqlite::Result<(String, u64)> {
        match self {
            Origins::Local(store, known) => {
                if known.is_none() {
                    let version = store.db_version().map_err(|e| e.0)?;
                    *known = Some((store.site_id().to_string(), version));
                }
                Ok(known.clone().unwrap_or_default())
            }
            Origins::Merged { batch, rows } => {
                let rows = rows.get_or_insert_with(|| merged_rows(batch));
                let wanted = (
                    table.to_ascii_lowercase(),
                    key.iter().map(KeyValue::from).collect::<Vec<_>>(),
                );
                if let Some(found) = rows.get(&wanted) {
                    return Ok(found.clone());
                }
                // The key was stored with another type than it travelled
                // in: the batch's last change set writing the table.
                Ok(batch
                    .iter()
                    .rev()
                    .filter_map(|item| match item {
                        Versions::Changed(set) => Some(set),
                        Versions::Cleared { .. } => None,
                    })
                    .find(|set| {
                        set.changes
                            .iter()
                            .any(|c| c.table.eq_ignore_ascii_case(table))
                    })
                    .map(|set| (set.site_id.to_string(), set.db_version))
                    .unwrap_or_default())
            }
        }
    }
}

fn merged_rows(batch: &[Versions]) -> RowOrigins {
    let mut rows = HashMap::new();
    for item in batch {
        let Versions::Changed(set) = item else {
            continue;
        };
        let site = set.site_id.to_string();
        for change in &set.changes {
            rows.insert(
                (
                    change.table.to_ascii_lowercase(),
                    change.pk.iter().map(KeyValue::from).collect(),
                ),
                (site.clone(), set.db_version),
            );
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixture {
        store: Store,
        capture: Arc<Capture>,
        seen: Arc<Mutex<Vec<Arc<Committed>>>>,
    }

    fn fixture(ddl: &str) -> Fixture {
        let mut store = Store::open(":memory:").expect("a store");
        let capture = Arc::new(Capture::default());
        capture.install(store.conn()).expect("capture");
        store.conn().execute_batch("BEGIN IMMEDIATE").unwrap();
        store.apply_ddl(ddl).expect("ddl");
        store.conn().execute_batch("COMMIT").unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        capture.add_consumer(Arc::new(move |committed: &Arc<Committed>| {
            sink.lock().unwrap().push(committed.clone());
        }));
        Fixture {
            store,
            capture,
            seen,
        }
    }

    impl Fixture {
        /// Runs `sql` as the writer's holder would, then lets go of it.
        fn run(&self, sql: &str) -> Vec<Vec<RowChange>> {
            let ran = self.store.conn().execute_batch(sql);
            if ran.is_err() && !self.store.conn().is_autocommit() {
                self.store.conn().execute_batch("ROLLBACK").unwrap();
            }
            self.capture.settle(&self.store, Origin::Local);
            self.take()
        }

        fn take(&self) -> Vec<Vec<RowChange>> {
            std::mem::take(&mut *self.seen.lock().unwrap())
                .iter()
                .map(|c| c.rows.clone())
                .collect()
        }

        fn site(&self) -> String {
            self.store.site_id().to_string()
        }
    }

    fn pairs(items: &[(&str, Value)]) -> Vec<(String, Value)> {
        items
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect()
    }

    fn text(s: &str) -> Value {
        Value::Text(s.to_owned())
    }

    fn change(
        op: RowOp,
        id: i64,
        columns: &[(&str, Value)],
        origin: &str,
        db_version: u64,
    ) -> RowChange {
        RowChange {
            table: "t".to_owned(),
            op,
            pk: pairs(&[("id", Value::Integer(id))]),
            columns: pairs(columns),
            origin: origin.to_owned(),
            db_version,
        }
    }

    const T: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER)";

    #[test]
    fn inserts_updates_and_deletes_in_commit_order() {
        let f = fixture(T);
        let _watch = f.capture.watch(&f.store, &["t".to_owned()]).unwrap();
        let site = f.site();
        assert_eq!(
            f.run("INSERT INTO t VALUES (1, 'x', 10), (2, 'y', 20)"),
            [vec![
                change(
                    RowOp::Insert,
                    1,
                    &[
                        ("id", Value::Integer(1)),
                        ("a", text("x")),
                        ("b", Value::Integer(10))
                    ],
                    &site,
                    2
                ),
                change(
                    RowOp::Insert,
                    2,
                    &[
                        ("id", Value::Integer(2)),
                        ("a", text("y")),
                        ("b", Value::Integer(20))
                    ],
                    &site,
                    2
                ),
            ]]
        );
        // Only columns whose value changed; a row left as it was is no change.
        assert_eq!(
            f.run("UPDATE t SET a = 'z', b = b WHERE id = 1; UPDATE t SET b = 20 WHERE id = 2"),
            [vec![change(
                RowOp::Update,
                1,
                &[("a", text("z"))],
                &site,
                3
            )]]
        );
        assert_eq!(
            f.run(
                "BEGIN; DELETE FROM t WHERE id = 2; UPDATE t SET b = 11 WHERE id = 1; \
                   UPDATE t SET b = 12 WHERE id = 1; COMMIT"
            ),
            [vec![
                change(RowOp::Delete, 2, &[], &site, 4),
                change(RowOp::Update, 1, &[("b", Value::Integer(12))], &site, 4),
            ]]
        );
    }

    #[test]
    fn rollbacks_and_savepoints_undo_what_they_cover() {
        let f = fixture(T);
        let _watch = f.capture.watch(&f.store, &["t".to_owned()]).unwrap();
        let site = f.site();
        assert!(
            f.run("BEGIN; INSERT INTO t VALUES (1, 'x', 1); ROLLBACK")
                .is_empty()
        );
        // A failed statement (the second row collides) leaves nothing.
        f.run("INSERT INTO t VALUES (5, 'x', 1)");
        assert!(
            f.run("INSERT INTO t VALUES (6, 'x', 1), (5, 'dup', 1)")
                .is_empty()
        );
        assert_eq!(
            f.run(
                "BEGIN; INSERT INTO t VALUES (1, 'a', 1); SAVEPOINT s; \
                   INSERT INTO t VALUES (2, 'b', 2); UPDATE t SET a = 'c' WHERE id = 1; \
                   ROLLBACK TO s; RELEASE s; INSERT INTO t VALUES (3, 'd', 3); COMMIT"
            ),
            [vec![
                change(
                    RowOp::Insert,
                    1,
                    &[
                        ("id", Value::Integer(1)),
                        ("a", text("a")),
                        ("b", Value::Integer(1))
                    ],
                    &site,
                    3
                ),
                change(
                    RowOp::Insert,
                    3,
                    &[
                        ("id", Value::Integer(3)),
                        ("a", text("d")),
                        ("b", Value::Integer(3))
                    ],
                    &site,
                    3
                ),
            ]]
        );
        // Inserted then deleted within the transaction: nothing happened.
        assert!(
            f.run("BEGIN; INSERT INTO t VALUES (9, 'a', 1); DELETE FROM t WHERE id = 9; COMMIT")
                .is_empty()
        );
    }

    #[test]
    fn a_key_update_is_a_delete_and_an_insert() {
        let f = fixture(T);
        let _watch = f.capture.watch(&f.store, &["t".to_owned()]).unwrap();
        let site = f.site();
        f.run("INSERT INTO t VALUES (1, 'x', 10)");
        assert_eq!(
            f.run("UPDATE t SET id = 7 WHERE id = 1"),
            [vec![
                change(RowOp::Delete, 1, &[], &site, 3),
                change(
                    RowOp::Insert,
                    7,
                    &[
                        ("id", Value::Integer(7)),
                        ("a", text("x")),
                        ("b", Value::Integer(10))
                    ],
                    &site,
                    3
                ),
            ]]
        );
        // Deleted and inserted again: an update of every column.
        assert_eq!(
            f.run("BEGIN; DELETE FROM t WHERE id = 7; INSERT INTO t VALUES (7, 'y', 10); COMMIT"),
            [vec![change(
                RowOp::Update,
                7,
                &[
                    ("id", Value::Integer(7)),
                    ("a", text("y")),
                    ("b", Value::Integer(10))
                ],
                &site,
                4
            )]]
        );
    }

    #[test]
    fn capture_stops_with_the_last_guard_and_follows_new_columns() {
        let mut f = fixture(T);
        let one = f.capture.watch(&f.store, &["t".to_owned()]).unwrap();
        let two = f.capture.watch(&f.store, &["t".to_owned()]).unwrap();
        drop(one);
        assert_eq!(f.run("INSERT INTO t VALUES (1, 'x', 10)").len(), 1);
        f.store.conn().execute_batch("BEGIN IMMEDIATE").unwrap();
        f.store
            .apply_ddl("ALTER TABLE t ADD COLUMN c TEXT")
            .expect("add a column");
        f.store.conn().execute_batch("COMMIT").unwrap();
        f.capture.settle(&f.store, Origin::Local);
        let site = f.site();
        assert_eq!(
            f.run("UPDATE t SET c = 'new' WHERE id = 1"),
            [vec![change(
                RowOp::Update,
                1,
                &[("c", text("new"))],
                &site,
                4
            )]]
        );
        // A column added in the transaction that writes it.
        f.store.conn().execute_batch("BEGIN IMMEDIATE").unwrap();
        f.store
            .apply_ddl("ALTER TABLE t ADD COLUMN d TEXT")
            .unwrap();
        f.store
            .conn()
            .execute_batch(
                "UPDATE t SET d = 'dd' WHERE id = 1; INSERT INTO t (id, d) VALUES (5, 'e'); COMMIT",
            )
            .unwrap();
        f.capture.settle(&f.store, Origin::Local);
        let null = Value::Null;
        assert_eq!(
            f.take(),
            [vec![
                change(RowOp::Update, 1, &[("d", text("dd"))], &site, 5),
                change(
                    RowOp::Insert,
                    5,
                    &[
                        ("id", Value::Integer(5)),
                        ("a", null.clone()),
                        ("b", null.clone()),
                        ("c", null),
                        ("d", text("e"))
                    ],
                    &site,
                    5
                ),
            ]]
        );
        drop(two);
        // The triggers go at the next settle; writes after it are not seen.
        assert_eq!(f.run("INSERT INTO t (id) VALUES (2)").len(), 1);
        assert!(f.run("INSERT INTO t (id) VALUES (3)").is_empty());
        let unknown = f.capture.watch(&f.store, &["T".to_owned()]).unwrap_err();
        assert_eq!(unknown.code, "42P01");
    }

    #[test]
    fn merged_rows_carry_their_origin() {
        let f = fixture(T);
        let mut other = Store::open(":memory:").expect("a store");
        other.conn().execute_batch("BEGIN IMMEDIATE").unwrap();
        other.apply_ddl(T).unwrap();
        other.conn().execute_batch("COMMIT").unwrap();
        other
            .conn()
            .execute_batch("INSERT INTO t VALUES (1, 'x', 10); INSERT INTO t VALUES (2, 'y', 20)")
            .unwrap();
        other
            .conn()
            .execute_batch("UPDATE t SET a = 'w' WHERE id = 1")
            .unwrap();
        let origin = other.site_id();
        let batch = other.changes(origin, 1..=4).unwrap();
        let _watch = f.capture.watch(&f.store, &["t".to_owned()]).unwrap();
        let mut store = f.store;
        store.merge(&batch).unwrap();
        f.capture.settle(&store, Origin::Merged(&batch));
        let rows: Vec<RowChange> = std::mem::take(&mut *f.seen.lock().unwrap())
            .iter()
            .flat_map(|c| c.rows.clone())
            .collect();
        let origin = origin.to_string();
        assert_eq!(
            rows,
            [
                change(
                    RowOp::Insert,
                    1,
                    &[
                        ("id", Value::Integer(1)),
                        ("a", text("w")),
                        ("b", Value::Integer(10))
                    ],
                    &origin,
                    4
                ),
                change(
                    RowOp::Insert,
                    2,
                    &[
                        ("id", Value::Integer(2)),
                        ("a", text("y")),
                        ("b", Value::Integer(20))
                    ],
                    &origin,
                    3
                ),
            ]
        );
    }
}
