//! Output columns: the names PostgreSQL gives unaliased columns
//! (`FigureColname`), `*` spelled out so SQLite returns exactly the
//! described columns, and a derived table's column aliases moved inside
//! (SQLite has no `AS t(a, b)`).

use sqlparser::ast::{
    Expr, Ident, Query, SelectItem, SetExpr, TableFactor, TableWithJoins, WildcardAdditionalOptions,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::names::fold;
use super::query::Columns;
use super::scope::Relation;
use crate::error::Error;
use crate::types::{PgType, Scalar};

/// The internal type name PostgreSQL uses as the column name of a cast
/// constant (`'1'::int` is named `int4`).
fn internal_name(ty: PgType) -> &'static str {
    match ty.scalar() {
        Scalar::Int2 if ty.is_vector() => "int2vector",
        Scalar::Oid if ty.is_vector() => "oidvector",
        Scalar::Bool => "bool",
        Scalar::Bytea => "bytea",
        Scalar::Int2 => "int2",
        Scalar::Int4 => "int4",
        Scalar::Int8 => "int8",
        Scalar::Text => "text",
        Scalar::Json => "json",
        Scalar::Float4 => "float4",
        Scalar::Float8 => "float8",
        Scalar::Varchar(_) => "varchar",
        Scalar::Bpchar(_) => "bpchar",
        Scalar::Date => "date",
        Scalar::Time => "time",
        Scalar::Timestamp => "timestamp",
        Scalar::Timestamptz => "timestamptz",
        Scalar::Interval => "interval",
        Scalar::Numeric(_) => "numeric",
        Scalar::Uuid => "uuid",
        Scalar::Jsonb => "jsonb",
        Scalar::Name => "name",
        Scalar::Oid => "oid",
        Scalar::Char => "char",
        Scalar::Regtype => "regtype",
        Scalar::Regclass => "regclass",
        Scalar::Record => "record",
    }
}

/// The name PostgreSQL gives an unaliased output column (`FigureColname`).
pub(crate) fn column_name(expr: &Expr) -> String {
    figure_name(expr).map_or_else(|| "?column?".into(), |(name, _)| name)
}

/// How sure a name is, as in PostgreSQL's `FigureColnameInternal`: a cast
/// keeps its operand's name only when the operand names itself strongly
/// (a column or a function), and a `CASE` its `ELSE` result's likewise.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Strength {
    /// a name from a type or a keyword (`int4`, `case`)
    Weak,
    /// a column's or a function's name
    Strong,
}

fn figure_name(expr: &Expr) -> Option<(String, Strength)> {
    let strong = |name: &str| Some((name.to_string(), Strength::Strong));
    match expr {
        Expr::Identifier(ident) => Some((fold(ident), Strength::Strong)),
        Expr::CompoundIdentifier(parts) => parts.last().map(|p| (fold(p), Strength::Strong)),
        Expr::Function(f) => match f.name.0.last()? {
            sqlparser::ast::ObjectNamePart::Identifier(ident) => {
                Some((fold(ident), Strength::Strong))
            }
            sqlparser::ast::ObjectNamePart::Function(_) => None,
        },
        Expr::Cast {
            expr, data_type, ..
        } => match figure_name(expr) {
            Some(named @ (_, Strength::Strong)) => Some(named),
            _ => PgType::from_data_type(data_type)
                .ok()
                .map(|t| (internal_name(t).to_string(), Strength::Weak)),
        },
        Expr::Nested(inner) => figure_name(inner),
        Expr::CompoundFieldAccess { root, access_chain } => match access_chain.last() {
            Some(sqlparser::ast::AccessExpr::Dot(Expr::Identifier(field))) => {
                Some((fold(field), Strength::Strong))
            }
            _ => figure_name(root),
        },
        Expr::Case { else_result, .. } => match else_result.as_deref().and_then(figure_name) {
            Some(named @ (_, Strength::Strong)) => Some(named),
            _ => Some(("case".into(), Strength::Weak)),
        },
        Expr::Exists { .. } => strong("exists"),
        Expr::Array(_) => strong("array"),
        Expr::Extract { .. } => strong("extract"),
        Expr::Position { .. } => strong("position"),
        Expr::Substring { shorthand, .. } => {
            strong(if *shorthand { "substr" } else { "substring" })
        }
        Expr::Ceil { .. } => strong("ceil"),
        Expr::Floor { .. } => strong("floor"),
        Expr::Trim { trim_where, .. } => strong(match trim_where {
            Some(sqlparser::ast::TrimWhereField::Leading) => "ltrim",
            Some(sqlparser::ast::TrimWhereField::Trailing) => "rtrim",
            _ => "btrim",
        }),
        Expr::Subquery(query) => match query.body.as_ref() {
            SetExpr::Select(select) => match select.projection.first() {
                Some(SelectItem::UnnamedExpr(expr)) => figure_name(expr),
                Some(SelectItem::ExprWithAlias { alias, .. }) => {
                    Some((fold(alias), Strength::Strong))
                }
                _ => None,
            },
            _ => None,
        },
        Expr::TypedString(typed) => PgType::from_data_type(&typed.data_type)
            .ok()
            .map(|t| (internal_name(t).to_string(), Strength::Weak)),
        Expr::Interval(_) => Some(("interval".into(), Strength::Weak)),
        _ => None,
    }
}

/// Gives a translated query's output columns the names `columns`: aliases
/// on a `SELECT`'s items (the first branch of a set operation), or a
/// `SELECT column1 AS a, … FROM (VALUES …)` around a `VALUES`.
pub(crate) fn name_outputs(query: &mut Query, columns: &Columns) -> Result<(), Error> {
    let alias = |name: &str| Ident::with_quote('"', name);
    match query.body.as_mut() {
        SetExpr::Select(select) => {
            for (item, (name, _)) in select.projection.iter_mut().zip(columns) {
                let expr = match std::mem::replace(
                    item,
                    SelectItem::Wildcard(WildcardAdditionalOptions::default()),
                ) {
                    SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } => expr,
                    other => {
                        return Err(Error::Unsupported(format!("column aliases over {other}")));
                    }
                };
                *item = SelectItem::ExprWithAlias {
                    expr,
                    alias: alias(name),
                };
            }
            Ok(())
        }
        SetExpr::Query(inner) => name_outputs(inner, columns),
        SetExpr::SetOperation { left, .. } => {
            let mut first = Query {
                body: std::mem::replace(
                    left,
                    Box::new(SetExpr::Values(sqlparser::ast::Values {
                        explicit_row: false,
                        value_keyword: false,
                        rows: vec![],
                    })),
                ),
                ..values_wrapper()?
            };
            first.order_by = None;
            let result = name_outputs(&mut first, columns);
            *left = first.body;
            result
        }
        SetExpr::Values(_) => {
            let mut wrapper = values_wrapper()?;
            let SetExpr::Select(select) = wrapper.body.as_mut() else {
                return Err(Error::Syntax("VALUES wrapper".into()));
            };
            select.projection = columns
                .iter()
                .enumerate()
                .map(|(index, (name, _))| SelectItem::ExprWithAlias {
                    expr: Expr::Identifier(Ident::new(format!("column{}", index + 1))),
                    alias: alias(name),
                })
                .collect();
            if let Some(TableWithJoins {
                relation: TableFactor::Derived { subquery, .. },
                ..
            }) = select.from.first_mut()
            {
                std::mem::swap(subquery.as_mut(), query);
            }
            *query = wrapper;
            Ok(())
        }
        other => Err(Error::Unsupported(format!("column aliases over {other}"))),
    }
}

/// `SELECT 1 FROM (VALUES (1))`, the frame [`name_outputs`] fills in.
fn values_wrapper() -> Result<Query, Error> {
    let template = "SELECT 1 FROM (VALUES (1))";
    match Parser::parse_sql(&PostgreSqlDialect {}, template)
        .map_err(|e| Error::Syntax(e.to_string()))?
        .pop()
    {
        Some(sqlparser::ast::Statement::Query(query)) => Ok(*query),
        _ => Err(Error::Syntax(template.into())),
    }
}

/// Spells out a relation's columns in place of `*`, so SQLite returns
/// exactly the columns described, in PostgreSQL's order.
pub(crate) fn expand(
    relation: &Relation,
    qualify: bool,
    items: &mut Vec<SelectItem>,
    columns: &mut Columns,
) {
    for (name, ty) in &relation.columns {
        let column = Ident::with_quote('"', name);
        let expr = if qualify {
            Expr::CompoundIdentifier(vec![Ident::with_quote('"', &relation.name), column])
        } else {
            Expr::Identifier(column)
        };
        items.push(SelectItem::UnnamedExpr(expr));
        columns.push((name.clone(), *ty));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_item(sql: &str) -> Expr {
        let statement = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .expect("parse")
            .remove(0);
        let sqlparser::ast::Statement::Query(query) = statement else {
            panic!("not a query");
        };
        let SetExpr::Select(select) = *query.body else {
            panic!("not a select");
        };
        match select.projection.into_iter().next() {
            Some(SelectItem::UnnamedExpr(expr)) => expr,
            _ => panic!("no unnamed item"),
        }
    }

    #[test]
    fn unaliased_columns_are_named_like_postgres_15() {
        // psql \gdesc in PostgreSQL 15
        let cases = [
            ("SELECT t.price", "price"),
            ("SELECT count(*)", "count"),
            ("SELECT pg_catalog.now()", "now"),
            ("SELECT x::text", "x"),
            ("SELECT '1'::int", "int4"),
            ("SELECT 1 + 2", "?column?"),
            ("SELECT true", "?column?"),
            ("SELECT CASE WHEN true THEN 1 END", "case"),
            ("SELECT trim(x)", "btrim"),
            ("SELECT (SELECT 1 AS x)", "x"),
            ("SELECT a[1]", "a"),
            ("SELECT DATE '2024-01-01'", "date"),
        ];
        for (sql, name) in cases {
            assert_eq!(column_name(&first_item(sql)), name, "{sql}");
        }
    }

    #[test]
    fn star_expands_to_quoted_columns() {
        let relation = Relation {
            name: "Items".into(),
            columns: vec![("id".into(), PgType::INT4), ("Name".into(), PgType::TEXT)],
            key: Vec::new(),
        };
        let (mut items, mut columns) = (Vec::new(), Vec::new());
        expand(&relation, true, &mut items, &mut columns);
        let printed: Vec<String> = items.iter().map(ToString::to_string).collect();
        assert_eq!(printed, ["\"Items\".\"id\"", "\"Items\".\"Name\""]);
        assert_eq!(columns.len(), 2);
    }
}
