//! The planner and the upkeep against plain SQLite connections: writes on
//! one connection, the subscription's reader on another, and a replay of
//! the changes it emits checked against the query's result.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use rusqlite::Connection;
use rusqlite::types::Value;
use serde_json::Value as Json;

use super::codec;
use super::constants::Norm;
use super::index::Index;
use super::log;
use super::maintain::{Changed, State};
use super::plan::{Mode, QueryPlan, plan};
use crate::functions::SessionClock;
use crate::translate::Catalog;
use crate::types::PgType;

struct TestCatalog;

impl Catalog for TestCatalog {
    fn columns(&self, table: &str) -> Option<Vec<(String, PgType)>> {
        let columns = match table {
            "owners" => vec![("id", PgType::INT8), ("name", PgType::TEXT)],
            "pets" => vec![
                ("id", PgType::INT8),
                ("owner", PgType::INT8),
                ("kind", PgType::TEXT),
                ("age", PgType::INT4),
            ],
            _ => return None,
        };
        Some(
            columns
                .into_iter()
                .map(|(n, t)| (n.to_owned(), t))
                .collect(),
        )
    }

    fn primary_key(&self, _table: &str) -> Vec<String> {
        vec!["id".to_owned()]
    }
}

struct Fixture {
    dir: PathBuf,
    writer: Connection,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Fixture {
    fn new() -> Fixture {
        let dir = std::env::temp_dir().join(format!("patina-subs-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("a directory");
        let writer = Connection::open(dir.join("data.db")).expect("a database");
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 CREATE TABLE owners (id INTEGER PRIMARY KEY, name TEXT);
                 CREATE TABLE pets (id INTEGER PRIMARY KEY, owner INTEGER, kind TEXT, age INTEGER);",
            )
            .expect("tables");
        Fixture { dir, writer }
    }

    fn reader(&self) -> Connection {
        let conn = Connection::open(self.dir.join("data.db")).expect("a reader");
        let clock = Arc::new(SessionClock::new(SessionClock::system_now()));
        crate::functions::register(&conn, clock).expect("functions");
        conn
    }

    fn state(&self) -> State {
        State::new(
            log::open(&self.dir.join("subscriptions.db"), false).expect("a log"),
            self.reader(),
        )
    }

    fn plan(&self, query: &str) -> QueryPlan {
        plan(query, &TestCatalog, &self.reader()).expect("a plan")
    }

    /// Runs `sql` on the writer; returns what it changed, as capture would.
    fn write(&self, sql: &str, table: &str, ids: &[i64]) -> Changed {
        self.writer.execute_batch(sql).expect("a write");
        let mut changed = Changed::new();
        for id in ids {
            let key = vec![Value::Integer(*id)];
            changed
                .entry(table.to_owned())
                .or_default()
                .insert(codec::encode(&key), key);
        }
        changed
    }

    /// The query's rows now, as JSON objects, sorted.
    fn result(&self, plan: &QueryPlan) -> Vec<String> {
        let reader = self.reader();
        let mut stmt = reader.prepare(&plan.sql).expect("the query");
        let width = plan.columns.len();
        let mut rows: Vec<String> = stmt
            .query_map([], |row| {
                let values: Vec<Value> = (0..width)
                    .map(|i| row.get::<_, Value>(i))
                    .collect::<rusqlite::Result<_>>()?;
                Ok(object(plan, &values))
            })
            .expect("rows")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        rows.sort();
        rows
    }
}

fn object(plan: &QueryPlan, values: &[Value]) -> String {
    let map: serde_json::Map<String, Json> = plan
        .columns
        .iter()
        .zip(values)
        .map(|(c, v)| {
            let json = super::super::row_feed::json(v, Some(c.ty));
            (c.name.clone(), serde_json::from_str(&json).expect("JSON"))
        })
        .collect();
    Json::Object(map).to_string()
}

/// Applies notification payloads to rows keyed by row id, checking change
/// ids follow each other.
fn replay(rows: &mut BTreeMap<i64, String>, change_id: &mut i64, payloads: &[(String, String)]) {
    for (_, payload) in payloads {
        let change: Json = serde_json::from_str(payload).expect("JSON");
        let id = change["change_id"].as_i64().expect("a change id");
        assert_eq!(
            id,
            *change_id + 1,
            "change ids follow each other: {payload}"
        );
        *change_id = id;
        let row_id = change["row_id"].as_i64().expect("a row id");
        match change["op"].as_str().expect("an op") {
            "insert" => assert!(rows.insert(row_id, change["row"].to_string()).is_none()),
            "update" => assert!(rows.insert(row_id, change["row"].to_string()).is_some()),
            "delete" => assert!(rows.remove(&row_id).is_some()),
            other => panic!("unknown op {other}"),
        }
    }
}

fn sorted(rows: &BTreeMap<i64, String>) -> Vec<String> {
    let mut rows: Vec<String> = rows.values().cloned().collect();
    rows.sort();
    rows
}

#[test]
fn plans_say_what_they_maintain_incrementally() {
    let fixture = Fixture::new();
    let incremental = fixture
        .plan("SELECT p.id, o.name FROM pets p JOIN owners o ON o.id = p.owner WHERE p.age > 2");
    assert_eq!(incremental.columns.len(), 2);
    let Mode::Incremental(occurrences) = &incremental.mode else {
        panic!("incremental: {:?}", incremental.mode);
    };
    assert_eq!(occurrences.len(), 2);
    assert_eq!(incremental.tables.len(), 2);
    for (query, reason) in [
        ("SELECT count(*) FROM pets", "aggregate"),
        ("SELECT kind FROM pets GROUP BY kind", "GROUP BY"),
        ("SELECT DISTINCT kind FROM pets", "DISTINCT"),
        ("SELECT id FROM pets ORDER BY id LIMIT 2", "LIMIT"),
        (
            "SELECT p.id FROM pets p LEFT JOIN owners o ON o.id = p.owner",
            "outer",
        ),
        ("SELECT id FROM pets UNION SELECT id FROM owners", "UNION"),
        (
            "SELECT id FROM pets WHERE owner IN (SELECT id FROM owners)",
            "subquery",
        ),
        ("SELECT id, row_number() OVER () FROM pets", "window"),
    ] {
        match fixture.plan(query).mode {
            Mode::Rerun(why) => assert!(why.contains(reason), "{query}: {why}"),
            Mode::Incremental(_) => panic!("{query} is not incremental"),
        }
    }
    let reader = fixture.reader();
    let unknown = plan("SELECT * FROM nope", &TestCatalog, &reader).unwrap_err();
    assert_eq!(unknown.code, "42P01");
    let insert = plan("INSERT INTO pets (id) VALUES (1)", &TestCatalog, &reader).unwrap_err();
    assert_eq!(insert.code, "0A000");
    let syntax = plan("SELEC 1", &TestCatalog, &reader).unwrap_err();
    assert_eq!(syntax.code, "42601");
}

/// Each occurrence's constraints as (column, sorted normal forms).
fn constraints(plan: &QueryPlan) -> Vec<Vec<(String, Vec<Norm>)>> {
    let Mode::Incremental(occurrences) = &plan.mode else {
        panic!("incremental: {:?}", plan.mode);
    };
    occurrences
        .iter()
        .map(|o| {
            o.constraints
                .iter()
                .map(|c| (c.column.clone(), c.values.iter().cloned().collect()))
                .collect()
        })
        .collect()
}

#[test]
fn plans_find_equality_constants() {
    let fixture = Fixture::new();
    let text = |t: &str| Norm::Text(t.to_owned());
    let plan = fixture.plan(
        "SELECT p.id, o.name FROM pets p JOIN owners o ON o.id = p.owner AND o.name = 'Ann' \
         WHERE p.kind IN ('cat', 'dog') AND (3 = age) AND (p.id > 1 OR p.id = 2) AND p.owner = -4::int8",
    );
    assert_eq!(
        constraints(&plan),
        [
            vec![
                ("kind".to_owned(), vec![text("cat"), text("dog")]),
                ("age".to_owned(), vec![Norm::Int(3)]),
                ("owner".to_owned(), vec![Norm::Int(-4)]),
            ],
            vec![("name".to_owned(), vec![text("ann")])],
        ]
    );
    // Not constants: other operators, NOT IN, columns on both sides, a
    // NULL, a number for a text column, a rounding cast, OR.
    for query in [
        "SELECT id FROM pets WHERE age > 3",
        "SELECT id FROM pets WHERE age NOT IN (1, 2)",
        "SELECT id FROM pets WHERE age = owner",
        "SELECT id FROM pets WHERE age = NULL",
        "SELECT id FROM pets WHERE age = 2.5::int",
        "SELECT id FROM pets WHERE age = 1 OR age = 2",
        "SELECT id FROM pets WHERE age IN (1, owner)",
    ] {
        assert_eq!(constraints(&fixture.plan(query)), [vec![]], "{query}");
    }
    // A number compared with an integer column, whatever its form.
    let plan = fixture.plan("SELECT id FROM pets WHERE age = '7' AND id = 7.0 AND owner = 2.5");
    assert_eq!(
        constraints(&plan),
        [vec![
            ("age".to_owned(), vec![Norm::Int(7)]),
            ("id".to_owned(), vec![Norm::Int(7)]),
            ("owner".to_owned(), vec![Norm::Float(2.5f64.to_bits())]),
        ]]
    );
}

#[test]
fn the_index_reads_the_constrained_columns_of_changed_rows() {
    let fixture = Fixture::new();
    fixture
        .writer
        .execute_batch("INSERT INTO pets VALUES (1, 1, 'Cat', 3), (2, 1, NULL, 4)")
        .expect("rows");
    let plan = fixture.plan("SELECT id FROM pets WHERE kind = 'cat' AND age IN (3, 4)");
    let Mode::Incremental(occurrences) = &plan.mode else {
        panic!("incremental");
    };
    let mut index = Index::default();
    index.add("s", occurrences);
    let columns = index.columns("pets");
    assert_eq!(columns, ["age", "kind"]);
    let keys: BTreeMap<Vec<u8>, Vec<Value>> = [1, 2, 3]
        .into_iter()
        .map(|id| {
            let key = vec![Value::Integer(id)];
            (codec::encode(&key), key)
        })
        .collect();
    let current = index
        .read(&fixture.reader(), "pets", &columns, &keys)
        .expect("read");
    let one = codec::encode(&[Value::Integer(1)]);
    let two = codec::encode(&[Value::Integer(2)]);
    assert_eq!(
        current,
        [
            (one.clone(), vec![Norm::Int(3), Norm::Text("cat".into())]),
            (two, vec![Norm::Int(4), Norm::Null]),
        ]
        .into()
    );
    let work = index.candidates("pets", keys.keys(), &columns, Some(&current));
    let runs: Vec<_> = work.values().map(|w| w.run.clone()).collect();
    assert_eq!(runs, [[one].into()]);
}

#[test]
fn a_subscription_whose_query_stops_running_says_so_and_is_dropped() {
    let fixture = Fixture::new();
    fixture
        .writer
        .execute_batch("INSERT INTO pets VALUES (1, 1, 'cat', 3)")
        .expect("rows");
    let mut state = fixture.state();
    let id = state
        .create(
            fixture.plan("SELECT id, kind FROM pets WHERE age = 3"),
            Box::new(()),
        )
        .expect("a subscription");
    let changed = fixture.write(
        "ALTER TABLE pets DROP COLUMN kind; UPDATE pets SET age = 4",
        "pets",
        &[1],
    );
    let sent = state.changed(&changed, false);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, super::maintain::channel(&id));
    let payload: Json = serde_json::from_str(&sent[0].1).expect("JSON");
    assert_eq!(payload["op"], "dropped");
    assert!(
        payload["reason"]
            .as_str()
            .is_some_and(|r| r.contains("kind")),
        "{payload}"
    );
    assert!(state.get(&id).is_none());
    assert_eq!(state.missed(&id, 0).unwrap_err().code, "42704");
}

#[test]
fn restored_subscriptions_still_see_rows_leave_their_result() {
    let fixture = Fixture::new();
    fixture
        .writer
        .execute_batch("INSERT INTO pets VALUES (1, 1, 'cat', 3), (2, 1, 'cat', 4)")
        .expect("rows");
    let plan = fixture.plan("SELECT id, age FROM pets WHERE kind = 'cat'");
    let id = fixture
        .state()
        .create(plan.clone(), Box::new(()))
        .expect("a subscription");
    let mut state = fixture.state();
    for record in log::load(state.log()).expect("records") {
        state.restore(record, plan.clone(), None).expect("restored");
    }
    assert!(state.changed(&Changed::new(), true).is_empty());
    // The row no longer matches the constant: only the index of the rows
    // held says the subscription must look at it.
    let changed = fixture.write("UPDATE pets SET kind = 'dog' WHERE id = 2", "pets", &[2]);
    let sent = state.changed(&changed, false);
    assert_eq!(
        sent,
        [(
            super::maintain::channel(&id),
            r#"{"change_id":1,"op":"delete","row_id":2}"#.to_owned()
        )]
    );
    let changed = fixture.write("UPDATE pets SET kind = 'cat' WHERE id = 2", "pets", &[2]);
    let sent = state.changed(&changed, false);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].1.contains(r#""op":"insert""#), "{sent:?}");
}

#[test]
fn a_write_reaches_only_the_subscriptions_whose_constants_it_matches() {
    let fixture = Fixture::new();
    let mut values = Vec::new();
    for id in 0..200 {
        values.push(format!("({id}, {}, 'k', 1)", id % 7));
    }
    fixture
        .writer
        .execute_batch(&format!("INSERT INTO pets VALUES {}", values.join(", ")))
        .expect("rows");
    let mut state = fixture.state();
    let ids: Vec<String> = (0..200)
        .map(|k| {
            let plan = fixture.plan(&format!("SELECT id, age FROM pets WHERE id = {k}"));
            state.create(plan, Box::new(())).expect("a subscription")
        })
        .collect();
    let by_owner = state
        .create(
            fixture.plan("SELECT id FROM pets WHERE owner = 3 AND age = 2"),
            Box::new(()),
        )
        .expect("a subscription");
    let changed = fixture.write(
        "UPDATE pets SET age = 2 WHERE id IN (17, 45)",
        "pets",
        &[17, 45],
    );
    let sent = state.changed(&changed, false);
    let channels: Vec<&str> = sent.iter().map(|(channel, _)| channel.as_str()).collect();
    // 17 % 7 = 3: it joins the owner-3 result; 45 % 7 = 3 too.
    let expected = [
        super::maintain::channel(&ids[17]),
        super::maintain::channel(&ids[45]),
        super::maintain::channel(&by_owner),
        super::maintain::channel(&by_owner),
    ];
    let mut channels = channels;
    channels.sort_unstable();
    let mut expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(channels, expected);
}

#[test]
fn joins_follow_inserts_updates_and_deletes() {
    let fixture = Fixture::new();
    fixture
        .writer
        .execute_batch(
            "INSERT INTO owners VALUES (1, 'ann'), (2, 'bob');
             INSERT INTO pets VALUES (10, 1, 'cat', 3), (11, 2, 'dog', 1);",
        )
        .expect("rows");
    let plan = fixture.plan(
        "SELECT p.id, p.kind, o.name FROM pets p JOIN owners o ON o.id = p.owner WHERE p.age > 2",
    );
    let mut state = fixture.state();
    let id = state
        .create(plan.clone(), Box::new(()))
        .expect("a subscription");
    let (change_id, rows) = state.snapshot(&id).expect("a snapshot");
    assert_eq!(change_id, 0);
    assert_eq!(rows.len(), 1);

    let changed = fixture.write("UPDATE pets SET age = 5 WHERE id = 11", "pets", &[11]);
    let sent = state.changed(&changed, false);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].0.starts_with("patina:sub:"), "{:?}", sent[0]);
    assert_eq!(
        sent[0].1,
        r#"{"change_id":1,"op":"insert","row_id":2,"row":{"id":11,"kind":"dog","name":"bob"}}"#
    );
    let changed = fixture.write(
        "UPDATE owners SET name = 'ann2' WHERE id = 1",
        "owners",
        &[1],
    );
    let sent = state.changed(&changed, false);
    assert_eq!(
        sent.iter().map(|s| s.1.as_str()).collect::<Vec<_>>(),
        [r#"{"change_id":2,"op":"update","row_id":1,"row":{"id":10,"kind":"cat","name":"ann2"}}"#]
    );
    let changed = fixture.write("DELETE FROM owners WHERE id = 2", "owners", &[2]);
    let sent = state.changed(&changed, false);
    assert_eq!(
        sent.iter().map(|s| s.1.as_str()).collect::<Vec<_>>(),
        [r#"{"change_id":3,"op":"delete","row_id":2}"#]
    );
    // A change that does not touch the result sends nothing.
    let changed = fixture.write("INSERT INTO pets VALUES (12, 1, 'fish', 0)", "pets", &[12]);
    assert!(state.changed(&changed, false).is_empty());
    let (missed_at, missed) = state.missed(&id, 1).expect("resumable");
    assert_eq!((missed_at, missed.len()), (3, 2));
    assert_eq!(state.missed("nope", 0).unwrap_err().code, "42704");
    assert_eq!(state.missed(&id, 9).unwrap_err().code, "22023");
}

#[test]
fn aggregates_are_rerun_and_diffed_by_content() {
    let fixture = Fixture::new();
    let plan = fixture.plan("SELECT count(*) AS n FROM pets");
    let mut state = fixture.state();
    let id = state.create(plan, Box::new(())).expect("a subscription");
    let changed = fixture.write("INSERT INTO pets VALUES (1, 1, 'cat', 1)", "pets", &[1]);
    let sent = state.changed(&changed, false);
    assert_eq!(
        sent.iter().map(|s| s.1.as_str()).collect::<Vec<_>>(),
        [r#"{"change_id":1,"op":"update","row_id":1,"row":{"n":1}}"#]
    );
    let (change_id, rows) = state.snapshot(&id).expect("a snapshot");
    assert_eq!((change_id, rows), (1, vec![(1, vec![Value::Integer(1)])]));
    // A table it does not read re-runs nothing, even when the count would
    // differ (the write below the re-run would find).
    let other = fixture.write(
        "INSERT INTO owners VALUES (1, 'ann'); INSERT INTO pets VALUES (2, 1, 'dog', 1)",
        "owners",
        &[1],
    );
    assert_eq!(state.changed(&other, false), []);
    // Once dropped, its table's changes re-run nothing either.
    state.drop_subscription(&id);
    let changed = fixture.write("INSERT INTO pets VALUES (3, 1, 'ox', 1)", "pets", &[3]);
    assert_eq!(state.changed(&changed, false), []);
}

#[test]
fn subscriptions_survive_reopening_the_log() {
    let fixture = Fixture::new();
    fixture
        .writer
        .execute_batch("INSERT INTO pets VALUES (1, 1, 'cat', 1)")
        .expect("a row");
    let plan = fixture.plan("SELECT id, kind FROM pets");
    let id = {
        let mut state = fixture.state();
        state
            .create(plan.clone(), Box::new(()))
            .expect("a subscription")
    };
    fixture
        .writer
        .execute_batch(
            "UPDATE pets SET kind = 'lion' WHERE id = 1; INSERT INTO pets VALUES (2, 1, 'ox', 1)",
        )
        .expect("writes while down");
    let mut state = fixture.state();
    let records = log::load(state.log()).expect("records");
    assert_eq!(records.len(), 1);
    for record in records {
        state.restore(record, plan.clone(), None).expect("restored");
    }
    let sent = state.changed(&Changed::new(), true);
    assert_eq!(
        sent.iter().map(|s| s.1.as_str()).collect::<Vec<_>>(),
        [
            r#"{"change_id":1,"op":"update","row_id":1,"row":{"id":1,"kind":"lion"}}"#,
            r#"{"change_id":2,"op":"insert","row_id":2,"row":{"id":2,"kind":"ox"}}"#,
        ]
    );
    assert!(state.get(&id).is_some());
}

/// A small deterministic generator (the test's seed is printed on failure).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

#[test]
fn replaying_changes_reproduces_the_result() {
    for seed in 1..=20 {
        let fixture = Fixture::new();
        let mut rng = Lcg(seed);
        let queries = [
            "SELECT p.id, p.kind, p.age, o.name FROM pets p JOIN owners o ON o.id = p.owner WHERE p.age % 3 <> 0",
            "SELECT o.name, count(*) AS n FROM pets p JOIN owners o ON o.id = p.owner GROUP BY o.name",
            "SELECT id, kind FROM pets WHERE age = 3",
            "SELECT p.id, o.name FROM pets p JOIN owners o ON o.id = p.owner AND o.name = 'o1' \
             WHERE p.kind IN ('k0', 'k2')",
            "SELECT id FROM pets WHERE age = '4' AND owner = 2",
            "SELECT p.id, q.id AS other FROM pets p JOIN pets q ON q.owner = p.owner WHERE p.age = 2",
            "SELECT id, name FROM owners WHERE name = 'o2' AND 1 = 1",
        ];
        let mut state = fixture.state();
        let mut followed = Vec::new();
        for query in queries {
            let plan = fixture.plan(query);
            let id = state
                .create(plan.clone(), Box::new(()))
                .expect("a subscription");
            let (change_id, rows) = state.snapshot(&id).expect("a snapshot");
            let rows: BTreeMap<i64, String> = rows
                .into_iter()
                .map(|(row_id, values)| (row_id, object(&plan, &values)))
                .collect();
            followed.push((id, plan, rows, change_id));
        }
        for _ in 0..60 {
            let (table, id) = if rng.below(2) == 0 {
                ("owners", rng.below(5) as i64)
            } else {
                ("pets", rng.below(12) as i64)
            };
            let sql = match (table, rng.below(3)) {
                ("owners", 0) => format!(
                    "INSERT OR REPLACE INTO owners VALUES ({id}, 'o{}')",
                    rng.below(3)
                ),
                ("owners", 1) => format!(
                    "UPDATE owners SET name = 'o{}' WHERE id = {id}",
                    rng.below(3)
                ),
                ("owners", _) => format!("DELETE FROM owners WHERE id = {id}"),
                (_, 0) => format!(
                    "INSERT OR REPLACE INTO pets VALUES ({id}, {}, 'k{}', {})",
                    rng.below(5),
                    rng.below(3),
                    rng.below(7)
                ),
                (_, 1) => format!(
                    "UPDATE pets SET age = {}, owner = {} WHERE id = {id}",
                    rng.below(7),
                    rng.below(5)
                ),
                (_, _) => format!("DELETE FROM pets WHERE id = {id}"),
            };
            let changed = fixture.write(&sql, table, &[id]);
            let sent = state.changed(&changed, false);
            let mut by_channel: HashMap<String, Vec<(String, String)>> = HashMap::new();
            for (channel, payload) in sent {
                by_channel
                    .entry(channel.clone())
                    .or_default()
                    .push((channel, payload));
            }
            for (id, _, rows, change_id) in &mut followed {
                let payloads = by_channel
                    .remove(&super::maintain::channel(id))
                    .unwrap_or_default();
                replay(rows, change_id, &payloads);
            }
        }
        for (_, plan, rows, _) in &followed {
            assert_eq!(
                sorted(rows),
                fixture.result(plan),
                "seed {seed}: {}",
                plan.normalized
            );
        }
    }
}

#[test]
fn changes_past_the_retention_cannot_be_resumed() {
    let fixture = Fixture::new();
    let log = log::open(&fixture.dir.join("retention.db"), false).expect("a log");
    for (change_id, at_ms) in [(1, 100), (2, 200), (3, 300)] {
        log::append(&log, "s", change_id, at_ms, "patina:sub:s", "{}").expect("a change");
    }
    // Older than 250 ms: changes 1 and 2 go.
    assert_eq!(log::prune(&log, "s", 250, 3).expect("pruned"), Some(2));
    assert_eq!(log::changes_after(&log, "s", 0).expect("changes").len(), 1);
    assert_eq!(log::prune(&log, "s", 250, 3).expect("pruned"), None);
    // Beyond the newest RETAINED_CHANGES: by count.
    let last = log::RETAINED_CHANGES + 3;
    log::append(&log, "s", last, 400, "patina:sub:s", "{}").expect("a change");
    assert_eq!(log::prune(&log, "s", 0, last).expect("pruned"), Some(3));

    let plan = fixture.plan("SELECT id FROM pets");
    let mut state = fixture.state();
    let id = state.create(plan, Box::new(())).expect("a subscription");
    if let Some(subscription) = state.get_mut(&id) {
        subscription.record.change_id = 5;
        subscription.record.pruned_through = 3;
    }
    let refused = state.missed(&id, 2).unwrap_err();
    assert_eq!(refused.code, "55000");
    assert!(
        refused.message.contains("subscribe again"),
        "{}",
        refused.message
    );
    assert!(state.missed(&id, 3).is_ok());
}

#[test]
fn restricted_queries_read_the_changed_rows_by_key() {
    let fixture = Fixture::new();
    fixture
        .writer
        .execute_batch("CREATE INDEX pets_owner ON pets (owner)")
        .expect("an index");
    let plan = fixture.plan(
        "SELECT p.id, o.name FROM pets p JOIN owners o ON o.id = p.owner WHERE p.age > 1 ORDER BY p.id",
    );
    let Mode::Incremental(occurrences) = &plan.mode else {
        panic!("incremental");
    };
    let reader = fixture.reader();
    for occurrence in 0..occurrences.len() {
        let sql = super::maintain::restricted(&plan, occurrences, occurrence, 2);
        let mut stmt = reader
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("a plan");
        let steps: Vec<String> = stmt
            .query_map([1, 2], |row| row.get::<_, String>(3))
            .expect("steps")
            .collect::<rusqlite::Result<_>>()
            .expect("steps");
        assert!(
            steps
                .iter()
                .all(|step| !step.starts_with("SCAN p") && !step.starts_with("SCAN o")),
            "occurrence {occurrence}: {steps:?}"
        );
    }
}
