//! Operators: type resolution as PostgreSQL does it (an unknown operand
//! takes the other operand's type, numbers promote, dates mix upward) and
//! the SQLite form of each — native where SQLite agrees, a `pg_*` function
//! where it does not (`/` by zero, exact `numeric`, date/time arithmetic,
//! JSON, regular expressions).

use sqlparser::ast::{BinaryOperator, Expr, Ident, InTarget, ObjectName, ObjectNamePart};

use super::coerce::{CastKind, number_rank};
use super::context::{Translator, Ty, call, nested, number, string, take, type_name};
use super::expr::negate_if;
use crate::error::Error;
use crate::types::{PgType, Scalar};

/// The category of a type, for choosing a common type.
fn category(ty: PgType) -> u8 {
    if ty.is_array() {
        return 10;
    }
    match ty.scalar() {
        Scalar::Int2
        | Scalar::Int4
        | Scalar::Int8
        | Scalar::Numeric(_)
        | Scalar::Float4
        | Scalar::Float8 => 1,
        Scalar::Text | Scalar::Varchar(_) | Scalar::Bpchar(_) | Scalar::Name => 2,
        Scalar::Date | Scalar::Timestamp | Scalar::Timestamptz => 3,
        Scalar::Bool => 4,
        Scalar::Interval => 5,
        Scalar::Uuid => 6,
        Scalar::Json => 7,
        Scalar::Jsonb => 8,
        Scalar::Bytea => 9,
        Scalar::Time => 11,
        Scalar::Oid => 12,
        Scalar::Char => 13,
        Scalar::Regtype => 14,
        Scalar::Regclass => 15,
        Scalar::Record => 16,
    }
}

fn datetime_rank(ty: PgType) -> u8 {
    match ty.scalar() {
        Scalar::Date => 1,
        Scalar::Timestamp => 2,
        _ => 3,
    }
}

/// The common type of two known types, as PostgreSQL's `UNION`/`CASE`
/// resolution picks it.
pub(crate) fn common_type(a: PgType, b: PgType, what: &str) -> Result<PgType, Error> {
    if a == b {
        return Ok(a);
    }
    if a.without_modifier() == b.without_modifier() {
        return Ok(a.without_modifier());
    }
    // integers convert to `oid` implicitly
    for (x, y) in [(a, b), (b, a)] {
        if x == PgType::OID && (y.is_integer() || y == PgType::REGCLASS) {
            return Ok(PgType::OID);
        }
        // `"char"` converts to `text` implicitly (`relkind = ANY (ARRAY['r', 'v'])`)
        if x == PgType::CHAR && y.is_string() {
            return Ok(PgType::TEXT);
        }
    }
    if category(a) != category(b) || a.is_array() {
        return Err(Error::DatatypeMismatch(format!(
            "{what} types {a} and {b} cannot be matched"
        )));
    }
    Ok(match category(a) {
        1 => {
            if number_rank(a) >= number_rank(b) {
                a.without_modifier()
            } else {
                b.without_modifier()
            }
        }
        2 => PgType::TEXT,
        3 => {
            if datetime_rank(a) >= datetime_rank(b) {
                a
            } else {
                b
            }
        }
        _ => a,
    })
}

/// The result type of arithmetic on two numbers. As `common_type`, except
/// that `real` with another type gives `double precision`: PostgreSQL has
/// `real` operators only for `real` and `double precision` operands, and
/// prefers the latter.
fn arithmetic_type(a: PgType, b: PgType) -> Result<PgType, Error> {
    let ty = common_type(a, b, "arithmetic")?;
    if ty == PgType::FLOAT4 && a.without_modifier() != b.without_modifier() {
        return Ok(PgType::FLOAT8);
    }
    Ok(ty)
}

/// How SQLite must compare values of a type to agree with PostgreSQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Comparison {
    /// the stored values compare as they are
    Native,
    /// stored text compared by value with the `pg_numeric` collation
    Numeric,
    /// compared by `pg_interval_key`, PostgreSQL's 30-day-month span
    Interval,
    /// stored text equal exactly when the values are; no order
    EqualityOnly,
}

/// How values of `ty` compare.
pub(crate) fn comparison(ty: PgType) -> Comparison {
    if ty.is_array() {
        return Comparison::EqualityOnly;
    }
    match ty.scalar() {
        Scalar::Numeric(_) => Comparison::Numeric,
        Scalar::Interval => Comparison::Interval,
        Scalar::Json | Scalar::Jsonb => Comparison::EqualityOnly,
        _ => Comparison::Native,
    }
}

fn is_numeric(ty: PgType) -> bool {
    !ty.is_array() && matches!(ty.scalar(), Scalar::Numeric(_))
}

fn is_datetime(ty: PgType) -> bool {
    !ty.is_array()
        && matches!(
            ty.scalar(),
            Scalar::Date | Scalar::Timestamp | Scalar::Timestamptz
        )
}

/// `expr COLLATE pg_numeric`, so that SQLite compares stored numerics by
/// value.
pub(crate) fn numeric_collation(expr: Expr) -> Expr {
    Expr::Collate {
        expr: Box::new(nested(expr)),
        collation: ObjectName(vec![ObjectNamePart::Identifier(Ident::new("pg_numeric"))]),
    }
}

/// The operator `OPERATOR(pg_catalog.~)` names (psql writes its
/// operators so); 42883 for another schema or an operator patina lacks.
fn schema_qualified_operator(parts: &[String]) -> Result<BinaryOperator, Error> {
    let undefined = || Error::UndefinedOperator(format!("OPERATOR({})", parts.join(".")));
    let symbol = match parts {
        [symbol] => symbol,
        [schema, symbol] if schema.eq_ignore_ascii_case("pg_catalog") => symbol,
        _ => return Err(undefined()),
    };
    Ok(match symbol.as_str() {
        "~" => BinaryOperator::PGRegexMatch,
        "~*" => BinaryOperator::PGRegexIMatch,
        "!~" => BinaryOperator::PGRegexNotMatch,
        "!~*" => BinaryOperator::PGRegexNotIMatch,
        "~~" => BinaryOperator::PGLikeMatch,
        "~~*" => BinaryOperator::PGILikeMatch,
        "!~~" => BinaryOperator::PGNotLikeMatch,
        "!~~*" => BinaryOperator::PGNotILikeMatch,
        "=" => BinaryOperator::Eq,
        "<>" | "!=" => BinaryOperator::NotEq,
        "<" => BinaryOperator::Lt,
        "<=" => BinaryOperator::LtEq,
        ">" => BinaryOperator::Gt,
        ">=" => BinaryOperator::GtEq,
        "+" => BinaryOperator::Plus,
        "-" => BinaryOperator::Minus,
        "*" => BinaryOperator::Multiply,
        "/" => BinaryOperator::Divide,
        "%" => BinaryOperator::Modulo,
        "||" => BinaryOperator::StringConcat,
        _ => return Err(undefined()),
    })
}

impl Translator<'_> {
    /// `expr COLLATE name`: the collations every PostgreSQL database has
    /// and that compare as patina does (byte order: `default` in a C-locale
    /// database, `C`, `POSIX`) leave the expression as it is; others do
    /// not exist (42704).
    pub(crate) fn collate(&mut self, expr: &mut Expr) -> Result<Ty, Error> {
        let Expr::Collate {
            expr: inner,
            collation,
        } = expr
        else {
            return Err(Error::Unsupported(format!("expression {expr}")));
        };
        let name = collation.0.last().map(|part| match part {
            ObjectNamePart::Identifier(ident) => super::names::fold(ident),
            ObjectNamePart::Function(f) => f.name.value.clone(),
        });
        let schema_ok = match collation.0.as_slice() {
            [_] => true,
            [ObjectNamePart::Identifier(schema), _] => super::names::fold(schema) == "pg_catalog",
            _ => false,
        };
        if !schema_ok || !matches!(name.as_deref(), Some("default" | "C" | "POSIX")) {
            return Err(Error::UndefinedCollation(name.unwrap_or_default()));
        }
        let ty = self.expr(inner)?;
        *expr = take(inner);
        Ok(ty)
    }

    /// Types every expression, chooses their common type, and converts
    /// each to it. Unknowns alone resolve to `text`.
    pub(crate) fn unify(&mut self, exprs: Vec<&mut Expr>, what: &str) -> Result<Ty, Error> {
        let mut typed = Vec::with_capacity(exprs.len());
        let mut target: Option<PgType> = None;
        for expr in exprs {
            let ty = self.expr(expr)?;
            if let Ty::Known(t) = ty {
                target = Some(match target {
                    Some(current) => common_type(current, t, what)?,
                    None => t,
                });
            }
            typed.push((expr, ty));
        }
        let target = target.unwrap_or(PgType::TEXT);
        for (expr, ty) in typed {
            self.coerce(expr, ty, target, CastKind::Implicit)?;
        }
        Ok(Ty::Known(target))
    }

    /// Unifies the first expression with the rest for a comparison, and
    /// makes the comparison numeric when the common type is `numeric`.
    pub(crate) fn compare_all(
        &mut self,
        mut exprs: Vec<&mut Expr>,
        what: &str,
        ordering: bool,
    ) -> Result<(), Error> {
        let ty = self.unify(exprs.iter_mut().map(|e| &mut **e).collect(), what)?;
        match ty.known().map(comparison) {
            Some(Comparison::Numeric) => {
                if let Some(first) = exprs.into_iter().next() {
                    *first = numeric_collation(take(first));
                }
            }
            Some(Comparison::Interval) => {
                for expr in exprs {
                    *expr = call("pg_interval_key", vec![take(expr)]);
                }
            }
            Some(Comparison::EqualityOnly) if ordering => {
                return Err(Error::Unsupported(format!(
                    "ordering comparison of {}",
                    ty.or_text()
                )));
            }
            _ => {}
        }
        Ok(())
    }

    /// Unifies two operands of an equality comparison.
    pub(crate) fn unify_pair(&mut self, left: &mut Expr, right: &mut Expr) -> Result<(), Error> {
        self.compare_all(vec![left, right], "comparison", false)
    }

    /// Checks an expression against the type of a subquery's column.
    pub(crate) fn unify_types(
        &mut self,
        expr: &mut Expr,
        ty: Ty,
        column: PgType,
    ) -> Result<(), Error> {
        let target = match ty {
            Ty::Known(t) => common_type(t, column, "IN")?,
            Ty::Unknown => column,
        };
        if target.without_modifier() != column.without_modifier()
            && (category(column) != 1 || is_numeric(target))
        {
            return Err(Error::Unsupported(format!(
                "comparing {target} with a subquery column of type {column}"
            )));
        }
        self.coerce(expr, ty, target, CastKind::Implicit)?;
        if is_numeric(target) {
            *expr = numeric_collation(take(expr));
        }
        Ok(())
    }

    /// Rewrites a binary operator expression and returns its type.
    pub(crate) fn binary_op(&mut self, expr: &mut Expr) -> Result<Ty, Error> {
        let Expr::BinaryOp { left, op, right } = expr else {
            return Err(Error::Unsupported(format!("expression {expr}")));
        };
        if let BinaryOperator::PGCustomBinaryOperator(parts) = op {
            *op = schema_qualified_operator(parts)?;
        }
        match op {
            op if super::bitwise::is_bitwise(op) => self.bitwise(expr),
            BinaryOperator::And | BinaryOperator::Or => {
                self.condition(left)?;
                self.condition(right)?;
                Ok(Ty::Known(PgType::BOOL))
            }
            BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Lt
            | BinaryOperator::LtEq
            | BinaryOperator::Gt
            | BinaryOperator::GtEq => {
                let ordering = !matches!(op, BinaryOperator::Eq | BinaryOperator::NotEq);
                self.compare_all(vec![left, right], "comparison", ordering)?;
                Ok(Ty::Known(PgType::BOOL))
            }
            BinaryOperator::Plus
            | BinaryOperator::Minus
            | BinaryOperator::Multiply
            | BinaryOperator::Divide
            | BinaryOperator::Modulo => {
                let op = op.clone();
                let (rewritten, ty) = self.arithmetic(take(left), &op, take(right))?;
                *expr = rewritten;
                Ok(Ty::Known(ty))
            }
            BinaryOperator::StringConcat => {
                let left_ty = self.expr(left)?;
                let right_ty = self.expr(right)?;
                let is_array = |t: Ty| t.known().is_some_and(PgType::is_array);
                if is_array(left_ty) || is_array(right_ty) {
                    let (rewritten, ty) =
                        self.array_concat(take(left), left_ty, take(right), right_ty)?;
                    *expr = rewritten;
                    return Ok(Ty::Known(ty));
                }
                let stringish = |t: Ty| t.known().is_none_or(PgType::is_string);
                if !stringish(left_ty) && !stringish(right_ty) {
                    return Err(Error::UndefinedOperator(format!(
                        "{} || {}",
                        left_ty.or_text(),
                        right_ty.or_text()
                    )));
                }
                for (side, ty) in [(&mut **left, left_ty), (&mut **right, right_ty)] {
                    if ty
                        .known()
                        .is_some_and(|t| t.is_array() || matches!(t.scalar(), Scalar::Jsonb))
                    {
                        return Err(Error::Unsupported(format!("|| on {}", ty.or_text())));
                    }
                    self.coerce(side, ty, PgType::TEXT, CastKind::Explicit)?;
                }
                Ok(Ty::Known(PgType::TEXT))
            }
            BinaryOperator::Arrow
            | BinaryOperator::LongArrow
            | BinaryOperator::HashArrow
            | BinaryOperator::HashLongArrow => {
                let as_text = matches!(
                    op,
                    BinaryOperator::LongArrow | BinaryOperator::HashLongArrow
                );
                let path = matches!(
                    op,
                    BinaryOperator::HashArrow | BinaryOperator::HashLongArrow
                );
                let doc_ty = match self.expr(left)? {
                    Ty::Known(t)
                        if !t.is_array() && matches!(t.scalar(), Scalar::Json | Scalar::Jsonb) =>
                    {
                        t
                    }
                    other => {
                        return Err(Error::UndefinedOperator(format!(
                            "{} {op} unknown",
                            other.or_text()
                        )));
                    }
                };
                let key_ty = self.expr(right)?;
                if path {
                    self.coerce(right, key_ty, PgType::TEXT.array_of(), CastKind::Implicit)?;
                } else {
                    match key_ty {
                        Ty::Known(t) if t.is_integer() || t.is_string() => {}
                        Ty::Known(t) => {
                            return Err(Error::UndefinedOperator(format!("{doc_ty} {op} {t}")));
                        }
                        Ty::Unknown => {
                            self.coerce(right, key_ty, PgType::TEXT, CastKind::Implicit)?
                        }
                    }
                }
                let jsonb = doc_ty.scalar() == Scalar::Jsonb;
                let function = if path { "pg_json_path" } else { "pg_json_get" };
                *expr = call(
                    function,
                    vec![
                        take(left),
                        take(right),
                        number(i64::from(as_text)),
                        number(i64::from(jsonb)),
                    ],
                );
                Ok(Ty::Known(if as_text { PgType::TEXT } else { doc_ty }))
            }
            BinaryOperator::AtArrow | BinaryOperator::ArrowAt => {
                let (container, contained) = if matches!(op, BinaryOperator::AtArrow) {
                    (left, right)
                } else {
                    (right, left)
                };
                let container_ty = self.expr(container)?;
                let contained_ty = self.expr(contained)?;
                if container_ty.known().is_some_and(PgType::is_array)
                    || contained_ty.known().is_some_and(PgType::is_array)
                {
                    let mut pair = [take(container), take(contained)];
                    self.array_pair(&mut pair, &[container_ty, contained_ty], "@>")?;
                    *expr = call("pg_array_contains", pair.into());
                    return Ok(Ty::Known(PgType::BOOL));
                }
                for (side, ty) in [
                    (&mut **container, container_ty),
                    (&mut **contained, contained_ty),
                ] {
                    match ty {
                        Ty::Known(t) if t == PgType::JSONB => {}
                        Ty::Known(t) => return Err(Error::Unsupported(format!("@> on {t}"))),
                        Ty::Unknown => self.coerce(side, ty, PgType::JSONB, CastKind::Implicit)?,
                    }
                }
                *expr = call("pg_jsonb_contains", vec![take(container), take(contained)]);
                Ok(Ty::Known(PgType::BOOL))
            }
            BinaryOperator::Question => {
                let doc_ty = self.expr(left)?;
                if doc_ty != Ty::Known(PgType::JSONB) {
                    return Err(Error::UndefinedOperator(format!(
                        "{} ? text",
                        doc_ty.or_text()
                    )));
                }
                self.text_operand(right)?;
                *expr = call("pg_jsonb_has_key", vec![take(left), take(right)]);
                Ok(Ty::Known(PgType::BOOL))
            }
            BinaryOperator::PGStartsWith => {
                self.text_operand(left)?;
                self.text_operand(right)?;
                *expr = call("pg_starts_with", vec![take(left), take(right)]);
                Ok(Ty::Known(PgType::BOOL))
            }
            BinaryOperator::PGExp => {
                let left_ty = self.expr(left)?;
                let right_ty = self.expr(right)?;
                for (side, ty) in [(&mut **left, left_ty), (&mut **right, right_ty)] {
                    match ty.known() {
                        Some(t) if is_numeric(t) => {
                            return Err(Error::Unsupported("numeric ^ numeric".into()));
                        }
                        Some(t) if number_rank(t).is_none() => {
                            return Err(Error::UndefinedOperator(format!("{t} ^ {t}")));
                        }
                        _ => self.coerce(side, ty, PgType::FLOAT8, CastKind::Implicit)?,
                    }
                }
                *expr = call("pg_power", vec![take(left), take(right)]);
                Ok(Ty::Known(PgType::FLOAT8))
            }
            BinaryOperator::PGRegexMatch
            | BinaryOperator::PGRegexIMatch
            | BinaryOperator::PGRegexNotMatch
            | BinaryOperator::PGRegexNotIMatch => {
                let insensitive = matches!(
                    op,
                    BinaryOperator::PGRegexIMatch | BinaryOperator::PGRegexNotIMatch
                );
                let negated = matches!(
                    op,
                    BinaryOperator::PGRegexNotMatch | BinaryOperator::PGRegexNotIMatch
                );
                self.text_operand(left)?;
                self.text_operand(right)?;
                let matched = call(
                    "pg_regex",
                    vec![
                        take(left),
                        take(right),
                        string(if insensitive { "i" } else { "" }),
                    ],
                );
                *expr = negate_if(matched, negated);
                Ok(Ty::Known(PgType::BOOL))
            }
            BinaryOperator::PGLikeMatch
            | BinaryOperator::PGILikeMatch
            | BinaryOperator::PGNotLikeMatch
            | BinaryOperator::PGNotILikeMatch => {
                let insensitive = matches!(
                    op,
                    BinaryOperator::PGILikeMatch | BinaryOperator::PGNotILikeMatch
                );
                let negated = matches!(
                    op,
                    BinaryOperator::PGNotLikeMatch | BinaryOperator::PGNotILikeMatch
                );
                self.text_operand(left)?;
                self.text_operand(right)?;
                let matched = call(
                    "pg_like",
                    vec![take(left), take(right), number(i64::from(insensitive))],
                );
                *expr = negate_if(matched, negated);
                Ok(Ty::Known(PgType::BOOL))
            }
            other => Err(Error::Unsupported(format!("operator {other}"))),
        }
    }

    /// `||` with an array: two arrays concatenated, or an element
    /// appended or prepended.
    fn array_concat(
        &mut self,
        mut left: Expr,
        left_ty: Ty,
        mut right: Expr,
        right_ty: Ty,
    ) -> Result<(Expr, PgType), Error> {
        let element_of = |t: Ty| t.known().and_then(PgType::element);
        // An untyped operand next to an array is an array too.
        let array_or_unknown = |t: Ty| t == Ty::Unknown || element_of(t).is_some();
        if array_or_unknown(left_ty) && array_or_unknown(right_ty) {
            let mut pair = [left, right];
            let ty = self.array_pair(&mut pair, &[left_ty, right_ty], "||")?;
            return Ok((call("pg_array_cat", pair.into()), ty));
        }
        match (element_of(left_ty), element_of(right_ty)) {
            (Some(element), _) => {
                self.coerce(&mut right, right_ty, element, CastKind::Implicit)?;
                let array = left_ty.or_text();
                Ok((
                    call("pg_array_append", vec![left, right, type_name(element)]),
                    array,
                ))
            }
            (_, Some(element)) => {
                self.coerce(&mut left, left_ty, element, CastKind::Implicit)?;
                let array = right_ty.or_text();
                Ok((
                    call("pg_array_prepend", vec![left, right, type_name(element)]),
                    array,
                ))
            }
            (None, None) => Err(Error::UndefinedOperator(format!(
                "{} || {}",
                left_ty.or_text(),
                right_ty.or_text()
            ))),
        }
    }

    /// `+ - * / %` on numbers, dates, timestamps and intervals.
    fn arithmetic(
        &mut self,
        mut left: Expr,
        op: &BinaryOperator,
        mut right: Expr,
    ) -> Result<(Expr, PgType), Error> {
        let left_ty = self.expr(&mut left)?;
        let right_ty = self.expr(&mut right)?;
        let undefined = || {
            Error::UndefinedOperator(format!("{} {op} {}", left_ty.or_text(), right_ty.or_text()))
        };
        let (l, r) = match (left_ty, right_ty) {
            (Ty::Unknown, Ty::Unknown) => return Err(undefined()),
            (Ty::Known(l), Ty::Unknown) => {
                let target = unknown_partner(l, op).ok_or_else(undefined)?;
                self.coerce(&mut right, right_ty, target, CastKind::Implicit)?;
                (l, target)
            }
            (Ty::Unknown, Ty::Known(r)) => {
                let target = unknown_partner(r, op).ok_or_else(undefined)?;
                self.coerce(&mut left, left_ty, target, CastKind::Implicit)?;
                (target, r)
            }
            (Ty::Known(l), Ty::Known(r)) => (l, r),
        };
        if let (Some(_), Some(_)) = (number_rank(l), number_rank(r)) {
            let ty = arithmetic_type(l, r)?;
            return Ok((number_arithmetic(left, op, right, ty), ty));
        }
        let plus = matches!(op, BinaryOperator::Plus);
        let minus = matches!(op, BinaryOperator::Minus);
        let sign = number(if minus { -1 } else { 1 });
        let interval = PgType::INTERVAL;
        if (plus || minus) && is_datetime(l) && r == interval {
            let result = if l == PgType::DATE {
                PgType::TIMESTAMP
            } else {
                l
            };
            return Ok((
                call("pg_datetime_add", vec![left, right, type_name(l), sign]),
                result,
            ));
        }
        if plus && l == interval && is_datetime(r) {
            let result = if r == PgType::DATE {
                PgType::TIMESTAMP
            } else {
                r
            };
            return Ok((
                call("pg_datetime_add", vec![right, left, type_name(r), sign]),
                result,
            ));
        }
        if (plus || minus) && l == PgType::DATE && r.is_integer() {
            let days = if minus {
                Expr::UnaryOp {
                    op: sqlparser::ast::UnaryOperator::Minus,
                    expr: Box::new(nested(right)),
                }
            } else {
                right
            };
            return Ok((call("pg_date_add_days", vec![left, days]), PgType::DATE));
        }
        if plus && l.is_integer() && r == PgType::DATE {
            return Ok((call("pg_date_add_days", vec![right, left]), PgType::DATE));
        }
        if minus && l == PgType::DATE && r == PgType::DATE {
            let days = Expr::BinaryOp {
                left: Box::new(call("julianday", vec![left])),
                op: BinaryOperator::Minus,
                right: Box::new(call("julianday", vec![right])),
            };
            let days = Expr::Cast {
                kind: sqlparser::ast::CastKind::Cast,
                expr: Box::new(days),
                data_type: sqlparser::ast::DataType::Integer(None),
                format: None,
            };
            return Ok((days, PgType::INT4));
        }
        if minus && is_datetime(l) && is_datetime(r) {
            let ty = common_type(l, r, "arithmetic")?;
            self.coerce(&mut left, Ty::Known(l), ty, CastKind::Implicit)?;
            self.coerce(&mut right, Ty::Known(r), ty, CastKind::Implicit)?;
            return Ok((
                call("pg_datetime_diff", vec![left, right, type_name(ty)]),
                interval,
            ));
        }
        if (plus || minus) && l == interval && r == interval {
            return Ok((call("pg_interval_add", vec![left, right, sign]), interval));
        }
        if matches!(op, BinaryOperator::Multiply) && l == interval && number_rank(r).is_some() {
            return Ok((call("pg_interval_mul", vec![left, right]), interval));
        }
        if matches!(op, BinaryOperator::Multiply) && number_rank(l).is_some() && r == interval {
            return Ok((call("pg_interval_mul", vec![right, left]), interval));
        }
        if matches!(op, BinaryOperator::Divide) && l == interval && number_rank(r).is_some() {
            let factor = call("pg_div", vec![number("1.0"), right]);
            return Ok((call("pg_interval_mul", vec![left, factor]), interval));
        }
        Err(undefined())
    }

    /// `left op ANY (array)` and `left op ALL (array)`; only `= ANY` and
    /// `<> ALL` (membership) are supported.
    pub(crate) fn any_op(
        &mut self,
        left: &mut Expr,
        op: &BinaryOperator,
        right: &mut Expr,
        all: bool,
    ) -> Result<Expr, Error> {
        let negated = match (op, all) {
            (BinaryOperator::Eq, false) => false,
            (BinaryOperator::NotEq, true) => true,
            _ => {
                return Err(Error::Unsupported(format!(
                    "{op} {}",
                    if all { "ALL" } else { "ANY" }
                )));
            }
        };
        let left_ty = self.expr(left)?;
        if let Expr::Subquery(_) = right {
            let Expr::Subquery(mut query) = take(right) else {
                return Err(Error::Unsupported("ANY".into()));
            };
            let columns = self.subquery(&mut query)?;
            let [(_, column)] = columns.as_slice() else {
                return Err(Error::Syntax("subquery has too many columns".into()));
            };
            self.unify_types(left, left_ty, *column)?;
            return Ok(Expr::In {
                expr: Box::new(take(left)),
                target: InTarget::Subquery(query),
                negated,
                global: false,
            });
        }
        let right_ty = self.expr(right)?;
        let element = match (left_ty, right_ty) {
            (_, Ty::Known(array)) => array
                .element()
                .ok_or_else(|| Error::UndefinedOperator(format!("{op} ANY on type {array}")))?,
            (Ty::Known(l), Ty::Unknown) => {
                self.coerce(right, right_ty, l.array_of(), CastKind::Implicit)?;
                l
            }
            (Ty::Unknown, Ty::Unknown) => {
                self.coerce(right, right_ty, PgType::TEXT.array_of(), CastKind::Implicit)?;
                PgType::TEXT
            }
        };
        self.unify_types(left, left_ty, element)?;
        let each = super::query::json_each_values(take(right))?;
        Ok(Expr::In {
            expr: Box::new(take(left)),
            target: InTarget::Subquery(Box::new(each)),
            negated,
            global: false,
        })
    }
}

/// The type an unknown operand takes next to a known one: the same type,
/// except that `timestamp + unknown` means an interval (and `date +
/// unknown` is ambiguous, as in PostgreSQL).
fn unknown_partner(known: PgType, op: &BinaryOperator) -> Option<PgType> {
    if is_datetime(known) && matches!(op, BinaryOperator::Plus) {
        return (known != PgType::DATE).then_some(PgType::INTERVAL);
    }
    Some(known.without_modifier())
}

/// Arithmetic on two numbers of common type `ty`.
fn number_arithmetic(left: Expr, op: &BinaryOperator, right: Expr, ty: PgType) -> Expr {
    if is_numeric(ty) {
        let symbol = match op {
            BinaryOperator::Plus => "+",
            BinaryOperator::Minus => "-",
            BinaryOperator::Multiply => "*",
            BinaryOperator::Divide => "/",
            _ => "%",
        };
        return call("pg_numeric", vec![string(symbol), left, right]);
    }
    let float = matches!(ty.scalar(), Scalar::Float4 | Scalar::Float8);
    let result = match op {
        BinaryOperator::Divide => call("pg_div", vec![left, right]),
        BinaryOperator::Modulo => call("pg_mod", vec![left, right]),
        // a stored NaN is text, which SQLite's operators would read as 0
        BinaryOperator::Plus | BinaryOperator::Minus | BinaryOperator::Multiply if float => {
            call("pg_float_arith", vec![string(op.to_string()), left, right])
        }
        _ => nested(Expr::BinaryOp {
            left: Box::new(nested(left)),
            op: op.clone(),
            right: Box::new(nested(right)),
        }),
    };
    if ty.is_integer() {
        // SQLite widens or turns an overflowing integer into a float;
        // PostgreSQL raises 22003 when the result leaves its type.
        return call(
            "pg_cast",
            vec![result, type_name(PgType::INT8), type_name(ty)],
        );
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_types_follow_postgres_resolution() {
        let common = |a: PgType, b: PgType| common_type(a, b, "CASE").map(|t| t.to_string());
        assert_eq!(common(PgType::INT4, PgType::INT8), Ok("bigint".into()));
        assert_eq!(common(PgType::INT8, PgType::NUMERIC), Ok("numeric".into()));
        assert_eq!(
            common(PgType::NUMERIC, PgType::FLOAT8),
            Ok("double precision".into())
        );
        assert_eq!(common(PgType::VARCHAR, PgType::TEXT), Ok("text".into()));
        assert_eq!(
            common(PgType::DATE, PgType::TIMESTAMPTZ),
            Ok("timestamp with time zone".into())
        );
        assert_eq!(
            common(PgType::INT4, PgType::TEXT),
            Err(Error::DatatypeMismatch(
                "CASE types integer and text cannot be matched".into()
            ))
        );
    }

    #[test]
    fn unknowns_next_to_datetimes_resolve_like_postgres() {
        // timestamp + unknown is an interval; date + unknown is ambiguous;
        // timestamptz - unknown is a timestamptz
        assert_eq!(
            unknown_partner(PgType::TIMESTAMP, &BinaryOperator::Plus),
            Some(PgType::INTERVAL)
        );
        assert_eq!(unknown_partner(PgType::DATE, &BinaryOperator::Plus), None);
        assert_eq!(
            unknown_partner(PgType::TIMESTAMPTZ, &BinaryOperator::Minus),
            Some(PgType::TIMESTAMPTZ)
        );
        assert_eq!(comparison(PgType::JSONB), Comparison::EqualityOnly);
        assert_eq!(comparison(PgType::NUMERIC), Comparison::Numeric);
    }
}
