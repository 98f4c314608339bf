//! The functions the system relations' views call (see [`crate::catalog`]):
//! object OIDs, a column's type facts from its stored PostgreSQL type
//! name, defaults and index definitions as PostgreSQL prints them, and the
//! catalog functions that need no lookup (`format_type`,
//! `pg_encoding_to_char`, `quote_ident`).

use rusqlite::functions::Context;
use rusqlite::types::Value;
use rusqlite::{Connection, Result};

use super::{deterministic, text_arg, user_error};
use crate::catalog::{builtin_type, format_type, object_oid, with_typmod};
use crate::error::Error;
use crate::translate::quote_ident;
use crate::types::{PgType, Scalar};
use crate::values::array::json_to_pg_text;

/// Registers a function of text arguments, NULL when one is NULL.
fn text_function<T: rusqlite::ToSql + 'static>(
    conn: &Connection,
    name: &str,
    arity: i32,
    f: fn(&[String]) -> T,
) -> Result<()> {
    conn.create_scalar_function(name, arity, deterministic(), move |ctx| {
        let args: Option<Vec<String>> = (0..ctx.len())
            .map(|i| text_arg(ctx, i))
            .collect::<Result<_>>()?;
        Ok(args.map(|a| f(&a)))
    })
}

/// Registers a fact of a stored type name (`integer`, `numeric(10,2)`,
/// `text[]`); NULL for a name patina does not know.
fn type_fact(conn: &Connection, name: &str, f: fn(PgType) -> i64) -> Result<()> {
    conn.create_scalar_function(name, 1, deterministic(), move |ctx| {
        Ok(text_arg(ctx, 0)?
            .and_then(|name| PgType::from_name(&name))
            .map(f))
    })
}

fn int_arg(ctx: &Context<'_>, index: usize) -> Result<Option<i64>> {
    Ok(match ctx.get::<Value>(index)? {
        Value::Integer(i) => Some(i),
        Value::Text(t) => t.trim().parse().ok(),
        _ => None,
    })
}

pub(super) fn register(conn: &Connection) -> Result<()> {
    text_function(conn, "pg_catalog_oid", 2, |a| {
        i64::from(object_oid(&a[0], &a[1]))
    })?;
    text_function(conn, "pg_quote_ident", 1, |a| quote_ident(&a[0]))?;
    text_function(conn, "pg_default_expr", 2, |a| default_expr(&a[0], &a[1]))?;
    conn.create_scalar_function("pg_index_def", 4, deterministic(), |ctx| {
        let (Some(name), Some(table), Some(columns)) =
            (text_arg(ctx, 0)?, text_arg(ctx, 1)?, text_arg(ctx, 3)?)
        else {
            return Ok(None);
        };
        let unique = int_arg(ctx, 2)?.unwrap_or(0) != 0;
        Ok(Some(index_def(&name, &table, unique, &columns)))
    })?;
    for arity in [1, 2] {
        conn.create_scalar_function("pg_format_type", arity, deterministic(), |ctx| {
            let Some(oid) = int_arg(ctx, 0)? else {
                return Ok(None);
            };
            let typmod = match ctx.len() {
                2 => int_arg(ctx, 1)?.and_then(|m| i32::try_from(m).ok()),
                _ => None,
            };
            Ok(Some(u32::try_from(oid).map_or_else(
                |_| "???".into(),
                |oid| format_type(oid, typmod),
            )))
        })?;
    }
    conn.create_scalar_function("pg_encoding_to_char", 1, deterministic(), |ctx| {
        Ok(int_arg(ctx, 0)?.map(|code| match code {
            0 => "SQL_ASCII",
            6 => "UTF8",
            _ => "",
        }))
    })?;
    conn.create_scalar_function("pg_series", 3, deterministic(), |ctx| {
        let (Some(start), Some(stop), Some(step)) =
            (int_arg(ctx, 0)?, int_arg(ctx, 1)?, int_arg(ctx, 2)?)
        else {
            return Ok(None);
        };
        series(start, stop, step).map(Some).map_err(user_error)
    })?;
    text_function(conn, "pg_check_constraints", 1, |a| {
        check_constraints(&a[0])
    })?;
    text_function(conn, "pg_regclass_name", 1, |a| regclass_name(&a[0]))?;
    conn.create_scalar_function("pg_undefined_table", 1, deterministic(), |ctx| {
        let name = text_arg(ctx, 0)?.unwrap_or_default();
        Err::<Value, _>(user_error(Error::UndefinedTable(name)))
    })?;
    conn.create_scalar_function("pg_to_regtype", 1, deterministic(), |ctx| {
        Ok(text_arg(ctx, 0)?
            .and_then(|name| PgType::from_name(&name))
            .map(|t| i64::from(t.without_modifier().oid())))
    })?;
    conn.create_scalar_function("pg_type_storage", 1, deterministic(), |ctx| {
        Ok(text_arg(ctx, 0)?
            .and_then(|name| PgType::from_name(&name))
            .map(storage))
    })?;
    type_fact(conn, "pg_type_oid", |t| {
        i64::from(t.without_modifier().oid())
    })?;
    type_fact(conn, "pg_type_typmod", |t| i64::from(t.typmod()))?;
    type_fact(conn, "pg_type_ndims", |t| i64::from(t.is_array()))?;
    type_fact(conn, "pg_type_len", |t| {
        base_row(t).map_or(-1, |row| i64::from(row.len))
    })?;
    type_fact(conn, "pg_type_byval", |t| {
        base_row(t).is_some_and(|row| row.by_value).into()
    })?;
    type_fact(conn, "pg_type_collation", |t| {
        builtin_type(element_oid(t)).map_or(0, |row| i64::from(row.collation))
    })?;
    oid_fact(conn, "pg_type_char_length", |t| match t.scalar() {
        Scalar::Varchar(Some(n)) | Scalar::Bpchar(Some(n)) => Some(i64::from(n)),
        _ => None,
    })?;
    oid_fact(conn, "pg_type_numeric_precision", |t| match t.scalar() {
        Scalar::Int2 => Some(16),
        Scalar::Int4 => Some(32),
        Scalar::Int8 => Some(64),
        Scalar::Float4 => Some(24),
        Scalar::Float8 => Some(53),
        Scalar::Numeric(Some((precision, _))) => Some(i64::from(precision)),
        _ => None,
    })?;
    oid_fact(conn, "pg_type_numeric_scale", |t| match t.scalar() {
        Scalar::Int2 | Scalar::Int4 | Scalar::Int8 => Some(0),
        Scalar::Numeric(Some((_, scale))) => Some(i64::from(scale)),
        _ => None,
    })?;
    Ok(())
}

/// Registers a fact of a scalar type given as (OID, typmod), as the
/// `information_schema.columns` columns that depend on the modifier.
fn oid_fact(conn: &Connection, name: &str, f: fn(PgType) -> Option<i64>) -> Result<()> {
    conn.create_scalar_function(name, 2, deterministic(), move |ctx| {
        let Some(oid) = int_arg(ctx, 0)?.and_then(|oid| u32::try_from(oid).ok()) else {
            return Ok(None);
        };
        let typmod = int_arg(ctx, 1)?
            .and_then(|m| i32::try_from(m).ok())
            .unwrap_or(-1);
        Ok(PgType::from_oid(oid)
            .filter(|t| !t.is_array())
            .and_then(|t| f(with_typmod(t, typmod))))
    })
}

/// `typstorage`: `p`lain for fixed-length types, `m`ain for `numeric`,
/// `x` (extended) for the other variable-length ones.
fn storage(ty: PgType) -> &'static str {
    match base_row(ty) {
        Some(row) if row.len > 0 => "p",
        _ if !ty.is_array() && matches!(ty.scalar(), Scalar::Numeric(_)) => "m",
        _ => "x",
    }
}

/// The `pg_type` row of a scalar type; arrays are variable-length.
fn base_row(ty: PgType) -> Option<&'static crate::catalog::BuiltinType> {
    if ty.is_array() {
        return None;
    }
    builtin_type(ty.oid())
}

/// The OID of a type's scalar (element) type.
fn element_oid(ty: PgType) -> u32 {
    PgType::scalar_type(ty.scalar()).without_modifier().oid()
}

/// The named CHECK constraints of a `CREATE TABLE` statement as patina
/// writes it for SQLite (`CONSTRAINT "t_qty_check" CHECK (qty >= 0)`): a
/// JSON array of `[name, expression]`.
fn check_constraints(sql: &str) -> String {
    let mut found = Vec::new();
    let mut rest = sql;
    while let Some(at) = rest.find("CONSTRAINT \"") {
        rest = &rest[at + "CONSTRAINT \"".len()..];
        let Some(end) = rest.find('"') else {
            break;
        };
        let name = &rest[..end];
        let after = rest[end + 1..].trim_start();
        let Some(body) = after.strip_prefix("CHECK (") else {
            continue;
        };
        let (mut depth, mut quoted) = (1usize, false);
        let mut close = None;
        for (i, c) in body.char_indices() {
            match c {
                '\'' => quoted = !quoted,
                '(' if !quoted => depth += 1,
                ')' if !quoted => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(close) = close else {
            break;
        };
        found.push(serde_json::json!([name, &body[..close]]));
        rest = &body[close..];
    }
    serde_json::Value::Array(found).to_string()
}

/// The most values one `generate_series` in `FROM` may produce: the
/// series is built whole, as a JSON array.
const MAX_SERIES: i64 = 10_000_000;

/// `generate_series(start, stop, step)` of integers as a stored array.
fn series(start: i64, stop: i64, step: i64) -> std::result::Result<String, Error> {
    if step == 0 {
        return Err(Error::InvalidParameterValue(
            "step size cannot equal zero".into(),
        ));
    }
    let count = (i128::from(stop) - i128::from(start)) / i128::from(step) + 1;
    if count > i128::from(MAX_SERIES) {
        return Err(Error::NotImplemented(format!(
            "generate_series in FROM of more than {MAX_SERIES} values"
        )));
    }
    let values: Vec<String> = (0..count.max(0))
        .filter_map(|i| i64::try_from(i128::from(start) + i * i128::from(step)).ok())
        .map(|v| v.to_string())
        .collect();
    Ok(format!("[{}]", values.join(",")))
}

/// The relation name a `regclass` input names: `public.` or `pg_catalog.`
/// dropped, unquoted names folded to lower case, quoted ones kept.
fn regclass_name(input: &str) -> String {
    let input = input.trim();
    let unqualified = ["public.", "pg_catalog."]
        .iter()
        .find_map(|schema| {
            input
                .get(..schema.len())
                .filter(|prefix| prefix.eq_ignore_ascii_case(schema))
                .map(|_| &input[schema.len()..])
        })
        .unwrap_or(input);
    match unqualified
        .strip_prefix('"')
        .and_then(|name| name.strip_suffix('"'))
    {
        Some(quoted) => quoted.replace("\"\"", "\""),
        None => unqualified.to_lowercase(),
    }
}

/// `pg_get_indexdef` of an index.
fn index_def(name: &str, table: &str, unique: bool, columns: &str) -> String {
    format!(
        "CREATE {}INDEX {} ON public.{} USING btree ({columns})",
        if unique { "UNIQUE " } else { "" },
        quote_ident(name),
        quote_ident(table),
    )
}

/// A column default as PostgreSQL prints it (`pg_get_expr` of `adbin`),
/// from the SQLite default patina declared for a column of type `ty`:
/// constants with the cast PostgreSQL shows, `now()` for patina's clock
/// call, anything else as SQLite keeps it.
fn default_expr(sqlite: &str, ty: &str) -> String {
    let Some(ty) = PgType::from_name(ty) else {
        return sqlite.to_owned();
    };
    let expr = strip_parens(sqlite.trim());
    if expr.starts_with("pg_now(") {
        return "now()".into();
    }
    let cast = |text: &str| format!("'{}'::{}", text.replace('\'', "''"), ty.without_modifier());
    if let Some(text) = string_literal(expr) {
        if ty.is_array() {
            return cast(&json_to_pg_text(&text, ty));
        }
        return match ty.scalar() {
            Scalar::Numeric(_) if !text.starts_with('-') => text,
            _ => cast(&text),
        };
    }
    if expr.eq_ignore_ascii_case("null") {
        return format!("NULL::{}", ty.without_modifier());
    }
    if let Ok(number) = expr.parse::<i64>() {
        return match ty.scalar() {
            Scalar::Bool if !ty.is_array() => (number != 0).to_string(),
            _ if number < 0 => cast(expr),
            _ => expr.to_owned(),
        };
    }
    if expr.parse::<f64>().is_ok() {
        return if expr.starts_with('-') {
            cast(expr)
        } else {
            expr.to_owned()
        };
    }
    expr.to_owned()
}

/// `expr` without parentheses that enclose all of it.
fn strip_parens(mut expr: &str) -> &str {
    while let Some(inner) = expr.strip_prefix('(').and_then(|e| e.strip_suffix(')')) {
        let mut depth = 0i32;
        let mut quoted = false;
        let balanced = inner.chars().all(|c| {
            match c {
                '\'' => quoted = !quoted,
                '(' if !quoted => depth += 1,
                ')' if !quoted => depth -= 1,
                _ => {}
            }
            depth >= 0
        });
        if !balanced || depth != 0 {
            break;
        }
        expr = inner.trim();
    }
    expr
}

/// The value of a whole SQL string literal.
fn string_literal(expr: &str) -> Option<String> {
    let inner = expr.strip_prefix('\'')?.strip_suffix('\'')?;
    let value = inner.replace("''", "'");
    (value.replace('\'', "''") == inner).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_print_as_postgres_15() {
        // CREATE TABLE d (a text DEFAULT 'x', b varchar(5) DEFAULT 'it''s', c int DEFAULT 1,
        //   e int DEFAULT -1, f boolean DEFAULT true, g numeric(10,2) DEFAULT 9.99,
        //   h timestamptz DEFAULT now(), i text[] DEFAULT '{a,b}', j jsonb DEFAULT '{}');
        // SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef ORDER BY adnum;
        assert_eq!(default_expr("('x')", "text"), "'x'::text");
        assert_eq!(
            default_expr("('it''s')", "character varying(5)"),
            "'it''s'::character varying"
        );
        assert_eq!(default_expr("(1)", "integer"), "1");
        assert_eq!(default_expr("(-1)", "integer"), "'-1'::integer");
        assert_eq!(default_expr("(1)", "boolean"), "true");
        assert_eq!(default_expr("('9.99')", "numeric(10,2)"), "9.99");
        assert_eq!(
            default_expr(
                "(pg_now('timestamp with time zone'))",
                "timestamp with time zone"
            ),
            "now()"
        );
        assert_eq!(
            default_expr("('[\"a\",\"b\"]')", "text[]"),
            "'{a,b}'::text[]"
        );
        assert_eq!(default_expr("('{}')", "jsonb"), "'{}'::jsonb");
    }

    #[test]
    fn finds_the_named_checks_patina_writes() {
        let sql = "CREATE TABLE chk (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL DEFAULT (0) \
                   CONSTRAINT \"chk_qty_check\" CHECK (qty >= 0), name TEXT CONSTRAINT \"chk_name_check\" \
                   CHECK (length(name) < 10 AND name <> ')'), CONSTRAINT \"pos\" CHECK (id > 0))";
        assert_eq!(
            check_constraints(sql),
            r#"[["chk_qty_check","qty >= 0"],["chk_name_check","length(name) < 10 AND name <> ')'"],["pos","id > 0"]]"#
        );
        assert_eq!(
            check_constraints("CREATE TABLE t (id INTEGER PRIMARY KEY)"),
            "[]"
        );
    }

    #[test]
    fn series_count_as_postgres() {
        // SELECT array_agg(s) FROM generate_series(1, 3) s; … (5, 1, -2); … (3, 1)
        assert_eq!(series(1, 3, 1).as_deref(), Ok("[1,2,3]"));
        assert_eq!(series(5, 1, -2).as_deref(), Ok("[5,3,1]"));
        assert_eq!(series(3, 1, 1).as_deref(), Ok("[]"));
        assert!(series(1, 3, 0).is_err());
    }

    #[test]
    fn regclass_names_fold_like_identifiers() {
        assert_eq!(regclass_name("Items"), "items");
        assert_eq!(regclass_name("public.items"), "items");
        assert_eq!(regclass_name("\"Items\""), "Items");
        assert_eq!(regclass_name("pg_catalog.pg_class"), "pg_class");
    }

    #[test]
    fn index_definitions_print_as_postgres_15() {
        assert_eq!(
            index_def("items_sku_key", "items", true, "sku"),
            "CREATE UNIQUE INDEX items_sku_key ON public.items USING btree (sku)"
        );
        assert_eq!(
            index_def("Odd", "t", false, "a, b DESC"),
            "CREATE INDEX \"Odd\" ON public.t USING btree (a, b DESC)"
        );
    }
}
