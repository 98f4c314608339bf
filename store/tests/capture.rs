//! Local writes through plain SQL are captured into clocks: one db_version
//! per transaction, every kind of write, nothing from rolled-back work.

mod common;

use common::{TempStore, int, text};
use patina_store::{Change, Value};

const ITEMS: &str = "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER DEFAULT 0)";

/// (pk, column, value, col_version, causal_length) of each change.
type Cell<'a> = (Vec<Value>, Option<&'a str>, Value, u64, u64);

fn cells(changes: &[Change]) -> Vec<Cell<'_>> {
    changes
        .iter()
        .map(|c| {
            (
                c.pk.clone(),
                c.column.as_deref(),
                c.value.clone(),
                c.col_version,
                c.causal_length,
            )
        })
        .collect()
}

#[test]
fn insert_clocks_every_column_including_unnamed_ones() {
    let s = TempStore::with_schema(ITEMS);
    s.exec("INSERT INTO items (id, name) VALUES (1, 'apple')");
    assert_eq!(s.writes(), 1);
    assert_eq!(
        cells(&s.write_changes(1)),
        vec![
            (vec![int(1)], None, Value::Null, 1, 1),
            (vec![int(1)], Some("name"), text("apple"), 1, 1),
            (vec![int(1)], Some("qty"), int(0), 1, 1),
        ]
    );
}

#[test]
fn each_transaction_gets_one_db_version() {
    let s = TempStore::with_schema(ITEMS);
    s.exec("BEGIN; INSERT INTO items VALUES (1, 'a', 1); INSERT INTO items VALUES (2, 'b', 2); UPDATE items SET qty = 5; COMMIT;");
    s.exec("INSERT INTO items VALUES (3, 'c', 3), (4, 'd', 4)");
    assert_eq!(s.writes(), 2);
    let first = s.write_changes(1);
    assert_eq!(first.len(), 6);
    // seq orders the row writes of one transaction; a row's cells share it.
    let seq_of = |id: i64| -> Vec<u64> {
        first
            .iter()
            .filter(|c| c.pk == vec![int(id)])
            .map(|c| c.seq)
            .collect()
    };
    assert!(seq_of(1).iter().all(|s| *s == seq_of(1)[0]));
    assert!(seq_of(2).iter().all(|s| *s == seq_of(2)[0]));
    assert!(seq_of(1)[0] < seq_of(2)[0]);
    let seqs: Vec<u64> = first.iter().map(|c| c.seq).collect();
    assert!(seqs.is_sorted(), "changes come in transaction order");
    assert!(
        first
            .iter()
            .any(|c| c.column.as_deref() == Some("qty") && c.value == int(5) && c.col_version == 2)
    );
    assert_eq!(s.write_changes(2).len(), 6);
}

#[test]
fn update_clocks_only_changed_columns() {
    let s = TempStore::with_schema(ITEMS);
    s.exec("INSERT INTO items VALUES (1, 'a', 1)");
    s.exec("UPDATE items SET name = 'b', qty = 1 WHERE id = 1");
    assert_eq!(
        cells(&s.write_changes(2)),
        vec![(vec![int(1)], Some("name"), text("b"), 2, 1)]
    );
    s.exec("UPDATE items SET qty = qty WHERE id = 1");
    assert_eq!(s.writes(), 2, "a no-op update takes no version");
}

#[test]
fn delete_then_reinsert_restarts_column_versions() {
    let s = TempStore::with_schema(ITEMS);
    s.exec("INSERT INTO items VALUES (1, 'a', 1)");
    s.exec("UPDATE items SET name = 'b'");
    s.exec("DELETE FROM items WHERE id = 1");
    assert_eq!(
        cells(&s.write_changes(3)),
        vec![(vec![int(1)], None, Value::Null, 2, 2)]
    );
    assert!(matches!(
        s.store.changes(s.store.site_id(), 2..=3).unwrap().as_slice(),
        [patina_store::Versions::Cleared { versions, .. }] if *versions == (2..=3)
    ));
    s.exec("INSERT INTO items (id, name) VALUES (1, 'c')");
    assert_eq!(
        cells(&s.write_changes(4)),
        vec![
            (vec![int(1)], None, Value::Null, 3, 3),
            (vec![int(1)], Some("name"), text("c"), 1, 3),
            (vec![int(1)], Some("qty"), int(0), 1, 3),
        ]
    );
}

#[test]
fn upsert_is_captured_as_an_update() {
    let s = TempStore::with_schema(ITEMS);
    s.exec("INSERT INTO items VALUES (1, 'a', 1)");
    s.exec(
        "INSERT INTO items VALUES (1, 'x', 9) ON CONFLICT (id) DO UPDATE SET qty = excluded.qty",
    );
    assert_eq!(
        cells(&s.write_changes(2)),
        vec![(vec![int(1)], Some("qty"), int(9), 2, 1)]
    );
}

#[test]
fn primary_key_update_deletes_old_row_and_creates_new() {
    let s = TempStore::with_schema(ITEMS);
    s.exec("INSERT INTO items VALUES (1, 'a', 1)");
    s.exec("UPDATE items SET id = 2 WHERE id = 1");
    assert_eq!(
        cells(&s.write_changes(2)),
        vec![
            (vec![int(1)], None, Value::Null, 2, 2),
            (vec![int(2)], None, Value::Null, 1, 1),
            (vec![int(2)], Some("name"), text("a"), 1, 1),
            (vec![int(2)], Some("qty"), int(1), 1, 1),
        ]
    );
}

#[test]
fn rolled_back_transaction_leaves_no_trace() {
    let s = TempStore::with_schema(ITEMS);
    s.exec("INSERT INTO items VALUES (1, 'a', 1)");
    s.exec("BEGIN; UPDATE items SET name = 'z'; INSERT INTO items VALUES (2, 'b', 2); ROLLBACK;");
    assert_eq!(s.writes(), 1);
    s.exec("UPDATE items SET qty = 7");
    assert_eq!(s.writes(), 2);
    assert_eq!(
        cells(&s.write_changes(2)),
        vec![(vec![int(1)], Some("qty"), int(7), 2, 1)]
    );
}

#[test]
fn rollback_to_savepoint_keeps_the_rest_of_the_transaction() {
    let s = TempStore::with_schema(ITEMS);
    s.exec(
        "BEGIN; INSERT INTO items VALUES (1, 'a', 1); SAVEPOINT sp; INSERT INTO items VALUES (2, 'b', 2); \
         ROLLBACK TO sp; RELEASE sp; COMMIT;",
    );
    assert_eq!(s.writes(), 1);
    assert!(s.write_changes(1).iter().all(|c| c.pk == vec![int(1)]));
    // A transaction whose only write was rolled back to a savepoint takes no version.
    s.exec("BEGIN; SAVEPOINT sp; UPDATE items SET qty = 3; ROLLBACK TO sp; RELEASE sp; COMMIT;");
    s.exec("UPDATE items SET qty = 4");
    assert_eq!(s.writes(), 2);
}

#[test]
fn composite_and_text_keys_are_captured() {
    let s = TempStore::with_schema(
        "CREATE TABLE edges (src TEXT NOT NULL, dst TEXT NOT NULL, weight REAL, PRIMARY KEY (src, dst))",
    );
    s.exec("INSERT INTO edges VALUES ('a', 'b', 1.5)");
    s.exec("UPDATE edges SET weight = 2.5 WHERE src = 'a'");
    assert_eq!(
        cells(&s.write_changes(2)),
        vec![(
            vec![text("a"), text("b")],
            Some("weight"),
            Value::Real(2.5),
            2,
            1
        )]
    );
}

#[test]
fn existing_rows_are_clocked_when_a_table_becomes_replicated() {
    let mut s = TempStore::new();
    s.exec("CREATE TABLE legacy (k TEXT PRIMARY KEY NOT NULL, v TEXT); INSERT INTO legacy VALUES ('x', '1'), ('y', '2');");
    assert_eq!(s.writes(), 0);
    s.store.make_crr("legacy").unwrap();
    assert_eq!(s.writes(), 1);
    assert_eq!(s.write_changes(1).len(), 4);
}

#[test]
fn changes_are_detected_byte_for_byte_whatever_the_collation() {
    let s =
        TempStore::with_schema("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT COLLATE NOCASE)");
    s.exec("INSERT INTO t VALUES (1, 'abc')");
    s.exec("UPDATE t SET v = 'ABC'");
    assert_eq!(
        cells(&s.write_changes(2)),
        vec![(vec![int(1)], Some("v"), text("ABC"), 2, 1)]
    );
}
