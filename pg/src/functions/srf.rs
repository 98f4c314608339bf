//! The rows of the JSON set-returning functions as stored arrays, for the
//! translation of `translate::srf` to join with `json_each`:
//! `pg_json_elements(doc, as_text, jsonb)` is
//! `json[b]_array_elements[_text](doc)`, each element's text (`->` of
//! its index, or `->>`) as one element of a JSON array;
//! `pg_json_pairs(doc, as_text, jsonb)` is `json[b]_each[_text](doc)`,
//! a `[key, text]` array per member: a `json` object's in the order
//! written (duplicates kept), a `jsonb` one's in `jsonb`'s key order;
//! `pg_time_series(start, stop, step, type)` is `generate_series` of
//! timestamps (`type` names which), each the previous plus `step`.

use rusqlite::{Connection, Result};
use serde_json::Value;
use serde_json::value::RawValue;

use super::cast::type_arg;
use super::{deterministic, user_error};
use crate::error::Error;
use crate::types::Scalar;
use crate::values::datetime::{self, Kind, USECS_PER_DAY};
use crate::values::interval::Interval;
use crate::values::json;

/// The most values one `generate_series` of timestamps may produce: the
/// series is built whole, as a JSON array.
const MAX_SERIES: usize = 10_000_000;

pub(super) fn register(conn: &Connection) -> Result<()> {
    conn.create_scalar_function("pg_json_elements", 3, deterministic(), |ctx| {
        let Some(doc) = ctx.get::<Option<String>>(0)? else {
            return Ok(None);
        };
        let (as_text, jsonb): (bool, bool) = (ctx.get(1)?, ctx.get(2)?);
        elements(&doc, as_text, jsonb).map(Some).map_err(user_error)
    })?;
    conn.create_scalar_function("pg_json_pairs", 3, deterministic(), |ctx| {
        let Some(doc) = ctx.get::<Option<String>>(0)? else {
            return Ok(None);
        };
        let (as_text, jsonb): (bool, bool) = (ctx.get(1)?, ctx.get(2)?);
        pairs(&doc, as_text, jsonb).map(Some).map_err(user_error)
    })?;
    conn.create_scalar_function("pg_time_series", 4, deterministic(), |ctx| {
        let (Some(start), Some(stop), Some(step)) = (
            ctx.get::<Option<String>>(0)?,
            ctx.get::<Option<String>>(1)?,
            ctx.get::<Option<String>>(2)?,
        ) else {
            return Ok(None);
        };
        let kind = match type_arg(ctx, 3)?.scalar() {
            Scalar::Timestamptz => Kind::Timestamptz,
            _ => Kind::Timestamp,
        };
        time_series(&start, &stop, &step, kind)
            .map(Some)
            .map_err(user_error)
    })
}

/// `generate_series(start, stop, step)` of timestamps as a stored array.
fn time_series(start: &str, stop: &str, step: &str, kind: Kind) -> Result<String, Error> {
    let step = Interval::parse(step)?;
    let next =
        |at: i64| datetime::add_months(at, step.months) + step.days * USECS_PER_DAY + step.micros;
    let (start, stop) = (datetime::parse(start, kind)?, datetime::parse(stop, kind)?);
    let direction = next(start).cmp(&start);
    if direction == std::cmp::Ordering::Equal {
        return Err(Error::InvalidParameterValue(
            "step size cannot equal zero".into(),
        ));
    }
    let mut values = Vec::new();
    let mut at = start;
    while at.cmp(&stop) != direction {
        if values.len() == MAX_SERIES {
            return Err(Error::NotImplemented(format!(
                "generate_series of more than {MAX_SERIES} values"
            )));
        }
        values.push(Value::String(datetime::format(at, kind)));
        at = next(at);
    }
    Ok(Value::Array(values).to_string())
}

/// An object's members in the order written, duplicates kept (a
/// `serde_json::Map` sorts and folds them).
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Members, D::Error> {
        struct MembersVisitor;
        impl<'de> serde::de::Visitor<'de> for MembersVisitor {
            type Value = Members;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Members, M::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

fn pairs(doc: &str, as_text: bool, jsonb: bool) -> Result<String, Error> {
    let name = match (jsonb, as_text) {
        (false, false) => "json_each",
        (false, true) => "json_each_text",
        (true, false) => "jsonb_each",
        (true, true) => "jsonb_each_text",
    };
    let parsed = json::parse(doc, if jsonb { "jsonb" } else { "json" })?;
    if !parsed.is_object() {
        return Err(Error::InvalidParameterValue(format!(
            "cannot call {name} on a non-object"
        )));
    }
    let mut members: Vec<(String, Option<String>)> = if jsonb {
        let Value::Object(map) = parsed else {
            return Ok("[]".into());
        };
        let mut members: Vec<(String, Value)> = map.into_iter().collect();
        // jsonb orders keys by length, then bytewise
        members.sort_by(|(a, _), (b, _)| (a.len(), a.as_bytes()).cmp(&(b.len(), b.as_bytes())));
        members
            .into_iter()
            .map(|(key, value)| {
                let text = if as_text {
                    json::as_text(&value, true)
                } else {
                    Some(json::to_jsonb_text(&value))
                };
                (key, text)
            })
            .collect()
    } else {
        let Members(members) = serde_json::from_str(doc).map_err(|_| Error::InvalidText {
            ty: "json".into(),
            value: doc.into(),
        })?;
        members
            .into_iter()
            .map(|(key, raw)| {
                let text = match serde_json::from_str::<Value>(raw.get()) {
                    Ok(Value::String(s)) if as_text => Some(s),
                    Ok(Value::Null) if as_text => None,
                    _ => Some(raw.get().to_owned()),
                };
                (key, text)
            })
            .collect()
    };
    let rows: Vec<Value> = members
        .drain(..)
        .map(|(key, text)| {
            Value::Array(vec![
                Value::String(key),
                text.map_or(Value::Null, Value::String),
            ])
        })
        .collect();
    Ok(Value::Array(rows).to_string())
}

fn elements(doc: &str, as_text: bool, jsonb: bool) -> Result<String, Error> {
    if !jsonb && let Ok(items) = serde_json::from_str::<Vec<Box<RawValue>>>(doc) {
        // `json` keeps each element's text as written
        let texts = items
            .iter()
            .map(|raw| match serde_json::from_str::<Value>(raw.get()) {
                Ok(Value::String(s)) if as_text => Value::String(s),
                Ok(Value::Null) if as_text => Value::Null,
                _ => Value::String(raw.get().to_owned()),
            })
            .collect();
        return Ok(Value::Array(texts).to_string());
    }
    let parsed = json::parse(doc, if jsonb { "jsonb" } else { "json" })?;
    let items = match parsed {
        Value::Array(items) => items,
        Value::Object(_) => {
            return Err(Error::InvalidParameterValue(
                "cannot extract elements from an object".into(),
            ));
        }
        _ => {
            return Err(Error::InvalidParameterValue(
                "cannot extract elements from a scalar".into(),
            ));
        }
    };
    let texts: Vec<Value> = items
        .iter()
        .map(|item| {
            let text = if as_text {
                json::as_text(item, jsonb)
            } else if jsonb {
                Some(json::to_jsonb_text(item))
            } else {
                Some(item.to_string())
            };
            text.map_or(Value::Null, Value::String)
        })
        .collect();
    Ok(Value::Array(texts).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_step_by_adding_the_interval() {
        // SELECT generate_series('2024-01-31'::timestamp, '2024-04-30', '1 month')
        assert_eq!(
            time_series(
                "2024-01-31 00:00:00",
                "2024-04-30 00:00:00",
                "1 mon",
                Kind::Timestamp
            )
            .expect("series"),
            r#"["2024-01-31 00:00:00","2024-02-29 00:00:00","2024-03-29 00:00:00","2024-04-29 00:00:00"]"#
        );
        assert_eq!(
            time_series(
                "2024-01-02 00:00:00+00",
                "2024-01-01 12:00:00+00",
                "-12:00:00",
                Kind::Timestamptz
            )
            .expect("backwards"),
            r#"["2024-01-02 00:00:00+00","2024-01-01 12:00:00+00"]"#
        );
        assert_eq!(
            time_series(
                "2024-01-01 00:00:00",
                "2024-01-02 00:00:00",
                "00:00:00",
                Kind::Timestamp
            )
            .map_err(|e| e.sqlstate()),
            Err("22023")
        );
    }

    #[test]
    fn members_in_postgres_order() {
        // SELECT * FROM json_each('{"b": 1, "a": [1,  2], "b": "x"}'), and jsonb_each_text
        assert_eq!(
            pairs(r#"{"b": 1, "a": [1,  2], "b": "x"}"#, false, false).expect("json"),
            r#"[["b","1"],["a","[1,  2]"],["b","\"x\""]]"#
        );
        assert_eq!(
            pairs(r#"{"bb": 1, "a": null, "c": "x"}"#, true, true).expect("jsonb"),
            r#"[["a",null],["c","x"],["bb","1"]]"#
        );
        assert_eq!(
            pairs("[1]", false, true).map_err(|e| e.to_string()),
            Err("cannot call jsonb_each on a non-object".into())
        );
    }

    #[test]
    fn elements_as_postgres_prints_them() {
        // SELECT jsonb_array_elements('[1, "a", {"b":2}, null]'), and _text
        assert_eq!(
            elements(r#"[1,"a",{"b":2},null]"#, false, true).expect("jsonb"),
            r#"["1","\"a\"","{\"b\": 2}","null"]"#
        );
        assert_eq!(
            elements(r#"[1,"a",{"b":2},null]"#, true, true).expect("text"),
            r#"["1","a","{\"b\": 2}",null]"#
        );
        assert_eq!(
            elements(r#"{"a":1}"#, false, false).map_err(|e| e.sqlstate()),
            Err("22023")
        );
        // SELECT json_array_elements('[ true, [1,  2] ]'), and _text of '["a\"b"]'
        assert_eq!(
            elements("[ true, [1,  2] ]", false, false).expect("json"),
            r#"["true","[1,  2]"]"#
        );
        assert_eq!(
            elements(r#"["a\"b", null]"#, true, false).expect("json text"),
            r#"["a\"b",null]"#
        );
    }
}
