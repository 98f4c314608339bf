//! Array helpers over the stored JSON arrays: `pg_array(type, elements…)`
//! builds one (for `ARRAY[…]`), `pg_array_get(array, index, type)` reads
//! a 1-based element (for `a[i]`).

use rusqlite::types::Value;
use rusqlite::{Connection, Result};
use serde_json::Value as Json;

use super::cast::type_arg;
use super::deterministic;
use crate::values::cast::{json_to_value, value_to_json};

pub(super) fn register(conn: &Connection) -> Result<()> {
    conn.create_scalar_function("pg_array", -1, deterministic(), |ctx| {
        let element_type = type_arg(ctx, 0)?;
        let mut items = Vec::with_capacity(ctx.len().saturating_sub(1));
        for index in 1..ctx.len() {
            items.push(value_to_json(ctx.get::<Value>(index)?, element_type));
        }
        Ok(Json::Array(items).to_string())
    })?;
    conn.create_scalar_function("pg_array_get", 3, deterministic(), |ctx| {
        let (Some(array), Some(index)) =
            (ctx.get::<Option<String>>(0)?, ctx.get::<Option<i64>>(1)?)
        else {
            return Ok(Value::Null);
        };
        let element_type = type_arg(ctx, 2)?;
        let Ok(Json::Array(mut items)) = serde_json::from_str::<Json>(&array) else {
            return Ok(Value::Null);
        };
        let Some(position) = usize::try_from(index - 1).ok().filter(|p| *p < items.len()) else {
            return Ok(Value::Null);
        };
        Ok(json_to_value(
            items.swap_remove(position),
            Some(element_type),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_indexes_arrays() {
        let conn = Connection::open_in_memory().expect("open");
        register(&conn).expect("register");
        let row: (String, String, i64, Option<i64>) = conn
            .query_row(
                "SELECT pg_array('boolean', 1, 0, NULL), pg_array('numeric', '1.50', 2), \
                 pg_array_get('[10,20]', 2, 'integer'), pg_array_get('[10,20]', 3, 'integer')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .expect("query");
        assert_eq!(
            row,
            ("[true,false,null]".into(), "[1.50,2]".into(), 20, None)
        );
    }
}
