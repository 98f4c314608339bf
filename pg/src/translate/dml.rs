//! `INSERT`, `UPDATE` and `DELETE`: values converted to their columns'
//! stored forms (as PostgreSQL's assignment casts), `ON CONFLICT … DO
//! UPDATE/NOTHING` with `excluded`, and `RETURNING`, all of which SQLite
//! runs natively once the expressions are translated.

use sqlparser::ast::{
    Assignment, AssignmentTarget, ConflictTarget, Delete, Expr, FromTable, Insert,
    OnConflictAction, OnInsert, SelectItem, SetExpr, TableFactor, TableObject, TableWithJoins,
    Update, UpdateTableFromKind, Value,
};

use super::coerce::CastKind;
use super::context::{Translator, call, string, take};
use super::names::{alias_name, fold, object_name, table_name, unqualified};
use super::query::Columns;
use super::scope::{Relation, Scope};
use crate::error::Error;
use crate::types::PgType;

fn column_type(columns: &[(String, PgType)], table: &str, name: &str) -> Result<PgType, Error> {
    columns
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, ty)| *ty)
        .ok_or_else(|| Error::UndefinedColumnIn {
            column: name.to_owned(),
            context: format!("of relation \"{table}\""),
        })
}

fn is_default_keyword(expr: &Expr) -> bool {
    matches!(expr, Expr::Identifier(ident) if ident.quote_style.is_none() && ident.value.eq_ignore_ascii_case("default"))
}

/// The names of `columns`, quoted, for an `INSERT`'s column list.
fn column_names(columns: &[(String, PgType)]) -> Vec<sqlparser::ast::ObjectName> {
    columns
        .iter()
        .map(|(name, _)| object_name(sqlparser::ast::Ident::with_quote('"', name)))
        .collect()
}

/// Drops the columns that every `VALUES` row sets to `DEFAULT` (SQLite has
/// no `DEFAULT` in `VALUES`; leaving a column out gives its default). A
/// column `DEFAULT` in some rows only is not supported.
fn omit_defaults(
    source: &mut sqlparser::ast::Query,
    names: &mut Vec<sqlparser::ast::ObjectName>,
    columns: &[(String, PgType)],
) -> Result<(), Error> {
    let SetExpr::Values(values) = source.body.as_mut() else {
        return Ok(());
    };
    if !values
        .rows
        .iter()
        .flat_map(|row| row.iter())
        .any(is_default_keyword)
    {
        return Ok(());
    }
    if names.is_empty() {
        let width = values.rows.first().map_or(0, |row| row.len());
        *names = column_names(&columns[..width.min(columns.len())]);
    }
    let width = names.len();
    let mut keep = Vec::with_capacity(width);
    for index in 0..width {
        let defaults = values
            .rows
            .iter()
            .filter(|row| row.get(index).is_some_and(is_default_keyword))
            .count();
        if defaults != 0 && defaults != values.rows.len() {
            return Err(Error::Unsupported(
                "DEFAULT in some VALUES rows but not others".into(),
            ));
        }
        keep.push(defaults == 0);
    }
    let mut index = 0;
    names.retain(|_| {
        index += 1;
        keep[index - 1]
    });
    for row in &mut values.rows {
        let mut index = 0;
        row.retain(|_| {
            index += 1;
            keep.get(index - 1).copied().unwrap_or(true)
        });
    }
    if names.is_empty() {
        return Err(Error::Unsupported(
            "VALUES of DEFAULT only (use DEFAULT VALUES)".into(),
        ));
    }
    Ok(())
}

/// Wraps the value given for an integer primary key in `pg_not_null`:
/// SQLite would assign the next key to a NULL, where PostgreSQL refuses it.
fn guard_key(value: &mut Expr, column: &str, table: &str) {
    let checked = call(
        "pg_not_null",
        vec![take(value), string(column), string(table)],
    );
    *value = checked;
}

impl Translator<'_> {
    /// The integer primary key of `table`, SQLite's rowid alias, if it has
    /// one.
    fn rowid_key(&self, table: &str, columns: &[(String, PgType)]) -> Option<String> {
        match self.catalog.primary_key(table).as_slice() {
            [key] if columns.iter().any(|(n, ty)| n == key && ty.is_integer()) => Some(key.clone()),
            _ => None,
        }
    }

    /// Runs `f` in a new scope level holding `relations`.
    fn with_scope<T>(
        &mut self,
        relations: Vec<Relation>,
        f: impl FnOnce(&mut Self) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.scopes.push(Scope::default());
        let result = relations
            .into_iter()
            .try_for_each(|relation| self.scopes.add(relation))
            .and_then(|()| f(self));
        self.scopes.pop();
        result
    }

    /// The target table of an `UPDATE` or `DELETE`: `(table, relation)`.
    fn target(&mut self, item: &mut TableWithJoins) -> Result<(String, Relation), Error> {
        if !item.joins.is_empty() {
            return Err(Error::Unsupported(
                "joins in the target of UPDATE/DELETE".into(),
            ));
        }
        let TableFactor::Table {
            name,
            alias,
            args: None,
            with_hints,
            version: None,
            with_ordinality: false,
            partitions,
            json_path: None,
            sample: None,
            index_directives,
            inheritance,
        } = &mut item.relation
        else {
            return Err(Error::Unsupported(format!("target {}", item.relation)));
        };
        if !with_hints.is_empty()
            || !partitions.is_empty()
            || !index_directives.is_empty()
            || inheritance.is_some()
        {
            return Err(Error::Unsupported(format!("target {name}")));
        }
        if alias.as_ref().is_some_and(|a| !a.columns.is_empty()) {
            return Err(Error::Syntax("column aliases on the target table".into()));
        }
        let ident = table_name(name, &self.catalog.database())?;
        let table = fold(&ident);
        let columns = self.table_columns(&table)?;
        *name = object_name(ident);
        let relation_name = match alias {
            Some(alias) => {
                // SQLite's UPDATE and DELETE take an alias only after AS
                alias.explicit = true;
                alias_name(&alias.name)?
            }
            None => table.clone(),
        };
        Ok((
            table,
            Relation {
                name: relation_name,
                columns,
                key: Vec::new(),
            },
        ))
    }

    /// Translates `SET column = value, …` against the target's columns.
    fn assignments(
        &mut self,
        assignments: &mut [Assignment],
        table: &str,
        columns: &[(String, PgType)],
    ) -> Result<(), Error> {
        let key = self.rowid_key(table, columns);
        for assignment in assignments {
            let AssignmentTarget::ColumnName(name) = &mut assignment.target else {
                return Err(Error::Unsupported("SET (a, b) = …".into()));
            };
            let ident = unqualified(name)?;
            let column = fold(&ident);
            let ty = column_type(columns, table, &column)?;
            *name = object_name(ident);
            if is_default_keyword(&assignment.value) {
                return Err(Error::Unsupported("SET column = DEFAULT".into()));
            }
            let value_ty = self.expr(&mut assignment.value)?;
            self.coerce(&mut assignment.value, value_ty, ty, CastKind::Assignment)?;
            if key.as_ref() == Some(&column) {
                guard_key(&mut assignment.value, &column, table);
            }
        }
        Ok(())
    }

    fn returning(&mut self, returning: &mut Option<Vec<SelectItem>>) -> Result<Columns, Error> {
        let Some(items) = returning else {
            return Ok(Vec::new());
        };
        self.returning_target = self.scopes.innermost().first().map(|r| r.name.clone());
        let columns = self.projection(items);
        self.returning_target = None;
        columns
    }

    /// Translates an `INSERT`; returns the `RETURNING` columns.
    pub(crate) fn insert(&mut self, insert: &mut Insert) -> Result<Columns, Error> {
        if !insert.optimizer_hints.is_empty()
            || insert.or.is_some()
            || insert.ignore
            || insert.by_name
            || insert.overwrite
            || !insert.assignments.is_empty()
            || insert.partitioned.is_some()
            || !insert.after_columns.is_empty()
            || insert.overriding.is_some()
            || insert.has_table_keyword
            || insert.output.is_some()
            || insert.replace_into
            || insert.priority.is_some()
            || insert.insert_alias.is_some()
            || insert.settings.is_some()
        {
            return Err(Error::Unsupported("INSERT clause".into()));
        }
        let TableObject::TableName(name) = &mut insert.table else {
            return Err(Error::Unsupported("INSERT into a table function".into()));
        };
        let ident = table_name(name, &self.catalog.database())?;
        let table = fold(&ident);
        *name = object_name(ident);
        let columns = self.table_columns(&table)?;
        let listed = !insert.columns.is_empty();
        if let Some(source) = &mut insert.source {
            omit_defaults(source, &mut insert.columns, &columns)?;
        }
        let targets: Vec<(String, PgType)> = if insert.columns.is_empty() {
            columns.clone()
        } else {
            let mut targets = Vec::with_capacity(insert.columns.len());
            for column in &mut insert.columns {
                let ident = unqualified(column)?;
                let name = fold(&ident);
                let ty = column_type(&columns, &table, &name)?;
                targets.push((name, ty));
                *column = object_name(ident);
            }
            targets
        };
        let on_conflict = insert.on.is_some();
        if let Some(source) = &mut insert.source {
            let key = self.rowid_key(&table, &columns).and_then(|key| {
                let index = targets.iter().position(|(name, _)| *name == key)?;
                Some((index, key, table.as_str()))
            });
            let types: Vec<PgType> = targets.iter().map(|(_, ty)| *ty).collect();
            let width = self.insert_source(source, &types, on_conflict, key)?;
            if insert.columns.is_empty() && width < columns.len() {
                // PostgreSQL fills the columns left out at the end with
                // their defaults; SQLite wants every column.
                insert.columns = column_names(&columns[..width]);
            } else if listed && width < insert.columns.len() {
                return Err(Error::Syntax(
                    "INSERT has more target columns than expressions".into(),
                ));
            }
        }
        let relation_name = insert
            .table_alias
            .as_ref()
            .map_or_else(|| Ok(table.clone()), |a| alias_name(&a.alias))?;
        let relation = Relation {
            name: relation_name,
            columns: columns.clone(),
            key: Vec::new(),
        };
        if let Some(on) = &mut insert.on {
            let OnInsert::OnConflict(conflict) = on else {
                return Err(Error::Unsupported("ON DUPLICATE KEY UPDATE".into()));
            };
            let excluded = Relation {
                name: "excluded".into(),
                columns: columns.clone(),
                key: Vec::new(),
            };
            self.with_scope(vec![relation.clone(), excluded], |this| {
                match &mut conflict.conflict_target {
                    Some(ConflictTarget::Columns { columns: targets, predicate }) => {
                        for target in targets.iter() {
                            column_type(&columns, &table, &fold(target))?;
                        }
                        if let Some(predicate) = predicate {
                            this.condition(predicate)?;
                        }
                    }
                    Some(ConflictTarget::OnConstraint(_)) => {
                        return Err(Error::Unsupported("ON CONFLICT ON CONSTRAINT".into()));
                    }
                    None => {}
                }
                match &mut conflict.action {
                    OnConflictAction::DoNothing => Ok(()),
                    OnConflictAction::DoUpdate(update) => {
                        if conflict.conflict_target.is_none() {
                            return Err(Error::Syntax("ON CONFLICT DO UPDATE requires inference specification or constraint name".into()));
                        }
                        this.assignments(&mut update.assignments, &table, &columns)?;
                        if let Some(selection) = &mut update.selection {
                            this.condition(selection)?;
                        }
                        Ok(())
                    }
                }
            })?;
        }
        self.with_scope(vec![relation], |this| this.returning(&mut insert.returning))
    }

    /// The rows of an `INSERT`: each value converted to its column's type.
    /// Returns how many columns the rows have.
    fn insert_source(
        &mut self,
        source: &mut sqlparser::ast::Query,
        targets: &[PgType],
        on_conflict: bool,
        key: Option<(usize, String, &str)>,
    ) -> Result<usize, Error> {
        let guard = |index: usize, value: &mut Expr| {
            if let Some((key_index, column, table)) = &key
                && *key_index == index
            {
                guard_key(value, column, table);
            }
        };
        if let SetExpr::Values(values) = source.body.as_mut() {
            if source.with.is_some() || source.order_by.is_some() || source.limit_clause.is_some() {
                return Err(Error::Unsupported(
                    "INSERT … VALUES with query clauses".into(),
                ));
            }
            let width = values.rows.first().map_or(0, |row| row.len());
            return self.with_scope(vec![], |this| {
                for row in &mut values.rows {
                    if row.len() != width {
                        return Err(Error::Syntax(
                            "VALUES lists must all be the same length".into(),
                        ));
                    }
                    if row.len() > targets.len() {
                        return Err(Error::Syntax(
                            "INSERT has more expressions than target columns".into(),
                        ));
                    }
                    for (index, (value, ty)) in row.iter_mut().zip(targets).enumerate() {
                        if is_default_keyword(value) {
                            return Err(Error::Unsupported("DEFAULT in VALUES".into()));
                        }
                        let value_ty = this.expr(value)?;
                        this.coerce(value, value_ty, *ty, CastKind::Assignment)?;
                        guard(index, value);
                    }
                }
                Ok(width)
            });
        }
        let columns = self.query(source)?;
        if columns.len() > targets.len() {
            return Err(Error::Syntax(
                "INSERT has more expressions than target columns".into(),
            ));
        }
        let SetExpr::Select(select) = source.body.as_mut() else {
            if columns
                .iter()
                .zip(targets)
                .all(|((_, from), to)| from.without_modifier() == to.without_modifier())
            {
                return Ok(columns.len());
            }
            return Err(Error::Unsupported(
                "INSERT of a set operation whose column types differ from the table's".into(),
            ));
        };
        if on_conflict && select.selection.is_none() {
            // SQLite reads `SELECT … ON CONFLICT` as a join without it.
            select.selection = Some(Expr::value(Value::Boolean(true)));
        }
        for (index, ((item, (_, from)), to)) in select
            .projection
            .iter_mut()
            .zip(&columns)
            .zip(targets)
            .enumerate()
        {
            match item {
                SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } => {
                    self.coerce(
                        expr,
                        super::context::Ty::Known(*from),
                        *to,
                        CastKind::Assignment,
                    )?;
                    guard(index, expr);
                }
                _ if from.without_modifier() == to.without_modifier() => {}
                _ => {
                    return Err(Error::Unsupported(
                        "INSERT … SELECT * into columns of other types".into(),
                    ));
                }
            }
        }
        Ok(columns.len())
    }

    /// Translates an `UPDATE`; returns the `RETURNING` columns.
    pub(crate) fn update(&mut self, update: &mut Update) -> Result<Columns, Error> {
        if !update.optimizer_hints.is_empty()
            || update.on_cluster.is_some()
            || update.output.is_some()
            || update.or.is_some()
            || !update.order_by.is_empty()
            || update.limit.is_some()
            || update.settings.is_some()
        {
            return Err(Error::Unsupported("UPDATE clause".into()));
        }
        let (table, relation) = self.target(&mut update.table)?;
        let columns = relation.columns.clone();
        self.with_scope(vec![relation], |this| {
            match &mut update.from {
                None => {}
                Some(UpdateTableFromKind::AfterSet(from)) => {
                    for item in from {
                        this.translate_from_item(item)?;
                    }
                }
                Some(UpdateTableFromKind::BeforeSet(_)) => {
                    return Err(Error::Unsupported("UPDATE … FROM before SET".into()));
                }
            }
            this.assignments(&mut update.assignments, &table, &columns)?;
            if let Some(selection) = &mut update.selection {
                this.condition(selection)?;
            }
            this.returning(&mut update.returning)
        })
    }

    /// Translates a `DELETE`; returns the `RETURNING` columns.
    pub(crate) fn delete(&mut self, delete: &mut Delete) -> Result<Columns, Error> {
        if !delete.optimizer_hints.is_empty()
            || !delete.tables.is_empty()
            || delete.on_cluster.is_some()
            || delete.using.is_some()
            || delete.output.is_some()
            || !delete.order_by.is_empty()
            || delete.limit.is_some()
            || delete.settings.is_some()
        {
            return Err(Error::Unsupported(
                "DELETE clause (USING, multi-table)".into(),
            ));
        }
        let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &mut delete.from;
        let [item] = from.as_mut_slice() else {
            return Err(Error::Unsupported("DELETE from several tables".into()));
        };
        let (_, relation) = self.target(item)?;
        self.with_scope(vec![relation], |this| {
            if let Some(selection) = &mut delete.selection {
                this.condition(selection)?;
            }
            this.returning(&mut delete.returning)
        })
    }
}
