//! A database closed and reopened keeps its identity, versions, clocks and
//! bookkeeping.

mod common;

use common::{TempStore, int, text};
use patina_store::Store;

#[test]
fn reopen_keeps_site_id_versions_clocks_and_bookkeeping() {
    let schema = "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)";
    let mut a = TempStore::with_schema(schema);
    let b = TempStore::with_schema(schema);
    b.exec("INSERT INTO items VALUES (1, 'from b')");
    b.exec("INSERT INTO items VALUES (2, 'from b too')");
    a.store.merge(&b.everything()[..1]).unwrap();
    a.exec("INSERT INTO items VALUES (3, 'a'); UPDATE items SET name = 'a2' WHERE id = 3;");

    let site = a.store.site_id();
    let everything = a.everything();
    let state = a.store.sync_state().unwrap();
    let path = a.store.path().to_path_buf();
    let TempStore {
        store,
        dir,
        schema_version,
    } = a;
    drop(store);

    let mut reopened = Store::open(&path).unwrap();
    assert_eq!(reopened.site_id(), site);
    assert_eq!(reopened.db_version().unwrap(), schema_version + 2);
    assert_eq!(reopened.sync_state().unwrap(), state);
    let a = TempStore {
        store: reopened,
        dir,
        schema_version,
    };
    assert_eq!(a.everything(), everything);

    // Capture and merge carry on where they were.
    a.exec("UPDATE items SET name = 'a3' WHERE id = 3");
    assert_eq!(a.writes(), 3);
    let name = a
        .write_changes(3)
        .into_iter()
        .find(|c| c.column.is_some())
        .unwrap();
    assert_eq!((name.col_version, name.value), (3, text("a3")));
    reopened = a.store;
    reopened.merge(&b.everything()).unwrap();
    assert_eq!(
        common::dump(reopened.conn(), "items"),
        vec![
            vec![int(1), text("from b")],
            vec![int(2), text("from b too")],
            vec![int(3), text("a3")]
        ]
    );
}

#[test]
fn a_reader_sees_committed_writes_and_cannot_write() {
    let s = TempStore::with_schema("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)");
    let reader = s.store.open_reader().unwrap();
    s.exec("INSERT INTO items VALUES (1, 'x')");
    assert_eq!(
        common::dump(&reader, "items"),
        vec![vec![int(1), text("x")]]
    );
    assert!(
        reader
            .execute("INSERT INTO items VALUES (2, 'y')", [])
            .is_err()
    );
}
