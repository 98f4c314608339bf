//! The TEMP triggers that record a watched table's row events, and their
//! event tables.

use super::*;

/// Installs, rebuilds and removes triggers so the installed set is the
/// wanted one, in the current shapes.
pub(super) fn sync(state: &mut State, conn: &Connection) -> rusqlite::Result<()> {
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

pub(super) fn schema_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA main.schema_version", [], |row| row.get(0))
}

/// A table's shape, `None` if it does not exist.
pub(super) fn read_shape(conn: &Connection, table: &str) -> rusqlite::Result<Option<Shape>> {
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

pub(super) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The TEMP table holding a watched table's events.
pub(super) fn events_table(table: &str) -> String {
    quote(&format!("__patina_rows_{table}"))
}

pub(super) fn trigger(table: &str, op: &str) -> String {
    quote(&format!("__patina_rows_{op}_{table}"))
}

pub(super) fn uninstall_sql(table: &str) -> String {
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
pub(super) const INSERTED: i64 = 0;
pub(super) const UPDATED: i64 = 1;
pub(super) const DELETED: i64 = 2;

pub(super) fn install_sql(table: &str, shape: &Shape) -> String {
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
pub(super) fn clear(conn: &Connection, installed: &HashMap<String, Shape>) -> rusqlite::Result<()> {
    for table in installed.keys() {
        conn.prepare_cached(&format!("DELETE FROM temp.{}", events_table(table)))?
            .execute([])?;
    }
    Ok(())
}
