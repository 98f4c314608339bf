//! The SQLite functions, aggregates and collation that the translated SQL
//! calls. [`register`] installs them on a connection; every connection
//! that opens a patina database file needs them, since `numeric` columns
//! are declared with the `pg_numeric` collation.
//!
//! Run-time errors carry their SQLSTATE in the message SQLite reports
//! (`[22012] division by zero`); [`sqlstate_of`] recovers it.

mod age;
mod array;
mod array_ops;
mod cast;
mod catalog;
mod clock;
mod datetime;
mod formatting;
mod json;
mod json_build;
mod limit;
mod math;
mod numeric;
mod pattern;
mod raise;
mod scalar;
mod size;
mod srf;
mod strings;

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;

pub use clock::{Clock, SessionClock};

use crate::error::Error;

/// Flags of a function whose result depends only on its arguments.
pub(crate) fn deterministic() -> FunctionFlags {
    FunctionFlags::SQLITE_UTF8
        | FunctionFlags::SQLITE_DETERMINISTIC
        | FunctionFlags::SQLITE_INNOCUOUS
}

/// Flags of a function that reads the clock or randomness.
pub(crate) fn volatile() -> FunctionFlags {
    FunctionFlags::SQLITE_UTF8
}

/// Wraps a patina error so SQLite reports it with its SQLSTATE.
pub(crate) fn user_error(error: Error) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(format!("[{}] {error}", error.sqlstate()).into())
}

/// Argument `index` as text, whatever its storage class (a number in
/// PostgreSQL's text form), as PostgreSQL's casts to `text` would give it;
/// `None` for NULL.
pub(crate) fn text_arg(
    ctx: &rusqlite::functions::Context<'_>,
    index: usize,
) -> rusqlite::Result<Option<String>> {
    use rusqlite::types::Value;
    Ok(match ctx.get::<Value>(index)? {
        Value::Null => None,
        Value::Integer(i) => Some(i.to_string()),
        Value::Real(f) => Some(crate::values::text::format_float(f, false)),
        Value::Text(t) => Some(t),
        Value::Blob(b) => Some(String::from_utf8_lossy(&b).into_owned()),
    })
}

/// Registers every function, aggregate and collation on `conn`. `clock`
/// answers `now()` (the transaction start) and `clock_timestamp()`.
pub fn register(conn: &Connection, clock: std::sync::Arc<dyn Clock>) -> rusqlite::Result<()> {
    age::register(conn, std::sync::Arc::clone(&clock))?;
    array::register(conn)?;
    array_ops::register(conn)?;
    cast::register(conn)?;
    catalog::register(conn)?;
    datetime::register(conn, clock)?;
    formatting::register(conn)?;
    json::register(conn)?;
    json_build::register(conn)?;
    limit::register(conn)?;
    math::register(conn)?;
    numeric::register(conn)?;
    pattern::register(conn)?;
    raise::register(conn)?;
    scalar::register(conn)?;
    size::register(conn)?;
    srf::register(conn)?;
    strings::register(conn)?;
    Ok(())
}

/// The SQLSTATE and message of an error raised by one of these functions,
/// from the error a statement returned; `None` for other errors.
pub fn sqlstate_of(error: &rusqlite::Error) -> Option<(&str, &str)> {
    let message = match error {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.as_str(),
        _ => return None,
    };
    let rest = message.strip_prefix('[')?;
    let (code, text) = rest.split_once("] ")?;
    (code.len() == 5 && code.bytes().all(|b| b.is_ascii_alphanumeric())).then_some((code, text))
}
