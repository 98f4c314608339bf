//! `SELECT DISTINCT ON (keys) …`: the first row of each group of rows
//! with equal keys, in the query's `ORDER BY` order. SQLite has no such
//! clause; the query becomes
//!
//! ```sql
//! SELECT "?c1" AS a, … FROM (
//!     SELECT a AS "?c1", …, <ORDER BY input expressions> AS "?o1", …,
//!            row_number() OVER (PARTITION BY keys ORDER BY <order>) AS "?rn"
//!     FROM … WHERE … GROUP BY …
//! ) AS "?distinct_on" WHERE "?rn" = 1 ORDER BY <order, on the outputs>
//! ```

use sqlparser::ast::{
    Expr, Ident, OrderBy, OrderByExpr, OrderByKind, Select, SelectItem, SetExpr, Statement,
    TableFactor, WindowSpec, WindowType,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::coerce::literal;
use super::context::{Translator, Ty, call};
use super::names::fold;
use super::query::{Columns, sort_key};
use crate::error::Error;

/// A `DISTINCT ON` or `ORDER BY` key: an output column, or an expression
/// over the input (translated).
#[derive(Clone, Debug, PartialEq)]
enum Key {
    Output(usize),
    Input(Box<Expr>, Ty),
}

/// The output column an `ORDER BY`-style key names by position or by
/// output name, as PostgreSQL resolves them first.
fn named_output(expr: &Expr, columns: &Columns) -> Result<Option<usize>, Error> {
    if let Some((rusqlite::types::Value::Integer(position), _)) = literal(expr) {
        return usize::try_from(position)
            .ok()
            .and_then(|p| p.checked_sub(1))
            .filter(|p| *p < columns.len())
            .map(Some)
            .ok_or_else(|| Error::Syntax(format!("position {position} is not in select list")));
    }
    if let Expr::Identifier(ident) = expr {
        let name = fold(ident);
        let mut matching = columns.iter().enumerate().filter(|(_, (n, _))| *n == name);
        if let (Some((index, _)), None) = (matching.next(), matching.next()) {
            return Ok(Some(index));
        }
    }
    Ok(None)
}

/// PostgreSQL's rule (42P10): the `ORDER BY` keys that are `DISTINCT ON`
/// keys come first, and if the `ORDER BY` has others, every `DISTINCT ON`
/// key is among its leading ones.
fn check_order(on: &[Key], order: &[Key]) -> Result<(), Error> {
    let mismatch = || {
        Error::InvalidColumnReference(
            "SELECT DISTINCT ON expressions must match initial ORDER BY expressions".into(),
        )
    };
    let mut skipped = false;
    for key in order {
        if on.contains(key) {
            if skipped {
                return Err(mismatch());
            }
        } else {
            skipped = true;
        }
    }
    if skipped && on.iter().any(|key| !order.contains(key)) {
        return Err(mismatch());
    }
    Ok(())
}

/// The expressions of a translated select list (`*` is expanded by then).
fn select_items(select: &Select) -> Result<Vec<Expr>, Error> {
    select
        .projection
        .iter()
        .map(|item| match item {
            SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } => {
                Ok(expr.clone())
            }
            other => Err(Error::Unsupported(format!("DISTINCT ON with {other}"))),
        })
        .collect()
}

/// The outer query's `SELECT`, from a template.
fn outer_select() -> Result<Select, Error> {
    let template = "SELECT 1 FROM (SELECT 1) AS \"?distinct_on\" WHERE \"?rn\" = 1";
    let parsed = Parser::parse_sql(&PostgreSqlDialect {}, template)
        .map_err(|e| Error::Syntax(e.to_string()))?
        .pop();
    match parsed {
        Some(Statement::Query(query)) => match *query.body {
            SetExpr::Select(select) => Ok(*select),
            _ => Err(Error::Syntax(template.into())),
        },
        _ => Err(Error::Syntax(template.into())),
    }
}

fn quoted(name: &str) -> Ident {
    Ident::with_quote('"', name)
}

impl Translator<'_> {
    /// Rewrites a translated `SELECT` (`body`, with output `columns`) that
    /// had `DISTINCT ON (on)`; translates `on` and the query's `ORDER BY`.
    pub(crate) fn distinct_on(
        &mut self,
        body: &mut SetExpr,
        on: Vec<Expr>,
        columns: &Columns,
        order_by: Option<&mut OrderBy>,
    ) -> Result<(), Error> {
        let SetExpr::Select(select) = body else {
            return Err(Error::Unsupported("DISTINCT ON outside a SELECT".into()));
        };
        let outputs = select_items(select)?;
        let mut on_keys = Vec::with_capacity(on.len());
        for expr in on {
            on_keys.push(self.key(expr, columns, &outputs)?);
        }
        let mut items: Vec<&mut OrderByExpr> = match order_by {
            Some(OrderBy {
                kind: OrderByKind::Expressions(items),
                interpolate: None,
            }) => items.iter_mut().collect(),
            Some(_) => return Err(Error::Unsupported("ORDER BY ALL".into())),
            None => Vec::new(),
        };
        let mut order_keys = Vec::with_capacity(items.len());
        for item in &mut items {
            super::query::set_null_order(item)?;
            order_keys.push(self.key(item.expr.clone(), columns, &outputs)?);
        }
        check_order(&on_keys, &order_keys)?;

        // the key's expression in the inner SELECT, sortable
        let inner_key = |key: &Key| -> Result<Expr, Error> {
            let (mut expr, ty) = match key {
                Key::Output(index) => (outputs[*index].clone(), Ty::Known(columns[*index].1)),
                Key::Input(expr, ty) => ((**expr).clone(), *ty),
            };
            sort_key(&mut expr, ty)?;
            Ok(expr)
        };
        let partition_by = on_keys.iter().map(inner_key).collect::<Result<_, _>>()?;
        let mut window_order = Vec::with_capacity(items.len());
        for (item, key) in items.iter().zip(&order_keys) {
            window_order.push(OrderByExpr {
                expr: inner_key(key)?,
                options: item.options.clone(),
                with_fill: None,
            });
        }
        let row_number = match call("row_number", vec![]) {
            Expr::Function(mut function) => {
                function.over = Some(WindowType::WindowSpec(WindowSpec {
                    window_name: None,
                    partition_by,
                    order_by: window_order,
                    window_frame: None,
                }));
                Expr::Function(function)
            }
            other => other,
        };

        // the inner SELECT: the outputs, hidden sort keys and the row number
        let mut projection: Vec<SelectItem> = outputs
            .iter()
            .enumerate()
            .map(|(index, expr)| SelectItem::ExprWithAlias {
                expr: expr.clone(),
                alias: quoted(&format!("?c{}", index + 1)),
            })
            .collect();
        let mut hidden = 0;
        for (item, key) in items.iter_mut().zip(&order_keys) {
            let (mut outer, ty) = match key {
                Key::Output(index) => (
                    Expr::Identifier(quoted(&format!("?c{}", index + 1))),
                    Ty::Known(columns[*index].1),
                ),
                Key::Input(expr, ty) => {
                    hidden += 1;
                    let name = format!("?o{hidden}");
                    projection.push(SelectItem::ExprWithAlias {
                        expr: (**expr).clone(),
                        alias: quoted(&name),
                    });
                    (Expr::Identifier(quoted(&name)), *ty)
                }
            };
            sort_key(&mut outer, ty)?;
            item.expr = outer;
        }
        projection.push(SelectItem::ExprWithAlias {
            expr: row_number,
            alias: quoted("?rn"),
        });
        select.projection = projection;

        let mut outer = outer_select()?;
        outer.projection = columns
            .iter()
            .enumerate()
            .map(|(index, (name, _))| SelectItem::ExprWithAlias {
                expr: Expr::Identifier(quoted(&format!("?c{}", index + 1))),
                alias: quoted(name),
            })
            .collect();
        let inner = std::mem::replace(body, SetExpr::Select(Box::new(outer)));
        if let SetExpr::Select(outer) = body
            && let Some(TableFactor::Derived { subquery, .. }) =
                outer.from.first_mut().map(|from| &mut from.relation)
        {
            *subquery.body = inner;
        }
        Ok(())
    }

    /// Resolves and translates one `DISTINCT ON` or `ORDER BY` key.
    fn key(&mut self, mut expr: Expr, columns: &Columns, outputs: &[Expr]) -> Result<Key, Error> {
        if let Some(index) = named_output(&expr, columns)? {
            return Ok(Key::Output(index));
        }
        let ty = self.expr(&mut expr)?;
        Ok(match outputs.iter().position(|output| *output == expr) {
            Some(index) => Key::Output(index),
            None => Key::Input(Box::new(expr), ty),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str) -> Key {
        Key::Input(Box::new(Expr::Identifier(Ident::new(name))), Ty::Unknown)
    }

    #[test]
    fn order_must_start_with_the_distinct_keys() {
        let (a, b, c) = (|| Key::Output(0), || input("b"), || input("c"));
        let ok = |on: &[Key], order: &[Key]| check_order(on, order).is_ok();
        assert!(ok(&[a()], &[]));
        assert!(ok(&[a()], &[a(), b()]));
        assert!(ok(&[a(), b()], &[b(), a(), c()]));
        assert!(ok(&[a(), b()], &[b()]));
        // PostgreSQL 15: 42P10
        assert!(!ok(&[a()], &[b(), a()]));
        assert!(!ok(&[a(), c()], &[a(), b()]));
        assert!(!ok(&[a()], &[b()]));
    }
}
