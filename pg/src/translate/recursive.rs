//! `WITH RECURSIVE`, which SQLite runs natively: a recursive query's
//! columns take their types from its non-recursive term, and the
//! recursive term must produce the same types, as in PostgreSQL.

use sqlparser::ast::{Cte, SetExpr, SetOperator};

use super::context::Translator;
use super::names::fold;
use super::operators::common_type;
use super::query::{Columns, rename_columns};
use crate::error::Error;

impl Translator<'_> {
    /// Translates one query of a `WITH RECURSIVE` list and returns its
    /// columns, renamed by the query's column list.
    pub(crate) fn recursive_cte(&mut self, cte: &mut Cte) -> Result<Columns, Error> {
        let name = fold(&cte.alias.name);
        let query = cte.query.as_mut();
        let SetExpr::SetOperation {
            op: SetOperator::Union,
            left,
            right,
            ..
        } = query.body.as_mut()
        else {
            // not of the recursive form: an ordinary `WITH` query
            let columns = self.query(query)?;
            return rename_columns(columns, &cte.alias);
        };
        if query.with.is_some()
            || query.order_by.is_some()
            || query.limit_clause.is_some()
            || !query.locks.is_empty()
        {
            return Err(Error::Unsupported(
                "WITH, ORDER BY, LIMIT or FOR UPDATE in a recursive query".into(),
            ));
        }
        let columns = rename_columns(self.set_expr(left)?, &cte.alias)?;
        self.ctes.push((name.clone(), columns.clone()));
        let recursive = self.set_expr(right);
        self.ctes.pop();
        let recursive = recursive?;
        if recursive.len() != columns.len() {
            return Err(Error::Syntax(
                "each UNION query must have the same number of columns".into(),
            ));
        }
        for (index, ((_, first), (_, then))) in columns.iter().zip(&recursive).enumerate() {
            let overall = common_type(*first, *then, "UNION")?;
            if overall.without_modifier() != first.without_modifier() {
                return Err(Error::DatatypeMismatch(format!(
                    "recursive query \"{name}\" column {} has type {first} in non-recursive term \
                     but type {overall} overall",
                    index + 1
                )));
            }
        }
        Ok(columns)
    }
}
