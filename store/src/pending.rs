//! Versions kept until their schema arrives. A version whose changes name
//! a table or column this node does not have yet (its `CREATE TABLE` or
//! `ADD COLUMN` is in another site's version, still on its way) is kept in
//! `__patina_pending`, not applied and not recorded as applied, and merged
//! as soon as the schema changes in a way that lets it: by a merge or by
//! local DDL (a schema file reloaded). Never dropped, never applied to a
//! table that lacks its columns.
//!
//! Only other sites' versions are kept: a node's own versions coming back
//! (after a restore) must be applied in order, so they are refused as
//! before and fetched again. The table `__patina_pending` (site id,
//! db_version, the change set in postcard) is made with the bookkeeping.

use rusqlite::{Connection, OptionalExtension, params};

use crate::schema::{Registry, TableInfo};
use crate::{Change, ChangeSet, MergeError};

/// Why `data` cannot be applied here yet: the first table or column of
/// it that this node does not have.
pub(crate) fn missing(registry: &Registry, data: &[&Change]) -> Option<MergeError> {
    // Changes come table by table: the last lookup usually answers.
    let mut last: Option<(&str, &TableInfo)> = None;
    for change in data {
        let table = match last {
            Some((name, table)) if name == change.table => table,
            _ => {
                let Some(table) = registry.get(&change.table) else {
                    return Some(MergeError::UnknownTable {
                        table: change.table.clone(),
                    });
                };
                last = Some((&change.table, table));
                table
            }
        };
        if let Some(column) = &change.column
            && table.column_index(column).is_none()
        {
            return Some(MergeError::UnknownColumn {
                table: table.name.clone(),
                column: column.clone(),
            });
        }
    }
    None
}

/// Keeps `set` until its schema arrives.
pub(crate) fn keep(conn: &Connection, set: &ChangeSet) -> Result<(), MergeError> {
    let body = postcard::to_stdvec(set).map_err(|error| MergeError::Malformed {
        table: String::new(),
        reason: format!("cannot keep a version: {error}"),
    })?;
    conn.prepare_cached(
        "INSERT INTO __patina_pending (site, dbv, body) VALUES (?1, ?2, ?3) \
         ON CONFLICT DO UPDATE SET body = excluded.body",
    )?
    .execute(params![
        set.site_id.as_bytes().as_slice(),
        set.db_version as i64,
        body
    ])?;
    Ok(())
}

/// Whether any version is kept.
pub(crate) fn any(conn: &Connection) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM __patina_pending LIMIT 1")?
        .query_row([], |_| Ok(()))
        .optional()
        .map(|found| found.is_some())
}

/// Every kept version, by site and version.
pub(crate) fn all(conn: &Connection) -> Result<Vec<ChangeSet>, MergeError> {
    let bodies: Vec<Vec<u8>> = conn
        .prepare_cached("SELECT body FROM __patina_pending ORDER BY site, dbv")?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    bodies
        .iter()
        .map(|body| {
            postcard::from_bytes(body).map_err(|error| MergeError::Malformed {
                table: String::new(),
                reason: format!("a kept version does not decode: {error}"),
            })
        })
        .collect()
}

/// Forgets a kept version (applied now, or applied from another copy).
pub(crate) fn forget(conn: &Connection, set: &ChangeSet) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM __patina_pending WHERE site = ?1 AND dbv = ?2")?
        .execute(params![
            set.site_id.as_bytes().as_slice(),
            set.db_version as i64
        ])?;
    Ok(())
}
