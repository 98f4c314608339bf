//! `to_char` of a number: templates of digit positions (`9` a digit or a
//! blank, `0` a digit or a zero), the decimal point (`.`, `D`), group
//! separators (`,`, `G`), signs (`S`, `MI`, `PR`, else a blank or `-` in
//! front) and `FM` (no padding), as PostgreSQL's formatting.c prints them
//! in the C locale.

use crate::error::Error;
use crate::values::numeric::Numeric;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Element {
    /// `9`
    Digit,
    /// `0`
    Zero,
    /// `.` or `D`
    Point,
    /// `,` or `G`
    Group,
    /// `S`
    Sign,
    /// `MI`
    Minus,
    /// `PR`
    Angle,
    Literal(char),
}

/// A parsed template.
struct Template {
    elements: Vec<Element>,
    fill_mode: bool,
}

fn parse(template: &str) -> Template {
    let mut elements = Vec::new();
    let mut fill_mode = false;
    let mut rest = template;
    while let Some(c) = rest.chars().next() {
        let two = rest.get(..2).map(str::to_ascii_uppercase);
        let (element, length) = match (two.as_deref(), c) {
            (Some("FM"), _) => {
                fill_mode = true;
                rest = &rest[2..];
                continue;
            }
            (Some("MI"), _) => (Element::Minus, 2),
            (Some("PR"), _) => (Element::Angle, 2),
            (_, '9') => (Element::Digit, 1),
            (_, '0') => (Element::Zero, 1),
            (_, '.' | 'D' | 'd') => (Element::Point, 1),
            (_, ',' | 'G' | 'g') => (Element::Group, 1),
            (_, 'S' | 's') => (Element::Sign, 1),
            (_, other) => (Element::Literal(other), other.len_utf8()),
        };
        elements.push(element);
        rest = &rest[length..];
    }
    Template {
        elements,
        fill_mode,
    }
}

/// A number to print.
#[derive(Clone, Copy, Debug)]
pub enum Number {
    /// An integer or numeric, rounded half away from zero.
    Numeric(Numeric),
    /// A float, rounded as C's `printf` does (half to even on its exact
    /// binary value).
    Float(f64),
}

impl Number {
    fn rounded(self, places: usize) -> Result<Numeric, Error> {
        match self {
            Number::Numeric(n) => n.with_scale(u32::try_from(places).unwrap_or(0)),
            Number::Float(f) => Numeric::parse(&format!("{f:.places$}")),
        }
    }
}

/// `to_char(number, template)`.
pub fn to_char(value: Number, template: &str) -> Result<String, Error> {
    let Template {
        elements,
        fill_mode,
    } = parse(template);
    let point = elements.iter().position(|e| *e == Element::Point);
    let is_digit = |e: &&Element| matches!(e, Element::Digit | Element::Zero);
    let (integer_slots, fraction_slots) = match point {
        Some(at) => (
            elements[..at].iter().filter(is_digit).count(),
            elements[at..].iter().filter(is_digit).count(),
        ),
        None => (elements.iter().filter(is_digit).count(), 0),
    };
    let rounded = value.rounded(fraction_slots)?;
    let negative = rounded.cmp_value(Numeric::from_i64(0)).is_lt();
    let printed = (if negative { -rounded } else { rounded }).to_string();
    let (whole, fraction) = printed.split_once('.').unwrap_or((&printed, ""));
    let whole = whole.trim_start_matches('0');
    let overflow = whole.len() > integer_slots;
    // where the integer digits start: the first `0` slot, or the value's
    // first digit, or the last slot for a zero with no fraction
    let first_zero = elements
        .iter()
        .take(point.unwrap_or(elements.len()))
        .filter(is_digit)
        .position(|e| *e == Element::Zero)
        .unwrap_or(integer_slots);
    let mut start = first_zero.min(integer_slots - whole.len().min(integer_slots));
    if start == integer_slots && fraction_slots == 0 && integer_slots > 0 {
        start -= 1;
    }
    let explicit_sign = elements
        .iter()
        .any(|e| matches!(e, Element::Sign | Element::Minus | Element::Angle));
    let leading_sign = match (negative, elements.first()) {
        (_, Some(Element::Sign)) => Some(if negative { '-' } else { '+' }),
        (true, _) if elements.contains(&Element::Angle) => Some('<'),
        (false, _) if elements.contains(&Element::Angle) => Some(' '),
        _ if explicit_sign => None,
        (true, _) => Some('-'),
        (false, _) => Some(' '),
    };
    let digits: Vec<char> = format!("{whole:0>integer_slots$}").chars().collect();
    let mut fraction_digits = fraction.chars();
    let mut out = String::new();
    let mut slot = 0;
    let mut sign_placed = false;
    let mut place_sign = |out: &mut String| {
        if let Some(sign) = leading_sign.filter(|_| !sign_placed) {
            if !(fill_mode && sign == ' ') {
                out.push(sign);
            }
            sign_placed = true;
        }
    };
    let mut in_fraction = false;
    for (index, element) in elements.iter().enumerate() {
        match element {
            Element::Digit | Element::Zero if !in_fraction => {
                if overflow {
                    place_sign(&mut out);
                    out.push('#');
                } else if slot < start {
                    if !fill_mode {
                        out.push(' ');
                    }
                } else {
                    if slot == start {
                        place_sign(&mut out);
                    }
                    out.push(digits[slot]);
                }
                slot += 1;
            }
            Element::Digit | Element::Zero => {
                let digit = fraction_digits.next().unwrap_or('0');
                let trailing = fill_mode
                    && *element == Element::Digit
                    && fraction_digits.clone().all(|d| d == '0')
                    && digit == '0'
                    && elements[index..]
                        .iter()
                        .filter(is_digit)
                        .all(|e| *e == Element::Digit);
                if overflow {
                    out.push('#');
                } else if !trailing {
                    out.push(digit);
                }
            }
            Element::Point => {
                // no integer digit was printed: the sign goes before the point
                place_sign(&mut out);
                in_fraction = true;
                // `FM999.` prints no point after the last digit
                if !(fill_mode && fraction_slots == 0) {
                    out.push('.');
                }
            }
            Element::Group => {
                if slot > start && !overflow {
                    out.push(',');
                } else if !fill_mode {
                    out.push(' ');
                }
            }
            Element::Sign if index == 0 => {}
            Element::Sign => out.push(if negative { '-' } else { '+' }),
            Element::Minus => {
                if negative {
                    out.push('-');
                } else if !fill_mode {
                    out.push(' ');
                }
            }
            Element::Angle => {
                if negative {
                    out.push('>');
                } else if !fill_mode {
                    out.push(' ');
                }
            }
            Element::Literal(c) => out.push(*c),
        }
    }
    place_sign(&mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(value: &str, template: &str) -> String {
        let value = Numeric::parse(value).expect("numeric");
        to_char(Number::Numeric(value), template).expect("formats")
    }

    #[test]
    fn formats_like_postgres() {
        assert_eq!(show("5", "999"), "   5");
        assert_eq!(show("-5", "999"), "  -5");
        assert_eq!(show("1.5", "990.00"), "   1.50");
        assert_eq!(show("1.5", "FM999.00"), "1.50");
        assert_eq!(show("12345", "999"), " ###");
        assert_eq!(show("1234567", "9,999,999"), " 1,234,567");
        assert_eq!(show("42", "0000"), " 0042");
        assert_eq!(to_char(Number::Float(2.5), "9").expect("formats"), " 2");
    }
}
