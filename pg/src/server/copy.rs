//! COPY on the wire: planning a COPY statement against the tables, then
//! its sub-protocol.
//!
//! COPY FROM STDIN answers CopyInResponse and reads CopyData until
//! CopyDone (CopyFail aborts it with 57014; Sync and Flush are ignored, as
//! PostgreSQL does for clients that send them without noticing the
//! statement was a COPY). Rows are parsed as they arrive
//! ([`super::copy_format`]) and inserted in batches through a translated
//! multi-row INSERT, on the writer like any INSERT (so change capture sees
//! them) and inside one transaction: the session's block, or one of the
//! COPY's own, which any error rolls back whole. COPY TO STDOUT streams
//! its query's rows ([`super::copy_out`]).
//! Server files and programs are refused (42501): patina reads and writes
//! no files for SQL.

use std::io;

use bytes::BytesMut;
use futures::{Sink, SinkExt, Stream, StreamExt};
use pgwire::error::PgWireError;
use pgwire::messages::copy::CopyInResponse;
use pgwire::messages::{PgWireBackendMessage as Out, PgWireFrontendMessage as In};
use rusqlite::types::Value;

use super::copy_format::{Decoder, FormatError, Row};
use super::encode::{self, BINARY};
use super::errors::PgError;
use super::session::{Implicit, Plan, Session, Txn};
use crate::translate::{
    Catalog, Column, CopyFormat, CopySource, CopyStatement, Endpoint, ForceQuote, StatementKind,
    Translated, translate_typed,
};
use crate::types::PgType;

/// Rows per INSERT, at most (fewer for wide tables: SQLite binds at most
/// 32766 parameters).
const BATCH_ROWS: usize = 500;

/// A COPY ready to run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CopyPlan {
    pub(super) statement: CopyStatement,
    /// The relation named in error contexts (`COPY t, line 3`).
    pub(super) relation: String,
    /// COPY FROM: the table. COPY TO: the query's result columns.
    pub(super) columns: Vec<Column>,
    /// COPY TO: the query.
    pub(super) query: Option<Box<Translated>>,
}

/// Plans a COPY statement: the table and columns it copies, or the query.
pub(crate) fn plan(sql: &str, catalog: &dyn Catalog) -> Result<CopyPlan, PgError> {
    let statement = crate::translate::parse_copy(sql).map_err(PgError::from)?;
    match &statement.endpoint {
        Endpoint::Client => {}
        Endpoint::File(_) => {
            let (role, what) = if statement.from {
                ("pg_read_server_files", "COPY from a file")
            } else {
                ("pg_write_server_files", "COPY to a file")
            };
            return Err(refused(role, what));
        }
        Endpoint::Program(_) => {
            return Err(refused(
                "pg_execute_server_program",
                "COPY to or from an external program",
            ));
        }
    }
    let (relation, columns, query) = match &statement.source {
        CopySource::Table { name, columns } => {
            let table = catalog.columns(name).ok_or_else(|| {
                PgError::new("42P01", format!("relation \"{name}\" does not exist"))
            })?;
            let mut chosen = Vec::new();
            for column in columns {
                let Some((name, ty)) = table.iter().find(|(n, _)| n == column) else {
                    return Err(PgError::new(
                        "42703",
                        format!("column \"{column}\" of relation \"{name}\" does not exist"),
                    ));
                };
                if chosen.iter().any(|c: &Column| c.name == *name) {
                    return Err(PgError::new(
                        "42701",
                        format!("column \"{name}\" specified more than once"),
                    ));
                }
                chosen.push(Column {
                    name: name.clone(),
                    ty: *ty,
                });
            }
            if columns.is_empty() {
                chosen = table
                    .into_iter()
                    .map(|(name, ty)| Column { name, ty })
                    .collect();
            }
            let query = (!statement.from).then(|| {
                let list: Vec<String> = chosen.iter().map(|c| quote(&c.name)).collect();
                format!("SELECT {} FROM {}", list.join(", "), quote(name))
            });
            (name.clone(), chosen, query)
        }
        CopySource::Query(query) => (String::new(), Vec::new(), Some(query.clone())),
        CopySource::Backup => (
            "patina.backup".to_owned(),
            vec![Column {
                name: "backup".to_owned(),
                ty: PgType::BYTEA,
            }],
            None,
        ),
    };
    let query = match query {
        Some(query) => {
            let mut translated = translate_typed(&query, catalog, &[])
                .map_err(|e| PgError::from(e).located_in(&query))?;
            match (translated.len(), translated.first().map(|t| t.kind)) {
                (1, Some(StatementKind::Select)) => Some(Box::new(translated.remove(0))),
                _ => {
                    return Err(PgError::new(
                        "0A000",
                        "COPY query must be a single SELECT or VALUES",
                    ));
                }
            }
        }
        None => None,
    };
    let columns = match &query {
        Some(query) if columns.is_empty() => query.columns.clone(),
        _ => columns,
    };
    let names: Vec<&String> = columns.iter().map(|c| &c.name).collect();
    for listed in statement
        .options
        .force_not_null
        .iter()
        .map(|c| ("FORCE_NOT_NULL", c))
        .chain(
            statement
                .options
                .force_null
                .iter()
                .map(|c| ("FORCE_NULL", c)),
        )
        .chain(match &statement.options.force_quote {
            ForceQuote::Columns(list) => list.iter().map(|c| ("FORCE_QUOTE", c)).collect(),
            _ => Vec::new(),
        })
    {
        if !names.contains(&listed.1) {
            return Err(PgError::new(
                "42P10",
                format!(
                    "{} column \"{}\" not referenced by COPY",
                    listed.0, listed.1
                ),
            ));
        }
    }
    Ok(CopyPlan {
        statement,
        relation,
        columns,
        query,
    })
}

fn refused(role: &str, what: &str) -> PgError {
    let mut error = PgError::new(
        "42501",
        format!("must be superuser or have privileges of the {role} role to {what}"),
    );
    error.fields.push((
        b'H',
        "Anyone can COPY to stdout or from stdin. psql's \\copy command also works for anyone."
            .to_owned(),
    ));
    error
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Runs a planned COPY over the client connection: `Ok(Ok(tag))` when it
/// completed (the caller sends CommandComplete), `Ok(Err)` for an error to
/// report, `Err` when the connection failed.
pub(crate) async fn run<W>(
    wire: &mut W,
    session: &mut Session,
    plan: &CopyPlan,
) -> io::Result<Result<String, PgError>>
where
    W: Stream<Item = Result<In, PgWireError>> + Sink<Out, Error = io::Error> + Unpin,
{
    if session.txn == Txn::Failed {
        return Ok(Err(PgError::in_failed_transaction()));
    }
    if plan.statement.from {
        if session.settings.read_only(session.txn != Txn::Idle) {
            return Ok(Err(PgError::new(
                "25006",
                "cannot execute COPY FROM in a read-only transaction",
            )));
        }
        // A COPY outside a block is a block of its own: all rows or none.
        let own = session.txn == Txn::Idle;
        if own {
            session.begin_implicit(Implicit::Simple);
        }
        let result = copy_in(wire, session, plan).await?;
        if result.is_err() {
            session.fail();
        }
        if own && let Err(error) = session.end_implicit().await {
            return Ok(Err(error));
        }
        Ok(result.map(|rows| format!("COPY {rows}")))
    } else if plan.statement.source == CopySource::Backup {
        super::backup::run(wire, session).await
    } else {
        super::copy_out::run(wire, session, plan).await
    }
}

pub(super) fn format_code(plan: &CopyPlan) -> i8 {
    i8::from(plan.statement.options.format == CopyFormat::Binary)
}

/// COPY FROM STDIN: the number of rows inserted.
async fn copy_in<W>(
    wire: &mut W,
    session: &mut Session,
    plan: &CopyPlan,
) -> io::Result<Result<u64, PgError>>
where
    W: Stream<Item = Result<In, PgWireError>> + Sink<Out, Error = io::Error> + Unpin,
{
    let format = format_code(plan);
    let columns = plan.columns.len();
    wire.send(Out::CopyInResponse(CopyInResponse::new(
        format,
        columns as i16,
        vec![i16::from(format); columns],
    )))
    .await?;
    // PostgreSQL checks FREEZE once the copy has begun (the client's data
    // is then ignored up to its CopyDone)
    if plan.statement.options.freeze
        && let Err(error) = session.fresh.check_freeze(&plan.relation)
    {
        return Ok(Err(error));
    }
    let mut decoder = Decoder::new(
        plan.statement.options.clone(),
        plan.columns.iter().map(|c| c.name.clone()).collect(),
    );
    let mut inserter = Inserter::new(plan);
    loop {
        let at_end = match wire.next().await {
            None => return Err(io::ErrorKind::UnexpectedEof.into()),
            Some(Err(error)) => return Err(io::Error::other(error.to_string())),
            Some(Ok(In::CopyData(data))) => {
                decoder.feed(&data.data);
                false
            }
            Some(Ok(In::CopyDone(_))) => true,
            Some(Ok(In::CopyFail(fail))) => {
                return Ok(Err(PgError::new(
                    "57014",
                    format!("COPY from stdin failed: {}", fail.message),
                )));
            }
            Some(Ok(In::Sync(_) | In::Flush(_))) => continue,
            Some(Ok(other)) => {
                return Ok(Err(PgError::protocol(format!(
                    "unexpected message type 0x{:02X} during COPY from stdin",
                    message_type(&other)
                ))));
            }
        };
        loop {
            let row = match decoder.next_row(at_end) {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(error) => return Ok(Err(inserter.format_error(error))),
            };
            if let Err(error) = inserter.push(session, row).await {
                return Ok(Err(error));
            }
        }
        if at_end {
            return Ok(inserter.flush(session).await.map(|()| inserter.inserted));
        }
    }
}

fn message_type(message: &In) -> u8 {
    match message {
        In::Query(_) => b'Q',
        In::Parse(_) => b'P',
        In::Bind(_) => b'B',
        In::Execute(_) => b'E',
        In::Describe(_) => b'D',
        In::Close(_) => b'C',
        In::Terminate(_) => b'X',
        _ => 0,
    }
}

/// Batches parsed rows into multi-row INSERTs.
struct Inserter<'a> {
    plan: &'a CopyPlan,
    batch_rows: usize,
    /// The full batch's INSERT, planned once.
    full: Option<Plan>,
    rows: Vec<Row>,
    params: Vec<Value>,
    inserted: u64,
}

impl<'a> Inserter<'a> {
    fn new(plan: &'a CopyPlan) -> Inserter<'a> {
        let width = plan.columns.len().max(1);
        Inserter {
            plan,
            batch_rows: BATCH_ROWS.min(32_000 / width).max(1),
            full: None,
            rows: Vec::new(),
            params: Vec::new(),
            inserted: 0,
        }
    }

    fn context(&self, line: u64) -> String {
        format!("COPY {}, line {line}", self.plan.relation)
    }

    fn format_error(&self, error: FormatError) -> PgError {
        let mut pg = PgError::new(error.code, error.message);
        if let Some(hint) = error.hint {
            pg.fields.push((b'H', hint.to_owned()));
        }
        let mut context = self.context(error.line);
        if let Some(text) = error.text {
            context.push_str(&format!(": \"{text}\""));
        }
        pg.fields.push((b'W', context));
        pg
    }

    /// Converts a row's fields to parameters, then inserts a full batch.
    async fn push(&mut self, session: &mut Session, row: Row) -> Result<(), PgError> {
        let format = if self.plan.statement.options.format == CopyFormat::Binary {
            BINARY
        } else {
            0
        };
        for (field, column) in row.fields.iter().zip(&self.plan.columns) {
            let value =
                encode::parameter(field.as_deref(), column.ty, format).map_err(|mut e| {
                    e.fields.push((
                        b'W',
                        format!("{}, column {}", self.context(row.line), column.name),
                    ));
                    e
                })?;
            self.params.push(value);
        }
        self.rows.push(row);
        if self.rows.len() >= self.batch_rows {
            self.flush(session).await?;
        }
        Ok(())
    }

    /// Inserts the rows held.
    async fn flush(&mut self, session: &mut Session) -> Result<(), PgError> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let count = self.rows.len();
        let plan = if count == self.batch_rows {
            if self.full.is_none() {
                self.full = Some(self.insert_plan(session, count)?);
            }
            self.full.clone().unwrap_or(Plan::Empty)
        } else {
            self.insert_plan(session, count)?
        };
        let params = std::mem::take(&mut self.params);
        let rows = std::mem::take(&mut self.rows);
        let txn = session.txn;
        match session.run(&plan, &params).await {
            Ok(_) => {
                self.inserted += count as u64;
                Ok(())
            }
            Err(error) => {
                // The failed INSERT left nothing behind (SQLite undoes a
                // failed statement), so the block may run the rows again,
                // one by one, to find the failing one; the COPY still
                // fails the block.
                session.txn = txn;
                let error = self.locate(session, error, &rows, &params).await;
                session.fail();
                Err(error)
            }
        }
    }

    /// Which row of a failed batch failed: rerun one at a time (the batch's
    /// statement left nothing behind, and the COPY fails whole anyway).
    async fn locate(
        &self,
        session: &mut Session,
        error: PgError,
        rows: &[Row],
        params: &[Value],
    ) -> PgError {
        let width = self.plan.columns.len();
        if rows.len() > 1
            && width > 0
            && let Ok(single) = self.insert_plan(session, 1)
        {
            for (row, values) in rows.iter().zip(params.chunks(width)) {
                if let Err(error) = session.run(&single, values).await {
                    return self.with_row_context(error, row);
                }
            }
        }
        match rows {
            [row] => self.with_row_context(error, row),
            _ => error,
        }
    }

    /// `COPY t, line 3, column a: "x"` where the message quotes one of the
    /// row's values, else `COPY t, line 3`.
    fn with_row_context(&self, mut error: PgError, row: &Row) -> PgError {
        let mut context = self.context(row.line);
        let quoted = |field: &Option<Vec<u8>>| {
            field
                .as_deref()
                .map(|f| format!("\"{}\"", String::from_utf8_lossy(f)))
        };
        let matching: Vec<(&Column, String)> = self
            .plan
            .columns
            .iter()
            .zip(&row.fields)
            .filter_map(|(c, f)| quoted(f).map(|q| (c, q)))
            .filter(|(_, q)| error.message.contains(q.as_str()))
            .collect();
        if let [(column, value)] = matching.as_slice()
            && error.code.starts_with("22")
        {
            context.push_str(&format!(", column {}: {value}", column.name));
        }
        error.fields.push((b'W', context));
        error
    }

    fn insert_plan(&self, session: &Session, rows: usize) -> Result<Plan, PgError> {
        let width = self.plan.columns.len();
        let names: Vec<String> = self.plan.columns.iter().map(|c| quote(&c.name)).collect();
        let mut sql = format!(
            "INSERT INTO {} ({}) VALUES ",
            quote(&self.plan.relation),
            names.join(", ")
        );
        for row in 0..rows {
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for column in 0..width {
                if column > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", row * width + column + 1));
            }
            sql.push(')');
        }
        if width == 0 {
            sql = format!("INSERT INTO {} DEFAULT VALUES", quote(&self.plan.relation));
        }
        // Untyped, the parameters take the columns' types, wrapped in the
        // assignment casts that parse and check their text.
        session.plan(&sql, &[])
    }
}

/// A value's bytes in a format, `None` for NULL.
pub(super) fn field(value: &Value, ty: PgType, format: i16) -> Result<Option<Vec<u8>>, PgError> {
    if matches!(value, Value::Null) {
        return Ok(None);
    }
    let mut out = BytesMut::new();
    encode::put_field(&mut out, value, ty, format)?;
    Ok(Some(out.get(4..).unwrap_or_default().to_vec()))
}
