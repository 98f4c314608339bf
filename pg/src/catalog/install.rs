//! The system relations are created on a connection when a statement
//! first reads them, not when it opens: each TEMP view costs the
//! connection schema memory and parse time, and most connections never
//! query the catalog.
//!
//! [`Views`] is a set of the catalog's views (the system relations and the
//! helper views they share). A translated statement carries the set its
//! SQLite SQL names ([`Views::read_by`]), and [`ensure`] creates those a
//! connection lacks before the statement is prepared. What a view reads is
//! found the same way in its own definition, so a set always holds what
//! its views read, down to the helpers.
//!
//! Which views exist is asked of the connection's TEMP schema each time,
//! not remembered: a view created inside a transaction that rolls back is
//! gone again. The views read the live schema, so a view created before
//! some DDL shows that DDL at once.

use std::collections::HashMap;
use std::sync::OnceLock;

use rusqlite::Connection;

use super::{pg_catalog, relations, sql_names};

/// A set of the catalog's views.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Views(u128);

impl Views {
    /// No view.
    pub const NONE: Views = Views(0);

    /// The views the SQLite `sql` names, and every view those read.
    pub fn read_by(sql: &str) -> Views {
        let registry = registry();
        let mut views = Views::NONE;
        sql_names::each_name(sql, |name| {
            if let Some(index) = registry.find(name) {
                views.0 |= registry.views[index].reads.0;
            }
        });
        views
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many views the set holds.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The set with the views of `other` too.
    pub fn union(self, other: Views) -> Views {
        Views(self.0 | other.0)
    }

    fn contains(self, index: usize) -> bool {
        self.0 & (1 << index) != 0
    }

    fn with(self, index: usize) -> Views {
        Views(self.0 | (1 << index))
    }
}

/// Creates on `conn` the views of `wanted` it does not have yet.
pub fn ensure(conn: &Connection, wanted: Views) -> rusqlite::Result<()> {
    if wanted.is_empty() {
        return Ok(());
    }
    let registry = registry();
    let mut present = Views::NONE;
    let mut stmt =
        conn.prepare_cached("SELECT name FROM temp.sqlite_schema WHERE type = 'view'")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        if let Some(index) = registry.find(row.get_ref(0)?.as_str()?) {
            present = present.with(index);
        }
    }
    let missing = Views(wanted.0 & !present.0);
    if missing.is_empty() {
        return Ok(());
    }
    let sql: Vec<&str> = registry
        .order
        .iter()
        .filter(|&&index| missing.contains(index))
        .map(|&index| registry.views[index].create.as_str())
        .collect();
    tracing::debug!(views = missing.len(), "creating catalog views");
    conn.execute_batch(&sql.join(";\n"))
}

/// One view.
struct View {
    /// The statement creating it.
    create: String,
    /// It and every view it reads, directly or not.
    reads: Views,
}

/// Every view, built once.
struct Registry {
    views: Vec<View>,
    /// Every view's index, a view after those it reads.
    order: Vec<usize>,
    /// The indexes by lower-case name (SQLite's names ignore ASCII case).
    by_name: HashMap<String, usize>,
}

impl Registry {
    fn find(&self, name: &str) -> Option<usize> {
        // Only `schema.name` and the helpers' `__patina_…` can be views.
        if !name.contains('.') && !name.starts_with("__") {
            return None;
        }
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(build)
}

fn build() -> Registry {
    let mut definitions: Vec<(String, String, String)> = Vec::new();
    for (name, select) in pg_catalog::HELPERS {
        let select = select();
        let create = format!("CREATE TEMP VIEW IF NOT EXISTS {name} AS {select}");
        definitions.push(((*name).to_owned(), select, create));
    }
    for relation in relations() {
        let columns: Vec<String> = relation
            .columns
            .iter()
            .map(|(name, _)| format!("\"{name}\""))
            .collect();
        let select = relation.select();
        let create = format!(
            "CREATE TEMP VIEW IF NOT EXISTS {}({}) AS {select}",
            relation.sqlite_name(),
            columns.join(", "),
        );
        definitions.push((
            format!("{}.{}", relation.schema, relation.name),
            select,
            create,
        ));
    }
    assert!(
        definitions.len() <= u128::BITS as usize,
        "more catalog views than a `Views` set holds"
    );
    let by_name: HashMap<String, usize> = definitions
        .iter()
        .enumerate()
        .map(|(index, (name, _, _))| (name.to_ascii_lowercase(), index))
        .collect();
    let direct: Vec<Vec<usize>> = definitions
        .iter()
        .map(|(_, select, _)| {
            let mut read = Vec::new();
            sql_names::each_name(select, |name| {
                if let Some(&index) = by_name.get(&name.to_ascii_lowercase()) {
                    read.push(index);
                }
            });
            read
        })
        .collect();
    let mut reads = vec![Views::NONE; definitions.len()];
    let mut order = Vec::with_capacity(definitions.len());
    for index in 0..definitions.len() {
        visit(index, &direct, &mut reads, &mut order);
    }
    let views = definitions
        .into_iter()
        .zip(reads)
        .map(|((_, _, create), reads)| View { create, reads })
        .collect();
    Registry {
        views,
        order,
        by_name,
    }
}

/// Adds `index` to `order` after what it reads, and sets what it reads.
/// A view is marked as read by itself on entry, so a cycle (which SQLite
/// would refuse to query) ends the walk instead of looping.
fn visit(index: usize, direct: &[Vec<usize>], reads: &mut [Views], order: &mut Vec<usize>) {
    if !reads[index].is_empty() {
        return;
    }
    reads[index] = Views::NONE.with(index);
    for &read in &direct[index] {
        visit(read, direct, reads, order);
        reads[index] = reads[index].union(reads[read]);
    }
    order.push(index);
}

/// Every view's name (lower case) and what it reads, for the tests.
#[cfg(test)]
pub(super) fn every_view() -> Vec<(&'static str, Views)> {
    let registry = registry();
    registry
        .by_name
        .iter()
        .map(|(name, &index)| (name.as_str(), registry.views[index].reads))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_holds_what_its_views_read() {
        let class = Views::read_by("SELECT relname FROM \"pg_catalog.pg_class\"");
        let relations = Views::read_by("SELECT 1 FROM __patina_relations");
        let user_tables = Views::read_by("SELECT 1 FROM __PATINA_USER_TABLES");
        assert!(!user_tables.is_empty());
        assert_eq!(relations.union(user_tables), relations);
        assert_eq!(class.union(relations), class);
        assert!(class.len() > relations.len());
        assert_eq!(
            Views::read_by(
                "SELECT '\"pg_catalog.pg_class\"', pg_class FROM main.__patina_pg_columns"
            ),
            Views::NONE
        );
        let columns = Views::read_by("SELECT * FROM \"information_schema.columns\"");
        assert_eq!(columns.union(class), columns);
    }

    #[test]
    fn views_come_after_what_they_read() {
        let registry = registry();
        assert_eq!(registry.order.len(), registry.views.len());
        for (position, &index) in registry.order.iter().enumerate() {
            let earlier = registry.order[..position]
                .iter()
                .fold(Views::NONE.with(index), |set, &i| set.with(i));
            let reads = registry.views[index].reads;
            assert_eq!(earlier.union(reads), earlier, "view {index}");
        }
    }

    #[test]
    fn views_created_in_a_transaction_that_rolls_back_are_created_again() {
        let conn = Connection::open_in_memory().expect("open");
        let namespace = Views::read_by("SELECT * FROM \"pg_catalog.pg_namespace\"");
        conn.execute_batch("BEGIN").expect("begin");
        ensure(&conn, namespace).expect("created");
        conn.execute_batch("ROLLBACK").expect("rollback");
        ensure(&conn, namespace).expect("created again");
        let count: i64 = conn
            .query_row(
                "SELECT count(*) FROM \"pg_catalog.pg_namespace\"",
                [],
                |row| row.get(0),
            )
            .expect("reads");
        assert_eq!(count, 4);
    }
}
