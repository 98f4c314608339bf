//! Conversion of a stored value from one PostgreSQL type to another: what
//! `CAST`, `::`, and the coercion of literals and parameters into typed
//! columns do. The result is in the target type's stored form (see
//! [`crate::types`]).

use rusqlite::types::Value;
use serde_json::Value as Json;

use crate::error::Error;
use crate::types::{PgType, Scalar};
use crate::values::{array, datetime, interval::Interval, json, numeric::Numeric, text};

/// How a conversion was asked for: explicitly, or by storing into a
/// column. They differ only for over-long strings (an explicit cast
/// truncates, an assignment fails), as in PostgreSQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    /// `CAST(x AS t)`, `x::t`, and literals in expressions
    Explicit,
    /// `INSERT`/`UPDATE` into a column
    Assignment,
}

/// Converts `value`, stored as type `from` (`None`: an untyped literal or
/// parameter, read from its text), to type `to`.
pub fn cast(
    value: Value,
    from: Option<PgType>,
    to: PgType,
    context: Context,
) -> Result<Value, Error> {
    if value == Value::Null {
        return Ok(Value::Null);
    }
    if to.is_array() {
        return cast_to_array(value, from, to, context);
    }
    if from.is_some_and(PgType::is_array) {
        return match to.scalar() {
            Scalar::Text | Scalar::Varchar(_) | Scalar::Bpchar(_) => {
                let printed =
                    text::to_pg_text(&value, from.unwrap_or(PgType::TEXT)).unwrap_or_default();
                to_string_type(printed, to, context)
            }
            Scalar::Json | Scalar::Jsonb => cast(value, Some(PgType::TEXT), to, context),
            _ => Err(cannot(from, to)),
        };
    }
    match to.scalar() {
        Scalar::Bool => to_bool(value, from),
        Scalar::Int2 => to_integer(
            value,
            from,
            i64::from(i16::MIN),
            i64::from(i16::MAX),
            "smallint",
        ),
        Scalar::Int4 => to_integer(
            value,
            from,
            i64::from(i32::MIN),
            i64::from(i32::MAX),
            "integer",
        ),
        Scalar::Int8 => to_integer(value, from, i64::MIN, i64::MAX, "bigint"),
        Scalar::Float4 => to_float_type(value, from, true),
        Scalar::Float8 => to_float_type(value, from, false),
        Scalar::Numeric(typmod) => {
            let n = to_numeric(value, from)?;
            let n = match typmod {
                Some((precision, scale)) => n.apply_typmod(precision, scale)?,
                None => n,
            };
            Ok(Value::Text(n.to_string()))
        }
        Scalar::Text | Scalar::Varchar(_) | Scalar::Bpchar(_) => {
            to_string_type(source_text(&value, from), to, context)
        }
        Scalar::Bytea => match value {
            Value::Blob(b) => Ok(Value::Blob(b)),
            other => parse_bytea(&source_text(&other, from)).map(Value::Blob),
        },
        Scalar::Date | Scalar::Timestamp | Scalar::Timestamptz => to_datetime(value, from, to),
        Scalar::Time => {
            let input = source_text(&value, from);
            let time_part = match from.map(PgType::scalar) {
                Some(Scalar::Timestamp | Scalar::Timestamptz) => input
                    .split_once(' ')
                    .map(|(_, t)| t.trim_end_matches("+00").to_string()),
                _ => Some(input.clone()),
            };
            time_part
                .as_deref()
                .and_then(datetime::parse_time_of_day)
                .map(|micros| Value::Text(datetime::format_time_of_day(micros)))
                .ok_or_else(|| Error::InvalidDatetime {
                    ty: to.to_string(),
                    value: input,
                })
        }
        Scalar::Interval => {
            Interval::parse(&source_text(&value, from)).map(|i| Value::Text(i.to_string()))
        }
        Scalar::Uuid => {
            let input = source_text(&value, from);
            uuid::Uuid::try_parse(input.trim())
                .map(|u| Value::Text(u.hyphenated().to_string()))
                .map_err(|_| Error::InvalidText {
                    ty: "uuid".into(),
                    value: input,
                })
        }
        Scalar::Json => {
            let input = source_text(&value, from);
            json::parse(&input, "json")?;
            Ok(Value::Text(input))
        }
        Scalar::Jsonb => {
            let input = source_text(&value, from);
            Ok(Value::Text(json::to_jsonb_text(&json::parse(
                &input, "jsonb",
            )?)))
        }
        Scalar::Name => Ok(Value::Text(to_name(source_text(&value, from)))),
        Scalar::Char => to_char(value, from),
        Scalar::Oid => to_oid(value, from),
        // a name becomes a `regclass` by a lookup the translation emits
        Scalar::Regclass => match (value, from.map(PgType::scalar)) {
            (Value::Integer(oid), Some(Scalar::Oid | Scalar::Regclass)) => Ok(Value::Integer(oid)),
            (other, _) => to_oid(other, from),
        },
        Scalar::Regtype => match (value, from.map(PgType::scalar)) {
            (Value::Integer(oid), Some(Scalar::Oid | Scalar::Regtype)) => Ok(Value::Integer(oid)),
            (integer @ Value::Integer(_), Some(Scalar::Int2 | Scalar::Int4 | Scalar::Int8)) => {
                to_oid(integer, from)
            }
            (other, _) => {
                let input = source_text(&other, from);
                PgType::from_name(&input)
                    .map(|t| Value::Integer(i64::from(t.without_modifier().oid())))
                    .ok_or(Error::UndefinedType(input))
            }
        },
        Scalar::Record => Err(cannot(from, to)),
    }
}

/// PostgreSQL's longest `name`, in bytes (`NAMEDATALEN - 1`).
const NAME_MAX_BYTES: usize = 63;

/// A string as `name`: cut to 63 bytes at a character boundary.
fn to_name(mut text: String) -> String {
    if text.len() > NAME_MAX_BYTES {
        let end = (0..=NAME_MAX_BYTES)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        text.truncate(end);
    }
    text
}

/// `"char"`: the first character of a string, or the ASCII character of
/// an integer code (`0` is the empty string, as PostgreSQL prints it).
fn to_char(value: Value, from: Option<PgType>) -> Result<Value, Error> {
    match (value, from) {
        (Value::Integer(code), Some(t)) if t.is_integer() => u8::try_from(code)
            .ok()
            .filter(u8::is_ascii)
            .map(|byte| Value::Text(char::from(byte).to_string().replace('\0', "")))
            .ok_or_else(|| Error::OutOfRange("\"char\"".into())),
        (other, _) => Ok(Value::Text(
            source_text(&other, from)
                .chars()
                .next()
                .map(String::from)
                .unwrap_or_default(),
        )),
    }
}

/// `oid`: 0 to 4294967295; a negative `integer` (or text down to
/// -2147483648) wraps around, as `oidin` and the `int4` cast do.
fn to_oid(value: Value, from: Option<PgType>) -> Result<Value, Error> {
    let wrap = |n: i64| {
        (i64::from(i32::MIN)..=i64::from(u32::MAX))
            .contains(&n)
            .then(|| n.rem_euclid(1 << 32))
            .ok_or_else(|| Error::OutOfRange("OID".into()))
    };
    match (value, from.map(PgType::scalar)) {
        (Value::Integer(n), Some(Scalar::Int8)) if n < 0 => Err(Error::OutOfRange("OID".into())),
        (Value::Integer(n), _) => wrap(n).map(Value::Integer),
        (other, _) => {
            let input = source_text(&other, from);
            let n = input
                .trim()
                .parse::<i64>()
                .map_err(|_| Error::InvalidText {
                    ty: "oid".into(),
                    value: input.clone(),
                })?;
            wrap(n).map(Value::Integer)
        }
    }
}

fn cannot(from: Option<PgType>, to: PgType) -> Error {
    let from = from.map_or_else(|| "unknown".to_string(), |t| t.to_string());
    Error::DatatypeMismatch(format!("cannot cast type {from} to {to}"))
}

/// The text a value converts from: PostgreSQL's text output of the source
/// type, except that `boolean` casts to `true`/`false`.
fn source_text(value: &Value, from: Option<PgType>) -> String {
    match (value, from.map(PgType::scalar)) {
        (Value::Integer(i), Some(Scalar::Bool)) => if *i != 0 { "true" } else { "false" }.into(),
        (Value::Text(t), Some(Scalar::Bpchar(_))) => t.trim_end_matches(' ').to_string(),
        (other, from) => text::to_pg_text(other, from.map_or(PgType::TEXT, PgType::scalar_type))
            .unwrap_or_default(),
    }
}

fn to_bool(value: Value, from: Option<PgType>) -> Result<Value, Error> {
    match value {
        Value::Integer(i) => Ok(Value::Integer(i64::from(i != 0))),
        other => {
            let input = source_text(&other, from);
            let lowered = input.trim().to_ascii_lowercase();
            let truth = match lowered.as_str() {
                "t" | "true" | "y" | "yes" | "on" | "1" => true,
                "f" | "false" | "n" | "no" | "off" | "0" => false,
                _ => {
                    return Err(Error::InvalidText {
                        ty: "boolean".into(),
                        value: input,
                    });
                }
            };
            Ok(Value::Integer(i64::from(truth)))
        }
    }
}

fn to_integer(
    value: Value,
    from: Option<PgType>,
    min: i64,
    max: i64,
    name: &str,
) -> Result<Value, Error> {
    let out_of_range = || Error::OutOfRange(name.to_string());
    // a stored NaN is text
    let value = match (value, from.map(PgType::scalar)) {
        (Value::Text(t), Some(Scalar::Float4 | Scalar::Float8)) => {
            Value::Real(to_float(Value::Text(t), from)?)
        }
        (other, _) => other,
    };
    let number = match (&value, from.map(PgType::scalar)) {
        (Value::Integer(i), _) => *i,
        (Value::Real(f), Some(Scalar::Numeric(_))) => Numeric::from_f64(*f)?.to_i64_rounded()?,
        (Value::Real(f), _) => {
            let rounded = f.round_ties_even();
            // max + 1 is a power of two, exact as a float; max itself may not be
            if !rounded.is_finite() || rounded < min as f64 || rounded >= max as f64 + 1.0 {
                return Err(out_of_range());
            }
            rounded as i64
        }
        (Value::Text(t), Some(Scalar::Numeric(_))) => Numeric::parse(t)?.to_i64_rounded()?,
        (other, _) => {
            let input = source_text(other, from);
            input.trim().parse::<i64>().map_err(|_| {
                if input
                    .trim()
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b'-' || b == b'+')
                    && !input.trim().is_empty()
                {
                    out_of_range()
                } else {
                    Error::InvalidText {
                        ty: name.into(),
                        value: input.clone(),
                    }
                }
            })?
        }
    };
    if number < min || number > max {
        return Err(out_of_range());
    }
    Ok(Value::Integer(number))
}

/// The stored form of a float: the float, or the text `'NaN'`, which
/// SQLite would otherwise turn into NULL (see [`crate::types`]).
pub fn stored_float(f: f64) -> Value {
    if f.is_nan() {
        Value::Text(text::format_float(f, false))
    } else {
        Value::Real(f)
    }
}

/// Reads a number-like stored value (a stored NaN included) as a float.
pub fn to_float(value: Value, from: Option<PgType>) -> Result<f64, Error> {
    match value {
        Value::Integer(i) => Ok(i as f64),
        Value::Real(f) => Ok(f),
        other => {
            let input = source_text(&other, from);
            let trimmed = input.trim();
            match trimmed.to_ascii_lowercase().as_str() {
                "nan" => Ok(f64::NAN),
                "infinity" | "inf" | "+infinity" => Ok(f64::INFINITY),
                "-infinity" | "-inf" => Ok(f64::NEG_INFINITY),
                _ => trimmed.parse::<f64>().map_err(|_| Error::InvalidText {
                    ty: "double precision".into(),
                    value: input.clone(),
                }),
            }
        }
    }
}

/// Converts to `real` (`single`) or `double precision`: input text whose
/// number overflows or underflows the type, or a finite number too big for
/// `real`, is out of range (22003) as in PostgreSQL, not an infinity or 0.
fn to_float_type(value: Value, from: Option<PgType>, single: bool) -> Result<Value, Error> {
    let ty = if single { "real" } else { "double precision" };
    // input text, not a number's stored text (a numeric, or the `9e999`
    // patina writes for an infinite float constant)
    let input = (matches!(value, Value::Text(_)) && from.is_none_or(PgType::is_string))
        .then(|| source_text(&value, from));
    let wide = to_float(value, from).map_err(|error| match error {
        Error::InvalidText { value, .. } => Error::InvalidText {
            ty: ty.into(),
            value,
        },
        other => other,
    })?;
    let f = if single { f64::from(wide as f32) } else { wide };
    if let Some(input) = input {
        let lower = input.trim().to_ascii_lowercase();
        let mantissa = lower.split('e').next().unwrap_or("");
        let overflow = f.is_infinite() && !lower.contains("inf");
        let underflow = f == 0.0 && mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b));
        if overflow || underflow {
            return Err(Error::InputOutOfRange {
                ty: ty.into(),
                value: input,
            });
        }
    } else if f.is_infinite() && wide.is_finite() {
        return Err(Error::OutOfRange("value".into()));
    }
    Ok(stored_float(f))
}

/// Reads a number-like stored value as a numeric.
pub fn to_numeric(value: Value, from: Option<PgType>) -> Result<Numeric, Error> {
    match value {
        Value::Integer(_) if from.is_some_and(|t| t.scalar() == Scalar::Bool) => {
            Err(cannot(from, PgType::NUMERIC))
        }
        Value::Integer(i) => Ok(Numeric::from_i64(i)),
        Value::Real(f) => Numeric::from_f64(f),
        other => Numeric::parse(&source_text(&other, from)),
    }
}

fn to_string_type(text: String, to: PgType, context: Context) -> Result<Value, Error> {
    let limit = match to.scalar() {
        Scalar::Varchar(Some(n)) | Scalar::Bpchar(Some(n)) => {
            usize::try_from(n).unwrap_or(usize::MAX)
        }
        _ => return Ok(Value::Text(text)),
    };
    let length = text.chars().count();
    let mut text = if length > limit {
        let kept: String = text.chars().take(limit).collect();
        let dropped_only_spaces = text.chars().skip(limit).all(|c| c == ' ');
        if context == Context::Assignment && !dropped_only_spaces {
            return Err(Error::StringTooLong(to.to_string()));
        }
        kept
    } else {
        text
    };
    if matches!(to.scalar(), Scalar::Bpchar(_)) {
        let pad = limit.saturating_sub(text.chars().count());
        text.extend(std::iter::repeat_n(' ', pad));
    }
    Ok(Value::Text(text))
}

fn parse_bytea(input: &str) -> Result<Vec<u8>, Error> {
    let Some(hex) = input.strip_prefix("\\x") else {
        return Ok(input.as_bytes().to_vec());
    };
    let invalid = || Error::InvalidText {
        ty: "bytea".into(),
        value: input.into(),
    };
    if hex.len() % 2 != 0 {
        return Err(invalid());
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(invalid)
        })
        .collect()
}

fn to_datetime(value: Value, from: Option<PgType>, to: PgType) -> Result<Value, Error> {
    let kind = match to.scalar() {
        Scalar::Date => datetime::Kind::Date,
        Scalar::Timestamp => datetime::Kind::Timestamp,
        _ => datetime::Kind::Timestamptz,
    };
    let input = source_text(&value, from);
    if let Some(stored) = datetime::infinite(&input) {
        return Ok(Value::Text(stored.into()));
    }
    let source_kind = match from.map(PgType::scalar) {
        Some(Scalar::Date) => datetime::Kind::Date,
        Some(Scalar::Timestamp) => datetime::Kind::Timestamp,
        Some(Scalar::Timestamptz) => datetime::Kind::Timestamptz,
        _ => kind,
    };
    let micros = datetime::parse(&input, source_kind).map_err(|e| match e {
        Error::InvalidDatetime { value, .. } => Error::InvalidDatetime {
            ty: to.to_string(),
            value,
        },
        other => other,
    })?;
    let micros = if kind == datetime::Kind::Date {
        micros.div_euclid(datetime::USECS_PER_DAY) * datetime::USECS_PER_DAY
    } else {
        micros
    };
    Ok(Value::Text(datetime::format(micros, kind)))
}

fn cast_to_array(
    value: Value,
    from: Option<PgType>,
    to: PgType,
    context: Context,
) -> Result<Value, Error> {
    let element_type = to.element().unwrap_or(PgType::TEXT);
    let elements: Vec<Value> = match (&value, from) {
        (Value::Text(stored), Some(from)) if from.is_array() => {
            let items: Vec<Json> = match serde_json::from_str(stored) {
                Ok(Json::Array(items)) => items,
                _ => return Err(cannot(Some(from), to)),
            };
            let from_element = from.element();
            items
                .into_iter()
                .map(|item| json_to_value(item, from_element))
                .collect()
        }
        (Value::Text(_), _) => {
            let input = source_text(&value, from);
            let items = if to.is_vector() {
                crate::values::vector::parse_literal(&input)
            } else {
                array::parse_literal(&input, to)?
            };
            items
                .into_iter()
                .map(|item| item.map_or(Value::Null, Value::Text))
                .collect()
        }
        _ => return Err(cannot(from, to)),
    };
    let source_element = from.and_then(PgType::element);
    let converted: Result<Vec<Json>, Error> = elements
        .into_iter()
        .map(|element| {
            cast(element, source_element, element_type, context)
                .map(|v| value_to_json(v, element_type))
        })
        .collect();
    Ok(Value::Text(Json::Array(converted?).to_string()))
}

/// The JSON element stored in an array for a stored scalar value.
pub fn value_to_json(value: Value, element_type: PgType) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Integer(i) if element_type.scalar() == Scalar::Bool => Json::Bool(i != 0),
        Value::Integer(i) => Json::from(i),
        Value::Real(f) => serde_json::Number::from_f64(f)
            .map_or_else(|| Json::String(text::format_float(f, false)), Json::Number),
        Value::Text(t) if matches!(element_type.scalar(), Scalar::Numeric(_)) => {
            serde_json::from_str::<serde_json::Number>(&t).map_or(Json::String(t), Json::Number)
        }
        Value::Text(t) => Json::String(t),
        Value::Blob(b) => {
            Json::String(text::to_pg_text(&Value::Blob(b), PgType::BYTEA).unwrap_or_default())
        }
    }
}

/// The stored scalar value of a JSON array element.
pub fn json_to_value(item: Json, element_type: Option<PgType>) -> Value {
    match item {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Integer(i64::from(b)),
        Json::Number(n) => match (n.as_i64(), element_type.map(PgType::scalar)) {
            (_, Some(Scalar::Numeric(_))) => Value::Text(n.to_string()),
            (Some(i), _) => Value::Integer(i),
            (None, _) => n.as_f64().map_or(Value::Null, Value::Real),
        },
        Json::String(s) => Value::Text(s),
        other => Value::Text(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Value {
        Value::Text(text.into())
    }

    fn explicit(value: Value, from: Option<PgType>, to: &str) -> Result<Value, Error> {
        cast(
            value,
            from,
            PgType::from_name(to).expect(to),
            Context::Explicit,
        )
    }

    #[test]
    fn casts_match_postgres_15() {
        // SELECT '  12 '::int, 'yes'::bool, 1.5::int, 2.5::int, 2.5::float8::int,
        //        true::text, 'abcdef'::varchar(3), 'abc'::char(5), 2.345::numeric(10,2)
        assert_eq!(
            explicit(t("  12 "), None, "integer"),
            Ok(Value::Integer(12))
        );
        assert_eq!(explicit(t("yes"), None, "boolean"), Ok(Value::Integer(1)));
        assert_eq!(
            explicit(t("1.5"), Some(PgType::NUMERIC), "integer"),
            Ok(Value::Integer(2))
        );
        assert_eq!(
            explicit(t("2.5"), Some(PgType::NUMERIC), "integer"),
            Ok(Value::Integer(3))
        );
        assert_eq!(
            explicit(Value::Real(2.5), Some(PgType::FLOAT8), "integer"),
            Ok(Value::Integer(2))
        );
        assert_eq!(
            explicit(Value::Integer(1), Some(PgType::BOOL), "text"),
            Ok(t("true"))
        );
        assert_eq!(explicit(t("abcdef"), None, "varchar(3)"), Ok(t("abc")));
        assert_eq!(explicit(t("abc"), None, "char(5)"), Ok(t("abc  ")));
        assert_eq!(explicit(t("2.345"), None, "numeric(10,2)"), Ok(t("2.35")));
        assert_eq!(
            explicit(Value::Integer(7), Some(PgType::INT4), "numeric(10,2)"),
            Ok(t("7.00"))
        );
        assert_eq!(
            explicit(t("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"), None, "uuid"),
            Ok(t("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))
        );
        assert_eq!(
            explicit(t("2024-01-01 10:00+02"), None, "timestamptz"),
            Ok(t("2024-01-01 08:00:00+00"))
        );
        assert_eq!(
            explicit(
                t("2024-01-01 08:00:00+00"),
                Some(PgType::TIMESTAMPTZ),
                "date"
            ),
            Ok(t("2024-01-01"))
        );
        assert_eq!(
            explicit(t("2024-05-17"), Some(PgType::DATE), "timestamp"),
            Ok(t("2024-05-17 00:00:00"))
        );
        assert_eq!(explicit(t("-Infinity"), None, "date"), Ok(t("-infinity")));
        assert_eq!(
            explicit(t("infinity"), Some(PgType::DATE), "timestamptz"),
            Ok(t("infinity"))
        );
        assert_eq!(
            explicit(t(r#"{"b":1,"a":2}"#), None, "jsonb"),
            Ok(t(r#"{"a": 2, "b": 1}"#))
        );
        assert_eq!(
            explicit(t("\\x0102"), None, "bytea"),
            Ok(Value::Blob(vec![1, 2]))
        );
    }

    #[test]
    fn rejects_bad_input_with_postgres_errors() {
        assert!(matches!(
            explicit(t("1.5"), None, "integer"),
            Err(Error::InvalidText { .. })
        ));
        assert!(matches!(
            explicit(t("maybe"), None, "boolean"),
            Err(Error::InvalidText { .. })
        ));
        assert!(matches!(
            explicit(Value::Integer(40_000), Some(PgType::INT4), "smallint"),
            Err(Error::OutOfRange(_))
        ));
        assert!(matches!(
            explicit(t("99999999999"), None, "integer"),
            Err(Error::OutOfRange(_))
        ));
        assert!(matches!(
            explicit(t("not-a-uuid"), None, "uuid"),
            Err(Error::InvalidText { .. })
        ));
        let varchar3 = PgType::from_name("varchar(3)").expect("type");
        assert_eq!(
            cast(t("abcdef"), None, varchar3, Context::Assignment),
            Err(Error::StringTooLong("character varying(3)".into()))
        );
        assert_eq!(
            cast(t("abc   "), None, varchar3, Context::Assignment),
            Ok(t("abc"))
        );
    }

    #[test]
    fn nan_is_stored_as_text_and_infinities_as_json_strings() {
        // SQLite would turn a NaN float into NULL
        assert_eq!(explicit(t("NaN"), None, "double precision"), Ok(t("NaN")));
        assert_eq!(explicit(t("nan"), None, "real"), Ok(t("NaN")));
        assert_eq!(
            explicit(t("NaN"), Some(PgType::FLOAT8), "double precision"),
            Ok(t("NaN"))
        );
        assert!(matches!(
            explicit(t("NaN"), Some(PgType::FLOAT8), "integer"),
            Err(Error::OutOfRange(_))
        ));
        // SELECT ARRAY['Infinity'::float8, '-Infinity', 'NaN']
        assert_eq!(
            explicit(t("{Infinity,-Infinity,NaN}"), None, "double precision[]"),
            Ok(t(r#"["Infinity","-Infinity","NaN"]"#))
        );
    }

    #[test]
    fn arrays_convert_element_by_element() {
        assert_eq!(
            explicit(t("{1, 2,NULL}"), None, "integer[]"),
            Ok(t("[1,2,null]"))
        );
        assert_eq!(
            explicit(t("{t,f}"), None, "boolean[]"),
            Ok(t("[true,false]"))
        );
        assert_eq!(
            explicit(t("[1,2]"), Some(PgType::INT4.array_of()), "text[]"),
            Ok(t(r#"["1","2"]"#))
        );
        assert_eq!(
            explicit(t("[1,2]"), Some(PgType::INT4.array_of()), "text"),
            Ok(t("{1,2}"))
        );
        assert_eq!(explicit(t("{1.50}"), None, "numeric[]"), Ok(t("[1.50]")));
    }
}
