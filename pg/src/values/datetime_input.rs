//! `to_date(text, template)` and `to_timestamp(text, template)`: text read
//! by a [`template`](crate::values::template), as PostgreSQL does outside
//! `FX` mode: a separator in the template skips a separator in the input,
//! and a number field reads as many digits as there are (or its width, when
//! another field follows it directly).

use crate::error::Error;
use crate::values::datetime::{USECS_PER_DAY, USECS_PER_SEC, days_from_civil, days_in_month};
use crate::values::datetime_format::{DAYS, MONTHS};
use crate::values::template::{self, Field, Token};

/// The fields read so far.
#[derive(Debug, Default)]
struct Read {
    year: Option<(i64, u8)>,
    month: Option<i64>,
    day: Option<i64>,
    day_of_year: Option<i64>,
    hour: i64,
    twelve_hour: bool,
    pm: Option<bool>,
    minute: i64,
    second: i64,
    micros: i64,
}

/// Reads `input` by `template` into microseconds since the epoch (at
/// midnight for a date; the session zone being UTC).
pub fn read(input: &str, template: &str) -> Result<i64, Error> {
    let tokens = template::parse(template);
    let mut rest = input;
    let mut read = Read::default();
    for (index, token) in tokens.iter().enumerate() {
        match token {
            Token::Literal(text) => {
                for c in text.chars() {
                    rest = skip_separator(rest, c);
                }
            }
            Token::Field { field, .. } => {
                rest = rest.trim_start();
                if rest.is_empty() {
                    break;
                }
                let adjacent = matches!(tokens.get(index + 1), Some(Token::Field { .. }));
                rest = read_field(&mut read, *field, rest, adjacent)?;
            }
        }
    }
    finish(&read, input)
}

/// Skips what template character `c` stands for in the input: any run of
/// blanks for a blank, one separator for a separator, one character for
/// anything else.
fn skip_separator(rest: &str, c: char) -> &str {
    let mut chars = rest.chars();
    match chars.next() {
        None => rest,
        Some(_) if c.is_whitespace() => rest.trim_start(),
        Some(next) if next.is_alphanumeric() && !c.is_alphanumeric() => rest,
        Some(_) => chars.as_str(),
    }
}

fn read_field<'a>(
    read: &mut Read,
    field: Field,
    rest: &'a str,
    adjacent: bool,
) -> Result<&'a str, Error> {
    let invalid = |pattern: &str| Error::InvalidTemplateValue {
        pattern: pattern.into(),
        value: rest.chars().take(8).collect(),
    };
    let number = |width: usize, pattern: &str| -> Result<(i64, &'a str), Error> {
        let limit = if adjacent { width } else { usize::MAX };
        let digits = rest
            .char_indices()
            .take_while(|(i, c)| c.is_ascii_digit() && *i < limit)
            .count();
        let value = rest[..digits].parse().map_err(|_| invalid(pattern))?;
        Ok((value, &rest[digits..]))
    };
    let name = |names: &[&str], abbreviated: bool| -> Option<(usize, &'a str)> {
        names.iter().enumerate().find_map(|(index, full)| {
            let wanted = if abbreviated { &full[..3] } else { full };
            rest.get(..wanted.len())
                .filter(|written| written.eq_ignore_ascii_case(wanted))
                .map(|_| (index, &rest[wanted.len()..]))
        })
    };
    let after = match field {
        Field::Year(digits) => {
            let (year, after) = number(usize::from(digits), "YYYY")?;
            read.year = Some((year, digits));
            after
        }
        Field::YearGrouped => {
            let (thousands, after) = number(1, "Y,YYY")?;
            let after = after.strip_prefix(',').ok_or_else(|| invalid("Y,YYY"))?;
            let rest_digits = after.bytes().take_while(u8::is_ascii_digit).count().min(3);
            let (units, after) = after.split_at(rest_digits);
            let units: i64 = units.parse().map_err(|_| invalid("Y,YYY"))?;
            read.year = Some((thousands * 1000 + units, 4));
            after
        }
        Field::Month => {
            let (month, after) = number(2, "MM")?;
            read.month = Some(month);
            after
        }
        Field::MonthName(_) | Field::MonthAbbr(_) => {
            let abbreviated = matches!(field, Field::MonthAbbr(_));
            let (index, after) = name(&MONTHS, abbreviated).ok_or_else(|| invalid("Month"))?;
            read.month = Some(index as i64 + 1);
            after
        }
        Field::DayName(_) | Field::DayAbbr(_) => {
            let abbreviated = matches!(field, Field::DayAbbr(_));
            name(&DAYS, abbreviated).ok_or_else(|| invalid("Day"))?.1
        }
        Field::Day => {
            let (day, after) = number(2, "DD")?;
            read.day = Some(day);
            after
        }
        Field::DayOfYear => {
            let (day, after) = number(3, "DDD")?;
            read.day_of_year = Some(day);
            after
        }
        Field::Hour24 | Field::Hour12 => {
            let (hour, after) = number(2, "HH")?;
            read.hour = hour;
            read.twelve_hour = field == Field::Hour12;
            after
        }
        Field::Minute => {
            let (minute, after) = number(2, "MI")?;
            read.minute = minute;
            after
        }
        Field::Second => {
            let (second, after) = number(2, "SS")?;
            read.second = second;
            after
        }
        Field::Milli | Field::Micro => {
            // the digits are a fraction: `MS` of "5" is 500 milliseconds
            let (places, unit) = if field == Field::Milli {
                (3, 1000)
            } else {
                (6, 1)
            };
            let (value, after) = number(places, "US")?;
            let digits = (rest.len() - after.len()).min(places);
            read.micros = value * 10_i64.pow((places - digits) as u32) * unit;
            after
        }
        Field::Meridiem { dotted, .. } => {
            let length = if dotted { 4 } else { 2 };
            let written = rest.get(..length).ok_or_else(|| invalid("AM"))?;
            read.pm = Some(match written.to_ascii_uppercase().as_str() {
                "AM" | "A.M." => false,
                "PM" | "P.M." => true,
                _ => return Err(invalid("AM")),
            });
            &rest[length..]
        }
        Field::DayOfWeek | Field::IsoDayOfWeek | Field::Quarter => number(1, "D")?.1,
        Field::Century => number(2, "CC")?.1,
        Field::Zone(_) => {
            return Err(Error::Unsupported(
                "the \"TZ\" field in to_date and to_timestamp input".into(),
            ));
        }
    };
    Ok(after)
}

fn finish(read: &Read, input: &str) -> Result<i64, Error> {
    let overflow = || Error::DatetimeFieldOverflow(input.into());
    let year = match read.year {
        // PostgreSQL's year 0, which is 1 BC
        None => 0,
        // two-digit years are 1970 to 2069, as in PostgreSQL
        Some((year, 2)) if year < 100 => year + if year < 70 { 2000 } else { 1900 },
        Some((year, 3)) if year < 1000 => year + if year < 100 { 2000 } else { 1000 },
        Some((year, 1)) if year < 10 => year + 2000,
        Some((year, _)) => year,
    };
    if !(1..=9999).contains(&year) {
        return Err(Error::Unsupported(format!(
            "year {year} (patina stores the years 1 to 9999)"
        )));
    }
    let days = match (read.month, read.day, read.day_of_year) {
        (None, None, Some(day_of_year)) => {
            let length = if crate::values::datetime::is_leap(year) {
                366
            } else {
                365
            };
            if !(1..=length).contains(&day_of_year) {
                return Err(overflow());
            }
            days_from_civil(year, 1, 1) + day_of_year - 1
        }
        (month, day, _) => {
            let month = u32::try_from(month.unwrap_or(1))
                .ok()
                .filter(|m| (1..=12).contains(m))
                .ok_or_else(overflow)?;
            let day = u32::try_from(day.unwrap_or(1))
                .ok()
                .filter(|d| *d >= 1 && *d <= days_in_month(year, month))
                .ok_or_else(overflow)?;
            days_from_civil(year, month, day)
        }
    };
    let mut hour = read.hour;
    if read.twelve_hour || read.pm.is_some() {
        if !(1..=12).contains(&hour) {
            return Err(Error::InvalidTemplateValue {
                pattern: "HH12".into(),
                value: hour.to_string(),
            });
        }
        hour %= 12;
        if read.pm == Some(true) {
            hour += 12;
        }
    }
    if hour > 24 || read.minute > 59 || read.second > 60 {
        return Err(overflow());
    }
    let seconds = hour * 3600 + read.minute * 60 + read.second;
    Ok(days * USECS_PER_DAY + seconds * USECS_PER_SEC + read.micros)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::datetime::{Kind, format};

    fn at(input: &str, template: &str) -> String {
        format(read(input, template).expect("reads"), Kind::Timestamp)
    }

    #[test]
    fn reads_like_postgres() {
        assert_eq!(at("2024-03-05", "YYYY-MM-DD"), "2024-03-05 00:00:00");
        assert_eq!(at("20240305", "YYYYMMDD"), "2024-03-05 00:00:00");
        assert_eq!(at("05 Mar 2024", "DD Mon YYYY"), "2024-03-05 00:00:00");
        assert_eq!(
            at("2024-03-05 02:07:09 PM", "YYYY-MM-DD HH12:MI:SS AM"),
            "2024-03-05 14:07:09"
        );
        assert_eq!(at("24/3/5 1.5", "YY/MM/DD SS.MS"), "2024-03-05 00:00:01.5");
        assert_eq!(
            read("2024-13-01", "YYYY-MM-DD").map(|_| ()),
            Err(Error::DatetimeFieldOverflow("2024-13-01".into()))
        );
        assert!(read("x", "YYYY").is_err());
    }
}
