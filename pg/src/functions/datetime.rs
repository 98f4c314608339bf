//! Date/time functions on the stored ISO text: `pg_now(type)` (the
//! transaction start as `timestamptz`, `timestamp` or `date`),
//! `pg_clock_timestamp()`, `pg_date_trunc(field, value, type)`,
//! `pg_extract(field, value, type, as_float)` (`extract` gives numeric
//! text, `date_part` a float), `pg_datetime_add(value, interval, type,
//! sign)`, `pg_datetime_diff(a, b, type)`, `pg_date_add_days(date, n)`,
//! `pg_interval_add(a, b, sign)`, `pg_interval_mul(interval, factor)`,
//! `pg_make_date(year, month, day)`, `pg_to_timestamp(seconds)` and `pg_interval_key(interval)`, the
//! number PostgreSQL orders intervals by.

use std::sync::Arc;

use rusqlite::functions::Context as FnContext;
use rusqlite::{Connection, Result};

use super::cast::type_arg;
use super::{Clock, deterministic, user_error, volatile};
use crate::error::Error;
use crate::types::{PgType, Scalar};
use crate::values::datetime::{self, Kind, USECS_PER_DAY, USECS_PER_SEC};
use crate::values::interval::Interval;
use crate::values::numeric::Numeric;

pub(super) fn register(conn: &Connection, clock: Arc<dyn Clock>) -> Result<()> {
    let transaction_clock = Arc::clone(&clock);
    conn.create_scalar_function("pg_now", 1, volatile(), move |ctx| {
        let kind = kind_of(type_arg(ctx, 0)?)?;
        Ok(datetime::format(
            transaction_clock.transaction_start(),
            kind,
        ))
    })?;
    conn.create_scalar_function("pg_clock_timestamp", 0, volatile(), move |_| {
        Ok(datetime::format(clock.current(), Kind::Timestamptz))
    })?;
    conn.create_scalar_function("pg_date_trunc", 3, deterministic(), |ctx| {
        let (Some(field), Some(value)) =
            (ctx.get::<Option<String>>(0)?, ctx.get::<Option<String>>(1)?)
        else {
            return Ok(None);
        };
        let kind = kind_of(type_arg(ctx, 2)?)?;
        date_trunc(&field, &value, kind)
            .map(Some)
            .map_err(user_error)
    })?;
    conn.create_scalar_function("pg_extract", 4, deterministic(), |ctx| {
        let (Some(field), Some(value)) =
            (ctx.get::<Option<String>>(0)?, ctx.get::<Option<String>>(1)?)
        else {
            return Ok(None);
        };
        let ty = type_arg(ctx, 2)?;
        let as_float: bool = ctx.get(3)?;
        let number = extract(&field, &value, ty).map_err(user_error)?;
        Ok(Some(if as_float {
            rusqlite::types::Value::Real(number.to_f64())
        } else {
            rusqlite::types::Value::Text(number.to_string())
        }))
    })?;
    conn.create_scalar_function("pg_datetime_add", 4, deterministic(), |ctx| {
        let (Some(value), Some(interval)) =
            (ctx.get::<Option<String>>(0)?, ctx.get::<Option<String>>(1)?)
        else {
            return Ok(None);
        };
        let kind = kind_of(type_arg(ctx, 2)?)?;
        let sign: i64 = ctx.get(3)?;
        add_interval(&value, &interval, kind, sign)
            .map(Some)
            .map_err(user_error)
    })?;
    conn.create_scalar_function("pg_datetime_diff", 3, deterministic(), |ctx| {
        let (Some(a), Some(b)) = (ctx.get::<Option<String>>(0)?, ctx.get::<Option<String>>(1)?)
        else {
            return Ok(None);
        };
        let kind = kind_of(type_arg(ctx, 2)?)?;
        let a = datetime::parse(&a, kind).map_err(user_error)?;
        let b = datetime::parse(&b, kind).map_err(user_error)?;
        Ok(Some(Interval::from_micros_justified(a - b).to_string()))
    })?;
    conn.create_scalar_function("pg_date_add_days", 2, deterministic(), |ctx| {
        let (Some(date), Some(days)) = (ctx.get::<Option<String>>(0)?, ctx.get::<Option<i64>>(1)?)
        else {
            return Ok(None);
        };
        if let Some(stored) = datetime::infinite(&date) {
            return Ok(Some(stored.to_owned()));
        }
        let micros = datetime::parse(&date, Kind::Date).map_err(user_error)?;
        let shifted = micros
            .checked_add(days.saturating_mul(USECS_PER_DAY))
            .ok_or_else(|| user_error(Error::OutOfRange("date".into())))?;
        let shifted = datetime::check_range(shifted, Kind::Date).map_err(user_error)?;
        Ok(Some(datetime::format(shifted, Kind::Date)))
    })?;
    conn.create_scalar_function("pg_interval_add", 3, deterministic(), |ctx| {
        let (Some(a), Some(b)) = (interval_arg(ctx, 0)?, interval_arg(ctx, 1)?) else {
            return Ok(None);
        };
        let b = if ctx.get::<i64>(2)? < 0 {
            b.negate()
        } else {
            b
        };
        Ok(Some(
            Interval {
                months: a.months + b.months,
                days: a.days + b.days,
                micros: a.micros + b.micros,
            }
            .to_string(),
        ))
    })?;
    conn.create_scalar_function("pg_make_date", 3, deterministic(), |ctx| {
        let (Some(year), Some(month), Some(day)) = (
            ctx.get::<Option<i64>>(0)?,
            ctx.get::<Option<i64>>(1)?,
            ctx.get::<Option<i64>>(2)?,
        ) else {
            return Ok(None);
        };
        let text = format!("{year:04}-{month:02}-{day:02}");
        let micros = datetime::parse(&text, Kind::Date).map_err(user_error)?;
        Ok(Some(datetime::format(micros, Kind::Date)))
    })?;
    conn.create_scalar_function("pg_to_timestamp", 1, deterministic(), |ctx| {
        let Some(seconds) = ctx.get::<Option<f64>>(0)? else {
            return Ok(None);
        };
        to_timestamp(seconds).map(Some).map_err(user_error)
    })?;
    conn.create_scalar_function("pg_interval_key", 1, deterministic(), |ctx| {
        Ok(interval_arg(ctx, 0)?.map(Interval::span_micros))
    })?;
    conn.create_scalar_function("pg_interval_mul", 2, deterministic(), |ctx| {
        let (Some(interval), Some(factor)) = (interval_arg(ctx, 0)?, ctx.get::<Option<f64>>(1)?)
        else {
            return Ok(None);
        };
        Ok(Some(multiply(interval, factor).to_string()))
    })
}

fn interval_arg(ctx: &FnContext<'_>, index: usize) -> Result<Option<Interval>> {
    match ctx.get::<Option<String>>(index)? {
        Some(text) => Interval::parse(&text).map(Some).map_err(user_error),
        None => Ok(None),
    }
}

fn kind_of(ty: PgType) -> Result<Kind> {
    match ty.scalar() {
        Scalar::Date => Ok(Kind::Date),
        Scalar::Timestamp => Ok(Kind::Timestamp),
        Scalar::Timestamptz => Ok(Kind::Timestamptz),
        _ => Err(user_error(Error::Unsupported(format!(
            "date/time function on type {ty}"
        )))),
    }
}

/// `to_timestamp(double precision)`: seconds since 1970 as a
/// `timestamptz`, rounded to the microsecond; ±Infinity is ±infinity.
fn to_timestamp(seconds: f64) -> std::result::Result<String, Error> {
    if seconds.is_infinite() {
        return Ok(if seconds > 0.0 {
            "infinity"
        } else {
            "-infinity"
        }
        .into());
    }
    let micros = (seconds * USECS_PER_SEC as f64).round();
    // i64::MAX as f64 rounds up; anything that large is out of range anyway
    if !micros.is_finite() || micros.abs() >= i64::MAX as f64 {
        return Err(Error::OutOfRange("timestamp".into()));
    }
    let micros = datetime::check_range(micros as i64, Kind::Timestamptz)?;
    Ok(datetime::format(micros, Kind::Timestamptz))
}

/// PostgreSQL's `interval * float8`: fractions of months spill into days
/// (30 per month) and fractions of days into time.
fn multiply(interval: Interval, factor: f64) -> Interval {
    let months = interval.months as f64 * factor;
    let days = interval.days as f64 * factor + months.fract() * 30.0;
    let micros = interval.micros as f64 * factor + days.fract() * USECS_PER_DAY as f64;
    Interval {
        months: months.trunc() as i64,
        days: days.trunc() as i64,
        micros: micros.round() as i64,
    }
}

fn add_interval(
    value: &str,
    interval: &str,
    kind: Kind,
    sign: i64,
) -> std::result::Result<String, Error> {
    let interval = Interval::parse(interval)?;
    // infinity plus any interval is infinity
    if let Some(stored) = datetime::infinite(value) {
        return Ok(stored.into());
    }
    let start = datetime::parse(value, kind)?;
    let interval = if sign < 0 {
        interval.negate()
    } else {
        interval
    };
    let shifted = datetime::add_months(start, interval.months)
        + interval.days * USECS_PER_DAY
        + interval.micros;
    let result_kind = if kind == Kind::Date {
        Kind::Timestamp
    } else {
        kind
    };
    Ok(datetime::format(
        datetime::check_range(shifted, result_kind)?,
        result_kind,
    ))
}

fn date_trunc(field: &str, value: &str, kind: Kind) -> std::result::Result<String, Error> {
    if let Some(stored) = datetime::infinite(value) {
        return Ok(stored.into());
    }
    let micros = datetime::parse(value, kind)?;
    let days = micros.div_euclid(USECS_PER_DAY);
    let time = micros.rem_euclid(USECS_PER_DAY);
    let (year, month, _) = datetime::civil_from_days(days);
    let start_of_year = |y: i64| datetime::days_from_civil(y, 1, 1) * USECS_PER_DAY;
    let truncated = match field.to_ascii_lowercase().as_str() {
        "microseconds" => micros,
        "milliseconds" => micros - micros.rem_euclid(1000),
        "second" => micros - micros.rem_euclid(USECS_PER_SEC),
        "minute" => micros - micros.rem_euclid(60 * USECS_PER_SEC),
        "hour" => micros - micros.rem_euclid(3600 * USECS_PER_SEC),
        "day" => micros - time,
        "week" => (days - (days + 3).rem_euclid(7)) * USECS_PER_DAY,
        "month" => datetime::days_from_civil(year, month, 1) * USECS_PER_DAY,
        "quarter" => datetime::days_from_civil(year, (month - 1) / 3 * 3 + 1, 1) * USECS_PER_DAY,
        "year" => start_of_year(year),
        "decade" => start_of_year(year - year.rem_euclid(10)),
        "century" => start_of_year((year - 1) / 100 * 100 + 1),
        "millennium" => start_of_year((year - 1) / 1000 * 1000 + 1),
        other => {
            return Err(Error::InvalidParameter(format!(
                "unit \"{other}\" for date_trunc"
            )));
        }
    };
    let result_kind = if kind == Kind::Date {
        Kind::Timestamptz
    } else {
        kind
    };
    Ok(datetime::format(truncated, result_kind))
}

/// Day of week, Sunday 0.
fn day_of_week(days: i64) -> i64 {
    (days + 4).rem_euclid(7)
}

fn iso_week(days: i64) -> (i64, i64) {
    let isodow = (day_of_week(days) + 6) % 7 + 1;
    let thursday = days - isodow + 4;
    let (iso_year, _, _) = datetime::civil_from_days(thursday);
    let week = (thursday - datetime::days_from_civil(iso_year, 1, 1)) / 7 + 1;
    (iso_year, week)
}

fn micros_numeric(
    micros: i64,
    scale_down: u32,
    display_scale: u32,
) -> std::result::Result<Numeric, Error> {
    Numeric::from_i64(micros)
        .checked_div(Numeric::from_i64(10i64.pow(scale_down)))?
        .with_scale(display_scale)
}

fn extract(field: &str, value: &str, ty: PgType) -> std::result::Result<Numeric, Error> {
    let field = field.to_ascii_lowercase();
    let unsupported = || Error::InvalidParameter(format!("unit \"{field}\" for type {ty}"));
    if ty.scalar() == Scalar::Interval {
        let interval = Interval::parse(value)?;
        let time = interval.micros;
        return Ok(match field.as_str() {
            "epoch" => micros_numeric(interval.epoch_micros(), 6, 6)?,
            "year" => Numeric::from_i64(interval.months / 12),
            "month" => Numeric::from_i64(interval.months % 12),
            "day" => Numeric::from_i64(interval.days),
            "hour" => Numeric::from_i64(time / (3600 * USECS_PER_SEC)),
            "minute" => Numeric::from_i64(time / (60 * USECS_PER_SEC) % 60),
            "second" => micros_numeric(time % (60 * USECS_PER_SEC), 6, 6)?,
            _ => return Err(unsupported()),
        });
    }
    let kind = kind_of(ty).map_err(|_| unsupported())?;
    let micros = datetime::parse(value, kind)?;
    let days = micros.div_euclid(USECS_PER_DAY);
    let time = micros.rem_euclid(USECS_PER_DAY);
    let (year, month, day) = datetime::civil_from_days(days);
    let seconds_part = time % (60 * USECS_PER_SEC);
    let date_only = kind == Kind::Date;
    Ok(match field.as_str() {
        "year" => Numeric::from_i64(year),
        "month" => Numeric::from_i64(i64::from(month)),
        "day" => Numeric::from_i64(i64::from(day)),
        "quarter" => Numeric::from_i64(i64::from((month - 1) / 3 + 1)),
        "dow" => Numeric::from_i64(day_of_week(days)),
        "isodow" => Numeric::from_i64((day_of_week(days) + 6) % 7 + 1),
        "doy" => Numeric::from_i64(days - datetime::days_from_civil(year, 1, 1) + 1),
        "week" => Numeric::from_i64(iso_week(days).1),
        "isoyear" => Numeric::from_i64(iso_week(days).0),
        "decade" => Numeric::from_i64(year.div_euclid(10)),
        "century" => Numeric::from_i64((year - 1) / 100 + 1),
        "millennium" => Numeric::from_i64((year - 1) / 1000 + 1),
        "epoch" if date_only => Numeric::from_i64(days * 86_400),
        "epoch" => micros_numeric(micros, 6, 6)?,
        _ if date_only => return Err(unsupported()),
        "hour" => Numeric::from_i64(time / (3600 * USECS_PER_SEC)),
        "minute" => Numeric::from_i64(time / (60 * USECS_PER_SEC) % 60),
        "second" => micros_numeric(seconds_part, 6, 6)?,
        "milliseconds" => micros_numeric(seconds_part, 3, 3)?,
        "microseconds" => Numeric::from_i64(seconds_part),
        _ => return Err(unsupported()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(field: &str, value: &str, ty: PgType) -> String {
        extract(field, value, ty)
            .map(|n| n.to_string())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn extract_matches_postgres_15() {
        let ts = PgType::TIMESTAMP;
        let date = PgType::DATE;
        assert_eq!(ex("microseconds", "2024-01-01 10:00:05.25", ts), "5250000");
        assert_eq!(ex("milliseconds", "2024-01-01 10:00:05.25", ts), "5250.000");
        assert_eq!(ex("second", "2024-01-01 10:00:05.25", ts), "5.250000");
        assert_eq!(ex("epoch", "2024-01-01", ts), "1704067200.000000");
        assert_eq!(ex("epoch", "2024-01-01", date), "1704067200");
        assert_eq!(
            ex("epoch", "2024-01-01 00:00:01.5+00", PgType::TIMESTAMPTZ),
            "1704067201.500000"
        );
        assert_eq!(ex("day", "2024-01-07", date), "7");
        assert_eq!(ex("dow", "2024-01-07", date), "0");
        assert_eq!(ex("week", "2024-12-30", date), "1");
        assert_eq!(ex("isoyear", "2024-12-30", date), "2025");
        assert_eq!(ex("century", "2024-12-30", date), "21");
        assert_eq!(ex("decade", "2024-12-30", date), "202");
        assert_eq!(ex("doy", "2024-03-01", ts), "61");
        assert_eq!(ex("quarter", "2024-05-01", ts), "2");
        assert_eq!(ex("hour", "1 day 25 hours 3 mins", PgType::INTERVAL), "25");
        assert_eq!(ex("month", "14 mons", PgType::INTERVAL), "2");
        assert_eq!(
            ex("hour", "2024-01-01", date),
            "invalid unit \"hour\" for type date"
        );
    }

    #[test]
    fn date_trunc_matches_postgres_15() {
        let ts = |field: &str, value: &str| {
            date_trunc(field, value, Kind::Timestamp).unwrap_or_else(|e| e.to_string())
        };
        assert_eq!(ts("week", "2024-01-10 10:00"), "2024-01-08 00:00:00");
        assert_eq!(ts("century", "2024-05-05"), "2001-01-01 00:00:00");
        assert_eq!(ts("decade", "2024-05-05"), "2020-01-01 00:00:00");
        assert_eq!(ts("quarter", "2024-05-05 10:00"), "2024-04-01 00:00:00");
        assert_eq!(ts("hour", "2024-05-05 10:42:13.5"), "2024-05-05 10:00:00");
        assert_eq!(
            date_trunc("month", "2024-05-17", Kind::Date),
            Ok("2024-05-01 00:00:00+00".into())
        );
        assert!(date_trunc("fortnight", "2024-05-17", Kind::Date).is_err());
    }

    #[test]
    fn interval_arithmetic_matches_postgres_15() {
        // SELECT timestamp '2024-01-31' + interval '1 month', date '2024-01-01' - interval '1 day',
        //        timestamp '2024-03-01' - timestamp '2024-01-01 01:00', interval '1 hour' * 1.5
        assert_eq!(
            add_interval("2024-01-31", "1 month", Kind::Timestamp, 1),
            Ok("2024-02-29 00:00:00".into())
        );
        assert_eq!(
            add_interval("2024-01-01", "1 day", Kind::Date, -1),
            Ok("2023-12-31 00:00:00".into())
        );
        assert_eq!(
            add_interval("2024-01-01 23:00:00+00", "2 hours", Kind::Timestamptz, 1),
            Ok("2024-01-02 01:00:00+00".into())
        );
        let a = datetime::parse("2024-03-01", Kind::Timestamp).expect("a");
        let b = datetime::parse("2024-01-01 01:00", Kind::Timestamp).expect("b");
        assert_eq!(
            Interval::from_micros_justified(a - b).to_string(),
            "59 days 23:00:00"
        );
        let hour = Interval::parse("1 hour").expect("interval");
        assert_eq!(multiply(hour, 1.5).to_string(), "01:30:00");
        let month = Interval::parse("1 mon").expect("interval");
        assert_eq!(multiply(month, 1.5).to_string(), "1 mon 15 days");
        // SELECT interval '1 day' = interval '24 hours', interval '1 mon' = interval '30 days' → t, t
        let span = |text: &str| Interval::parse(text).map(Interval::span_micros);
        assert_eq!(span("1 day"), span("24 hours"));
        assert_eq!(span("1 mon"), span("30 days"));
        assert!(span("2 hours").expect("span") < span("1 day").expect("span"));
    }
}
