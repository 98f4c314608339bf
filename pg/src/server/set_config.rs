//! `set_config(name, value, is_local)`: PostgreSQL's function form of SET.
//! The SQLite function answers with the value and queues the change on its
//! connection; the session running the statement applies it once the
//! statement succeeded (as `SET`, or `SET LOCAL` when `is_local`, which
//! outside a transaction block lasts no longer than the statement).

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;

/// A queued change: (name, value, is_local).
pub(crate) type SettingsOutbox = super::outbox::Outbox<(String, String, bool)>;

pub(crate) fn register(conn: &Connection, outbox: SettingsOutbox) -> rusqlite::Result<()> {
    conn.create_scalar_function("set_config", 3, FunctionFlags::SQLITE_UTF8, move |ctx| {
        let name: Option<String> = ctx.get(0)?;
        let value: Option<String> = ctx.get(1)?;
        let local: Option<bool> = ctx.get(2)?;
        let Some(name) = name else {
            return Err(crate::functions::user_error(
                crate::Error::InvalidParameterValue("SET requires parameter name".into()),
            ));
        };
        let value = value.unwrap_or_default();
        outbox.push((name.to_lowercase(), value.clone(), local.unwrap_or(false)));
        Ok(value)
    })
}
