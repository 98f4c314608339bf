//! `pg_cast(value, from, to)` and `pg_assign(value, from, to)`: type
//! conversion of a stored value. `from` and `to` are type names as
//! [`PgType`]'s `Display` prints them; `from` is NULL for an untyped
//! literal or parameter.

use rusqlite::functions::Context as FnContext;
use rusqlite::types::Value;
use rusqlite::{Connection, Result};

use super::{deterministic, user_error};
use crate::error::Error;
use crate::types::PgType;
use crate::values::cast::{Context, cast};

pub(super) fn register(conn: &Connection) -> Result<()> {
    conn.create_scalar_function("pg_cast", 3, deterministic(), |ctx| {
        convert(ctx, Context::Explicit)
    })?;
    conn.create_scalar_function("pg_assign", 3, deterministic(), |ctx| {
        convert(ctx, Context::Assignment)
    })
}

/// Reads argument `index` as a type name.
pub(super) fn type_arg(ctx: &FnContext<'_>, index: usize) -> Result<PgType> {
    let name: String = ctx.get(index)?;
    PgType::from_name(&name).ok_or_else(|| user_error(Error::Unsupported(format!("type {name}"))))
}

fn convert(ctx: &FnContext<'_>, context: Context) -> Result<Value> {
    let value: Value = ctx.get(0)?;
    let from = match ctx.get::<Option<String>>(1)? {
        Some(_) => Some(type_arg(ctx, 1)?),
        None => None,
    };
    let to = type_arg(ctx, 2)?;
    cast(value, from, to, context).map_err(user_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_in_sql_and_reports_sqlstate() {
        let conn = Connection::open_in_memory().expect("open");
        register(&conn).expect("register");
        let v: i64 = conn
            .query_row("SELECT pg_cast(' 42 ', NULL, 'integer')", [], |r| r.get(0))
            .expect("cast");
        assert_eq!(v, 42);
        let err = conn
            .query_row(
                "SELECT pg_assign('abcd', NULL, 'character varying(3)')",
                [],
                |r| r.get::<_, String>(0),
            )
            .expect_err("too long");
        assert_eq!(
            crate::functions::sqlstate_of(&err),
            Some(("22001", "value too long for type character varying(3)"))
        );
    }
}
