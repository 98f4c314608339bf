//! What translation needs to know about the database: the columns of each
//! table and their PostgreSQL types. The caller implements [`Catalog`];
//! [`Overlay`] adds the tables created earlier in the same query string,
//! and the system relations of [`crate::catalog`].

use std::collections::HashMap;
use std::hash::BuildHasher;

use crate::types::PgType;

/// Looks up tables by their (case-folded) name.
pub trait Catalog {
    /// The columns of `table` in order, with their PostgreSQL types;
    /// `None` when there is no such table.
    fn columns(&self, table: &str) -> Option<Vec<(String, PgType)>>;

    /// The database the session is connected to, for
    /// `current_database()`.
    fn database(&self) -> String {
        "postgres".into()
    }

    /// The session's user, for `current_user` and `session_user`.
    fn user(&self) -> String {
        "postgres".into()
    }

    /// The session's backend process id, for `pg_backend_pid()`.
    fn backend_pid(&self) -> i32 {
        0
    }

    /// The value of the session's setting `name` (lower-case), for
    /// `current_setting`; `None` when there is no such setting.
    fn setting(&self, _name: &str) -> Option<String> {
        None
    }

    /// Every setting of the session with its value, for `pg_settings`.
    fn settings(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// The rows of the system relation `schema.name` whose source is
    /// [`crate::catalog::Source::Session`], each cell its PostgreSQL text
    /// or NULL, in the relation's column order.
    fn session_rows(&self, _schema: &str, _name: &str) -> Vec<Vec<Option<String>>> {
        Vec::new()
    }

    /// The primary key columns of `table`, which make its other columns
    /// valid in a query grouped by them; empty when it has none or the
    /// catalog does not say.
    fn primary_key(&self, _table: &str) -> Vec<String> {
        Vec::new()
    }
}

impl<S: BuildHasher> Catalog for HashMap<String, Vec<(String, PgType)>, S> {
    fn columns(&self, table: &str) -> Option<Vec<(String, PgType)>> {
        self.get(table).cloned()
    }
}

/// A catalog plus the tables a multi-statement string created or dropped
/// before the statement being translated.
pub(crate) struct Overlay<'a> {
    base: &'a dyn Catalog,
    changes: HashMap<String, Option<Vec<(String, PgType)>>>,
}

impl<'a> Overlay<'a> {
    pub(crate) fn new(base: &'a dyn Catalog) -> Overlay<'a> {
        Overlay {
            base,
            changes: HashMap::new(),
        }
    }

    /// Records a table created (`Some`) or dropped (`None`).
    pub(crate) fn set(&mut self, table: String, columns: Option<Vec<(String, PgType)>>) {
        self.changes.insert(table, columns);
    }
}

impl Catalog for Overlay<'_> {
    fn columns(&self, table: &str) -> Option<Vec<(String, PgType)>> {
        if let Some(system) = crate::catalog::by_sqlite_name(table) {
            return Some(system.typed_columns());
        }
        match self.changes.get(table) {
            Some(change) => change.clone(),
            None => self.base.columns(table),
        }
    }

    fn database(&self) -> String {
        self.base.database()
    }

    fn user(&self) -> String {
        self.base.user()
    }

    fn backend_pid(&self) -> i32 {
        self.base.backend_pid()
    }

    fn setting(&self, name: &str) -> Option<String> {
        self.base.setting(name)
    }

    fn settings(&self) -> Vec<(String, String)> {
        self.base.settings()
    }

    fn session_rows(&self, schema: &str, name: &str) -> Vec<Vec<Option<String>>> {
        self.base.session_rows(schema, name)
    }

    fn primary_key(&self, table: &str) -> Vec<String> {
        match self.changes.get(table) {
            Some(_) => Vec::new(),
            None => self.base.primary_key(table),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_shadows_the_base() {
        let mut base = HashMap::new();
        base.insert("a".to_string(), vec![("x".to_string(), PgType::INT4)]);
        let mut overlay = Overlay::new(&base);
        overlay.set("b".into(), Some(vec![("y".into(), PgType::TEXT)]));
        overlay.set("a".into(), None);
        assert_eq!(overlay.columns("a"), None);
        assert_eq!(overlay.columns("b"), Some(vec![("y".into(), PgType::TEXT)]));
        assert_eq!(overlay.columns("c"), None);
    }
}
