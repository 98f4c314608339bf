//! Building and inspecting JSON: `pg_json_build(kind, jsonb, type, value,
//! …)` for `to_json`/`to_jsonb` (`kind` 'value'), `json[b]_build_array`
//! ('array') and `json[b]_build_object` ('object'), each value given with
//! its PostgreSQL type name; `pg_json_typeof(doc)`,
//! `pg_json_array_length(doc)` and `pg_jsonb_has_key(doc, key)` for `?`.

use rusqlite::functions::Context;
use rusqlite::types::Value as Stored;
use rusqlite::{Connection, Result};
use serde_json::Value;

use super::cast::type_arg;
use super::{deterministic, user_error};
use crate::error::Error;
use crate::types::PgType;
use crate::values::json;

pub(super) fn register(conn: &Connection) -> Result<()> {
    conn.create_scalar_function("pg_json_build", -1, deterministic(), |ctx| {
        let kind: String = ctx.get(0)?;
        let jsonb: bool = ctx.get(1)?;
        let mut fragments = Vec::with_capacity(ctx.len() / 2);
        for index in (2..ctx.len()).step_by(2) {
            let ty = type_arg(ctx, index)?;
            fragments.push(fragment(ctx, index + 1, ty)?);
        }
        let text = match kind.as_str() {
            "value" => match fragments.pop() {
                Some(Some(fragment)) => fragment,
                _ => return Ok(None),
            },
            "array" => format!(
                "[{}]",
                fragments
                    .into_iter()
                    .map(|f| f.unwrap_or_else(|| "null".into()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => object(fragments).map_err(user_error)?,
        };
        if !jsonb {
            return Ok(Some(text));
        }
        let value = json::parse(&text, "jsonb").map_err(user_error)?;
        Ok(Some(json::to_jsonb_text(&value)))
    })?;
    conn.create_scalar_function("pg_json_typeof", 1, deterministic(), |ctx| {
        Ok(document(ctx, 0)?.map(|doc| match doc {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }))
    })?;
    conn.create_scalar_function(
        "pg_json_array_length",
        1,
        deterministic(),
        |ctx| match document(ctx, 0)? {
            Some(Value::Array(items)) => Ok(Some(items.len() as i64)),
            Some(_) => Err(user_error(Error::InvalidParameter(
                "parameter: cannot get array length of a non-array".into(),
            ))),
            None => Ok(None),
        },
    )?;
    conn.create_scalar_function("pg_jsonb_has_key", 2, deterministic(), |ctx| {
        let (Some(doc), Some(key)) = (document(ctx, 0)?, ctx.get::<Option<String>>(1)?) else {
            return Ok(None);
        };
        Ok(Some(match doc {
            Value::Object(map) => map.contains_key(&key),
            Value::Array(items) => items.contains(&Value::String(key)),
            Value::String(s) => s == key,
            _ => false,
        }))
    })
}

/// A stored JSON document argument, parsed.
fn document(ctx: &Context<'_>, index: usize) -> Result<Option<Value>> {
    match ctx.get::<Option<String>>(index)? {
        Some(text) => json::parse(&text, "json").map(Some).map_err(user_error),
        None => Ok(None),
    }
}

/// The JSON text of one argument, as PostgreSQL's `to_json` writes it.
fn fragment(ctx: &Context<'_>, index: usize, ty: PgType) -> Result<Option<String>> {
    let value: Stored = ctx.get(index)?;
    Ok(json::stored_to_json(&value, ty))
}

/// `json_build_object`'s text: `{"key" : value, …}`.
fn object(fragments: Vec<Option<String>>) -> std::result::Result<String, Error> {
    if !fragments.len().is_multiple_of(2) {
        return Err(Error::InvalidParameter(
            "argument list must have even number of elements".into(),
        ));
    }
    let mut pairs = Vec::with_capacity(fragments.len() / 2);
    for pair in fragments.chunks(2) {
        let key = match &pair[0] {
            Some(key) => match serde_json::from_str::<Value>(key) {
                Ok(Value::String(s)) => s,
                _ => key.clone(),
            },
            None => {
                return Err(Error::InvalidParameter(
                    "argument: object keys must not be null".into(),
                ));
            }
        };
        let value = pair[1].clone().unwrap_or_else(|| "null".into());
        pairs.push(format!("{} : {value}", Value::String(key)));
    }
    Ok(format!("{{{}}}", pairs.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_like_postgres_15() {
        // SELECT json_build_object('k', 1, 'b', true), jsonb_build_object('b', 'two', 'a', 1),
        //        json_build_array(1, 'x', NULL), to_jsonb('text'::text), jsonb_typeof('[1]'),
        //        json_array_length('[1,2]'), '{"a":1}'::jsonb ? 'a'
        let conn = Connection::open_in_memory().expect("open");
        register(&conn).expect("register");
        let row: (String, String, String, String, String, i64, bool) = conn
            .query_row(
                "SELECT pg_json_build('object', 0, 'text', 'k', 'integer', 1, 'text', 'b', 'boolean', 1), \
                 pg_json_build('object', 1, 'text', 'b', 'text', 'two', 'text', 'a', 'integer', 1), \
                 pg_json_build('array', 0, 'integer', 1, 'text', 'x', 'text', NULL), \
                 pg_json_build('value', 1, 'text', 'text'), pg_json_typeof('[1]'), \
                 pg_json_array_length('[1,2]'), pg_jsonb_has_key('{\"a\":1}', 'a')",
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                },
            )
            .expect("query");
        assert_eq!(
            row,
            (
                r#"{"k" : 1, "b" : true}"#.into(),
                r#"{"a": 1, "b": "two"}"#.into(),
                r#"[1, "x", null]"#.into(),
                r#""text""#.into(),
                "array".into(),
                2,
                true
            )
        );
    }
}
