//! Expressions: each PostgreSQL expression is rewritten in place into its
//! SQLite form and typed on the way. Only the forms listed here are
//! accepted; any other is a 0A000 error rather than a guess.

use sqlparser::ast::{
    CastKind as SqlCastKind, DateTimeField, Expr, InTarget, LimitClause, Query, SetExpr,
    TableFactor, TableWithJoins, TrimWhereField, UnaryOperator, Value,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::coerce::{CastKind, literal, number_rank};
use super::context::{Translator, Ty, call, nested, number, string, take, type_name};
use super::names::fold;
use super::output::name_outputs;
use crate::error::Error;
use crate::types::{PgType, Scalar};
use crate::values::numeric::Numeric;

/// The text of a string literal of any quoting style.
pub(crate) fn string_literal(value: &Value) -> Option<&str> {
    match value {
        Value::SingleQuotedString(s)
        | Value::EscapedStringLiteral(s)
        | Value::NationalStringLiteral(s)
        | Value::UnicodeStringLiteral(s) => Some(s),
        Value::DollarQuotedString(d) => Some(&d.value),
        _ => None,
    }
}

/// The name of a `DateTimeField` as `extract` and `date_trunc` spell it.
fn field_name(field: &DateTimeField) -> Result<String, Error> {
    let name = match field {
        DateTimeField::Year | DateTimeField::Years => "year",
        DateTimeField::Month | DateTimeField::Months => "month",
        DateTimeField::Week(None) | DateTimeField::Weeks => "week",
        DateTimeField::Day | DateTimeField::Days => "day",
        DateTimeField::DayOfWeek | DateTimeField::Dow => "dow",
        DateTimeField::DayOfYear | DateTimeField::Doy => "doy",
        DateTimeField::Hour | DateTimeField::Hours => "hour",
        DateTimeField::Minute | DateTimeField::Minutes => "minute",
        DateTimeField::Second | DateTimeField::Seconds => "second",
        DateTimeField::Century => "century",
        DateTimeField::Decade => "decade",
        DateTimeField::Epoch => "epoch",
        DateTimeField::Isodow => "isodow",
        DateTimeField::IsoWeek => "week",
        DateTimeField::Isoyear => "isoyear",
        DateTimeField::Millennium => "millennium",
        DateTimeField::Millisecond | DateTimeField::Milliseconds => "milliseconds",
        DateTimeField::Microsecond | DateTimeField::Microseconds => "microseconds",
        DateTimeField::Quarter => "quarter",
        DateTimeField::Custom(ident) => return Ok(fold(ident)),
        other => return Err(Error::Unsupported(format!("date/time field {other}"))),
    };
    Ok(name.into())
}

/// `t.col[i]` parses as `t` with the access chain `.col[i]`: moves the
/// names into the root (`t.col`), leaving the subscript.
fn qualify_root(root: &mut Expr, access_chain: &mut Vec<sqlparser::ast::AccessExpr>) {
    let mut parts = match root {
        Expr::Identifier(ident) => vec![ident.clone()],
        Expr::CompoundIdentifier(parts) => parts.clone(),
        _ => return,
    };
    let names = access_chain
        .iter()
        .take_while(|a| matches!(a, sqlparser::ast::AccessExpr::Dot(Expr::Identifier(_))))
        .count();
    if names == 0 {
        return;
    }
    for access in access_chain.drain(..names) {
        if let sqlparser::ast::AccessExpr::Dot(Expr::Identifier(ident)) = access {
            parts.push(ident);
        }
    }
    *root = Expr::CompoundIdentifier(parts);
}

impl Translator<'_> {
    /// Rewrites `expr` for SQLite and returns its PostgreSQL type.
    pub(crate) fn expr(&mut self, expr: &mut Expr) -> Result<Ty, Error> {
        if let Some(number) = self.params.rewrite(expr)? {
            return Ok(self.params.get(number).map_or(Ty::Unknown, Ty::Known));
        }
        let insensitive = matches!(expr, Expr::ILike { .. });
        match expr {
            Expr::Identifier(ident) => {
                // Keywords in PostgreSQL, never columns.
                if ident.quote_style.is_none()
                    && matches!(fold(ident).as_str(), "current_schema" | "current_catalog")
                    && let Some((value, ty)) = self.session_information(&fold(ident))
                {
                    *expr = string(value);
                    return Ok(Ty::Known(ty));
                }
                let ty = self.scopes.resolve(None, &fold(ident))?;
                Ok(Ty::Known(ty))
            }
            Expr::Ceil { expr: inner, field } | Expr::Floor { expr: inner, field } => {
                if !matches!(
                    field,
                    sqlparser::ast::CeilFloorKind::DateTimeField(DateTimeField::NoDateTime)
                ) {
                    return Err(Error::Unsupported(format!("{expr}")));
                }
                let argument = take(inner);
                let name = if matches!(expr, Expr::Ceil { .. }) {
                    "ceil"
                } else {
                    "floor"
                };
                *expr = call(name, vec![argument]);
                self.function(expr)
            }
            Expr::CompoundIdentifier(parts) => {
                let (qualifier, column) = match parts.as_slice() {
                    [table, column] => (fold(table), fold(column)),
                    [schema, table, column]
                        if fold(schema) == "public"
                            || crate::catalog::is_system_schema(&fold(schema)) =>
                    {
                        (fold(table), fold(column))
                    }
                    _ => return Err(Error::Unsupported(format!("column reference {expr}"))),
                };
                let ty = self.scopes.resolve(Some(&qualifier), &column)?;
                if parts.len() == 3 {
                    parts.remove(0);
                }
                if self.returning_target.as_ref() == Some(&qualifier)
                    && let Some(name) = parts.pop()
                {
                    *expr = Expr::Identifier(name);
                }
                Ok(Ty::Known(ty))
            }
            Expr::Value(value) => self.value(expr_value_mut(value)),
            Expr::Nested(inner) => self.expr(inner),
            Expr::TypedString(typed) => {
                let target = PgType::from_data_type(&typed.data_type)?;
                let text = string_literal(&typed.value.value)
                    .ok_or_else(|| Error::Unsupported(format!("typed literal {}", typed.value)))?
                    .to_string();
                *expr = string(text);
                self.coerce(expr, Ty::Unknown, target, CastKind::Explicit)?;
                Ok(Ty::Known(target))
            }
            Expr::Interval(interval) => {
                if interval.leading_field.is_some()
                    || interval.last_field.is_some()
                    || interval.leading_precision.is_some()
                    || interval.fractional_seconds_precision.is_some()
                {
                    return Err(Error::Unsupported(format!(
                        "interval field qualifiers in {expr}"
                    )));
                }
                let mut value = take(&mut interval.value);
                let ty = self.expr(&mut value)?;
                self.coerce(&mut value, ty, PgType::INTERVAL, CastKind::Explicit)?;
                *expr = value;
                Ok(Ty::Known(PgType::INTERVAL))
            }
            Expr::Cast {
                kind,
                expr: inner,
                data_type,
                format,
            } => {
                if format.is_some() || matches!(kind, SqlCastKind::TryCast | SqlCastKind::SafeCast)
                {
                    return Err(Error::Unsupported(format!("cast {expr}")));
                }
                let target = PgType::from_data_type(data_type)?;
                if matches!(inner.as_ref(), Expr::Array(array) if array.elem.is_empty()) {
                    if !target.is_array() {
                        return Err(Error::DatatypeMismatch(format!(
                            "cannot cast type text[] to {target}"
                        )));
                    }
                    *expr = string("[]");
                    return Ok(Ty::Known(target));
                }
                let mut value = take(inner);
                let ty = self.expr(&mut value)?;
                self.coerce(&mut value, ty, target, CastKind::Explicit)?;
                *expr = value;
                Ok(Ty::Known(target))
            }
            Expr::IsNull(inner) | Expr::IsNotNull(inner) => {
                self.expr(inner)?;
                Ok(Ty::Known(PgType::BOOL))
            }
            Expr::IsTrue(inner)
            | Expr::IsNotTrue(inner)
            | Expr::IsFalse(inner)
            | Expr::IsNotFalse(inner)
            | Expr::IsUnknown(inner)
            | Expr::IsNotUnknown(inner) => {
                self.condition(inner)?;
                if let Expr::IsUnknown(inner) = expr {
                    *expr = Expr::IsNull(Box::new(take(inner)));
                } else if let Expr::IsNotUnknown(inner) = expr {
                    *expr = Expr::IsNotNull(Box::new(take(inner)));
                }
                Ok(Ty::Known(PgType::BOOL))
            }
            Expr::IsDistinctFrom(left, right) | Expr::IsNotDistinctFrom(left, right) => {
                self.unify_pair(left, right)?;
                Ok(Ty::Known(PgType::BOOL))
            }
            Expr::BinaryOp { .. } => self.binary_op(expr),
            Expr::UnaryOp { op, expr: inner } => match op {
                UnaryOperator::Not => {
                    self.condition(inner)?;
                    Ok(Ty::Known(PgType::BOOL))
                }
                UnaryOperator::Minus | UnaryOperator::Plus => {
                    let ty = self.expr(inner)?;
                    match ty {
                        Ty::Known(t) if number_rank(t).is_some() => {}
                        // PostgreSQL has a prefix `-` for intervals, but no `+`
                        Ty::Known(PgType::INTERVAL) if *op == UnaryOperator::Minus => {}
                        Ty::Unknown => {
                            return Err(Error::UndefinedOperator(format!("{op} unknown")));
                        }
                        Ty::Known(t) => return Err(Error::UndefinedOperator(format!("{op} {t}"))),
                    }
                    if *op == UnaryOperator::Minus {
                        if ty == Ty::Known(PgType::INTERVAL) {
                            *expr = call(
                                "pg_interval_add",
                                vec![string("00:00:00"), take(inner), number(-1)],
                            );
                        } else if ty
                            .known()
                            .is_some_and(|t| matches!(t.scalar(), Scalar::Numeric(_)))
                        {
                            *expr = call("pg_numeric", vec![string("-"), number(0), take(inner)]);
                        } else if ty
                            .known()
                            .is_some_and(|t| matches!(t.scalar(), Scalar::Float4 | Scalar::Float8))
                        {
                            // a stored NaN is text, which SQLite negates to 0
                            *expr =
                                call("pg_float_arith", vec![string("*"), number(-1), take(inner)]);
                        }
                    }
                    Ok(ty)
                }
                other => Err(Error::Unsupported(format!("operator {other}"))),
            },
            Expr::Like {
                negated,
                any,
                expr: inner,
                pattern,
                escape_char,
            }
            | Expr::ILike {
                negated,
                any,
                expr: inner,
                pattern,
                escape_char,
            } => {
                if *any || escape_char.is_some() {
                    return Err(Error::Unsupported("LIKE ANY and LIKE … ESCAPE".into()));
                }
                let negated = *negated;
                let (mut text, mut pattern) = (take(inner), take(pattern));
                self.text_operand(&mut text)?;
                self.text_operand(&mut pattern)?;
                let matched = call(
                    "pg_like",
                    vec![text, pattern, number(i64::from(insensitive))],
                );
                *expr = negate_if(matched, negated);
                Ok(Ty::Known(PgType::BOOL))
            }
            Expr::In {
                expr: inner,
                target,
                global: false,
                ..
            } => {
                match target {
                    InTarget::List(list) => {
                        let mut all: Vec<&mut Expr> = Vec::with_capacity(list.len() + 1);
                        all.push(inner);
                        all.extend(list.iter_mut());
                        self.compare_all(all, "IN", false)?;
                    }
                    InTarget::Subquery(subquery) => {
                        let left = self.expr(inner)?;
                        let columns = self.subquery(subquery)?;
                        let [(_, right)] = columns.as_slice() else {
                            return Err(Error::Syntax("subquery has too many columns".into()));
                        };
                        self.unify_types(inner, left, *right)?;
                    }
                    other => return Err(Error::Unsupported(format!("IN {other:?}"))),
                }
                Ok(Ty::Known(PgType::BOOL))
            }
            Expr::Between {
                expr: inner,
                low,
                high,
                ..
            } => {
                self.compare_all(vec![inner, low, high], "BETWEEN", true)?;
                Ok(Ty::Known(PgType::BOOL))
            }
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                match operand {
                    Some(operand) => {
                        let mut all: Vec<&mut Expr> = vec![operand];
                        all.extend(conditions.iter_mut().map(|c| &mut c.condition));
                        self.compare_all(all, "CASE", false)?;
                    }
                    None => {
                        for when in conditions.iter_mut() {
                            self.condition(&mut when.condition)?;
                        }
                    }
                }
                let mut results: Vec<&mut Expr> =
                    conditions.iter_mut().map(|c| &mut c.result).collect();
                if let Some(else_result) = else_result {
                    results.push(else_result);
                }
                self.unify(results, "CASE")
            }
            Expr::Exists { subquery, .. } => {
                self.subquery(subquery)?;
                Ok(Ty::Known(PgType::BOOL))
            }
            Expr::Subquery(query) => {
                let columns = self.subquery(query)?;
                let [(_, ty)] = columns.as_slice() else {
                    return Err(Error::Syntax("subquery must return only one column".into()));
                };
                let ty = *ty;
                single_row(query, ty)?;
                Ok(Ty::Known(ty))
            }
            Expr::Function(_) => self.function(expr),
            Expr::Extract {
                field, expr: inner, ..
            } => {
                let field = field_name(field)?;
                let ty = self.datetime_operand(inner)?;
                *expr = call(
                    "pg_extract",
                    vec![string(field), take(inner), type_name(ty), number(0)],
                );
                Ok(Ty::Known(PgType::NUMERIC))
            }
            Expr::Position { expr: needle, r#in } => {
                self.text_operand(needle)?;
                self.text_operand(r#in)?;
                *expr = call("instr", vec![take(r#in), take(needle)]);
                Ok(Ty::Known(PgType::INT4))
            }
            Expr::Substring {
                expr: inner,
                substring_from,
                substring_for,
                ..
            } => {
                self.text_operand(inner)?;
                let mut args = vec![take(inner)];
                let start = match substring_from {
                    Some(from) => {
                        let ty = self.expr(from)?;
                        self.coerce(from, ty, PgType::INT4, CastKind::Implicit)?;
                        take(from)
                    }
                    None => number(1),
                };
                let clamped = call("max", vec![start.clone(), number(1)]);
                args.push(clamped.clone());
                if let Some(length) = substring_for {
                    let ty = self.expr(length)?;
                    self.coerce(length, ty, PgType::INT4, CastKind::Implicit)?;
                    // characters start .. start+length-1, clipped at 1 as PostgreSQL does
                    let end = Expr::BinaryOp {
                        left: Box::new(nested(start)),
                        op: sqlparser::ast::BinaryOperator::Plus,
                        right: Box::new(nested(take(length))),
                    };
                    let remaining = Expr::BinaryOp {
                        left: Box::new(end),
                        op: sqlparser::ast::BinaryOperator::Minus,
                        right: Box::new(clamped),
                    };
                    args.push(call("max", vec![remaining, number(0)]));
                }
                *expr = call("substr", args);
                Ok(Ty::Known(PgType::TEXT))
            }
            Expr::Trim {
                expr: inner,
                trim_where,
                trim_what,
                trim_characters,
            } => {
                if trim_characters.is_some() {
                    return Err(Error::Unsupported("trim with a character list".into()));
                }
                self.text_operand(inner)?;
                let mut args = vec![take(inner)];
                if let Some(what) = trim_what {
                    self.text_operand(what)?;
                    args.push(take(what));
                }
                let function = match trim_where {
                    Some(TrimWhereField::Leading) => "ltrim",
                    Some(TrimWhereField::Trailing) => "rtrim",
                    Some(TrimWhereField::Both) | None => "trim",
                };
                *expr = call(function, args);
                Ok(Ty::Known(PgType::TEXT))
            }
            Expr::Array(array) => {
                let mut elements: Vec<&mut Expr> = array.elem.iter_mut().collect();
                if elements.is_empty() {
                    return Err(Error::Unsupported("empty ARRAY[] without a cast".into()));
                }
                let element_ty = self
                    .unify(std::mem::take(&mut elements), "ARRAY")?
                    .or_text();
                if element_ty.is_array() {
                    return Err(Error::Unsupported("multidimensional arrays".into()));
                }
                let mut args = vec![type_name(element_ty)];
                args.append(&mut array.elem);
                *expr = call("pg_array", args);
                Ok(Ty::Known(element_ty.array_of()))
            }
            Expr::AnyOp {
                left,
                compare_op,
                right,
                is_some: _,
            } => self
                .any_op(left, compare_op, right, false)
                .map(|rewritten| {
                    *expr = rewritten;
                    Ty::Known(PgType::BOOL)
                }),
            Expr::AllOp {
                left,
                compare_op,
                right,
            } => self.any_op(left, compare_op, right, true).map(|rewritten| {
                *expr = rewritten;
                Ty::Known(PgType::BOOL)
            }),
            Expr::CompoundFieldAccess { access_chain, .. }
                if super::srf::is_field_selection(access_chain) =>
            {
                self.field_selection(expr)
            }
            Expr::CompoundFieldAccess { root, access_chain } => {
                qualify_root(root, access_chain);
                let ty = self.expr(root)?.or_text();
                let element = ty.element().ok_or_else(|| {
                    Error::DatatypeMismatch(format!("cannot subscript type {ty}"))
                })?;
                let [
                    sqlparser::ast::AccessExpr::Subscript(sqlparser::ast::Subscript::Index {
                        index,
                    }),
                ] = access_chain.as_mut_slice()
                else {
                    return Err(Error::Unsupported(format!("array access {expr}")));
                };
                let index_ty = self.expr(index)?;
                self.coerce(index, index_ty, PgType::INT4, CastKind::Implicit)?;
                let mut position = take(index);
                if ty.is_vector() {
                    // int2vector / oidvector subscripts start at 0
                    position = Expr::BinaryOp {
                        left: Box::new(nested(position)),
                        op: sqlparser::ast::BinaryOperator::Plus,
                        right: Box::new(number(1)),
                    };
                }
                *expr = call(
                    "pg_array_get",
                    vec![take(root), position, type_name(element)],
                );
                Ok(Ty::Known(element))
            }
            Expr::Collate { .. } => self.collate(expr),
            other => Err(Error::Unsupported(format!("expression {other}"))),
        }
    }

    fn value(&mut self, value: &mut Value) -> Result<Ty, Error> {
        if let Some(text) = string_literal(value).map(str::to_string) {
            *value = Value::SingleQuotedString(text);
            return Ok(Ty::Unknown);
        }
        match value {
            Value::Number(text, _) => {
                if let Ok(n) = text.parse::<i64>() {
                    return Ok(Ty::Known(if i32::try_from(n).is_ok() {
                        PgType::INT4
                    } else {
                        PgType::INT8
                    }));
                }
                let canonical = Numeric::parse(text)?.to_string();
                *value = Value::SingleQuotedString(canonical);
                Ok(Ty::Known(PgType::NUMERIC))
            }
            Value::Boolean(_) => Ok(Ty::Known(PgType::BOOL)),
            Value::Null => Ok(Ty::Unknown),
            other => Err(Error::Unsupported(format!("literal {other}"))),
        }
    }

    /// Rewrites a boolean condition (`WHERE`, `AND` operands…).
    pub(crate) fn condition(&mut self, expr: &mut Expr) -> Result<(), Error> {
        let ty = self.expr(expr)?;
        if let Ty::Known(t) = ty
            && t != PgType::BOOL
        {
            return Err(Error::DatatypeMismatch(format!(
                "argument of a condition must be type boolean, not type {t}"
            )));
        }
        self.coerce(expr, ty, PgType::BOOL, CastKind::Implicit)
    }

    /// Rewrites an operand that must be a string (`LIKE`, `~`, `trim`…).
    pub(crate) fn text_operand(&mut self, expr: &mut Expr) -> Result<(), Error> {
        let ty = self.expr(expr)?;
        match ty {
            Ty::Known(t) if t.is_string() => Ok(()),
            Ty::Known(t) => Err(Error::UndefinedFunction(format!(
                "for argument of type {t} where text is expected"
            ))),
            Ty::Unknown => self.coerce(expr, ty, PgType::TEXT, CastKind::Implicit),
        }
    }

    /// Rewrites an operand that must be a date, timestamp or interval,
    /// returning its type (an untyped literal is taken as `timestamptz`, as
    /// PostgreSQL prefers).
    pub(crate) fn datetime_operand(&mut self, expr: &mut Expr) -> Result<PgType, Error> {
        let ty = self.expr(expr)?;
        match ty {
            Ty::Known(t)
                if !t.is_array()
                    && matches!(
                        t.scalar(),
                        Scalar::Date | Scalar::Timestamp | Scalar::Timestamptz | Scalar::Interval
                    ) =>
            {
                Ok(t)
            }
            Ty::Known(t) => Err(Error::UndefinedFunction(format!(
                "for argument of type {t} where a date/time is expected"
            ))),
            Ty::Unknown => {
                self.coerce(expr, ty, PgType::TIMESTAMPTZ, CastKind::Implicit)?;
                Ok(PgType::TIMESTAMPTZ)
            }
        }
    }
}

fn expr_value_mut(value: &mut sqlparser::ast::ValueWithSpan) -> &mut Value {
    &mut value.value
}

/// Makes a translated scalar subquery fail, as in PostgreSQL, when it
/// returns more than one row: `(SELECT pg_scalar(v) FROM (query))`, unless
/// its `LIMIT 1` says it cannot.
fn single_row(query: &mut Box<Query>, ty: PgType) -> Result<(), Error> {
    let limited = matches!(
        &query.limit_clause,
        Some(LimitClause::LimitOffset { limit: Some(limit), .. })
            if matches!(literal(limit), Some((rusqlite::types::Value::Integer(0 | 1), _)))
    );
    if limited {
        return Ok(());
    }
    name_outputs(query, &vec![("v".to_string(), ty)])?;
    let template = "SELECT pg_scalar(v) FROM (SELECT 1)";
    let parsed = Parser::parse_sql(&PostgreSqlDialect {}, template)
        .map_err(|e| Error::Syntax(e.to_string()))?
        .pop();
    let Some(sqlparser::ast::Statement::Query(mut wrapper)) = parsed else {
        return Err(Error::Syntax(template.into()));
    };
    if let SetExpr::Select(select) = wrapper.body.as_mut()
        && let Some(TableWithJoins {
            relation: TableFactor::Derived { subquery, .. },
            ..
        }) = select.from.first_mut()
    {
        std::mem::swap(subquery, query);
    }
    *query = wrapper;
    Ok(())
}

/// `NOT (expr)` when `negated`.
pub(crate) fn negate_if(expr: Expr, negated: bool) -> Expr {
    if negated {
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr: Box::new(nested(expr)),
        }
    } else {
        expr
    }
}
