//! The planner of a subscribed query: checks it as running it would,
//! decides whether it can be maintained incrementally, and if so adds each
//! table's primary-key columns to its result (hidden, after the query's
//! own columns) so result rows can be keyed by the rows they come from.
//!
//! A query is maintained incrementally when it is one `SELECT` over
//! replicated tables joined by inner or cross joins, with any `WHERE`, `ON`
//! and `ORDER BY`, and none of: aggregates, `GROUP BY`, `HAVING`,
//! `DISTINCT`, `LIMIT`/`OFFSET`/`FETCH`, outer joins, set operations,
//! `WITH`, window functions, set-returning functions, subqueries or derived
//! tables. Each of its result rows then depends only on the rows it joins,
//! so a change to rows with keys P of table T can only change result rows
//! whose T key is in P. Any other query is re-run whole when one of its
//! tables changes.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use rusqlite::Connection;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use sqlparser::ast::{
    Expr, GroupByExpr, Ident, JoinOperator, ObjectName, Query, SelectItem, SetExpr, Statement,
    TableFactor, Visit, Visitor,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::super::errors::PgError;
use super::constants::{self, Constraint};
use crate::translate::{
    Catalog, Column, StatementKind, Translated, fold_identifier, translate_typed,
};

/// The prefix of the hidden key columns.
const HIDDEN: &str = "__patina_k";

/// PostgreSQL's aggregate functions (called without OVER).
const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "bool_and",
    "bool_or",
    "every",
    "string_agg",
    "array_agg",
    "json_agg",
    "jsonb_agg",
    "json_object_agg",
    "jsonb_object_agg",
    "bit_and",
    "bit_or",
    "stddev",
    "variance",
];

/// Functions that return several rows per input row.
const SET_RETURNING: &[&str] = &[
    "generate_series",
    "unnest",
    "regexp_matches",
    "regexp_split_to_table",
    "json_each",
    "jsonb_each",
    "json_array_elements",
    "jsonb_array_elements",
    "json_each_text",
    "jsonb_each_text",
    "json_array_elements_text",
    "jsonb_array_elements_text",
    "json_object_keys",
    "jsonb_object_keys",
];

/// How a subscription follows its query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Result rows keyed by the primary keys of the rows they join: one
    /// entry per table occurrence of the `FROM` list, in order.
    Incremental(Vec<Occurrence>),
    /// Re-run whole on every change of its tables; why.
    Rerun(String),
}

/// One table of an incremental query's `FROM` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Occurrence {
    /// The table, lower-cased.
    pub table: String,
    /// Its primary-key columns, in key order.
    pub key: Vec<String>,
    /// The equality constants a row must match to join a result row
    /// through it.
    pub constraints: Vec<Constraint>,
}

/// A subscribed query, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueryPlan {
    /// The query as sqlparser prints it: identical queries share a
    /// subscription.
    pub normalized: String,
    /// The SQLite SQL: the query's columns, then for an incremental query
    /// the key columns of each occurrence.
    pub sql: String,
    /// The query's own result columns.
    pub columns: Vec<Column>,
    /// The replicated tables it reads, named as stored.
    pub tables: BTreeSet<String>,
    pub mode: Mode,
}

impl QueryPlan {
    /// How many key columns follow the query's own.
    pub fn hidden(&self) -> usize {
        match &self.mode {
            Mode::Incremental(occurrences) => occurrences.iter().map(|o| o.key.len()).sum(),
            Mode::Rerun(_) => 0,
        }
    }

    /// The position of occurrence `index`'s first key column in a result
    /// row of `width` columns.
    pub fn key_start(&self, index: usize, width: usize) -> usize {
        let Mode::Incremental(occurrences) = &self.mode else {
            return width;
        };
        let before: usize = occurrences[..index].iter().map(|o| o.key.len()).sum();
        width - self.hidden() + before
    }
}

/// Plans `query` for a subscription against `catalog`; `conn` is a read
/// connection to learn which tables it reads. Errors are those running
/// the query would raise, or 0A000 for what cannot be subscribed to.
pub(crate) fn plan(
    query: &str,
    catalog: &dyn Catalog,
    conn: &Connection,
) -> Result<QueryPlan, PgError> {
    let translated = translate_one(query, catalog)?;
    if translated.kind != StatementKind::Select || translated.locks_rows() {
        return Err(PgError::new(
            "0A000",
            "patina_subscribe takes a SELECT: only a query's result can be subscribed to",
        ));
    }
    if !translated.params.is_empty() {
        return Err(PgError::new("42P02", "there is no parameter $1"));
    }
    crate::catalog::ensure(conn, translated.views)?;
    let tables = tables_read(conn, &translated.sql, catalog)?;
    let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, query)
        .map_err(|error| PgError::new("42601", error.to_string()))?;
    let Some(Statement::Query(parsed)) = statements.pop() else {
        return Err(PgError::new("0A000", "patina_subscribe takes a SELECT"));
    };
    let normalized = parsed.to_string();
    let mode = match maintainable(&parsed) {
        Err(reason) => Mode::Rerun(reason),
        Ok(()) => {
            let mut occurrences = occurrences(&parsed, catalog)?;
            let constraints = constants::find(&parsed, catalog);
            for (occurrence, constraints) in occurrences.iter_mut().zip(constraints) {
                occurrence.constraints = constraints;
            }
            Mode::Incremental(occurrences)
        }
    };
    let sql = match &mode {
        Mode::Incremental(occurrences) => {
            let augmented = augment(*parsed, occurrences);
            translate_one(&augmented, catalog)?.sql
        }
        Mode::Rerun(_) => translated.sql,
    };
    Ok(QueryPlan {
        normalized,
        sql,
        columns: translated.columns,
        tables,
        mode,
    })
}

fn translate_one(query: &str, catalog: &dyn Catalog) -> Result<Translated, PgError> {
    let mut translated =
        translate_typed(query, catalog, &[]).map_err(|e| PgError::from(e).located_in(query))?;
    match translated.len() {
        1 => Ok(translated.remove(0)),
        0 => Err(PgError::new("42601", "patina_subscribe takes one SELECT")),
        _ => Err(PgError::new(
            "42601",
            "patina_subscribe takes one SELECT, not several statements",
        )),
    }
}

/// The tables the SQLite statement reads, as SQLite's authorizer reports
/// them while preparing it; each must be a replicated table.
fn tables_read(
    conn: &Connection,
    sql: &str,
    catalog: &dyn Catalog,
) -> Result<BTreeSet<String>, PgError> {
    let read = std::sync::Arc::new(std::sync::Mutex::new(BTreeSet::new()));
    let sink = read.clone();
    conn.authorizer(Some(move |context: AuthContext<'_>| {
        if let AuthAction::Read { table_name, .. } = context.action
            && !table_name.is_empty()
        {
            sink.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(table_name.to_owned());
        }
        Authorization::Allow
    }));
    let prepared = conn.prepare(sql).map(drop);
    conn.authorizer(None::<fn(AuthContext<'_>) -> Authorization>);
    prepared?;
    let read = std::mem::take(
        &mut *read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    for table in &read {
        if catalog.columns(table).is_none() || catalog.primary_key(table).is_empty() {
            return Err(PgError::new(
                "0A000",
                format!(
                    "patina_subscribe follows replicated tables only: the query reads \"{table}\""
                ),
            ));
        }
    }
    Ok(read)
}

/// `Ok` if the query can be maintained incrementally, else why not.
fn maintainable(query: &Query) -> Result<(), String> {
    if query.with.is_some() {
        return Err("it has a WITH clause".to_owned());
    }
    if query.limit_clause.is_some() || query.fetch.is_some() {
        return Err("it has LIMIT, OFFSET or FETCH".to_owned());
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Err("it is not a plain SELECT (UNION, INTERSECT, EXCEPT or VALUES)".to_owned());
    };
    if select.distinct.is_some() {
        return Err("it has DISTINCT".to_owned());
    }
    let grouped = match &select.group_by {
        GroupByExpr::Expressions(exprs, _) => !exprs.is_empty(),
        GroupByExpr::All(_) => true,
    };
    if grouped || select.having.is_some() {
        return Err("it has GROUP BY or HAVING".to_owned());
    }
    if select.from.is_empty() {
        return Err("it reads no table".to_owned());
    }
    for from in &select.from {
        plain_table(&from.relation)?;
        for join in &from.joins {
            match join.join_operator {
                JoinOperator::Join(_) | JoinOperator::Inner(_) | JoinOperator::CrossJoin(_) => {}
                _ => return Err("it has an outer or other non-inner join".to_owned()),
            }
            plain_table(&join.relation)?;
        }
    }
    let mut checker = Checker { queries: 0 };
    match query.visit(&mut checker) {
        ControlFlow::Break(reason) => Err(reason),
        ControlFlow::Continue(()) => Ok(()),
    }
}

fn plain_table(factor: &TableFactor) -> Result<(), String> {
    match factor {
        TableFactor::Table { args: None, .. } => Ok(()),
        TableFactor::Table { .. } => Err("it reads a table function".to_owned()),
        _ => Err("it reads a subquery or other derived table".to_owned()),
    }
}

/// Finds what no incremental plan can follow inside the expressions.
struct Checker {
    queries: usize,
}

impl Visitor for Checker {
    type Break = String;

    fn pre_visit_query(&mut self, _query: &Query) -> ControlFlow<String> {
        self.queries += 1;
        if self.queries > 1 {
            return ControlFlow::Break("it has a subquery".to_owned());
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<String> {
        let Expr::Function(function) = expr else {
            return ControlFlow::Continue(());
        };
        if function.over.is_some() {
            return ControlFlow::Break("it calls a window function".to_owned());
        }
        let name = function
            .name
            .0
            .last()
            .and_then(|part| part.as_ident())
            .map(fold_identifier)
            .unwrap_or_default();
        if AGGREGATES.contains(&name.as_str()) {
            return ControlFlow::Break(format!("it calls the aggregate {name}()"));
        }
        if SET_RETURNING.contains(&name.as_str()) {
            return ControlFlow::Break(format!("it calls the set-returning function {name}()"));
        }
        ControlFlow::Continue(())
    }
}

/// The tables of the `FROM` list with their keys, in order.
fn occurrences(query: &Query, catalog: &dyn Catalog) -> Result<Vec<Occurrence>, PgError> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Ok(Vec::new());
    };
    let factors = select.from.iter().flat_map(|from| {
        std::iter::once(&from.relation).chain(from.joins.iter().map(|j| &j.relation))
    });
    let mut found = Vec::new();
    for factor in factors {
        let TableFactor::Table { name, .. } = factor else {
            continue;
        };
        let table = table_of(name);
        let key = catalog.primary_key(&table);
        if key.is_empty() {
            return Err(PgError::new(
                "0A000",
                format!(
                    "patina_subscribe follows replicated tables only: \"{table}\" has no primary key"
                ),
            ));
        }
        found.push(Occurrence {
            table,
            key,
            constraints: Vec::new(),
        });
    }
    Ok(found)
}

/// The table a `FROM` item names: the last part of its name, folded as
/// PostgreSQL folds identifiers, lower-cased as the catalog keys tables.
pub(super) fn table_of(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(|part| part.as_ident())
        .map(fold_identifier)
        .unwrap_or_default()
        .to_lowercase()
}

/// The query with each occurrence's key columns appended to its result.
fn augment(mut query: Query, occurrences: &[Occurrence]) -> String {
    let SetExpr::Select(select) = query.body.as_mut() else {
        return query.to_string();
    };
    let qualifiers: Vec<Vec<Ident>> = select
        .from
        .iter()
        .flat_map(|from| {
            std::iter::once(&from.relation).chain(from.joins.iter().map(|j| &j.relation))
        })
        .filter_map(|factor| match factor {
            TableFactor::Table {
                alias: Some(alias), ..
            } => Some(vec![alias.name.clone()]),
            TableFactor::Table { name, .. } => Some(
                name.0
                    .iter()
                    .filter_map(|part| part.as_ident().cloned())
                    .collect(),
            ),
            _ => None,
        })
        .collect();
    for (index, (occurrence, qualifier)) in occurrences.iter().zip(qualifiers).enumerate() {
        for (column, key) in occurrence.key.iter().enumerate() {
            let mut path = qualifier.clone();
            path.push(Ident::with_quote('"', key.clone()));
            select.projection.push(SelectItem::ExprWithAlias {
                expr: Expr::CompoundIdentifier(path),
                alias: Ident::new(format!("{HIDDEN}{index}_{column}")),
            });
        }
    }
    query.to_string()
}
