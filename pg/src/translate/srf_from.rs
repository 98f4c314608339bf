//! Set-returning functions in `FROM`: `unnest(array)`,
//! `generate_series(start, stop[, step])` (integers, or timestamps by an
//! interval), `information_schema._pg_expandarray(array)` (columns `x`, `n`),
//! `generate_subscripts(array, dim)`, `json[b]_each[_text](doc)` (`key`,
//! `value`), `json[b]_array_elements[_text](doc)` (`value`), each also
//! `WITH ORDINALITY` (a last `ordinality` column, `bigint`).
//!
//! Each becomes a subquery over `json_each` of the JSON array of its rows
//! (see `srf`), named and typed as PostgreSQL names them: a function of one
//! column takes the alias as its column name; `AS a(c1, c2)` renames them.

use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, Ident, ObjectName, SelectItem, SetExpr,
    Statement, TableAlias, TableFactor,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::coerce::CastKind;
use super::context::{Translator, Ty, call, nested, number, string, take};
use super::names::{alias_name, fold};
use super::query::rename_columns;
use super::scope::Relation;
use crate::error::Error;
use crate::types::PgType;

/// A column of a function's relation: its name, its type, and its value
/// over a `json_each` row of the function's rows.
type RowColumn = (String, PgType, Expr);

/// The set-returning functions patina runs: all of them in `FROM`, all
/// but `json[b]_each[_text]` in a select list (see `srf.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Srf {
    Unnest,
    Series,
    Subscripts,
    ExpandArray,
    Elements { as_text: bool, jsonb: bool },
    Each { as_text: bool, jsonb: bool },
}

/// The function a call names, if it is one of [`Srf`] with its arity and
/// in its schema.
pub(super) fn srf_of(name: &ObjectName, arity: usize) -> Option<Srf> {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|part| part.as_ident().map(fold))
        .collect::<Option<_>>()?;
    let (schema, function) = match parts.as_slice() {
        [function] => (None, function.as_str()),
        [schema, function] => (Some(schema.as_str()), function.as_str()),
        _ => return None,
    };
    let json = |name: &str| {
        let (jsonb, rest) = match name.strip_prefix("jsonb_") {
            Some(rest) => (true, rest),
            None => (false, name.strip_prefix("json_")?),
        };
        let (as_text, base) = match rest.strip_suffix("_text") {
            Some(base) => (true, base),
            None => (false, rest),
        };
        match base {
            "each" => Some(Srf::Each { as_text, jsonb }),
            "array_elements" => Some(Srf::Elements { as_text, jsonb }),
            _ => None,
        }
    };
    let srf = match (schema, function, arity) {
        (Some("information_schema"), "_pg_expandarray", 1) => Srf::ExpandArray,
        (Some("information_schema"), ..) => return None,
        (Some(schema), ..) if schema != "pg_catalog" => return None,
        (_, "unnest", 1) => Srf::Unnest,
        (_, "generate_series", 2 | 3) => Srf::Series,
        (_, "generate_subscripts", 2) => Srf::Subscripts,
        (_, name, 1) => json(name)?,
        _ => return None,
    };
    Some(srf)
}

/// `value` (or `key + 1`, the position) of the `json_each` row.
fn row_value() -> Expr {
    Expr::Identifier(Ident::new("value"))
}

fn position() -> Expr {
    nested(Expr::BinaryOp {
        left: Box::new(Expr::Identifier(Ident::new("key"))),
        op: BinaryOperator::Plus,
        right: Box::new(number(1)),
    })
}

impl Translator<'_> {
    /// Runs `translate` on the arguments of a function in `FROM` without
    /// the `FROM` items before it: its rows become a subquery, which
    /// SQLite does not let read them. An argument that reads one
    /// (PostgreSQL's implicit `LATERAL`) is 0A000, not a missing column.
    pub(crate) fn without_from_items<T>(
        &mut self,
        args: &mut Vec<Expr>,
        translate: impl Fn(&mut Self, &mut Vec<Expr>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut probe = args.clone();
        let level = self.scopes.pop();
        let result = translate(self, args);
        if let Some(level) = level {
            self.scopes.push(level);
        }
        match result {
            // with the items in scope: LATERAL, or the error as it stands
            Err(
                Error::UndefinedColumn(_)
                | Error::UndefinedColumnIn { .. }
                | Error::MissingFromEntry(_),
            ) => match translate(self, &mut probe) {
                Ok(_) => Err(Error::Unsupported(
                    "a function in FROM reading an earlier FROM item (LATERAL)".into(),
                )),
                Err(error) => Err(error),
            },
            other => other,
        }
    }

    /// Rewrites a set-returning function of this file in `FROM` into its
    /// subquery and adds its relation; `false` when `factor` is not one.
    pub(crate) fn set_returning_relation(
        &mut self,
        factor: &mut TableFactor,
    ) -> Result<bool, Error> {
        let (srf, function, exprs, alias, with_ordinality) = match factor {
            TableFactor::Table {
                name,
                alias,
                args: Some(args),
                with_ordinality,
                ..
            } => {
                let Some(srf) = srf_of(name, args.args.len()) else {
                    return Ok(false);
                };
                let function = fold(
                    name.0
                        .last()
                        .and_then(|p| p.as_ident())
                        .ok_or_else(|| Error::Unsupported(format!("function {name}")))?,
                );
                let mut exprs = Vec::with_capacity(args.args.len());
                for arg in &mut args.args {
                    match arg {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => exprs.push(take(expr)),
                        _ => {
                            return Err(Error::Unsupported(format!(
                                "argument form in {function}(…)"
                            )));
                        }
                    }
                }
                (srf, function, exprs, alias.take(), *with_ordinality)
            }
            // `unnest(…)` parses as its own item
            TableFactor::UNNEST {
                alias,
                array_exprs,
                with_offset: false,
                with_offset_alias: None,
                with_ordinality,
            } if array_exprs.len() == 1 => (
                Srf::Unnest,
                "unnest".to_owned(),
                std::mem::take(array_exprs),
                alias.take(),
                *with_ordinality,
            ),
            _ => return Ok(false),
        };
        let mut exprs = exprs;
        let (rows, mut columns) = self.without_from_items(&mut exprs, |translator, args| {
            translator.relation_rows(srf, &function, std::mem::take(args))
        })?;
        if with_ordinality {
            columns.push(("ordinality".to_owned(), PgType::INT8, position()));
        }
        let relation_name = match &alias {
            Some(alias) => alias_name(&alias.name)?,
            None => function.clone(),
        };
        // a function of one column is named by the alias (`AS g`)
        let single = matches!(
            srf,
            Srf::Unnest | Srf::Series | Srf::Subscripts | Srf::Elements { .. }
        );
        if single && let Some(alias) = &alias {
            columns[0].0 = alias_name(&alias.name)?;
        }
        let typed: Vec<(String, PgType)> =
            columns.iter().map(|(n, t, _)| (n.clone(), *t)).collect();
        let typed = match &alias {
            Some(alias) => rename_columns(typed, alias)?,
            None => typed,
        };
        let mut subquery = json_each_query(rows)?;
        if let SetExpr::Select(select) = subquery.body.as_mut() {
            select.projection = columns
                .into_iter()
                .zip(&typed)
                .map(|((_, _, expr), (name, _))| SelectItem::ExprWithAlias {
                    expr,
                    alias: Ident::with_quote('"', name),
                })
                .collect();
        }
        *factor = TableFactor::Derived {
            lateral: false,
            subquery: Box::new(subquery),
            alias: Some(TableAlias {
                explicit: true,
                name: Ident::with_quote('"', &relation_name),
                columns: Vec::new(),
                at: None,
            }),
            sample: None,
        };
        self.scopes.add(Relation {
            name: relation_name,
            columns: typed,
            key: Vec::new(),
        })?;
        Ok(true)
    }

    /// The JSON array of a function's rows, and its columns: name, type,
    /// and value over a `json_each` row of the array.
    fn relation_rows(
        &mut self,
        srf: Srf,
        function: &str,
        mut args: Vec<Expr>,
    ) -> Result<(Expr, Vec<RowColumn>), Error> {
        let named = |name: &str, ty: PgType, expr: Expr| (name.to_owned(), ty, expr);
        Ok(match srf {
            Srf::Unnest | Srf::ExpandArray => {
                let mut array = args.remove(0);
                let ty = self.array_argument(&mut array, function)?;
                let element = ty.element().unwrap_or(PgType::TEXT);
                let columns = if srf == Srf::Unnest {
                    vec![named("unnest", element, row_value())]
                } else {
                    vec![
                        named("x", element, row_value()),
                        named("n", PgType::INT4, position()),
                    ]
                };
                (array, columns)
            }
            Srf::Series => {
                let mut series = call("__patina_generate_series", args);
                let ty = self.function(&mut series).map_err(|error| match error {
                    Error::UndefinedFunction(signature) => Error::UndefinedFunction(
                        signature.replace("__patina_generate_series", "generate_series"),
                    ),
                    other => other,
                })?;
                let element = ty.or_text().element().unwrap_or(PgType::INT4);
                (series, vec![named("generate_series", element, row_value())])
            }
            Srf::Subscripts => {
                let mut array = args.remove(0);
                let mut dim = args.remove(0);
                let ty = self.array_argument(&mut array, function)?;
                let dim_ty = self.expr(&mut dim)?;
                self.coerce(&mut dim, dim_ty, PgType::INT4, CastKind::Implicit)?;
                let series = super::srf::subscript_series(array, ty);
                // one dimension: its subscripts; none for others
                let rows = call(
                    "iif",
                    vec![
                        Expr::BinaryOp {
                            left: Box::new(dim),
                            op: BinaryOperator::Eq,
                            right: Box::new(number(1)),
                        },
                        series,
                        Expr::value(sqlparser::ast::Value::Null),
                    ],
                );
                (
                    rows,
                    vec![named("generate_subscripts", PgType::INT4, row_value())],
                )
            }
            Srf::Elements { as_text, jsonb } | Srf::Each { as_text, jsonb } => {
                let doc_type = if jsonb { PgType::JSONB } else { PgType::JSON };
                let mut doc = args.remove(0);
                let ty = self.expr(&mut doc)?;
                match ty {
                    Ty::Known(t) if t == doc_type => {}
                    Ty::Unknown => self.coerce(&mut doc, ty, doc_type, CastKind::Implicit)?,
                    Ty::Known(t) => {
                        return Err(Error::UndefinedFunction(format!("{function}({t})")));
                    }
                }
                let value_type = if as_text { PgType::TEXT } else { doc_type };
                let flag = |b: bool| number(i32::from(b));
                let each = matches!(srf, Srf::Each { .. });
                let rows = call(
                    if each {
                        "pg_json_pairs"
                    } else {
                        "pg_json_elements"
                    },
                    vec![doc, flag(as_text), flag(jsonb)],
                );
                let field =
                    |i: usize| call("json_extract", vec![row_value(), string(format!("$[{i}]"))]);
                let columns = if each {
                    vec![
                        named("key", PgType::TEXT, field(0)),
                        named("value", value_type, field(1)),
                    ]
                } else {
                    vec![named("value", value_type, row_value())]
                };
                (rows, columns)
            }
        })
    }
}

/// `SELECT … FROM json_each(rows)`, its select list to fill in.
fn json_each_query(rows: Expr) -> Result<sqlparser::ast::Query, Error> {
    let template = "SELECT 1 FROM json_each(NULL)";
    let parsed = Parser::parse_sql(&PostgreSqlDialect {}, template)
        .map_err(|e| Error::Syntax(e.to_string()))?
        .pop();
    let Some(Statement::Query(mut query)) = parsed else {
        return Err(Error::Syntax(template.into()));
    };
    if let SetExpr::Select(select) = query.body.as_mut()
        && let Some(TableFactor::Table {
            args: Some(args), ..
        }) = select.from.first_mut().map(|f| &mut f.relation)
    {
        args.args = vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(rows))];
    }
    Ok(*query)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::translate::translate;
    use crate::types::PgType;

    fn catalog() -> HashMap<String, Vec<(String, PgType)>> {
        let mut catalog = HashMap::new();
        catalog.insert(
            "t".to_string(),
            vec![
                ("id".to_string(), PgType::INT4),
                ("tags".to_string(), PgType::TEXT.array_of()),
            ],
        );
        catalog
    }

    fn columns(sql: &str) -> Vec<String> {
        let translated = translate(sql, &catalog()).unwrap_or_else(|e| panic!("{sql}: {e}"));
        translated[0]
            .columns
            .iter()
            .map(|c| format!("{} {}", c.name, c.ty))
            .collect()
    }

    #[test]
    fn columns_are_named_and_typed_as_postgres_names_them() {
        // psql's \gdesc in PostgreSQL 15
        assert_eq!(columns("SELECT * FROM unnest(ARRAY[1]) u"), ["u integer"]);
        assert_eq!(
            columns("SELECT * FROM unnest(ARRAY['a']) WITH ORDINALITY"),
            ["unnest text", "ordinality bigint"]
        );
        assert_eq!(
            columns("SELECT * FROM information_schema._pg_expandarray(ARRAY[1::int2]) AS e(a)"),
            ["a smallint", "n integer"]
        );
        assert_eq!(
            columns("SELECT * FROM jsonb_each('{}') AS j"),
            ["key text", "value jsonb"]
        );
        assert_eq!(
            columns(
                "SELECT * FROM generate_series('2024-01-01'::timestamptz, '2024-01-02', '1 hour')"
            ),
            ["generate_series timestamp with time zone"]
        );
    }

    #[test]
    fn an_earlier_from_item_is_not_readable() {
        let error =
            translate("SELECT * FROM t, unnest(t.tags) AS u", &catalog()).expect_err("LATERAL");
        assert_eq!(error.sqlstate(), "0A000", "{error}");
        let error = translate("SELECT * FROM t, unnest(t.nope) AS u", &catalog())
            .expect_err("no such column");
        assert_eq!(error.sqlstate(), "42703", "{error}");
    }
}
