//! Name resolution: the relations a query level can see (tables, aliased
//! subqueries, `excluded`), their columns and types, and the enclosing
//! levels a correlated subquery can reach.

use crate::error::Error;
use crate::types::PgType;

/// One relation in a `FROM` list.
#[derive(Clone, Debug)]
pub(crate) struct Relation {
    /// The name that qualifies its columns: the alias, else the table name.
    pub(crate) name: String,
    /// Its columns, in order.
    pub(crate) columns: Vec<(String, PgType)>,
    /// Its primary key columns, if it is a table that has one.
    pub(crate) key: Vec<String>,
}

/// The relations of one query level.
#[derive(Clone, Debug, Default)]
pub(crate) struct Scope {
    pub(crate) relations: Vec<Relation>,
    /// Columns joined with `USING` or `NATURAL`: one column, not ambiguous.
    pub(crate) merged: Vec<String>,
}

/// The stack of scopes, innermost last.
#[derive(Debug, Default)]
pub(crate) struct Scopes {
    levels: Vec<Scope>,
}

impl Scopes {
    /// Enters a new query level.
    pub(crate) fn push(&mut self, scope: Scope) {
        self.levels.push(scope);
    }

    /// Leaves the innermost query level.
    pub(crate) fn pop(&mut self) -> Option<Scope> {
        self.levels.pop()
    }

    /// Adds a relation to the innermost level.
    pub(crate) fn add(&mut self, relation: Relation) -> Result<(), Error> {
        let level = self
            .levels
            .last_mut()
            .ok_or_else(|| Error::Unsupported("relation outside a query".into()))?;
        if level.relations.iter().any(|r| r.name == relation.name) {
            return Err(Error::DatatypeMismatch(format!(
                "table name \"{}\" specified more than once",
                relation.name
            )));
        }
        level.relations.push(relation);
        Ok(())
    }

    /// Marks a column as joined with `USING`/`NATURAL` in the innermost
    /// level.
    pub(crate) fn merge_column(&mut self, column: &str) -> Result<(), Error> {
        let level = self
            .levels
            .last_mut()
            .ok_or_else(|| Error::Unsupported("USING outside a query".into()))?;
        let holders = level
            .relations
            .iter()
            .filter(|r| r.columns.iter().any(|(name, _)| name == column))
            .count();
        if holders < 2 {
            return Err(Error::UndefinedColumnIn {
                column: column.to_string(),
                context: "specified in USING clause".into(),
            });
        }
        level.merged.push(column.to_string());
        Ok(())
    }

    /// Whether the innermost level joined columns with `USING`/`NATURAL`.
    pub(crate) fn has_merged_columns(&self) -> bool {
        self.levels.last().is_some_and(|s| !s.merged.is_empty())
    }

    /// The relations of the innermost level.
    pub(crate) fn innermost(&self) -> &[Relation] {
        self.levels.last().map_or(&[], |s| s.relations.as_slice())
    }

    /// The type of a column reference, searching the innermost level first.
    pub(crate) fn resolve(&self, qualifier: Option<&str>, column: &str) -> Result<PgType, Error> {
        for level in self.levels.iter().rev() {
            let mut found = None;
            for relation in &level.relations {
                if qualifier.is_some_and(|q| q != relation.name) {
                    continue;
                }
                if let Some((_, ty)) = relation.columns.iter().find(|(name, _)| name == column) {
                    if found.is_some()
                        && qualifier.is_none()
                        && level.merged.iter().any(|m| m == column)
                    {
                        continue;
                    }
                    if found.is_some() {
                        return Err(Error::AmbiguousColumn(column.into()));
                    }
                    found = Some(*ty);
                }
            }
            if let Some(ty) = found {
                return Ok(ty);
            }
        }
        Err(match qualifier {
            Some(q)
                if !self
                    .levels
                    .iter()
                    .any(|l| l.relations.iter().any(|r| r.name == q)) =>
            {
                Error::MissingFromEntry(q.into())
            }
            Some(q) => Error::UndefinedColumn(format!("{q}.{column}")),
            None => Error::UndefinedColumn(column.into()),
        })
    }

    /// The relation named `name` in the innermost level.
    pub(crate) fn relation(&self, name: &str) -> Option<&Relation> {
        self.innermost().iter().find(|r| r.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relation(name: &str, columns: &[(&str, PgType)]) -> Relation {
        Relation {
            name: name.into(),
            columns: columns.iter().map(|(n, t)| (n.to_string(), *t)).collect(),
            key: Vec::new(),
        }
    }

    #[test]
    fn resolves_inner_first_and_reports_ambiguity() {
        let mut scopes = Scopes::default();
        scopes.push(Scope::default());
        scopes
            .add(relation(
                "outer_t",
                &[("id", PgType::INT8), ("x", PgType::TEXT)],
            ))
            .expect("add");
        scopes.push(Scope::default());
        scopes
            .add(relation("a", &[("id", PgType::INT4)]))
            .expect("add");
        scopes
            .add(relation("b", &[("id", PgType::INT2)]))
            .expect("add");
        assert_eq!(scopes.resolve(Some("b"), "id"), Ok(PgType::INT2));
        assert_eq!(scopes.resolve(None, "x"), Ok(PgType::TEXT));
        assert_eq!(
            scopes.resolve(None, "id"),
            Err(Error::AmbiguousColumn("id".into()))
        );
        assert!(matches!(
            scopes.resolve(None, "nope"),
            Err(Error::UndefinedColumn(_))
        ));
        assert!(matches!(
            scopes.resolve(Some("zz"), "id"),
            Err(Error::MissingFromEntry(_))
        ));
        assert!(scopes.add(relation("a", &[])).is_err());
        scopes.merge_column("id").expect("merge");
        assert_eq!(scopes.resolve(None, "id"), Ok(PgType::INT4));
        assert!(scopes.merge_column("x").is_err());
        scopes.pop();
        assert_eq!(scopes.resolve(None, "id"), Ok(PgType::INT8));
    }
}
