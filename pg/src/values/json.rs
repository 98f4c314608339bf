//! `json` and `jsonb` values: `jsonb`'s normalised text (keys ordered by
//! length then bytes, last duplicate wins, `": "` and `", "` separators),
//! the `->`, `->>`, `#>`, `#>>` accessors and `@>` containment.

use std::cmp::Ordering;

use rusqlite::types::Value as StoredValue;
use serde_json::Value;

use crate::error::Error;
use crate::types::{PgType, Scalar};
use crate::values::numeric::Numeric;
use crate::values::text;

/// Parses JSON text, as `json` or `jsonb` input does.
pub fn parse(text: &str, ty: &str) -> Result<Value, Error> {
    serde_json::from_str(text).map_err(|_| Error::InvalidText {
        ty: ty.into(),
        value: text.into(),
    })
}

/// PostgreSQL's `jsonb` output for a value.
pub fn to_jsonb_text(value: &Value) -> String {
    let mut out = String::new();
    write_jsonb(value, &mut out);
    out
}

fn write_jsonb(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match Numeric::parse(&n.to_string()) {
            Ok(numeric) => out.push_str(&numeric.to_string()),
            Err(_) => out.push_str(&n.to_string()),
        },
        Value::String(s) => out.push_str(&Value::String(s.clone()).to_string()),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_jsonb(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|(a, _), (b, _)| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push_str(": ");
                write_jsonb(item, out);
            }
            out.push('}');
        }
    }
}

/// PostgreSQL's `to_json` of a stored value of type `ty`, as JSON text:
/// numbers and booleans bare, JSON embedded, arrays compact, dates and
/// times in ISO 8601, anything else a string of its text form; `None` for
/// NULL.
pub fn stored_to_json(value: &StoredValue, ty: PgType) -> Option<String> {
    if matches!(value, StoredValue::Null) {
        return None;
    }
    if ty.is_array() {
        let text = text::to_pg_text(value, PgType::JSON)?;
        return Some(
            serde_json::from_str::<Value>(&text).map_or(text, |parsed| parsed.to_string()),
        );
    }
    let printed = text::to_pg_text(value, ty)?;
    Some(match ty.scalar() {
        Scalar::Bool => (printed == "t").to_string(),
        Scalar::Int2 | Scalar::Int4 | Scalar::Int8 | Scalar::Numeric(_) => printed,
        Scalar::Float4 | Scalar::Float8 if printed.parse::<f64>().is_ok_and(f64::is_finite) => {
            printed
        }
        Scalar::Json | Scalar::Jsonb => printed,
        Scalar::Timestamp | Scalar::Timestamptz => {
            let iso = printed.replacen(' ', "T", 1);
            let iso = match (ty.scalar(), iso.rsplit_once(['+', '-'])) {
                (Scalar::Timestamptz, Some((_, zone))) if zone.len() == 2 => format!("{iso}:00"),
                _ => iso,
            };
            Value::String(iso).to_string()
        }
        _ => Value::String(printed).to_string(),
    })
}

/// One step of a JSON path: an object key, or an array index (negative
/// counts from the end, as in PostgreSQL).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// `-> 'key'`
    Key(String),
    /// `-> 2`
    Index(i64),
}

/// Follows one step, as `->` does; `None` where PostgreSQL gives NULL.
pub fn get<'a>(value: &'a Value, step: &Step) -> Option<&'a Value> {
    match (value, step) {
        (Value::Object(map), Step::Key(key)) => map.get(key),
        (Value::Array(items), Step::Index(index)) => {
            let len = i64::try_from(items.len()).ok()?;
            let at = if *index < 0 { len + index } else { *index };
            items.get(usize::try_from(at).ok()?)
        }
        _ => None,
    }
}

/// Follows a text path, as `#>` does: each element is a key, or an index
/// when it names an array.
pub fn get_path<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter()
        .try_fold(value, |current, element| match current {
            Value::Array(_) => get(current, &Step::Index(element.trim().parse().ok()?)),
            _ => get(current, &Step::Key(element.clone())),
        })
}

/// The text `->>` returns: strings unquoted, JSON null as SQL NULL, other
/// values as their text.
pub fn as_text(value: &Value, jsonb: bool) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other if jsonb => Some(to_jsonb_text(other)),
        other => Some(other.to_string()),
    }
}

fn scalar_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            match (
                Numeric::parse(&x.to_string()),
                Numeric::parse(&y.to_string()),
            ) {
                (Ok(x), Ok(y)) => x.cmp_value(y) == Ordering::Equal,
                _ => x == y,
            }
        }
        _ => a == b,
    }
}

/// `left @> right` for `jsonb`, with PostgreSQL's rules: objects contain
/// objects key by key, arrays contain arrays element by element (in any
/// order), a top-level array contains a scalar it holds, scalars contain
/// equal scalars.
pub fn contains(left: &Value, right: &Value) -> bool {
    contains_at(left, right, true)
}

fn contains_at(left: &Value, right: &Value, top: bool) -> bool {
    match (left, right) {
        (Value::Object(l), Value::Object(r)) => r
            .iter()
            .all(|(key, rv)| l.get(key).is_some_and(|lv| contains_at(lv, rv, false))),
        (Value::Array(l), Value::Array(r)) => r.iter().all(|rv| match rv {
            Value::Array(_) | Value::Object(_) => l.iter().any(|lv| contains_at(lv, rv, false)),
            scalar => l.iter().any(|lv| scalar_eq(lv, scalar)),
        }),
        (Value::Array(l), scalar) if top && !scalar.is_array() && !scalar.is_object() => {
            l.iter().any(|lv| scalar_eq(lv, scalar))
        }
        (Value::Object(_) | Value::Array(_), _) | (_, Value::Object(_) | Value::Array(_)) => false,
        (l, r) => scalar_eq(l, r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Value {
        parse(text, "jsonb").expect(text)
    }

    #[test]
    fn jsonb_output_matches_postgres_15() {
        // SELECT '{"bb":[1,2],"a":1.50,"a":2,"c":"x\ny"}'::jsonb
        assert_eq!(
            to_jsonb_text(&v(r#"{"bb":[1,2],"a":1.50,"a":2,"c":"x\ny"}"#)),
            r#"{"a": 2, "c": "x\ny", "bb": [1, 2]}"#
        );
        assert_eq!(to_jsonb_text(&v("1.50")), "1.50");
        assert_eq!(to_jsonb_text(&v("1e2")), "100");
        assert!(parse("{", "jsonb").is_err());
    }

    #[test]
    fn accessors_follow_postgres() {
        let doc = v(r#"{"a":{"b":[10,20,30]},"s":"x","n":null}"#);
        assert_eq!(
            get(&doc, &Step::Key("s".into())).and_then(|x| as_text(x, true)),
            Some("x".into())
        );
        assert_eq!(
            get(&doc, &Step::Key("n".into())).and_then(|x| as_text(x, true)),
            None
        );
        let path = ["a".to_string(), "b".to_string(), "-1".to_string()];
        assert_eq!(get_path(&doc, &path), Some(&v("30")));
        assert_eq!(get(&doc, &Step::Index(0)), None);
    }

    #[test]
    fn containment_follows_postgres() {
        // SELECT '{"a":1,"b":[1,2,3]}'::jsonb @> '{"b":[3,1]}' → t, etc.
        assert!(contains(&v(r#"{"a":1,"b":[1,2,3]}"#), &v(r#"{"b":[3,1]}"#)));
        assert!(!contains(&v(r#"{"a":1}"#), &v(r#"{"a":2}"#)));
        assert!(contains(&v("[1,2]"), &v("1")));
        assert!(!contains(&v("[[1,2]]"), &v("1")));
        assert!(contains(&v("[1.0]"), &v("[1]")));
        assert!(!contains(&v(r#"{"a":[1]}"#), &v(r#"{"a":1}"#)));
    }
}
