//! Merging remote changes, cell by cell, inside the caller's transaction
//! (capture is paused, so nothing merged becomes a local write).
//!
//! One cell: the higher causal length wins (a row deleted or re-created
//! later beats any value of an earlier life); within the same life the
//! higher col_version wins, then the higher value in [`Value::merge_cmp`]
//! order; equal values only move the clock to the higher site id so every
//! replica records the same writer. A change from a newer life of a row
//! first resets the row's column clocks, so the re-inserting side's whole
//! row wins.

use std::cmp::Ordering;

use rusqlite::{Connection, ToSql, params_from_iter};
use serde::{Deserialize, Serialize};

use crate::bookkeeping;
use crate::schema::{Registry, TableInfo};
use crate::sites::Sites;
use crate::{Change, MergeError, SiteId, Value, Versions};

/// What a merge did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeOutcome {
    /// Versions newly recorded as applied (cleared ones included).
    pub versions_applied: u64,
    /// Versions skipped because they were applied before.
    pub versions_skipped: u64,
    /// Cells (values or row lives) that changed.
    pub cells_changed: u64,
}

pub(crate) fn merge(
    conn: &Connection,
    registry: &Registry,
    sites: &mut Sites,
    batch: &[Versions],
) -> Result<MergeOutcome, MergeError> {
    let mut outcome = MergeOutcome::default();
    for item in batch {
        let versions = item.versions();
        if versions.is_empty() || *versions.start() == 0 {
            return Err(MergeError::Malformed {
                table: String::new(),
                reason: format!("invalid version range {versions:?}"),
            });
        }
        let site_id = item.site_id();
        let ord = sites.ordinal_or_insert(conn, site_id)?;
        let count = versions.end() - versions.start() + 1;
        let already = if ord == 0 {
            local_version(conn)? >= *versions.end()
        } else {
            matches!(item, Versions::Changed(_))
                && bookkeeping::is_applied(conn, ord, *versions.start())?
        };
        if already {
            outcome.versions_skipped += count;
            continue;
        }
        if let Versions::Changed(set) = item {
            let mut cell = Cell {
                conn,
                sites,
                ord,
                site_id,
                db_version: set.db_version,
            };
            for change in &set.changes {
                let table =
                    registry
                        .get(&change.table)
                        .ok_or_else(|| MergeError::UnknownTable {
                            table: change.table.clone(),
                        })?;
                if cell.apply(table, change)? {
                    outcome.cells_changed += 1;
                }
            }
        }
        if ord == 0 {
            // Our own versions coming back (this database was restored from an
            // older copy): take them, and never hand their numbers out again.
            conn.prepare_cached("UPDATE __patina_db_version SET v = max(v, ?1)")?
                .execute([*versions.end() as i64])?;
        } else {
            bookkeeping::mark_applied(conn, ord, versions)?;
        }
        outcome.versions_applied += count;
    }
    Ok(outcome)
}

fn local_version(conn: &Connection) -> rusqlite::Result<u64> {
    conn.prepare_cached("SELECT v FROM __patina_db_version")?
        .query_row([], |row| row.get::<_, i64>(0))
        .map(|v| v as u64)
}

/// The writer of one change set, applying its cells.
struct Cell<'a> {
    conn: &'a Connection,
    sites: &'a Sites,
    ord: i64,
    site_id: SiteId,
    db_version: u64,
}

/// A clock as stored: col_version (or causal length) and site ordinal.
#[derive(Clone, Copy)]
struct Clock {
    version: u64,
    site: i64,
}

impl Cell<'_> {
    /// Applies one change; true if the table or its row's life changed.
    fn apply(&mut self, table: &TableInfo, change: &Change) -> Result<bool, MergeError> {
        let malformed = |reason: &str| MergeError::Malformed {
            table: table.name.clone(),
            reason: reason.to_owned(),
        };
        if change.pk.len() != table.pk.len() {
            return Err(malformed("primary key has the wrong number of values"));
        }
        let cid = change.column.as_deref().unwrap_or("");
        if let Some(column) = &change.column
            && !table.has_column(column)
        {
            return Err(MergeError::UnknownColumn {
                table: table.name.clone(),
                column: column.clone(),
            });
        }
        let (life, column_clock) = self.clocks(table, &change.pk, cid)?;
        let life = life.map_or(0, |c| c.version);
        let cl = change.causal_length;
        if cl == 0 {
            return Err(malformed("causal length 0"));
        }

        let Some(column) = change.column.as_deref() else {
            if cl <= life {
                return Ok(false);
            }
            if cl.is_multiple_of(2) {
                self.run(&table.sql.row_delete, &change.pk, &[])?;
            } else {
                self.run(&table.sql.row_create, &change.pk, &[])?;
            }
            self.run(&table.sql.clock_drop_columns, &change.pk, &[])?;
            self.put_clock(table, change, "", cl)?;
            return Ok(true);
        };

        if cl.is_multiple_of(2) {
            return Err(malformed("a column change with an even causal length"));
        }
        if cl < life {
            return Ok(false);
        }
        if cl > life {
            // A newer life of the row: it exists now, and its clocks restart.
            self.run(&table.sql.row_create, &change.pk, &[])?;
            self.run(&table.sql.clock_drop_columns, &change.pk, &[])?;
            self.put_clock(table, change, "", cl)?;
        } else if let Some(local) = column_clock {
            match self.compare(table, column, change, local)? {
                Ordering::Less => return Ok(false),
                Ordering::Equal => {
                    // Same bytes: only the recorded writer may move, to the higher site.
                    if self
                        .sites
                        .id(local.site)
                        .is_some_and(|id| self.site_id > id)
                    {
                        self.put_clock(table, change, column, change.col_version)?;
                    }
                    return Ok(false);
                }
                Ordering::Greater => {}
            }
        }
        let set = table
            .sql
            .value_set(column)
            .ok_or_else(|| malformed("no such column"))?;
        self.run(set, &change.pk, &[&change.value])?;
        self.put_clock(table, change, column, change.col_version)?;
        Ok(true)
    }

    /// Remote against local in the same life: col_version, then value.
    fn compare(
        &self,
        table: &TableInfo,
        column: &str,
        change: &Change,
        local: Clock,
    ) -> Result<Ordering, MergeError> {
        let by_version = change.col_version.cmp(&local.version);
        if by_version != Ordering::Equal {
            return Ok(by_version);
        }
        let get = table
            .sql
            .value_get(column)
            .ok_or_else(|| MergeError::UnknownColumn {
                table: table.name.clone(),
                column: column.to_owned(),
            })?;
        let mut stmt = self.conn.prepare_cached(get)?;
        let current: Value = stmt
            .query_row(params_from_iter(change.pk.iter()), |row| row.get(0))
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(Value::Null),
                e => Err(e),
            })?;
        Ok(change.value.merge_cmp(&current))
    }

    /// The row's causal-length clock and the clock of `cid`, in one query.
    fn clocks(
        &self,
        table: &TableInfo,
        pk: &[Value],
        cid: &str,
    ) -> rusqlite::Result<(Option<Clock>, Option<Clock>)> {
        let mut stmt = self.conn.prepare_cached(&table.sql.clocks_of)?;
        let params = pk
            .iter()
            .map(|v| v as &dyn ToSql)
            .chain([&cid as &dyn ToSql]);
        let mut rows = stmt.query(params_from_iter(params))?;
        let (mut life, mut column) = (None, None);
        while let Some(row) = rows.next()? {
            let clock = Clock {
                version: row.get::<_, i64>(1)? as u64,
                site: row.get(2)?,
            };
            if row.get_ref(0)?.as_str()?.is_empty() {
                life = Some(clock);
            } else {
                column = Some(clock);
            }
        }
        Ok((life, column))
    }

    fn put_clock(
        &self,
        table: &TableInfo,
        change: &Change,
        cid: &str,
        version: u64,
    ) -> rusqlite::Result<()> {
        let extra: [&dyn ToSql; 5] = [
            &cid,
            &(version as i64),
            &(self.db_version as i64),
            &self.ord,
            &(change.seq as i64),
        ];
        self.run(&table.sql.clock_put, &change.pk, &extra)
    }

    /// Runs `sql` with the key values, then `extra`, as parameters.
    fn run(&self, sql: &str, pk: &[Value], extra: &[&dyn ToSql]) -> rusqlite::Result<()> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let params = pk
            .iter()
            .map(|v| v as &dyn ToSql)
            .chain(extra.iter().copied());
        stmt.execute(params_from_iter(params))?;
        Ok(())
    }
}
