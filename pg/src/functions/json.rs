//! JSON operators: `pg_json_get(doc, key_or_index, as_text, jsonb)` for
//! `->`/`->>`, `pg_json_path(doc, path, as_text, jsonb)` for `#>`/`#>>`
//! (`path` a stored `text[]`, a JSON array such as `["a","0"]`), and
//! `pg_jsonb_contains(a, b)` for `@>`.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, Result};
use serde_json::Value;

use super::{deterministic, user_error};
use crate::error::Error;
use crate::values::json;

pub(super) fn register(conn: &Connection) -> Result<()> {
    conn.create_scalar_function("pg_json_get", 4, deterministic(), |ctx| {
        let Some(doc) = ctx.get::<Option<String>>(0)? else {
            return Ok(None);
        };
        let step = match ctx.get_raw(1) {
            ValueRef::Integer(i) => json::Step::Index(i),
            ValueRef::Null => return Ok(None),
            _ => json::Step::Key(ctx.get(1)?),
        };
        let (as_text, jsonb): (bool, bool) = (ctx.get(2)?, ctx.get(3)?);
        let doc = json::parse(&doc, if jsonb { "jsonb" } else { "json" }).map_err(user_error)?;
        Ok(json::get(&doc, &step).and_then(|v| render(v, as_text, jsonb)))
    })?;
    conn.create_scalar_function("pg_json_path", 4, deterministic(), |ctx| {
        let (Some(doc), Some(path)) =
            (ctx.get::<Option<String>>(0)?, ctx.get::<Option<String>>(1)?)
        else {
            return Ok(None);
        };
        let (as_text, jsonb): (bool, bool) = (ctx.get(2)?, ctx.get(3)?);
        let doc = json::parse(&doc, if jsonb { "jsonb" } else { "json" }).map_err(user_error)?;
        let Ok(Value::Array(steps)) = serde_json::from_str::<Value>(&path) else {
            return Err(user_error(Error::InvalidText {
                ty: "text[]".into(),
                value: path,
            }));
        };
        let path: Option<Vec<String>> = steps
            .into_iter()
            .map(|step| match step {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect();
        let Some(path) = path else {
            return Ok(None);
        };
        Ok(json::get_path(&doc, &path).and_then(|v| render(v, as_text, jsonb)))
    })?;
    conn.create_scalar_function("pg_jsonb_contains", 2, deterministic(), |ctx| {
        let (Some(a), Some(b)) = (ctx.get::<Option<String>>(0)?, ctx.get::<Option<String>>(1)?)
        else {
            return Ok(None);
        };
        let parse = |text: &str| json::parse(text, "jsonb").map_err(user_error);
        Ok(Some(json::contains(&parse(&a)?, &parse(&b)?)))
    })
}

fn render(value: &Value, as_text: bool, jsonb: bool) -> Option<String> {
    if as_text {
        json::as_text(value, jsonb)
    } else if jsonb {
        Some(json::to_jsonb_text(value))
    } else {
        Some(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_run_in_sqlite() {
        let conn = Connection::open_in_memory().expect("open");
        register(&conn).expect("register");
        let doc = r#"{"a":{"b":[10,"x"]},"s":"str"}"#;
        let row: (String, String, Option<String>, String, bool) = conn
            .query_row(
                "SELECT pg_json_get(?1, 'a', 0, 1), pg_json_get(?1, 's', 1, 1), pg_json_get(?1, 'zz', 1, 1), \
                 pg_json_path(?1, '[\"a\",\"b\",\"1\"]', 1, 1), pg_jsonb_contains(?1, '{\"s\":\"str\"}')",
                [doc],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .expect("query");
        assert_eq!(
            row,
            (
                r#"{"b": [10, "x"]}"#.into(),
                "str".into(),
                None,
                "x".into(),
                true
            )
        );
        let err = conn
            .query_row("SELECT pg_jsonb_contains('{', '{}')", [], |r| {
                r.get::<_, bool>(0)
            })
            .expect_err("invalid json");
        assert_eq!(
            crate::functions::sqlstate_of(&err).map(|(code, _)| code),
            Some("22P02")
        );
    }
}
