//! A `Reader` on its own connection answers like the store itself, and
//! follows tables and sites added after it was opened.

mod common;

use common::TempStore;
use patina_store::Reader;

#[test]
fn reader_sees_what_the_store_sees_including_later_tables_and_sites() {
    let mut a = TempStore::with_schema("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)");
    let mut reader = Reader::open(a.store.path()).unwrap();
    assert_eq!(reader.site_id(), a.store.site_id());
    assert_eq!(reader.db_version().unwrap(), a.schema_version);

    a.exec("INSERT INTO items VALUES (1, 'one')");
    a.store
        .apply_ddl("CREATE TABLE later (k TEXT PRIMARY KEY NOT NULL, v INTEGER)")
        .unwrap();
    a.exec("INSERT INTO later VALUES ('x', 1)");
    let b = TempStore::with_schema("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)");
    b.exec("INSERT INTO items VALUES (2, 'from b')");
    a.store.merge(&b.everything()).unwrap();

    assert_eq!(reader.db_version().unwrap(), a.store.db_version().unwrap());
    assert_eq!(reader.sync_state().unwrap(), a.store.sync_state().unwrap());
    for (site, progress) in a.store.sync_state().unwrap() {
        assert_eq!(
            reader.changes(site, 1..=progress.max_version).unwrap(),
            a.store.changes(site, 1..=progress.max_version).unwrap()
        );
    }
    let b_writes = b.schema_version + 1..=b.schema_version + 1;
    assert_eq!(
        reader.changes(b.store.site_id(), b_writes).unwrap().len(),
        1
    );
}
