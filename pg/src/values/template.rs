//! The date/time templates of `to_char`, `to_date` and `to_timestamp`:
//! a template split into fields (`YYYY`, `Mon`, `HH24`…, with the `FM`
//! prefix and the `TH` suffix) and literal text (anything else, and
//! `"quoted"` text), as PostgreSQL's formatting.c reads it.

/// How a name or a meridiem marker is capitalized: as the pattern is
/// written (`MONTH`, `Month`, `month`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// `MONTH`
    Upper,
    /// `Month`
    Capital,
    /// `month`
    Lower,
}

impl Case {
    /// `text` (capitalized) in this case.
    pub fn apply(self, text: &str) -> String {
        match self {
            Case::Upper => text.to_uppercase(),
            Case::Capital => text.to_string(),
            Case::Lower => text.to_lowercase(),
        }
    }
}

/// One field of a date/time template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `HH24`
    Hour24,
    /// `HH12`, `HH`
    Hour12,
    /// `MI`
    Minute,
    /// `SS`
    Second,
    /// `MS`: milliseconds, three digits
    Milli,
    /// `US`: microseconds, six digits
    Micro,
    /// `AM`, `PM`, `am`, `pm` (both markers mean the same), or with dots
    /// (`A.M.`)
    Meridiem {
        /// Upper or lower case.
        case: Case,
        /// Whether written with dots.
        dotted: bool,
    },
    /// `YYYY`, `YYY`, `YY`, `Y`: the last this many digits of the year
    Year(u8),
    /// `Y,YYY`: the year with a thousands separator
    YearGrouped,
    /// `MONTH`, `Month`, `month`: the full name, padded to 9
    MonthName(Case),
    /// `MON`, `Mon`, `mon`
    MonthAbbr(Case),
    /// `MM`
    Month,
    /// `DAY`, `Day`, `day`: the full name, padded to 9
    DayName(Case),
    /// `DY`, `Dy`, `dy`
    DayAbbr(Case),
    /// `DDD`: day of the year
    DayOfYear,
    /// `DD`: day of the month
    Day,
    /// `D`: day of the week, Sunday is 1
    DayOfWeek,
    /// `ID`: ISO day of the week, Monday is 1
    IsoDayOfWeek,
    /// `TZ`, `tz`: the zone abbreviation
    Zone(Case),
    /// `Q`: the quarter
    Quarter,
    /// `CC`: the century
    Century,
}

/// A piece of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    /// Text copied to the output, or skipped in the input.
    Literal(String),
    /// A field.
    Field {
        /// Which field.
        field: Field,
        /// `FM`: no padding with zeros or spaces.
        fill_mode: bool,
        /// `TH` or `th`: an ordinal suffix, in this case (`Upper` or `Lower`).
        ordinal: Option<Case>,
    },
}

/// The patterns that name a field case-insensitively, longest first where
/// one is a prefix of another.
const FIELDS: &[(&str, Field)] = &[
    ("HH24", Field::Hour24),
    ("HH12", Field::Hour12),
    ("HH", Field::Hour12),
    ("MI", Field::Minute),
    ("SS", Field::Second),
    ("MS", Field::Milli),
    ("US", Field::Micro),
    ("Y,YYY", Field::YearGrouped),
    ("YYYY", Field::Year(4)),
    ("YYY", Field::Year(3)),
    ("YY", Field::Year(2)),
    ("Y", Field::Year(1)),
    ("MM", Field::Month),
    ("DDD", Field::DayOfYear),
    ("DD", Field::Day),
    ("ID", Field::IsoDayOfWeek),
    ("Q", Field::Quarter),
    ("CC", Field::Century),
];

/// A field written in some case, from that case.
type CasedField = fn(Case) -> Field;

/// The patterns whose case is the output's case: name and a constructor.
const CASED: &[(&str, CasedField)] = &[
    ("MONTH", Field::MonthName),
    ("MON", Field::MonthAbbr),
    ("DAY", Field::DayName),
    ("DY", Field::DayAbbr),
    ("TZ", Field::Zone),
];

/// Splits a template into tokens.
pub fn parse(template: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut rest = template;
    let mut literal = String::new();
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            // "text" is copied; a backslash escapes the next character
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            literal.push(escaped);
                        }
                    }
                    other => literal.push(other),
                }
            }
            rest = &quoted[end.min(quoted.len())..];
            continue;
        }
        if let Some(escaped) = rest.strip_prefix("\\\"") {
            literal.push('"');
            rest = escaped;
            continue;
        }
        let fill_mode = rest.len() > 2 && rest[..2].eq_ignore_ascii_case("FM");
        let after_fm = if fill_mode { &rest[2..] } else { rest };
        if let Some((field, length)) = field_at(after_fm) {
            if !literal.is_empty() {
                tokens.push(Token::Literal(std::mem::take(&mut literal)));
            }
            let after = &after_fm[length..];
            let ordinal = match after.get(..2) {
                Some("TH") => Some(Case::Upper),
                Some("th") => Some(Case::Lower),
                _ => None,
            };
            rest = if ordinal.is_some() {
                &after[2..]
            } else {
                after
            };
            tokens.push(Token::Field {
                field,
                fill_mode,
                ordinal,
            });
            continue;
        }
        let c = rest.chars().next().unwrap_or_default();
        literal.push(c);
        rest = &rest[c.len_utf8()..];
    }
    if !literal.is_empty() {
        tokens.push(Token::Literal(literal));
    }
    tokens
}

/// The field a template continues with, and the length of its pattern.
fn field_at(text: &str) -> Option<(Field, usize)> {
    for (dotted, upper) in [
        ("A.M.", true),
        ("P.M.", true),
        ("a.m.", false),
        ("p.m.", false),
    ] {
        if text.starts_with(dotted) {
            let case = if upper { Case::Upper } else { Case::Lower };
            return Some((Field::Meridiem { case, dotted: true }, 4));
        }
    }
    for marker in ["AM", "PM", "am", "pm"] {
        if text.starts_with(marker) {
            let case = if marker.starts_with(char::is_uppercase) {
                Case::Upper
            } else {
                Case::Lower
            };
            return Some((
                Field::Meridiem {
                    case,
                    dotted: false,
                },
                2,
            ));
        }
    }
    for (pattern, make) in CASED {
        let Some(written) = text.get(..pattern.len()) else {
            continue;
        };
        let capital = format!("{}{}", &pattern[..1], pattern[1..].to_lowercase());
        let case = if written == *pattern {
            Case::Upper
        } else if written == capital {
            Case::Capital
        } else if written == pattern.to_lowercase() {
            Case::Lower
        } else {
            continue;
        };
        return Some((make(case), pattern.len()));
    }
    for (pattern, field) in FIELDS {
        if text
            .get(..pattern.len())
            .is_some_and(|written| written.eq_ignore_ascii_case(pattern))
        {
            return Some((*field, pattern.len()));
        }
    }
    // `D` last: `DAY`, `DY`, `DD` and `DDD` start with it
    text.get(..1)
        .filter(|d| d.eq_ignore_ascii_case("D"))
        .map(|_| (Field::DayOfWeek, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(field: Field) -> Token {
        Token::Field {
            field,
            fill_mode: false,
            ordinal: None,
        }
    }

    #[test]
    fn splits_fields_and_literals() {
        assert_eq!(
            parse("YYYY-MM-DD\"T\"HH24"),
            vec![
                field(Field::Year(4)),
                Token::Literal("-".into()),
                field(Field::Month),
                Token::Literal("-".into()),
                field(Field::Day),
                Token::Literal("T".into()),
                field(Field::Hour24),
            ]
        );
        assert_eq!(
            parse("FMMonth DDth"),
            vec![
                Token::Field {
                    field: Field::MonthName(Case::Capital),
                    fill_mode: true,
                    ordinal: None,
                },
                Token::Literal(" ".into()),
                Token::Field {
                    field: Field::Day,
                    fill_mode: false,
                    ordinal: Some(Case::Lower),
                },
            ]
        );
        assert_eq!(
            parse("Dy D"),
            vec![
                field(Field::DayAbbr(Case::Capital)),
                Token::Literal(" ".into()),
                field(Field::DayOfWeek),
            ]
        );
    }
}
