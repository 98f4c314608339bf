//! Errors PostgreSQL raises when a statement runs, not when it is
//! prepared. `pg_not_null(value, column, table)`: the value, or 23502 for
//! a NULL; it guards an integer primary key given explicitly, which SQLite
//! (the key being its rowid alias) would assign instead of refusing a
//! NULL. `pg_unknown_setting(name)`: 42704, for `current_setting` of a
//! setting that does not exist.

use rusqlite::functions::Context;
use rusqlite::types::Value;
use rusqlite::{Connection, Result};

use super::{deterministic, user_error};
use crate::error::Error;

pub(super) fn register(conn: &Connection) -> Result<()> {
    conn.create_scalar_function("pg_not_null", 3, deterministic(), not_null)?;
    conn.create_scalar_function("pg_unknown_setting", 1, deterministic(), |ctx| {
        Err::<Value, _>(user_error(Error::UnknownSetting(ctx.get(0)?)))
    })
}

fn not_null(ctx: &Context<'_>) -> Result<Value> {
    match ctx.get::<Value>(0)? {
        Value::Null => Err(user_error(Error::NullValue {
            column: ctx.get(1)?,
            table: ctx.get(2)?,
        })),
        value => Ok(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_their_sqlstate() {
        let conn = Connection::open_in_memory().expect("open");
        register(&conn).expect("register");
        let kept: i64 = conn
            .query_row("SELECT pg_not_null(7, 'id', 't')", [], |r| r.get(0))
            .expect("a value");
        assert_eq!(kept, 7);
        let err = conn
            .query_row("SELECT pg_not_null(NULL, 'id', 't')", [], |r| {
                r.get::<_, i64>(0)
            })
            .expect_err("NULL");
        assert_eq!(
            crate::functions::sqlstate_of(&err),
            Some((
                "23502",
                "null value in column \"id\" of relation \"t\" violates not-null constraint"
            ))
        );
        let err = conn
            .query_row("SELECT pg_unknown_setting('x')", [], |r| r.get::<_, i64>(0))
            .expect_err("unknown");
        assert_eq!(
            crate::functions::sqlstate_of(&err),
            Some(("42704", "unrecognized configuration parameter \"x\""))
        );
    }
}
