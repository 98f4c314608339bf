//! The schema is replicated state: DDL on one store reaches another through
//! the same changes as data, in any order, and concurrent additions on
//! different stores converge to their union.

mod common;

use common::{TempStore, int, shape, text};
use patina_store::{Value, Versions};

const ITEMS: &str = "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER DEFAULT 0)";

fn sync(from: &TempStore, to: &mut TempStore) {
    to.store.merge(&from.everything()).expect("merge");
}

#[test]
fn a_table_created_on_one_store_reaches_another_with_its_rows() {
    let a = TempStore::with_schema(ITEMS);
    a.exec("INSERT INTO items VALUES (1, 'apple', 3)");
    let mut b = TempStore::new();
    let outcome = b.store.merge(&a.everything()).unwrap();
    assert!(outcome.schema_changed);
    assert_eq!(b.dump("items"), vec![vec![int(1), text("apple"), int(3)]]);
    assert_eq!(shape(&b, "items"), shape(&a, "items"));
    assert_eq!(b.store.replicated_tables(), vec!["items".to_owned()]);
    assert_eq!(
        b.store.db_version().unwrap(),
        0,
        "applying the cluster's schema is not a local write"
    );

    // The table is replicated on `b` too: its writes travel back.
    b.exec("INSERT INTO items VALUES (2, 'pear', 1)");
    let mut a = a;
    sync(&b, &mut a);
    assert_eq!(a.dump("items"), b.dump("items"));
    let again = b.store.merge(&a.everything()).unwrap();
    assert!(!again.schema_changed);
}

#[test]
fn added_columns_and_indexes_follow_and_dropped_indexes_go() {
    let mut a = TempStore::with_schema(ITEMS);
    let mut b = TempStore::new();
    sync(&a, &mut b);
    a.store
        .apply_ddl("ALTER TABLE items ADD COLUMN price REAL DEFAULT 1.5")
        .unwrap();
    a.store
        .apply_ddl("CREATE INDEX items_name ON items (name)")
        .unwrap();
    a.store
        .apply_ddl("CREATE INDEX items_qty ON items (qty)")
        .unwrap();
    a.exec("INSERT INTO items (id, name) VALUES (1, 'fig')");
    sync(&a, &mut b);
    assert_eq!(shape(&b, "items"), shape(&a, "items"));
    assert_eq!(b.dump("items"), a.dump("items"));

    a.store.apply_ddl("DROP INDEX items_qty").unwrap();
    sync(&a, &mut b);
    assert_eq!(shape(&b, "items").1, vec!["items_name".to_owned()]);
    assert_eq!(b.store.db_version().unwrap(), 0);
}

#[test]
fn concurrent_additions_on_two_stores_converge_to_their_union() {
    let mut a = TempStore::with_schema(ITEMS);
    let mut b = TempStore::new();
    sync(&a, &mut b);
    a.store
        .apply_ddl("ALTER TABLE items ADD COLUMN color TEXT")
        .unwrap();
    a.exec("INSERT INTO items (id, color) VALUES (1, 'red')");
    b.store
        .apply_ddl("ALTER TABLE items ADD COLUMN size INTEGER DEFAULT 0")
        .unwrap();
    b.store
        .apply_ddl("CREATE INDEX items_size ON items (size)")
        .unwrap();
    b.exec("INSERT INTO items (id, size) VALUES (2, 40)");
    sync(&a, &mut b);
    sync(&b, &mut a);
    assert_eq!(shape(&a, "items"), shape(&b, "items"));
    let columns: Vec<String> = shape(&a, "items").0.into_iter().map(|c| c.0).collect();
    assert_eq!(columns, ["color", "id", "name", "qty", "size"]);
    let row = |s: &TempStore, id: i64| -> Vec<Value> {
        s.store
            .conn()
            .query_row(
                "SELECT id, color, size FROM items WHERE id = ?1",
                [id],
                |r| Ok(vec![r.get(0)?, r.get(1)?, r.get(2)?]),
            )
            .unwrap()
    };
    for s in [&a, &b] {
        assert_eq!(row(s, 1), vec![int(1), text("red"), int(0)]);
        assert_eq!(row(s, 2), vec![int(2), Value::Null, int(40)]);
    }
}

#[test]
fn rows_that_arrive_before_their_table_are_kept_then_applied() {
    let a = TempStore::with_schema(ITEMS);
    a.exec("INSERT INTO items VALUES (1, 'early', 1)");
    let everything = a.everything();
    let (schema, rows): (Vec<Versions>, Vec<Versions>) = everything
        .into_iter()
        .partition(|v| *v.versions().end() <= a.schema_version);
    let mut b = TempStore::new();
    let kept = b.store.merge(&rows).unwrap();
    assert_eq!(kept.versions_kept, rows.len() as u64);
    assert!(b.store.replicated_tables().is_empty());
    b.store.merge(&schema).unwrap();
    assert_eq!(b.dump("items"), a.dump("items"));
}

#[test]
fn a_table_created_then_altered_reaches_an_empty_store_in_one_merge() {
    let mut a = TempStore::with_schema(ITEMS);
    a.store
        .apply_ddl("ALTER TABLE items ADD COLUMN price REAL")
        .unwrap();
    let mut b = TempStore::new();
    sync(&a, &mut b);
    assert_eq!(shape(&b, "items"), shape(&a, "items"));
}

#[test]
fn an_index_that_arrives_before_its_column_waits_for_it() {
    let mut a = TempStore::with_schema(ITEMS);
    let mut b = TempStore::new();
    let mut c = TempStore::new();
    sync(&a, &mut b);
    sync(&a, &mut c);
    b.store
        .apply_ddl("ALTER TABLE items ADD COLUMN price REAL")
        .unwrap();
    sync(&b, &mut a);
    a.store
        .apply_ddl("CREATE INDEX items_price ON items (price)")
        .unwrap();
    let index_version = a.store.db_version().unwrap();
    let the_index = a
        .store
        .changes(a.store.site_id(), index_version..=index_version)
        .unwrap();
    c.store.merge(&the_index).unwrap();
    assert_eq!(shape(&c, "items").1, Vec::<String>::new());
    sync(&b, &mut c);
    assert_eq!(shape(&c, "items"), shape(&a, "items"));
}
