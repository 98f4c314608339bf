//! Two stores that concurrently create the same table with different
//! primary keys end with the winning definition's key everywhere, rows
//! that fit it kept, none applied under the wrong key, whatever order the
//! versions travel in.

mod common;

use std::collections::BTreeMap;

use common::{TempStore, int, text};
use patina_store::{MergeError, SiteId, SiteProgress, Value, Versions};

/// Loses to `KEYED_BY_B` (the recorded definitions tie on their clocks,
/// then the higher text wins).
const KEYED_BY_A: &str = "CREATE TABLE t (a INTEGER PRIMARY KEY, b INTEGER, c TEXT)";
const KEYED_BY_B: &str = "CREATE TABLE t (b INTEGER PRIMARY KEY, a INTEGER, c TEXT, d TEXT)";

/// Store A keyed by `a`: rows 3 (NULL `b`) and 4 (its `b` duplicates row 1's)
/// cannot have B's key.
fn store_a() -> TempStore {
    let a = TempStore::with_schema(KEYED_BY_A);
    a.exec("INSERT INTO t VALUES (1, 10, 'a1'), (2, 20, 'a2')");
    a.exec("INSERT INTO t VALUES (3, NULL, 'a3'), (4, 10, 'a4')");
    a.exec("UPDATE t SET c = 'a2 again' WHERE a = 2");
    a
}

/// Store B keyed by `b`: row 10 is also one of A's rows under that key.
fn store_b() -> TempStore {
    let b = TempStore::with_schema(KEYED_BY_B);
    b.exec("INSERT INTO t VALUES (10, 100, 'b10', 'x'), (30, 3, 'b30', NULL)");
    b
}

/// Offers `items` to `to`, one at a time, as anti-entropy would: refused
/// ones (a key `to` does not agree on yet) are offered again later.
fn offer(items: &[Versions], to: &mut TempStore) {
    for item in items {
        match to.store.merge(std::slice::from_ref(item)) {
            Ok(_) => {}
            Err(MergeError::KeyMismatch { table, .. }) => assert_eq!(table, "t"),
            Err(error) => panic!("merge failed: {error}"),
        }
    }
}

/// Exchanges versions between the stores in the order `pairs` gives
/// (from, to), round after round, until a round changes no store's
/// versions.
fn settle(stores: &mut [TempStore], pairs: &[(usize, usize)]) {
    for _ in 0..20 {
        let before: Vec<_> = stores.iter().map(progress).collect();
        for &(from, to) in pairs {
            let items = stores[from].everything();
            offer(&items, &mut stores[to]);
        }
        if stores.iter().map(progress).eq(before) {
            return;
        }
    }
    panic!("the stores did not settle");
}

/// The table's key columns, as SQLite declares them.
fn key(s: &TempStore) -> Vec<String> {
    s.store
        .conn()
        .prepare("SELECT name FROM pragma_table_info('t') WHERE pk > 0 ORDER BY pk")
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
        .expect("key")
}

fn rows(s: &TempStore) -> Vec<Vec<Value>> {
    s.store
        .conn()
        .prepare("SELECT b, a, c, d FROM t ORDER BY b")
        .and_then(|mut stmt| {
            stmt.query_map([], |r| Ok(vec![r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?]))?
                .collect()
        })
        .expect("rows")
}

/// What `s` holds of every site that wrote anything.
fn progress(s: &TempStore) -> BTreeMap<SiteId, SiteProgress> {
    let mut sites = s.store.sync_state().expect("sync state");
    sites.retain(|_, p| p.max_version > 0);
    sites
}

/// Every store has B's key and the same rows, and holds every version of
/// every site without gaps.
fn assert_converged(stores: &[TempStore]) -> Vec<Vec<Value>> {
    let expected = rows(&stores[0]);
    for s in stores {
        assert_eq!(key(s), ["b"]);
        assert_eq!(rows(s), expected);
        assert_eq!(progress(s), progress(&stores[0]));
        for (site, p) in progress(s) {
            assert!(p.gaps.is_empty(), "{site} has gaps {:?}", p.gaps);
        }
    }
    let b_keys: Vec<&Value> = expected.iter().map(|row| &row[0]).collect();
    // A's rows under B's key (10 and 20; 3 had no `b`, 4 duplicated 10),
    // B's own (10 and 30); never A's key values in B's key column.
    assert_eq!(b_keys, [&int(10), &int(20), &int(30)]);
    assert_eq!(
        expected[1],
        vec![int(20), int(2), text("a2 again"), Value::Null]
    );
    assert_eq!(expected[2], vec![int(30), int(3), text("b30"), Value::Null]);
    expected
}

#[test]
fn both_orders_and_a_third_store_end_with_the_winning_key_and_the_same_rows() {
    let mut outcomes = Vec::new();

    let mut stores = vec![store_a(), store_b()];
    settle(&mut stores, &[(0, 1), (1, 0)]);
    outcomes.push(assert_converged(&stores));

    let mut stores = vec![store_a(), store_b()];
    settle(&mut stores, &[(1, 0), (0, 1)]);
    outcomes.push(assert_converged(&stores));

    // A third store learns from both, one version at a time, alternating,
    // before and while A and B learn from each other.
    let mut stores = vec![store_a(), store_b(), TempStore::new()];
    let from_a = stores[0].everything();
    let from_b = stores[1].everything();
    for i in 0..from_a.len().max(from_b.len()) {
        for item in [from_a.get(i), from_b.get(i)].into_iter().flatten() {
            offer(std::slice::from_ref(item), &mut stores[2]);
        }
    }
    settle(
        &mut stores,
        &[(2, 0), (1, 2), (0, 1), (2, 1), (1, 0), (0, 2)],
    );
    outcomes.push(assert_converged(&stores));

    assert!(outcomes.windows(2).all(|w| w[0] == w[1]), "{outcomes:?}");
}

#[test]
fn the_losing_store_rebuilds_on_the_merge_that_brings_the_winner() {
    let mut a = store_a();
    let b = store_b();
    let before = a.store.db_version().unwrap();
    let outcome = a.store.merge(&b.everything()).unwrap();
    assert!(outcome.schema_changed, "the pg layer reloads its schema");
    assert!(outcome.local_versions, "the broadcaster is woken");
    assert_eq!(key(&a), ["b"]);
    assert_eq!(
        a.store.db_version().unwrap(),
        before + 1,
        "the kept rows are one new local write"
    );
    // Row 10 is B's (merged after the rebuild), row 20 is A's, re-captured.
    let kept = a.local_changes(before + 1);
    assert!(kept.iter().all(|c| c.table == "t"));
    assert!(kept.iter().any(|c| c.pk == [int(20)]));
    assert!(kept.iter().all(|c| c.pk.len() == 1));

    // A's older versions of the table no longer hold anything: they report
    // cleared, so no peer waits for them.
    let site = a.store.site_id();
    let old = a
        .store
        .changes(site, a.schema_version + 1..=before)
        .unwrap();
    assert!(
        old.iter().all(|v| matches!(v, Versions::Cleared { .. })),
        "{old:?}"
    );

    // The rebuilt table is replicated: a write on A reaches B.
    a.exec("INSERT INTO t (b, a, c) VALUES (50, 5, 'after')");
    let mut b = b;
    offer(&a.everything(), &mut b);
    assert_eq!(rows(&a), rows(&b));
}

#[test]
fn a_store_refuses_rows_under_another_key_until_it_has_it() {
    let a = store_a();
    let mut b = store_b();
    // A's row versions without the schema version that would make B rebuild…
    let rows_only: Vec<Versions> = a
        .everything()
        .into_iter()
        .filter(|v| *v.versions().start() > a.schema_version)
        .collect();
    let before = rows(&b);
    for item in &rows_only {
        assert!(matches!(
            b.store.merge(std::slice::from_ref(item)),
            Err(MergeError::KeyMismatch { table, theirs, ours })
                if table == "t" && theirs == "a" && ours == "b"
        ));
    }
    assert_eq!(rows(&b), before, "nothing applied under the wrong key");
    let site = a.store.site_id();
    assert!(
        !progress(&b).contains_key(&site),
        "nothing recorded as applied"
    );
}

#[test]
fn a_later_alter_can_make_the_other_definition_win_and_everyone_follows() {
    let a = store_a();
    // A's definition changes again (a newer clock): it now beats B's.
    let mut a = a;
    a.store
        .apply_ddl("ALTER TABLE t ADD COLUMN e INTEGER DEFAULT 0")
        .unwrap();
    let b = store_b();
    let mut stores = vec![a, b, TempStore::new()];
    settle(
        &mut stores,
        &[(1, 2), (0, 1), (2, 0), (1, 0), (0, 2), (2, 1)],
    );
    let expected = stores[0]
        .store
        .conn()
        .prepare("SELECT a, b, c, d, e FROM t ORDER BY a")
        .and_then(|mut stmt| {
            stmt.query_map([], |r| (0..5).map(|i| r.get::<_, Value>(i)).collect())?
                .collect::<rusqlite::Result<Vec<Vec<Value>>>>()
        })
        .unwrap();
    for s in &stores {
        assert_eq!(key(s), ["a"]);
        assert_eq!(s.dump("t").len(), expected.len());
    }
    assert_eq!(stores[0].dump("t"), stores[1].dump("t"));
    assert_eq!(stores[0].dump("t"), stores[2].dump("t"));
    let a_keys: Vec<&Value> = expected.iter().map(|row| &row[0]).collect();
    // A's four rows, B's two under A's key (`a` 100 and 3; 3 is also A's).
    assert_eq!(a_keys, [&int(1), &int(2), &int(3), &int(4), &int(100)]);
}

#[test]
fn key_columns_of_the_losing_definition_stay_as_nullable_columns() {
    // B's wins (`t (name` > `t (id`); A's key column `id` is A's alone.
    let a = TempStore::with_schema("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, name TEXT)");
    a.exec("INSERT INTO t VALUES (1, 'one'), (2, NULL)");
    let b = TempStore::with_schema("CREATE TABLE t (name TEXT NOT NULL PRIMARY KEY, addr TEXT)");
    b.exec("INSERT INTO t VALUES ('two', 'b2')");
    let mut stores = vec![a, b];
    settle(&mut stores, &[(0, 1), (1, 0)]);
    for s in &stores {
        assert_eq!(key(s), ["name"]);
        assert_eq!(
            s.dump("t"),
            stores[0].dump("t"),
            "the same columns and rows everywhere"
        );
    }
    let rows: Vec<Vec<Value>> = stores[1]
        .store
        .conn()
        .prepare("SELECT name, addr, id FROM t ORDER BY name")
        .and_then(|mut stmt| {
            stmt.query_map([], |r| (0..3).map(|i| r.get::<_, Value>(i)).collect())?
                .collect()
        })
        .unwrap();
    assert_eq!(
        rows,
        vec![
            vec![text("one"), Value::Null, int(1)],
            vec![text("two"), text("b2"), Value::Null],
        ]
    );
}
