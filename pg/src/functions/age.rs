//! `age`: `pg_age_timestamp(a[, b])` and `pg_age_timestamptz(a[, b])`,
//! the difference of two timestamps in years, months and days as
//! PostgreSQL's `timestamp_age` computes it (field by field, borrowing
//! from the next field up); with one argument, from midnight of the
//! transaction's date (`age(current_date, x)`).

use std::sync::Arc;

use rusqlite::functions::Context;
use rusqlite::{Connection, Result};

use super::{Clock, deterministic, user_error, volatile};
use crate::error::Error;
use crate::values::datetime::{self, Kind, USECS_PER_DAY, civil_from_days, days_in_month};
use crate::values::interval::Interval;

pub(super) fn register(conn: &Connection, clock: Arc<dyn Clock>) -> Result<()> {
    for (name, kind) in [
        ("pg_age_timestamp", Kind::Timestamp),
        ("pg_age_timestamptz", Kind::Timestamptz),
    ] {
        conn.create_scalar_function(name, 2, deterministic(), move |ctx| {
            let (Some(a), Some(b)) = (micros_arg(ctx, 0, kind)?, micros_arg(ctx, 1, kind)?) else {
                return Ok(None);
            };
            Ok(Some(age(a, b).to_string()))
        })?;
        let clock = Arc::clone(&clock);
        conn.create_scalar_function(name, 1, volatile(), move |ctx| {
            let Some(b) = micros_arg(ctx, 0, kind)? else {
                return Ok(None);
            };
            let start = clock.transaction_start();
            let today = start - start.rem_euclid(USECS_PER_DAY);
            Ok(Some(age(today, b).to_string()))
        })?;
    }
    Ok(())
}

fn micros_arg(ctx: &Context<'_>, index: usize, kind: Kind) -> Result<Option<i64>> {
    let Some(text) = ctx.get::<Option<String>>(index)? else {
        return Ok(None);
    };
    if datetime::infinite(&text).is_some() {
        return Err(user_error(Error::Unsupported(
            "age of an infinite timestamp".into(),
        )));
    }
    datetime::parse(&text, kind).map(Some).map_err(user_error)
}

/// The fields of a timestamp: year, month, day, and microseconds of the
/// day.
fn fields(micros: i64) -> (i64, i64, i64, i64) {
    let (year, month, day) = civil_from_days(micros.div_euclid(USECS_PER_DAY));
    (
        year,
        i64::from(month),
        i64::from(day),
        micros.rem_euclid(USECS_PER_DAY),
    )
}

/// `a - b` as PostgreSQL's `age` gives it.
pub(crate) fn age(a: i64, b: i64) -> Interval {
    let sign = if a < b { -1 } else { 1 };
    let (later, earlier) = if a < b { (b, a) } else { (a, b) };
    let (y1, m1, d1, t1) = fields(later);
    let (y2, m2, d2, t2) = fields(earlier);
    let mut time = t1 - t2;
    let mut days = d1 - d2;
    let mut months = m1 - m2;
    let mut years = y1 - y2;
    if time < 0 {
        time += USECS_PER_DAY;
        days -= 1;
    }
    // borrow the length of the earlier timestamp's month
    let month_length = i64::from(days_in_month(y2, u32::try_from(m2).unwrap_or(1)));
    while days < 0 {
        days += month_length;
        months -= 1;
    }
    if months < 0 {
        months += 12;
        years -= 1;
    }
    Interval {
        months: sign * (years * 12 + months),
        days: sign * days,
        micros: sign * time,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> i64 {
        datetime::parse(text, Kind::Timestamp).unwrap_or_default()
    }

    #[test]
    fn ages_like_postgres_15() {
        // SELECT age('2024-03-01', '2023-01-15'), age('2024-01-01', '2024-03-15 10:00'),
        //        age('2024-03-31', '2024-02-29 12:00'), age('2024-01-01', '2024-01-01')
        let cases = [
            ("2024-03-01", "2023-01-15", "1 year 1 mon 17 days"),
            (
                "2024-01-01",
                "2024-03-15 10:00",
                "-2 mons -14 days -10:00:00",
            ),
            ("2024-03-31", "2024-02-29 12:00", "1 mon 1 day 12:00:00"),
            ("2024-01-01", "2024-01-01", "00:00:00"),
        ];
        for (a, b, expected) in cases {
            assert_eq!(age(ts(a), ts(b)).to_string(), expected, "age({a}, {b})");
        }
    }
}
