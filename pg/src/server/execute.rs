//! Running one translated statement on a SQLite connection and collecting
//! what PostgreSQL would answer: the rows and the command tag.

use rusqlite::Connection;
use rusqlite::types::Value;

use super::errors::{self, PgError};
use super::hoist::hoist;
use crate::translate::{StatementKind, Translated};

/// A statement's answer.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub rows: Vec<Vec<Value>>,
    pub tag: String,
}

pub(crate) fn run(
    conn: &Connection,
    statement: &Translated,
    params: &[Value],
) -> Result<Outcome, PgError> {
    let (rows, affected) = rows(conn, statement, params)
        .map_err(|error| errors::statement_error(conn, &statement.sql, error))?;
    let tag = tag(statement, rows.len(), affected);
    Ok(Outcome { rows, tag })
}

/// Runs a statement: its rows, and how many rows it changed.
fn rows(
    conn: &Connection,
    statement: &Translated,
    params: &[Value],
) -> rusqlite::Result<(Vec<Vec<Value>>, u64)> {
    let writes = matches!(
        statement.kind,
        StatementKind::Insert | StatementKind::Update | StatementKind::Delete
    );
    let own = statement.params.len();
    let hoisted = writes.then(|| hoist(&statement.sql, own)).flatten();
    let (sql, constants) = match &hoisted {
        Some((sql, constants)) => (sql.as_str(), constants.as_slice()),
        None => (statement.sql.as_str(), &[][..]),
    };
    crate::catalog::ensure(conn, statement.views)?;
    let mut stmt = conn.prepare_cached(sql)?;
    let wanted = stmt.parameter_count();
    for index in 1..=wanted {
        let value = match index.checked_sub(own + 1) {
            None => params.get(index - 1),
            Some(constant) => constants.get(constant),
        };
        stmt.raw_bind_parameter(index, value.unwrap_or(&Value::Null))?;
    }
    let columns = stmt.column_count();
    let mut rows = Vec::new();
    if columns > 0 {
        let mut cursor = stmt.raw_query();
        while let Some(row) = cursor.next()? {
            rows.push(
                (0..columns)
                    .map(|i| row.get::<_, Value>(i))
                    .collect::<rusqlite::Result<_>>()?,
            );
        }
    } else {
        stmt.raw_execute()?;
    }
    let affected = if columns > 0 {
        rows.len() as u64
    } else {
        conn.changes()
    };
    Ok((rows, affected))
}

/// The statement's verb, as PostgreSQL names it in messages.
pub(crate) fn verb(statement: &Translated) -> String {
    if let Some(lock) = statement.row_lock {
        return lock.verb().to_owned();
    }
    let tag = tag(statement, 0, 0);
    tag.split(' ')
        .take_while(|w| !w.starts_with(|c: char| c.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// PostgreSQL's command tag for a statement that returned `rows` rows and
/// changed `affected`.
pub(crate) fn tag(statement: &Translated, rows: usize, affected: u64) -> String {
    match statement.kind {
        StatementKind::Select => format!("SELECT {rows}"),
        StatementKind::Insert => format!("INSERT 0 {affected}"),
        StatementKind::Update => format!("UPDATE {affected}"),
        StatementKind::Delete => format!("DELETE {affected}"),
        StatementKind::CreateTable => "CREATE TABLE".to_owned(),
        StatementKind::CreateIndex => "CREATE INDEX".to_owned(),
        StatementKind::DropTable => "DROP TABLE".to_owned(),
        StatementKind::DropIndex => "DROP INDEX".to_owned(),
        StatementKind::AlterTable => "ALTER TABLE".to_owned(),
        StatementKind::Begin => "BEGIN".to_owned(),
        StatementKind::Commit => "COMMIT".to_owned(),
        StatementKind::Rollback | StatementKind::RollbackToSavepoint => "ROLLBACK".to_owned(),
        StatementKind::Savepoint => "SAVEPOINT".to_owned(),
        StatementKind::Release => "RELEASE".to_owned(),
    }
}
