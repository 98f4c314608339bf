//! The shape of the user tables as SQLite reports it (`pragma_table_list`,
//! `pragma_table_xinfo`, `pragma_index_list`, `pragma_foreign_key_list`), so
//! schema changes can be judged by comparing two snapshots, whatever DDL
//! produced them.

use std::collections::BTreeMap;

use rusqlite::Connection;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ColumnShape {
    pub name: String,
    pub decl_type: String,
    pub not_null: bool,
    pub default: Option<String>,
    /// 1-based position in the primary key, 0 when not part of it.
    pub pk: u32,
    /// Generated columns hold no written data and are not replicated.
    pub generated: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndexShape {
    pub name: String,
    pub unique: bool,
    /// Created for the PRIMARY KEY constraint.
    pub for_primary_key: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TableShape {
    pub name: String,
    pub without_rowid: bool,
    pub columns: Vec<ColumnShape>,
    pub indexes: Vec<IndexShape>,
    pub has_foreign_keys: bool,
}

impl TableShape {
    /// Primary key columns with their declared types, in key order.
    pub fn pk_columns(&self) -> Vec<(String, String)> {
        let mut pk: Vec<&ColumnShape> = self.columns.iter().filter(|c| c.pk > 0).collect();
        pk.sort_by_key(|c| c.pk);
        pk.into_iter()
            .map(|c| (c.name.clone(), c.decl_type.clone()))
            .collect()
    }

    /// Replicated columns outside the key, in table order.
    pub fn value_columns(&self) -> Vec<String> {
        self.columns
            .iter()
            .filter(|c| c.pk == 0 && !c.generated)
            .map(|c| c.name.clone())
            .collect()
    }

    pub fn column(&self, name: &str) -> Option<&ColumnShape> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// Whether a table name belongs to SQLite or to patina rather than the user.
pub(crate) fn is_internal(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("sqlite_") || lower.starts_with("__patina")
}

/// All tables of the main schema but SQLite's own, keyed by lower-cased name.
pub(crate) fn snapshot(conn: &Connection) -> rusqlite::Result<BTreeMap<String, TableShape>> {
    let mut tables = BTreeMap::new();
    let mut list = conn.prepare_cached(
        "SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table'",
    )?;
    let names = list
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, bool>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (name, without_rowid) in names {
        if name.to_ascii_lowercase().starts_with("sqlite_") {
            continue;
        }
        let shape = table_shape(conn, &name, without_rowid)?;
        tables.insert(name.to_ascii_lowercase(), shape);
    }
    Ok(tables)
}

/// The shape of one table, or `None` if it does not exist.
pub(crate) fn table(conn: &Connection, name: &str) -> rusqlite::Result<Option<TableShape>> {
    let found: Option<(String, bool)> = conn
        .prepare_cached(
            "SELECT name, wr FROM pragma_table_list \
             WHERE schema = 'main' AND type = 'table' AND name = ?1 COLLATE NOCASE",
        )?
        .query_map([name], |row| Ok((row.get(0)?, row.get(1)?)))?
        .next()
        .transpose()?;
    found
        .map(|(name, without_rowid)| table_shape(conn, &name, without_rowid))
        .transpose()
}

fn table_shape(conn: &Connection, name: &str, without_rowid: bool) -> rusqlite::Result<TableShape> {
    let columns = conn
        .prepare_cached(
            "SELECT name, type, \"notnull\", dflt_value, pk, hidden \
             FROM pragma_table_xinfo(?1) ORDER BY cid",
        )?
        .query_map([name], |row| {
            let hidden: i64 = row.get(5)?;
            Ok(ColumnShape {
                name: row.get(0)?,
                decl_type: row.get(1)?,
                not_null: row.get(2)?,
                default: row.get(3)?,
                pk: row.get(4)?,
                generated: hidden == 2 || hidden == 3,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let indexes = conn
        .prepare_cached("SELECT name, \"unique\", origin FROM pragma_index_list(?1) ORDER BY name")?
        .query_map([name], |row| {
            Ok(IndexShape {
                name: row.get(0)?,
                unique: row.get(1)?,
                for_primary_key: row.get::<_, String>(2)? == "pk",
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let has_foreign_keys = conn
        .prepare_cached("SELECT count(*) FROM pragma_foreign_key_list(?1)")?
        .query_row([name], |row| row.get::<_, i64>(0))?
        > 0;
    Ok(TableShape {
        name: name.to_owned(),
        without_rowid,
        columns,
        indexes,
        has_foreign_keys,
    })
}
