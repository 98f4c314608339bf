//! Every error a client sees, as PostgreSQL reports it: a SQLSTATE and a
//! message, mapped here in one place from translation, SQLite and store
//! errors.

use std::fmt;

use patina_store::SchemaError;
use rusqlite::{Connection, ffi};

use crate::functions::sqlstate_of;

/// An error to send as an ErrorResponse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PgError {
    pub code: String,
    pub message: String,
    /// More ErrorResponse fields, by their type byte: `P` position, `s`
    /// schema, `t` table, `c` column, `n` constraint.
    pub fields: Vec<(u8, String)>,
    /// Where a parser error is: line and column in the statement.
    location: Option<(usize, usize)>,
}

impl PgError {
    pub fn new(code: &str, message: impl Into<String>) -> PgError {
        PgError {
            code: code.to_owned(),
            message: message.into(),
            fields: Vec::new(),
            location: None,
        }
    }

    fn with(mut self, field: u8, value: &str) -> PgError {
        if !value.is_empty() {
            self.fields.push((field, value.to_owned()));
        }
        self
    }

    /// Names the table (and its schema) the error is about.
    fn on_table(self, table: &str) -> PgError {
        self.with(b's', "public").with(b't', table)
    }

    /// Where in `sql` a syntax error is, as PostgreSQL's 1-based character
    /// position (psql draws its caret from it).
    pub fn located_in(self, sql: &str) -> PgError {
        if self.location.is_none() && self.message == "syntax error at end of input" {
            let end = sql.trim_end().trim_end_matches(';').chars().count() + 1;
            return self.with(b'P', &end.to_string());
        }
        match self.location {
            Some((line, column)) => {
                let position = sql
                    .split_inclusive('\n')
                    .take(line.saturating_sub(1))
                    .map(|l| l.chars().count())
                    .sum::<usize>()
                    + column;
                self.with(b'P', &position.to_string())
            }
            _ => self,
        }
    }

    pub fn in_failed_transaction() -> PgError {
        PgError::new(
            "25P02",
            "current transaction is aborted, commands ignored until end of transaction block",
        )
    }

    pub fn protocol(message: impl Into<String>) -> PgError {
        PgError::new("08P01", message)
    }
}

impl fmt::Display for PgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl From<crate::Error> for PgError {
    fn from(error: crate::Error) -> PgError {
        match &error {
            crate::Error::Syntax(message) => syntax_error(message),
            _ => PgError::new(error.sqlstate(), error.to_string()),
        }
    }
}

/// The `Line: L, Column: C` sqlparser puts at the end of its errors.
fn parser_location(message: &str) -> Option<(usize, usize)> {
    let (_, at) = message.rsplit_once(" at Line: ")?;
    let (line, column) = at.split_once(", Column: ")?;
    Some((line.trim().parse().ok()?, column.trim().parse().ok()?))
}

/// PostgreSQL's wording for a parser error: `syntax error at or near
/// "TOKEN"`, or `at end of input`, keeping sqlparser's location for
/// [`PgError::located_in`]. Other syntax errors keep their words.
fn syntax_error(message: &str) -> PgError {
    let Some((_, found)) = message.rsplit_once("found: ") else {
        return PgError::new("42601", format!("syntax error: {message}"));
    };
    let token = found.split(" at Line: ").next().unwrap_or(found);
    let mut error = if token == "EOF" {
        PgError::new("42601", "syntax error at end of input")
    } else {
        PgError::new("42601", format!("syntax error at or near \"{token}\""))
    };
    error.location = parser_location(message);
    error
}

impl From<SchemaError> for PgError {
    fn from(error: SchemaError) -> PgError {
        match &error {
            SchemaError::Sqlite(message) => from_sqlite_message(None, message),
            SchemaError::NoSuchTable { table } => {
                PgError::new("42P01", format!("relation \"{table}\" does not exist"))
            }
            SchemaError::PrimaryKeyExists { .. } => PgError::new("42P16", error.to_string()),
            SchemaError::NullInKey { table, .. } => {
                PgError::new("23502", error.to_string()).on_table(table)
            }
            SchemaError::DuplicateKey { table, key } => {
                let mut duplicate = PgError::new(
                    "23505",
                    format!("could not create unique index \"{table}_pkey\""),
                )
                .on_table(table);
                duplicate
                    .fields
                    .push((b'D', format!("Key {key} is duplicated.")));
                duplicate
            }
            _ => PgError::new("0A000", error.to_string()),
        }
    }
}

impl From<rusqlite::Error> for PgError {
    fn from(error: rusqlite::Error) -> PgError {
        if let Some((code, message)) = sqlstate_of(&error) {
            return function_error(code, message);
        }
        match &error {
            rusqlite::Error::SqliteFailure(failure, message) => from_sqlite_message(
                Some(failure.extended_code),
                message.as_deref().unwrap_or(""),
            ),
            // Preparing the translated SQL failed at a token: only the
            // message matters, not the translated text.
            rusqlite::Error::SqlInputError { error, msg, .. } => {
                from_sqlite_message(Some(error.extended_code), msg)
            }
            other => PgError::new("XX000", other.to_string()),
        }
    }
}

/// An error a patina function raised; a NULL key's (`pg_not_null`) names
/// its column and table in the fields, as PostgreSQL's does.
fn function_error(code: &str, message: &str) -> PgError {
    let error = PgError::new(code, message);
    let target = message
        .strip_prefix("null value in column \"")
        .and_then(|rest| rest.strip_suffix("\" violates not-null constraint"))
        .and_then(|rest| rest.split_once("\" of relation \""));
    match target {
        Some((column, table)) if code == "23502" => error.on_table(table).with(b'c', column),
        _ => error,
    }
}

/// The error of a statement that failed on `conn`. A CHECK violation
/// names only its constraint; PostgreSQL's names the table too, found
/// here as the one whose definition declares that constraint (among
/// several, one `sql` names).
pub(crate) fn statement_error(conn: &Connection, sql: &str, error: rusqlite::Error) -> PgError {
    let rusqlite::Error::SqliteFailure(failure, Some(message)) = &error else {
        return PgError::from(error);
    };
    if failure.extended_code != ffi::SQLITE_CONSTRAINT_CHECK {
        return PgError::from(error);
    }
    let name = message.rsplit(": ").next().unwrap_or("");
    let tables = conn
        .prepare_cached(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND instr(sql, ?1) > 0",
        )
        .and_then(|mut stmt| {
            stmt.query_map([format!("CONSTRAINT {} CHECK", quoted(name))], |row| {
                row.get::<_, String>(0)
            })?
            .collect::<rusqlite::Result<Vec<String>>>()
        })
        .unwrap_or_default();
    let table = match tables.as_slice() {
        [table] => Some(table),
        _ => tables.iter().find(|table| names_word(sql, table)),
    };
    match table {
        Some(table) => PgError::new(
            "23514",
            format!("new row for relation \"{table}\" violates check constraint \"{name}\""),
        )
        .on_table(table)
        .with(b'n', name),
        None => PgError::from(error),
    }
}

/// Whether `sql` has `word` as a whole word (ASCII case-insensitively).
fn names_word(sql: &str, word: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let (sql, word) = (sql.to_ascii_lowercase(), word.to_ascii_lowercase());
    sql.match_indices(&word).any(|(at, _)| {
        !sql[..at].ends_with(is_word) && !sql[at + word.len()..].starts_with(is_word)
    })
}

/// An identifier in double quotes, as the DDL declares constraint names.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `table.column` from SQLite's `… constraint failed: table.column`.
fn constraint_target(message: &str) -> (&str, &str) {
    let target = message.rsplit(": ").next().unwrap_or("");
    let first = target.split(", ").next().unwrap_or(target);
    first.split_once('.').unwrap_or(("", first))
}

fn from_sqlite_message(extended_code: Option<i32>, message: &str) -> PgError {
    match extended_code {
        Some(ffi::SQLITE_CONSTRAINT_PRIMARYKEY | ffi::SQLITE_CONSTRAINT_UNIQUE) => {
            let (table, _) = constraint_target(message);
            let constraint = format!("{table}_pkey");
            return PgError::new(
                "23505",
                format!("duplicate key value violates unique constraint \"{constraint}\""),
            )
            .on_table(table)
            .with(b'n', &constraint);
        }
        Some(ffi::SQLITE_CONSTRAINT_NOTNULL) => {
            let (table, column) = constraint_target(message);
            return PgError::new(
                "23502",
                format!(
                    "null value in column \"{column}\" of relation \"{table}\" violates not-null constraint"
                ),
            )
            .on_table(table)
            .with(b'c', column);
        }
        Some(ffi::SQLITE_CONSTRAINT_CHECK) => {
            let name = message.rsplit(": ").next().unwrap_or("");
            return PgError::new(
                "23514",
                format!("new row violates check constraint \"{name}\""),
            )
            .with(b'n', name);
        }
        Some(ffi::SQLITE_CONSTRAINT_FOREIGNKEY) => {
            return PgError::new("23503", "insert or update violates foreign key constraint");
        }
        Some(ffi::SQLITE_INTERRUPT) => {
            return PgError::new("57014", "canceling statement due to user request");
        }
        Some(code) if code & 0xff == ffi::SQLITE_BUSY => {
            return PgError::new("55P03", format!("could not obtain lock: {message}"));
        }
        // SQLite's own type checks (a non-integer LIMIT or rowid) sit
        // where PostgreSQL would have refused the operand's type.
        Some(ffi::SQLITE_MISMATCH) => {
            return PgError::new("42804", format!("datatype mismatch: {message}"));
        }
        Some(code) if code & 0xff == ffi::SQLITE_READONLY => {
            return PgError::new(
                "25006",
                "cannot execute this statement in a read-only transaction",
            );
        }
        _ => {}
    }
    if let Some(table) = message.strip_prefix("no such table: ") {
        return PgError::new("42P01", format!("relation \"{table}\" does not exist"));
    }
    if let Some(column) = message.strip_prefix("no such column: ") {
        return PgError::new("42703", format!("column \"{column}\" does not exist"));
    }
    if let Some(column) = message.strip_prefix("duplicate column name: ") {
        return PgError::new("42701", format!("column \"{column}\" already exists"));
    }
    if message.contains("already exists") {
        return PgError::new("42P07", message.replace("table ", "relation "));
    }
    // sqlparser accepted the statement, so SQLite failing to parse its
    // translation means the input was outside PostgreSQL's grammar too
    // (sqlparser is the more lenient), or the translation is wrong: either
    // way the statement is what cannot be run, not the server.
    if message.contains("syntax error")
        || message == "incomplete input"
        || message.starts_with("unrecognized token")
        || (message.contains(" columns but ") && message.ends_with(" values were supplied"))
        || (message.contains(" values for ") && message.ends_with(" columns"))
    {
        return PgError::new("42601", message);
    }
    PgError::new("XX000", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_messages_read_like_postgres() {
        let dup = from_sqlite_message(
            Some(ffi::SQLITE_CONSTRAINT_PRIMARYKEY),
            "UNIQUE constraint failed: items.id",
        );
        assert_eq!(dup.code, "23505");
        assert_eq!(
            dup.message,
            "duplicate key value violates unique constraint \"items_pkey\""
        );
        assert_eq!(
            dup.fields,
            [
                (b's', "public".to_owned()),
                (b't', "items".to_owned()),
                (b'n', "items_pkey".to_owned())
            ]
        );
        let null = from_sqlite_message(
            Some(ffi::SQLITE_CONSTRAINT_NOTNULL),
            "NOT NULL constraint failed: items.name",
        );
        assert_eq!(null.code, "23502");
        assert!(
            null.message
                .contains("column \"name\" of relation \"items\"")
        );
    }

    #[test]
    fn parser_errors_read_and_point_like_postgres() {
        let error = PgError::from(crate::Error::Syntax(
            "sql parser error: Expected: end of statement, found: x at Line: 2, Column: 3".into(),
        ))
        .located_in("SELECT 1\nFROM x x x");
        assert_eq!(error.message, "syntax error at or near \"x\"");
        assert_eq!(error.fields, [(b'P', "12".to_owned())]);
        let end = PgError::from(crate::Error::Syntax(
            "Expected: expression, found: EOF".into(),
        ));
        assert_eq!(end.message, "syntax error at end of input");
    }

    #[test]
    fn missing_objects_get_their_codes() {
        assert_eq!(
            from_sqlite_message(Some(1), "no such table: nope").code,
            "42P01"
        );
        assert_eq!(
            from_sqlite_message(Some(1), "no such column: x").code,
            "42703"
        );
        assert_eq!(from_sqlite_message(Some(1), "whatever").code, "XX000");
    }

    #[test]
    fn sqlite_syntax_errors_are_syntax_errors() {
        for message in [
            "near \"AND\": syntax error",
            "incomplete input",
            "unrecognized token: \"'\"",
            "table t has 3 columns but 1 values were supplied",
        ] {
            assert_eq!(from_sqlite_message(Some(1), message).code, "42601");
        }
        assert_eq!(
            from_sqlite_message(Some(ffi::SQLITE_MISMATCH), "datatype mismatch").code,
            "42804"
        );
    }
}
