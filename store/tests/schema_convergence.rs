//! Property test of the replicated schema: replicas creating tables,
//! adding columns and indexes and writing rows, exchanging any subset of
//! what they know in any order (rows may arrive before their table), end
//! with identical schemas and identical tables once everything is
//! exchanged.

mod common;

use common::{ColumnInfo, TempStore, shape};
use patina_store::{Value, Versions};
use proptest::prelude::*;
use proptest::test_runner::Config;

const TABLES: [&str; 2] = ["a", "b"];
const COLUMNS: [&str; 2] = ["c1", "c2"];

#[derive(Debug, Clone)]
enum Step {
    CreateTable {
        replica: usize,
        table: usize,
    },
    AddColumn {
        replica: usize,
        table: usize,
        column: usize,
    },
    CreateIndex {
        replica: usize,
        table: usize,
        column: usize,
    },
    DropIndex {
        replica: usize,
        table: usize,
        column: usize,
    },
    /// Writes `value` to column `v` (`column` 0), or `c1`/`c2` if present.
    Upsert {
        replica: usize,
        table: usize,
        id: i64,
        column: usize,
        value: i64,
    },
    Delete {
        replica: usize,
        table: usize,
        id: i64,
    },
    /// `to` merges the items of `from` picked by index (modulo their count).
    Exchange {
        from: usize,
        to: usize,
        picks: Vec<usize>,
    },
}

fn step(replicas: usize) -> impl Strategy<Value = Step> {
    let r = 0..replicas;
    prop_oneof![
        2 => (r.clone(), 0..TABLES.len()).prop_map(|(replica, table)| Step::CreateTable { replica, table }),
        2 => (r.clone(), 0..TABLES.len(), 0..COLUMNS.len())
            .prop_map(|(replica, table, column)| Step::AddColumn { replica, table, column }),
        1 => (r.clone(), 0..TABLES.len(), 0..COLUMNS.len())
            .prop_map(|(replica, table, column)| Step::CreateIndex { replica, table, column }),
        1 => (r.clone(), 0..TABLES.len(), 0..COLUMNS.len())
            .prop_map(|(replica, table, column)| Step::DropIndex { replica, table, column }),
        4 => (r.clone(), 0..TABLES.len(), 0i64..4, 0..=COLUMNS.len(), any::<i64>())
            .prop_map(|(replica, table, id, column, value)| Step::Upsert { replica, table, id, column, value }),
        1 => (r.clone(), 0..TABLES.len(), 0i64..4).prop_map(|(replica, table, id)| Step::Delete { replica, table, id }),
        3 => (r.clone(), r, prop::collection::vec(0usize..64, 0..6))
            .prop_map(|(from, to, picks)| Step::Exchange { from, to, picks }),
    ]
}

fn scenario() -> impl Strategy<Value = (usize, Vec<Step>)> {
    (2usize..=4)
        .prop_flat_map(|replicas| (Just(replicas), prop::collection::vec(step(replicas), 1..40)))
}

fn has_table(s: &TempStore, table: &str) -> bool {
    s.store.replicated_tables().iter().any(|t| t == table)
}

fn has_column(s: &TempStore, table: &str, column: &str) -> bool {
    s.store
        .conn()
        .query_row(
            "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2",
            [table, column],
            |r| r.get::<_, i64>(0),
        )
        .expect("table info")
        > 0
}

/// Runs a local step the way a client would: only what the replica's own
/// schema allows (a client would get an error otherwise, and nothing is
/// written).
fn local(s: &mut TempStore, step: &Step) {
    match *step {
        Step::CreateTable { table, .. } => {
            let name = TABLES[table];
            if !has_table(s, name) {
                s.store
                    .apply_ddl(&format!(
                        "CREATE TABLE {name} (id INTEGER PRIMARY KEY, v INTEGER)"
                    ))
                    .expect("create table");
            }
        }
        Step::AddColumn { table, column, .. } => {
            let (name, column) = (TABLES[table], COLUMNS[column]);
            if has_table(s, name) && !has_column(s, name, column) {
                s.store
                    .apply_ddl(&format!("ALTER TABLE {name} ADD COLUMN {column} TEXT"))
                    .expect("add column");
            }
        }
        Step::CreateIndex { table, column, .. } => {
            let (name, column) = (TABLES[table], COLUMNS[column]);
            if has_table(s, name) && has_column(s, name, column) {
                s.store
                    .apply_ddl(&format!(
                        "CREATE INDEX IF NOT EXISTS {name}_{column} ON {name} ({column})"
                    ))
                    .expect("create index");
            }
        }
        Step::DropIndex { table, column, .. } => {
            let (name, column) = (TABLES[table], COLUMNS[column]);
            if has_table(s, name) {
                s.store
                    .apply_ddl(&format!("DROP INDEX IF EXISTS {name}_{column}"))
                    .expect("drop index");
            }
        }
        Step::Upsert {
            table,
            id,
            column,
            value,
            ..
        } => {
            let name = TABLES[table];
            let column = match column {
                0 => "v",
                n => COLUMNS[n - 1],
            };
            if has_table(s, name) && has_column(s, name, column) {
                s.exec(&format!(
                    "INSERT INTO {name} (id, {column}) VALUES ({id}, {value}) \
                     ON CONFLICT (id) DO UPDATE SET {column} = excluded.{column}"
                ));
            }
        }
        Step::Delete { table, id, .. } => {
            let name = TABLES[table];
            if has_table(s, name) {
                s.exec(&format!("DELETE FROM {name} WHERE id = {id}"));
            }
        }
        Step::Exchange { .. } => unreachable!("not a local step"),
    }
}

fn replica_of(step: &Step) -> usize {
    match *step {
        Step::CreateTable { replica, .. }
        | Step::AddColumn { replica, .. }
        | Step::CreateIndex { replica, .. }
        | Step::DropIndex { replica, .. }
        | Step::Upsert { replica, .. }
        | Step::Delete { replica, .. } => replica,
        Step::Exchange { to, .. } => to,
    }
}

/// One user table as SQLite holds it: its shape and its rows (the
/// shape's columns, in that order).
type TableState = (Vec<ColumnInfo>, Vec<String>, Vec<Vec<Value>>);

fn state(s: &TempStore) -> Vec<(String, TableState)> {
    let conn = s.store.conn();
    TABLES
        .iter()
        .filter(|t| has_table(s, t))
        .map(|table| {
            let (columns, indexes) = shape(s, table);
            let names: Vec<&str> = columns.iter().map(|c| c.0.as_str()).collect();
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT {} FROM {table} ORDER BY id",
                    names.join(", ")
                ))
                .expect("select rows");
            let rows = stmt
                .query_map([], |row| {
                    (0..names.len()).map(|i| row.get::<_, Value>(i)).collect()
                })
                .and_then(|rows| rows.collect())
                .expect("rows");
            (table.to_string(), (columns, indexes, rows))
        })
        .collect()
}

fn run(replicas: usize, steps: Vec<Step>) -> Result<(), TestCaseError> {
    let mut stores: Vec<TempStore> = (0..replicas).map(|_| TempStore::new()).collect();
    for step in &steps {
        match step {
            Step::Exchange { from, to, picks } => {
                if from == to {
                    continue;
                }
                let items = stores[*from].everything();
                if items.is_empty() {
                    continue;
                }
                let batch: Vec<Versions> = picks
                    .iter()
                    .map(|p| items[p % items.len()].clone())
                    .collect();
                stores[*to].store.merge(&batch).expect("merge");
            }
            local_step => local(&mut stores[replica_of(local_step)], local_step),
        }
    }
    // Everyone hears everything (twice round, so relayed items arrive too).
    for _ in 0..2 {
        for from in 0..replicas {
            for to in 0..replicas {
                if from != to {
                    let items = stores[from].everything();
                    stores[to].store.merge(&items).expect("final merge");
                }
            }
        }
    }
    let first = state(&stores[0]);
    for other in &stores[1..] {
        prop_assert_eq!(&state(other), &first);
    }
    Ok(())
}

proptest! {
    #![proptest_config(Config { cases: 64, failure_persistence: None, ..Config::default() })]

    #[test]
    fn replicas_with_schema_changes_converge(
        (replicas, steps) in scenario()
    ) {
        run(replicas, steps)?;
    }
}
