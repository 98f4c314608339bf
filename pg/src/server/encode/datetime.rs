//! Dates, times and intervals in binary: `date` as days and `timestamp`/
//! `timestamptz` as microseconds since 2000-01-01 (the extremes of the
//! integer meaning ±infinity), `time` as microseconds since midnight,
//! `interval` as microseconds, days, months.

use rusqlite::types::Value;

use super::{PgError, corrupt, fixed};
use crate::types::{PgType, Scalar};
use crate::values::datetime::{
    self, Kind, USECS_PER_DAY, USECS_PER_SEC, format_time_of_day, parse_time_of_day,
};
use crate::values::interval::Interval;
use crate::values::text::to_pg_text;

/// Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const EPOCH_DAYS: i64 = 10_957;
const EPOCH_MICROS: i64 = EPOCH_DAYS * USECS_PER_DAY;

fn kind(ty: PgType) -> Kind {
    match ty.scalar() {
        Scalar::Date => Kind::Date,
        Scalar::Timestamp => Kind::Timestamp,
        _ => Kind::Timestamptz,
    }
}

fn out_of_range(ty: PgType) -> PgError {
    PgError::new("22008", format!("{ty} out of range"))
}

pub(super) fn send(value: &Value, ty: PgType) -> Result<Vec<u8>, PgError> {
    let text = to_pg_text(value, ty).unwrap_or_default();
    let bad = || corrupt(value, ty);
    if ty.scalar() == Scalar::Time {
        let micros = parse_time_of_day(&text).ok_or_else(bad)?;
        return Ok(micros.to_be_bytes().to_vec());
    }
    let infinite = match text.as_str() {
        "infinity" => Some(true),
        "-infinity" => Some(false),
        _ => None,
    };
    if ty.scalar() == Scalar::Date {
        let days = match infinite {
            Some(true) => i32::MAX,
            Some(false) => i32::MIN,
            None => {
                let micros = datetime::parse(&text, Kind::Date).map_err(|_| bad())?;
                i32::try_from(micros.div_euclid(USECS_PER_DAY) - EPOCH_DAYS).map_err(|_| bad())?
            }
        };
        return Ok(days.to_be_bytes().to_vec());
    }
    let micros = match infinite {
        Some(true) => i64::MAX,
        Some(false) => i64::MIN,
        None => datetime::parse(&text, kind(ty)).map_err(|_| bad())? - EPOCH_MICROS,
    };
    Ok(micros.to_be_bytes().to_vec())
}

/// The stored text of a binary `date`, `time`, `timestamp` or
/// `timestamptz`.
pub(super) fn recv(bytes: &[u8], ty: PgType) -> Result<String, PgError> {
    match ty.scalar() {
        Scalar::Date => {
            let days = i32::from_be_bytes(fixed(bytes, ty)?);
            match days {
                i32::MAX => Ok("infinity".into()),
                i32::MIN => Ok("-infinity".into()),
                _ => in_range((i64::from(days) + EPOCH_DAYS) * USECS_PER_DAY, ty),
            }
        }
        Scalar::Time => {
            let micros = i64::from_be_bytes(fixed(bytes, ty)?);
            if !(0..=USECS_PER_DAY).contains(&micros) {
                return Err(out_of_range(ty));
            }
            Ok(format_time_of_day(micros))
        }
        _ => match i64::from_be_bytes(fixed(bytes, ty)?) {
            i64::MAX => Ok("infinity".into()),
            i64::MIN => Ok("-infinity".into()),
            micros => in_range(
                micros
                    .checked_add(EPOCH_MICROS)
                    .ok_or_else(|| out_of_range(ty))?,
                ty,
            ),
        },
    }
}

/// The stored text of microseconds since 1970, if patina can store them.
fn in_range(micros: i64, ty: PgType) -> Result<String, PgError> {
    datetime::check_range(micros, kind(ty)).map_err(|_| out_of_range(ty))?;
    Ok(datetime::format(micros, kind(ty)))
}

pub(super) fn send_interval(value: &Value, ty: PgType) -> Result<Vec<u8>, PgError> {
    let text = to_pg_text(value, ty).unwrap_or_default();
    let interval = stored_interval(&text)
        .or_else(|| Interval::parse(&text).ok())
        .ok_or_else(|| corrupt(value, ty))?;
    let days = i32::try_from(interval.days).map_err(|_| corrupt(value, ty))?;
    let months = i32::try_from(interval.months).map_err(|_| corrupt(value, ty))?;
    let mut out = interval.micros.to_be_bytes().to_vec();
    out.extend(days.to_be_bytes());
    out.extend(months.to_be_bytes());
    Ok(out)
}

pub(super) fn recv_interval(bytes: &[u8], ty: PgType) -> Result<String, PgError> {
    let bytes: [u8; 16] = fixed(bytes, ty)?;
    let (micros, rest) = bytes.split_at(8);
    let (days, months) = rest.split_at(4);
    let interval = Interval {
        micros: i64::from_be_bytes(fixed(micros, ty)?),
        days: i32::from_be_bytes(fixed(days, ty)?).into(),
        months: i32::from_be_bytes(fixed(months, ty)?).into(),
    };
    Ok(interval.to_string())
}

/// The fields of an interval in its stored form, PostgreSQL's output
/// (`-1 years -2 mons +3 days -100:00:00.25`). Unlike interval input, the
/// hours of the time part are not limited to a day.
fn stored_interval(text: &str) -> Option<Interval> {
    let mut interval = Interval::default();
    let mut tokens = text.split_whitespace();
    while let Some(token) = tokens.next() {
        if token.contains(':') {
            interval.micros = time_span(token)?;
            continue;
        }
        let n: i64 = token.parse().ok()?;
        match tokens.next()? {
            "year" | "years" => interval.months += n.checked_mul(12)?,
            "mon" | "mons" => interval.months += n,
            "day" | "days" => interval.days += n,
            _ => return None,
        }
    }
    Some(interval)
}

/// `[+-]H:MM:SS[.ffffff]` as signed microseconds.
fn time_span(token: &str) -> Option<i64> {
    let (negative, body) = match token.as_bytes().first()? {
        b'-' => (true, &token[1..]),
        b'+' => (false, &token[1..]),
        _ => (false, token),
    };
    let mut parts = body.split(':');
    let (hours, minutes, seconds) = (parts.next()?, parts.next()?, parts.next()?);
    let (seconds, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
    if parts.next().is_some() || fraction.len() > 6 {
        return None;
    }
    let number = |s: &str| -> Option<i64> {
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    let whole = number(hours)?
        .checked_mul(3600)?
        .checked_add(number(minutes)? * 60 + number(seconds)?)?;
    let fraction = if fraction.is_empty() {
        0
    } else {
        number(&format!("{fraction:0<6}"))?
    };
    let micros = whole.checked_mul(USECS_PER_SEC)?.checked_add(fraction)?;
    Some(if negative { -micros } else { micros })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn sends_like_postgres_15() {
        // SELECT date_send('2000-01-02'), date_send('infinity'),
        //        timestamp_send('-infinity'), time_send('00:00:01'),
        //        timestamptz_send('2000-01-01 00:00:00.000001+00'),
        //        interval_send('100 hours')
        assert_eq!(
            send(&text("2000-01-02"), PgType::DATE),
            Ok(vec![0, 0, 0, 1])
        );
        assert_eq!(
            send(&text("infinity"), PgType::DATE),
            Ok(vec![0x7f, 0xff, 0xff, 0xff])
        );
        assert_eq!(
            send(&text("-infinity"), PgType::TIMESTAMP),
            Ok(i64::MIN.to_be_bytes().to_vec())
        );
        assert_eq!(
            send(&text("00:00:01"), PgType::TIME),
            Ok(1_000_000i64.to_be_bytes().to_vec())
        );
        assert_eq!(
            send(&text("2000-01-01 00:00:00.000001+00"), PgType::TIMESTAMPTZ),
            Ok(1i64.to_be_bytes().to_vec())
        );
        assert_eq!(
            send_interval(&text("100:00:00"), PgType::INTERVAL),
            Ok(vec![
                0, 0, 0, 0x53, 0xd1, 0xac, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0
            ])
        );
    }

    #[test]
    fn receives_the_stored_text() {
        assert_eq!(
            recv(&(-1i32).to_be_bytes(), PgType::DATE).as_deref(),
            Ok("1999-12-31")
        );
        assert_eq!(
            recv(&i64::MAX.to_be_bytes(), PgType::TIMESTAMPTZ).as_deref(),
            Ok("infinity")
        );
        assert_eq!(
            recv(&USECS_PER_DAY.to_be_bytes(), PgType::TIME).as_deref(),
            Ok("24:00:00")
        );
        assert_eq!(
            recv(&(USECS_PER_DAY + 1).to_be_bytes(), PgType::TIME).map_err(|e| e.code),
            Err("22008".to_owned())
        );
        // year 10000 is beyond what patina stores
        assert_eq!(
            recv(&(3_000_000i32).to_be_bytes(), PgType::DATE).map_err(|e| e.code),
            Err("22008".to_owned())
        );
        let mut interval = 1_500_000i64.to_be_bytes().to_vec();
        interval.extend((-3i32).to_be_bytes());
        interval.extend(14i32.to_be_bytes());
        assert_eq!(
            recv_interval(&interval, PgType::INTERVAL).as_deref(),
            Ok("1 year 2 mons -3 days +00:00:01.5")
        );
    }

    #[test]
    fn reads_the_stored_interval_form() {
        let fields = |s: &str| stored_interval(s).map(|i| (i.months, i.days, i.micros));
        assert_eq!(fields("00:00:00"), Some((0, 0, 0)));
        assert_eq!(fields("1 year 2 mons"), Some((14, 0, 0)));
        assert_eq!(fields("-1 days +02:00:00.5"), Some((0, -1, 7_200_500_000)));
        assert_eq!(fields("-1000:00:01"), Some((0, 0, -3_600_001_000_000)));
        assert_eq!(fields("3 fortnights"), None);
    }
}
