//! Restoring a backup (a `VACUUM INTO` snapshot, as `COPY patina.backup`
//! takes it) as a node's database: under a new site id, or under the
//! node's own with its previous database, which keeps every version the
//! node handed out. Either way the restored store holds what the backup
//! held, with bookkeeping that lets it go on syncing with the others.

mod common;

use std::path::{Path, PathBuf};

use common::{TempStore, int, text};
use patina_store::{RestoreError, SiteId, Store, restore};

const ITEMS: &str = "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)";

fn sync(from: &TempStore, to: &mut TempStore) {
    to.store.merge(&from.everything()).expect("merge");
}

/// A snapshot of `s` in its directory.
fn backup(s: &TempStore) -> PathBuf {
    let path = s.dir.path().join("backup.db");
    s.store
        .conn()
        .execute("VACUUM INTO ?1", [path.to_string_lossy()])
        .expect("vacuum into");
    path
}

fn open(path: &Path) -> TempStore {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("db.sqlite");
    std::fs::copy(path, &target).expect("copy");
    TempStore {
        store: Store::open(&target).expect("open"),
        dir,
        schema_version: 0,
    }
}

/// Two stores that exchanged their writes to `items`; `b` also has a
/// table of its own (no key, so not replicated).
fn pair() -> (TempStore, TempStore) {
    let a = TempStore::with_schema(ITEMS);
    a.exec("INSERT INTO items VALUES (1, 'from a')");
    let mut b = TempStore::new();
    sync(&a, &mut b);
    b.exec("INSERT INTO items VALUES (2, 'from b')");
    b.store
        .apply_ddl("CREATE TABLE scratch (note TEXT)")
        .expect("local table");
    b.exec("CREATE INDEX scratch_note ON scratch (note); INSERT INTO scratch VALUES ('mine')");
    let mut a = a;
    sync(&b, &mut a);
    (a, b)
}

#[test]
fn a_backup_restored_under_a_new_site_id_holds_everything_and_syncs_on() {
    let (mut a, b) = pair();
    let snapshot = backup(&b);
    let dir = tempfile::tempdir().unwrap();
    let into = dir.path().join("restored.db");
    let restored = restore(&snapshot, &into, None, None).expect("restore");
    assert_eq!(restored.backup_site_id, b.store.site_id());
    assert_ne!(restored.site_id, b.store.site_id());
    assert_ne!(restored.site_id, a.store.site_id());
    assert_eq!(restored.local_tables, vec!["scratch".to_owned()]);
    assert_eq!(restored.own_versions, 0);

    let mut c = TempStore {
        store: Store::open(&into).unwrap(),
        dir,
        schema_version: 0,
    };
    assert_eq!(c.store.site_id(), restored.site_id);
    assert_eq!(c.dump("items"), b.dump("items"));
    assert_eq!(c.dump("scratch"), vec![vec![text("mine")]]);
    assert_eq!(
        c.store.db_version().unwrap(),
        0,
        "nothing restored is its own"
    );
    let progress = |s: &TempStore, site: SiteId| s.store.sync_state().unwrap()[&site].clone();
    for site in [a.store.site_id(), b.store.site_id()] {
        assert_eq!(progress(&c, site), progress(&b, site), "{site}");
    }

    // The restored node is a node like any other: its writes travel, and
    // so do the others' newer ones.
    c.exec("INSERT INTO items VALUES (3, 'from c')");
    a.exec("INSERT INTO items VALUES (4, 'from a, later')");
    sync(&c, &mut a);
    sync(&a, &mut c);
    assert_eq!(c.dump("items"), a.dump("items"));
    assert_eq!(
        a.dump("items"),
        vec![
            vec![int(1), text("from a")],
            vec![int(2), text("from b")],
            vec![int(3), text("from c")],
            vec![int(4), text("from a, later")],
        ]
    );
}

#[test]
fn keeping_the_site_id_keeps_every_own_version_even_newer_than_the_backup() {
    let (a, mut b) = pair();
    // b's first version needs a's table, its later ones do not: its own
    // versions still go in in order.
    b.store
        .apply_ddl("CREATE TABLE mine (id INTEGER PRIMARY KEY)")
        .expect("schema");
    b.exec("INSERT INTO mine VALUES (1)");
    let snapshot = backup(&b);
    b.exec("INSERT INTO items VALUES (5, 'from b, after the backup')");
    let own_top = b.store.db_version().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let into = dir.path().join("restored.db");
    let restored = restore(
        &snapshot,
        &into,
        Some(b.store.site_id()),
        Some(b.store.path()),
    )
    .expect("restore");
    assert_eq!(restored.site_id, b.store.site_id());
    assert_eq!(restored.own_versions, own_top);

    let c = TempStore {
        store: Store::open(&into).unwrap(),
        dir,
        schema_version: 0,
    };
    assert_eq!(c.store.site_id(), b.store.site_id());
    assert_eq!(
        c.store.db_version().unwrap(),
        own_top,
        "the next own version comes after every one handed out"
    );
    assert_eq!(c.dump("items"), b.dump("items"));
    assert_eq!(c.dump("mine"), vec![vec![int(1)]]);
    c.exec("INSERT INTO items VALUES (6, 'after the restore')");
    assert_eq!(c.store.db_version().unwrap(), own_top + 1);

    let mut a = a;
    sync(&c, &mut a);
    assert_eq!(a.dump("items"), c.dump("items"));
}

#[test]
fn a_version_waiting_for_another_sites_table_is_applied_after_it() {
    // b writes into a table a created, and the restore reads b's versions
    // first (sites go in site id order): b's version waits for a's.
    let (_a, b) = (0..64)
        .map(|_| pair())
        .find(|(a, b)| b.store.site_id() < a.store.site_id())
        .expect("a pair in the wanted order");
    let snapshot = backup(&b);
    let dir = tempfile::tempdir().unwrap();
    let into = dir.path().join("restored.db");
    restore(&snapshot, &into, None, None).expect("restore");
    assert_eq!(open(&into).dump("items"), b.dump("items"));
}

#[test]
fn refusals_name_what_is_wrong() {
    let (a, b) = pair();
    let snapshot = backup(&b);
    let dir = tempfile::tempdir().unwrap();

    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, b"this is not a database at all, not even close").unwrap();
    let error = restore(&garbage, &dir.path().join("x.db"), None, None).unwrap_err();
    assert!(
        matches!(error, RestoreError::NotADatabase { .. }),
        "{error}"
    );

    let existing = dir.path().join("existing.db");
    std::fs::write(&existing, b"").unwrap();
    let error = restore(&snapshot, &existing, None, None).unwrap_err();
    assert!(matches!(error, RestoreError::Exists { .. }), "{error}");

    let error = restore(
        &snapshot,
        &dir.path().join("y.db"),
        Some(b.store.site_id()),
        Some(a.store.path()),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "the previous database {} belongs to site {}, not {}",
            a.store.path().display(),
            a.store.site_id(),
            b.store.site_id()
        )
    );
}
