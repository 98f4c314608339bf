//! `pg_scalar(value)`, the aggregate that a scalar subquery's rows go
//! through: the one row's value, NULL for no row, and PostgreSQL's 21000
//! error for a second row (SQLite would take the first).

use rusqlite::functions::{Aggregate, Context};
use rusqlite::types::Value;
use rusqlite::{Connection, Result};

use super::{deterministic, user_error};
use crate::error::Error;

pub(super) fn register(conn: &Connection) -> Result<()> {
    conn.create_aggregate_function("pg_scalar", 1, deterministic(), Single)
}

struct Single;

impl Aggregate<Option<Value>, Value> for Single {
    fn init(&self, _: &mut Context<'_>) -> Result<Option<Value>> {
        Ok(None)
    }

    fn step(&self, ctx: &mut Context<'_>, row: &mut Option<Value>) -> Result<()> {
        if row.is_some() {
            return Err(user_error(Error::CardinalityViolation(
                "more than one row returned by a subquery used as an expression".into(),
            )));
        }
        *row = Some(ctx.get(0)?);
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, row: Option<Option<Value>>) -> Result<Value> {
        Ok(row.flatten().unwrap_or(Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_or_none_or_21000() {
        let conn = Connection::open_in_memory().expect("open");
        register(&conn).expect("register");
        let one: i64 = conn
            .query_row("SELECT pg_scalar(x) FROM (SELECT 7 AS x)", [], |r| r.get(0))
            .expect("one row");
        assert_eq!(one, 7);
        let none: Option<i64> = conn
            .query_row(
                "SELECT pg_scalar(x) FROM (SELECT 7 AS x WHERE 0)",
                [],
                |r| r.get(0),
            )
            .expect("no row");
        assert_eq!(none, None);
        let err = conn
            .query_row(
                "SELECT pg_scalar(x) FROM (SELECT 1 AS x UNION ALL SELECT 2)",
                [],
                |r| r.get::<_, i64>(0),
            )
            .expect_err("two rows");
        assert_eq!(
            crate::functions::sqlstate_of(&err).map(|(code, _)| code),
            Some("21000")
        );
    }
}
