//! Merging remote changes, cell by cell, inside the caller's transaction
//! (capture is paused, so nothing merged becomes a local write).
//!
//! One cell: the higher causal length wins (a row deleted or re-created
//! later beats any value of an earlier life); within the same life the
//! higher col_version wins, then the higher value in [`Value::merge_cmp`]
//! order; equal values only move the clock to the higher site id so every
//! replica records the same writer. A change from a newer life of a row
//! first resets the row's column clocks, so the re-inserting side's whole
//! row wins; the same life from two sites (both deleted the row, or both
//! created it) is recorded as the higher site's, like equal values.

use std::collections::BTreeSet;

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::extract::VERSION_MARKER;
use crate::schema::Registry;
use crate::sites::Sites;
use crate::{Change, MergeError, Versions, bookkeeping, declared_schema, keys, pending};

mod cell;
mod statements;

use cell::Cell;
use statements::Statements;

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
    /// Versions kept until the table or column they need arrives (not
    /// applied, not recorded as applied: see `pending`).
    pub versions_kept: u64,
    /// This node's db_version moved: the merge re-captured the rows of a
    /// table it rebuilt under the cluster's key, or took back versions of
    /// this node's own (its database was restored from an older copy).
    /// What is new to broadcast, without reading the db_version around
    /// the merge.
    pub local_versions: bool,
}

pub(crate) fn merge(
    conn: &Connection,
    registry: &mut Registry,
    sites: &mut Sites,
    batch: &[Versions],
    schema_metadata: &BTreeSet<String>,
) -> Result<MergeOutcome, MergeError> {
    let mut outcome = MergeOutcome::default();
    let statements = Statements::new(conn);
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
                statements: &statements,
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
                // The registry changes: statements held for its tables are stale.
                statements.forget();
                declared_schema::reconcile(conn, registry).map_err(|error| MergeError::Schema {
                    reason: error.to_string(),
                })?;
            }
            let keyed = match keys::check(registry, set, &data) {
                Ok(()) => true,
                // Our own version from before this node rebuilt the table
                // under the cluster's key: its rows were re-captured then.
                Err(MergeError::KeyMismatch { .. }) if ord == 0 => false,
                Err(error) => return Err(error),
            };
            if keyed
                && ord != 0
                && let Some(reason) = pending::missing(registry, &data)
            {
                tracing::info!(site = %site_id, version = set.db_version, %reason,
                    "keeping a version until its schema arrives");
                pending::keep(conn, set)?;
                outcome.versions_kept += 1;
                continue;
            }
            if keyed
                && cell.apply_all(registry, &data, &mut outcome)?
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
            outcome.local_versions = true;
        } else {
            bookkeeping::mark_applied(conn, ord, versions)?;
        }
        outcome.versions_applied += count;
    }
    Ok(outcome)
}

/// Merges the kept versions whose schema is here now (and forgets those
/// applied from another copy meanwhile), as long as that makes progress:
/// one may bring the schema another needs.
pub(crate) fn retry_kept(
    conn: &Connection,
    registry: &mut Registry,
    sites: &mut Sites,
    schema_metadata: &BTreeSet<String>,
    outcome: &mut MergeOutcome,
) -> Result<(), MergeError> {
    loop {
        let mut progress = false;
        for set in pending::all(conn)? {
            let ord = sites.ordinal_or_insert(conn, set.site_id)?;
            if bookkeeping::is_applied(conn, ord, set.db_version)? {
                pending::forget(conn, &set)?;
                continue;
            }
            let data: Vec<&Change> = set
                .changes
                .iter()
                .filter(|change| !change.table.eq_ignore_ascii_case(declared_schema::TABLE))
                .collect();
            if pending::missing(registry, &data).is_some() {
                continue;
            }
            pending::forget(conn, &set)?;
            let merged = merge(
                conn,
                registry,
                sites,
                &[Versions::Changed(set)],
                schema_metadata,
            )?;
            outcome.versions_applied += merged.versions_applied;
            outcome.cells_changed += merged.cells_changed;
            outcome.schema_changed |= merged.schema_changed;
            outcome.local_versions |= merged.local_versions;
            progress = true;
        }
        if !progress {
            return Ok(());
        }
    }
}

/// The last local db_version: this node's highest version-log entry.
pub(crate) fn local_version(conn: &Connection) -> rusqlite::Result<u64> {
    conn.prepare_cached("SELECT coalesce(max(dbv), 0) FROM __patina_log WHERE site = 0")?
        .query_row([], |row| row.get::<_, i64>(0))
        .map(|v| v as u64)
}
