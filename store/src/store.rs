//! The store: one SQLite file, its bookkeeping, and the operations the rest
//! of patina uses.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::bookkeeping::SiteProgress;
use crate::capture::{self, CaptureState};
use crate::compact::Compaction;
use crate::declared_schema;
use crate::schema::{self, Registry, SchemaChange};
use crate::sites::Sites;
use crate::{
    CompactError, MergeError, MergeOutcome, OpenError, ReadError, SchemaError, SiteId, Versions,
};

/// How hard a commit works to survive a power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// WAL with `synchronous = NORMAL`: a commit survives a crash of the
    /// process; a power loss may lose the last commits but never corrupts.
    #[default]
    Normal,
    /// `synchronous = FULL`: every commit is fsynced.
    Full,
}

pub(crate) const BOOKKEEPING: &str = "
    CREATE TABLE IF NOT EXISTS __patina_sites (
        ord INTEGER PRIMARY KEY, site_id BLOB NOT NULL UNIQUE);
    INSERT INTO __patina_sites (ord, site_id)
        SELECT 0, randomblob(16) WHERE NOT EXISTS (SELECT 1 FROM __patina_sites);
    CREATE TABLE IF NOT EXISTS __patina_log (
        site INTEGER NOT NULL, dbv INTEGER NOT NULL, tbl INTEGER NOT NULL, pk BLOB NOT NULL,
        seq INTEGER NOT NULL, PRIMARY KEY (site, dbv, tbl, pk)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS __patina_seen (
        site INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
        PRIMARY KEY (site, start)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS __patina_pending (
        site BLOB NOT NULL, dbv INTEGER NOT NULL, body BLOB NOT NULL,
        PRIMARY KEY (site, dbv)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS __patina_crrs (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE);
";

/// A node's database. Owns the one connection that writes; local writes
/// through [`Store::conn`] to replicated tables are captured by triggers.
///
/// Only one `Store` may have a given file open: its connection is the
/// file's single writer.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    capture: Arc<CaptureState>,
    registry: Registry,
    sites: Sites,
    compaction: crate::compact::Cursor,
    /// Internal tables registered as [`Metadata::Schema`] (lower-cased).
    schema_metadata: BTreeSet<String>,
    /// SQLite's schema cookie when kept versions were last retried: they
    /// are retried once it moved (`pending`).
    kept_checked: Option<i64>,
}

/// What one of the caller's own replicated tables holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metadata {
    /// Describes the schema (a merge changing it reports
    /// [`MergeOutcome::schema_changed`]).
    Schema,
    /// Travels like data.
    Data,
}

impl Store {
    /// Opens (creating if needed) the database at `path` with
    /// [`Durability::Normal`].
    pub fn open(path: impl AsRef<Path>) -> Result<Store, OpenError> {
        Store::open_with(path, Durability::default())
    }

    pub fn open_with(path: impl AsRef<Path>, durability: Durability) -> Result<Store, OpenError> {
        let path = path.as_ref().to_path_buf();
        let conn = Connection::open(&path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
        let synchronous = match durability {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        };
        conn.execute_batch(&format!(
            "PRAGMA synchronous = {synchronous}; PRAGMA recursive_triggers = OFF;"
        ))?;
        conn.set_prepared_statement_cache_capacity(1024);
        let capture = capture::install(&conn)?;
        conn.execute_batch(&format!("BEGIN IMMEDIATE; {BOOKKEEPING} COMMIT;"))?;
        let mut registry = Registry::load(&conn)?;
        install_declared_schema(&conn, &mut registry)?;
        let sites = Sites::load(&conn)?;
        tracing::debug!(path = %path.display(), site_id = %sites.local(), "store opened");
        Ok(Store {
            conn,
            path,
            capture,
            registry,
            sites,
            compaction: crate::compact::Cursor::default(),
            schema_metadata: BTreeSet::new(),
            kept_checked: None,
        })
    }

    /// Opens another connection to the same file that can only read. Reads
    /// on it never wait for the writer (WAL).
    pub fn open_reader(&self) -> Result<Connection, OpenError> {
        Store::open_reader_at(&self.path)
    }

    /// [`Store::open_reader`] for the database at `path`, for readers that
    /// must not wait for the writer's owner to open.
    pub fn open_reader_at(path: &Path) -> Result<Connection, OpenError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(5))?;
        Ok(conn)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// This database's site id.
    pub fn site_id(&self) -> SiteId {
        self.sites.local()
    }

    /// The writing connection. Statements on it that write to replicated
    /// tables are captured; DDL must go through [`Store::apply_ddl`].
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The last committed local db_version (0 before the first write).
    pub fn db_version(&self) -> Result<u64, ReadError> {
        Ok(crate::merge::local_version(&self.conn)?)
    }

    /// Names of the replicated user tables.
    pub fn replicated_tables(&self) -> Vec<String> {
        self.registry
            .tables()
            .filter(|t| !schema::is_internal(&t.name))
            .map(|t| t.name.clone())
            .collect()
    }

    /// Runs DDL: new tables become replicated, new columns and indexes apply
    /// on the fly; an unsafe change is refused and nothing changes.
    pub fn apply_ddl(&mut self, sql: &str) -> Result<SchemaChange, SchemaError> {
        let conn = &self.conn;
        let registry = &mut self.registry;
        let changed = schema::in_savepoint(conn, || {
            let change = schema::apply_ddl(conn, registry, sql)?;
            declared_schema::record(conn, registry)?;
            Ok(change)
        });
        if changed.is_err() {
            self.registry = Registry::load(&self.conn)?;
        }
        changed
    }

    /// Gives a local table (one created without a key) the primary key
    /// `key`, rebuilding it, which makes it replicated. Refused if it has
    /// a key already, or its rows hold NULL or duplicate keys.
    pub fn add_primary_key(
        &mut self,
        table: &str,
        key: &[String],
    ) -> Result<SchemaChange, SchemaError> {
        let sql = schema::add_primary_key_sql(&self.conn, &self.registry, table, key)?;
        self.apply_ddl(&sql)
    }

    /// Re-reads which tables are replicated, after a transaction that ran
    /// [`Store::apply_ddl`] was rolled back.
    pub fn reload_schema(&mut self) -> rusqlite::Result<()> {
        self.registry = Registry::load(&self.conn)?;
        Ok(())
    }

    /// Makes an existing table replicated.
    pub fn make_crr(&mut self, table: &str) -> Result<(), SchemaError> {
        let conn = &self.conn;
        let registry = &mut self.registry;
        let made = schema::in_savepoint(conn, || {
            schema::make_crr(conn, registry, table)?;
            Ok(declared_schema::record(conn, registry)?)
        });
        if made.is_err() {
            self.registry = Registry::load(&self.conn)?;
        }
        made
    }

    /// Makes one of the caller's own tables (named `__patina…`, a name users
    /// cannot take) replicated, holding `metadata`. Call it at every open:
    /// what the table holds is not persisted.
    pub fn make_internal_crr(
        &mut self,
        table: &str,
        metadata: Metadata,
    ) -> Result<(), SchemaError> {
        schema::make_internal_crr(&self.conn, &mut self.registry, table)?;
        if metadata == Metadata::Schema {
            self.schema_metadata.insert(table.to_ascii_lowercase());
        }
        Ok(())
    }

    /// What this node has of `site`'s versions within `versions`: change
    /// sets in version order, with runs of applied versions that no longer
    /// hold any change reported as cleared. Versions not applied here are
    /// left out.
    pub fn changes(
        &self,
        site: SiteId,
        versions: RangeInclusive<u64>,
    ) -> Result<Vec<Versions>, ReadError> {
        crate::reader::changes(&self.conn, &self.registry, &self.sites, site, versions)
    }

    /// Applies a batch of changes from other nodes in one transaction. Must
    /// not be called while a transaction is open on [`Store::conn`].
    pub fn merge(&mut self, batch: &[Versions]) -> Result<MergeOutcome, MergeError> {
        if !self.conn.is_autocommit() {
            return Err(MergeError::InTransaction);
        }
        let _paused = self.capture.pause();
        let known_sites = self.sites.len();
        // Cached like every statement of a merge: preparing them again
        // is a good part of merging one row.
        self.conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        let merged = crate::merge::merge(
            &self.conn,
            &mut self.registry,
            &mut self.sites,
            batch,
            &self.schema_metadata,
        )
        .and_then(|mut outcome| {
            self.retry_kept(&mut outcome)?;
            outcome.local_versions |= self.capture.assigned();
            self.conn.prepare_cached("COMMIT")?.execute([])?;
            Ok(outcome)
        });
        if merged.is_err() {
            if !self.conn.is_autocommit() {
                self.conn.execute_batch("ROLLBACK")?;
            }
            self.sites.truncate(known_sites);
            self.registry = Registry::load(&self.conn)?;
        }
        merged
    }

    /// Merges kept versions (see `pending`) if the schema changed since
    /// they were last tried, inside the merge's transaction.
    fn retry_kept(&mut self, outcome: &mut MergeOutcome) -> Result<(), MergeError> {
        let cookie = |conn: &Connection| {
            conn.prepare_cached("PRAGMA schema_version")?
                .query_row([], |row| row.get::<_, i64>(0))
        };
        let now = cookie(&self.conn)?;
        if self.kept_checked == Some(now) || !crate::pending::any(&self.conn)? {
            self.kept_checked = Some(now);
            return Ok(());
        }
        crate::merge::retry_kept(
            &self.conn,
            &mut self.registry,
            &mut self.sites,
            &self.schema_metadata,
            outcome,
        )?;
        self.kept_checked = Some(cookie(&self.conn)?);
        Ok(())
    }

    /// Examines up to `limit` version-log entries, continuing where the
    /// previous call stopped, and removes those that no longer point at any
    /// cell (everything they recorded was overwritten since). Run it now and
    /// then: extraction gives the same answers before and after.
    pub fn compact_log(&mut self, limit: usize) -> Result<Compaction, CompactError> {
        if !self.conn.is_autocommit() {
            return Err(CompactError::InTransaction);
        }
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let compacted =
            crate::compact::compact(&self.conn, &self.registry, &mut self.compaction, limit);
        match compacted {
            Ok(removed) => {
                self.conn.execute_batch("COMMIT")?;
                Ok(removed)
            }
            Err(error) => {
                self.conn.execute_batch("ROLLBACK")?;
                Err(error.into())
            }
        }
    }

    /// Per site (this node included), the highest version applied and the
    /// gaps below it: what a peer compares with its own to know what to send.
    pub fn sync_state(&self) -> Result<BTreeMap<SiteId, SiteProgress>, ReadError> {
        crate::reader::sync_state(&self.conn, &self.sites)
    }
}

/// Makes sure the schema is replicated state (see [`declared_schema`]),
/// recording tables created before it was.
fn install_declared_schema(conn: &Connection, registry: &mut Registry) -> Result<(), OpenError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let installed = declared_schema::install(conn, registry)
        .and_then(|()| Ok(declared_schema::record(conn, registry)?));
    match installed {
        Ok(()) => Ok(conn.execute_batch("COMMIT")?),
        Err(error) => {
            conn.execute_batch("ROLLBACK")?;
            Err(OpenError::Corrupt(format!(
                "cannot keep the schema as replicated state: {error}"
            )))
        }
    }
}
