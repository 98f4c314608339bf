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
use std::collections::BTreeSet;

use rusqlite::{Connection, ToSql, params, params_from_iter};
use serde::{Deserialize, Serialize};

use crate::extract::VERSION_MARKER;
use crate::schema::{Registry, TableInfo};
use crate::sites::Sites;
use crate::{
    Change, MergeError, SiteId, Value, Versions, bookkeeping, declared_schema, pack, row_state,
};

/// What a merge did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeOutcome {
    /// Versions newly recorded as applied (cleared ones included).
    pub versions_applied: u64,
    /// Versions skipped because they were applied before.
    pub versions_skipped: u64,
    /// Cells (values or row lives) that changed.
    pub cells_changed: u64,
    /// The schema changed, or a table registered as [`Metadata::Schema`]
    /// did: caches of either are stale.
    pub schema_changed: bool,
}

pub(crate) fn merge(
    conn: &Connection,
    registry: &mut Registry,
    sites: &mut Sites,
    batch: &[Versions],
    schema_metadata: &BTreeSet<String>,
) -> Result<MergeOutcome, MergeError> {
    let mut outcome = MergeOutcome::default();
    for item in batch {
        let versions = item.versions();
        if versions.is_empty() || *versions.start() == 0 || *versions.end() > i64::MAX as u64 {
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
            let cell = Cell {
                conn,
                sites,
                ord,
                site_id,
                db_version: set.db_version,
            };
            // The schema first: the rest of the version may need it.
            let (schema_changes, data): (Vec<&Change>, Vec<&Change>) = set
                .changes
                .iter()
                .partition(|change| change.table.eq_ignore_ascii_case(declared_schema::TABLE));
            if cell.apply_all(registry, &schema_changes, &mut outcome)? {
                outcome.schema_changed = true;
                declared_schema::reconcile(conn, registry).map_err(|error| MergeError::Schema {
                    reason: error.to_string(),
                })?;
            }
            if cell.apply_all(registry, &data, &mut outcome)?
                && data
                    .iter()
                    .any(|change| schema_metadata.contains(&change.table.to_ascii_lowercase()))
            {
                outcome.schema_changed = true;
            }
        }
        if ord == 0 {
            // Our own versions coming back (this database was restored from an
            // older copy): never hand their numbers out again.
            conn.prepare_cached(
                "INSERT INTO __patina_log (site, dbv, tbl, pk, seq) VALUES (0, ?1, ?2, x'', 0) \
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![*versions.end() as i64, VERSION_MARKER])?;
        } else {
            bookkeeping::mark_applied(conn, ord, versions)?;
        }
        outcome.versions_applied += count;
    }
    Ok(outcome)
}

/// The last local db_version: this node's highest version-log entry.
pub(crate) fn local_version(conn: &Connection) -> rusqlite::Result<u64> {
    conn.prepare_cached("SELECT coalesce(max(dbv), 0) FROM __patina_log WHERE site = 0")?
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

impl Cell<'_> {
    /// Applies `changes`; true if any cell changed.
    fn apply_all(
        &self,
        registry: &Registry,
        changes: &[&Change],
        outcome: &mut MergeOutcome,
    ) -> Result<bool, MergeError> {
        let mut changed = false;
        for change in changes {
            let table = registry
                .get(&change.table)
                .ok_or_else(|| MergeError::UnknownTable {
                    table: change.table.clone(),
                })?;
            if self.apply(table, change)? {
                outcome.cells_changed += 1;
                changed = true;
            }
        }
        Ok(changed)
    }

    /// Applies one change; true if the table or its row's life changed.
    fn apply(&self, table: &TableInfo, change: &Change) -> Result<bool, MergeError> {
        let malformed = |reason: &str| MergeError::Malformed {
            table: table.name.clone(),
            reason: reason.to_owned(),
        };
        if change.pk.len() != table.pk.len() {
            return Err(malformed("primary key has the wrong number of values"));
        }
        let column = match &change.column {
            Some(name) => {
                Some(
                    table
                        .column_index(name)
                        .ok_or_else(|| MergeError::UnknownColumn {
                            table: table.name.clone(),
                            column: name.clone(),
                        })?,
                )
            }
            None => None,
        };
        let cl = change.causal_length;
        if cl == 0 || cl > i64::MAX as u64 || change.col_version > i64::MAX as u64 {
            return Err(malformed("causal length or col_version out of range"));
        }
        let state = row_state::read(self.conn, table, &change.pk)?;
        let life = state.as_ref().map_or(0, |s| s.life.version);

        let Some(i) = column else {
            if cl <= life {
                return Ok(false);
            }
            let row = if cl.is_multiple_of(2) {
                &table.sql.row_delete
            } else {
                &table.sql.row_create
            };
            self.run(row, &change.pk, &[])?;
            self.set_life(table, change)?;
            return Ok(true);
        };

        if cl.is_multiple_of(2) {
            return Err(malformed("a column change with an even causal length"));
        }
        if cl < life {
            return Ok(false);
        }
        let name = &table.columns[i];
        let clock_set = table
            .sql
            .clock_set(name)
            .ok_or_else(|| malformed("no clock"))?;
        if cl > life {
            // A newer life of the row: it exists now, and its clocks restart.
            self.run(&table.sql.row_create, &change.pk, &[])?;
            self.set_life(table, change)?;
        } else if let Some((local, current)) = state
            .as_ref()
            .and_then(|s| s.cells[i].map(|stamp| (stamp, &s.values[i])))
        {
            let order = change
                .col_version
                .cmp(&local.version)
                .then_with(|| change.value.merge_cmp(current));
            match order {
                Ordering::Less => return Ok(false),
                Ordering::Equal => {
                    // Same bytes: only the recorded writer may move, to the higher site.
                    if self
                        .sites
                        .id(local.site)
                        .is_some_and(|id| self.site_id > id)
                    {
                        self.set_clock(clock_set, change)?;
                        self.log(table, change)?;
                    }
                    return Ok(false);
                }
                Ordering::Greater => {}
            }
        }
        let value_set = table
            .sql
            .value_set(name)
            .ok_or_else(|| malformed("no column"))?;
        self.run(value_set, &change.pk, &[&change.value])?;
        self.set_clock(clock_set, change)?;
        self.log(table, change)?;
        Ok(true)
    }

    /// Sets the row's causal length to the change's, clearing column clocks.
    fn set_life(&self, table: &TableInfo, change: &Change) -> rusqlite::Result<()> {
        let extra: [&dyn ToSql; 3] = [
            &(change.causal_length as i64),
            &(self.db_version as i64),
            &self.ord,
        ];
        self.run(&table.sql.life_put, &change.pk, &extra)?;
        self.log(table, change)
    }

    fn set_clock(&self, sql: &str, change: &Change) -> rusqlite::Result<()> {
        let extra: [&dyn ToSql; 3] = [
            &(change.col_version as i64),
            &(self.db_version as i64),
            &self.ord,
        ];
        self.run(sql, &change.pk, &extra)
    }

    /// Records that this change set wrote the change's row, for relaying.
    fn log(&self, table: &TableInfo, change: &Change) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO __patina_log (site, dbv, tbl, pk, seq) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![
                self.ord,
                self.db_version as i64,
                table.id,
                pack::pack_values(&change.pk),
                change.seq as i64
            ])?;
        Ok(())
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
