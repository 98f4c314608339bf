//! Schema files: a declarative schema (`CREATE TABLE` and `CREATE INDEX`
//! statements) compared with the live one. The plan is the DDL that brings
//! the live schema up to the files — new tables, new columns of existing
//! tables, new indexes — or a refusal naming the file, the statement and
//! the reason when the files would change or drop something a replicated
//! table cannot lose (a column, its type, the primary key). Tables and
//! indexes the files do not mention are left alone: they may come from DDL
//! run through the front door.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use sqlparser::ast::{ColumnOption, CreateTable, Statement, TableConstraint};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::catalog::Catalog;
use super::ddl::index_column_names;
use super::names::{fold, quote_ident, unqualified};
use crate::types::PgType;

/// One schema file's text and where it came from.
#[derive(Debug, Clone)]
pub struct SchemaFile {
    pub path: String,
    pub sql: String,
}

/// One statement to run, and what it does in words.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaStep {
    pub file: String,
    /// The statement of the file it comes from.
    pub statement: String,
    /// The PostgreSQL DDL to run.
    pub sql: String,
    /// `created table t`, `added column t.c`, `created index i`.
    pub summary: String,
}

/// Why the files cannot be applied; nothing was changed.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaRefusal {
    pub file: String,
    /// The offending statement (shortened), empty for a file that does not
    /// parse.
    pub statement: String,
    pub reason: String,
}

impl fmt::Display for SchemaRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.statement.is_empty() {
            write!(f, "{}: {}", self.file, self.reason)
        } else {
            write!(f, "{}: {}: {}", self.file, self.statement, self.reason)
        }
    }
}

impl std::error::Error for SchemaRefusal {}

/// The steps that bring the live schema (`catalog`, and the names of the
/// existing `indexes`) up to `files`, in file order.
pub fn plan_schema(
    files: &[SchemaFile],
    catalog: &dyn Catalog,
    indexes: &BTreeSet<String>,
) -> Result<Vec<SchemaStep>, SchemaRefusal> {
    let mut planner = Planner {
        catalog,
        indexes,
        tables: BTreeSet::new(),
        new_indexes: BTreeSet::new(),
        steps: Vec::new(),
    };
    for file in files {
        let statements =
            Parser::parse_sql(&PostgreSqlDialect {}, &file.sql).map_err(|e| SchemaRefusal {
                file: file.path.clone(),
                statement: String::new(),
                reason: e.to_string(),
            })?;
        for statement in &statements {
            planner
                .statement(&file.path, statement)
                .map_err(|reason| SchemaRefusal {
                    file: file.path.clone(),
                    statement: shorten(&statement.to_string()),
                    reason,
                })?;
        }
    }
    Ok(planner.steps)
}

struct Planner<'a> {
    catalog: &'a dyn Catalog,
    indexes: &'a BTreeSet<String>,
    /// Tables the files declared so far.
    tables: BTreeSet<String>,
    new_indexes: BTreeSet<String>,
    steps: Vec<SchemaStep>,
}

impl Planner<'_> {
    fn statement(&mut self, file: &str, statement: &Statement) -> Result<(), String> {
        let text = statement.to_string();
        let mut step = |sql: String, summary: String| {
            self.steps.push(SchemaStep {
                file: file.to_owned(),
                statement: shorten(&text),
                sql,
                summary,
            });
        };
        match statement {
            Statement::CreateTable(create) => {
                let table = fold(&unqualified(&create.name).map_err(|e| e.to_string())?);
                if !self.tables.insert(table.clone()) {
                    return Err(format!("table \"{table}\" is declared twice"));
                }
                match self.catalog.columns(&table) {
                    None => step(text.clone(), format!("created table {table}")),
                    Some(existing) => {
                        let key = self.catalog.primary_key(&table);
                        for (column, sql) in added_columns(&table, create, &existing, &key)? {
                            step(sql, format!("added column {table}.{column}"));
                        }
                    }
                }
                Ok(())
            }
            Statement::CreateIndex(index) => {
                let Some(name) = &index.name else {
                    return Err(
                        "an index in a schema file needs a name, to be recognised next time"
                            .to_owned(),
                    );
                };
                let name = fold(&unqualified(name).map_err(|e| e.to_string())?);
                if !self.new_indexes.insert(name.clone()) {
                    return Err(format!("index \"{name}\" is declared twice"));
                }
                if !self.indexes.contains(&name) {
                    step(text.clone(), format!("created index {name}"));
                }
                Ok(())
            }
            _ => Err("schema files hold CREATE TABLE and CREATE INDEX statements only".to_owned()),
        }
    }
}

/// The columns `create` declares that the live table lacks, with the DDL
/// adding each; an error if the declaration drops a column, changes a
/// column's type or changes the primary key.
fn added_columns(
    table: &str,
    create: &CreateTable,
    existing: &[(String, PgType)],
    existing_key: &[String],
) -> Result<Vec<(String, String)>, String> {
    let declared = declared_columns(create)?;
    let key = declared_key(create)?;
    if key != existing_key {
        return Err(format!(
            "the primary key changes from ({}) to ({}): a replicated table's key cannot change",
            existing_key.join(", "),
            key.join(", ")
        ));
    }
    for (name, ty) in existing {
        match declared.get(name) {
            None => {
                return Err(format!(
                    "column \"{name}\" of table \"{table}\" is not declared: dropping a column of \
                     a replicated table is not supported"
                ));
            }
            Some(declared) if declared != ty => {
                return Err(format!(
                    "column \"{name}\" of table \"{table}\" changes type from {ty} to {declared}: \
                     changing a column's type is not supported"
                ));
            }
            Some(_) => {}
        }
    }
    Ok(create
        .columns
        .iter()
        .filter(|c| !existing.iter().any(|(name, _)| *name == fold(&c.name)))
        .map(|c| {
            let sql = format!("ALTER TABLE {} ADD COLUMN {c}", quote_ident(table));
            (fold(&c.name), sql)
        })
        .collect())
}

/// The PostgreSQL type of each declared column, as translation types it.
fn declared_columns(create: &CreateTable) -> Result<HashMap<String, PgType>, String> {
    let empty: HashMap<String, Vec<(String, PgType)>> = HashMap::new();
    let translated = super::translate(&Statement::CreateTable(create.clone()).to_string(), &empty)
        .map_err(|e| e.to_string())?;
    Ok(translated
        .into_iter()
        .filter_map(|t| t.ddl)
        .flat_map(|ddl| ddl.columns)
        .collect())
}

fn declared_key(create: &CreateTable) -> Result<Vec<String>, String> {
    for column in &create.columns {
        if column
            .options
            .iter()
            .any(|o| matches!(o.option, ColumnOption::PrimaryKey(_)))
        {
            return Ok(vec![fold(&column.name)]);
        }
    }
    for constraint in &create.constraints {
        if let TableConstraint::PrimaryKey(pk) = constraint {
            let names = index_column_names(&pk.columns).map_err(|e| e.to_string())?;
            return Ok(names.iter().map(fold).collect());
        }
    }
    Ok(Vec::new())
}

/// A statement's first line, cut to a readable length for messages.
fn shorten(statement: &str) -> String {
    const MAX: usize = 80;
    let line = statement.lines().next().unwrap_or_default().trim();
    match line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Live {
        tables: HashMap<String, Vec<(String, PgType)>>,
        keys: HashMap<String, Vec<String>>,
    }

    impl Catalog for Live {
        fn columns(&self, table: &str) -> Option<Vec<(String, PgType)>> {
            self.tables.get(table).cloned()
        }

        fn primary_key(&self, table: &str) -> Vec<String> {
            self.keys.get(table).cloned().unwrap_or_default()
        }
    }

    fn live() -> Live {
        Live {
            tables: HashMap::from([(
                "services".to_owned(),
                vec![
                    ("name".to_owned(), PgType::TEXT),
                    ("port".to_owned(), PgType::INT4),
                ],
            )]),
            keys: HashMap::from([("services".to_owned(), vec!["name".to_owned()])]),
        }
    }

    fn plan(sql: &str, indexes: &[&str]) -> Result<Vec<SchemaStep>, SchemaRefusal> {
        let files = [SchemaFile {
            path: "schema/services.sql".into(),
            sql: sql.into(),
        }];
        let indexes = indexes.iter().map(|s| (*s).to_owned()).collect();
        plan_schema(&files, &live(), &indexes)
    }

    fn summaries(steps: &[SchemaStep]) -> Vec<&str> {
        steps.iter().map(|s| s.summary.as_str()).collect()
    }

    #[test]
    fn the_live_schema_needs_nothing() {
        let steps = plan(
            "CREATE TABLE services (name text PRIMARY KEY, port integer);
             CREATE INDEX services_port ON services (port);",
            &["services_port"],
        )
        .unwrap();
        assert!(steps.is_empty());
    }

    #[test]
    fn new_tables_columns_and_indexes_are_planned_in_order() {
        let steps = plan(
            "CREATE TABLE services (name text PRIMARY KEY, port integer, weight numeric(6,2) DEFAULT 1);
             CREATE TABLE routes (id bigint PRIMARY KEY, host text);
             CREATE INDEX routes_host ON routes (host);",
            &[],
        )
        .unwrap();
        assert_eq!(
            summaries(&steps),
            [
                "added column services.weight",
                "created table routes",
                "created index routes_host"
            ]
        );
        assert_eq!(
            steps[0].sql,
            "ALTER TABLE services ADD COLUMN weight NUMERIC(6,2) DEFAULT 1"
        );
    }

    #[test]
    fn destructive_changes_are_refused_with_file_statement_and_reason() {
        let dropped = plan("CREATE TABLE services (name text PRIMARY KEY)", &[]).unwrap_err();
        assert_eq!(dropped.file, "schema/services.sql");
        assert!(dropped.statement.starts_with("CREATE TABLE services"));
        assert!(dropped.reason.contains("\"port\"") && dropped.reason.contains("dropping"));

        let retyped = plan(
            "CREATE TABLE services (name text PRIMARY KEY, port text)",
            &[],
        )
        .unwrap_err();
        assert!(retyped.reason.contains("changes type from integer to text"));

        let rekeyed = plan(
            "CREATE TABLE services (name text, port integer PRIMARY KEY)",
            &[],
        )
        .unwrap_err();
        assert!(
            rekeyed
                .reason
                .contains("primary key changes from (name) to (port)")
        );
    }

    #[test]
    fn other_statements_and_bad_sql_are_refused() {
        let other = plan("DROP TABLE services", &[]).unwrap_err();
        assert!(other.reason.contains("CREATE TABLE and CREATE INDEX"));
        let bad = plan("CREATE TABLE (", &[]).unwrap_err();
        assert_eq!(bad.statement, "");
        let twice = plan(
            "CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE T (id int PRIMARY KEY)",
            &[],
        )
        .unwrap_err();
        assert!(twice.reason.contains("declared twice"));
        let unnamed = plan("CREATE INDEX ON services (port)", &[]).unwrap_err();
        assert!(unnamed.reason.contains("needs a name"));
    }
}
