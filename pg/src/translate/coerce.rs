//! Coercion: turning an expression into a value of another type, as
//! PostgreSQL's implicit, assignment and explicit casts do. Constants fold
//! at translation time (a bad literal fails here, as in PostgreSQL);
//! parameters take the target type; anything else gets a `pg_cast` or
//! `pg_assign` call where the stored form changes.

use rusqlite::types::Value as SqlValue;
use sqlparser::ast::{Expr, UnaryOperator, Value};

use super::context::{Translator, Ty, call, number, string, take, type_name};
use crate::error::Error;
use crate::types::{PgType, Scalar};
use crate::values::cast::{Context, cast};

/// The rank of a number type in PostgreSQL's implicit promotions.
pub(crate) fn number_rank(ty: PgType) -> Option<u8> {
    if ty.is_array() {
        return None;
    }
    match ty.scalar() {
        Scalar::Int2 => Some(1),
        Scalar::Int4 => Some(2),
        Scalar::Int8 => Some(3),
        Scalar::Numeric(_) => Some(4),
        Scalar::Float4 => Some(5),
        Scalar::Float8 => Some(6),
        _ => None,
    }
}

fn datetime_rank(ty: PgType) -> Option<u8> {
    match (ty.is_array(), ty.scalar()) {
        (false, Scalar::Date) => Some(1),
        (false, Scalar::Timestamp) => Some(2),
        (false, Scalar::Timestamptz) => Some(3),
        _ => None,
    }
}

/// Which casts a conversion may use, as in PostgreSQL: an operand takes
/// implicit casts only, a value stored into a column assignment casts too,
/// and a cast written in SQL anything the run-time conversion accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CastKind {
    Implicit,
    Assignment,
    Explicit,
}

/// Whether PostgreSQL converts `from` to `to` with a cast of this kind.
pub(crate) fn allowed(from: PgType, to: PgType, kind: CastKind) -> bool {
    if kind == CastKind::Explicit || from.without_modifier() == to.without_modifier() {
        return true;
    }
    if from.is_array() || to.is_array() {
        return match (from.element(), to.element()) {
            (Some(f), Some(t)) => allowed(f, t, kind),
            _ => false,
        };
    }
    let assignment = kind == CastKind::Assignment;
    if let (Some(f), Some(t)) = (number_rank(from), number_rank(to)) {
        return f < t || assignment;
    }
    if let (Some(f), Some(t)) = (datetime_rank(from), datetime_rank(to)) {
        return f < t || assignment;
    }
    if to.scalar() == Scalar::Oid && from.is_integer() {
        return true;
    }
    // `oid` and `regclass` convert to each other implicitly, as integers to both
    if matches!(
        (from.scalar(), to.scalar()),
        (
            Scalar::Oid | Scalar::Int2 | Scalar::Int4 | Scalar::Int8,
            Scalar::Regclass
        ) | (Scalar::Regclass, Scalar::Oid)
    ) {
        return true;
    }
    if to.is_string() {
        return from.is_string() || from == PgType::CHAR || assignment;
    }
    assignment
        && matches!(
            (from.scalar(), to.scalar()),
            (Scalar::Json, Scalar::Jsonb)
                | (Scalar::Jsonb, Scalar::Json)
                | (Scalar::Timestamp | Scalar::Timestamptz, Scalar::Time)
        )
}

/// Whether a value stored as `from` must be rewritten to be stored as `to`.
fn needs_conversion(from: PgType, to: PgType) -> bool {
    if from == to || (to.typmod() == -1 && from.without_modifier() == to) {
        return false;
    }
    if from.is_integer() && to.is_integer() {
        return number_rank(from) > number_rank(to);
    }
    if matches!(
        (from.scalar(), to.scalar()),
        (Scalar::Oid, Scalar::Regclass) | (Scalar::Regclass, Scalar::Oid)
    ) {
        return false;
    }
    // a stored `"char"` is already its text
    if from == PgType::CHAR && to == PgType::TEXT {
        return false;
    }
    if from.is_integer() && matches!(to.scalar(), Scalar::Float8) && !to.is_array() {
        return false;
    }
    if from.is_string() && to.is_string() {
        let from_bpchar = matches!(from.scalar(), Scalar::Bpchar(_));
        // a `name` is cut to 63 bytes
        return to.typmod() != -1
            || to.scalar() == Scalar::Name
            || (from_bpchar && !matches!(to.scalar(), Scalar::Bpchar(_)));
    }
    true
}

/// The constant a literal expression denotes, with its type (`None` for an
/// untyped string), or `None` when the expression is not a literal.
pub(crate) fn literal(expr: &Expr) -> Option<(SqlValue, Option<PgType>)> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => Some((SqlValue::Text(s.clone()), None)),
            Value::Number(n, _) => match n.parse::<i64>() {
                Ok(i) => Some((SqlValue::Integer(i), Some(PgType::INT8))),
                Err(_) => Some((SqlValue::Text(n.clone()), Some(PgType::NUMERIC))),
            },
            Value::Boolean(b) => Some((SqlValue::Integer(i64::from(*b)), Some(PgType::BOOL))),
            _ => None,
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match literal(expr)? {
            (SqlValue::Integer(i), ty) => Some((SqlValue::Integer(i.checked_neg()?), ty)),
            (SqlValue::Text(t), Some(ty)) => Some((SqlValue::Text(format!("-{t}")), Some(ty))),
            _ => None,
        },
        _ => None,
    }
}

/// The SQL literal for a stored value.
pub(crate) fn value_expr(value: SqlValue) -> Expr {
    match value {
        SqlValue::Null => Expr::value(Value::Null),
        SqlValue::Integer(i) => number(i),
        SqlValue::Real(f) if f.is_finite() => float_literal(f),
        // NaN is stored as text (see `crate::types`)
        SqlValue::Real(f) if f.is_nan() => string("NaN"),
        SqlValue::Real(f) => number(if f > 0.0 { "9e999" } else { "-9e999" }),
        SqlValue::Text(t) => string(t),
        SqlValue::Blob(b) => Expr::value(Value::HexStringLiteral(
            b.iter().map(|byte| format!("{byte:02X}")).collect(),
        )),
    }
}

/// A finite float constant, in a form SQLite reads back exactly. SQLite's
/// decimal reader is off by a bit for some numbers written with an
/// exponent (`1e-300` reads as `9.999999999999999e-301`): those are
/// converted from their text at run time, by Rust's exact reader.
fn float_literal(f: f64) -> Expr {
    // `{:?}` is the shortest text that reads back as `f`; it has an
    // exponent outside 1e-5 ≤ |f| < 1e16
    let text = format!("{f:?}");
    if text.contains('e') {
        call(
            "pg_cast",
            vec![
                string(text),
                Expr::value(Value::Null),
                type_name(PgType::FLOAT8),
            ],
        )
    } else {
        number(text)
    }
}

/// The parameter number of a rewritten placeholder `?n`.
pub(crate) fn placeholder(expr: &Expr) -> Option<usize> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::Placeholder(p) => p.strip_prefix('?')?.parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

impl Translator<'_> {
    /// Converts `expr`, of type `ty`, to `target` with a cast of `kind`.
    pub(crate) fn coerce(
        &mut self,
        expr: &mut Expr,
        ty: Ty,
        target: PgType,
        kind: CastKind,
    ) -> Result<(), Error> {
        if self.regclass_cast(expr, ty, target)? {
            return Ok(());
        }
        let context = if kind == CastKind::Assignment {
            Context::Assignment
        } else {
            Context::Explicit
        };
        if let Ty::Known(from) = ty
            && !allowed(from, target, kind)
        {
            return Err(match kind {
                CastKind::Assignment => Error::DatatypeMismatch(format!(
                    "value of type {from} cannot be stored as type {target}"
                )),
                _ => Error::UndefinedOperator(format!("no implicit cast from {from} to {target}")),
            });
        }
        if ty == Ty::Unknown {
            // `('')::date` is the literal's cast, `($1)::int2` the
            // parameter's: the parentheses must not hide them.
            while let Expr::Nested(inner) = expr {
                *expr = take(inner);
            }
        }
        if let (Some(number), Ty::Unknown) = (placeholder(expr), ty) {
            self.params.set(number, target);
        }
        let function = if context == Context::Assignment {
            "pg_assign"
        } else {
            "pg_cast"
        };
        if let Some((value, literal_type)) = literal(expr) {
            let from = ty.known().or(literal_type);
            let error = match cast(value.clone(), from, target, context) {
                Ok(folded) => {
                    *expr = value_expr(folded);
                    return Ok(());
                }
                Err(error) => error,
            };
            // PostgreSQL reads an untyped literal with its type's input
            // function while parsing, but converts a typed constant, and
            // applies a type modifier (`varchar(3)`, `numeric(3,0)`), only
            // when the statement runs: those errors wait for the run too.
            if !error.sqlstate().starts_with("22") {
                return Err(error);
            }
            let (value, from) = match from {
                Some(from) => (value, Some(from)),
                None => {
                    let unmodified = target.without_modifier();
                    match cast(value, None, unmodified, context) {
                        Ok(read) => (read, Some(unmodified)),
                        Err(_) => return Err(error),
                    }
                }
            };
            let from_arg = from.map_or(Expr::value(Value::Null), type_name);
            *expr = call(
                function,
                vec![value_expr(value), from_arg, type_name(target)],
            );
            return Ok(());
        }
        let from = match ty {
            Ty::Unknown if matches!(expr, Expr::Value(v) if v.value == Value::Null) => {
                return Ok(());
            }
            // Text of no type yet (a parameter, a `CASE` of literals) is
            // read by the target's input function when the statement runs.
            Ty::Unknown => {
                if target.is_string() && target.typmod() == -1 {
                    return Ok(());
                }
                None
            }
            Ty::Known(from) if !needs_conversion(from, target) => return Ok(()),
            Ty::Known(from) => Some(from),
        };
        let from_arg = from.map_or(Expr::value(Value::Null), type_name);
        *expr = call(function, vec![take(expr), from_arg, type_name(target)]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implicit_casts_follow_postgres() {
        let e = CastKind::Implicit;
        let a = CastKind::Assignment;
        assert!(allowed(PgType::INT4, PgType::INT8, e));
        assert!(!allowed(PgType::INT8, PgType::INT4, e));
        assert!(allowed(PgType::INT8, PgType::INT4, a));
        assert!(allowed(PgType::INT4, PgType::NUMERIC, e));
        assert!(allowed(PgType::NUMERIC, PgType::FLOAT8, e));
        assert!(allowed(PgType::DATE, PgType::TIMESTAMPTZ, e));
        assert!(!allowed(PgType::TEXT, PgType::JSONB, a));
        assert!(!allowed(PgType::INT4, PgType::TEXT, e));
        assert!(allowed(PgType::INT4, PgType::TEXT, a));
        assert!(!allowed(PgType::BOOL, PgType::INT4, a));
        assert!(allowed(PgType::INT4.array_of(), PgType::INT8.array_of(), e));
    }

    #[test]
    fn plain_float_literals_read_back_exactly_in_sqlite() {
        let conn = rusqlite::Connection::open_in_memory().expect("open");
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut checked = 0;
        while checked < 20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let f = f64::from_bits(state);
            let Expr::Value(v) = float_literal(f) else {
                continue;
            };
            if !f.is_finite() {
                continue;
            };
            let read: f64 = conn
                .query_row(&format!("SELECT {v}"), [], |r| r.get(0))
                .expect("reads");
            assert_eq!(read.to_bits(), f.to_bits(), "{v}");
            checked += 1;
        }
        assert!(matches!(float_literal(1e-300), Expr::Function(_)));
    }

    #[test]
    fn conversion_only_where_the_stored_form_changes() {
        assert!(!needs_conversion(PgType::INT4, PgType::INT8));
        assert!(needs_conversion(PgType::INT8, PgType::INT4));
        assert!(!needs_conversion(PgType::VARCHAR, PgType::TEXT));
        assert!(needs_conversion(
            PgType::TEXT,
            PgType::from_name("varchar(3)").expect("type")
        ));
        assert!(needs_conversion(PgType::INT4, PgType::NUMERIC));
    }
}
