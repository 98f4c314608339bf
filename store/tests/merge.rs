//! Merging remote change sets: the per-cell rules, no echo, relaying,
//! bookkeeping, and failures that leave nothing behind.

mod common;

use common::{TempStore, int, text};
use patina_store::{Change, ChangeSet, MergeError, SiteId, Value, Versions};

const ITEMS: &str = "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER DEFAULT 0)";

fn pair() -> (TempStore, TempStore) {
    (TempStore::with_schema(ITEMS), TempStore::with_schema(ITEMS))
}

/// Sends everything `from` knows to `to`.
fn sync(from: &TempStore, to: &mut TempStore) {
    to.store.merge(&from.everything()).expect("merge");
}

fn both_ways(a: &mut TempStore, b: &mut TempStore) {
    sync(a, b);
    sync(b, a);
    assert_eq!(a.dump("items"), b.dump("items"));
}

#[test]
fn merge_applies_without_echo_and_records_bookkeeping() {
    let (a, mut b) = pair();
    a.exec("INSERT INTO items VALUES (1, 'apple', 3)");
    a.exec("UPDATE items SET qty = 4");
    let outcome = b.store.merge(&a.everything()).unwrap();
    assert_eq!(
        outcome.versions_applied, 3,
        "the schema's version and two writes"
    );
    assert_eq!(b.dump("items"), vec![vec![int(1), text("apple"), int(4)]]);
    assert_eq!(b.writes(), 0, "merged changes are not local writes");
    let progress = &b.store.sync_state().unwrap()[&a.store.site_id()];
    assert_eq!((progress.max_version, progress.gaps.clone()), (3, vec![]));
    let again = b.store.merge(&a.everything()).unwrap();
    assert_eq!(
        (
            again.versions_applied,
            again.versions_skipped,
            again.cells_changed
        ),
        (0, 3, 0)
    );
}

#[test]
fn merged_changes_are_relayed_with_their_origin() {
    let (a, mut b) = pair();
    let mut c = TempStore::with_schema(ITEMS);
    a.exec("INSERT INTO items VALUES (1, 'apple', 3)");
    sync(&a, &mut b);
    // `b` declared the same schema: of `a`'s schema version it holds nothing
    // of `a`'s (equal cells keep one writer), so it relays the write only.
    let writes = a.schema_version + 1..=10;
    let relayed = b.store.changes(a.store.site_id(), writes.clone()).unwrap();
    assert_eq!(relayed, a.store.changes(a.store.site_id(), writes).unwrap());
    c.store.merge(&relayed).unwrap();
    assert_eq!(c.dump("items"), a.dump("items"));
    assert_eq!(
        c.store.sync_state().unwrap()[&a.store.site_id()].max_version,
        a.store.db_version().unwrap()
    );
}

#[test]
fn gaps_are_reported_until_filled() {
    let (a, mut b) = pair();
    for i in 1..=5 {
        a.exec(&format!("INSERT INTO items VALUES ({i}, 'x', {i})"));
    }
    let all = a.everything();
    b.store.merge(&[all[0].clone(), all[3].clone()]).unwrap();
    let progress = &b.store.sync_state().unwrap()[&a.store.site_id()];
    assert_eq!(
        (progress.max_version, progress.gaps.clone()),
        (4, vec![2..=3])
    );
    b.store.merge(&all).unwrap();
    assert_eq!(b.dump("items"), a.dump("items"));
    assert!(
        b.store.sync_state().unwrap()[&a.store.site_id()]
            .gaps
            .is_empty()
    );
}

#[test]
fn higher_col_version_wins_regardless_of_order() {
    let (mut a, mut b) = pair();
    a.exec("INSERT INTO items VALUES (1, 'a', 0)");
    both_ways(&mut a, &mut b);
    a.exec("UPDATE items SET name = 'a2'");
    a.exec("UPDATE items SET name = 'a3'");
    b.exec("UPDATE items SET name = 'zzz'");
    both_ways(&mut a, &mut b);
    assert_eq!(a.dump("items"), vec![vec![int(1), text("a3"), int(0)]]);
}

#[test]
fn equal_versions_break_ties_by_value_order() {
    // NULL < BLOB < TEXT < REAL < INTEGER; within text, bytes without collation.
    let cases: [(&str, &str, Value); 6] = [
        ("'B'", "'a'", text("a")),
        ("'10'", "'9'", text("9")),
        ("'ab'", "'abc'", text("abc")),
        ("NULL", "''", text("")),
        ("2.5", "'zz'", Value::Real(2.5)),
        ("1", "1.5", int(1)),
    ];
    for (left, right, winner) in cases {
        let s = "CREATE TABLE t (id INTEGER PRIMARY KEY, v)";
        let (mut a, mut b) = (TempStore::with_schema(s), TempStore::with_schema(s));
        a.exec(&format!("INSERT INTO t VALUES (1, {left})"));
        b.exec(&format!("INSERT INTO t VALUES (1, {right})"));
        sync(&a, &mut b);
        sync(&b, &mut a);
        assert_eq!(
            a.dump("t"),
            vec![vec![int(1), winner.clone()]],
            "{left} vs {right}"
        );
        assert_eq!(b.dump("t"), a.dump("t"));
    }
}

#[test]
fn type_affinity_applies_before_comparison() {
    let (mut a, mut b) = pair();
    a.exec("INSERT INTO items VALUES (1, 'x', '5')");
    b.exec("INSERT INTO items VALUES (1, 'x', 5)");
    both_ways(&mut a, &mut b);
    assert_eq!(a.dump("items"), vec![vec![int(1), text("x"), int(5)]]);
}

#[test]
fn delete_beats_concurrent_update() {
    let (mut a, mut b) = pair();
    a.exec("INSERT INTO items VALUES (1, 'a', 0)");
    both_ways(&mut a, &mut b);
    a.exec("DELETE FROM items");
    b.exec("UPDATE items SET name = 'b1'");
    b.exec("UPDATE items SET name = 'b2'");
    both_ways(&mut a, &mut b);
    assert!(a.dump("items").is_empty());
}

#[test]
fn reinsert_after_delete_wins_with_its_whole_row() {
    let (mut a, mut b) = pair();
    a.exec("INSERT INTO items VALUES (1, 'a', 7)");
    both_ways(&mut a, &mut b);
    b.exec("UPDATE items SET name = 'b1'");
    b.exec("UPDATE items SET name = 'b2'");
    a.exec("DELETE FROM items");
    a.exec("INSERT INTO items (id, name) VALUES (1, 'fresh')");
    both_ways(&mut a, &mut b);
    assert_eq!(a.dump("items"), vec![vec![int(1), text("fresh"), int(0)]]);
}

#[test]
fn deleted_row_stays_deleted_when_old_changes_arrive_late() {
    let (a, mut b) = pair();
    a.exec("INSERT INTO items VALUES (1, 'a', 7)");
    a.exec("DELETE FROM items");
    let all = a.everything();
    // The delete first, then the (now cleared) insert version.
    b.store
        .merge(&all.iter().rev().cloned().collect::<Vec<_>>())
        .unwrap();
    assert!(b.dump("items").is_empty());
}

#[test]
fn partial_row_creates_row_with_defaults_and_merges_into_existing() {
    let mut b = TempStore::with_schema(ITEMS);
    let site = SiteId([9; 16]);
    let change = |column: &str, value: Value| Change {
        table: "items".to_owned(),
        pk: vec![int(4)],
        column: Some(column.to_owned()),
        value,
        col_version: 1,
        causal_length: 1,
        seq: 0,
    };
    let set = |v: u64, change: Change| {
        Versions::Changed(ChangeSet {
            site_id: site,
            db_version: v,
            changes: vec![change],
            keys: [("items".to_owned(), vec!["id".to_owned()])].into(),
        })
    };
    b.store
        .merge(&[set(1, change("name", text("only name")))])
        .unwrap();
    assert_eq!(
        b.dump("items"),
        vec![vec![int(4), text("only name"), int(0)]]
    );
    b.store.merge(&[set(2, change("qty", int(12)))]).unwrap();
    assert_eq!(
        b.dump("items"),
        vec![vec![int(4), text("only name"), int(12)]]
    );
}

#[test]
fn a_malformed_version_rolls_back_the_whole_batch() {
    let (a, mut b) = pair();
    a.exec("INSERT INTO items VALUES (1, 'a', 7)");
    let mut batch = a.everything();
    batch.push(Versions::Changed(ChangeSet {
        site_id: SiteId([3; 16]),
        db_version: 1,
        keys: [("items".to_owned(), vec!["id".to_owned()])].into(),
        changes: vec![Change {
            table: "items".to_owned(),
            pk: vec![int(1), int(2)],
            column: None,
            value: Value::Null,
            col_version: 1,
            causal_length: 1,
            seq: 0,
        }],
    }));
    assert!(
        matches!(b.store.merge(&batch), Err(MergeError::Malformed { table, .. }) if table == "items")
    );
    assert!(b.dump("items").is_empty());
    assert!(
        !b.store
            .sync_state()
            .unwrap()
            .contains_key(&a.store.site_id())
    );
    // The store is still usable, and the good part merges on retry.
    b.store.merge(&batch[..batch.len() - 1]).unwrap();
    assert_eq!(b.dump("items"), a.dump("items"));
}

#[test]
fn merge_inside_an_open_transaction_is_refused() {
    let (a, mut b) = pair();
    a.exec("INSERT INTO items VALUES (1, 'a', 7)");
    b.exec("BEGIN");
    assert!(matches!(
        b.store.merge(&a.everything()),
        Err(MergeError::InTransaction)
    ));
    b.exec("ROLLBACK");
}

#[test]
fn own_versions_coming_back_are_never_reused() {
    let (a, mut b) = pair();
    a.exec("INSERT INTO items VALUES (1, 'a', 7)");
    // `b` pretends to be restored: it receives versions of its own site it no longer has.
    let write = a.schema_version + 1..=a.schema_version + 1;
    let changes = a.store.changes(a.store.site_id(), write).unwrap();
    let mine = changes.into_iter().map(|v| match v {
        Versions::Changed(mut set) => {
            set.site_id = b.store.site_id();
            set.db_version = 3;
            Versions::Changed(set)
        }
        other => other,
    });
    b.store.merge(&mine.collect::<Vec<_>>()).unwrap();
    assert_eq!(b.store.db_version().unwrap(), 3);
    b.exec("UPDATE items SET qty = 8");
    assert_eq!(b.store.db_version().unwrap(), 4);
}

#[test]
fn compaction_drops_log_entries_of_overwritten_versions_only() {
    let (a, mut b) = pair();
    let mut a = a;
    a.exec("INSERT INTO items VALUES (1, 'a', 0)");
    for i in 1..=20 {
        a.exec(&format!("UPDATE items SET qty = {i}"));
    }
    let log_len = |s: &TempStore| -> i64 {
        s.store
            .conn()
            .query_row("SELECT count(*) FROM __patina_log", [], |r| r.get(0))
            .unwrap()
    };
    let schema_entries = log_len(&a) - 21;
    assert_eq!(schema_entries, 4, "the table and its three columns");
    let answer = a.everything();
    let mut removed = 0;
    loop {
        let pass = a.store.compact_log(4).unwrap();
        removed += pass.removed;
        if pass.pass_complete {
            break;
        }
    }
    // Version 1 still holds the row's life and name; 21 holds qty.
    assert_eq!((removed, log_len(&a)), (19, 2 + schema_entries));
    assert_eq!(a.everything(), answer);
    assert_eq!(a.writes(), 21);
    sync(&a, &mut b);
    assert_eq!(b.dump("items"), vec![vec![int(1), text("a"), int(20)]]);
}
