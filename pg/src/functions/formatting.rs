//! `to_char`, `to_date` and `to_timestamp` with a template:
//! `pg_to_char_timestamp(value, template)`, `pg_to_char_timestamptz`,
//! `pg_to_char_interval`, `pg_to_char_number` (an integer, float or
//! numeric), `pg_to_date(text, template)` and
//! `pg_to_timestamp_text(text, template)`. An infinite timestamp prints as
//! NULL, as in PostgreSQL.

use rusqlite::functions::Context as FnContext;
use rusqlite::types::Value;
use rusqlite::{Connection, Result};

use super::numeric::numeric_arg;
use super::{deterministic, text_arg, user_error};
use crate::values::datetime::{self, Kind};
use crate::values::datetime_format::{Parts, to_char};
use crate::values::datetime_input;
use crate::values::interval::Interval;
use crate::values::number_format::{self, Number};

pub(super) fn register(conn: &Connection) -> Result<()> {
    for (name, kind, zone) in [
        ("pg_to_char_timestamp", Kind::Timestamp, ""),
        ("pg_to_char_timestamptz", Kind::Timestamptz, "UTC"),
    ] {
        conn.create_scalar_function(name, 2, deterministic(), move |ctx| {
            let Some((value, template)) = both(ctx)? else {
                return Ok(None);
            };
            if datetime::infinite(&value).is_some() {
                return Ok(None);
            }
            let micros = datetime::parse(&value, kind).map_err(user_error)?;
            Ok(Some(to_char(&Parts::timestamp(micros, zone), &template)))
        })?;
    }
    conn.create_scalar_function("pg_to_char_interval", 2, deterministic(), |ctx| {
        let Some((value, template)) = both(ctx)? else {
            return Ok(None);
        };
        let interval = Interval::parse(&value).map_err(user_error)?;
        Ok(Some(to_char(&Parts::interval(interval), &template)))
    })?;
    conn.create_scalar_function("pg_to_char_number", 2, deterministic(), |ctx| {
        let value = match ctx.get::<Value>(0)? {
            Value::Real(f) => Some(Number::Float(f)),
            _ => numeric_arg(ctx, 0)?.map(Number::Numeric),
        };
        let (Some(value), Some(template)) = (value, text_arg(ctx, 1)?) else {
            return Ok(None);
        };
        number_format::to_char(value, &template)
            .map(Some)
            .map_err(user_error)
    })?;
    for (name, kind) in [
        ("pg_to_date", Kind::Date),
        ("pg_to_timestamp_text", Kind::Timestamptz),
    ] {
        conn.create_scalar_function(name, 2, deterministic(), move |ctx| {
            let Some((input, template)) = both(ctx)? else {
                return Ok(None);
            };
            let micros = datetime_input::read(&input, &template).map_err(user_error)?;
            Ok(Some(datetime::format(micros, kind)))
        })?;
    }
    Ok(())
}

/// The two text arguments, or `None` if either is NULL.
fn both(ctx: &FnContext<'_>) -> Result<Option<(String, String)>> {
    Ok(text_arg(ctx, 0)?.zip(text_arg(ctx, 1)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_reads_in_sql() {
        let conn = Connection::open_in_memory().expect("open");
        register(&conn).expect("register");
        super::super::numeric::register(&conn).expect("numeric");
        let row: (String, String, String, String) = conn
            .query_row(
                "SELECT pg_to_char_timestamptz('2024-03-05 14:07:09+00', 'DD Mon YYYY HH24 TZ'), \
                 pg_to_char_number(1.5, 'FM990.00'), pg_to_date('05/03/2024', 'DD/MM/YYYY'), \
                 pg_to_char_interval('2 days 03:04:05', 'DD HH24:MI')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .expect("query");
        assert_eq!(
            row,
            (
                "05 Mar 2024 14 UTC".into(),
                "1.50".into(),
                "2024-03-05".into(),
                "02 03:04".into()
            )
        );
    }
}
