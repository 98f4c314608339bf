//! Merge writes a row's run of changes with as few statements as it can
//! (a new life of a row is one upsert of the table row and one of its
//! clock row; a delete, a bare re-creation and a partial row take other
//! statements). Whatever the path, replicas that merge the same change
//! sets in any order, however grouped, must end byte-identical: the
//! tables, the clock tables (with the writer of each row's life: when two
//! sites gave a row the same causal length, the higher site id), and what
//! they would relay onwards (their extracted change sets), which is what
//! the clocks are for.

mod common;

use std::collections::BTreeMap;

use common::{TempStore, dump};
use patina_store::{Value, Versions};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// `t` has a defaulted column and a real; `z` has no column but its key.
const SCHEMA: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER DEFAULT 7, c REAL);
     CREATE TABLE z (id TEXT NOT NULL PRIMARY KEY);";

#[derive(Debug, Clone)]
enum Op {
    /// Insert or update `a` (the other columns keep or get their default).
    PutA(i64, String),
    /// Insert the row whole, replacing it (a delete and re-insert if it exists).
    Replace(i64, String, i64, f64),
    SetB(i64, i64),
    Delete(i64),
    PutZ(i64),
    DeleteZ(i64),
}

impl Op {
    fn sql(&self) -> String {
        match self {
            Op::PutA(id, a) => format!(
                "INSERT INTO t (id, a) VALUES ({id}, '{a}') ON CONFLICT DO UPDATE SET a = excluded.a"
            ),
            Op::Replace(id, a, b, c) => {
                format!("INSERT OR REPLACE INTO t VALUES ({id}, '{a}', {b}, {c:?})")
            }
            Op::SetB(id, b) => format!("UPDATE t SET b = {b} WHERE id = {id}"),
            Op::Delete(id) => format!("DELETE FROM t WHERE id = {id}"),
            Op::PutZ(id) => format!("INSERT INTO z VALUES ('k{id}') ON CONFLICT DO NOTHING"),
            Op::DeleteZ(id) => format!("DELETE FROM z WHERE id = 'k{id}'"),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    let id = 1i64..6;
    let word = prop::sample::select(vec!["x", "y", "zz", ""]).prop_map(str::to_owned);
    prop_oneof![
        (id.clone(), word.clone()).prop_map(|(i, a)| Op::PutA(i, a)),
        (
            id.clone(),
            word,
            0i64..3,
            prop::sample::select(vec![0.5, 1.0])
        )
            .prop_map(|(i, a, b, c)| Op::Replace(i, a, b, c)),
        (id.clone(), 0i64..3).prop_map(|(i, b)| Op::SetB(i, b)),
        id.clone().prop_map(Op::Delete),
        id.clone().prop_map(Op::PutZ),
        id.prop_map(Op::DeleteZ),
    ]
}

/// Transactions of one to four statements.
fn history() -> impl Strategy<Value = Vec<Vec<Op>>> {
    prop::collection::vec(prop::collection::vec(op(), 1..5), 1..12)
}

fn run(store: &TempStore, history: &[Vec<Op>]) {
    for txn in history {
        let body: Vec<String> = txn.iter().map(Op::sql).collect();
        store.exec(&format!("BEGIN; {}; COMMIT;", body.join("; ")));
    }
}

/// What a replica holds: tables, clock tables (site ordinals given as the
/// site ids they stand for, which differ between replicas) and the change
/// sets it would relay.
fn state(store: &TempStore) -> (Vec<Vec<Vec<Value>>>, Vec<Versions>) {
    let conn = store.store.conn();
    let sites: BTreeMap<i64, Vec<u8>> = conn
        .prepare("SELECT ord, site_id FROM __patina_sites")
        .expect("sites")
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("sites")
        .collect::<rusqlite::Result<_>>()
        .expect("sites");
    let mut tables: Vec<Vec<Vec<Value>>> = ["t", "z"].iter().map(|t| dump(conn, t)).collect();
    for clock in ["__patina_clock_t", "__patina_clock_z"] {
        let stmt = conn
            .prepare(&format!("SELECT * FROM {clock}"))
            .expect("clock");
        let names: Vec<String> = stmt.column_names().iter().map(|n| n.to_string()).collect();
        let mut rows: Vec<Vec<Value>> = dump(conn, clock)
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .zip(&names)
                    .map(|(value, name)| match value {
                        Value::Integer(ord)
                            if name == "__patina_cl_site" || name.starts_with("__patina_site_") =>
                        {
                            Value::Blob(sites[&ord].clone())
                        }
                        other => other,
                    })
                    .collect()
            })
            .collect();
        rows.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        tables.push(rows);
    }
    // Each replica's own version (its schema) differs by nature, and so do
    // the sources' schema versions (1) it relays: the schema rows are equal
    // everywhere, and their clocks go to the highest site id, at random
    // the replica's own.
    let own = store.store.site_id();
    let relayed = store
        .everything()
        .into_iter()
        .filter_map(|v| match v {
            _ if v.site_id() == own => None,
            Versions::Changed(set) if set.db_version == 1 => None,
            Versions::Cleared { site_id, versions } => {
                let versions = (*versions.start()).max(2)..=*versions.end();
                (!versions.is_empty()).then_some(Versions::Cleared { site_id, versions })
            }
            other => Some(other),
        })
        .collect();
    (tables, relayed)
}

fn merged(batches: &[Vec<Versions>]) -> TempStore {
    let mut replica = TempStore::with_schema(SCHEMA);
    for batch in batches {
        replica.store.merge(batch).expect("merge");
    }
    replica
}

proptest! {
    #![proptest_config(Config { cases: 64, ..Config::default() })]

    #[test]
    fn every_grouping_and_order_ends_identical(first in history(), second in history()) {
        let sources = [TempStore::with_schema(SCHEMA), TempStore::with_schema(SCHEMA)];
        run(&sources[0], &first);
        run(&sources[1], &second);
        let [one, two] = sources.each_ref().map(|s| {
            s.everything()
                .into_iter()
                .filter(|v| v.site_id() == s.store.site_id())
                .collect::<Vec<_>>()
        });
        let mut interleaved = Vec::new();
        for i in 0..one.len().max(two.len()) {
            interleaved.extend(one.get(i).cloned());
            interleaved.extend(two.get(i).cloned());
        }
        let each = |sets: &[Versions]| sets.iter().map(|v| vec![v.clone()]).collect::<Vec<_>>();

        let reference = state(&merged(&[one.clone(), two.clone()]));
        let replicas = [
            merged(&[[one.clone(), two.clone()].concat()]),
            merged(&[each(&one), each(&two)].concat()),
            merged(&[two.clone(), one.clone()]),
            merged(&[interleaved.clone()]),
            merged(&each(&interleaved)),
            merged(&[each(&two), each(&one)].concat()),
        ];
        for replica in &replicas {
            prop_assert_eq!(&state(replica), &reference);
        }
        // A second hop, from what a replica relays.
        let relayed = merged(&[replicas[3].everything()]);
        prop_assert_eq!(&state(&relayed), &reference);
        // And a source that hears the other one holds the same tables.
        let [mut source, _] = sources;
        source.store.merge(&two).expect("merge");
        for (table, rows) in ["t", "z"].iter().zip(&reference.0) {
            prop_assert_eq!(&dump(source.store.conn(), table), rows);
        }
    }
}
