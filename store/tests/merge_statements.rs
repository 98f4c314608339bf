//! Merge statements stay prepared across merges (in the connection's
//! statement cache): a schema change merged, or applied locally, between
//! two merges must not leave a later merge writing through a statement of
//! the table's old shape. And a merge says whether it moved this node's
//! own db_version (`MergeOutcome::local_versions`).

mod common;

use common::{TempStore, int, text};
use patina_store::{Store, Value, Versions};

const ITEMS: &str = "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER DEFAULT 0)";

/// `from`'s own versions after `after`, each merged into `to` on its own.
fn merge_one_by_one(from: &TempStore, after: u64, to: &mut TempStore) {
    let site = from.store.site_id();
    let head = from.store.db_version().expect("db_version");
    for item in from.store.changes(site, after + 1..=head).expect("changes") {
        let outcome = to.store.merge(std::slice::from_ref(&item)).expect("merge");
        assert!(!outcome.local_versions, "{item:?}");
    }
}

#[test]
fn merges_after_a_merged_or_local_schema_change_write_the_new_shape() {
    let mut a = TempStore::with_schema(ITEMS);
    a.exec("INSERT INTO items VALUES (1, 'fig', 2)");
    let mut b = TempStore::new();
    merge_one_by_one(&a, 0, &mut b);
    assert_eq!(b.dump("items"), a.dump("items"));

    // A column arrives in one merge, rows using it in the next ones.
    let seen = a.store.db_version().unwrap();
    a.store
        .apply_ddl("ALTER TABLE items ADD COLUMN price REAL DEFAULT 1.5")
        .unwrap();
    a.exec("INSERT INTO items VALUES (2, 'kiwi', 5, 9.25)");
    a.exec("UPDATE items SET name = 'plum', price = 3.0 WHERE id = 1");
    merge_one_by_one(&a, seen, &mut b);
    assert_eq!(b.dump("items"), a.dump("items"));

    // A column added here between two merges: merged rows keep it.
    b.store
        .apply_ddl("ALTER TABLE items ADD COLUMN color TEXT DEFAULT 'red'")
        .unwrap();
    b.exec("UPDATE items SET color = 'blue' WHERE id = 2");
    let seen = a.store.db_version().unwrap();
    a.exec("INSERT INTO items VALUES (3, 'pear', 1, 2.5)");
    a.exec("UPDATE items SET qty = 7 WHERE id = 2");
    merge_one_by_one(&a, seen, &mut b);
    assert_eq!(
        b.dump("items"),
        vec![
            vec![int(1), text("plum"), int(2), Value::Real(3.0), text("red")],
            vec![
                int(2),
                text("kiwi"),
                int(7),
                Value::Real(9.25),
                text("blue")
            ],
            vec![int(3), text("pear"), int(1), Value::Real(2.5), text("red")],
        ]
    );
}

#[test]
fn a_merge_taking_back_this_nodes_own_versions_reports_local_versions() {
    let a = TempStore::with_schema(ITEMS);
    a.exec("INSERT INTO items VALUES (1, 'fig', 2)");
    let copy = a.dir.path().join("copy.sqlite");
    a.exec(&format!("VACUUM INTO '{}'", copy.display()));
    a.exec("INSERT INTO items VALUES (2, 'kiwi', 5)");
    let head = a.store.db_version().unwrap();

    // The copy is this node restored from before its last write.
    let mut restored = Store::open(&copy).unwrap();
    assert_eq!(restored.site_id(), a.store.site_id());
    assert_eq!(restored.db_version().unwrap(), head - 1);
    let own: Vec<Versions> = a.store.changes(a.store.site_id(), head..=head).unwrap();
    let outcome = restored.merge(&own).unwrap();
    assert!(outcome.local_versions);
    assert_eq!(restored.db_version().unwrap(), head);
    let again = restored.merge(&own).unwrap();
    assert!(!again.local_versions, "applied already");
}
