//! Property tests of the CRDT: replicas running random transactions on a
//! random table of one family, exchanging changes in random order with
//! duplication and re-delivery, end byte-identical; the result is exactly
//! what the merge rules say it must be; and merging the original change sets
//! in any order, grouping or repetition gives the same tables.

mod common;

use std::collections::BTreeMap;

use common::TempStore;
use patina_store::{Change, Value, Versions};
use proptest::prelude::*;
use proptest::test_runner::Config;

#[derive(Debug, Clone, Copy)]
enum KeyKind {
    Integer,
    Text,
    Composite,
}

#[derive(Debug, Clone)]
struct Family {
    key: KeyKind,
    /// Declared type and DEFAULT of each value column `c0, c1, …`.
    columns: Vec<(&'static str, Option<&'static str>)>,
}

impl Family {
    fn ddl(&self) -> String {
        let key = match self.key {
            KeyKind::Integer => "id INTEGER PRIMARY KEY".to_owned(),
            KeyKind::Text => "id TEXT NOT NULL PRIMARY KEY".to_owned(),
            KeyKind::Composite => "ka TEXT NOT NULL, kb INTEGER NOT NULL".to_owned(),
        };
        let columns: String = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, (ty, default))| {
                let default = default.map(|d| format!(" DEFAULT {d}")).unwrap_or_default();
                format!(", c{i} {ty}{default}")
            })
            .collect();
        let pk = match self.key {
            KeyKind::Composite => ", PRIMARY KEY (ka, kb)",
            _ => "",
        };
        format!("CREATE TABLE t ({key}{columns}{pk})")
    }

    fn key_columns(&self) -> &'static str {
        match self.key {
            KeyKind::Composite => "ka, kb",
            _ => "id",
        }
    }

    fn key_values(&self, key: u8) -> String {
        match self.key {
            KeyKind::Integer => key.to_string(),
            KeyKind::Text => format!("'k{key}'"),
            KeyKind::Composite => format!("'{}', {}", ["x", "Y"][usize::from(key % 2)], key / 2),
        }
    }

    fn key_match(&self, key: u8) -> String {
        format!("({}) = ({})", self.key_columns(), self.key_values(key))
    }

    fn sql(&self, op: &Op) -> String {
        let column_names: Vec<String> = (0..self.columns.len()).map(|i| format!("c{i}")).collect();
        let value = |i: usize, values: &[Lit]| values[i % values.len()].sql();
        match op {
            Op::Upsert { key, values } => {
                let vals: Vec<String> = (0..column_names.len()).map(|i| value(i, values)).collect();
                let sets: Vec<String> = column_names
                    .iter()
                    .map(|c| format!("{c} = excluded.{c}"))
                    .collect();
                format!(
                    "INSERT INTO t ({}, {}) VALUES ({}, {}) ON CONFLICT DO UPDATE SET {}",
                    self.key_columns(),
                    column_names.join(", "),
                    self.key_values(*key),
                    vals.join(", "),
                    sets.join(", ")
                )
            }
            Op::InsertFirstColumn { key, value } => format!(
                "INSERT INTO t ({}, c0) VALUES ({}, {}) ON CONFLICT DO NOTHING",
                self.key_columns(),
                self.key_values(*key),
                value.sql()
            ),
            Op::Update { key, column, value } => format!(
                "UPDATE t SET c{} = {} WHERE {}",
                column % column_names.len(),
                value.sql(),
                self.key_match(*key)
            ),
            Op::UpdateEvery { column, value } => {
                format!(
                    "UPDATE t SET c{} = {}",
                    column % column_names.len(),
                    value.sql()
                )
            }
            Op::Delete { key } => format!("DELETE FROM t WHERE {}", self.key_match(*key)),
            Op::MoveKey { from, to } => format!(
                "UPDATE OR IGNORE t SET ({}) = ({}) WHERE {}",
                self.key_columns(),
                self.key_values(*to),
                self.key_match(*from)
            ),
        }
    }
}

/// Small value domain, so concurrent writes often tie on col_version.
#[derive(Debug, Clone, Copy)]
enum Lit {
    Null,
    Int(i8),
    Real(i8),
    Text(&'static str),
    Blob(u8),
}

impl Lit {
    fn sql(&self) -> String {
        match self {
            Lit::Null => "NULL".to_owned(),
            Lit::Int(i) => i.to_string(),
            Lit::Real(r) => format!("{}.5", r),
            Lit::Text(t) => format!("'{t}'"),
            Lit::Blob(b) => format!("x'{b:02x}'"),
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Upsert { key: u8, values: Vec<Lit> },
    InsertFirstColumn { key: u8, value: Lit },
    Update { key: u8, column: usize, value: Lit },
    UpdateEvery { column: usize, value: Lit },
    Delete { key: u8 },
    MoveKey { from: u8, to: u8 },
}

#[derive(Debug, Clone)]
enum Step {
    /// One transaction on one replica.
    Local {
        replica: usize,
        ops: Vec<Op>,
        commit: bool,
    },
    /// `to` merges some of what `from` knows, picked (with repeats) by index.
    Exchange {
        from: usize,
        to: usize,
        picks: Vec<usize>,
    },
}

fn family() -> impl Strategy<Value = Family> {
    let key = prop_oneof![
        Just(KeyKind::Integer),
        Just(KeyKind::Text),
        Just(KeyKind::Composite)
    ];
    let column = prop_oneof![
        Just(("TEXT", None)),
        Just(("INTEGER", Some("0"))),
        Just(("REAL", None)),
        Just(("BLOB", None)),
        Just(("", None)),
        Just(("TEXT", Some("'d'"))),
    ];
    (key, prop::collection::vec(column, 1..=3)).prop_map(|(key, columns)| Family { key, columns })
}

fn lit() -> impl Strategy<Value = Lit> {
    prop_oneof![
        Just(Lit::Null),
        (0i8..3).prop_map(Lit::Int),
        (0i8..2).prop_map(Lit::Real),
        prop::sample::select(vec!["a", "B", "", "10", "9"]).prop_map(Lit::Text),
        (0u8..2).prop_map(Lit::Blob),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0u8..5;
    prop_oneof![
        3 => (key.clone(), prop::collection::vec(lit(), 1..=3)).prop_map(|(key, values)| Op::Upsert { key, values }),
        1 => (key.clone(), lit()).prop_map(|(key, value)| Op::InsertFirstColumn { key, value }),
        3 => (key.clone(), 0usize..3, lit()).prop_map(|(key, column, value)| Op::Update { key, column, value }),
        1 => (0usize..3, lit()).prop_map(|(column, value)| Op::UpdateEvery { column, value }),
        2 => key.clone().prop_map(|key| Op::Delete { key }),
        1 => (key.clone(), key).prop_map(|(from, to)| Op::MoveKey { from, to }),
    ]
}

fn history(replicas: usize) -> impl Strategy<Value = Vec<Step>> {
    let local = (
        0..replicas,
        prop::collection::vec(op(), 1..=3),
        prop::bool::weighted(0.85),
    )
        .prop_map(|(replica, ops, commit)| Step::Local {
            replica,
            ops,
            commit,
        });
    let exchange = (
        0..replicas,
        0..replicas,
        prop::collection::vec(0usize..64, 0..6),
    )
        .prop_map(|(from, to, picks)| Step::Exchange { from, to, picks });
    prop::collection::vec(prop_oneof![3 => local, 1 => exchange], 1..40)
}

fn scenario() -> impl Strategy<Value = (Family, usize, Vec<Step>, u64)> {
    (family(), 2usize..=5).prop_flat_map(|(family, replicas)| {
        (
            Just(family),
            Just(replicas),
            history(replicas),
            any::<u64>(),
        )
    })
}

/// A deterministic shuffle with repeats, from a seed.
fn scramble(items: &[Versions], seed: u64) -> Vec<Versions> {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out: Vec<Versions> = items.to_vec();
    for _ in 0..items.len() / 2 {
        out.push(items[(next() % items.len() as u64) as usize].clone());
    }
    for i in (1..out.len()).rev() {
        out.swap(i, (next() % (i as u64 + 1)) as usize);
    }
    out
}

/// What the merge rules say the table must be, from every committed write:
/// a row is alive iff its highest causal length is odd, and each cell holds
/// the highest (col_version, value) written in that life.
fn expected(writes: &[Change]) -> BTreeMap<Vec<ValueKey>, BTreeMap<String, Value>> {
    let mut life: BTreeMap<Vec<ValueKey>, u64> = BTreeMap::new();
    for w in writes {
        let key = w.pk.iter().map(ValueKey::from).collect();
        let cl = life.entry(key).or_default();
        *cl = (*cl).max(w.causal_length);
    }
    let mut rows: BTreeMap<Vec<ValueKey>, BTreeMap<String, (u64, Value)>> = BTreeMap::new();
    for (key, cl) in &life {
        if cl % 2 == 1 {
            rows.insert(key.clone(), BTreeMap::new());
        }
    }
    for w in writes {
        let key: Vec<ValueKey> = w.pk.iter().map(ValueKey::from).collect();
        let (Some(column), Some(row)) = (&w.column, rows.get_mut(&key)) else {
            continue;
        };
        if w.causal_length != life[&key] {
            continue;
        }
        let cell = row.entry(column.clone()).or_insert((0, Value::Null));
        let wins = cell.0 == 0
            || w.col_version > cell.0
            || (w.col_version == cell.0 && w.value.merge_cmp(&cell.1).is_gt());
        if wins {
            *cell = (w.col_version, w.value.clone());
        }
    }
    rows.into_iter()
        .map(|(k, cells)| (k, cells.into_iter().map(|(c, (_, v))| (c, v)).collect()))
        .collect()
}

/// A key value that can be ordered (f64 keys do not occur).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum ValueKey {
    Int(i64),
    Text(String),
}

impl From<&Value> for ValueKey {
    fn from(value: &Value) -> ValueKey {
        match value {
            Value::Integer(i) => ValueKey::Int(*i),
            Value::Text(t) => ValueKey::Text(t.clone()),
            other => panic!("unexpected key value {other:?}"),
        }
    }
}

fn table_as_map(
    s: &TempStore,
    family: &Family,
) -> BTreeMap<Vec<ValueKey>, BTreeMap<String, Value>> {
    let keys = match family.key {
        KeyKind::Composite => 2,
        _ => 1,
    };
    s.dump("t")
        .into_iter()
        .map(|row| {
            let key = row[..keys].iter().map(ValueKey::from).collect();
            let cells = row[keys..]
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("c{i}"), v.clone()))
                .collect();
            (key, cells)
        })
        .collect()
}

fn run(family: Family, replicas: usize, steps: Vec<Step>, seed: u64) -> Result<(), TestCaseError> {
    let ddl = family.ddl();
    let mut nodes: Vec<TempStore> = (0..replicas)
        .map(|_| TempStore::with_schema(&ddl))
        .collect();
    let mut originals: Vec<Versions> = Vec::new();
    let mut writes: Vec<Change> = Vec::new();

    for step in &steps {
        match step {
            Step::Local {
                replica,
                ops,
                commit,
            } => {
                let node = &nodes[*replica];
                let before = node.store.db_version().expect("store operation");
                node.exec("BEGIN");
                for op in ops {
                    node.exec(&family.sql(op));
                }
                node.exec(if *commit { "COMMIT" } else { "ROLLBACK" });
                let after = node.store.db_version().expect("store operation");
                if !commit {
                    prop_assert_eq!(before, after, "a rollback must not take a version");
                }
                if after > before {
                    prop_assert_eq!(after, before + 1, "one version per transaction");
                    let set = node
                        .store
                        .changes(node.store.site_id(), after..=after)
                        .expect("store operation");
                    for item in &set {
                        if let Versions::Changed(cs) = item {
                            writes.extend(cs.changes.iter().cloned());
                        }
                    }
                    originals.extend(set);
                }
            }
            Step::Exchange { from, to, picks } => {
                let known = nodes[*from].everything();
                if known.is_empty() || from == to {
                    continue;
                }
                let batch: Vec<Versions> = picks
                    .iter()
                    .map(|i| known[i % known.len()].clone())
                    .collect();
                nodes[*to].store.merge(&batch).expect("store operation");
            }
        }
    }

    // Quiescence: everyone hears from everyone, in scrambled order with repeats.
    for (round, (from, to)) in (0..replicas)
        .flat_map(|f| (0..replicas).map(move |t| (f, t)))
        .filter(|(f, t)| f != t)
        .enumerate()
    {
        let batch = scramble(&nodes[from].everything(), seed.wrapping_add(round as u64));
        nodes[to].store.merge(&batch).expect("store operation");
    }

    let reference = nodes[0].dump("t");
    let state = |s: &TempStore| {
        let mut st = s.store.sync_state().expect("store operation");
        st.retain(|_, p| p.max_version > 0);
        st
    };
    for node in &nodes[1..] {
        prop_assert_eq!(&node.dump("t"), &reference);
        prop_assert_eq!(state(node), state(&nodes[0]));
    }
    prop_assert!(state(&nodes[0]).values().all(|p| p.gaps.is_empty()));
    prop_assert_eq!(table_as_map(&nodes[0], &family), expected(&writes));

    // Compacting the version log changes no answer.
    for node in &mut nodes {
        let before = (
            node.everything(),
            node.store.db_version().expect("store operation"),
        );
        while !node
            .store
            .compact_log(3)
            .expect("store operation")
            .pass_complete
        {}
        prop_assert_eq!(
            (
                node.everything(),
                node.store.db_version().expect("store operation")
            ),
            before
        );
    }
    let mut from_compacted = TempStore::with_schema(&ddl);
    from_compacted
        .store
        .merge(&scramble(&nodes[replicas - 1].everything(), seed))
        .expect("store operation");
    prop_assert_eq!(from_compacted.dump("t"), reference.clone());

    // The original change sets, in any order, grouping and repetition.
    if !originals.is_empty() {
        let mut one_by_one = TempStore::with_schema(&ddl);
        for item in scramble(&originals, seed ^ 0x5eed) {
            one_by_one.store.merge(&[item]).expect("store operation");
        }
        prop_assert_eq!(one_by_one.dump("t"), reference.clone());
        let mut grouped = TempStore::with_schema(&ddl);
        let scrambled = scramble(&originals, seed.rotate_left(17));
        for chunk in scrambled.chunks(1 + (seed % 4) as usize) {
            grouped.store.merge(chunk).expect("store operation");
        }
        prop_assert_eq!(grouped.dump("t"), reference);
    }
    Ok(())
}

proptest! {
    #![proptest_config(Config { cases: 64, failure_persistence: None, ..Config::default() })]

    #[test]
    fn replicas_converge_to_what_the_merge_rules_dictate(
        (family, replicas, steps, seed) in scenario()
    ) {
        run(family, replicas, steps, seed)?;
    }
}
