//! Queries: `SELECT` (with `FROM`, joins, `WHERE`, `GROUP BY`, `HAVING`,
//! `ORDER BY`, `LIMIT`/`OFFSET`), `VALUES`, set operations and `WITH`
//! (`recursive` types `WITH RECURSIVE`, `window` the window functions,
//! `distinct_on` rewrites `DISTINCT ON`, `locks` reads `FOR UPDATE`); the
//! name and type of every output column by PostgreSQL's rules; and
//! `ORDER BY`'s null placement, which SQLite does the other way round.

use sqlparser::ast::{
    Distinct, Expr, FunctionArg, FunctionArgExpr, GroupByExpr, Join, JoinConstraint, JoinOperator,
    LimitClause, OrderByExpr, OrderByKind, Query, Select, SelectFlavor, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, SetOperator, SetQuantifier, TableAlias, TableFactor,
    TableWithJoins, WildcardAdditionalOptions,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::coerce::{CastKind, literal};
use super::context::{Translator, Ty, call, number, string, take};
use super::grouping::Grouped;
use super::names::{alias_name, fold, object_name, table_name, unqualified};
use super::operators::{Comparison, common_type, comparison, numeric_collation};
use super::output::{column_name, expand, name_outputs};
use super::scope::{Relation, Scope};
use crate::error::Error;
use crate::types::PgType;

/// Output columns: name and type.
pub(crate) type Columns = Vec<(String, PgType)>;

/// `SELECT value FROM json_each(array)`: the elements of a stored array.
pub(crate) fn json_each_values(array: Expr) -> Result<Query, Error> {
    let template = "SELECT value FROM json_each(NULL)";
    let parsed = Parser::parse_sql(&PostgreSqlDialect {}, template)
        .map_err(|e| Error::Syntax(e.to_string()))?
        .pop();
    let Some(sqlparser::ast::Statement::Query(mut query)) = parsed else {
        return Err(Error::Syntax(template.into()));
    };
    if let SetExpr::Select(select) = query.body.as_mut()
        && let Some(TableWithJoins {
            relation: TableFactor::Table {
                args: Some(args), ..
            },
            ..
        }) = select.from.first_mut()
    {
        args.args = vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(array))];
    }
    Ok(*query)
}

fn plain_wildcard(options: &WildcardAdditionalOptions) -> bool {
    options.opt_ilike.is_none()
        && options.opt_exclude.is_none()
        && options.opt_except.is_none()
        && options.opt_replace.is_none()
        && options.opt_rename.is_none()
        && options.opt_alias.is_none()
}

impl Translator<'_> {
    /// Translates a query nested in an expression or `FROM`: a new scope
    /// level that can see the enclosing ones.
    pub(crate) fn subquery(&mut self, query: &mut Query) -> Result<Columns, Error> {
        self.query(query)
    }

    /// Translates a query and returns its output columns.
    pub(crate) fn query(&mut self, query: &mut Query) -> Result<Columns, Error> {
        let Query {
            with,
            body,
            order_by,
            limit_clause,
            fetch,
            locks,
            for_clause,
            settings,
            format_clause,
            pipe_operators,
        } = query;
        if fetch.is_some()
            || for_clause.is_some()
            || settings.is_some()
            || format_clause.is_some()
            || !pipe_operators.is_empty()
        {
            return Err(Error::Unsupported(format!("query clause in {query}")));
        }
        // read as written: translation renames the aggregates
        self.row_locks(locks, body)?;
        let ctes_before = self.ctes.len();
        if let Some(with) = with {
            for cte in &mut with.cte_tables {
                if cte.materialized.is_some() || cte.from.is_some() {
                    return Err(Error::Unsupported("WITH … AS MATERIALIZED".into()));
                }
                let columns = if with.recursive {
                    self.recursive_cte(cte)?
                } else {
                    let columns = self.query(&mut cte.query)?;
                    rename_columns(columns, &cte.alias)?
                };
                self.ctes.push((fold(&cte.alias.name), columns));
            }
        }
        let result = self.query_body(body, order_by.as_mut(), limit_clause.as_mut());
        self.ctes.truncate(ctes_before);
        result
    }

    fn query_body(
        &mut self,
        body: &mut SetExpr,
        order_by: Option<&mut sqlparser::ast::OrderBy>,
        limit_clause: Option<&mut LimitClause>,
    ) -> Result<Columns, Error> {
        self.scopes.push(Scope::default());
        let result = self.query_level(body, order_by, limit_clause);
        self.scopes.pop();
        result
    }

    fn query_level(
        &mut self,
        body: &mut SetExpr,
        order_by: Option<&mut sqlparser::ast::OrderBy>,
        limit_clause: Option<&mut LimitClause>,
    ) -> Result<Columns, Error> {
        let distinct_on = match body {
            SetExpr::Select(select) if matches!(select.distinct, Some(Distinct::On(_))) => {
                match select.distinct.take() {
                    Some(Distinct::On(on)) => Some(on),
                    _ => None,
                }
            }
            _ => None,
        };
        let columns = match &mut *body {
            SetExpr::Select(select) => self.select(select)?,
            other => {
                let columns = self.set_expr(other)?;
                self.scopes.pop();
                self.scopes.push(Scope {
                    relations: vec![Relation {
                        name: String::new(),
                        columns: columns.clone(),
                        key: Vec::new(),
                    }],
                    ..Scope::default()
                });
                columns
            }
        };
        if let Some(on) = distinct_on {
            self.distinct_on(body, on, &columns, order_by)?;
        } else if let Some(order_by) = order_by {
            if order_by.interpolate.is_some() {
                return Err(Error::Unsupported("ORDER BY … INTERPOLATE".into()));
            }
            let OrderByKind::Expressions(items) = &mut order_by.kind else {
                return Err(Error::Unsupported("ORDER BY ALL".into()));
            };
            for item in items.iter_mut() {
                self.order_by_item(item, &columns)?;
                match &*body {
                    SetExpr::Select(select) => position_in_key(&mut item.expr, &select.projection),
                    // SQLite orders a set operation by its output columns only
                    _ if matches!(item.expr, Expr::Function(_)) => {
                        return Err(Error::Unsupported(
                            "ORDER BY an interval of a set operation".into(),
                        ));
                    }
                    _ => {}
                }
            }
            super::srf::order_expanded(body, items, &columns);
        }
        if let Some(limit_clause) = limit_clause {
            let LimitClause::LimitOffset {
                limit,
                offset,
                limit_by,
            } = limit_clause
            else {
                return Err(Error::Unsupported("LIMIT offset, count".into()));
            };
            if !limit_by.is_empty() {
                return Err(Error::Unsupported("LIMIT BY".into()));
            }
            if let Some(limit) = limit {
                self.row_count(limit, "LIMIT")?;
            }
            if let Some(offset) = offset {
                self.row_count(&mut offset.value, "OFFSET")?;
                // SQLite takes OFFSET only after a LIMIT; a negative one is none.
                limit.get_or_insert_with(|| number(-1));
            }
        }
        Ok(columns)
    }

    /// Types the count of a `LIMIT` or `OFFSET` (`clause`); one that is not
    /// a literal count goes through `pg_row_count` for PostgreSQL's reading
    /// of NULL and of negative counts.
    fn row_count(&mut self, count: &mut Expr, clause: &str) -> Result<(), Error> {
        let ty = self.expr(count)?;
        self.coerce(count, ty, PgType::INT8, CastKind::Implicit)?;
        if !matches!(literal(count), Some((rusqlite::types::Value::Integer(n), _)) if n >= 0) {
            *count = call("pg_row_count", vec![take(count), string(clause)]);
        }
        Ok(())
    }

    /// Rewrites one `ORDER BY` item of a query (whose output columns are
    /// `columns`) or of an aggregate's arguments (`columns` empty).
    pub(crate) fn order_by_item(
        &mut self,
        item: &mut OrderByExpr,
        columns: &Columns,
    ) -> Result<(), Error> {
        set_null_order(item)?;
        let ty = self.order_key(&mut item.expr, columns)?;
        sort_key(&mut item.expr, ty)
    }

    /// An `ORDER BY` or `GROUP BY` key: an output column position, an
    /// output column name, or an expression over the input.
    fn order_key(&mut self, expr: &mut Expr, columns: &Columns) -> Result<Ty, Error> {
        if let Some((rusqlite::types::Value::Integer(position), _)) = literal(expr) {
            return usize::try_from(position)
                .ok()
                .and_then(|p| p.checked_sub(1))
                .and_then(|p| columns.get(p))
                .map(|(_, ty)| Ty::Known(*ty))
                .ok_or_else(|| {
                    Error::Syntax(format!("position {position} is not in select list"))
                });
        }
        if let Expr::Identifier(ident) = expr {
            let name = fold(ident);
            let matches: Vec<&(String, PgType)> =
                columns.iter().filter(|(n, _)| *n == name).collect();
            if let [(_, ty)] = matches.as_slice() {
                return Ok(Ty::Known(*ty));
            }
        }
        self.expr(expr)
    }

    pub(crate) fn set_expr(&mut self, body: &mut SetExpr) -> Result<Columns, Error> {
        match body {
            SetExpr::Select(select) => {
                self.scopes.push(Scope::default());
                let result = self.select(select);
                self.scopes.pop();
                result
            }
            SetExpr::Query(query) => self.query(query),
            SetExpr::Values(values) => {
                let width = values.rows.first().map_or(0, |r| r.len());
                if values.rows.iter().any(|r| r.len() != width) {
                    return Err(Error::Syntax(
                        "VALUES lists must all be the same length".into(),
                    ));
                }
                let mut columns = Vec::with_capacity(width);
                for index in 0..width {
                    let column: Vec<&mut Expr> = values
                        .rows
                        .iter_mut()
                        .filter_map(|r| r.get_mut(index))
                        .collect();
                    let ty = self.unify(column, "VALUES")?;
                    columns.push((format!("column{}", index + 1), ty.or_text()));
                }
                Ok(columns)
            }
            SetExpr::SetOperation {
                op,
                set_quantifier,
                left,
                right,
            } => {
                let all = match set_quantifier {
                    SetQuantifier::None | SetQuantifier::Distinct => false,
                    SetQuantifier::All => true,
                    other => return Err(Error::Unsupported(format!("{op} {other}"))),
                };
                if all && !matches!(op, SetOperator::Union) {
                    return Err(Error::Unsupported(format!("{op} ALL")));
                }
                if matches!(op, SetOperator::Minus) {
                    return Err(Error::Unsupported("MINUS".into()));
                }
                let left_columns = self.set_expr(left)?;
                let right_columns = self.set_expr(right)?;
                if left_columns.len() != right_columns.len() {
                    return Err(Error::Syntax(format!(
                        "each {op} query must have the same number of columns"
                    )));
                }
                left_columns
                    .into_iter()
                    .zip(right_columns)
                    .map(|((name, l), (_, r))| {
                        let ty = common_type(l, r, &op.to_string())?;
                        let same = l.without_modifier() == r.without_modifier()
                            || (l.is_integer() && r.is_integer());
                        if !same {
                            return Err(Error::Unsupported(format!(
                                "{op} of columns of types {l} and {r}"
                            )));
                        }
                        Ok((name, ty))
                    })
                    .collect()
            }
            other => Err(Error::Unsupported(format!("query {other}"))),
        }
    }

    /// Translates one `SELECT` in the scope level already pushed.
    fn select(&mut self, select: &mut Select) -> Result<Columns, Error> {
        let Select {
            select_token: _,
            optimizer_hints,
            distinct,
            select_modifiers,
            top,
            top_before_distinct: _,
            projection,
            exclude,
            into,
            from,
            lateral_views,
            prewhere,
            selection,
            connect_by,
            group_by,
            cluster_by,
            distribute_by,
            sort_by,
            having,
            named_window,
            qualify,
            window_before_qualify: _,
            value_table_mode,
            flavor,
        } = select;
        if !optimizer_hints.is_empty()
            || select_modifiers.is_some()
            || top.is_some()
            || exclude.is_some()
            || into.is_some()
            || !lateral_views.is_empty()
            || prewhere.is_some()
            || !connect_by.is_empty()
            || !cluster_by.is_empty()
            || !distribute_by.is_empty()
            || !sort_by.is_empty()
            || qualify.is_some()
            || value_table_mode.is_some()
            || !matches!(flavor, SelectFlavor::Standard)
        {
            return Err(Error::Unsupported("SELECT clause".into()));
        }
        if projection.is_empty() {
            // SQLite has no zero-column rows
            return Err(Error::Unsupported("a SELECT list with no columns".into()));
        }
        if let Some(Distinct::On(_)) = distinct {
            return Err(Error::Unsupported("DISTINCT ON".into()));
        }
        let outer_srfs = self.select_srfs.take();
        for item in from.iter_mut() {
            self.translate_from_item(item)?;
        }
        self.named_windows(named_window)?;
        let grouped = Grouped::of(projection, group_by, having.as_ref());
        self.select_srfs = Some(Vec::new());
        let columns = self.projection(projection)?;
        let srf_rows = self.select_srfs.take().unwrap_or_default();
        if let Some(selection) = selection {
            self.condition(selection)?;
        }
        match group_by {
            GroupByExpr::Expressions(exprs, modifiers) if modifiers.is_empty() => {
                for expr in exprs {
                    self.order_key(expr, &columns)?;
                }
            }
            _ => return Err(Error::Unsupported("GROUP BY ALL, ROLLUP, CUBE".into())),
        }
        if let Some(having) = having {
            self.condition(having)?;
        }
        if let Some(grouped) = grouped {
            grouped.check(self.scopes.innermost())?;
        }
        self.expand_set_returning(select, srf_rows, &columns)?;
        self.select_srfs = outer_srfs;
        Ok(columns)
    }

    /// The output columns of a select list or `RETURNING` list, rewriting
    /// each item.
    pub(crate) fn projection(&mut self, items: &mut Vec<SelectItem>) -> Result<Columns, Error> {
        let mut columns = Vec::with_capacity(items.len());
        let mut expanded = Vec::with_capacity(items.len());
        for mut item in std::mem::take(items) {
            match &mut item {
                SelectItem::UnnamedExpr(expr) => {
                    let name = column_name(expr);
                    let ty = self.expr(expr)?;
                    columns.push((name, ty.or_text()));
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let ty = self.expr(expr)?;
                    columns.push((fold(alias), ty.or_text()));
                }
                SelectItem::Wildcard(options) if plain_wildcard(options) => {
                    if self.scopes.innermost().is_empty() {
                        return Err(Error::Syntax(
                            "SELECT * with no tables specified is not valid".into(),
                        ));
                    }
                    if self.scopes.has_merged_columns() {
                        return Err(Error::Unsupported(
                            "SELECT * over JOIN … USING or NATURAL JOIN".into(),
                        ));
                    }
                    let qualify = self.scopes.innermost().len() > 1;
                    for relation in self.scopes.innermost() {
                        expand(relation, qualify, &mut expanded, &mut columns);
                    }
                    continue;
                }
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(name),
                    options,
                ) if plain_wildcard(options) => {
                    let ident = unqualified(name)?;
                    let relation = self
                        .scopes
                        .relation(&fold(&ident))
                        .ok_or_else(|| Error::MissingFromEntry(fold(&ident)))?;
                    expand(relation, true, &mut expanded, &mut columns);
                    continue;
                }
                other => return Err(Error::Unsupported(format!("select item {other}"))),
            }
            expanded.push(item);
        }
        *items = expanded;
        Ok(columns)
    }

    pub(crate) fn translate_from_item(&mut self, item: &mut TableWithJoins) -> Result<(), Error> {
        self.table_factor(&mut item.relation)?;
        for join in &mut item.joins {
            self.join(join)?;
        }
        Ok(())
    }

    fn join(&mut self, join: &mut Join) -> Result<(), Error> {
        if join.global {
            return Err(Error::Unsupported("GLOBAL JOIN".into()));
        }
        let constraint = match &mut join.join_operator {
            JoinOperator::Join(c)
            | JoinOperator::Inner(c)
            | JoinOperator::Left(c)
            | JoinOperator::LeftOuter(c)
            | JoinOperator::Right(c)
            | JoinOperator::RightOuter(c)
            | JoinOperator::FullOuter(c)
            | JoinOperator::CrossJoin(c) => c,
            other => return Err(Error::Unsupported(format!("join {other:?}"))),
        };
        let before: Vec<String> = self
            .scopes
            .innermost()
            .iter()
            .flat_map(|r| r.columns.iter().map(|(n, _)| n.clone()))
            .collect();
        self.table_factor(&mut join.relation)?;
        match constraint {
            JoinConstraint::On(condition) => self.condition(condition),
            JoinConstraint::Using(names) => {
                for name in names {
                    let column = fold(&unqualified(name)?);
                    self.scopes.merge_column(&column)?;
                }
                Ok(())
            }
            JoinConstraint::Natural => {
                let added = self
                    .scopes
                    .innermost()
                    .last()
                    .map(|r| r.columns.clone())
                    .unwrap_or_default();
                for (column, _) in added.iter().filter(|(n, _)| before.contains(n)) {
                    self.scopes.merge_column(column)?;
                }
                Ok(())
            }
            JoinConstraint::None => Ok(()),
            JoinConstraint::UsingAlias(..) => Err(Error::Unsupported("JOIN USING … AS".into())),
        }
    }

    fn table_factor(&mut self, factor: &mut TableFactor) -> Result<(), Error> {
        if self.set_returning_relation(factor)? {
            return Ok(());
        }
        self.session_relation(factor)?;
        match factor {
            TableFactor::Table {
                name,
                alias,
                args,
                with_hints,
                version,
                with_ordinality,
                partitions,
                json_path,
                sample,
                index_directives,
                inheritance,
            } => {
                if args.is_some()
                    || !with_hints.is_empty()
                    || version.is_some()
                    || *with_ordinality
                    || !partitions.is_empty()
                    || json_path.is_some()
                    || sample.is_some()
                    || !index_directives.is_empty()
                    || inheritance.is_some()
                {
                    return Err(Error::Unsupported(format!("table reference {name}")));
                }
                let ident = table_name(name, &self.catalog.database())?;
                let table = fold(&ident);
                let (columns, key) = match self.cte(&table) {
                    Some(columns) => (columns, Vec::new()),
                    None => (
                        self.table_columns(&table)?,
                        self.catalog.primary_key(&table),
                    ),
                };
                *name = object_name(ident);
                if alias.is_none()
                    && let Some(system) = super::names::system_relation(&table)
                {
                    // `FROM pg_class` reads the view "pg_catalog.pg_class" as `pg_class`.
                    *alias = Some(TableAlias {
                        explicit: true,
                        name: sqlparser::ast::Ident::new(system.name),
                        columns: Vec::new(),
                        at: None,
                    });
                }
                let (relation_name, columns) = match alias {
                    Some(alias) if !alias.columns.is_empty() => {
                        return Err(Error::Unsupported(
                            "column aliases on a table in FROM".into(),
                        ));
                    }
                    Some(alias) => (alias_name(&alias.name)?, columns),
                    None => (table, columns),
                };
                self.scopes.add(Relation {
                    name: relation_name,
                    columns,
                    key,
                })
            }
            TableFactor::Derived {
                lateral,
                subquery,
                alias,
                sample,
            } => {
                if *lateral || sample.is_some() {
                    return Err(Error::Unsupported("LATERAL subquery".into()));
                }
                let columns = self.subquery(subquery)?;
                let alias = alias
                    .as_mut()
                    .ok_or_else(|| Error::Syntax("subquery in FROM must have an alias".into()))?;
                let columns = rename_columns(columns, alias)?;
                if !alias.columns.is_empty() {
                    // SQLite has no `AS t(a, b)`: name the columns inside instead.
                    name_outputs(subquery, &columns)?;
                    alias.columns.clear();
                }
                self.scopes.add(Relation {
                    name: alias_name(&alias.name)?,
                    columns,
                    key: Vec::new(),
                })
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias: None,
            } => self.translate_from_item(table_with_joins),
            other => Err(Error::Unsupported(format!("FROM item {other}"))),
        }
    }

    fn cte(&self, name: &str) -> Option<Columns> {
        self.ctes
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.clone())
    }
}

/// Makes a translated expression of type `ty` sort and compare by value
/// (`numeric` text by its collation, `interval` by its key), for
/// `ORDER BY` and `PARTITION BY`.
pub(crate) fn sort_key(expr: &mut Expr, ty: Ty) -> Result<(), Error> {
    match ty.known().map(comparison) {
        Some(Comparison::Numeric) => *expr = numeric_collation(take(expr)),
        Some(Comparison::Interval) => *expr = call("pg_interval_key", vec![take(expr)]),
        Some(Comparison::EqualityOnly) => {
            return Err(Error::Unsupported(format!(
                "ORDER BY a value of type {}",
                ty.or_text()
            )));
        }
        Some(Comparison::Native) | None => {}
    }
    Ok(())
}

/// A sort key function over an output column position (`ORDER BY 1` of an
/// interval is `pg_interval_key(1)`) would sort by the number: it gets the
/// column's expression instead.
fn position_in_key(key: &mut Expr, projection: &[SelectItem]) {
    let Expr::Function(function) = key else {
        return;
    };
    let sqlparser::ast::FunctionArguments::List(list) = &mut function.args else {
        return;
    };
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))] = list.args.as_mut_slice() else {
        return;
    };
    let Some((rusqlite::types::Value::Integer(position), _)) = literal(arg) else {
        return;
    };
    let item = usize::try_from(position)
        .ok()
        .and_then(|p| p.checked_sub(1))
        .and_then(|p| projection.get(p));
    if let Some(SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. }) = item {
        *arg = expr.clone();
    }
}

/// Applies an alias's column list (`AS t(a, b)`) to a relation's columns.
pub(crate) fn rename_columns(mut columns: Columns, alias: &TableAlias) -> Result<Columns, Error> {
    if alias.columns.len() > columns.len() {
        return Err(Error::Syntax(format!(
            "table \"{}\" has {} columns available but {} columns specified",
            alias.name,
            columns.len(),
            alias.columns.len()
        )));
    }
    for (column, renamed) in columns.iter_mut().zip(&alias.columns) {
        if renamed.data_type.is_some() {
            return Err(Error::Unsupported("column definition lists".into()));
        }
        column.0 = fold(&renamed.name);
    }
    Ok(columns)
}

/// Checks an ORDER BY item's options and makes its NULL placement
/// PostgreSQL's: NULL sorts as larger than any value (SQLite: smaller).
pub(crate) fn set_null_order(item: &mut OrderByExpr) -> Result<(), Error> {
    if item.with_fill.is_some() {
        return Err(Error::Unsupported("ORDER BY … WITH FILL".into()));
    }
    let descending = match &item.options.sort {
        None | Some(sqlparser::ast::OrderBySort::Asc) => false,
        Some(sqlparser::ast::OrderBySort::Desc) => true,
        Some(sqlparser::ast::OrderBySort::Using(_)) => {
            return Err(Error::Unsupported("ORDER BY … USING".into()));
        }
    };
    item.options.nulls_first.get_or_insert(descending);
    Ok(())
}
