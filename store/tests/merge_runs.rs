//! Merge applies consecutive changes of one row together: the outcome must
//! be that of applying them one by one, also when a change set names the
//! same cell twice, writes only some columns, or deletes and re-creates
//! the row in between.

mod common;

use common::{TempStore, int, text};
use patina_store::{Change, ChangeSet, SiteId, Value, Versions};

const ITEMS: &str = "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER DEFAULT 0)";

fn change(column: Option<&str>, value: Value, col_version: u64, cl: u64, seq: u64) -> Change {
    Change {
        table: "items".to_owned(),
        pk: vec![int(1)],
        column: column.map(str::to_owned),
        value,
        col_version,
        causal_length: cl,
        seq,
    }
}

fn set(site: u8, version: u64, changes: Vec<Change>) -> Versions {
    Versions::Changed(ChangeSet {
        site_id: SiteId([site; 16]),
        db_version: version,
        changes,
        keys: [("items".to_owned(), vec!["id".to_owned()])].into(),
    })
}

/// Applies each change of `changes` in a change set of its own, in order,
/// and all of them in one change set, on two fresh stores: same table.
fn same_as_one_by_one(changes: Vec<Change>) -> Vec<Vec<Value>> {
    let mut one_by_one = TempStore::with_schema(ITEMS);
    for (i, c) in changes.iter().enumerate() {
        one_by_one
            .store
            .merge(&[set(7, i as u64 + 1, vec![c.clone()])])
            .expect("merge one");
    }
    let mut together = TempStore::with_schema(ITEMS);
    together
        .store
        .merge(&[set(7, 1, changes)])
        .expect("merge together");
    let rows = together.dump("items");
    assert_eq!(rows, one_by_one.dump("items"));
    rows
}

#[test]
fn a_new_row_arrives_whole() {
    let rows = same_as_one_by_one(vec![
        change(None, Value::Null, 1, 1, 0),
        change(Some("name"), text("apple"), 1, 1, 1),
        change(Some("qty"), int(3), 1, 1, 2),
    ]);
    assert_eq!(rows, vec![vec![int(1), text("apple"), int(3)]]);
}

#[test]
fn a_cell_named_twice_keeps_the_winner_whatever_the_order() {
    let newer_last = same_as_one_by_one(vec![
        change(None, Value::Null, 1, 1, 0),
        change(Some("name"), text("a"), 1, 1, 1),
        change(Some("name"), text("b"), 2, 1, 2),
    ]);
    assert_eq!(newer_last, vec![vec![int(1), text("b"), int(0)]]);
    let newer_first = same_as_one_by_one(vec![
        change(None, Value::Null, 1, 1, 0),
        change(Some("name"), text("b"), 2, 1, 1),
        change(Some("name"), text("a"), 1, 1, 2),
    ]);
    assert_eq!(newer_first, vec![vec![int(1), text("b"), int(0)]]);
}

#[test]
fn affinity_applies_before_a_second_change_of_the_cell_compares() {
    // '5' is stored as 5 in the INTEGER column; an equal col_version then
    // compares 5 (INTEGER) against 'x' (TEXT): the integer wins.
    let rows = same_as_one_by_one(vec![
        change(None, Value::Null, 1, 1, 0),
        change(Some("qty"), text("5"), 1, 1, 1),
        change(Some("qty"), text("x"), 1, 1, 2),
    ]);
    assert_eq!(rows, vec![vec![int(1), Value::Null, int(5)]]);
}

#[test]
fn a_delete_and_re_creation_inside_the_run_restart_the_clocks() {
    let rows = same_as_one_by_one(vec![
        change(None, Value::Null, 1, 1, 0),
        change(Some("name"), text("old"), 3, 1, 1),
        change(None, Value::Null, 2, 2, 2),
        change(Some("qty"), int(9), 1, 3, 3),
    ]);
    // The re-created row keeps no value of its earlier life.
    assert_eq!(rows, vec![vec![int(1), Value::Null, int(9)]]);
}

#[test]
fn a_partial_update_leaves_the_other_columns() {
    let mut store = TempStore::with_schema(ITEMS);
    store
        .store
        .merge(&[set(
            7,
            1,
            vec![
                change(None, Value::Null, 1, 1, 0),
                change(Some("name"), text("apple"), 1, 1, 1),
                change(Some("qty"), int(3), 1, 1, 2),
            ],
        )])
        .unwrap();
    store
        .store
        .merge(&[set(7, 2, vec![change(Some("qty"), int(4), 2, 1, 0)])])
        .unwrap();
    assert_eq!(
        store.dump("items"),
        vec![vec![int(1), text("apple"), int(4)]]
    );
    // An older write of the same cell loses.
    store
        .store
        .merge(&[set(8, 1, vec![change(Some("qty"), int(99), 1, 1, 0)])])
        .unwrap();
    assert_eq!(
        store.dump("items"),
        vec![vec![int(1), text("apple"), int(4)]]
    );
}
