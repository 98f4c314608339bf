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
            ..SchemaChange::default()
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
    let changes = s.write_changes(4);
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
        s.write_changes(5)
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
fn table_without_primary_key_stays_local() {
    let mut s = TempStore::new();
    assert_eq!(
        s.store.apply_ddl("CREATE TABLE loose (a TEXT)"),
        Ok(SchemaChange {
            local_tables: vec!["loose".into()],
            ..SchemaChange::default()
        })
    );
    assert!(s.store.replicated_tables().is_empty());
    let before = s.store.db_version().expect("db_version");
    s.exec("INSERT INTO loose VALUES ('x')");
    assert_eq!(s.store.db_version().expect("db_version"), before);
}

#[test]
fn adding_a_primary_key_rebuilds_a_local_table_as_replicated() {
    let mut s = TempStore::new();
    s.store
        .apply_ddl("CREATE TABLE acc (aid INTEGER NOT NULL, bal INTEGER DEFAULT (0) CHECK (bal > -100), note TEXT)")
        .unwrap();
    s.store
        .apply_ddl("CREATE INDEX acc_note ON acc (note)")
        .unwrap();
    s.exec("INSERT INTO acc VALUES (2, 5, 'b'), (1, 7, NULL)");
    let change = s.store.add_primary_key("acc", &["aid".into()]).unwrap();
    assert_eq!(change.new_tables, vec!["acc".to_owned()]);
    assert_eq!(s.store.replicated_tables(), vec!["acc".to_owned()]);
    assert_eq!(
        s.dump("acc"),
        vec![
            vec![int(1), int(7), patina_store::Value::Null],
            vec![int(2), int(5), text("b")]
        ]
    );
    // The rows it held were clocked: they replicate.
    assert!(!s.everything().is_empty());
    // Its index and CHECK came along; the key holds.
    let indexes: i64 = s
        .store
        .conn()
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'acc_note'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(indexes, 1);
    assert!(
        s.store
            .conn()
            .execute_batch("INSERT INTO acc VALUES (3, -500, 'c')")
            .is_err()
    );
    assert!(
        s.store
            .conn()
            .execute_batch("INSERT INTO acc VALUES (1, 0, 'again')")
            .is_err()
    );
    assert_eq!(
        s.store.add_primary_key("acc", &["bal".into()]),
        Err(SchemaError::PrimaryKeyExists {
            table: "acc".into()
        })
    );
}

#[test]
fn a_key_over_nulls_or_duplicates_is_refused_and_changes_nothing() {
    let mut s = TempStore::new();
    s.store
        .apply_ddl("CREATE TABLE h (a INTEGER, b TEXT)")
        .unwrap();
    s.exec("INSERT INTO h VALUES (1, 'x'), (1, 'y'), (NULL, 'z')");
    let before = schema_sql(&s);
    assert_eq!(
        s.store.add_primary_key("h", &["b".into(), "a".into()]),
        Err(SchemaError::NullInKey {
            table: "h".into(),
            column: "a".into()
        })
    );
    s.exec("DELETE FROM h WHERE a IS NULL");
    assert_eq!(
        s.store.add_primary_key("h", &["a".into()]),
        Err(SchemaError::DuplicateKey {
            table: "h".into(),
            key: "(a)=(1)".into()
        })
    );
    assert_eq!(schema_sql(&s), before);
    assert!(s.store.replicated_tables().is_empty());
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

/// A session's TEMP trigger naming the columns (as a change feed's capture
/// does) neither turns the refusal into SQLite's trigger error nor is lost.
#[test]
fn a_temp_trigger_on_the_table_does_not_hide_the_refusal() {
    const LOG: &str = "CREATE TEMP TABLE seen (name TEXT);
        CREATE TEMP TRIGGER items_seen AFTER UPDATE ON main.items
        BEGIN INSERT INTO seen VALUES (OLD.name); END;";
    let mut s = TempStore::with_schema(ITEMS);
    s.store.conn().execute_batch(LOG).expect("temp trigger");
    let temp_triggers = |s: &TempStore| -> Vec<String> {
        s.store
            .conn()
            .prepare("SELECT sql FROM sqlite_temp_master WHERE type = 'trigger'")
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows")
    };
    let before = temp_triggers(&s);
    assert_eq!(
        s.store.apply_ddl("ALTER TABLE items DROP COLUMN name"),
        Err(SchemaError::DropColumn {
            table: "items".into(),
            column: "name".into()
        })
    );
    assert_eq!(temp_triggers(&s), before);
    s.store
        .apply_ddl("ALTER TABLE items ADD COLUMN price INTEGER")
        .expect("add column");
    assert_eq!(temp_triggers(&s), before);
    assert!(
        !schema_sql(&s).iter().any(|sql| sql.contains("items_seen")),
        "the trigger stays TEMP"
    );
    s.exec("INSERT INTO items (id, name) VALUES (1, 'a')");
    s.exec("UPDATE items SET price = 2 WHERE id = 1");
    let seen: String = s
        .store
        .conn()
        .query_row("SELECT name FROM seen", [], |r| r.get(0))
        .expect("the trigger ran");
    assert_eq!(seen, "a");
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
