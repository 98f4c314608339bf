//! Restoring a backup (a snapshot of some node's database) as the database
//! of a node, under that node's own site id or a new one.
//!
//! A backup's bookkeeping is written from its node's point of view (its
//! own versions are "local"), so it cannot simply be copied into place
//! under another identity. Instead a new database is made with the wanted
//! site id and everything the backup holds is merged into it as if it came
//! from peers: every site's versions, the backup node's own included, by
//! the same extraction and merge that replication uses. Versions whose
//! table is created by another site's version are retried once that one
//! is in. Tables local to the backup's node (not replicated) are copied as
//! they are.
//!
//! Keeping a node's own site id needs its previous database: its own
//! versions are merged from there first, so that the restored node knows
//! every version number it ever handed out (and never hands one out twice)
//! and keeps every write of its own, including those newer than the backup.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use crate::store::BOOKKEEPING;
use crate::{MergeError, Metadata, OpenError, ReadError, Reader, SiteId, Store, Versions};

/// Versions extracted and merged at a time.
const CHUNK: u64 = 256;

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("{path} already exists")]
    Exists { path: PathBuf },
    #[error("{path} is not a patina database: {source}")]
    NotADatabase { path: PathBuf, source: OpenError },
    #[error("reading {path} failed: {source}")]
    Read { path: PathBuf, source: ReadError },
    #[error("the previous database {path} belongs to site {found}, not {expected}")]
    OtherSite {
        path: PathBuf,
        found: SiteId,
        expected: SiteId,
    },
    #[error("merging the backup's versions failed: {0}")]
    Merge(#[from] MergeError),
    #[error("{count} versions of the backup could not be applied; the first: {first}")]
    Unapplied { count: usize, first: MergeError },
    #[error("creating the restored database failed: {0}")]
    Create(#[from] OpenError),
    #[error("copying the backup's tables failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("creating the table {table} failed: {source}")]
    Schema {
        table: String,
        source: crate::SchemaError,
    },
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// The restored database's site id.
    pub site_id: SiteId,
    /// The site id of the node the backup was taken on.
    pub backup_site_id: SiteId,
    /// Versions merged from the backup (of every site).
    pub versions: u64,
    /// Versions of the node's own merged from its previous database.
    pub own_versions: u64,
    /// Tables local to the backup's node, copied as they were.
    pub local_tables: Vec<String>,
}

/// Makes a new database at `into` holding what `backup` holds, with site
/// id `site` (a new random one if `None`). `previous`, the node's database
/// before the restore, must belong to `site`: its own versions come first.
pub fn restore(
    backup: &Path,
    into: &Path,
    site: Option<SiteId>,
    previous: Option<&Path>,
) -> Result<Restored, RestoreError> {
    if into.exists() {
        return Err(RestoreError::Exists {
            path: into.to_owned(),
        });
    }
    let not_a_database = |path: &Path| {
        let path = path.to_owned();
        move |source| RestoreError::NotADatabase { path, source }
    };
    let mut source = Reader::open(backup).map_err(not_a_database(backup))?;
    let raw = Store::open_reader_at(backup).map_err(not_a_database(backup))?;
    let mut store = create(into, site)?;
    let site_id = store.site_id();
    let mut restored = Restored {
        site_id,
        backup_site_id: source.site_id(),
        versions: 0,
        own_versions: 0,
        local_tables: Vec::new(),
    };
    create_internal_tables(&raw, &mut store)?;
    let mut pending = Pending::default();
    if let Some(previous) = previous {
        let mut own = Reader::open(previous).map_err(not_a_database(previous))?;
        if own.site_id() != site_id {
            return Err(RestoreError::OtherSite {
                path: previous.to_owned(),
                found: own.site_id(),
                expected: site_id,
            });
        }
        let top = own.db_version().map_err(read_error(previous))?;
        restored.own_versions = copy(
            &mut own,
            previous,
            site_id,
            &[1..=top],
            &mut store,
            &mut pending,
        )?;
    }
    let state = source.sync_state().map_err(read_error(backup))?;
    for (site, progress) in state {
        let held = held(progress.max_version, &progress.gaps);
        restored.versions += copy(&mut source, backup, site, &held, &mut store, &mut pending)?;
    }
    retry(&mut store, pending)?;
    restored.local_tables = copy_local_tables(&raw, &store, backup)?;
    Ok(restored)
}

fn read_error(path: &Path) -> impl Fn(ReadError) -> RestoreError + '_ {
    move |source| RestoreError::Read {
        path: path.to_owned(),
        source,
    }
}

/// A new database at `path` with site id `site` (or a random one).
fn create(path: &Path, site: Option<SiteId>) -> Result<Store, RestoreError> {
    if let Some(site) = site {
        let conn = Connection::open(path)?;
        conn.execute_batch(&format!("BEGIN IMMEDIATE; {BOOKKEEPING}"))?;
        conn.execute(
            "UPDATE __patina_sites SET site_id = ?1 WHERE ord = 0",
            [site.as_bytes().as_slice()],
        )?;
        conn.execute_batch("COMMIT")?;
    }
    Ok(Store::open(path)?)
}

/// The versions `max_version` and `gaps` say a node holds.
fn held(max_version: u64, gaps: &[RangeInclusive<u64>]) -> Vec<RangeInclusive<u64>> {
    let mut held = Vec::new();
    let mut next = 1;
    for gap in gaps {
        if *gap.start() > next {
            held.push(next..=gap.start() - 1);
        }
        next = gap.end() + 1;
    }
    if next <= max_version {
        held.push(next..=max_version);
    }
    held
}

/// Versions that wait for a table or column another site's version
/// creates, in the order they were read. Once one of a site's versions
/// waits, the site's later ones wait behind it: a node's own versions
/// must be merged in order (it takes every version up to the highest it
/// holds as its own).
#[derive(Default)]
struct Pending {
    items: Vec<Versions>,
    blocked: BTreeSet<SiteId>,
}

impl Pending {
    fn push(&mut self, item: Versions) {
        self.blocked.insert(item.site_id());
        self.items.push(item);
    }
}

/// Merges `site`'s versions within `ranges` from `reader` into `store`,
/// a chunk at a time; versions that need a table or column not there yet
/// wait in `pending`. Returns how many versions were read.
fn copy(
    reader: &mut Reader,
    path: &Path,
    site: SiteId,
    ranges: &[RangeInclusive<u64>],
    store: &mut Store,
    pending: &mut Pending,
) -> Result<u64, RestoreError> {
    let mut count = 0;
    for range in ranges {
        let mut start = *range.start();
        while start <= *range.end() {
            let end = range.end().min(&(start + CHUNK - 1)).to_owned();
            let batch = reader
                .changes(site, start..=end)
                .map_err(read_error(path))?;
            count += batch
                .iter()
                .map(|item| item.versions().count() as u64)
                .sum::<u64>();
            merge(store, batch, pending)?;
            start = end + 1;
        }
    }
    Ok(count)
}

/// Merges `batch` whole if it can; else version by version, those that
/// need what is not there yet (or come after one that does) waiting in
/// `pending`.
fn merge(
    store: &mut Store,
    batch: Vec<Versions>,
    pending: &mut Pending,
) -> Result<(), RestoreError> {
    if !batch
        .iter()
        .any(|item| pending.blocked.contains(&item.site_id()))
    {
        match store.merge(&batch) {
            Ok(_) => return Ok(()),
            Err(error) if waits_for_schema(&error) => {}
            Err(error) => return Err(error.into()),
        }
    }
    for item in batch {
        merge_one(store, item, pending)?;
    }
    Ok(())
}

/// Merges one version unless it must wait; the error that made it wait.
fn merge_one(
    store: &mut Store,
    item: Versions,
    pending: &mut Pending,
) -> Result<Option<MergeError>, RestoreError> {
    if pending.blocked.contains(&item.site_id()) {
        pending.push(item);
        return Ok(None);
    }
    match store.merge(std::slice::from_ref(&item)) {
        Ok(_) => Ok(None),
        Err(error) if waits_for_schema(&error) => {
            pending.push(item);
            Ok(Some(error))
        }
        Err(error) => Err(error.into()),
    }
}

fn waits_for_schema(error: &MergeError) -> bool {
    matches!(
        error,
        MergeError::UnknownTable { .. } | MergeError::UnknownColumn { .. }
    )
}

/// Merges the versions that waited, in order, as long as that makes
/// progress.
fn retry(store: &mut Store, mut pending: Pending) -> Result<(), RestoreError> {
    while !pending.items.is_empty() {
        let waiting = pending.items.len();
        let mut first = None;
        let mut still = Pending::default();
        for item in pending.items {
            if let Some(error) = merge_one(store, item, &mut still)? {
                first.get_or_insert(error);
            }
        }
        if still.items.len() == waiting {
            return Err(RestoreError::Unapplied {
                count: waiting,
                first: first.expect("the first waiting version failed"),
            });
        }
        pending = still;
    }
    Ok(())
}

/// The backup's replicated tables of patina's own (those its pg layer
/// makes at every open), made here too so their versions can merge.
fn create_internal_tables(backup: &Connection, store: &mut Store) -> Result<(), RestoreError> {
    let tables: Vec<(String, String)> = backup
        .prepare(
            "SELECT c.name, m.sql FROM __patina_crrs AS c
             JOIN sqlite_master AS m ON m.type = 'table' AND m.name = c.name COLLATE NOCASE
             WHERE c.name LIKE '\\_\\_patina\\_%' ESCAPE '\\' ORDER BY c.id",
        )?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (name, sql) in tables {
        let exists = store
            .conn()
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
                [&name],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if !exists {
            store.conn().execute_batch(&sql)?;
        }
        store
            .make_internal_crr(&name, Metadata::Data)
            .map_err(|source| RestoreError::Schema {
                table: name.clone(),
                source,
            })?;
    }
    Ok(())
}

/// Copies the tables local to the backup's node (neither replicated nor
/// patina's own), with their indexes and rows; returns their names.
fn copy_local_tables(
    backup: &Connection,
    store: &Store,
    path: &Path,
) -> Result<Vec<String>, RestoreError> {
    let mut objects: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    let rows: Vec<(String, String, String, String)> = backup
        .prepare(
            "SELECT m.type, m.name, m.tbl_name, m.sql FROM sqlite_master AS m
             WHERE m.sql IS NOT NULL AND m.type IN ('table', 'index')
               AND m.tbl_name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
               AND m.tbl_name NOT LIKE '\\_\\_patina%' ESCAPE '\\'
               AND NOT EXISTS (SELECT 1 FROM __patina_crrs AS c
                               WHERE c.name = m.tbl_name COLLATE NOCASE)
             ORDER BY m.type DESC, m.rowid",
        )?
        .query_map([], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (kind, _name, table, sql) in rows {
        let entry = objects.entry(table).or_default();
        if kind == "table" {
            entry.0 = sql;
        } else {
            entry.1.push(sql);
        }
    }
    let conn = store.conn();
    conn.execute(
        "ATTACH DATABASE ?1 AS backup",
        params![path.to_string_lossy()],
    )?;
    let copied = (|| {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        for (table, (create, indexes)) in &objects {
            conn.execute_batch(create)?;
            let quoted = format!("\"{}\"", table.replace('"', "\"\""));
            conn.execute_batch(&format!(
                "INSERT INTO main.{quoted} SELECT * FROM backup.{quoted}"
            ))?;
            for index in indexes {
                conn.execute_batch(index)?;
            }
        }
        conn.execute_batch("COMMIT")
    })();
    if copied.is_err() && !conn.is_autocommit() {
        conn.execute_batch("ROLLBACK")?;
    }
    conn.execute_batch("DETACH DATABASE backup")?;
    copied?;
    Ok(objects.into_keys().collect())
}

#[cfg(test)]
mod tests {
    use super::held;

    #[test]
    fn held_versions_are_the_complement_of_the_gaps() {
        assert_eq!(held(0, &[]), Vec::<std::ops::RangeInclusive<u64>>::new());
        assert_eq!(held(5, &[]), vec![1..=5]);
        assert_eq!(held(9, &[1..=2, 5..=6]), vec![3..=4, 7..=9]);
        assert_eq!(held(9, &[4..=8]), vec![1..=3, 9..=9]);
    }
}
