//! String functions SQLite has only for ASCII: `pg_lower(text)` and
//! `pg_upper(text)` fold case over all of Unicode, as PostgreSQL does in a
//! UTF-8 database.

use rusqlite::{Connection, Result};

use super::deterministic;

pub(super) fn register(conn: &Connection) -> Result<()> {
    conn.create_scalar_function("pg_lower", 1, deterministic(), |ctx| {
        Ok(ctx.get::<Option<String>>(0)?.map(|s| s.to_lowercase()))
    })?;
    conn.create_scalar_function("pg_upper", 1, deterministic(), |ctx| {
        Ok(ctx.get::<Option<String>>(0)?.map(|s| s.to_uppercase()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_unicode_case() {
        let conn = Connection::open_in_memory().expect("open");
        register(&conn).expect("register");
        let row: (String, String) = conn
            .query_row("SELECT pg_lower('ÄBC'), pg_upper('straße')", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .expect("query");
        assert_eq!(row, ("äbc".into(), "STRASSE".into()));
    }
}
