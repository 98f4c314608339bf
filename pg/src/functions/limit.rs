//! `pg_row_count(value, clause)`: the row count of a `LIMIT` or `OFFSET`
//! (`clause`) as SQLite needs it. PostgreSQL reads NULL as no limit and no
//! offset, where SQLite fails with a type mismatch, and refuses a negative
//! count, where SQLite reads it as no limit.

use rusqlite::{Connection, Result};

use super::{deterministic, user_error};
use crate::error::Error;

pub(super) fn register(conn: &Connection) -> Result<()> {
    conn.create_scalar_function("pg_row_count", 2, deterministic(), |ctx| {
        let clause: String = ctx.get(1)?;
        let is_limit = clause == "LIMIT";
        match ctx.get::<Option<i64>>(0)? {
            // SQLite's "no limit" is a negative one.
            None => Ok(if is_limit { -1 } else { 0 }),
            Some(count) if count < 0 => Err(user_error(Error::NegativeRowCount { is_limit })),
            Some(count) => Ok(count),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_is_no_limit_and_negative_fails() {
        let conn = Connection::open_in_memory().expect("open");
        register(&conn).expect("register");
        let rows: i64 = conn
            .query_row(
                "SELECT count(*) FROM (SELECT 1 UNION SELECT 2 \
                 LIMIT pg_row_count(NULL, 'LIMIT') OFFSET pg_row_count(NULL, 'OFFSET'))",
                [],
                |r| r.get(0),
            )
            .expect("query");
        assert_eq!(rows, 2);
        let err = conn
            .query_row("SELECT pg_row_count(-1, 'OFFSET')", [], |r| {
                r.get::<_, i64>(0)
            })
            .expect_err("negative");
        assert_eq!(
            crate::functions::sqlstate_of(&err).map(|(code, _)| code),
            Some("2201X")
        );
    }
}
