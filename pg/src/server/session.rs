//! One client session: its settings, its transaction state, its prepared
//! statements and portals, and where each statement runs.
//!
//! Reads outside a write transaction run on the session's own read-only
//! connection and never wait. A write takes the writer: for one statement
//! in autocommit, or from a transaction's first write until it ends (SQLite
//! has one writer; other sessions' writes wait, their reads do not).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rusqlite::Connection;
use rusqlite::types::Value;

use super::catalog::{self, SessionCatalog, Tables};
use super::database::{Database, WriterLease};
use super::errors::PgError;
use super::execute::{self, Outcome};
use super::prepare::{self, Prepare};
use super::statement::{self, Characteristics, Command};
use crate::functions::{Clock, SessionClock};
use crate::translate::{Column, StatementKind, Translated, translate_typed};
use crate::types::PgType;

pub(crate) const SERVER_VERSION: &str = "15.8";

/// Settings reported to the client at startup and whenever they change
/// (PostgreSQL's GUC_REPORT ones), with their defaults.
const REPORTED: &[(&str, &str)] = &[
    ("server_version", SERVER_VERSION),
    ("server_encoding", "UTF8"),
    ("client_encoding", "UTF8"),
    ("DateStyle", "ISO, MDY"),
    ("IntervalStyle", "postgres"),
    ("TimeZone", "UTC"),
    ("integer_datetimes", "on"),
    ("standard_conforming_strings", "on"),
    ("is_superuser", "on"),
    ("default_transaction_read_only", "off"),
    ("in_hot_standby", "off"),
    ("application_name", ""),
];

/// Other settings SHOW answers.
const OTHERS: &[(&str, &str)] = &[
    ("transaction_isolation", "read committed"),
    ("default_transaction_isolation", "read committed"),
    ("transaction_read_only", "off"),
    ("extra_float_digits", "1"),
    ("search_path", "\"$user\", public"),
    ("max_identifier_length", "63"),
    ("server_version_num", "150008"),
    ("statement_timeout", "0"),
    ("lc_collate", "C"),
    ("lc_ctype", "C"),
    ("bytea_output", "hex"),
    ("client_min_messages", "notice"),
    ("lock_timeout", "0"),
    ("idle_in_transaction_session_timeout", "0"),
];

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
    Empty,
}

impl Plan {
    /// The result columns it returns.
    pub fn columns(&self) -> Vec<Column> {
        match self {
            Plan::Sql(t) | Plan::Execute { statement: t, .. } => t.columns.clone(),
            Plan::Command(Command::Show(name)) => vec![Column {
                name: show_name(name).to_owned(),
                ty: PgType::TEXT,
            }],
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
    settings: BTreeMap<String, String>,
    /// Settings changed by the last statement, to report.
    pub changed: Vec<(String, String)>,
    /// What RESET goes back to: the defaults, and what the client asked
    /// for at startup.
    reset_values: BTreeMap<String, String>,
    /// Warnings of the last statement, to send before its completion.
    pub notices: Vec<PgError>,
    /// The settings when the open block began: a rollback restores them,
    /// and a commit restores those that SET LOCAL changed.
    block_settings: Option<BTreeMap<String, String>>,
    /// The settings SET LOCAL changed in the open block.
    local_settings: Vec<String>,
    /// A statement other than a session command ran in the open block.
    block_ran_query: bool,
    clock: Arc<SessionClock>,
    reader: Connection,
    writer: Option<WriterLease>,
    pub txn: Txn,
    /// The current block is implicit: opened for a multi-statement query
    /// string, or by the extended protocol until the next Sync.
    implicit: Option<Implicit>,
    ddl_in_txn: bool,
    pub statements: HashMap<String, Prepared>,
    pub portals: HashMap<String, Portal>,
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
        let mut settings: BTreeMap<String, String> = REPORTED
            .iter()
            .chain(OTHERS)
            .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
            .collect();
        settings.insert("session_authorization".to_owned(), user.to_owned());
        let pid = db.next_pid();
        Ok(Session {
            db,
            pid,
            secret: rand_secret(pid),
            settings,
            changed: Vec::new(),
            notices: Vec::new(),
            reset_values: BTreeMap::new(),
            block_settings: None,
            local_settings: Vec::new(),
            block_ran_query: false,
            clock,
            reader,
            writer: None,
            txn: Txn::Idle,
            implicit: None,
            ddl_in_txn: false,
            statements: HashMap::new(),
            portals: HashMap::new(),
        })
    }

    /// Applies the settings of the startup packet (parameters and `-c`
    /// options); they become what RESET goes back to. A value patina
    /// cannot take (a time zone other than UTC) keeps the default.
    pub fn apply_startup(&mut self, startup: &BTreeMap<String, String>) {
        let options = startup.get("options").map(String::as_str).unwrap_or("");
        let given = startup
            .iter()
            .filter(|(name, _)| {
                !matches!(
                    name.as_str(),
                    "user" | "database" | "options" | "replication"
                )
            })
            .map(|(name, value)| (name.clone(), value.clone()))
            .chain(statement::startup_options(options));
        for (name, value) in given {
            let name = name.to_ascii_lowercase();
            if let Err(error) = self.set(&name, value) {
                tracing::debug!(%name, %error, "startup setting ignored");
            }
        }
        self.changed.clear();
        self.reset_values = self.settings.clone();
    }

    /// The settings to report at startup, with their current values.
    pub fn reported_settings(&self) -> Vec<(String, String)> {
        REPORTED
            .iter()
            .map(|(name, _)| (name.to_string(), self.setting(name)))
            .chain([(
                "session_authorization".to_owned(),
                self.setting("session_authorization"),
            )])
            .collect()
    }

    fn setting(&self, name: &str) -> String {
        self.settings
            .get(&name.to_ascii_lowercase())
            .cloned()
            .unwrap_or_default()
    }

    /// Turns one statement's text into a plan, translating SQL against the
    /// tables as this session sees them now.
    pub fn plan(&self, sql: &str, given: &[Option<PgType>]) -> Result<Plan, PgError> {
        if sql.trim().is_empty() {
            return Ok(Plan::Empty);
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
        let user = self.setting("session_authorization");
        let catalog = SessionCatalog {
            tables: &tables,
            user: &user,
            pid: self.pid,
            settings: &self.settings,
        };
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
        let result = match plan {
            Plan::Empty => Ok(Outcome::default()),
            Plan::Command(command) => self.command(command).await,
            Plan::Sql(statement) => {
                self.block_ran_query = true;
                self.sql(statement, params).await
            }
            Plan::Prepare(prepare) => self.prepare(prepare),
            Plan::Execute {
                statement,
                arguments,
            } => {
                self.block_ran_query = true;
                let params = match arguments {
                    Some(arguments) => execute::run(&self.reader, arguments, &[])?
                        .rows
                        .pop()
                        .unwrap_or_default(),
                    None => Vec::new(),
                };
                self.sql(statement, &params).await
            }
        };
        if result.is_err() && self.txn == Txn::Block {
            self.txn = Txn::Failed;
        }
        result
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
        self.block_settings = Some(self.settings.clone());
        self.block_ran_query = false;
        for (current, default) in [
            ("transaction_isolation", "default_transaction_isolation"),
            ("transaction_read_only", "default_transaction_read_only"),
        ] {
            let value = self.setting(default);
            self.settings.insert(current.to_owned(), value);
        }
    }

    /// Puts back the settings a block changed that do not outlive it: all
    /// of them after a rollback, those of SET LOCAL after a commit.
    fn close_block_settings(&mut self, committed: bool) {
        let Some(before) = self.block_settings.take() else {
            return;
        };
        let locals = std::mem::take(&mut self.local_settings);
        let names: Vec<String> = if committed {
            locals
        } else {
            before.keys().cloned().collect()
        };
        for name in names {
            if let Some(value) = before.get(&name) {
                self.assign(&name, value.clone());
            }
        }
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
        if writes && self.read_only() {
            return Err(PgError::new(
                "25006",
                format!(
                    "cannot execute {} in a read-only transaction",
                    execute::verb(statement)
                ),
            ));
        }
        if self.writer.is_none() && !writes {
            return execute::run(&self.reader, statement, params);
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
        let Some(writer) = self.writer.as_mut() else {
            return Err(PgError::new("XX000", "the writer is not held"));
        };
        let Some(ddl) = &statement.ddl else {
            return execute::run(writer.conn(), statement, params);
        };
        if !in_block {
            writer.control("BEGIN IMMEDIATE")?;
        }
        let applied = writer
            .store()
            .apply_ddl(&ddl.sql)
            .map_err(PgError::from)
            .and_then(|_| Ok(catalog::record(writer.conn(), statement.kind, ddl)?));
        if in_block {
            self.ddl_in_txn = true;
            applied?;
        } else {
            let end = if applied.is_ok() {
                "COMMIT"
            } else {
                "ROLLBACK"
            };
            writer.control(end)?;
            applied?;
            db.reload_tables(writer.conn())?;
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
        self.close_block_settings(end == "COMMIT");
        // Portals live as long as their transaction.
        self.portals.clear();
        let Some(mut writer) = self.writer.take() else {
            return Ok(());
        };
        let ddl = std::mem::take(&mut self.ddl_in_txn);
        writer.control(end)?;
        if ddl {
            writer.store().reload_schema()?;
            self.db.reload_tables(writer.conn())?;
        }
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
                match (self.txn, self.implicit.take()) {
                    (Txn::Idle, _) => self.open_block(),
                    // BEGIN turns an implicit block into an explicit one.
                    (_, Some(_)) => {}
                    (_, None) => self.warn("25001", "there is already a transaction in progress"),
                }
                self.apply_characteristics(characteristics);
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
                    self.apply_characteristics(characteristics);
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
                tag(name)
            }
            Command::Set { name, value, local } => {
                let value = match value {
                    Some(v) => v.clone(),
                    None => self.reset_value(name),
                };
                if *local && self.txn == Txn::Idle {
                    self.warn("25P01", "SET LOCAL can only be used in transaction blocks");
                    return tag("SET");
                }
                self.set(name, value)?;
                if *local {
                    self.local_settings.push(name.clone());
                }
                tag("SET")
            }
            Command::Show(name) => {
                let name = show_name(name);
                let name = match (name, self.txn) {
                    ("transaction_isolation", Txn::Idle) => "default_transaction_isolation",
                    ("transaction_read_only", Txn::Idle) => "default_transaction_read_only",
                    (name, _) => name,
                };
                let Some(value) = self.settings.get(&name.to_ascii_lowercase()) else {
                    return Err(PgError::new(
                        "42704",
                        format!("unrecognized configuration parameter \"{name}\""),
                    ));
                };
                Ok(Outcome {
                    rows: vec![vec![Value::Text(value.clone())]],
                    tag: "SHOW".to_owned(),
                })
            }
            Command::Reset(name) => {
                match name {
                    Some(name) => self.set(name, self.reset_value(name))?,
                    None => self.reset_all()?,
                }
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
                self.reset_all()?;
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

    fn apply_characteristics(&mut self, characteristics: &Characteristics) {
        if let Some(isolation) = &characteristics.isolation {
            self.settings
                .insert("transaction_isolation".to_owned(), isolation.clone());
        }
        if let Some(read_only) = characteristics.read_only {
            let value = if read_only { "on" } else { "off" };
            self.settings
                .insert("transaction_read_only".to_owned(), value.to_owned());
        }
    }

    /// Whether a write would break the transaction's READ ONLY.
    fn read_only(&self) -> bool {
        let name = match self.txn {
            Txn::Idle => "default_transaction_read_only",
            _ => "transaction_read_only",
        };
        matches!(self.setting(name).as_str(), "on" | "true" | "1" | "yes")
    }

    fn reset_all(&mut self) -> Result<(), PgError> {
        for (name, value) in self.reset_values.clone() {
            self.set(&name, value)?;
        }
        Ok(())
    }

    fn reset_value(&self, name: &str) -> String {
        self.reset_values
            .get(&name.to_ascii_lowercase())
            .cloned()
            .unwrap_or_default()
    }

    fn set(&mut self, name: &str, value: String) -> Result<(), PgError> {
        let unsupported =
            |what: &str| PgError::new("0A000", format!("patina sessions only support {what}"));
        match name {
            "timezone"
                if !matches!(
                    value.to_ascii_uppercase().as_str(),
                    "UTC" | "GMT" | "ETC/UTC" | "Z" | "UCT" | "ZULU" | "+00" | "0"
                ) =>
            {
                return Err(unsupported("TimeZone UTC"));
            }
            "datestyle" if !value.to_ascii_uppercase().starts_with("ISO") => {
                return Err(unsupported("DateStyle ISO"));
            }
            "client_encoding"
                if !matches!(
                    value.to_ascii_uppercase().replace('-', "").as_str(),
                    "UTF8" | "UNICODE"
                ) =>
            {
                return Err(unsupported("client_encoding UTF8"));
            }
            _ => {}
        }
        let value = match name {
            "datestyle" => "ISO, MDY".to_owned(),
            "timezone" => "UTC".to_owned(),
            "client_encoding" => "UTF8".to_owned(),
            _ => value,
        };
        self.assign(name, value);
        Ok(())
    }

    /// Stores a setting's value, reporting it if the client tracks it.
    fn assign(&mut self, name: &str, value: String) {
        if let Some((reported, _)) = REPORTED.iter().find(|(n, _)| n.eq_ignore_ascii_case(name))
            && self.settings.get(name) != Some(&value)
        {
            self.changed.push((reported.to_string(), value.clone()));
        }
        self.settings.insert(name.to_owned(), value);
    }

    /// Ends the session: an open transaction is rolled back.
    pub async fn close(&mut self) {
        if self.writer.is_some()
            && let Err(error) = self.finish("ROLLBACK").await
        {
            tracing::warn!(%error, "rolling back at disconnect failed");
        }
    }
}

/// The setting a SHOW names (`SHOW TRANSACTION ISOLATION LEVEL` is
/// `transaction_isolation`).
fn show_name(name: &str) -> &str {
    match name {
        "transaction isolation level" => "transaction_isolation",
        other => REPORTED
            .iter()
            .chain(OTHERS)
            .map(|(known, _)| *known)
            .find(|known| known.eq_ignore_ascii_case(other))
            .unwrap_or(other),
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
fn rand_secret(pid: i32) -> i32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    (nanos as i32) ^ pid.rotate_left(16)
}
