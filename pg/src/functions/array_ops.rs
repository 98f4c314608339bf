//! Array functions and operators over the stored JSON arrays, each given
//! the element type where it matters: `pg_array_append(array, element,
//! type)`, `pg_array_prepend(element, array, type)`, `pg_array_cat(a, b)`
//! (`||` and the functions of those names), `pg_array_position(array,
//! element, type)`, `pg_array_contains(a, b)` (`@>`; `<@` swapped),
//! `pg_array_to_string(array, type, delimiter[, null_text])` and
//! `pg_string_to_array(text, delimiter)`.

use rusqlite::functions::Context;
use rusqlite::{Connection, Result};
use serde_json::Value as Json;

use super::cast::type_arg;
use super::{deterministic, user_error};
use crate::error::Error;
use crate::types::PgType;
use crate::values::cast::{json_to_value, value_to_json};
use crate::values::text::to_pg_text;

pub(super) fn register(conn: &Connection) -> Result<()> {
    conn.create_scalar_function("pg_array_append", 3, deterministic(), |ctx| {
        let Some(mut items) = array(ctx, 0)? else {
            return Ok(None);
        };
        items.push(value_to_json(ctx.get(1)?, type_arg(ctx, 2)?));
        Ok(Some(Json::Array(items).to_string()))
    })?;
    conn.create_scalar_function("pg_array_prepend", 3, deterministic(), |ctx| {
        let Some(mut items) = array(ctx, 1)? else {
            return Ok(None);
        };
        items.insert(0, value_to_json(ctx.get(0)?, type_arg(ctx, 2)?));
        Ok(Some(Json::Array(items).to_string()))
    })?;
    conn.create_scalar_function("pg_array_cat", 2, deterministic(), |ctx| {
        Ok(match (array(ctx, 0)?, array(ctx, 1)?) {
            (Some(mut a), Some(b)) => {
                a.extend(b);
                Some(Json::Array(a).to_string())
            }
            (Some(only), None) | (None, Some(only)) => Some(Json::Array(only).to_string()),
            (None, None) => None,
        })
    })?;
    conn.create_scalar_function("pg_array_position", 3, deterministic(), |ctx| {
        let Some(items) = array(ctx, 0)? else {
            return Ok(None);
        };
        let wanted = value_to_json(ctx.get(1)?, type_arg(ctx, 2)?);
        Ok(items
            .iter()
            .position(|item| *item == wanted)
            .map(|at| at as i64 + 1))
    })?;
    conn.create_scalar_function("pg_array_contains", 2, deterministic(), |ctx| {
        let (Some(container), Some(contained)) = (array(ctx, 0)?, array(ctx, 1)?) else {
            return Ok(None);
        };
        // PostgreSQL's @>: every non-NULL element of the right is on the left.
        Ok(Some(
            contained
                .iter()
                .all(|item| !item.is_null() && container.contains(item)),
        ))
    })?;
    for arity in [3, 4] {
        conn.create_scalar_function("pg_array_to_string", arity, deterministic(), |ctx| {
            let (Some(items), Some(delimiter)) = (array(ctx, 0)?, ctx.get::<Option<String>>(2)?)
            else {
                return Ok(None);
            };
            let element_type = type_arg(ctx, 1)?;
            let null_text = if ctx.len() == 4 {
                ctx.get::<Option<String>>(3)?
            } else {
                None
            };
            let texts: Vec<String> = items
                .into_iter()
                .filter_map(|item| {
                    let value = json_to_value(item, Some(element_type));
                    to_pg_text(&value, element_type).or_else(|| null_text.clone())
                })
                .collect();
            Ok(Some(texts.join(&delimiter)))
        })?;
    }
    conn.create_scalar_function("pg_string_to_array", 2, deterministic(), |ctx| {
        let Some(text) = ctx.get::<Option<String>>(0)? else {
            return Ok(None);
        };
        let items: Vec<Json> = match ctx.get::<Option<String>>(1)? {
            _ if text.is_empty() => Vec::new(),
            None => text.chars().map(|c| Json::String(c.into())).collect(),
            Some(delimiter) if delimiter.is_empty() => vec![Json::String(text)],
            Some(delimiter) => text
                .split(delimiter.as_str())
                .map(|part| Json::String(part.into()))
                .collect(),
        };
        Ok(Some(Json::Array(items).to_string()))
    })
}

/// A stored array argument, or `None` for NULL.
fn array(ctx: &Context<'_>, index: usize) -> Result<Option<Vec<Json>>> {
    let Some(text) = ctx.get::<Option<String>>(index)? else {
        return Ok(None);
    };
    match serde_json::from_str::<Json>(&text) {
        Ok(Json::Array(items)) => Ok(Some(items)),
        _ => Err(user_error(Error::InvalidText {
            ty: PgType::TEXT.array_of().to_string(),
            value: text,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::types::Value;

    #[test]
    fn array_functions_match_postgres_15() {
        // SELECT array_append(ARRAY[1,2], 3), array_prepend(0, ARRAY[1]), ARRAY[1] || ARRAY[2],
        //        array_position(ARRAY[5,6], 6), ARRAY[1,2] @> ARRAY[2], ARRAY[1] @> ARRAY[NULL::int],
        //        array_to_string(ARRAY['a',NULL,'c'], '-'), array_to_string(ARRAY[true], ','),
        //        string_to_array('x,y', ',')
        let conn = Connection::open_in_memory().expect("open");
        register(&conn).expect("register");
        let row: [Value; 9] = conn
            .query_row(
                "SELECT pg_array_append('[1,2]', 3, 'integer'), pg_array_prepend(0, '[1]', 'integer'), \
                 pg_array_cat('[1]', '[2]'), pg_array_position('[5,6]', 6, 'integer'), \
                 pg_array_contains('[1,2]', '[2]'), pg_array_contains('[1]', '[null]'), \
                 pg_array_to_string('[\"a\",null,\"c\"]', 'text', '-'), \
                 pg_array_to_string('[true]', 'boolean', ','), pg_string_to_array('x,y', ',')",
                [],
                |r| {
                    Ok([
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                    ])
                },
            )
            .expect("query");
        let text = |s: &str| Value::Text(s.into());
        assert_eq!(
            row,
            [
                text("[1,2,3]"),
                text("[0,1]"),
                text("[1,2]"),
                Value::Integer(2),
                Value::Integer(1),
                Value::Integer(0),
                text("a-c"),
                text("t"),
                text("[\"x\",\"y\"]"),
            ]
        );
    }
}
