//! The node's database as the sessions share it: one writer (the store's
//! connection, behind an async mutex a session holds for a whole write
//! transaction), read-only connections for every session, and the cached
//! PostgreSQL types of the tables. Replication reaches the writer through
//! [`Database::merge`] and learns of local commits from
//! [`Database::commits`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, RwLock};

use patina_store::{MergeError, MergeOutcome, OpenError, Store, Versions};
use rusqlite::Connection;
use tokio::sync::{Mutex, Notify, OwnedMutexGuard};

use super::catalog::{self, Tables};
use super::checkpoint;
use super::interrupts::Interrupts;
use crate::functions::{self, SessionClock};

/// The writer: the store, and the clock its `now()` reads (set by the
/// session that holds it).
#[derive(Debug)]
pub(crate) struct Writer {
    pub store: Store,
    pub clock: Arc<SessionClock>,
    /// Woken whenever a session lets go of the writer: whatever it
    /// committed (an explicit block or autocommit statements) is visible.
    pub commits: Arc<Notify>,
}

/// A session's hold on the writer. Dropping it (a session that ends, or a
/// task that dies) rolls back whatever transaction it left open, so the
/// next holder starts clean, and signals [`Database::commits`].
#[derive(Debug)]
pub(crate) struct WriterLease(OwnedMutexGuard<Writer>);

impl WriterLease {
    pub fn conn(&self) -> &Connection {
        self.0.store.conn()
    }

    /// Runs a transaction-control statement (`BEGIN IMMEDIATE`, `COMMIT`,
    /// `ROLLBACK`) from the statement cache: they run on every write.
    pub fn control(&self, sql: &str) -> rusqlite::Result<()> {
        self.conn().prepare_cached(sql)?.raw_execute().map(|_| ())
    }

    pub fn store(&mut self) -> &mut Store {
        &mut self.0.store
    }

    pub fn clock(&self) -> &SessionClock {
        &self.0.clock
    }
}

impl Drop for WriterLease {
    fn drop(&mut self) {
        let conn = self.0.store.conn();
        if !conn.is_autocommit()
            && let Err(error) = conn.execute_batch("ROLLBACK")
        {
            tracing::error!(%error, "rolling back an abandoned transaction failed");
        }
        self.0.commits.notify_one();
    }
}

/// Opening the database for the pg front door failed.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("preparing the database for the pg front door: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("starting a background thread: {0}")]
    Thread(#[from] std::io::Error),
}

#[derive(Debug, Clone)]
pub struct Database {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    writer: Arc<Mutex<Writer>>,
    path: PathBuf,
    tables: RwLock<Arc<Tables>>,
    next_pid: AtomicI32,
    interrupts: Arc<Interrupts>,
    commits: Arc<Notify>,
}

impl Database {
    /// Takes the node's store: registers PostgreSQL's functions on its
    /// connection and loads the column types.
    pub fn new(store: Store) -> Result<Database, DatabaseError> {
        let clock = Arc::new(SessionClock::new(SessionClock::system_now()));
        functions::register(store.conn(), clock.clone())?;
        store.conn().execute_batch(catalog::CREATE)?;
        // Checkpoints run beside the writer (see `checkpoint`); the writer
        // only checkpoints (what is left) when the WAL grows past the limit.
        store
            .conn()
            .pragma_update(None, "wal_autocheckpoint", checkpoint::WRITER_LIMIT_PAGES)?;
        checkpoint::spawn(store.path())?;
        let interrupts = Arc::new(Interrupts::default());
        Interrupts::spawn_watchdog(&interrupts)?;
        let tables = Tables::load(store.conn())?;
        let commits = Arc::new(Notify::new());
        Ok(Database {
            inner: Arc::new(Inner {
                path: store.path().to_path_buf(),
                writer: Arc::new(Mutex::new(Writer {
                    store,
                    clock,
                    commits: commits.clone(),
                })),
                commits,
                tables: RwLock::new(Arc::new(tables)),
                next_pid: AtomicI32::new(1),
                interrupts,
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Woken (one permit, so no commit between two waits is missed) each
    /// time a session releases the writer, so after every commit; the
    /// waiter reads what is new from the store.
    pub fn commits(&self) -> Arc<Notify> {
        self.inner.commits.clone()
    }

    /// Applies changes from other nodes in one transaction, when no session
    /// holds the writer.
    pub async fn merge(&self, batch: Vec<Versions>) -> Result<MergeOutcome, MergeError> {
        let mut lease = self.writer().await;
        match tokio::task::spawn_blocking(move || lease.store().merge(&batch)).await {
            Ok(outcome) => outcome,
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        }
    }

    /// Waits for the writer.
    pub(crate) async fn writer(&self) -> WriterLease {
        WriterLease(self.inner.writer.clone().lock_owned().await)
    }

    /// A read-only connection whose `now()` is `clock`'s.
    pub(crate) fn open_reader(
        &self,
        clock: Arc<SessionClock>,
    ) -> Result<Connection, DatabaseError> {
        let conn = Store::open_reader_at(&self.inner.path)?;
        conn.set_prepared_statement_cache_capacity(256);
        functions::register(&conn, clock)?;
        Ok(conn)
    }

    pub(crate) fn tables(&self) -> Arc<Tables> {
        match self.inner.tables.read() {
            Ok(tables) => tables.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the column types after committed DDL.
    pub(crate) fn reload_tables(&self, conn: &Connection) -> rusqlite::Result<()> {
        let tables = Arc::new(Tables::load(conn)?);
        match self.inner.tables.write() {
            Ok(mut slot) => *slot = tables,
            Err(poisoned) => *poisoned.into_inner() = tables,
        }
        Ok(())
    }

    pub(crate) fn next_pid(&self) -> i32 {
        self.inner.next_pid.fetch_add(1, Ordering::Relaxed)
    }

    /// Where CancelRequests and statement timeouts find sessions.
    pub(crate) fn interrupts(&self) -> &Interrupts {
        &self.inner.interrupts
    }
}
