//! The system relations: `pg_catalog` and `information_schema` (and, in
//! the same way, patina's own read-only relations), as SQLite TEMP views
//! that a connection creates when a statement first reads them (see
//! `install`: [`Views`], [`ensure`]). A catalog query is translated like
//! any other and answered by SQLite from the live schema
//! (`main.sqlite_schema`, `pragma_table_info`, `pragma_index_list` and
//! `__patina_pg_columns`), so DDL made after a view was created shows at
//! once.
//!
//! [`relations`] is the registry: one [`SystemRelation`] per relation,
//! with its schema, name, typed columns and the SQLite that defines it.
//! A view is named `"schema.name"` in SQLite, which no user table can
//! collide with; the translator resolves `pg_catalog.pg_class`, plain
//! `pg_class` (pg_catalog is first on PostgreSQL's search path) and
//! `information_schema.tables` (only qualified) to it, see [`find`].
//!
//! Layout: `oid` (deterministic OIDs), `types` (the built-in rows of
//! `pg_type`), `pg_catalog` and `information_schema` (the relations),
//! `opclass` and `tablespace` (small static ones), `patina` (the
//! cluster's state); `install` (creating the views on demand) with
//! `sql_names` (the names a SQL text reads).

mod information_schema;
mod install;
mod oid;
mod opclass;
mod patina;
mod pg_catalog;
mod sql_names;
mod tablespace;
mod types;

use crate::types::PgType;

pub use install::{Views, ensure};
pub use oid::{FIRST_USER_OID, object_oid};
pub(crate) use types::{BuiltinType, builtin_type, format_type, with_typmod};

/// A schema: its name and OID.
pub const SCHEMAS: &[(&str, u32)] = &[
    ("pg_catalog", 11),
    ("public", 2200),
    ("pg_toast", 99),
    ("information_schema", 13207),
];

/// The OID of the database's owner role (PostgreSQL's bootstrap
/// superuser).
pub const OWNER_OID: u32 = 10;

/// How a system relation's rows are produced.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    /// A SQLite `SELECT` giving the columns in order, in their stored
    /// forms (see [`crate::types`]).
    Sql(&'static str),
    /// A `SELECT` built when the view is created (from static data).
    Built(fn() -> String),
    /// No rows: patina has nothing of this kind (policies, triggers…).
    Empty,
    /// Rows the session holds, not the database (`pg_settings`, and the
    /// cluster's state): the translation puts them in place of the view
    /// (from [`crate::Catalog::settings`] for `pg_settings`, else
    /// [`crate::Catalog::session_rows`]); the view itself has no rows.
    Session,
}

/// One read-only system relation.
#[derive(Debug)]
pub struct SystemRelation {
    /// Its schema: `pg_catalog`, `information_schema`, `patina`.
    pub schema: &'static str,
    /// Its name within the schema.
    pub name: &'static str,
    /// Its columns and their PostgreSQL types.
    pub columns: &'static [(&'static str, PgType)],
    /// Its rows.
    pub source: Source,
}

impl SystemRelation {
    /// The name of its SQLite view, quoted for SQL.
    pub fn sqlite_name(&self) -> String {
        format!("\"{}.{}\"", self.schema, self.name)
    }

    /// The columns with their types, owned.
    pub fn typed_columns(&self) -> Vec<(String, PgType)> {
        self.columns
            .iter()
            .map(|(name, ty)| ((*name).to_owned(), *ty))
            .collect()
    }

    fn select(&self) -> String {
        match self.source {
            Source::Sql(sql) => sql.to_owned(),
            Source::Built(build) => build(),
            Source::Empty | Source::Session => format!(
                "SELECT {} WHERE 0",
                vec!["NULL"; self.columns.len()].join(", ")
            ),
        }
    }
}

/// Every group of system relations; a module adds its own list here.
const REGISTRY: &[&[SystemRelation]] = &[
    pg_catalog::RELATIONS,
    opclass::RELATIONS,
    tablespace::RELATIONS,
    information_schema::RELATIONS,
    patina::RELATIONS,
];

/// Every system relation.
pub fn relations() -> impl Iterator<Item = &'static SystemRelation> {
    REGISTRY.iter().flat_map(|group| group.iter())
}

/// The system relation a name denotes: `schema.name`, or a bare name in
/// `pg_catalog`; `None` when it is not one (a user table, or nothing).
pub fn find(schema: Option<&str>, name: &str) -> Option<&'static SystemRelation> {
    let schema = schema.unwrap_or("pg_catalog");
    relations().find(|r| r.schema == schema && r.name == name)
}

/// The system relation whose SQLite view is `sqlite_name` (unquoted).
pub fn by_sqlite_name(sqlite_name: &str) -> Option<&'static SystemRelation> {
    let (schema, name) = sqlite_name.split_once('.')?;
    relations().find(|r| r.schema == schema && r.name == name)
}

/// Whether `schema` holds system relations.
pub fn is_system_schema(schema: &str) -> bool {
    relations().any(|r| r.schema == schema)
}

/// A SQL string literal.
pub(crate) fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_resolve() {
        let mut seen = std::collections::HashSet::new();
        for relation in relations() {
            assert!(
                seen.insert((relation.schema, relation.name)),
                "{}",
                relation.name
            );
        }
        assert_eq!(find(None, "pg_class").map(|r| r.schema), Some("pg_catalog"));
        assert!(find(None, "tables").is_none());
        assert_eq!(
            find(Some("information_schema"), "tables").map(|r| r.name),
            Some("tables")
        );
        assert!(is_system_schema("information_schema"));
        assert!(!is_system_schema("public"));
    }
}

#[cfg(test)]
mod live;
