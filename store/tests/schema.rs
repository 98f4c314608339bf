//! Schema changes on replicated tables: what applies on the fly, what is
//! refused, and that a refusal changes nothing.

mod common;

use common::{TempStore, int, text};
use patina_store::{SchemaChange, SchemaError};

const ITEMS: &str = "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)";

fn schema_sql(s: &TempStore) -> Vec<String> {
    s.store
        .conn()
        .prepare("SELECT coalesce(sql, name) FROM sqlite_master ORDER BY name")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
}

fn refused(ddl_before: &str, change: &str) -> SchemaError {
    let mut s = TempStore::with_schema(ddl_before);
    s.exec("INSERT INTO items (id, name) VALUES (1, 'a')");
    let before = (
        schema_sql(&s),
        s.dump("items"),
        s.store.db_version().expect("db_version"),
    );
    let error = s.store.apply_ddl(change).expect_err(change);
    let after = (
        schema_sql(&s),
        s.dump("items"),
        s.store.db_version().expect("db_version"),
    );
    assert_eq!(
        before, after,
        "a refused change must change nothing: {change}"
    );
    error
}

#[test]
fn create_table_makes_it_replicated() {
    let mut s = TempStore::new();
    let change = s.store.apply_ddl(ITEMS).unwrap();
    assert_eq!(
        change,
        SchemaChange {
            new_tables: vec!["items".into()],
            altered_tables: vec![]
        }
    );
    assert_eq!(s.store.replicated_tables(), vec!["items".to_owned()]);
}

#[test]
fn add_column_on_a_live_table_keeps_clocks_and_captures_the_column() {
    let mut s = TempStore::with_schema(ITEMS);
    s.exec("INSERT INTO items VALUES (1, 'a')");
    s.exec("UPDATE items SET name = 'b'");
    let change = s
        .store
        .apply_ddl("ALTER TABLE items ADD COLUMN price REAL DEFAULT 0")
        .unwrap();
    assert_eq!(change.altered_tables, vec!["items".to_owned()]);
    s.exec("UPDATE items SET name = 'c', price = 9.5");
    let changes = s.local_changes(3);
    let name = changes
        .iter()
        .find(|c| c.column.as_deref() == Some("name"))
        .unwrap();
    assert_eq!(
        (name.col_version, &name.value),
        (3, &text("c")),
        "the old clock carried on"
    );
    let price = changes
        .iter()
        .find(|c| c.column.as_deref() == Some("price"))
        .unwrap();
    assert_eq!(price.col_version, 1);
    s.exec("INSERT INTO items (id) VALUES (2)");
    assert!(
        s.local_changes(4)
            .iter()
            .any(|c| c.column.as_deref() == Some("price"))
    );
}

#[test]
fn indexes_can_be_added_and_dropped() {
    let mut s = TempStore::with_schema(ITEMS);
    s.store
        .apply_ddl("CREATE INDEX items_name ON items (name)")
        .unwrap();
    s.store.apply_ddl("DROP INDEX items_name").unwrap();
    s.exec("INSERT INTO items VALUES (1, 'a')");
    assert_eq!(s.dump("items"), vec![vec![int(1), text("a")]]);
}

#[test]
fn table_without_primary_key_is_refused() {
    let mut s = TempStore::new();
    assert_eq!(
        s.store.apply_ddl("CREATE TABLE loose (a TEXT)"),
        Err(SchemaError::NoPrimaryKey {
            table: "loose".into()
        })
    );
    assert!(schema_sql(&s).iter().all(|sql| !sql.contains("loose")));
}

#[test]
fn not_null_without_default_is_refused() {
    let mut s = TempStore::new();
    assert_eq!(
        s.store
            .apply_ddl("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"),
        Err(SchemaError::NotNullWithoutDefault {
            table: "t".into(),
            column: "v".into()
        })
    );
    s.store
        .apply_ddl("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL DEFAULT '')")
        .unwrap();
}

#[test]
fn nullable_text_primary_key_is_refused() {
    let mut s = TempStore::new();
    assert_eq!(
        s.store
            .apply_ddl("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)"),
        Err(SchemaError::NullablePrimaryKey {
            table: "t".into(),
            column: "k".into()
        })
    );
}

#[test]
fn unique_and_foreign_key_constraints_are_refused() {
    let mut s = TempStore::with_schema(ITEMS);
    assert!(matches!(
        s.store.apply_ddl("CREATE TABLE u (id INTEGER PRIMARY KEY, email TEXT UNIQUE)"),
        Err(SchemaError::UniqueIndex { table, .. }) if table == "u"
    ));
    assert_eq!(
        s.store.apply_ddl(
            "CREATE TABLE f (id INTEGER PRIMARY KEY, item INTEGER REFERENCES items (id))"
        ),
        Err(SchemaError::ForeignKey { table: "f".into() })
    );
    assert!(matches!(
        refused(ITEMS, "CREATE UNIQUE INDEX items_name ON items (name)"),
        SchemaError::UniqueIndex { .. }
    ));
}

#[test]
fn dropping_a_replicated_table_is_refused() {
    assert_eq!(
        refused(ITEMS, "DROP TABLE items"),
        SchemaError::DropTable {
            table: "items".into()
        }
    );
    assert_eq!(
        refused(ITEMS, "ALTER TABLE items RENAME TO things"),
        SchemaError::DropTable {
            table: "items".into()
        }
    );
}

#[test]
fn dropping_a_column_is_refused() {
    assert_eq!(
        refused(ITEMS, "ALTER TABLE items DROP COLUMN name"),
        SchemaError::DropColumn {
            table: "items".into(),
            column: "name".into()
        }
    );
}

#[test]
fn changing_the_primary_key_or_a_type_is_refused() {
    assert_eq!(
        refused(
            ITEMS,
            "CREATE TABLE tmp (id INTEGER, name TEXT NOT NULL DEFAULT '', PRIMARY KEY (id, name)); \
             INSERT INTO tmp SELECT * FROM items; DROP TABLE items; ALTER TABLE tmp RENAME TO items;"
        ),
        SchemaError::PrimaryKeyChanged {
            table: "items".into()
        }
    );
    assert_eq!(
        refused(
            ITEMS,
            "CREATE TABLE tmp (id INTEGER PRIMARY KEY, name BLOB); INSERT INTO tmp SELECT * FROM items; \
             DROP TABLE items; ALTER TABLE tmp RENAME TO items;"
        ),
        SchemaError::ColumnChanged {
            table: "items".into(),
            column: "name".into()
        }
    );
}

#[test]
fn reserved_names_are_refused() {
    let mut s = TempStore::new();
    assert!(matches!(
        s.store
            .apply_ddl("CREATE TABLE __patina_mine (id INTEGER PRIMARY KEY)"),
        Err(SchemaError::ReservedName { .. })
    ));
    assert!(matches!(
        s.store
            .apply_ddl("CREATE TABLE t (id INTEGER PRIMARY KEY, __patina_cv INTEGER)"),
        Err(SchemaError::ReservedName { .. })
    ));
}

#[test]
fn invalid_sql_is_an_error_that_changes_nothing() {
    let mut s = TempStore::with_schema(ITEMS);
    let before = schema_sql(&s);
    assert!(matches!(
        s.store
            .apply_ddl("CREATE TABLE ok (id INTEGER PRIMARY KEY); CREATE TABLE oops ("),
        Err(SchemaError::Sqlite(_))
    ));
    assert_eq!(schema_sql(&s), before);
}
