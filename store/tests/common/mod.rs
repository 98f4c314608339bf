//! Helpers shared by the store's integration tests.
#![allow(dead_code)]

use patina_store::{Change, Store, Value, Versions};
use tempfile::TempDir;

/// A store in its own temporary directory (removed on drop).
pub struct TempStore {
    pub store: Store,
    pub dir: TempDir,
    /// The local version the schema of [`TempStore::with_schema`] made (the
    /// schema is replicated state: DDL makes a version).
    pub schema_version: u64,
}

impl TempStore {
    pub fn new() -> TempStore {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path().join("db.sqlite")).expect("open");
        TempStore {
            store,
            dir,
            schema_version: 0,
        }
    }

    pub fn with_schema(ddl: &str) -> TempStore {
        let mut s = TempStore::new();
        s.store.apply_ddl(ddl).expect("schema");
        s.schema_version = s.store.db_version().expect("db_version");
        s
    }

    /// How many local write transactions came after the schema.
    pub fn writes(&self) -> u64 {
        self.store.db_version().expect("db_version") - self.schema_version
    }

    /// The user-table changes of the `n`th local write after the schema.
    pub fn write_changes(&self, n: u64) -> Vec<Change> {
        self.local_changes(self.schema_version + n)
            .into_iter()
            .filter(|c| !c.table.starts_with("__patina"))
            .collect()
    }

    pub fn exec(&self, sql: &str) {
        self.store.conn().execute_batch(sql).expect(sql);
    }

    /// Every row of `table`, ordered by all columns, with storage classes.
    pub fn dump(&self, table: &str) -> Vec<Vec<Value>> {
        dump(self.store.conn(), table)
    }

    /// Everything this store knows, from every site.
    pub fn everything(&self) -> Vec<Versions> {
        let mut all = Vec::new();
        for (site, progress) in self.store.sync_state().expect("sync state") {
            all.extend(
                self.store
                    .changes(site, 1..=progress.max_version)
                    .expect("changes"),
            );
        }
        all
    }

    /// Changes of this node's own version `v`.
    pub fn local_changes(&self, v: u64) -> Vec<Change> {
        match self
            .store
            .changes(self.store.site_id(), v..=v)
            .expect("changes")
            .as_slice()
        {
            [Versions::Changed(set)] => set.changes.clone(),
            other => panic!("expected one change set for version {v}, got {other:?}"),
        }
    }
}

pub fn dump(conn: &rusqlite::Connection, table: &str) -> Vec<Vec<Value>> {
    let stmt = conn
        .prepare(&format!("SELECT * FROM \"{table}\""))
        .expect("prepare dump");
    let n = stmt.column_count();
    let order = (1..=n)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    drop(stmt);
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY {order}"))
        .expect("prepare dump");
    stmt.query_map([], |row| (0..n).map(|i| row.get::<_, Value>(i)).collect())
        .expect("dump")
        .collect::<rusqlite::Result<_>>()
        .expect("dump rows")
}

/// A column as SQLite reports it: name, declared type, default, key position.
pub type ColumnInfo = (String, String, Option<String>, i64);

/// What SQLite says a table looks like: its columns with their declared
/// types, defaults and keys, and its indexes (each by name, as concurrent
/// additions may land in different orders).
pub fn shape(s: &TempStore, table: &str) -> (Vec<ColumnInfo>, Vec<String>) {
    let conn = s.store.conn();
    let columns = conn
        .prepare("SELECT name, type, dflt_value, pk FROM pragma_table_info(?1) ORDER BY name")
        .and_then(|mut stmt| {
            stmt.query_map([table], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect()
        })
        .expect("table info");
    let indexes = conn
        .prepare("SELECT name FROM pragma_index_list(?1) WHERE origin = 'c' ORDER BY name")
        .and_then(|mut stmt| stmt.query_map([table], |r| r.get(0))?.collect())
        .expect("index list");
    (columns, indexes)
}

pub fn int(i: i64) -> Value {
    Value::Integer(i)
}

pub fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}
