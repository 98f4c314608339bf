//! Intervals: PostgreSQL's three fields (months, days, microseconds), its
//! verbose input (`1 day 2 hours`, `01:02:03`, `1.5 months`) and its
//! `IntervalStyle=postgres` output, which is also the stored text.

use crate::error::Error;
use crate::values::datetime::{USECS_PER_DAY, USECS_PER_SEC, parse_seconds};

/// An interval as PostgreSQL keeps it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Interval {
    /// Whole months (years are twelve).
    pub months: i64,
    /// Whole days.
    pub days: i64,
    /// Microseconds.
    pub micros: i64,
}

impl Interval {
    /// Parses PostgreSQL's verbose interval input.
    pub fn parse(input: &str) -> Result<Interval, Error> {
        let invalid = || Error::InvalidDatetime {
            ty: "interval".into(),
            value: input.into(),
        };
        let mut result = Interval::default();
        let mut tokens = input.split_whitespace().peekable();
        let mut any = false;
        let mut ago = false;
        while let Some(token) = tokens.next() {
            any = true;
            if token == "@" {
                continue;
            }
            if token.eq_ignore_ascii_case("ago") {
                ago = true;
                continue;
            }
            if token.contains(':') {
                let (sign, body) = match token.strip_prefix('-') {
                    Some(body) => (-1, body),
                    None => (1, token.strip_prefix('+').unwrap_or(token)),
                };
                result.micros += sign * parse_time(body).ok_or_else(invalid)?;
                continue;
            }
            let (number, unit) = match token.find(|c: char| c.is_ascii_alphabetic()) {
                Some(at) if at > 0 => (&token[..at], token[at..].to_string()),
                _ => (token, tokens.next().unwrap_or("seconds").to_string()),
            };
            let value: f64 = number.parse().map_err(|_| invalid())?;
            result
                .add_unit(value, &unit.to_ascii_lowercase())
                .ok_or_else(invalid)?;
        }
        if !any {
            return Err(invalid());
        }
        if ago {
            result = result.negate();
        }
        Ok(result)
    }

    fn add_unit(&mut self, value: f64, unit: &str) -> Option<()> {
        let month_units = |n: f64| -> (f64, f64) { (n.trunc(), n.fract() * 30.0) };
        let (months, days, micros) = match unit {
            "microsecond" | "microseconds" | "us" | "usec" | "usecs" => (0.0, 0.0, value),
            "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" => (0.0, 0.0, value * 1e3),
            "second" | "seconds" | "s" | "sec" | "secs" => (0.0, 0.0, value * 1e6),
            "minute" | "minutes" | "m" | "min" | "mins" => (0.0, 0.0, value * 60e6),
            "hour" | "hours" | "h" | "hr" | "hrs" => (0.0, 0.0, value * 3600e6),
            "day" | "days" | "d" => (0.0, value.trunc(), value.fract() * 86_400e6),
            "week" | "weeks" | "w" => {
                (0.0, (value * 7.0).trunc(), (value * 7.0).fract() * 86_400e6)
            }
            "month" | "months" | "mon" | "mons" => {
                let (m, d) = month_units(value);
                (m, d.trunc(), d.fract() * 86_400e6)
            }
            "year" | "years" | "y" | "yr" | "yrs" => (
                value.trunc() * 12.0 + (value.fract() * 12.0).trunc(),
                0.0,
                0.0,
            ),
            "decade" | "decades" => (value * 120.0, 0.0, 0.0),
            "century" | "centuries" => (value * 1200.0, 0.0, 0.0),
            "millennium" | "millennia" => (value * 12_000.0, 0.0, 0.0),
            _ => return None,
        };
        self.months += months as i64;
        self.days += days as i64;
        self.micros += micros.round() as i64;
        Some(())
    }

    /// The interval with every field negated.
    pub fn negate(self) -> Interval {
        Interval {
            months: -self.months,
            days: -self.days,
            micros: -self.micros,
        }
    }

    /// The interval PostgreSQL's `timestamp - timestamp` gives: whole days
    /// and the rest as time.
    pub fn from_micros_justified(micros: i64) -> Interval {
        Interval {
            months: 0,
            days: micros / USECS_PER_DAY,
            micros: micros % USECS_PER_DAY,
        }
    }

    /// The key PostgreSQL compares intervals by (`interval_cmp_value`):
    /// months of 30 days and days of 24 hours, in microseconds.
    pub fn span_micros(self) -> i64 {
        (self.months * 30 + self.days)
            .saturating_mul(USECS_PER_DAY)
            .saturating_add(self.micros)
    }

    /// The length in seconds, with PostgreSQL's 30-day months and 365.25-day
    /// years (as `extract(epoch from interval)`), in microseconds.
    pub fn epoch_micros(self) -> i64 {
        let years = self.months / 12;
        let months = self.months % 12;
        years * 36_525 * USECS_PER_DAY / 100
            + months * 30 * USECS_PER_DAY
            + self.days * USECS_PER_DAY
            + self.micros
    }
}

/// `H:MM[:SS[.ffffff]]` of an interval, in microseconds: unlike a time
/// of day, the hours are unbounded (`36:00:00` is how `interval '36
/// hours'` prints).
fn parse_time(text: &str) -> Option<i64> {
    let mut parts = text.split(':');
    let hours: i64 = parts.next()?.parse().ok()?;
    let minutes: i64 = parts.next()?.parse().ok()?;
    let seconds = match parts.next() {
        Some(s) => parse_seconds(s)?,
        None => 0,
    };
    if parts.next().is_some()
        || hours < 0
        || !(0..60).contains(&minutes)
        || seconds >= 60 * USECS_PER_SEC
    {
        return None;
    }
    hours
        .checked_mul(3600 * USECS_PER_SEC)?
        .checked_add(minutes * 60 * USECS_PER_SEC + seconds)
}

impl std::fmt::Display for Interval {
    /// PostgreSQL's `IntervalStyle=postgres` output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut is_zero = true;
        let mut is_before = false;
        let mut part =
            |f: &mut std::fmt::Formatter<'_>, value: i64, unit: &str| -> std::fmt::Result {
                if value == 0 {
                    return Ok(());
                }
                write!(
                    f,
                    "{}{}{value} {unit}{}",
                    if is_zero { "" } else { " " },
                    if is_before && value > 0 { "+" } else { "" },
                    if value != 1 { "s" } else { "" }
                )?;
                is_before = value < 0;
                is_zero = false;
                Ok(())
            };
        part(f, self.months / 12, "year")?;
        part(f, self.months % 12, "mon")?;
        part(f, self.days, "day")?;
        if is_zero || self.micros != 0 {
            let minus = self.micros < 0;
            let abs = self.micros.unsigned_abs();
            let usecs = u64::try_from(USECS_PER_SEC).unwrap_or(1_000_000);
            let seconds = abs / usecs;
            let fraction = abs % usecs;
            write!(
                f,
                "{}{}{:02}:{:02}:{:02}",
                if is_zero { "" } else { " " },
                if minus {
                    "-"
                } else if is_before {
                    "+"
                } else {
                    ""
                },
                seconds / 3600,
                seconds / 60 % 60,
                seconds % 60
            )?;
            if fraction != 0 {
                let digits = format!("{fraction:06}");
                write!(f, ".{}", digits.trim_end_matches('0'))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(input: &str) -> String {
        Interval::parse(input)
            .map(|i| i.to_string())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn output_matches_postgres_15() {
        // SELECT interval '…' in PostgreSQL 15 with IntervalStyle=postgres
        assert_eq!(show("-1 day 2 hours"), "-1 days +02:00:00");
        assert_eq!(show("1.5 days"), "1 day 12:00:00");
        assert_eq!(show("1.5 months"), "1 mon 15 days");
        assert_eq!(show("1 year 14 mons"), "2 years 2 mons");
        assert_eq!(show("-01:02:03.5"), "-01:02:03.5");
        assert_eq!(show("0"), "00:00:00");
        assert_eq!(show("0 seconds"), "00:00:00");
        assert_eq!(show("90 minutes"), "01:30:00");
        assert_eq!(show("1 day ago"), "-1 days");
        assert_eq!(show("2 weeks"), "14 days");
        assert_eq!(show("3h"), "03:00:00");
        assert_eq!(show("36:00:00"), "36:00:00");
        assert_eq!(show("-100:30"), "-100:30:00");
    }

    #[test]
    fn rejects_unknown_units() {
        assert!(Interval::parse("3 fortnights").is_err());
        assert!(Interval::parse("").is_err());
        assert!(Interval::parse("1:60").is_err());
    }

    #[test]
    fn epoch_counts_like_postgres() {
        // SELECT extract(epoch from interval '1 day 1 hour') → 90000.000000
        let i = Interval::parse("1 day 1 hour").expect("valid");
        assert_eq!(i.epoch_micros(), 90_000 * USECS_PER_SEC);
    }
}
