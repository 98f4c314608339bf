//! Adopting the cluster's primary key. When two nodes concurrently create a
//! table with different keys, the recorded `CREATE TABLE` converges to one
//! winner (`declared_schema`); a node whose table has another key rebuilds
//! it under the winning definition: a copy declared as the winner declares
//! it (plus the columns only this node has), the rows that fit the new key
//! copied over, the old table and its clocks dropped, the copy renamed.
//!
//! Every kept row is then clocked afresh as one new local write, so it
//! travels to every node under the winning key; the table's entries in the
//! version log go (they name rows by the old key), so the versions that
//! wrote them now extract as cleared where nothing else holds them. Rows
//! that cannot have the new key (NULL in a new key column, or a duplicate
//! of a row kept before them in old key order) are dropped, with a warning
//! naming the table and the count.

use rusqlite::{Connection, params};

use super::{Registry, TableInfo, in_savepoint, shape, table_info};
use crate::SchemaError;
use crate::extract::VERSION_MARKER;
use crate::merge::local_version;
use crate::sql::{column_list, ident};

/// The name the rebuilt table has until the old one is gone.
const REBUILT: &str = "__patina_rebuilt";

/// Rebuilds replicated `table` under `definition` (a `CREATE TABLE` of the
/// same table) if that declares another primary key than the table has;
/// true if it did.
pub(crate) fn adopt_key(
    conn: &Connection,
    registry: &mut Registry,
    table: &str,
    definition: &str,
) -> Result<bool, SchemaError> {
    let Some(info) = registry.get(table) else {
        return Ok(false);
    };
    let create = renamed(definition, REBUILT).ok_or_else(|| SchemaError::CannotRebuild {
        table: table.to_owned(),
    })?;
    let rebuilt = in_savepoint(conn, || {
        conn.execute_batch(&create)?;
        let target = shape::table(conn, REBUILT)?.ok_or_else(|| SchemaError::NoSuchTable {
            table: REBUILT.to_owned(),
        })?;
        let key: Vec<String> = target.pk_columns().into_iter().map(|(c, _)| c).collect();
        if key.len() == info.pk.len()
            && key
                .iter()
                .zip(&info.pk)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
        {
            conn.execute_batch(&format!("DROP TABLE {}", ident(REBUILT)))?;
            return Ok(None);
        }
        rebuild(conn, info, &target, &key).map(Some)
    })?;
    let Some((kept, dropped)) = rebuilt else {
        return Ok(false);
    };
    *registry = Registry::load(conn)?;
    if dropped > 0 {
        tracing::warn!(
            %table,
            dropped,
            "rows that do not fit the cluster's primary key of the table were dropped"
        );
    }
    tracing::info!(%table, kept, "rebuilt the table under the cluster's primary key");
    Ok(true)
}

/// Moves the rows of `info`'s table into the freshly created [`REBUILT`]
/// (shaped `target`, keyed by `key`) and puts it in the table's place.
/// Returns the rows kept and dropped.
fn rebuild(
    conn: &Connection,
    info: &TableInfo,
    target: &shape::TableShape,
    key: &[String],
) -> Result<(u64, u64), SchemaError> {
    let name = ident(&info.name);
    let rebuilt = ident(REBUILT);
    let local = shape::table(conn, &info.name)?.ok_or_else(|| SchemaError::NoSuchTable {
        table: info.name.clone(),
    })?;
    let mut columns = Vec::new();
    for column in local.columns.iter().filter(|c| !c.generated) {
        match target.column(&column.name) {
            Some(theirs) if theirs.generated => continue,
            Some(_) => {}
            None => {
                // A column only this node has: kept, without a NOT NULL the
                // rows of other nodes could not meet.
                let mut definition = ident(&column.name);
                if !column.decl_type.is_empty() {
                    definition = format!("{definition} {}", column.decl_type);
                }
                if let Some(default) = &column.default {
                    if column.not_null {
                        definition.push_str(" NOT NULL");
                    }
                    definition = format!("{definition} DEFAULT {default}");
                }
                conn.execute_batch(&format!("ALTER TABLE {rebuilt} ADD COLUMN {definition}"))?;
            }
        }
        columns.push(column.name.clone());
    }
    let count = |table: &str| -> rusqlite::Result<u64> {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
            row.get::<_, i64>(0)
        })
        .map(|n| n as u64)
    };
    let before = count(&name)?;
    let fits = key
        .iter()
        .map(|k| format!("{} IS NOT NULL", ident(k)))
        .collect::<Vec<_>>()
        .join(" AND ");
    let columns = column_list("", &columns);
    // In old key order, so which of two duplicates stays does not depend
    // on how SQLite happens to scan the table.
    conn.execute_batch(&format!(
        "INSERT OR IGNORE INTO {rebuilt} ({columns}) SELECT {columns} FROM {name} \
         WHERE {fits} ORDER BY {}",
        column_list("", &info.pk)
    ))?;
    let kept = count(&rebuilt)?;
    conn.execute_batch(&format!(
        "DROP TABLE {name}; DROP TABLE {}; ALTER TABLE {rebuilt} RENAME TO {name};",
        ident(&info.clock)
    ))?;
    // The table's log entries name rows by the old key. This node's last
    // version stays on record, whichever table it wrote.
    let top = local_version(conn)?;
    if top > 0 {
        conn.prepare_cached(
            "INSERT INTO __patina_log (site, dbv, tbl, pk, seq) VALUES (0, ?1, ?2, x'', 0) \
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![top as i64, VERSION_MARKER])?;
    }
    conn.execute("DELETE FROM __patina_log WHERE tbl = ?1", [info.id])?;
    let shape = shape::table(conn, &info.name)?.ok_or_else(|| SchemaError::NoSuchTable {
        table: info.name.clone(),
    })?;
    let fresh = table_info(info.id, &shape);
    fresh.create_clock(conn)?;
    fresh.create_triggers(conn)?;
    fresh.backfill(conn)?;
    Ok((kept, before - kept))
}

/// `CREATE TABLE name (…) options` as `CREATE TABLE new (…) options`, or
/// `None` if the text is not a `CREATE TABLE` with definitions.
fn renamed(definition: &str, new: &str) -> Option<String> {
    let head = definition.get(..12)?;
    if !head.eq_ignore_ascii_case("CREATE TABLE") {
        return None;
    }
    // The definitions open at the first `(` outside the (quoted) name.
    let mut closing = None;
    let open = definition
        .char_indices()
        .find_map(|(i, c)| match (closing, c) {
            (Some(end), c) if c == end => {
                closing = None;
                None
            }
            (Some(_), _) => None,
            (None, '"') => {
                closing = Some('"');
                None
            }
            (None, '`') => {
                closing = Some('`');
                None
            }
            (None, '[') => {
                closing = Some(']');
                None
            }
            (None, '(') => Some(i),
            _ => None,
        })?;
    Some(format!(
        "CREATE TABLE {} {}",
        ident(new),
        &definition[open..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definition_gets_the_new_name() {
        assert_eq!(
            renamed(
                "CREATE TABLE t (a INTEGER NOT NULL, PRIMARY KEY (a)) WITHOUT ROWID",
                "x"
            )
            .as_deref(),
            Some("CREATE TABLE \"x\" (a INTEGER NOT NULL, PRIMARY KEY (a)) WITHOUT ROWID")
        );
        assert_eq!(
            renamed("CREATE TABLE \"a(b\"(c TEXT)", "x").as_deref(),
            Some("CREATE TABLE \"x\" (c TEXT)")
        );
        assert_eq!(
            renamed("CREATE TABLE [a(b] (c)", "x").as_deref(),
            Some("CREATE TABLE \"x\" (c)")
        );
        assert_eq!(renamed("CREATE TABLE t AS SELECT 1", "x"), None);
        assert_eq!(renamed("CREATE VIEW v AS SELECT (1)", "x"), None);
    }
}
