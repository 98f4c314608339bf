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
            statements: HashMap::new(),
            portals: HashMap::new(),
        })
    }

    /// Turns one statement's text into a plan, translating SQL against the
    /// tables as this session sees them now.
    pub fn plan(&self, sql: &str, given: &[Option<PgType>]) -> Result<Plan, PgError> {
        if sql.trim().is_empty() {
            return Ok(Plan::Empty);
        }
        if let Some(notify) = notify::parse(sql) {
            let (command, notices) = notify?;
            row_feed::check(&self.reader, &*self.db.tables(), &command)?;
            return Ok(Plan::Notify(command, notices));
        }
        if let Some(command) = statement::command(sql) {
            return Ok(Plan::Command(command));
        }
        if let Some(prepare) = prepare::prepare(sql) {
            return Ok(Plan::Prepare(prepare?));
        }
        if let Some(execute) = prepare::execute(sql) {
            return self.plan_execute(execute?);
        }
        let tables = match (&self.writer, self.ddl_in_txn) {
            (Some(writer), true) => Arc::new(Tables::load(writer.conn())?),
            _ => self.db.tables(),
        };
        let user = self.settings.get("session_authorization");
        let catalog = SessionCatalog {
            tables: &tables,
            user: &user,
            pid: self.pid,
            settings: self.settings.values(),
        };
        if let Some(call) = procedures::parse(sql) {
            return Ok(Plan::Call(call?));
        }
        if let Some(call) = subscriptions::parse(sql) {
            let planned = subscriptions::plan_call(call?, &catalog, &self.reader, given)?;
            return Ok(Plan::Subscription(Box::new(planned)));
        }
        if let Some(utility) = utility::plan(sql, &catalog) {
            return Ok(Plan::Utility(Box::new(utility?)));
        }
        let mut translated =
            translate_typed(sql, &catalog, given).map_err(|e| PgError::from(e).located_in(sql))?;
        match translated.len() {
            1 => Ok(Plan::Sql(Box::new(translated.remove(0)))),
            0 => Ok(Plan::Empty),
            _ => Err(PgError::new(
                "42601",
                "cannot insert multiple commands into a prepared statement",
            )),
        }
    }

    /// Plans `EXECUTE name (arguments)`: the prepared statement, and a query
    /// that computes the arguments as its parameter types.
    fn plan_execute(&self, execute: prepare::Execute) -> Result<Plan, PgError> {
        let missing = || {
            PgError::new(
                "26000",
                format!("prepared statement \"{}\" does not exist", execute.name),
            )
        };
        let prepared = self.statements.get(&execute.name).ok_or_else(missing)?;
        let Plan::Sql(statement) = &prepared.plan else {
            return Err(PgError::new(
                "0A000",
                "EXECUTE of a prepared session command is not supported",
            ));
        };
        if execute.arguments.len() != prepared.params.len() {
            return Err(PgError::new(
                "42601",
                format!(
                    "wrong number of parameters for prepared statement \"{}\"",
                    execute.name
                ),
            ));
        }
        let arguments = if execute.arguments.is_empty() {
            None
        } else {
            let casts: Vec<String> = execute
                .arguments
                .iter()
                .zip(&prepared.params)
                .map(|(argument, ty)| format!("({argument})::{ty}"))
                .collect();
            match self.plan(&format!("SELECT {}", casts.join(", ")), &[])? {
                Plan::Sql(arguments) => Some(arguments),
                _ => return Err(PgError::new("42601", "invalid EXECUTE arguments")),
            }
        };
        Ok(Plan::Execute {
            statement: statement.clone(),
            arguments,
        })
    }

    /// Runs PREPARE: plans the statement with the declared parameter types.
    fn prepare(&mut self, prepare: &Prepare) -> Result<Outcome, PgError> {
        if self.statements.contains_key(&prepare.name) {
            return Err(PgError::new(
                "42P05",
                format!("prepared statement \"{}\" already exists", prepare.name),
            ));
        }
        let given = prepare
            .types
            .iter()
            .map(|name| {
                PgType::from_name(name)
                    .map(Some)
                    .ok_or_else(|| PgError::new("42704", format!("type \"{name}\" does not exist")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let plan = self.plan(&prepare.body, &given)?;
        let mut params = plan.params();
        for ty in given.iter().skip(params.len()) {
            params.extend(*ty);
        }
        self.statements
            .insert(prepare.name.clone(), Prepared { plan, params });
        Ok(Outcome {
            rows: Vec::new(),
            tag: "PREPARE".to_owned(),
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
            applied?
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

    async fn command(&mut self, command: &Command) -> Result<Outcome, PgError> {
        let tag = |t: &str| {
            Ok(Outcome {
                rows: Vec::new(),
                tag: t.to_owned(),
            })
        };
        match command {
            Command::Begin(characteristics, begin) => {
                if self.txn == Txn::Idle {
                    // Refused before a block opens, as PostgreSQL does.
                    self.settings.check_characteristics(characteristics)?;
                }
                match (self.txn, self.implicit.take()) {
                    (Txn::Idle, _) => self.open_block(),
                    // BEGIN turns an implicit block into an explicit one.
                    (_, Some(_)) => {}
                    (_, None) => self.warn("25001", "there is already a transaction in progress"),
                }
                self.settings.apply_characteristics(characteristics)?;
                tag(begin)
            }
            Command::SetTransaction(characteristics) => {
                if self.txn == Txn::Idle {
                    self.warn(
                        "25P01",
                        "SET TRANSACTION can only be used in transaction blocks",
                    );
                } else if characteristics.isolation.is_some() && self.block_ran_query {
                    return Err(PgError::new(
                        "25001",
                        "SET TRANSACTION ISOLATION LEVEL must be called before any query",
                    ));
                } else {
                    self.settings.apply_characteristics(characteristics)?;
                }
                tag("SET")
            }
            Command::Commit => {
                if self.txn == Txn::Idle {
                    self.warn("25P01", "there is no transaction in progress");
                }
                let failed = self.txn == Txn::Failed;
                self.finish(if failed { "ROLLBACK" } else { "COMMIT" })
                    .await?;
                tag(if failed { "ROLLBACK" } else { "COMMIT" })
            }
            Command::Rollback => {
                if self.txn == Txn::Idle {
                    self.warn("25P01", "there is no transaction in progress");
                }
                self.finish("ROLLBACK").await?;
                tag("ROLLBACK")
            }
            Command::Savepoint {
                sql,
                tag: name,
                rolls_back,
            } => {
                if self.txn == Txn::Idle || self.implicit.is_some() {
                    return Err(PgError::new(
                        "25P01",
                        format!("{name} can only be used in transaction blocks"),
                    ));
                }
                if self.writer.is_none() {
                    let writer = self.db.writer().await;
                    writer
                        .clock()
                        .start_transaction(self.clock.transaction_start());
                    writer.control("BEGIN IMMEDIATE")?;
                    self.writer = Some(writer);
                }
                let ddl = self.ddl_in_txn;
                if let Some(writer) = &mut self.writer {
                    writer
                        .conn()
                        .execute_batch(sql)
                        .map_err(|e| savepoint_error(e, sql))?;
                    // Rolling back to a savepoint can undo DDL.
                    if *rolls_back && ddl {
                        writer.store().reload_schema()?;
                    }
                }
                if *rolls_back {
                    self.txn = Txn::Block;
                }
                self.notify.savepoint(name, &notify::savepoint_name(sql));
                tag(name)
            }
            Command::Set { name, value, local } => {
                if *local && self.txn == Txn::Idle {
                    self.warn("25P01", "SET LOCAL can only be used in transaction blocks");
                } else {
                    self.settings
                        .set_by_statement(name, value.as_deref(), *local)?;
                }
                tag("SET")
            }
            Command::Show(name) => Ok(Outcome {
                rows: vec![vec![Value::Text(
                    self.settings.show(name, self.txn != Txn::Idle)?,
                )]],
                tag: "SHOW".to_owned(),
            }),
            Command::Reset(name) => {
                self.settings.reset(name.as_deref())?;
                tag("RESET")
            }
            Command::DiscardAll => {
                if self.txn != Txn::Idle && self.implicit != Some(Implicit::Extended) {
                    return Err(PgError::new(
                        "25001",
                        "DISCARD ALL cannot run inside a transaction block",
                    ));
                }
                self.statements.clear();
                self.portals.clear();
                self.settings.reset(None)?;
                tag("DISCARD ALL")
            }
            Command::Deallocate(name) => {
                match name {
                    None => self.statements.clear(),
                    Some(name) => {
                        if self.statements.remove(name).is_none() {
                            return Err(PgError::new(
                                "26000",
                                format!("prepared statement \"{name}\" does not exist"),
                            ));
                        }
                    }
                }
                tag(if name.is_none() {
                    "DEALLOCATE ALL"
                } else {
                    "DEALLOCATE"
                })
            }
            Command::CloseAll => {
                self.portals.clear();
                tag("CLOSE CURSOR ALL")
            }
            Command::NoOp(name) => tag(name),
            Command::AdvisoryUnlockAll => Ok(Outcome {
                rows: vec![vec![Value::Text(String::new())]],
                tag: "SELECT 1".to_owned(),
            }),
        }
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

    /// Applies what `set_config` queued while a statement ran, if it
    /// succeeded. A local one outside a block ends with the statement.
    fn apply_set_config(&mut self, ok: bool) -> Result<(), PgError> {
        let mut queued = set_config::take(&self.settings_outbox);
        queued.extend(self.db.take_writer_settings());
        if !ok {
            return Ok(());
        }
        for (name, value, local) in queued {
            if local && self.txn == Txn::Idle {
                continue;
            }
            self.settings.set_by_statement(&name, Some(&value), local)?;
        }
        Ok(())
    }

    /// Takes what `pg_notify` queued while a statement ran: into the
    /// transaction's queue if it succeeded (sent now outside a block).
    async fn collect_notifications(&mut self, ok: bool) -> Result<(), PgError> {
        let mut queued = notify::take(&self.outbox);
        queued.extend(self.db.take_writer_notifications());
        if !ok || queued.is_empty() {
            return Ok(());
        }
        self.notify.queue(queued);
        if self.txn == Txn::Idle {
            return self.end_notifications().await;
        }
        Ok(())
    }

    /// Commits the notification side of a transaction that holds no
    /// writer (it wrote nothing, or is a statement outside a block): its
    /// LISTEN/UNLISTEN take effect; its notifications are recorded for the
    /// cluster in a transaction of their own and sent.
    async fn end_notifications(&mut self) -> Result<(), PgError> {
        if !self.notify.has_queued() {
            self.notify.end(true);
            self.feeds.sync(&self.db, self.notify.channels()).await;
            return Ok(());
        }
        let writer = self.db.writer().await;
        let recorded = self
            .db
            .record_notifications(writer.conn(), self.pid, self.notify.queued());
        self.notify.end(recorded.is_ok());
        self.db.forget_notification_arrivals();
        drop(writer);
        self.feeds.sync(&self.db, self.notify.channels()).await;
        recorded
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
