//! Dates and timestamps: parsing PostgreSQL input, the stored ISO text
//! formats, and calendar arithmetic. Timestamps are microseconds since
//! 1970-01-01 00:00:00 (UTC for `timestamptz`, the session zone being UTC);
//! dates are days since 1970-01-01. Years 1 to 9999 only, so the stored
//! text sorts chronologically.

use crate::error::Error;

/// Microseconds in a second.
pub const USECS_PER_SEC: i64 = 1_000_000;
/// Microseconds in a day.
pub const USECS_PER_DAY: i64 = 86_400 * USECS_PER_SEC;

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's
/// `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day number (Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Whether `year` is a leap year.
pub fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The number of days in a month.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Which of the date/time types a value is parsed as or printed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `date`
    Date,
    /// `timestamp without time zone`
    Timestamp,
    /// `timestamp with time zone`
    Timestamptz,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Date => "date",
            Kind::Timestamp => "timestamp without time zone",
            Kind::Timestamptz => "timestamp with time zone",
        }
    }
}

/// The stored text of an infinite `date`/`timestamp`/`timestamptz` input
/// (`infinity` or `-infinity`, in any case); `None` for any
/// other. Infinite values are kept as this text, which sorts before and
/// after every stored finite value; [`parse`] reads finite values only.
pub fn infinite(input: &str) -> Option<&'static str> {
    match input.trim().to_ascii_lowercase().as_str() {
        "infinity" => Some("infinity"),
        "-infinity" => Some("-infinity"),
        _ => None,
    }
}

/// Parses date/time input into microseconds since the epoch. Accepts ISO
/// 8601 dates with an optional time (` ` or `T` separated, optional
/// fraction) and an optional zone (`Z`, `UTC`, `±HH`, `±HH:MM`, `±HHMM`).
/// A zone converts to UTC for `timestamptz` and is ignored otherwise, as
/// PostgreSQL does; a `date` drops the time.
pub fn parse(input: &str, kind: Kind) -> Result<i64, Error> {
    let invalid = || Error::InvalidDatetime {
        ty: kind.name().into(),
        value: input.into(),
    };
    let text = input.trim();
    if text.eq_ignore_ascii_case("epoch") {
        return Ok(0);
    }
    let (date_part, rest) = text.split_at(text.find([' ', 'T', 't']).unwrap_or(text.len()));
    let mut fields = date_part.splitn(3, '-');
    let mut field = || fields.next().and_then(|f| f.parse::<i64>().ok());
    let (year, month, day) = (
        field().ok_or_else(invalid)?,
        field().ok_or_else(invalid)?,
        field().ok_or_else(invalid)?,
    );
    let overflow = || Error::DatetimeFieldOverflow(input.into());
    let month = u32::try_from(month)
        .ok()
        .filter(|m| (1..=12).contains(m))
        .ok_or_else(overflow)?;
    let day = u32::try_from(day)
        .ok()
        .filter(|d| *d >= 1 && *d <= days_in_month(year, month))
        .ok_or_else(overflow)?;
    if !(1..=9999).contains(&year) {
        return Err(Error::OutOfRange(kind.name().into()));
    }
    let mut micros = days_from_civil(year, month, day) * USECS_PER_DAY;
    let rest = rest.get(1..).unwrap_or("").trim();
    if rest.is_empty() {
        return Ok(micros);
    }
    let zone_at = rest.find(['+', '-', 'Z', 'z', ' ']).unwrap_or(rest.len());
    let (time, zone) = rest.split_at(zone_at);
    if kind != Kind::Date || !time.is_empty() {
        micros += parse_time_of_day(time).ok_or_else(invalid)?;
    }
    let offset = parse_zone(zone.trim()).ok_or_else(invalid)?;
    if kind == Kind::Timestamptz {
        micros -= offset;
    }
    if kind == Kind::Date {
        micros = micros.div_euclid(USECS_PER_DAY) * USECS_PER_DAY;
    }
    Ok(micros)
}

/// Parses `HH:MM[:SS[.ffffff]]` into microseconds since midnight.
pub fn parse_time_of_day(time: &str) -> Option<i64> {
    let mut parts = time.split(':');
    let hour: i64 = parts.next()?.parse().ok()?;
    let minute: i64 = parts.next()?.parse().ok()?;
    let second = match parts.next() {
        Some(s) => parse_seconds(s)?,
        None => 0,
    };
    if parts.next().is_some() || !(0..=24).contains(&hour) || !(0..60).contains(&minute) {
        return None;
    }
    let total = (hour * 3600 + minute * 60) * USECS_PER_SEC + second;
    (total <= USECS_PER_DAY && second < 60 * USECS_PER_SEC).then_some(total)
}

/// Parses `SS[.ffffff]` into microseconds, rounding past six digits.
pub(crate) fn parse_seconds(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut micros: i64 = whole.parse::<i64>().ok()? * USECS_PER_SEC;
    let digits: Vec<i64> = fraction.bytes().map(|b| i64::from(b - b'0')).collect();
    let mut scale = 100_000;
    for digit in digits.iter().take(6) {
        micros += digit * scale;
        scale /= 10;
    }
    if digits.get(6).is_some_and(|d| *d >= 5) {
        micros += 1;
    }
    Some(micros)
}

/// Parses a zone suffix into its offset from UTC in microseconds.
fn parse_zone(zone: &str) -> Option<i64> {
    if zone.is_empty() || zone.eq_ignore_ascii_case("z") || zone.eq_ignore_ascii_case("utc") {
        return Some(0);
    }
    let (sign, digits) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    let (hours, minutes) = match digits.split_once(':') {
        Some((h, m)) => (h, m),
        None if digits.len() == 4 => digits.split_at(2),
        None => (digits, "0"),
    };
    let hours: i64 = hours.parse().ok()?;
    let minutes: i64 = minutes.parse().ok()?;
    if hours > 15 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60) * USECS_PER_SEC)
}

/// Checks that a timestamp lies in the years patina can store.
pub fn check_range(micros: i64, kind: Kind) -> Result<i64, Error> {
    let (year, _, _) = civil_from_days(micros.div_euclid(USECS_PER_DAY));
    if (1..=9999).contains(&year) {
        Ok(micros)
    } else {
        Err(Error::OutOfRange(kind.name().into()))
    }
}

/// Formats microseconds since the epoch in the stored (and PostgreSQL
/// output) format of `kind`.
pub fn format(micros: i64, kind: Kind) -> String {
    let days = micros.div_euclid(USECS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let date = format!("{year:04}-{month:02}-{day:02}");
    match kind {
        Kind::Date => date,
        Kind::Timestamp => format!(
            "{date} {}",
            format_time_of_day(micros.rem_euclid(USECS_PER_DAY))
        ),
        Kind::Timestamptz => {
            format!(
                "{date} {}+00",
                format_time_of_day(micros.rem_euclid(USECS_PER_DAY))
            )
        }
    }
}

/// Formats microseconds since midnight as `HH:MM:SS[.ffffff]`, trailing
/// zeros of the fraction trimmed.
pub fn format_time_of_day(micros: i64) -> String {
    let seconds = micros / USECS_PER_SEC;
    let fraction = micros % USECS_PER_SEC;
    let mut out = format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    );
    if fraction != 0 {
        let digits = format!("{fraction:06}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out
}

/// Adds months to a timestamp, clamping the day to the end of the month as
/// PostgreSQL does (`2024-01-31 + 1 month` is `2024-02-29`).
pub fn add_months(micros: i64, months: i64) -> i64 {
    let days = micros.div_euclid(USECS_PER_DAY);
    let time = micros.rem_euclid(USECS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let total = year * 12 + i64::from(month) - 1 + months;
    let (new_year, new_month) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
    let new_day = day.min(days_in_month(new_year, new_month));
    days_from_civil(new_year, new_month, new_day) * USECS_PER_DAY + time
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips() {
        for days in [-719_162, -1, 0, 1, 19_723, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
    }

    #[test]
    fn parses_and_formats_like_postgres_in_utc() {
        // SET timezone = UTC; SELECT timestamptz '2024-01-01 10:00+02' → 2024-01-01 08:00:00+00
        let tz = parse("2024-01-01 10:00+02", Kind::Timestamptz);
        assert_eq!(
            tz.map(|t| format(t, Kind::Timestamptz)),
            Ok("2024-01-01 08:00:00+00".into())
        );
        let ts = parse("2024-01-01T10:00:00.5", Kind::Timestamp);
        assert_eq!(
            ts.map(|t| format(t, Kind::Timestamp)),
            Ok("2024-01-01 10:00:00.5".into())
        );
        let ignored_zone = parse("2024-01-01 10:00:00+05:30", Kind::Timestamp);
        assert_eq!(
            ignored_zone.map(|t| format(t, Kind::Timestamp)),
            Ok("2024-01-01 10:00:00".into())
        );
        assert_eq!(
            parse("2024-02-29", Kind::Date).map(|t| format(t, Kind::Date)),
            Ok("2024-02-29".into())
        );
        assert_eq!(
            parse("2024-03-05 23:59:59.1234567Z", Kind::Timestamptz)
                .map(|t| format(t, Kind::Timestamptz)),
            Ok("2024-03-05 23:59:59.123457+00".into())
        );
    }

    #[test]
    fn rejects_invalid_input() {
        // PostgreSQL: 22008 date/time field value out of range
        for overflow in ["2023-02-29", "2024-13-01", "2024-04-31"] {
            assert_eq!(
                parse(overflow, Kind::Date),
                Err(Error::DatetimeFieldOverflow(overflow.into()))
            );
        }
        for bad in ["yesterday-ish", "2024-01-01 25:00", "2024-01-01 10:00 +99"] {
            assert!(
                matches!(
                    parse(bad, Kind::Timestamp),
                    Err(Error::InvalidDatetime { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            parse("10000-01-01", Kind::Date),
            Err(Error::OutOfRange(_))
        ));
    }

    #[test]
    fn month_arithmetic_clamps_like_postgres() {
        // SELECT timestamp '2024-01-31' + interval '1 month' → 2024-02-29 00:00:00
        let jan31 = parse("2024-01-31", Kind::Timestamp).unwrap_or_default();
        assert_eq!(
            format(add_months(jan31, 1), Kind::Timestamp),
            "2024-02-29 00:00:00"
        );
        assert_eq!(
            format(add_months(jan31, -2), Kind::Timestamp),
            "2023-11-30 00:00:00"
        );
    }

    #[test]
    fn infinities_sort_around_every_stored_value() {
        // SELECT 'Infinity'::date, ' -INFINITY '::timestamptz; '+infinity' is 22007
        assert_eq!(infinite("Infinity"), Some("infinity"));
        assert_eq!(infinite("+infinity"), None);
        assert_eq!(infinite("-INFINITY"), Some("-infinity"));
        assert_eq!(infinite("2024-01-01"), None);
        for kind in [Kind::Date, Kind::Timestamp, Kind::Timestamptz] {
            for value in ["0001-01-01", "9999-12-31 23:59:59.999999"] {
                let stored = format(parse(value, kind).unwrap_or_default(), kind);
                assert!("-infinity" < stored.as_str() && stored.as_str() < "infinity");
            }
        }
    }

    #[test]
    fn stored_text_sorts_chronologically() {
        let a = format(
            parse("2024-01-01 10:00:00.5", Kind::Timestamp).unwrap_or_default(),
            Kind::Timestamp,
        );
        let b = format(
            parse("2024-01-01 10:00:00.25", Kind::Timestamp).unwrap_or_default(),
            Kind::Timestamp,
        );
        let c = format(
            parse("2024-01-01 10:00:00", Kind::Timestamp).unwrap_or_default(),
            Kind::Timestamp,
        );
        assert!(c < b && b < a);
    }
}
