//! The bitwise operators on integers: `&`, `|` and `#` (exclusive or),
//! typed as PostgreSQL types them (the wider of the two integer types;
//! an untyped operand takes the other's type).

use sqlparser::ast::{BinaryOperator, Expr};

use super::coerce::CastKind;
use super::context::{Translator, Ty, nested, take};
use super::operators::common_type;
use crate::error::Error;
use crate::types::PgType;

/// Whether `op` is one of the bitwise operators this file translates.
pub(crate) fn is_bitwise(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::BitwiseAnd | BinaryOperator::BitwiseOr | BinaryOperator::PGBitwiseXor
    )
}

impl Translator<'_> {
    /// Rewrites `left op right` for a bitwise `op` and returns its type.
    pub(crate) fn bitwise(&mut self, expr: &mut Expr) -> Result<Ty, Error> {
        let Expr::BinaryOp { left, op, right } = expr else {
            return Err(Error::Unsupported(format!("expression {expr}")));
        };
        let left_ty = self.expr(left)?;
        let right_ty = self.expr(right)?;
        let ty = match (left_ty, right_ty) {
            (Ty::Known(l), Ty::Known(r)) if l.is_integer() && r.is_integer() => {
                common_type(l, r, "bitwise")?
            }
            (Ty::Known(t), Ty::Unknown) | (Ty::Unknown, Ty::Known(t)) if t.is_integer() => t,
            (Ty::Unknown, Ty::Unknown) => PgType::INT4,
            (l, r) => {
                return Err(Error::UndefinedOperator(format!(
                    "operator does not exist: {} {op} {}",
                    l.or_text(),
                    r.or_text()
                )));
            }
        };
        self.coerce(left, left_ty, ty, CastKind::Implicit)?;
        self.coerce(right, right_ty, ty, CastKind::Implicit)?;
        let (l, r) = (take(left), take(right));
        let both = |op: BinaryOperator, l: Expr, r: Expr| {
            nested(Expr::BinaryOp {
                left: Box::new(l),
                op,
                right: Box::new(r),
            })
        };
        *expr = match op {
            BinaryOperator::BitwiseAnd => both(BinaryOperator::BitwiseAnd, l, r),
            BinaryOperator::BitwiseOr => both(BinaryOperator::BitwiseOr, l, r),
            // SQLite has no exclusive or: (a | b) & ~(a & b)
            _ => {
                let any = both(BinaryOperator::BitwiseOr, l.clone(), r.clone());
                let common = both(BinaryOperator::BitwiseAnd, l, r);
                let not_common = nested(Expr::UnaryOp {
                    op: sqlparser::ast::UnaryOperator::BitwiseNot,
                    expr: Box::new(common),
                });
                both(BinaryOperator::BitwiseAnd, any, not_common)
            }
        };
        Ok(Ty::Known(ty))
    }
}
