//! `ALTER TABLE … ADD PRIMARY KEY` on a local table (one created without a
//! key). SQLite cannot add a key in place, so the table is rebuilt: a copy
//! declared with the key, the rows copied over, the old table dropped and
//! the copy renamed, its indexes created again. The script runs as DDL
//! ([`super::apply_ddl`]), which makes the table replicated, as every table
//! with a key is.
//!
//! The copy is declared from SQLite's own text of the table (the column
//! definitions as they were created), with the key appended and `WITHOUT
//! ROWID`, which makes every key column NOT NULL as PostgreSQL's primary
//! keys are.

use rusqlite::{Connection, OptionalExtension};

use super::Registry;
use super::shape;
use crate::SchemaError;

/// The name the rebuilt table has until the old one is gone.
const REBUILT: &str = "__patina_rekeyed";

/// The DDL that gives local `table` the primary key `key` (column names),
/// after checking that its rows can have it.
pub(crate) fn add_primary_key_sql(
    conn: &Connection,
    registry: &Registry,
    table: &str,
    key: &[String],
) -> Result<String, SchemaError> {
    let shape = shape::table(conn, table)?.ok_or_else(|| SchemaError::NoSuchTable {
        table: table.to_owned(),
    })?;
    let name = shape.name.clone();
    if registry.get(&name).is_some() || !shape.pk_columns().is_empty() {
        return Err(SchemaError::PrimaryKeyExists { table: name });
    }
    let key_columns = key
        .iter()
        .map(|k| {
            shape
                .column(k)
                .map(|c| quote(&c.name))
                .ok_or_else(|| SchemaError::Sqlite(format!("no such column: {k}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let keys = key_columns.join(", ");
    let printed = key_columns
        .iter()
        .map(|k| format!("CAST({k} AS TEXT)"))
        .collect::<Vec<_>>()
        .join(" || ', ' || ");
    let not_null = key_columns
        .iter()
        .map(|k| format!("{k} IS NOT NULL"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let duplicate: Option<String> = conn
        .query_row(
            &format!(
                "SELECT {printed} FROM {} WHERE {not_null} GROUP BY {keys} HAVING count(*) > 1 LIMIT 1",
                quote(&name)
            ),
            [],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(values) = duplicate {
        return Err(SchemaError::DuplicateKey {
            table: name,
            key: format!("({})=({values})", key.join(", ")),
        });
    }
    // PostgreSQL finds duplicates before NULLs (its unique index is
    // built before the columns are made NOT NULL).
    for (column, quoted) in key.iter().zip(&key_columns) {
        let nulls: bool = conn.query_row(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM {} WHERE {quoted} IS NULL)",
                quote(&name)
            ),
            [],
            |row| row.get(0),
        )?;
        if nulls {
            return Err(SchemaError::NullInKey {
                table: name,
                column: column.clone(),
            });
        }
    }
    let definition: String = conn.query_row(
        "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1",
        [&name],
        |row| row.get(0),
    )?;
    let rebuilt =
        rebuilt_definition(&definition, &keys).ok_or_else(|| SchemaError::CannotRebuild {
            table: name.clone(),
        })?;
    let indexes: Vec<String> = conn
        .prepare(
            "SELECT sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?1 \
             AND sql IS NOT NULL ORDER BY name",
        )?
        .query_map([&name], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let columns = shape
        .columns
        .iter()
        .filter(|c| !c.generated)
        .map(|c| quote(&c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let mut script = format!(
        "{rebuilt};\nINSERT INTO {REBUILT} ({columns}) SELECT {columns} FROM {table};\n\
         DROP TABLE {table};\nALTER TABLE {REBUILT} RENAME TO {table};\n",
        table = quote(&name)
    );
    for index in indexes {
        script.push_str(&index);
        script.push_str(";\n");
    }
    Ok(script)
}

/// `CREATE TABLE name (defs)` as `CREATE TABLE __patina_rekeyed (defs,
/// PRIMARY KEY (keys)) WITHOUT ROWID`, or `None` if the text is not of
/// that form (a table with options after its definitions).
fn rebuilt_definition(definition: &str, keys: &str) -> Option<String> {
    // The definitions open at the first `(` outside the (quoted) name.
    let mut quoted = false;
    let open = definition.char_indices().find_map(|(i, c)| match c {
        '"' => {
            quoted = !quoted;
            None
        }
        '(' if !quoted => Some(i),
        _ => None,
    })?;
    let close = definition.rfind(')')?;
    if close < open || !definition[close + 1..].trim().is_empty() {
        return None;
    }
    let head = &definition[..open];
    if !head
        .get(..12)
        .is_some_and(|h| h.eq_ignore_ascii_case("CREATE TABLE"))
    {
        return None;
    }
    Some(format!(
        "CREATE TABLE {REBUILT} ({}, PRIMARY KEY ({keys})) WITHOUT ROWID",
        &definition[open + 1..close]
    ))
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definition_gets_the_key() {
        assert_eq!(
            rebuilt_definition(
                "CREATE TABLE pgbench_branches (bid INTEGER NOT NULL, bbalance INTEGER)",
                "\"bid\""
            )
            .as_deref(),
            Some(
                "CREATE TABLE __patina_rekeyed (bid INTEGER NOT NULL, bbalance INTEGER, \
                 PRIMARY KEY (\"bid\")) WITHOUT ROWID"
            )
        );
        assert_eq!(
            rebuilt_definition("CREATE TABLE t (a INTEGER) STRICT", "\"a\""),
            None
        );
        assert_eq!(
            rebuilt_definition("CREATE TABLE \"a(b\" (a INTEGER)", "\"a\"").as_deref(),
            Some("CREATE TABLE __patina_rekeyed (a INTEGER, PRIMARY KEY (\"a\")) WITHOUT ROWID")
        );
    }
}
