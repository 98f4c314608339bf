//! A version that arrives before the table or column it needs (whose
//! schema is in another version, still on its way) is kept, not refused:
//! not applied, not recorded as applied, and merged as soon as the schema
//! arrives, by a merge or by local DDL, also across a restart.

mod common;

use common::{TempStore, int, text};
use patina_store::{SiteId, Store, Versions};

const ITEMS: &str = "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)";

/// `s`'s own version `v`.
fn version(s: &TempStore, v: u64) -> Vec<Versions> {
    s.store.changes(s.store.site_id(), v..=v).expect("changes")
}

/// Whether `s` holds `site`'s version `v`.
fn holds(s: &TempStore, site: SiteId, v: u64) -> bool {
    s.store
        .sync_state()
        .expect("sync state")
        .get(&site)
        .is_some_and(|p| p.max_version >= v && !p.gaps.iter().any(|gap| gap.contains(&v)))
}

#[test]
fn a_row_before_its_table_is_kept_then_applied_when_the_table_arrives() {
    let a = TempStore::with_schema(ITEMS);
    a.exec("INSERT INTO items VALUES (1, 'apple')");
    let site = a.store.site_id();
    let mut c = TempStore::new();

    let early = c.store.merge(&version(&a, 2)).expect("merge");
    assert_eq!(early.versions_kept, 1);
    assert_eq!(early.versions_applied, 0);
    assert!(!holds(&c, site, 2), "a kept version is not held");
    // sent again meanwhile: still kept once
    let again = c.store.merge(&version(&a, 2)).expect("merge");
    assert_eq!(again.versions_kept, 1);

    let schema = c.store.merge(&version(&a, 1)).expect("merge");
    assert!(schema.schema_changed);
    assert_eq!(schema.versions_applied, 2, "the schema, then the kept row");
    assert_eq!(c.dump("items"), vec![vec![int(1), text("apple")]]);
    assert!(holds(&c, site, 1) && holds(&c, site, 2));
    let later = c.store.merge(&version(&a, 2)).expect("merge");
    assert_eq!((later.versions_kept, later.versions_skipped), (0, 1));
}

#[test]
fn a_value_before_its_column_waits_for_local_ddl_across_a_restart() {
    let mut a = TempStore::with_schema(ITEMS);
    let mut c = TempStore::new();
    c.store.merge(&version(&a, 1)).expect("the table");
    a.store
        .apply_ddl("ALTER TABLE items ADD COLUMN color TEXT")
        .expect("alter");
    a.exec("INSERT INTO items VALUES (1, 'apple', 'red')");
    let top = a.store.db_version().unwrap();
    let kept = c.store.merge(&version(&a, top)).expect("the row");
    assert_eq!(kept.versions_kept, 1);
    assert!(c.dump("items").is_empty());

    // Kept in the database: a restart keeps it too.
    let path = c.store.path().to_owned();
    let TempStore { store, dir, .. } = c;
    drop(store);
    let mut c = TempStore {
        store: Store::open(&path).unwrap(),
        dir,
        schema_version: 0,
    };
    // The column made here (a schema file reloaded), then any merge.
    c.store
        .apply_ddl("ALTER TABLE items ADD COLUMN color TEXT")
        .expect("local alter");
    let merged = c.store.merge(&[]).expect("merge");
    assert_eq!(merged.versions_applied, 1);
    assert_eq!(
        c.dump("items"),
        vec![vec![int(1), text("apple"), text("red")]]
    );
    assert!(holds(&c, a.store.site_id(), top));
}
