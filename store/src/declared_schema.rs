//! The schema as replicated state. Every replicated table's definition —
//! its `CREATE TABLE`, each column's definition, each index — is kept as
//! rows of the replicated table `__patina_schema`, written in the
//! transaction of the DDL that made it (so the schema travels in the same
//! version as the change, before the rows that need it). A node that merges
//! such rows brings its own tables up to them: missing tables are created,
//! missing columns and indexes added, dropped indexes dropped.
//!
//! The rows merge like any other (last writer wins per cell), and since a
//! replicated table only ever grows (dropping tables or columns is refused),
//! the union of what every node declared is what every node converges to,
//! whatever order the changes arrive in. Two nodes that concurrently create
//! the same table with different primary keys end with the key of the
//! winning `CREATE TABLE` row: a node whose table has another key rebuilds
//! it (`schema::rebuild`), and until it has, changes written under the
//! other key are refused (`keys`), never applied to the wrong columns.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{Connection, OptionalExtension, params};

use crate::SchemaError;
use crate::schema::{self, Registry, is_internal};
use crate::sql::ident;

/// The replicated table holding the schema.
pub(crate) const TABLE: &str = "__patina_schema";

/// Kept separate from the other bookkeeping: it is replicated, so its shape
/// must stay the same on every node.
pub(crate) const CREATE: &str = "CREATE TABLE IF NOT EXISTS __patina_schema (
    tbl TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
    definition TEXT NOT NULL DEFAULT '', PRIMARY KEY (tbl, kind, name)) WITHOUT ROWID";

/// One schema object of a table, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// The table's `CREATE TABLE` (name '').
    Table,
    /// A column's definition, as `ALTER TABLE … ADD COLUMN` takes it.
    Column,
    /// An index's `CREATE INDEX`.
    Index,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Table => "table",
            Kind::Column => "column",
            Kind::Index => "index",
        }
    }

    fn parse(text: &str) -> Option<Kind> {
        match text {
            "table" => Some(Kind::Table),
            "column" => Some(Kind::Column),
            "index" => Some(Kind::Index),
            _ => None,
        }
    }
}

/// A table's objects: (kind, name) → definition.
type Objects = BTreeMap<(Kind, String), String>;

/// Creates the table and makes it replicated (once per database).
pub(crate) fn install(conn: &Connection, registry: &mut Registry) -> Result<(), SchemaError> {
    conn.execute_batch(CREATE)?;
    schema::make_internal_crr(conn, registry, TABLE)
}

/// Records the current definition of every replicated user table, writing
/// only what differs from what is recorded (so an unchanged schema writes
/// nothing and makes no version).
pub(crate) fn record(conn: &Connection, registry: &Registry) -> rusqlite::Result<()> {
    for table in registry.tables().filter(|t| !is_internal(&t.name)) {
        let current = current_objects(conn, &table.name)?;
        let recorded = recorded_objects(conn, &table.name)?;
        for ((kind, name), definition) in &current {
            if recorded.get(&(*kind, name.clone())) != Some(definition) {
                conn.prepare_cached(
                    "INSERT INTO __patina_schema (tbl, kind, name, definition)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT DO UPDATE SET definition = excluded.definition",
                )?
                .execute(params![table.name, kind.as_str(), name, definition])?;
            }
        }
        // Only indexes disappear (dropping columns or tables is refused).
        for (kind, name) in recorded.keys() {
            if *kind == Kind::Index && !current.contains_key(&(*kind, name.clone())) {
                conn.prepare_cached(
                    "DELETE FROM __patina_schema WHERE tbl = ?1 AND kind = 'index' AND name = ?2",
                )?
                .execute(params![table.name, name])?;
            }
        }
    }
    Ok(())
}

/// Brings the local tables up to the recorded schema; true if anything
/// changed. An object that cannot be created here (a local table of the
/// same name, an index name taken by another table) is logged and left
/// out: the rest still applies, and changes to that table stay refused
/// until an operator resolves the conflict.
pub(crate) fn reconcile(conn: &Connection, registry: &mut Registry) -> Result<bool, SchemaError> {
    let mut changed = false;
    for (table, objects) in all_recorded(conn)? {
        // An empty definition has not arrived yet: a later version rewrote
        // it (`ALTER TABLE` records the table's new `CREATE`), and a node
        // merging the earlier version first holds the row without it.
        let Some(create) = objects
            .get(&(Kind::Table, String::new()))
            .filter(|create| !create.is_empty())
        else {
            continue;
        };
        if registry.get(&table).is_none() {
            if table_exists(conn, &table)? {
                tracing::warn!(
                    %table,
                    "a replicated table of this name was created elsewhere, but this node \
                     has a local table of the same name: its changes stay refused here"
                );
                continue;
            }
            if !apply(conn, registry, &table, create)? {
                continue;
            }
            changed = true;
        }
        let mut current = current_objects(conn, &table)?;
        if current.get(&(Kind::Table, String::new())) != Some(create)
            && adopt_key(conn, registry, &table, create)
        {
            changed = true;
            current = current_objects(conn, &table)?;
        }
        for ((kind, name), definition) in &objects {
            let present = current.contains_key(&(*kind, name.clone()));
            let ddl = match kind {
                Kind::Table => continue,
                _ if definition.is_empty() => continue,
                Kind::Column if !present => {
                    // Only key columns are NOT NULL without a DEFAULT: this
                    // one is of a definition whose key lost, and the rows of
                    // the winning key may lack it.
                    let definition = definition.strip_suffix(" NOT NULL").unwrap_or(definition);
                    format!("ALTER TABLE {} ADD COLUMN {definition}", ident(&table))
                }
                Kind::Index if !present => definition.clone(),
                Kind::Column | Kind::Index => continue,
            };
            changed |= apply(conn, registry, &table, &ddl)?;
        }
        for (kind, name) in current.keys() {
            if *kind == Kind::Index && !objects.contains_key(&(*kind, name.clone())) {
                let ddl = format!("DROP INDEX {}", ident(name));
                changed |= apply(conn, registry, &table, &ddl)?;
            }
        }
    }
    Ok(changed)
}

/// Rebuilds `table` if the recorded `create` keys it differently; a
/// failure is logged (its changes stay refused here until resolved).
fn adopt_key(conn: &Connection, registry: &mut Registry, table: &str, create: &str) -> bool {
    schema::adopt_key(conn, registry, table, create).unwrap_or_else(|error| {
        tracing::warn!(%table, %error, "cannot rebuild the table under the cluster's primary key");
        false
    })
}

/// Runs one statement of the recorded schema; a refusal is logged (the
/// merge goes on), an index on a column that has not arrived yet waits
/// for it (the column's arrival reconciles again), a failure of SQLite
/// itself is returned.
fn apply(
    conn: &Connection,
    registry: &mut Registry,
    table: &str,
    ddl: &str,
) -> Result<bool, SchemaError> {
    match schema::apply_ddl(conn, registry, ddl) {
        Ok(_) => {
            tracing::info!(%table, %ddl, "applied a schema change from the cluster");
            Ok(true)
        }
        Err(SchemaError::Sqlite(message)) if message.contains("no such column") => {
            tracing::debug!(%table, %ddl, %message, "a schema change waits for its column");
            Ok(false)
        }
        Err(SchemaError::Sqlite(message)) if !is_conflict(&message) => {
            Err(SchemaError::Sqlite(message))
        }
        Err(error) => {
            tracing::warn!(%table, %ddl, %error, "cannot apply a schema change from the cluster");
            Ok(false)
        }
    }
}

/// SQLite's refusals of a statement that conflicts with a local object.
fn is_conflict(message: &str) -> bool {
    message.contains("already exists") || message.contains("duplicate column")
}

fn table_exists(conn: &Connection, table: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
    )?
    .query_row([table], |_| Ok(()))
    .optional()
    .map(|found| found.is_some())
}

/// What SQLite says the table is now.
fn current_objects(conn: &Connection, table: &str) -> rusqlite::Result<Objects> {
    let mut objects = Objects::new();
    let create: Option<String> = conn
        .prepare_cached(
            "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
        )?
        .query_row([table], |row| row.get(0))
        .optional()?;
    let Some(create) = create else {
        return Ok(objects);
    };
    objects.insert((Kind::Table, String::new()), create);
    let mut columns = conn.prepare_cached(
        "SELECT name, type, \"notnull\", dflt_value FROM pragma_table_xinfo(?1)
         WHERE hidden = 0 ORDER BY cid",
    )?;
    let mut rows = columns.query([table])?;
    while let Some(row) = rows.next()? {
        let name: String = row.get(0)?;
        let decl: String = row.get(1)?;
        let not_null: bool = row.get(2)?;
        let default: Option<String> = row.get(3)?;
        objects.insert(
            (Kind::Column, name.clone()),
            column_definition(&name, &decl, not_null, default.as_deref()),
        );
    }
    let mut indexes = conn.prepare_cached(
        "SELECT name, sql FROM sqlite_schema
         WHERE type = 'index' AND tbl_name = ?1 COLLATE NOCASE AND sql IS NOT NULL",
    )?;
    let mut rows = indexes.query([table])?;
    while let Some(row) = rows.next()? {
        objects.insert((Kind::Index, row.get(0)?), row.get(1)?);
    }
    Ok(objects)
}

/// A column as `ADD COLUMN` declares it.
fn column_definition(name: &str, decl: &str, not_null: bool, default: Option<&str>) -> String {
    let mut definition = ident(name);
    if !decl.is_empty() {
        definition.push(' ');
        definition.push_str(decl);
    }
    if not_null {
        definition.push_str(" NOT NULL");
    }
    if let Some(default) = default {
        definition.push_str(" DEFAULT ");
        definition.push_str(default);
    }
    definition
}

fn recorded_objects(conn: &Connection, table: &str) -> rusqlite::Result<Objects> {
    let mut objects = Objects::new();
    let mut stmt = conn.prepare_cached(
        "SELECT kind, name, definition FROM __patina_schema WHERE tbl = ?1 COLLATE NOCASE",
    )?;
    let mut rows = stmt.query([table])?;
    while let Some(row) = rows.next()? {
        if let Some(kind) = Kind::parse(&row.get::<_, String>(0)?) {
            objects.insert((kind, row.get(1)?), row.get(2)?);
        }
    }
    Ok(objects)
}

/// Every recorded table's objects, by the table's recorded name (tables
/// whose names differ only in case are one table, as in SQLite).
fn all_recorded(conn: &Connection) -> rusqlite::Result<BTreeMap<String, Objects>> {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut stmt = conn.prepare_cached("SELECT DISTINCT tbl FROM __patina_schema ORDER BY tbl")?;
    let tables: BTreeSet<String> = stmt
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for table in tables {
        names.entry(table.to_lowercase()).or_insert(table);
    }
    names
        .into_values()
        .map(|table| Ok((table.clone(), recorded_objects(conn, &table)?)))
        .collect()
}
