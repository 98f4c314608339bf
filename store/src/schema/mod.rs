//! Replicated tables (CRRs): which tables are replicated, turning a table
//! into one, and schema changes on live ones.
//!
//! A schema change runs in a savepoint; SQLite reports the table shapes
//! before and after (so any DDL SQLite accepts is judged by its effect, with
//! no SQL parsing here); [`rules`] decides whether the change is safe; then
//! new tables get clocks and triggers and altered ones get new triggers. A
//! refusal rolls the savepoint back: nothing changes.
//!
//! Replicated tables must have a primary key, may not have NOT NULL columns
//! without a DEFAULT outside the key, and may not have UNIQUE indexes outside
//! the key or FOREIGN KEYs: replicas accept writes independently, so such
//! constraints could be violated by a merge that no single node could
//! refuse. Those are refused rather than silently weakened.
//!
//! A table created without a primary key stays local: it lives on this node
//! only and is not replicated (its rows have no identity to merge by).
//! `rekey` gives one a key (`ALTER TABLE … ADD PRIMARY KEY`), which makes it
//! replicated. `rebuild` gives a replicated table the cluster's key when
//! two nodes created it with different ones.

mod crr;
mod rebuild;
mod rekey;
mod rules;
mod shape;

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;

pub(crate) use crr::{TableInfo, clocks_update, life_writer_update, row_upsert, values_update};
pub(crate) use rebuild::adopt_key;
pub(crate) use rekey::add_primary_key_sql;
pub use rules::SchemaChange;
pub(crate) use shape::is_internal;

use crate::SchemaError;
use crate::sql::ident;

/// The replicated tables, keyed by lower-cased name.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    tables: BTreeMap<String, TableInfo>,
    names_by_id: BTreeMap<i64, String>,
}

impl Registry {
    pub fn load(conn: &Connection) -> rusqlite::Result<Registry> {
        let rows = conn
            .prepare_cached("SELECT id, name FROM __patina_crrs ORDER BY id")?
            .query_map([], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut registry = Registry::default();
        for (id, name) in rows {
            let shape = shape::table(conn, &name)?.ok_or_else(|| {
                rusqlite::Error::InvalidParameterName(format!("replicated table {name} is missing"))
            })?;
            let key = name.to_ascii_lowercase();
            registry.names_by_id.insert(id, key.clone());
            registry.tables.insert(key, table_info(id, &shape));
        }
        Ok(registry)
    }

    pub fn get(&self, name: &str) -> Option<&TableInfo> {
        self.tables.get(&name.to_ascii_lowercase())
    }

    pub fn by_id(&self, id: i64) -> Option<&TableInfo> {
        self.names_by_id
            .get(&id)
            .and_then(|name| self.tables.get(name))
    }

    pub fn tables(&self) -> impl Iterator<Item = &TableInfo> {
        self.tables.values()
    }

    fn keys(&self) -> BTreeSet<String> {
        self.tables.keys().cloned().collect()
    }
}

/// Runs `body` in a savepoint, releasing it on success and rolling it back
/// on any error.
pub(crate) fn in_savepoint<T>(
    conn: &Connection,
    body: impl FnOnce() -> Result<T, SchemaError>,
) -> Result<T, SchemaError> {
    conn.execute_batch("SAVEPOINT __patina_schema")?;
    match body() {
        Ok(value) => {
            conn.execute_batch("RELEASE __patina_schema")?;
            Ok(value)
        }
        Err(error) => {
            conn.execute_batch("ROLLBACK TO __patina_schema; RELEASE __patina_schema")?;
            Err(error)
        }
    }
}

fn table_info(id: i64, shape: &shape::TableShape) -> TableInfo {
    TableInfo::new(
        id,
        shape.name.clone(),
        shape.pk_columns(),
        shape.value_columns(),
    )
}

fn make_replicated(conn: &Connection, shape: &shape::TableShape) -> Result<(), SchemaError> {
    rules::check_replicable(shape)?;
    register(conn, shape)
}

/// Gives a table its clock and triggers and clocks the rows it holds.
fn register(conn: &Connection, shape: &shape::TableShape) -> Result<(), SchemaError> {
    let id: i64 = conn.query_row(
        "INSERT INTO __patina_crrs (name) VALUES (?1) RETURNING id",
        [&shape.name],
        |row| row.get(0),
    )?;
    let info = table_info(id, shape);
    info.create_clock(conn)?;
    info.create_triggers(conn)?;
    info.backfill(conn)?;
    Ok(())
}

/// Runs DDL and keeps the replicated tables consistent with it: new tables
/// become replicated, new columns are captured; unsafe changes are refused.
pub(crate) fn apply_ddl(
    conn: &Connection,
    registry: &mut Registry,
    sql: &str,
) -> Result<SchemaChange, SchemaError> {
    let plan = in_savepoint(conn, || {
        let before = shape::snapshot(conn)?;
        // Patina's triggers name every column: out of the way, SQLite lets the
        // DDL through and the comparison below explains what it would break.
        // Only the tables the DDL names can change (a trigger of one table
        // names no other user table), so only theirs are rebuilt: the work
        // stays the same however many tables the database holds.
        let touched: Vec<&TableInfo> = registry
            .tables()
            .filter(|table| names_table(sql, &table.name))
            .collect();
        for table in &touched {
            table.drop_triggers(conn)?;
        }
        let set_aside = set_aside_temp_triggers(conn, sql)?;
        conn.execute_batch(sql)?;
        let after = shape::snapshot(conn)?;
        let plan = rules::plan_change(&before, &after, &registry.keys())?;
        for table in &touched {
            let info = table_info(table.id, &after[&table.name.to_ascii_lowercase()]);
            info.add_clock_columns(conn)?;
            info.create_triggers(conn)?;
        }
        for create in &set_aside {
            conn.execute_batch(create)?;
        }
        for name in &plan.new_tables {
            make_replicated(conn, &after[&name.to_ascii_lowercase()])?;
        }
        Ok(plan)
    })?;
    *registry = Registry::load(conn)?;
    Ok(plan)
}

/// Drops the TEMP triggers (a session's own, such as a change feed's
/// capture) of the tables `sql` names, returning their CREATE statements.
/// Like patina's own triggers they name columns, and SQLite would refuse
/// the DDL with an error about the trigger instead of letting the rules
/// judge it; after a change the rules accept, they are created again as
/// they were (their owner rebuilds them for the new shape).
fn set_aside_temp_triggers(conn: &Connection, sql: &str) -> rusqlite::Result<Vec<String>> {
    let triggers = conn
        .prepare("SELECT name, tbl_name, sql FROM sqlite_temp_master WHERE type = 'trigger'")?
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut creates = Vec::new();
    for (name, table, create) in triggers {
        if names_table(sql, &table) {
            conn.execute_batch(&format!("DROP TRIGGER temp.{}", ident(&name)))?;
            // SQLite keeps the statement without its TEMP
            creates.push(create.replacen("CREATE TRIGGER", "CREATE TEMP TRIGGER", 1));
        }
    }
    Ok(creates)
}

/// Whether `sql` names `table` (quoted or not, any case): as a word, or
/// for a name that is not one word, anywhere.
fn names_table(sql: &str, table: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    if !table.chars().all(is_word) {
        return sql.to_lowercase().contains(&table.to_lowercase());
    }
    sql.split(|c: char| !is_word(c))
        .any(|word| word.eq_ignore_ascii_case(table))
}

/// Makes one of patina's own tables (named `__patina…`, which the rules
/// keep away from users) replicated: metadata that travels like data.
pub(crate) fn make_internal_crr(
    conn: &Connection,
    registry: &mut Registry,
    table: &str,
) -> Result<(), SchemaError> {
    replicate_existing(conn, registry, table, register)
}

/// Makes an existing table replicated, clocking the rows it already holds.
pub(crate) fn make_crr(
    conn: &Connection,
    registry: &mut Registry,
    table: &str,
) -> Result<(), SchemaError> {
    replicate_existing(conn, registry, table, make_replicated)
}

/// Runs `make` on the existing, not yet replicated `table`, in a
/// savepoint.
fn replicate_existing(
    conn: &Connection,
    registry: &mut Registry,
    table: &str,
    make: fn(&Connection, &shape::TableShape) -> Result<(), SchemaError>,
) -> Result<(), SchemaError> {
    if registry.get(table).is_some() {
        return Ok(());
    }
    in_savepoint(conn, || {
        let shape = shape::table(conn, table)?.ok_or_else(|| SchemaError::NoSuchTable {
            table: table.to_owned(),
        })?;
        make(conn, &shape)
    })?;
    *registry = Registry::load(conn)?;
    Ok(())
}
