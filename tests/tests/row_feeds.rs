//! Row change feeds (`LISTEN "patina:changes:<table>"`) over tokio-postgres
//! `AsyncMessage::Notification`, on a 2-node cluster with the writer on
//! node 0 and the listener on node 1 (rows arrive there by replication),
//! and on the writer's own node: inserts, updates and deletes with their
//! JSON payloads, multi-row transactions, a rollback emits nothing,
//! UNLISTEN stops the feed, an unknown table is 42P01 and NOTIFY on a
//! patina channel 22023; a listener that falls behind is told so
//! (`{"op":"overflow"}`) rather than skipped silently. A listener knows it has everything a step
//! produced when a sentinel NOTIFY the writer sends after it arrives (a
//! node delivers a notification only once it holds every earlier version
//! of its origin), so no test waits on time. Needs the patina binary
//! (`cargo build -p patina-cli`, or `PATINA_BIN`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use patina_tests::{Cluster, ClusterOptions, Notification, Patina, Recording, connect_recording};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_postgres::Client;

/// How long a notification may take to arrive before the test fails.
const ARRIVAL: Duration = Duration::from_secs(20);

const FEED: &str = "patina:changes:items";

static SENTINELS: AtomicU64 = AtomicU64::new(0);

/// A connection that records the notifications it receives.
struct Listener {
    client: Client,
    notifications: mpsc::UnboundedReceiver<Notification>,
}

async fn listener_at(addr: SocketAddr) -> Listener {
    let Recording {
        client,
        notifications,
        ..
    } = connect_recording(addr).await;
    exec(&client, "LISTEN sentinel").await;
    Listener {
        client,
        notifications,
    }
}

impl Listener {
    /// The feed payloads delivered up to the sentinel `writer` sends now.
    async fn delivered(&mut self, writer: &Client) -> Vec<Value> {
        // Every listener hears every sentinel: each waits for its own.
        let sentinel = SENTINELS.fetch_add(1, Ordering::Relaxed).to_string();
        exec(writer, &format!("NOTIFY sentinel, '{sentinel}'")).await;
        let mut seen = Vec::new();
        loop {
            let Notification {
                channel, payload, ..
            } = tokio::time::timeout(ARRIVAL, self.notifications.recv())
                .await
                .expect("the sentinel arrives")
                .expect("the connection is open");
            if channel == "sentinel" {
                if payload == sentinel {
                    return seen;
                }
                continue;
            }
            assert_eq!(channel, FEED);
            seen.push(serde_json::from_str(&payload).expect("a JSON payload"));
        }
    }
}

async fn exec(client: &Client, sql: &str) {
    if let Err(error) = client.batch_execute(sql).await {
        panic!("{sql}: {}", patina_tests::describe_error(&error));
    }
}

async fn error(client: &Client, sql: &str) -> (String, String) {
    match client.batch_execute(sql).await {
        Ok(()) => panic!("{sql} succeeded"),
        Err(error) => (
            error
                .code()
                .map(|c| c.code().to_owned())
                .unwrap_or_default(),
            error
                .as_db_error()
                .map(|e| e.message().to_owned())
                .unwrap_or_default(),
        ),
    }
}

/// The payloads without their writer, which `writer_of` checks.
fn changes(payloads: &[Value]) -> Vec<Value> {
    payloads
        .iter()
        .map(
            |p| json!({"table": p["table"], "op": p["op"], "pk": p["pk"], "columns": p["columns"]}),
        )
        .collect()
}

/// Each payload's (origin, db_version).
fn writer_of(payloads: &[Value]) -> Vec<(String, u64)> {
    payloads
        .iter()
        .map(|p| {
            (
                p["origin"].as_str().expect("an origin").to_owned(),
                p["db_version"].as_u64().expect("a db_version"),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_feed_reports_every_committed_row_on_every_node() {
    let cluster = Cluster::start(2, ClusterOptions::default()).await;
    cluster
        .create_table(
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INT NOT NULL DEFAULT 0, \
             price NUMERIC(10,2), ok BOOLEAN, doc JSONB, raw BYTEA)",
            "items",
        )
        .await;
    let site = cluster.query(0, "SELECT site_id FROM patina.node").await[0][0]
        .clone()
        .expect("a site id");
    let writer = listener_at(cluster.pg_addr(0)).await;
    let mut far = listener_at(cluster.pg_addr(1)).await;
    let mut near = listener_at(cluster.pg_addr(0)).await;
    exec(&far.client, &format!("LISTEN \"{FEED}\"")).await;
    exec(&near.client, &format!("LISTEN \"{FEED}\"")).await;
    let w = &writer.client;

    exec(
        w,
        "INSERT INTO items VALUES (1, 'bolt', 10, 9.90, true, '{\"a\": [1, 2]}', '\\xdead')",
    )
    .await;
    // Parsed, not built: 9.90 keeps its scale (serde_json's arbitrary
    // precision compares numbers as written).
    let expected: Vec<Value> = vec![
        serde_json::from_str(
            r#"{"table": "items", "op": "insert", "pk": {"id": 1},
                "columns": {"id": 1, "name": "bolt", "qty": 10, "price": 9.90, "ok": true,
                            "doc": {"a": [1, 2]}, "raw": "\\xdead"}}"#,
        )
        .unwrap(),
    ];
    for listener in [&mut far, &mut near] {
        let got = listener.delivered(w).await;
        assert_eq!(changes(&got), expected);
        assert_eq!(writer_of(&got)[0].0, site);
    }

    // A multi-row transaction: one notification per row, in the order
    // first touched, with one db_version; only changed columns in updates.
    exec(
        w,
        "BEGIN; INSERT INTO items (id, name) VALUES (2, 'nut'), (3, 'washer'); \
         UPDATE items SET qty = 11, name = 'bolt' WHERE id = 1; DELETE FROM items WHERE id = 2; \
         INSERT INTO items (id, name) VALUES (4, 'gear'); COMMIT",
    )
    .await;
    let expected = vec![
        json!({"table": "items", "op": "insert", "pk": {"id": 3},
               "columns": {"id": 3, "name": "washer", "qty": 0, "price": null, "ok": null,
                           "doc": null, "raw": null}}),
        json!({"table": "items", "op": "update", "pk": {"id": 1}, "columns": {"qty": 11}}),
        json!({"table": "items", "op": "insert", "pk": {"id": 4},
               "columns": {"id": 4, "name": "gear", "qty": 0, "price": null, "ok": null,
                           "doc": null, "raw": null}}),
    ];
    for listener in [&mut far, &mut near] {
        let got = listener.delivered(w).await;
        assert_eq!(changes(&got), expected);
        let writers = writer_of(&got);
        assert!(writers.iter().all(|w| *w == writers[0]), "{writers:?}");
    }

    // A rollback emits nothing; a savepoint rolled back to emits nothing
    // of what it covered; a delete carries the key only.
    exec(w, "BEGIN; INSERT INTO items (id) VALUES (9); ROLLBACK").await;
    exec(
        w,
        "BEGIN; SAVEPOINT s; UPDATE items SET qty = 99 WHERE id = 3; ROLLBACK TO s; \
         DELETE FROM items WHERE id = 3; COMMIT",
    )
    .await;
    let expected = vec![json!({"table": "items", "op": "delete", "pk": {"id": 3}, "columns": {}})];
    for listener in [&mut far, &mut near] {
        assert_eq!(changes(&listener.delivered(w).await), expected);
    }

    // A column added while the feed runs is in it, on every node.
    exec(w, "ALTER TABLE items ADD COLUMN note TEXT").await;
    exec(w, "UPDATE items SET note = 'new' WHERE id = 1").await;
    let expected = vec![
        json!({"table": "items", "op": "update", "pk": {"id": 1}, "columns": {"note": "new"}}),
    ];
    for listener in [&mut far, &mut near] {
        assert_eq!(changes(&listener.delivered(w).await), expected);
    }

    // UNLISTEN stops the feed.
    exec(&far.client, &format!("UNLISTEN \"{FEED}\"")).await;
    exec(&near.client, "UNLISTEN *; LISTEN sentinel").await;
    exec(w, "UPDATE items SET qty = 1 WHERE id = 4").await;
    assert!(far.delivered(w).await.is_empty());
    assert!(near.delivered(w).await.is_empty());
}

/// A single node with a replicated table `items (id, name)`.
async fn one_node_with_items() -> Cluster {
    let cluster = Cluster::start(1, ClusterOptions::default()).await;
    cluster
        .create_table(
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)",
            "items",
        )
        .await;
    cluster
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patina_channels_are_checked_and_reserved() {
    let cluster = one_node_with_items().await;
    cluster.exec(0, "CREATE TABLE scratch (note TEXT)").await;
    let client = listener_at(cluster.pg_addr(0)).await.client;
    for table in ["nope", "ITEMS", "scratch"] {
        let (code, message) = error(&client, &format!("LISTEN \"patina:changes:{table}\"")).await;
        assert_eq!(code, "42P01", "{table}: {message}");
        assert!(message.contains(table), "{message}");
    }
    let (code, message) = error(&client, "LISTEN \"patina:whatever\"").await;
    assert_eq!(code, "22023", "{message}");
    // A failed LISTEN fails its transaction, as any error does.
    exec(&client, "BEGIN").await;
    error(&client, "LISTEN \"patina:changes:nope\"").await;
    assert_eq!(error(&client, "SELECT 1").await.0, "25P02");
    exec(&client, "ROLLBACK").await;
    for sql in [
        "NOTIFY \"patina:changes:items\", 'x'",
        "SELECT pg_notify('patina:changes:items', 'x')",
        "SELECT pg_notify('patina:anything', 'x')",
    ] {
        let (code, message) = error(&client, sql).await;
        assert_eq!(code, "22023", "{sql}: {message}");
        assert!(message.contains("reserved"), "{message}");
    }
}

/// A watched table's capture triggers name its columns; a change the
/// schema rules refuse is still refused as such (0A000, not SQLite's
/// trigger error), and one they accept keeps the feed going with the new
/// column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_changes_of_a_watched_table_are_judged_as_usual() {
    let cluster = one_node_with_items().await;
    let writer = listener_at(cluster.pg_addr(0)).await;
    let mut listener = listener_at(cluster.pg_addr(0)).await;
    exec(&listener.client, &format!("LISTEN \"{FEED}\"")).await;
    let w = &writer.client;
    let (code, message) = error(w, "ALTER TABLE items DROP COLUMN name").await;
    assert_eq!(code, "0A000", "{message}");
    assert!(message.contains("name"), "{message}");
    exec(w, "ALTER TABLE items ADD COLUMN qty INT").await;
    exec(w, "INSERT INTO items VALUES (1, 'bolt', 3)").await;
    exec(w, "UPDATE items SET qty = 4 WHERE id = 1").await;
    assert_eq!(
        changes(&listener.delivered(w).await),
        vec![
            json!({"table": "items", "op": "insert", "pk": {"id": 1},
                   "columns": {"id": 1, "name": "bolt", "qty": 3}}),
            json!({"table": "items", "op": "update", "pk": {"id": 1},
                   "columns": {"qty": 4}}),
        ]
    );
}

/// Notifications a session may have waiting (README, LISTEN / NOTIFY).
const INBOX: i64 = 65_536;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_that_falls_behind_is_told_it_overflowed() {
    let patina = Patina::start().await;
    let writer = listener_at(patina.pg_addr()).await;
    let mut slow = listener_at(patina.pg_addr()).await;
    let w = &writer.client;
    exec(w, "CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT)").await;
    exec(&slow.client, "LISTEN \"patina:changes:big\"").await;
    // A listener inside a transaction receives nothing until it ends, so
    // its inbox fills up.
    exec(&slow.client, "BEGIN; SELECT 1").await;
    exec(
        w,
        &format!(
            "INSERT INTO big SELECT g, 'x' FROM generate_series(1, {}) AS g",
            INBOX + 10
        ),
    )
    .await;
    exec(w, "INSERT INTO big VALUES (0, 'also missed')").await;
    exec(&slow.client, "COMMIT").await;
    let mut next = async || {
        let Notification {
            channel, payload, ..
        } = tokio::time::timeout(ARRIVAL, slow.notifications.recv())
            .await
            .expect("a notification arrives")
            .expect("the connection is open");
        assert_eq!(channel, "patina:changes:big");
        serde_json::from_str::<Value>(&payload).expect("a JSON payload")
    };
    // Everything that fitted, in order, then the overflow notice.
    for id in 1..=INBOX {
        let change = next().await;
        assert_eq!(
            (&change["op"], &change["pk"]["id"]),
            (&json!("insert"), &json!(id))
        );
    }
    assert_eq!(next().await, json!({"op": "overflow"}));
    // Then the feed flows again.
    exec(w, "UPDATE big SET v = 'y' WHERE id = 1").await;
    let change = next().await;
    assert_eq!(
        changes(&[change]),
        [json!({"table": "big", "op": "update", "pk": {"id": 1}, "columns": {"v": "y"}})]
    );
}
