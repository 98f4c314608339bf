//! One client session: its settings, its transaction state, its prepared
//! statements and portals, and where each statement runs.
//!
//! Reads outside a write transaction run on the session's own read-only
//! connection and never wait. A write takes the writer: for one statement
//! in autocommit, or from a transaction's first write until it ends (SQLite
//! has one writer; other sessions' writes wait, their reads do not).

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::Connection;
use rusqlite::types::Value;

use super::catalog::{self, SessionCatalog, Tables};
use super::database::{Database, WriterLease};
use super::errors::PgError;
use super::execute::{self, Outcome};
use super::interrupts::{Reason, Running};
use super::notify::{self, NotifyCommand, Outbox, SessionNotify};
use super::prepare::{self, Prepare};
use super::procedures::{self, Procedure};
use super::row_feed::{self, SessionFeeds};
use super::set_config::{self, SettingsOutbox};
use super::settings::{self, Settings};
use super::statement::{self, Command};
use super::subscriptions;
use super::utility::{self, Utility};
use crate::functions::{Clock, SessionClock};
use crate::translate::{Column, StatementKind, Translated, translate_typed};
use crate::types::PgType;

mod commands;
mod planning;
mod side_effects;

/// A statement ready to run.
#[derive(Debug, Clone)]
pub(crate) enum Plan {
    Command(Command),
    Sql(Box<Translated>),
    /// SQL-level PREPARE: the statement is planned when it runs.
    Prepare(Prepare),
    /// SQL-level EXECUTE of a prepared statement, with its arguments as a
    /// query that computes them.
    Execute {
        statement: Box<Translated>,
        arguments: Option<Box<Translated>>,
    },
    /// COPY, TRUNCATE, VACUUM, ANALYZE: run by `utility`, over the wire.
    Utility(Box<Utility>),
    /// `CALL` of one of patina's procedures.
    Call(Procedure),
    /// LISTEN, UNLISTEN or NOTIFY, with the notices parsing raised.
    Notify(NotifyCommand, Vec<PgError>),
    /// `patina_subscribe` or `patina_resume`.
    Subscription(Box<subscriptions::Planned>),
    Empty,
}

impl Plan {
    /// The result columns it returns.
    pub fn columns(&self) -> Vec<Column> {
        match self {
            Plan::Sql(t) | Plan::Execute { statement: t, .. } => t.columns.clone(),
            Plan::Command(Command::Show(name)) => vec![Column {
                name: settings::canonical_name(name).to_owned(),
                ty: PgType::TEXT,
            }],
            Plan::Subscription(call) => call.columns(),
            Plan::Command(Command::AdvisoryUnlockAll) => {
                vec![Column {
                    name: "pg_advisory_unlock_all".to_owned(),
                    ty: PgType::TEXT,
                }]
            }
            _ => Vec::new(),
        }
    }

    pub fn params(&self) -> Vec<PgType> {
        match self {
            Plan::Sql(t) => t.params.clone(),
            Plan::Subscription(call) => call.params(),
            _ => Vec::new(),
        }
    }

    pub fn ends_failed_transaction(&self) -> bool {
        matches!(
            self,
            Plan::Command(
                Command::Rollback
                    | Command::Commit
                    | Command::Savepoint {
                        rolls_back: true,
                        ..
                    }
            )
        )
    }
}

/// Who opened an implicit transaction block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Implicit {
    /// A query string of several statements: it ends with the string.
    Simple,
    /// The extended protocol: it ends at the next Sync.
    Extended,
}

/// Where the session is, transaction-wise (ReadyForQuery's I, T, E).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Txn {
    Idle,
    Block,
    Failed,
}

#[derive(Debug)]
pub(crate) struct Prepared {
    pub plan: Plan,
    pub params: Vec<PgType>,
}

#[derive(Debug)]
pub(crate) struct Portal {
    pub plan: Plan,
    pub params: Vec<Value>,
    pub formats: Vec<i16>,
    /// Rows computed by the first Execute, and how many were sent.
    pub pending: Option<(Outcome, usize)>,
}

pub(crate) struct Session {
    db: Database,
    pub pid: i32,
    pub secret: i32,
    pub settings: Settings,
    /// Warnings of the last statement, to send before its completion.
    pub notices: Vec<PgError>,
    /// A statement other than a session command ran in the open block.
    block_ran_query: bool,
    clock: Arc<SessionClock>,
    /// The statement running now, for CancelRequest and statement_timeout.
    running: Arc<Running>,
    reader: Connection,
    /// What `pg_notify` on `reader` queued.
    outbox: Outbox,
    /// What `set_config` on `reader` queued.
    settings_outbox: SettingsOutbox,
    /// LISTEN/NOTIFY: the channels listened to, the transaction's queue,
    /// the notifications waiting to be delivered.
    pub notify: SessionNotify,
    /// The captures of the row change feeds it listens to.
    feeds: SessionFeeds,
    writer: Option<WriterLease>,
    pub txn: Txn,
    /// The current block is implicit: opened for a multi-statement query
    /// string, or by the extended protocol until the next Sync.
    implicit: Option<Implicit>,
    ddl_in_txn: bool,
    /// What the open transaction created or truncated, for COPY FREEZE.
    pub fresh: super::copy_freeze::FreshTables,
    pub statements: HashMap<String, Prepared>,
    pub portals: HashMap<String, Portal>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.db.interrupts().unregister(self.pid);
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("pid", &self.pid)
            .field("txn", &self.txn)
            .finish()
    }
}

impl Session {
    pub fn new(db: Database, user: &str) -> Result<Session, PgError> {
        let clock = Arc::new(SessionClock::new(SessionClock::system_now()));
        let reader = db
            .open_reader(clock.clone())
            .map_err(|e| PgError::new("58000", e.to_string()))?;
        let outbox = Outbox::default();
        notify::register(&reader, outbox.clone())?;
        let settings_outbox = SettingsOutbox::default();
        set_config::register(&reader, settings_outbox.clone())?;
        let pid = db.next_pid();
        let notify = SessionNotify::new(pid, db.hub());
        let secret = cancel_secret();
        let running = db.interrupts().register(pid, secret);
        Ok(Session {
            db,
            pid,
            secret,
            running,
            settings: Settings::new(user),
            notices: Vec::new(),
            block_ran_query: false,
            clock,
            reader,
            outbox,
            settings_outbox,
            notify,
            feeds: SessionFeeds::default(),
            writer: None,
            txn: Txn::Idle,
            implicit: None,
            ddl_in_txn: false,
            fresh: Default::default(),
            statements: HashMap::new(),
            portals: HashMap::new(),
        })
    }

    /// Runs a plan with bound parameters, keeping PostgreSQL's transaction
    /// rules: in a failed block only ROLLBACK (or COMMIT, which rolls back)
    /// and ROLLBACK TO run; an error inside a block fails it.
    pub async fn run(&mut self, plan: &Plan, params: &[Value]) -> Result<Outcome, PgError> {
        if self.txn == Txn::Failed && !plan.ends_failed_transaction() {
            return Err(PgError::in_failed_transaction());
        }
        if self.txn == Txn::Idle {
            self.clock.start_transaction(SessionClock::system_now());
        }
        metrics::counter!("patina_pg_statements_total", "kind" => statement_kind(plan))
            .increment(1);
        let result = match plan {
            Plan::Empty => Ok(Outcome::default()),
            Plan::Command(command) => self.command(command).await,
            Plan::Sql(statement) => {
                self.block_ran_query = true;
                self.sql(statement, params).await
            }
            Plan::Prepare(prepare) => self.prepare(prepare),
            Plan::Utility(_) => Err(PgError::new(
                "0A000",
                "this statement cannot run as part of another",
            )),
            Plan::Execute {
                statement,
                arguments,
            } => {
                self.block_ran_query = true;
                self.execute_prepared(statement, arguments.as_deref()).await
            }
            Plan::Notify(command, notices) => {
                self.notices.extend(notices.iter().cloned());
                self.notify.command(command);
                let ended = if self.txn == Txn::Idle {
                    self.end_notifications().await
                } else {
                    Ok(())
                };
                ended.map(|()| Outcome {
                    rows: Vec::new(),
                    tag: command.tag().to_owned(),
                })
            }
            Plan::Subscription(call) => {
                let holds_writer = self.writer.is_some();
                subscriptions::run(&self.db, call, params, &mut self.notify, holds_writer)
                    .await
                    .map(|(rows, notices)| {
                        self.notices.extend(notices);
                        Outcome {
                            tag: format!("SELECT {}", rows.len()),
                            rows,
                        }
                    })
            }
            Plan::Call(procedure) => {
                // The procedure takes the writer itself.
                let in_block = self.txn != Txn::Idle || self.writer.is_some();
                // Boxed: reloading runs statements in a session of its own.
                Box::pin(procedures::call(&self.db, *procedure, in_block))
                    .await
                    .map(|notices| {
                        self.notices.extend(notices);
                        Outcome {
                            rows: Vec::new(),
                            tag: "CALL".to_owned(),
                        }
                    })
            }
        };
        let result = match (result, plan) {
            (Ok(outcome), Plan::Sql(_) | Plan::Execute { .. }) => {
                let configured = self.apply_set_config(true);
                let notified = self.collect_notifications(configured.is_ok()).await;
                configured.and(notified).map(|()| outcome)
            }
            (Err(error), Plan::Sql(_) | Plan::Execute { .. }) => {
                self.apply_set_config(false)?;
                self.collect_notifications(false).await?;
                Err(error)
            }
            (result, _) => result,
        };
        if result.is_err() && self.txn == Txn::Block {
            self.txn = Txn::Failed;
        }
        result
    }

    /// Runs EXECUTE: computes the arguments, then the statement with them.
    async fn execute_prepared(
        &mut self,
        statement: &Translated,
        arguments: Option<&Translated>,
    ) -> Result<Outcome, PgError> {
        let params = match arguments {
            Some(arguments) => self
                .run_on(&self.reader, arguments, &[])?
                .rows
                .pop()
                .unwrap_or_default(),
            None => Vec::new(),
        };
        self.sql(statement, &params).await
    }

    /// Runs a statement on one of the session's connections, where it can
    /// be interrupted.
    fn run_on(
        &self,
        conn: &Connection,
        statement: &Translated,
        params: &[Value],
    ) -> Result<Outcome, PgError> {
        let timeout = self.settings.duration("statement_timeout");
        interruptible(&self.running, timeout, conn, statement, params)
    }

    /// The node's database file.
    pub fn database_path(&self) -> &std::path::Path {
        self.db.path()
    }

    /// Starts a read whose rows the caller steps through itself (COPY TO
    /// streams them, see `copy_out`): the connection it runs on (the
    /// writer, when the block holds it), what a CancelRequest interrupts,
    /// and the statement timeout.
    pub fn streaming_read(&mut self) -> (&Connection, &Running, Option<std::time::Duration>) {
        if self.txn == Txn::Idle {
            self.clock.start_transaction(SessionClock::system_now());
        }
        self.block_ran_query = true;
        metrics::counter!("patina_pg_statements_total", "kind" => "Select").increment(1);
        let conn = self.writer.as_ref().map_or(&self.reader, |w| w.conn());
        let timeout = self.settings.duration("statement_timeout");
        (conn, &self.running, timeout)
    }

    /// A statement failed before it could run: a block it was in fails.
    pub fn fail(&mut self) {
        if self.txn == Txn::Block {
            self.txn = Txn::Failed;
        }
    }

    /// Opens an implicit block, unless a block is already open.
    pub fn begin_implicit(&mut self, kind: Implicit) {
        if self.txn == Txn::Idle {
            self.open_block();
            self.implicit = Some(kind);
        }
    }

    /// Opens a transaction block, with the session's default
    /// characteristics.
    fn open_block(&mut self) {
        self.txn = Txn::Block;
        self.block_ran_query = false;
        self.settings.begin_block();
    }

    fn warn(&mut self, code: &str, message: impl Into<String>) {
        self.notices.push(PgError::new(code, message));
    }

    /// Ends an implicit block: commit if it went well, roll back if not.
    pub async fn end_implicit(&mut self) -> Result<(), PgError> {
        if self.implicit.take().is_none() {
            return Ok(());
        }
        if self.txn == Txn::Block {
            self.finish("COMMIT").await
        } else {
            self.finish("ROLLBACK").await
        }
    }

    async fn sql(&mut self, statement: &Translated, params: &[Value]) -> Result<Outcome, PgError> {
        let writes = !matches!(statement.kind, StatementKind::Select) || statement.locks_rows();
        if writes && self.settings.read_only(self.txn != Txn::Idle) {
            return Err(PgError::new(
                "25006",
                format!(
                    "cannot execute {} in a read-only transaction",
                    execute::verb(statement)
                ),
            ));
        }
        if self.writer.is_none() && !writes {
            return self.run_on(&self.reader, statement, params);
        }
        let in_block = self.txn != Txn::Idle;
        if self.writer.is_none() {
            let writer = self.db.writer().await;
            writer
                .clock()
                .start_transaction(self.clock.transaction_start());
            if in_block {
                writer.control("BEGIN IMMEDIATE")?;
            }
            self.writer = Some(writer);
        }
        let result = self.on_writer(statement, params, in_block);
        if !in_block {
            self.writer = None;
        }
        result
    }

    fn on_writer(
        &mut self,
        statement: &Translated,
        params: &[Value],
        in_block: bool,
    ) -> Result<Outcome, PgError> {
        let db = self.db.clone();
        let timeout = self.settings.duration("statement_timeout");
        let Some(writer) = self.writer.as_mut() else {
            return Err(PgError::new("XX000", "the writer is not held"));
        };
        // Index DDL goes through the store too: it judges the index (a
        // UNIQUE one outside the key cannot hold across replicas) and
        // records it in the replicated schema.
        let index = matches!(
            statement.kind,
            StatementKind::CreateIndex | StatementKind::DropIndex
        );
        if statement.ddl.is_none() && !index {
            return interruptible(&self.running, timeout, writer.conn(), statement, params);
        }
        if !in_block {
            writer.control("BEGIN IMMEDIATE")?;
        }
        let change = match &statement.ddl {
            Some(ddl) => match &ddl.add_primary_key {
                Some(key) => writer.store().add_primary_key(&ddl.table, key),
                None => writer.store().apply_ddl(&ddl.sql),
            },
            None => writer.store().apply_ddl(&statement.sql),
        };
        let applied = change.map_err(PgError::from).and_then(|change| {
            if let Some(ddl) = &statement.ddl {
                catalog::record(writer.conn(), statement.kind, ddl)?;
            }
            Ok(change)
        });
        let change = if in_block {
            self.ddl_in_txn = true;
            let change = applied?;
            if let (StatementKind::CreateTable, Some(ddl)) = (statement.kind, &statement.ddl) {
                self.fresh.touched(&ddl.table);
            }
            change
        } else {
            let end = if applied.is_ok() {
                "COMMIT"
            } else {
                "ROLLBACK"
            };
            writer.control(end)?;
            let change = applied?;
            db.reload_tables(writer.conn())?;
            change
        };
        for table in change.local_tables {
            self.warn("01000", super::utility::local_table_warning(&table));
        }
        Ok(Outcome {
            rows: Vec::new(),
            tag: execute::tag(statement, 0, 0),
        })
    }

    /// Ends the open block with `COMMIT` or `ROLLBACK`.
    async fn finish(&mut self, end: &str) -> Result<(), PgError> {
        self.txn = Txn::Idle;
        self.fresh.end();
        self.implicit = None;
        self.settings.end_block(end == "COMMIT");
        // Portals live as long as their transaction.
        self.portals.clear();
        let committing = end == "COMMIT";
        let Some(mut writer) = self.writer.take() else {
            if committing {
                return self.end_notifications().await;
            }
            self.notify.end(false);
            return Ok(());
        };
        let ddl = std::mem::take(&mut self.ddl_in_txn);
        let recorded = if committing && self.notify.has_queued() {
            self.db
                .record_notifications(writer.conn(), self.pid, self.notify.queued())
        } else {
            Ok(())
        };
        let ended = match recorded {
            Ok(()) => writer.control(end).map_err(PgError::from),
            Err(error) => writer
                .control("ROLLBACK")
                .map_err(PgError::from)
                .and(Err(error)),
        };
        // Still holding the writer: row changes, then notifications, go
        // out in commit order.
        writer.settle_row_changes();
        self.notify.end(committing && ended.is_ok());
        self.db.forget_notification_arrivals();
        ended?;
        if ddl {
            writer.store().reload_schema()?;
            self.db.reload_tables(writer.conn())?;
        }
        drop(writer);
        self.feeds.sync(&self.db, self.notify.channels()).await;
        Ok(())
    }

    /// Ends the session: an open transaction is rolled back.
    pub async fn close(&mut self) {
        if self.writer.is_some()
            && let Err(error) = self.finish("ROLLBACK").await
        {
            tracing::warn!(%error, "rolling back at disconnect failed");
        }
        self.notify.close();
    }
}

/// The `kind` label of the statements metric: the SQL statement's kind
/// (`Select`, `Insert`, `CreateTable`, …), else what the plan is.
fn statement_kind(plan: &Plan) -> String {
    match plan {
        Plan::Sql(statement) | Plan::Execute { statement, .. } => format!("{:?}", statement.kind),
        Plan::Command(_) => "Command".to_owned(),
        Plan::Prepare(_) => "Prepare".to_owned(),
        Plan::Utility(_) => "Utility".to_owned(),
        Plan::Call(_) => "Call".to_owned(),
        Plan::Notify(..) => "Notify".to_owned(),
        Plan::Subscription(_) => "Subscription".to_owned(),
        Plan::Empty => "Empty".to_owned(),
    }
}

fn savepoint_error(error: rusqlite::Error, sql: &str) -> PgError {
    let message = error.to_string();
    if message.contains("no such savepoint") {
        let name = sql.split_whitespace().last().unwrap_or("");
        return PgError::new("3B001", format!("savepoint \"{name}\" does not exist"));
    }
    PgError::from(error)
}

/// The secret a CancelRequest must present.
fn cancel_secret() -> i32 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// Runs a statement on `conn` where a CancelRequest or the statement
/// timeout can interrupt it.
fn interruptible(
    running: &Running,
    timeout: Option<std::time::Duration>,
    conn: &Connection,
    statement: &Translated,
    params: &[Value],
) -> Result<Outcome, PgError> {
    let guard = running.start(conn, timeout);
    if let Some(reason @ Reason::Terminate) = guard.interrupted() {
        return Err(PgError::new(reason.code(), reason.message()));
    }
    let result = execute::run(conn, statement, params);
    match (result, guard.interrupted()) {
        (Err(error), Some(reason)) if error.code == "57014" => {
            Err(PgError::new(reason.code(), reason.message()))
        }
        (result, _) => result,
    }
}
