//! The PostgreSQL type of every column of the user's tables, kept in
//! `__patina_pg_columns` beside the SQLite schema (SQLite only keeps a
//! declared type that decides storage: `INTEGER` serves `integer`,
//! `bigint` and `serial` alike) and written in the DDL's transaction.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, params};

use crate::translate::{Catalog, StatementKind, TranslatedDdl};
use crate::types::PgType;

pub(crate) const CREATE: &str = "CREATE TABLE IF NOT EXISTS __patina_pg_columns (
    tbl TEXT NOT NULL COLLATE NOCASE, pos INTEGER NOT NULL, name TEXT NOT NULL,
    type TEXT NOT NULL, PRIMARY KEY (tbl, pos)) WITHOUT ROWID";

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
        let mut stmt = conn
            .prepare_cached("SELECT tbl, name, type FROM __patina_pg_columns ORDER BY tbl, pos")?;
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

    fn primary_key(&self, table: &str) -> Vec<String> {
        self.tables.primary_key(table)
    }
}

/// Records what a DDL statement did to a table's columns.
pub(crate) fn record(
    conn: &Connection,
    kind: StatementKind,
    ddl: &TranslatedDdl,
) -> rusqlite::Result<()> {
    let mut forget = conn.prepare_cached("DELETE FROM __patina_pg_columns WHERE tbl = ?1")?;
    if let Some(old) = &ddl.renamed_from {
        forget.execute([old])?;
    }
    forget.execute([&ddl.table])?;
    if kind == StatementKind::DropTable {
        return Ok(());
    }
    let mut insert = conn.prepare_cached(
        "INSERT INTO __patina_pg_columns (tbl, pos, name, type) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (pos, (name, ty)) in ddl.columns.iter().enumerate() {
        insert.execute(params![ddl.table, pos as i64, name, ty.to_string()])?;
    }
    Ok(())
}
