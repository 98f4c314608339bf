//! The grouping rule (42803): in a grouped `SELECT` (one with `GROUP BY`,
//! `HAVING` or an aggregate), a column of the query's own `FROM` list may
//! appear in the select list or `HAVING` only inside an aggregate, inside
//! an expression that is grouped, or when its relation's primary key is
//! grouped (the column then depends on the key), as PostgreSQL's
//! `check_ungrouped_columns` does. Subqueries are not looked into.
//!
//! The check reads the statement as written, before translation renames
//! functions, and runs after the statement translated, so that errors
//! PostgreSQL finds first (an unknown column, a type mismatch) win.

use sqlparser::ast::{
    Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, InTarget,
    SelectItem, SelectItemQualifiedWildcardKind, WindowType,
};

use super::coerce::literal;
use super::names::fold;
use super::scope::Relation;
use crate::error::Error;

/// PostgreSQL's aggregate functions that patina runs.
pub(crate) fn is_aggregate(name: &str) -> bool {
    matches!(
        name,
        "count"
            | "sum"
            | "avg"
            | "min"
            | "max"
            | "bool_and"
            | "bool_or"
            | "every"
            | "string_agg"
            | "array_agg"
    )
}

/// The parts of a `SELECT` the rule reads, as written.
pub(crate) struct Grouped {
    projection: Vec<SelectItem>,
    group_by: Vec<Expr>,
    having: Option<Expr>,
}

impl Grouped {
    /// The parts of a `SELECT` to check once it has translated, or `None`
    /// when it is not grouped.
    pub(crate) fn of(
        projection: &[SelectItem],
        group_by: &GroupByExpr,
        having: Option<&Expr>,
    ) -> Option<Grouped> {
        let group_by = match group_by {
            GroupByExpr::Expressions(exprs, _) => exprs.clone(),
            GroupByExpr::All(_) => return None,
        };
        let aggregated = projection.iter().any(|item| match item {
            SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } => {
                has_aggregate(expr)
            }
            _ => false,
        });
        (aggregated || having.is_some() || !group_by.is_empty()).then(|| Grouped {
            projection: projection.to_vec(),
            group_by,
            having: having.cloned(),
        })
    }

    /// Checks the rule against the relations of the query's own level.
    pub(crate) fn check(&self, relations: &[Relation]) -> Result<(), Error> {
        let grouping = Grouping {
            relations,
            keys: self.group_keys(relations),
        };
        for item in &self.projection {
            match item {
                SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } => {
                    grouping.check(expr)?;
                }
                SelectItem::Wildcard(_) => {
                    for relation in relations {
                        grouping.check_relation(relation)?;
                    }
                }
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(name),
                    _,
                ) => {
                    let qualifier = name.0.last().and_then(|part| part.as_ident()).map(fold);
                    for relation in relations {
                        if qualifier.as_deref() == Some(relation.name.as_str()) {
                            grouping.check_relation(relation)?;
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(having) = &self.having {
            grouping.check(having)?;
        }
        Ok(())
    }

    /// The `GROUP BY` expressions, with output positions (`GROUP BY 1`)
    /// and output names that are not input columns replaced by the select
    /// list's expressions, as PostgreSQL resolves them.
    fn group_keys(&self, relations: &[Relation]) -> Vec<Expr> {
        let outputs: Vec<(Option<String>, &Expr)> = self
            .projection
            .iter()
            .filter_map(|item| match item {
                SelectItem::UnnamedExpr(expr) => Some((None, expr)),
                SelectItem::ExprWithAlias { expr, alias } => Some((Some(fold(alias)), expr)),
                _ => None,
            })
            .collect();
        self.group_by
            .iter()
            .map(|key| {
                if let Some((rusqlite::types::Value::Integer(position), _)) = literal(key)
                    && let Some((_, expr)) = usize::try_from(position)
                        .ok()
                        .and_then(|p| p.checked_sub(1))
                        .and_then(|p| outputs.get(p))
                {
                    return (*expr).clone();
                }
                if let Expr::Identifier(ident) = key
                    && column(relations, key).is_none()
                    && let Some((_, expr)) = outputs
                        .iter()
                        .find(|(name, _)| name.as_deref() == Some(fold(ident).as_str()))
                {
                    return (*expr).clone();
                }
                key.clone()
            })
            .collect()
    }
}

/// The relation and column name a column reference of the query's own
/// level names; `None` for anything else (an outer column, an ambiguous
/// or unknown name, which translation reports).
fn column<'a>(relations: &'a [Relation], expr: &Expr) -> Option<(&'a Relation, String)> {
    let (qualifier, name) = match expr {
        Expr::Identifier(ident) => (None, fold(ident)),
        Expr::CompoundIdentifier(parts) => match parts.as_slice() {
            [table, column] | [_, table, column] => (Some(fold(table)), fold(column)),
            _ => return None,
        },
        _ => return None,
    };
    let mut holders = relations.iter().filter(|relation| {
        qualifier.as_ref().is_none_or(|q| *q == relation.name)
            && relation.columns.iter().any(|(n, _)| *n == name)
    });
    let first = holders.next()?;
    holders.next().is_none().then_some((first, name))
}

struct Grouping<'a> {
    relations: &'a [Relation],
    keys: Vec<Expr>,
}

impl Grouping<'_> {
    fn is_key(&self, expr: &Expr) -> bool {
        let named = column(self.relations, expr);
        self.keys
            .iter()
            .any(|key| match (&named, column(self.relations, key)) {
                (Some((relation, name)), Some((key_relation, key_name))) => {
                    relation.name == key_relation.name && *name == key_name
                }
                _ => key == expr,
            })
    }

    /// Whether every primary key column of `relation` is grouped.
    fn key_grouped(&self, relation: &Relation) -> bool {
        !relation.key.is_empty()
            && relation.key.iter().all(|key_column| {
                self.keys.iter().any(|key| {
                    column(self.relations, key)
                        .is_some_and(|(r, name)| r.name == relation.name && name == *key_column)
                })
            })
    }

    fn check_relation(&self, relation: &Relation) -> Result<(), Error> {
        for (name, _) in &relation.columns {
            let grouped = self.key_grouped(relation)
                || self.keys.iter().any(|key| {
                    column(self.relations, key)
                        .is_some_and(|(r, n)| r.name == relation.name && n == *name)
                });
            if !grouped {
                return Err(ungrouped(relation, name));
            }
        }
        Ok(())
    }

    fn check(&self, expr: &Expr) -> Result<(), Error> {
        if self.is_key(expr) {
            return Ok(());
        }
        if let Some((relation, name)) = column(self.relations, expr) {
            return if self.key_grouped(relation) {
                Ok(())
            } else {
                Err(ungrouped(relation, &name))
            };
        }
        match expr {
            Expr::Function(function) => {
                let name = function
                    .name
                    .0
                    .last()
                    .and_then(|part| part.as_ident())
                    .map(fold)
                    .unwrap_or_default();
                // an aggregate over a window is computed per row, after grouping
                if is_aggregate(&name) && function.over.is_none() {
                    return Ok(());
                }
                if let Some(WindowType::WindowSpec(spec)) = &function.over {
                    for expr in spec
                        .partition_by
                        .iter()
                        .chain(spec.order_by.iter().map(|o| &o.expr))
                    {
                        self.check(expr)?;
                    }
                }
                if let FunctionArguments::List(list) = &function.args {
                    for arg in &list.args {
                        if let FunctionArg::Unnamed(FunctionArgExpr::Expr(arg)) = arg {
                            self.check(arg)?;
                        }
                    }
                }
                Ok(())
            }
            _ => children(expr)
                .into_iter()
                .try_for_each(|child| self.check(child)),
        }
    }
}

fn ungrouped(relation: &Relation, column: &str) -> Error {
    if relation.name.is_empty() {
        Error::Grouping(column.into())
    } else {
        Error::Grouping(format!("{}.{column}", relation.name))
    }
}

/// Whether an aggregate is called in `expr` (outside subqueries).
pub(crate) fn has_aggregate(expr: &Expr) -> bool {
    calls(expr, &|function| {
        let name = function
            .name
            .0
            .last()
            .and_then(|part| part.as_ident())
            .map(fold)
            .unwrap_or_default();
        is_aggregate(&name) && function.over.is_none()
    })
}

/// Whether a window function is called in `expr` (outside subqueries).
pub(crate) fn has_window_function(expr: &Expr) -> bool {
    calls(expr, &|function| function.over.is_some())
}

/// Whether `expr` calls a function that is `wanted`.
fn calls(expr: &Expr, wanted: &dyn Fn(&Function) -> bool) -> bool {
    match expr {
        Expr::Function(function) => {
            wanted(function)
                || match &function.args {
                    FunctionArguments::List(list) => list.args.iter().any(|arg| {
                        matches!(arg, FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) if calls(e, wanted))
                    }),
                    _ => false,
                }
        }
        other => children(other).into_iter().any(|child| calls(child, wanted)),
    }
}

/// The operands of the expression forms the rule looks into; subqueries
/// and forms without column operands have none.
fn children(expr: &Expr) -> Vec<&Expr> {
    match expr {
        Expr::BinaryOp { left, right, .. } => vec![left, right],
        Expr::UnaryOp { expr, .. }
        | Expr::Nested(expr)
        | Expr::Cast { expr, .. }
        | Expr::IsNull(expr)
        | Expr::IsNotNull(expr)
        | Expr::IsTrue(expr)
        | Expr::IsNotTrue(expr)
        | Expr::IsFalse(expr)
        | Expr::IsNotFalse(expr)
        | Expr::Collate { expr, .. }
        | Expr::Extract { expr, .. } => vec![expr],
        Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b) => vec![a, b],
        Expr::Between {
            expr, low, high, ..
        } => vec![expr, low, high],
        Expr::Like { expr, pattern, .. } | Expr::ILike { expr, pattern, .. } => {
            vec![expr, pattern]
        }
        Expr::In { expr, target, .. } => match target {
            InTarget::List(list) => std::iter::once(&**expr).chain(list).collect(),
            _ => vec![expr],
        },
        Expr::Tuple(items) => items.iter().collect(),
        Expr::Array(array) => array.elem.iter().collect(),
        Expr::AnyOp { left, right, .. } | Expr::AllOp { left, right, .. } => vec![left, right],
        Expr::Substring {
            expr,
            substring_from,
            substring_for,
            ..
        } => std::iter::once(&**expr)
            .chain(substring_from.as_deref())
            .chain(substring_for.as_deref())
            .collect(),
        Expr::Case {
            operand,
            conditions,
            else_result,
            ..
        } => operand
            .as_deref()
            .into_iter()
            .chain(
                conditions
                    .iter()
                    .flat_map(|when| [&when.condition, &when.result]),
            )
            .chain(else_result.as_deref())
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::PgType;
    use sqlparser::ast::{SetExpr, Statement};
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;

    fn check(sql: &str, key: &[&str]) -> Result<(), Error> {
        let relations = [Relation {
            name: "t".into(),
            columns: vec![
                ("id".into(), PgType::INT4),
                ("name".into(), PgType::TEXT),
                ("qty".into(), PgType::INT4),
            ],
            key: key.iter().map(|k| k.to_string()).collect(),
        }];
        let statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).expect("parses");
        let Some(Statement::Query(query)) = statements.first() else {
            panic!("not a query: {sql}");
        };
        let SetExpr::Select(select) = query.body.as_ref() else {
            panic!("not a select: {sql}");
        };
        match Grouped::of(&select.projection, &select.group_by, select.having.as_ref()) {
            Some(grouped) => grouped.check(&relations),
            None => Ok(()),
        }
    }

    #[test]
    fn ungrouped_columns_fail_like_postgres_15() {
        // ERROR 42803: column "t.name" must appear in the GROUP BY clause …
        let ungrouped = Err(Error::Grouping("t.name".into()));
        assert_eq!(check("SELECT name, count(*) FROM t", &[]), ungrouped);
        assert_eq!(
            check("SELECT name, count(*) FROM t GROUP BY qty", &[]),
            ungrouped
        );
        assert_eq!(
            check("SELECT qty FROM t GROUP BY qty HAVING name = 'a'", &[]),
            ungrouped
        );
        assert_eq!(
            check("SELECT * FROM t GROUP BY id, qty", &[]),
            Err(Error::Grouping("t.name".into()))
        );
        assert_eq!(
            check("SELECT name, count(*) FROM t GROUP BY id", &[]),
            ungrouped
        );
        assert_eq!(
            check(
                "SELECT qty, rank() OVER (ORDER BY name) FROM t GROUP BY qty",
                &[]
            ),
            ungrouped
        );
    }

    #[test]
    fn grouped_expressions_aggregates_and_key_dependents_pass() {
        for sql in [
            "SELECT name, count(*) FROM t GROUP BY name",
            "SELECT t.name, count(*) FROM t GROUP BY name",
            "SELECT name AS n, sum(qty) FROM t GROUP BY 1",
            "SELECT upper(name) AS u FROM t GROUP BY u",
            "SELECT upper(name), max(qty) + 1 FROM t GROUP BY upper(name)",
            "SELECT count(*), sum(qty * 2) FROM t",
            "SELECT name FROM t",
            "SELECT qty FROM t GROUP BY qty HAVING count(*) > 1",
            "SELECT CASE WHEN qty > 1 THEN 'many' END FROM t GROUP BY qty",
            "SELECT 1 FROM t GROUP BY name",
            "SELECT id, row_number() OVER (PARTITION BY name ORDER BY qty) FROM t",
            "SELECT name, sum(sum(qty)) OVER (ORDER BY name) FROM t GROUP BY name",
        ] {
            assert_eq!(check(sql, &[]), Ok(()), "{sql}");
        }
        // PostgreSQL: the other columns depend on a grouped primary key
        assert_eq!(
            check("SELECT id, name, qty FROM t GROUP BY id", &["id"]),
            Ok(())
        );
        assert_eq!(check("SELECT * FROM t GROUP BY t.id", &["id"]), Ok(()));
    }
}
