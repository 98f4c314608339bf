//! The PostgreSQL type of every column of the user's tables, kept in
//! `__patina_pg_columns` beside the SQLite schema (SQLite only keeps a
//! declared type that decides storage: `INTEGER` serves `integer`,
//! `bigint` and `serial` alike) and written in the DDL's transaction.
//!
//! The table is replicated, like the schema it describes: a table created
//! on one node arrives on the others with its PostgreSQL types. It is keyed
//! by (table, column) so columns added concurrently on two nodes both
//! survive the merge; they order by position, then name.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, params};

use crate::translate::{Catalog, StatementKind, TranslatedDdl};
use crate::types::PgType;

pub(crate) const TABLE: &str = "__patina_pg_columns";

pub(crate) const CREATE: &str = "
    CREATE TABLE IF NOT EXISTS __patina_pg_columns (
        tbl TEXT NOT NULL, name TEXT NOT NULL, pos INTEGER NOT NULL DEFAULT 0,
        type TEXT NOT NULL DEFAULT '', PRIMARY KEY (tbl, name)) WITHOUT ROWID";

/// Whether the table is keyed by position, as earlier versions made it
/// (two nodes adding a column at once would both take the same position).
pub(crate) fn is_keyed_by_position(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM pragma_table_info('__patina_pg_columns') WHERE name = 'pos' AND pk > 0",
        [],
        |row| row.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

/// Rebuilds a table keyed by position under the current key.
pub(crate) const MIGRATE: &str = "
    ALTER TABLE __patina_pg_columns RENAME TO __patina_pg_columns_by_pos;
    CREATE TABLE __patina_pg_columns (
        tbl TEXT NOT NULL, name TEXT NOT NULL, pos INTEGER NOT NULL DEFAULT 0,
        type TEXT NOT NULL DEFAULT '', PRIMARY KEY (tbl, name)) WITHOUT ROWID;
    INSERT OR IGNORE INTO __patina_pg_columns (tbl, name, pos, type)
        SELECT tbl, name, pos, type FROM __patina_pg_columns_by_pos;
    DROP TABLE __patina_pg_columns_by_pos";

/// The user's tables, keyed by lower-cased name: their typed columns and
/// their primary keys.
#[derive(Debug, Default, Clone)]
pub(crate) struct Tables {
    columns: HashMap<String, Vec<(String, PgType)>>,
    keys: HashMap<String, Vec<String>>,
}

impl Tables {
    pub fn load(conn: &Connection) -> rusqlite::Result<Tables> {
        let mut tables: HashMap<String, Vec<(String, PgType)>> = HashMap::new();
        // Types may arrive from the cluster for a table this node has not
        // (a node-local table elsewhere, a table whose creation conflicted).
        let mut stmt = conn.prepare_cached(
            "SELECT tbl, name, type FROM __patina_pg_columns
             WHERE EXISTS (SELECT 1 FROM sqlite_schema
                           WHERE type = 'table' AND name = tbl COLLATE NOCASE)
             ORDER BY tbl, pos, name",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let (table, name, ty): (String, String, String) =
                (row.get(0)?, row.get(1)?, row.get(2)?);
            let ty = PgType::from_name(&ty).ok_or_else(|| {
                rusqlite::Error::InvalidColumnType(
                    2,
                    format!("{table}.{name}: {ty}"),
                    rusqlite::types::Type::Text,
                )
            })?;
            tables
                .entry(table.to_lowercase())
                .or_default()
                .push((name, ty));
        }
        let mut keys: HashMap<String, Vec<String>> = HashMap::new();
        let mut stmt = conn.prepare_cached(
            "SELECT t.tbl, k.name FROM (SELECT DISTINCT tbl FROM __patina_pg_columns) AS t,
                pragma_table_info(t.tbl) AS k WHERE k.pk > 0 ORDER BY t.tbl, k.pk",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let (table, name): (String, String) = (row.get(0)?, row.get(1)?);
            keys.entry(table.to_lowercase()).or_default().push(name);
        }
        Ok(Tables {
            columns: tables,
            keys,
        })
    }
}

impl Catalog for Tables {
    fn columns(&self, table: &str) -> Option<Vec<(String, PgType)>> {
        self.columns.get(&table.to_lowercase()).cloned()
    }

    fn primary_key(&self, table: &str) -> Vec<String> {
        self.keys
            .get(&table.to_lowercase())
            .cloned()
            .unwrap_or_default()
    }
}

/// The tables as one session sees them, who it is and its settings.
pub(crate) struct SessionCatalog<'a> {
    pub tables: &'a Tables,
    pub user: &'a str,
    pub pid: i32,
    /// The session's settings, keyed by lower-case name.
    pub settings: &'a BTreeMap<String, String>,
}

impl Catalog for SessionCatalog<'_> {
    fn columns(&self, table: &str) -> Option<Vec<(String, PgType)>> {
        self.tables.columns(table)
    }

    fn user(&self) -> String {
        self.user.to_owned()
    }

    fn backend_pid(&self) -> i32 {
        self.pid
    }

    fn setting(&self, name: &str) -> Option<String> {
        self.settings.get(name).cloned()
    }

    fn settings(&self) -> Vec<(String, String)> {
        self.settings
            .iter()
            .map(|(name, value)| {
                (
                    super::settings::canonical_name(name).to_owned(),
                    value.clone(),
                )
            })
            .collect()
    }

    fn primary_key(&self, table: &str) -> Vec<String> {
        self.tables.primary_key(table)
    }
}

/// Records what a DDL statement did to a table's columns, writing only
/// what changed (the table is replicated: rewriting unchanged rows would
/// send them to every node).
pub(crate) fn record(
    conn: &Connection,
    kind: StatementKind,
    ddl: &TranslatedDdl,
) -> rusqlite::Result<()> {
    let mut forget =
        conn.prepare_cached("DELETE FROM __patina_pg_columns WHERE tbl = ?1 COLLATE NOCASE")?;
    for old in ddl.renamed_from.iter().chain(&ddl.more_dropped) {
        forget.execute([old])?;
    }
    if kind == StatementKind::DropTable {
        forget.execute([&ddl.table])?;
        return Ok(());
    }
    // Only columns SQLite no longer has are forgotten: the statement was
    // translated before this session took the writer, and a column that
    // arrived from the cluster meanwhile is not in `ddl.columns`.
    conn.prepare_cached(
        "DELETE FROM __patina_pg_columns WHERE tbl = ?1 COLLATE NOCASE
         AND (tbl <> ?1 OR name NOT IN (SELECT name FROM pragma_table_info(?1)))",
    )?
    .execute([&ddl.table])?;
    let mut upsert = conn.prepare_cached(
        "INSERT INTO __patina_pg_columns (tbl, name, pos, type) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (tbl, name) DO UPDATE SET pos = excluded.pos, type = excluded.type
         WHERE pos IS NOT excluded.pos OR type IS NOT excluded.type",
    )?;
    for (pos, (name, ty)) in ddl.columns.iter().enumerate() {
        upsert.execute(params![ddl.table, name, pos as i64, ty.to_string()])?;
    }
    Ok(())
}
