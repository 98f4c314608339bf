//! The equality constants of an incremental query: for each table of its
//! `FROM` list, the conjuncts of `WHERE` and of inner joins' `ON` of the
//! form `column = constant` (either way round; a literal, or a cast of an
//! integer literal) or `column IN (constants)`. A row can join a result
//! row through that table only if its value of each such column is one of
//! the constants, so a change to a row matching none cannot enter the
//! result there.
//!
//! Values are compared in a loose normal form, [`Norm`], in which values
//! SQLite may find equal are equal (numbers by value whatever their
//! storage class, numeric text as its number, other text trimmed and
//! case-folded): a mismatch is certain, a match only a candidate. Only
//! columns of integer, double precision, boolean and text types take
//! part: for others (dates, numerics, `real`, uuids…) the literal is not
//! necessarily what the query compares, and the column is left
//! unconstrained.

use std::collections::BTreeSet;

use rusqlite::types::Value;
use sqlparser::ast::{
    BinaryOperator, DataType, Expr, Ident, InTarget, JoinConstraint, JoinOperator, Query, SetExpr,
    TableFactor, UnaryOperator, Value as Literal,
};

use super::plan::table_of;
use crate::translate::{Catalog, fold_identifier};
use crate::types::{PgType, Scalar};

/// A value in the loose normal form equality constants are compared in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Norm {
    Null,
    /// A number with an integral value.
    Int(i64),
    /// Any other number, by its bits.
    Float(u64),
    /// Non-numeric text, trimmed and lower-cased.
    Text(String),
    Blob(Vec<u8>),
}

/// The normal form of a stored value.
pub(crate) fn norm(value: &Value) -> Norm {
    match value {
        Value::Null => Norm::Null,
        Value::Integer(i) => Norm::Int(*i),
        Value::Real(f) => real(*f),
        Value::Text(text) => text_norm(text),
        Value::Blob(bytes) => Norm::Blob(bytes.clone()),
    }
}

fn real(f: f64) -> Norm {
    // i64::MIN is -2^63, exactly a float; 2^63 is the first out of range.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f) {
        #[expect(clippy::cast_possible_truncation, reason = "integral and in range")]
        return Norm::Int(f as i64);
    }
    Norm::Float(f.to_bits())
}

fn text_norm(text: &str) -> Norm {
    let trimmed = text.trim();
    if let Ok(i) = trimmed.parse::<i64>() {
        return Norm::Int(i);
    }
    match trimmed.parse::<f64>() {
        Ok(f) => real(f),
        Err(_) => Norm::Text(trimmed.to_lowercase()),
    }
}

/// A conjunct `column = one of values`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Constraint {
    /// The column, named as the table stores it.
    pub column: String,
    pub values: BTreeSet<Norm>,
}

impl Constraint {
    /// Whether a row whose value of the column is `value` may satisfy it.
    pub fn admits(&self, value: &Norm) -> bool {
        self.values.contains(value)
    }
}

/// A table of the `FROM` list as expressions name it.
struct Named {
    /// The alias, or else the table's name.
    qualifier: String,
    columns: Vec<(String, PgType)>,
}

/// The constraints of each table of `query`'s `FROM` list, in order;
/// `query` must be one that is maintained incrementally.
pub(crate) fn find(query: &Query, catalog: &dyn Catalog) -> Vec<Vec<Constraint>> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Vec::new();
    };
    let mut named = Vec::new();
    let mut conjuncts = Vec::new();
    if let Some(selection) = &select.selection {
        split(selection, &mut conjuncts);
    }
    for from in &select.from {
        named.extend(table(&from.relation, catalog));
        for join in &from.joins {
            named.extend(table(&join.relation, catalog));
            if let JoinOperator::Join(JoinConstraint::On(on))
            | JoinOperator::Inner(JoinConstraint::On(on)) = &join.join_operator
            {
                split(on, &mut conjuncts);
            }
        }
    }
    let mut found = vec![Vec::new(); named.len()];
    for conjunct in conjuncts {
        if let Some((index, constraint)) = constraint(conjunct, &named) {
            found[index].push(constraint);
        }
    }
    found
}

fn table(factor: &TableFactor, catalog: &dyn Catalog) -> Option<Named> {
    let TableFactor::Table { name, alias, .. } = factor else {
        return None;
    };
    let table = table_of(name);
    let qualifier = match alias {
        Some(alias) => fold_identifier(&alias.name),
        None => table.clone(),
    };
    Some(Named {
        columns: catalog.columns(&table).unwrap_or_default(),
        qualifier,
    })
}

/// The conjuncts of `expr`'s top-level `AND`s.
fn split<'a>(expr: &'a Expr, out: &mut Vec<&'a Expr>) {
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            split(left, out);
            split(right, out);
        }
        Expr::Nested(inner) => split(inner, out),
        other => out.push(other),
    }
}

/// The constraint `conjunct` puts on a table (by index), if it is one.
fn constraint(conjunct: &Expr, named: &[Named]) -> Option<(usize, Constraint)> {
    let (column, constants): (&Expr, Vec<&Expr>) = match conjunct {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => {
            if column_of(left, named).is_some() {
                (left, vec![right])
            } else {
                (right, vec![left])
            }
        }
        Expr::In {
            expr,
            target: InTarget::List(list),
            negated: false,
            global: false,
        } => (expr, list.iter().collect()),
        _ => return None,
    };
    let (index, name, ty) = column_of(column, named)?;
    let values = constants
        .into_iter()
        .map(|constant| constant_of(constant, ty))
        .collect::<Option<BTreeSet<Norm>>>()?;
    Some((
        index,
        Constraint {
            column: name,
            values,
        },
    ))
}

/// The table (by index), name and type of the column `expr` names.
fn column_of(expr: &Expr, named: &[Named]) -> Option<(usize, String, PgType)> {
    let (qualifier, column) = match expr {
        Expr::Nested(inner) => return column_of(inner, named),
        Expr::Identifier(column) => (None, column),
        Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
            (Some(&parts[parts.len() - 2]), &parts[parts.len() - 1])
        }
        _ => return None,
    };
    let column = fold_identifier(column);
    let mut matches = named.iter().enumerate().filter_map(|(index, table)| {
        if qualifier.is_some_and(|q: &Ident| fold_identifier(q) != table.qualifier) {
            return None;
        }
        let (name, ty) = table
            .columns
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&column))?;
        Some((index, name.clone(), *ty))
    });
    let found = matches.next()?;
    // An ambiguous name is an error the query reports itself.
    matches.next().is_none().then_some(found)
}

/// The normal form of constant `expr` compared with a column of type
/// `ty`, when it is certain.
fn constant_of(expr: &Expr, ty: PgType) -> Option<Norm> {
    if ty.is_array() {
        return None;
    }
    let numeric = matches!(
        ty.scalar(),
        Scalar::Int2 | Scalar::Int4 | Scalar::Int8 | Scalar::Float8
    );
    let textual = matches!(
        ty.scalar(),
        Scalar::Text | Scalar::Varchar(_) | Scalar::Name
    );
    match (expr, ty.scalar()) {
        (Expr::Nested(inner), _) => constant_of(inner, ty),
        (Expr::Value(literal), _) => match &literal.value {
            Literal::Number(digits, _) if numeric => Some(text_norm(digits)),
            Literal::SingleQuotedString(text) if numeric || textual => Some(text_norm(text)),
            Literal::Boolean(b) if ty.scalar() == Scalar::Bool => Some(Norm::Int(i64::from(*b))),
            _ => None,
        },
        (
            Expr::UnaryOp {
                op: UnaryOperator::Minus,
                expr,
            },
            _,
        ) if numeric => match constant_of(expr, ty)? {
            Norm::Int(i) => i.checked_neg().map(Norm::Int),
            Norm::Float(bits) => Some(real(-f64::from_bits(bits))),
            _ => None,
        },
        // Text keeps its value cast to unbounded text, an integer cast to
        // any number or text type.
        (
            Expr::Cast {
                expr, data_type, ..
            },
            _,
        ) if textual && unbounded_text(data_type) => constant_of(expr, ty),
        (
            Expr::Cast {
                expr, data_type, ..
            },
            _,
        ) if numeric || textual => {
            let inner = constant_of(expr, PgType::INT8)?;
            (matches!(inner, Norm::Int(_)) && number_or_text(data_type)).then_some(inner)
        }
        _ => None,
    }
}

fn unbounded_text(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Text | DataType::Varchar(None) | DataType::CharacterVarying(None)
    )
}

fn number_or_text(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::SmallInt(_)
            | DataType::Int(_)
            | DataType::Integer(_)
            | DataType::BigInt(_)
            | DataType::Int2(_)
            | DataType::Int4(_)
            | DataType::Int8(_)
            | DataType::Real
            | DataType::Float4
            | DataType::Float8
            | DataType::DoublePrecision
            | DataType::Text
            | DataType::Varchar(_)
            | DataType::CharacterVarying(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norms_equate_what_sqlite_may_find_equal() {
        assert_eq!(norm(&Value::Integer(5)), norm(&Value::Real(5.0)));
        assert_eq!(norm(&Value::Integer(5)), norm(&Value::Text(" 5 ".into())));
        assert_eq!(norm(&Value::Real(0.5)), norm(&Value::Text("0.50".into())));
        assert_eq!(
            norm(&Value::Text("Abc ".into())),
            norm(&Value::Text("abc".into()))
        );
        assert_ne!(norm(&Value::Integer(5)), norm(&Value::Integer(6)));
        assert_ne!(norm(&Value::Real(0.5)), norm(&Value::Integer(0)));
        assert_ne!(norm(&Value::Null), norm(&Value::Integer(0)));
        assert_eq!(norm(&Value::Real(-0.0)), Norm::Int(0));
    }
}
