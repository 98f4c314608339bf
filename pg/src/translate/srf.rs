//! Set-returning functions in a select list, as PostgreSQL 10 and later
//! run them: `unnest(array)`, `generate_series(start, stop[, step])`,
//! `generate_subscripts(array, dim)`, `information_schema._pg_expandarray
//! (array)` (records `(x, n)`, with `(…).x` and `(…).n`), and
//! `json[b]_array_elements[_text](doc)`.
//!
//! Each call becomes a JSON array of its rows' values. The select, with
//! its other items and those arrays as columns, becomes a subquery
//! (`WHERE`, `GROUP BY` and window functions run there, before the
//! expansion, as in PostgreSQL), joined with a `json_each` of each array
//! (which may read the subquery's row); the call itself becomes that
//! table's `value`. Several calls in one list run in lockstep: one row per
//! index up to the longest array, the shorter ones NULL, through a series
//! of indexes that each `json_each` is left-joined on. Rows come out per
//! input row in the functions' order, and `DISTINCT`, `ORDER BY` and
//! `LIMIT` apply to the expanded rows.

use sqlparser::ast::{
    AccessExpr, BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr,
    Ident, ObjectName, OrderByExpr, Select, SelectItem, SetExpr, Statement, TableFactor,
    TableWithJoins,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::coerce::CastKind;
use super::context::{Translator, Ty, call, nested, number, string, take};
use super::names::fold;
use super::srf_from::{Srf, srf_of};
use crate::error::Error;
use crate::types::PgType;

/// The set-returning function a select-list call names, if any.
fn select_list_srf(name: &ObjectName, arity: usize) -> Option<Srf> {
    srf_of(name, arity).filter(|srf| !matches!(srf, Srf::Each { .. }))
}

/// A set-returning call where PostgreSQL runs none (`WHERE`, an
/// aggregate's arguments…) or patina cannot (`LATERAL` uses).
fn not_here(name: &str) -> Error {
    Error::NotImplemented(format!(
        "set-returning function {name}() is supported only as a select list item or in FROM"
    ))
}

/// Whether a call is an aggregate or a window function call.
fn aggregates(expr: &Expr) -> bool {
    let Expr::Function(function) = expr else {
        return false;
    };
    function.over.is_some()
        || function
            .name
            .0
            .last()
            .and_then(|part| part.as_ident())
            .is_some_and(|name| super::grouping::is_aggregate(&fold(name)))
}

/// The plain arguments of a call.
fn plain_args(expr: &mut Expr) -> Option<(&ObjectName, Vec<&mut Expr>)> {
    let Expr::Function(function) = expr else {
        return None;
    };
    if function.over.is_some() || function.filter.is_some() {
        return None;
    }
    let FunctionArguments::List(list) = &mut function.args else {
        return None;
    };
    if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
        return None;
    }
    let args = list
        .args
        .iter_mut()
        .map(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => Some(expr),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some((&function.name, args))
}

/// `"?srfN".column`: a column of the `json_each` table of call `N`.
fn srf_column(index: usize, column: &str) -> Expr {
    Expr::CompoundIdentifier(vec![
        Ident::with_quote('"', format!("?srf{index}")),
        Ident::new(column),
    ])
}

/// `"?srfN".key + 1`: the 1-based position of the row's element.
fn position(index: usize) -> Expr {
    nested(Expr::BinaryOp {
        left: Box::new(srf_column(index, "key")),
        op: BinaryOperator::Plus,
        right: Box::new(number(1)),
    })
}

/// A field of an `_pg_expandarray` row: `x` (the element) or `n` (its
/// position).
fn expanded_field(index: usize, field: &str, element: PgType) -> Result<(Expr, PgType), Error> {
    match field {
        "x" => Ok((srf_column(index, "value"), element)),
        "n" => Ok((position(index), PgType::INT4)),
        other => Err(Error::UndefinedColumnIn {
            column: other.to_owned(),
            context: "of the record (x, n)".into(),
        }),
    }
}

/// The one field name of a `(record).field` selection.
fn selected_field(access_chain: &[AccessExpr]) -> Option<String> {
    match access_chain {
        [AccessExpr::Dot(Expr::Identifier(field))] => Some(fold(field)),
        _ => None,
    }
}

/// Whether an access chain selects a field (rather than an array element).
pub(crate) fn is_field_selection(access_chain: &[AccessExpr]) -> bool {
    selected_field(access_chain).is_some()
}

/// Parses a `FROM` list template.
fn from_template(sql: &str) -> Result<Vec<TableWithJoins>, Error> {
    let parsed = Parser::parse_sql(&PostgreSqlDialect {}, sql)
        .map_err(|e| Error::Syntax(format!("set-returning function template: {e}")))?
        .pop();
    match parsed {
        Some(Statement::Query(query)) => match *query.body {
            SetExpr::Select(select) => Ok(select.from),
            _ => Err(Error::Syntax(sql.into())),
        },
        _ => Err(Error::Syntax(sql.into())),
    }
}

/// Sets the one argument of a table function in `FROM`.
fn set_table_argument(factor: &mut TableFactor, arg: Expr) {
    if let TableFactor::Table {
        args: Some(args), ..
    } = factor
    {
        args.args = vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))];
    }
}

impl Translator<'_> {
    /// A set-returning call in a select list: registers its rows and
    /// rewrites it into the value of the current row; `None` when `expr`
    /// is not one. Elsewhere it is 0A000, as in PostgreSQL's `WHERE`.
    pub(crate) fn set_returning_call(&mut self, expr: &mut Expr) -> Result<Option<Ty>, Error> {
        if self.select_srfs.is_some() && aggregates(expr) {
            // PostgreSQL: aggregate calls cannot contain set-returning calls
            let outer = self.select_srfs.take();
            let result = self.function(expr);
            self.select_srfs = outer;
            return result.map(Some);
        }
        let Some(srf) = plain_args(expr).and_then(|(name, args)| select_list_srf(name, args.len()))
        else {
            return Ok(None);
        };
        let (index, element) = self.register_srf(expr, srf)?;
        let (value, ty) = if srf == Srf::ExpandArray {
            let (x, _) = expanded_field(index, "x", element)?;
            let (n, _) = expanded_field(index, "n", element)?;
            (
                call("json_object", vec![string("x"), x, string("n"), n]),
                PgType::RECORD,
            )
        } else {
            (srf_column(index, "value"), element)
        };
        *expr = value;
        Ok(Some(Ty::Known(ty)))
    }

    /// `(expr).field`: a field of a record, as `_pg_expandarray`'s `x` and
    /// `n`.
    pub(crate) fn field_selection(&mut self, expr: &mut Expr) -> Result<Ty, Error> {
        let Expr::CompoundFieldAccess { root, access_chain } = expr else {
            return Err(Error::Unsupported(format!("expression {expr}")));
        };
        let field = selected_field(access_chain)
            .ok_or_else(|| Error::Unsupported("field access".into()))?;
        let mut inner: &mut Expr = root;
        while let Expr::Nested(nested) = inner {
            inner = nested;
        }
        let srf = plain_args(inner).and_then(|(name, args)| select_list_srf(name, args.len()));
        if srf == Some(Srf::ExpandArray) {
            let (index, element) = self.register_srf(inner, Srf::ExpandArray)?;
            let (value, ty) = expanded_field(index, &field, element)?;
            *expr = value;
            return Ok(Ty::Known(ty));
        }
        let ty = self.expr(inner)?;
        match ty {
            Ty::Known(t) if t == PgType::RECORD => {
                // the record is a JSON object; its fields' types are not kept
                let path = format!("$.\"{}\"", field.replace('"', "\\\""));
                *expr = call("json_extract", vec![take(inner), string(path)]);
                Ok(Ty::Unknown)
            }
            other => Err(Error::WrongObjectType(format!(
                "column notation .{field} applied to type {}, which is not a composite type",
                other.or_text()
            ))),
        }
    }

    /// Translates the arguments of a set-returning call, records the JSON
    /// array of its rows for the select list being translated, and
    /// returns the call's number there and its element type.
    fn register_srf(&mut self, expr: &mut Expr, srf: Srf) -> Result<(usize, PgType), Error> {
        let name = match expr {
            Expr::Function(function) => function.name.to_string(),
            _ => String::new(),
        };
        if self.select_srfs.is_none() {
            return Err(not_here(&name));
        }
        let Some((_, mut args)) = plain_args(expr) else {
            return Err(Error::Unsupported(format!("call of {name}")));
        };
        let (rows, element) = match srf {
            Srf::Each { .. } => {
                return Err(Error::NotImplemented(format!(
                    "{name}() in a select list: call it in FROM"
                )));
            }
            Srf::Unnest | Srf::ExpandArray => {
                let ty = self.array_argument(args[0], &name)?;
                (take(args[0]), ty.element().unwrap_or(PgType::TEXT))
            }
            Srf::Series => {
                let arguments: Vec<Expr> = args.iter_mut().map(|a| take(a)).collect();
                let mut series = call("__patina_generate_series", arguments);
                let ty = self.function(&mut series).map_err(|error| match error {
                    Error::UndefinedFunction(signature) => Error::UndefinedFunction(
                        signature.replace("__patina_generate_series", "generate_series"),
                    ),
                    other => other,
                })?;
                (series, ty.or_text().element().unwrap_or(PgType::INT4))
            }
            Srf::Subscripts => {
                let ty = self.array_argument(args[0], &name)?;
                let dim_ty = self.expr(args[1])?;
                self.coerce(args[1], dim_ty, PgType::INT4, CastKind::Implicit)?;
                let array = take(args[0]);
                let dim = take(args[1]);
                // one dimension: its subscripts; none for others
                let series = subscript_series(array, ty);
                let rows = Expr::Case {
                    case_token: sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
                    end_token: sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
                    operand: None,
                    conditions: vec![sqlparser::ast::CaseWhen {
                        condition: Expr::BinaryOp {
                            left: Box::new(dim),
                            op: BinaryOperator::Eq,
                            right: Box::new(number(1)),
                        },
                        result: series,
                    }],
                    else_result: None,
                };
                (rows, PgType::INT4)
            }
            Srf::Elements { as_text, jsonb } => {
                let doc_type = if jsonb { PgType::JSONB } else { PgType::JSON };
                let ty = self.expr(args[0])?;
                match ty {
                    Ty::Known(t) if t == doc_type => {}
                    Ty::Unknown => self.coerce(args[0], ty, doc_type, CastKind::Implicit)?,
                    Ty::Known(t) => {
                        return Err(Error::UndefinedFunction(format!("{name}({t})")));
                    }
                }
                let doc = take(args[0]);
                let element = if as_text { PgType::TEXT } else { doc_type };
                let flag = |b: bool| number(i32::from(b));
                let rows = call("pg_json_elements", vec![doc, flag(as_text), flag(jsonb)]);
                (rows, element)
            }
        };
        let found = self.select_srfs.as_mut().ok_or_else(|| not_here(&name))?;
        found.push(rows);
        Ok((found.len(), element))
    }

    /// Translates an array argument; an untyped one is `text[]`.
    pub(crate) fn array_argument(&mut self, arg: &mut Expr, name: &str) -> Result<PgType, Error> {
        let ty = self.expr(arg)?;
        match ty {
            Ty::Known(t) if t.is_array() => Ok(t),
            Ty::Unknown => {
                self.coerce(arg, ty, PgType::TEXT.array_of(), CastKind::Implicit)?;
                Ok(PgType::TEXT.array_of())
            }
            Ty::Known(t) => Err(Error::UndefinedFunction(format!("{name}({t})"))),
        }
    }

    /// Expands the rows of a translated select's set-returning calls
    /// (`rows`, in the order they were numbered): the select, with the
    /// other items and the calls' arrays as its columns, becomes a
    /// subquery `"?q"`, joined with one `json_each` per call (whose own
    /// columns, as `key` and `id`, then clash with no user column); the
    /// items that hold a call are evaluated over the joined rows.
    pub(crate) fn expand_set_returning(
        &mut self,
        select: &mut Select,
        rows: Vec<Expr>,
        columns: &[(String, PgType)],
    ) -> Result<(), Error> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut inner = select.clone();
        let mut outer_items = Vec::with_capacity(columns.len());
        let mut inner_items = Vec::with_capacity(columns.len() + rows.len());
        for (i, (item, (name, _))) in std::mem::take(&mut inner.projection)
            .into_iter()
            .zip(columns)
            .enumerate()
        {
            let (SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. }) = item
            else {
                return Err(Error::Unsupported(
                    "a set-returning function beside this select list item".into(),
                ));
            };
            let alias = Ident::with_quote('"', name);
            if expr.to_string().contains("\"?srf") {
                if !reads_only_rows(&expr) {
                    return Err(Error::Unsupported(
                        "a set-returning function and a column in one select list item".into(),
                    ));
                }
                outer_items.push(SelectItem::ExprWithAlias { expr, alias });
            } else {
                let column = format!("?c{}", i + 1);
                inner_items.push(SelectItem::ExprWithAlias {
                    expr,
                    alias: Ident::with_quote('"', &column),
                });
                outer_items.push(SelectItem::ExprWithAlias {
                    expr: inner_column(&column),
                    alias,
                });
            }
        }
        let count = rows.len();
        for (k, array) in rows.into_iter().enumerate() {
            inner_items.push(SelectItem::ExprWithAlias {
                expr: array,
                alias: Ident::with_quote('"', format!("?a{}", k + 1)),
            });
        }
        inner.projection = inner_items;
        select.distinct = inner.distinct.take();
        select.projection = outer_items;
        select.from = srf_from(inner, count)?;
        select.selection = None;
        select.group_by = GroupByExpr::Expressions(Vec::new(), Vec::new());
        select.having = None;
        select.named_window = Vec::new();
        Ok(())
    }
}

/// `ORDER BY` of a select whose set-returning calls were expanded: a key
/// over the input (not an output column's name or position) moves into
/// the subquery `"?q"` as a hidden column, which the key then reads.
pub(crate) fn order_expanded(
    body: &mut SetExpr,
    items: &mut [OrderByExpr],
    columns: &[(String, PgType)],
) {
    let SetExpr::Select(select) = body else {
        return;
    };
    let Some(TableFactor::Derived {
        subquery, alias, ..
    }) = select.from.first_mut().map(|f| &mut f.relation)
    else {
        return;
    };
    if alias.as_ref().is_none_or(|a| a.name.value != "?q") {
        return;
    }
    let SetExpr::Select(inner) = subquery.body.as_mut() else {
        return;
    };
    for (k, item) in items.iter_mut().enumerate() {
        let key = match &mut item.expr {
            Expr::Collate { expr, .. } => expr.as_mut(),
            other => other,
        };
        let output = match &*key {
            Expr::Value(_) => true,
            Expr::Identifier(ident) => columns.iter().any(|(name, _)| *name == fold(&*ident)),
            _ => false,
        };
        let text = key.to_string();
        if output || text.contains("\"?q\"") || text.contains("\"?srf") {
            continue;
        }
        let column = format!("?o{}", k + 1);
        inner.projection.push(SelectItem::ExprWithAlias {
            expr: take(key),
            alias: Ident::with_quote('"', &column),
        });
        *key = inner_column(&column);
    }
}

/// `"?q"."<column>"`: a column of the subquery a select with
/// set-returning calls becomes.
fn inner_column(column: &str) -> Expr {
    Expr::CompoundIdentifier(vec![
        Ident::with_quote('"', "?q"),
        Ident::with_quote('"', column),
    ])
}

/// The `FROM` list of the expanded select: the subquery `inner`, then the
/// rows of its `count` arrays. One call is its `json_each`; several run
/// over the indexes up to the longest array, each left-joined on them.
fn srf_from(inner: Select, count: usize) -> Result<Vec<TableWithJoins>, Error> {
    let array = |k: usize| inner_column(&format!("?a{k}"));
    let mut from = if count == 1 {
        let mut from =
            from_template("SELECT 1 FROM (SELECT 1) AS \"?q\", json_each(NULL) AS \"?srf1\"")?;
        set_table_argument(&mut from[1].relation, array(1));
        from
    } else {
        let joins: Vec<String> = (1..=count)
            .map(|i| {
                format!(
                    "LEFT JOIN json_each(NULL) AS \"?srf{i}\" ON \"?srf{i}\".key = \"?srf0\".value"
                )
            })
            .collect();
        let sql = format!(
            "SELECT 1 FROM (SELECT 1) AS \"?q\", json_each(NULL) AS \"?srf0\" {}",
            joins.join(" ")
        );
        let mut from = from_template(&sql)?;
        let lengths: Vec<Expr> = (1..=count)
            .map(|k| {
                call(
                    "coalesce",
                    vec![call("json_array_length", vec![array(k)]), number(0)],
                )
            })
            .collect();
        let last = Expr::BinaryOp {
            left: Box::new(call("max", lengths)),
            op: BinaryOperator::Minus,
            right: Box::new(number(1)),
        };
        set_table_argument(
            &mut from[1].relation,
            call("pg_series", vec![number(0), last, number(1)]),
        );
        for (k, join) in from[1].joins.iter_mut().enumerate() {
            set_table_argument(&mut join.relation, array(k + 1));
        }
        from
    };
    if let TableFactor::Derived { subquery, .. } = &mut from[0].relation {
        *subquery.body = SetExpr::Select(Box::new(inner));
    }
    Ok(from)
}

/// Whether a translated select list item reads nothing but the rows of
/// set-returning calls (and constants): it is evaluated over them.
fn reads_only_rows(expr: &Expr) -> bool {
    match expr {
        Expr::CompoundIdentifier(parts) => {
            parts.first().is_some_and(|p| p.value.starts_with("?srf"))
        }
        Expr::Identifier(_) => false,
        Expr::Value(_) => true,
        Expr::Nested(inner)
        | Expr::UnaryOp { expr: inner, .. }
        | Expr::Cast { expr: inner, .. }
        | Expr::IsNull(inner)
        | Expr::IsNotNull(inner) => reads_only_rows(inner),
        Expr::BinaryOp { left, right, .. } => reads_only_rows(left) && reads_only_rows(right),
        Expr::Function(function) => match &function.args {
            FunctionArguments::None => true,
            FunctionArguments::List(list) => list.args.iter().all(|arg| match arg {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => reads_only_rows(e),
                _ => false,
            }),
            FunctionArguments::Subquery(_) => false,
        },
        _ => false,
    }
}

/// The subscripts of a one-dimensional array of type `ty`: 1 to its
/// length, or 0 to its length - 1 for `int2vector` / `oidvector`.
pub(crate) fn subscript_series(array: Expr, ty: PgType) -> Expr {
    let low = ty.lower_bound();
    let length = call("json_array_length", vec![array]);
    let high = if low == 1 {
        length
    } else {
        Expr::BinaryOp {
            left: Box::new(length),
            op: BinaryOperator::Minus,
            right: Box::new(number(1 - low)),
        }
    };
    call("pg_series", vec![number(low), high, number(1)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_their_schemas() {
        let name = |s: &str| {
            ObjectName(
                s.split('.')
                    .map(|p| sqlparser::ast::ObjectNamePart::Identifier(Ident::new(p)))
                    .collect(),
            )
        };
        assert_eq!(
            srf_of(&name("information_schema._pg_expandarray"), 1),
            Some(Srf::ExpandArray)
        );
        assert_eq!(srf_of(&name("_pg_expandarray"), 1), None);
        assert_eq!(srf_of(&name("pg_catalog.unnest"), 1), Some(Srf::Unnest));
        assert_eq!(srf_of(&name("unnest"), 2), None);
        assert_eq!(srf_of(&name("other.unnest"), 1), None);
    }
}
