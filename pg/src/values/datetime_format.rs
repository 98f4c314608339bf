//! `to_char` of a timestamp, date or interval: the fields of a
//! [`template`](crate::values::template) filled in from the value.

use crate::values::datetime::{USECS_PER_DAY, civil_from_days, days_from_civil};
use crate::values::interval::Interval;
use crate::values::template::{self, Case, Field, Token};

/// English month names, as PostgreSQL prints them.
pub const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// English day names, Sunday first.
pub const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// A value broken into the fields a template prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Parts {
    year: i64,
    /// 1 to 12 for a timestamp; 0 to 11 for an interval
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    micros: i64,
    /// Day of the year and of the week (0 is Sunday); none for an interval.
    calendar: Option<(i64, usize)>,
    /// `TZ`: the zone's abbreviation, empty for no zone.
    zone: &'static str,
}

impl Parts {
    /// The fields of a timestamp, `micros` since the epoch; `zone` is what
    /// `TZ` prints (`UTC` for a `timestamptz`, nothing for a `timestamp`).
    pub fn timestamp(micros: i64, zone: &'static str) -> Parts {
        let days = micros.div_euclid(USECS_PER_DAY);
        let time = micros.rem_euclid(USECS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let day_of_year = days - days_from_civil(year, 1, 1) + 1;
        // 1970-01-01 was a Thursday
        let day_of_week = (days + 4).rem_euclid(7) as usize;
        Parts {
            year,
            month: i64::from(month),
            day: i64::from(day),
            calendar: Some((day_of_year, day_of_week)),
            zone,
            ..Parts::time(time)
        }
    }

    /// The fields of an interval: years and months, days, and the time,
    /// whose hours may pass 24.
    pub fn interval(interval: Interval) -> Parts {
        Parts {
            year: interval.months / 12,
            month: interval.months % 12,
            day: interval.days,
            ..Parts::time(interval.micros)
        }
    }

    fn time(micros: i64) -> Parts {
        let seconds = micros / 1_000_000;
        Parts {
            hour: seconds / 3600,
            minute: seconds / 60 % 60,
            second: seconds % 60,
            micros: micros % 1_000_000,
            ..Parts::default()
        }
    }
}

/// `to_char(value, template)`.
pub fn to_char(parts: &Parts, template: &str) -> String {
    let mut out = String::new();
    for token in template::parse(template) {
        match token {
            Token::Literal(text) => out.push_str(&text),
            Token::Field {
                field,
                fill_mode,
                ordinal,
            } => {
                let printed = match field_text(parts, field, fill_mode) {
                    Printed::Number(n, width) => {
                        let sign = if n < 0 { "-" } else { "" };
                        let digits = n.unsigned_abs();
                        let mut text = if fill_mode {
                            format!("{sign}{digits}")
                        } else {
                            format!("{sign}{digits:0width$}")
                        };
                        if let Some(case) = ordinal {
                            text.push_str(&case.apply(suffix(n)));
                        }
                        text
                    }
                    Printed::Text(text) => text,
                };
                out.push_str(&printed);
            }
        }
    }
    out
}

enum Printed {
    /// A number and its zero-padded width.
    Number(i64, usize),
    Text(String),
}

fn field_text(parts: &Parts, field: Field, fill_mode: bool) -> Printed {
    let name = |names: &[&str], index: usize, case: Case, abbreviate: bool| {
        let full = names.get(index).copied().unwrap_or_default();
        let name = if abbreviate { &full[..3] } else { full };
        let name = case.apply(name);
        if fill_mode || abbreviate {
            name
        } else {
            format!("{name:<9}")
        }
    };
    let month_index = usize::try_from(parts.month - 1).unwrap_or(usize::MAX);
    let day_of_week = parts.calendar.map_or(usize::MAX, |(_, dow)| dow);
    match field {
        Field::Hour24 => Printed::Number(parts.hour, 2),
        Field::Hour12 => Printed::Number(
            match parts.hour % 12 {
                0 => 12,
                h => h,
            },
            2,
        ),
        Field::Minute => Printed::Number(parts.minute, 2),
        Field::Second => Printed::Number(parts.second, 2),
        Field::Milli => Printed::Number(parts.micros / 1000, 3),
        Field::Micro => Printed::Number(parts.micros, 6),
        Field::Meridiem { case, dotted } => {
            let marker = match (parts.hour % 24 >= 12, dotted) {
                (false, false) => "AM",
                (true, false) => "PM",
                (false, true) => "A.M.",
                (true, true) => "P.M.",
            };
            Printed::Text(case.apply(marker))
        }
        Field::Year(digits) => {
            let year = match digits {
                4 => parts.year,
                n => parts.year % 10_i64.pow(u32::from(n)),
            };
            Printed::Number(year, usize::from(digits))
        }
        Field::YearGrouped => {
            Printed::Text(format!("{},{:03}", parts.year / 1000, parts.year % 1000))
        }
        Field::MonthName(case) => Printed::Text(name(&MONTHS, month_index, case, false)),
        Field::MonthAbbr(case) => Printed::Text(name(&MONTHS, month_index, case, true)),
        Field::Month => Printed::Number(parts.month, 2),
        Field::DayName(case) => Printed::Text(name(&DAYS, day_of_week, case, false)),
        Field::DayAbbr(case) => Printed::Text(name(&DAYS, day_of_week, case, true)),
        Field::DayOfYear => Printed::Number(parts.calendar.map_or(0, |(doy, _)| doy), 3),
        Field::Day => Printed::Number(parts.day, 2),
        Field::DayOfWeek => Printed::Number(day_of_week as i64 + 1, 1),
        Field::IsoDayOfWeek => Printed::Number((day_of_week as i64 + 6) % 7 + 1, 1),
        Field::Zone(case) => Printed::Text(case.apply(parts.zone)),
        Field::Quarter => Printed::Number((parts.month - 1).div_euclid(3) + 1, 1),
        Field::Century => Printed::Number(
            if parts.year > 0 {
                (parts.year + 99) / 100
            } else {
                parts.year / 100 - 1
            },
            2,
        ),
    }
}

/// The English ordinal suffix of `n`, capitalized (`ST`, `ND`…).
fn suffix(n: i64) -> &'static str {
    match (n.abs() % 100, n.abs() % 10) {
        (11..=13, _) => "TH",
        (_, 1) => "ST",
        (_, 2) => "ND",
        (_, 3) => "RD",
        _ => "TH",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::datetime::{Kind, parse};

    fn at(text: &str) -> Parts {
        Parts::timestamp(parse(text, Kind::Timestamp).expect("timestamp"), "UTC")
    }

    #[test]
    fn formats_like_postgres() {
        // SELECT to_char('2024-03-05 14:07:09.123456'::timestamp, …)
        let t = at("2024-03-05 14:07:09.123456");
        assert_eq!(
            to_char(&t, "YYYY-MM-DD HH24:MI:SS.MS.US"),
            "2024-03-05 14:07:09.123.123456"
        );
        assert_eq!(
            to_char(&t, "Day, DD Month YYYY"),
            "Tuesday  , 05 March     2024"
        );
        assert_eq!(to_char(&t, "FMDay, FMDD FMMonth YY"), "Tuesday, 5 March 24");
        assert_eq!(
            to_char(&t, "HH12:MI am Dy MON mon D DDD"),
            "02:07 pm Tue MAR mar 3 065"
        );
        assert_eq!(to_char(&t, "DDth \"of\" Mon TZ"), "05th of Mar UTC");
        assert_eq!(to_char(&at("2024-01-01 00:00:00"), "HH:MI AM"), "12:00 AM");
    }

    #[test]
    fn formats_intervals() {
        let i = Interval::parse("1 year 2 mons 3 days 04:05:06").expect("interval");
        assert_eq!(
            to_char(&Parts::interval(i), "YYYY MM DD HH24:MI:SS"),
            "0001 02 03 04:05:06"
        );
    }
}
