//! The node's database as the sessions share it: one writer (the store's
//! connection, behind an async mutex a session holds for a whole write
//! transaction), read-only connections for every session, and the cached
//! PostgreSQL types of the tables. Replication reaches the writer through
//! [`Database::merge`] and learns of local commits from
//! [`Database::commits`].

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, OnceLock, RwLock, Weak};

use patina_store::{MergeError, MergeOutcome, Metadata, OpenError, SchemaError, Store, Versions};
use rusqlite::Connection;
use tokio::sync::{Mutex, Notify, OwnedMutexGuard};

use super::catalog::{self, Tables};
use super::checkpoint;
use super::cluster_notify::{self, Arrivals};
use super::errors::PgError;
use super::interrupts::Interrupts;
use super::node::{self, ClusterView, NodeHooks, Rejoin};
use super::notify::{self, Hub, Outbox};
use super::row_changes::{Capture, Consumer, Origin, TableWatch};
use super::set_config::{self, SettingsOutbox};
use super::subscriptions::Manager;
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
    /// Row-change capture, settled whenever the writer is let go.
    pub capture: Arc<Capture>,
}

/// A session's hold on the writer. Dropping it (a session that ends, or a
/// task that dies) rolls back whatever transaction it left open, so the
/// next holder starts clean, and signals [`Database::commits`] unless it
/// is known to have committed no local version.
#[derive(Debug)]
pub(crate) struct WriterLease {
    guard: OwnedMutexGuard<Writer>,
    committed_locally: bool,
}

impl WriterLease {
    pub fn conn(&self) -> &Connection {
        self.guard.store.conn()
    }

    /// Runs a transaction-control statement (`BEGIN IMMEDIATE`, `COMMIT`,
    /// `ROLLBACK`) from the statement cache: they run on every write.
    pub fn control(&self, sql: &str) -> rusqlite::Result<()> {
        self.conn().prepare_cached(sql)?.raw_execute().map(|_| ())
    }

    pub fn store(&mut self) -> &mut Store {
        &mut self.guard.store
    }

    pub fn clock(&self) -> &SessionClock {
        &self.guard.clock
    }

    /// Hands the row changes of what committed to their consumers now
    /// (else it happens when the lease drops).
    pub fn settle_row_changes(&self) {
        self.guard.capture.settle(&self.guard.store, Origin::Local);
    }
}

impl Drop for WriterLease {
    fn drop(&mut self) {
        let conn = self.guard.store.conn();
        if !conn.is_autocommit()
            && let Err(error) = conn.execute_batch("ROLLBACK")
        {
            tracing::error!(%error, "rolling back an abandoned transaction failed");
        }
        self.guard.capture.settle(&self.guard.store, Origin::Local);
        if self.committed_locally {
            self.guard.commits.notify_one();
        }
    }
}

/// A [`Database`] that may have closed.
pub(crate) struct WeakDatabase(Weak<Inner>);

impl WeakDatabase {
    pub fn upgrade(&self) -> Option<Database> {
        self.0.upgrade().map(|inner| Database { inner })
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
    #[error("replicating the PostgreSQL column types: {0}")]
    Schema(#[from] SchemaError),
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
    node: Arc<NodeHooks>,
    hub: Arc<Hub>,
    /// What `pg_notify` queued on the writer's connection, for the session
    /// holding it.
    writer_outbox: Outbox,
    /// What `set_config` queued on the writer's connection.
    writer_settings: SettingsOutbox,
    /// This node's site id, naming the notifications it records.
    site: String,
    /// Notification rows merges created, to deliver.
    arrivals: Arrivals,
    /// Row-change capture on the writer.
    capture: Arc<Capture>,
    /// Query subscriptions, started once the database exists.
    subscriptions: OnceLock<Arc<Manager>>,
}

impl Database {
    /// Takes the node's store: registers PostgreSQL's functions on its
    /// connection and loads the column types.
    pub fn new(mut store: Store) -> Result<Database, DatabaseError> {
        let clock = Arc::new(SessionClock::new(SessionClock::system_now()));
        functions::register(store.conn(), clock.clone())?;
        let node = Arc::new(NodeHooks::default());
        node::register(store.conn(), node.clone())?;
        let writer_outbox = Outbox::default();
        notify::register(store.conn(), writer_outbox.clone())?;
        let writer_settings = SettingsOutbox::default();
        set_config::register(store.conn(), writer_settings.clone())?;
        store.conn().execute_batch(cluster_notify::CREATE)?;
        store.make_internal_crr(cluster_notify::TABLE, Metadata::Data)?;
        let arrivals = Arrivals::default();
        cluster_notify::watch(store.conn(), arrivals.clone())?;
        let site = store.site_id().to_string();
        store.conn().execute_batch(catalog::CREATE)?;
        if catalog::is_keyed_by_position(store.conn())? {
            store
                .conn()
                .execute_batch(&format!("BEGIN IMMEDIATE; {}; COMMIT", catalog::MIGRATE))?;
        }
        store.make_internal_crr(catalog::TABLE, Metadata::Schema)?;
        // Checkpoints run beside the writer (see `checkpoint`); the writer
        // only checkpoints (what is left) when the WAL grows past the limit.
        store
            .conn()
            .pragma_update(None, "wal_autocheckpoint", checkpoint::WRITER_LIMIT_PAGES)?;
        checkpoint::spawn(store.path())?;
        // The subscriptions' file is kept as durably as the data (2: FULL).
        let full_durability = store
            .conn()
            .pragma_query_value(None, "synchronous", |row| row.get::<_, i64>(0))?
            >= 2;
        let interrupts = Arc::new(Interrupts::default());
        Interrupts::spawn_watchdog(&interrupts)?;
        let tables = Tables::load(store.conn())?;
        let commits = Arc::new(Notify::new());
        let capture = Arc::new(Capture::default());
        capture.install(store.conn())?;
        let db = Database {
            inner: Arc::new(Inner {
                path: store.path().to_path_buf(),
                writer: Arc::new(Mutex::new(Writer {
                    store,
                    clock,
                    commits: commits.clone(),
                    capture: capture.clone(),
                })),
                commits,
                tables: RwLock::new(Arc::new(tables)),
                next_pid: AtomicI32::new(1),
                interrupts,
                node,
                hub: Arc::new(Hub::default()),
                writer_outbox,
                writer_settings,
                site,
                arrivals,
                capture,
                subscriptions: OnceLock::new(),
            }),
        };
        let _ = db
            .inner
            .subscriptions
            .set(Manager::start(&db, full_durability)?);
        super::row_feed::start(&db);
        Ok(db)
    }

    /// The query subscriptions.
    pub(crate) fn subscriptions(&self) -> &Manager {
        self.inner
            .subscriptions
            .get()
            .expect("the subscriptions start with the database")
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
        let db = self.clone();
        let merged = tokio::task::spawn_blocking(move || {
            // A merge commits local versions only when it rebuilds a table
            // under the cluster's key: otherwise the broadcaster, which
            // reads what is new on every signal, is not woken for nothing.
            let merged = lease.store().merge(&batch);
            lease.committed_locally = merged.as_ref().is_ok_and(|o| o.local_versions);
            let Ok(outcome) = merged else {
                cluster_notify::forget(&db.inner.arrivals);
                return merged;
            };
            if outcome.schema_changed {
                db.reload_tables(lease.conn())?;
            }
            // Still holding the writer: in the order merges commit.
            let store = lease.store();
            let gapped = || -> rusqlite::Result<HashSet<String>> {
                Ok(store
                    .sync_state()
                    .map_err(|e| e.0)?
                    .into_iter()
                    .filter(|(_, progress)| !progress.gaps.is_empty())
                    .map(|(site, _)| site.to_string())
                    .collect())
            };
            // Row changes before the versions' notifications, as for a
            // local commit (a notification may be held, never a row change).
            db.inner.capture.settle(store, Origin::Merged(&batch));
            cluster_notify::deliver(store.conn(), &db.inner.arrivals, &db.inner.hub, gapped)?;
            Ok(outcome)
        });
        match merged.await {
            Ok(outcome) => outcome,
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        }
    }

    /// Starts capturing row changes of `tables` (existing replicated tables, else
    /// 42P01): waits for the writer, so every transaction that commits after this
    /// returns is captured. Capture stops when the last guard for a table drops.
    pub(crate) async fn watch_tables(&self, tables: &[String]) -> Result<TableWatch, PgError> {
        let mut lease = self.writer().await;
        self.inner.capture.watch(lease.store(), tables)
    }

    /// Registers a consumer called after every commit or merge that changed watched
    /// rows, in commit order, while the writer is still held: it must not block
    /// (hand the batch to a thread/queue).
    pub(crate) fn on_row_changes(&self, consumer: Consumer) {
        self.inner.capture.add_consumer(consumer);
    }

    /// Waits for the writer.
    pub(crate) async fn writer(&self) -> WriterLease {
        WriterLease {
            guard: self.inner.writer.clone().lock_owned().await,
            committed_locally: true,
        }
    }

    /// A read-only connection whose `now()` is `clock`'s.
    pub(crate) fn open_reader(
        &self,
        clock: Arc<SessionClock>,
    ) -> Result<Connection, DatabaseError> {
        let conn = Store::open_reader_at(&self.inner.path)?;
        conn.set_prepared_statement_cache_capacity(256);
        functions::register(&conn, clock)?;
        node::register(&conn, self.inner.node.clone())?;
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

    /// The schema files this node applies, for `CALL patina_reload()`.
    pub fn set_schema_paths(&self, paths: Vec<PathBuf>) {
        self.inner.node.set_schema_paths(paths);
    }

    /// What `CALL patina_rejoin()` does.
    pub fn set_rejoin(&self, rejoin: Rejoin) {
        self.inner.node.set_rejoin(rejoin);
    }

    /// What patina's cluster views show.
    pub fn set_cluster_view(&self, view: ClusterView) {
        self.inner.node.set_cluster(view);
    }

    /// A handle that does not keep the database open (for its own
    /// consumers of row changes).
    pub(crate) fn downgrade(&self) -> WeakDatabase {
        WeakDatabase(Arc::downgrade(&self.inner))
    }

    /// The listening sessions.
    pub(crate) fn hub(&self) -> Arc<Hub> {
        self.inner.hub.clone()
    }

    /// Records a committing transaction's notifications for the cluster,
    /// on the writer's connection `conn`, inside that transaction.
    pub(crate) fn record_notifications(
        &self,
        conn: &Connection,
        pid: i32,
        notifications: &[(String, String)],
    ) -> Result<(), PgError> {
        Ok(cluster_notify::record(
            conn,
            &self.inner.site,
            pid,
            notifications,
        )?)
    }

    /// Forgets the arrivals the writer's holder caused itself (its own
    /// notification rows).
    pub(crate) fn forget_notification_arrivals(&self) {
        cluster_notify::forget(&self.inner.arrivals);
    }

    /// What `set_config` queued on the writer since the last call.
    pub(crate) fn take_writer_settings(&self) -> Vec<(String, String, bool)> {
        self.inner.writer_settings.take()
    }

    /// What `pg_notify` queued on the writer since the last call.
    pub(crate) fn take_writer_notifications(&self) -> Vec<(String, String)> {
        self.inner.writer_outbox.take()
    }

    pub(crate) fn node(&self) -> &NodeHooks {
        &self.inner.node
    }

    /// Where CancelRequests and statement timeouts find sessions.
    pub(crate) fn interrupts(&self) -> &Interrupts {
        &self.inner.interrupts
    }
}
