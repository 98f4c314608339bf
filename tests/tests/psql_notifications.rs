//! The real `psql` as a listener on node 1 of a 2-node cluster while a
//! tokio-postgres writer on node 0 commits: a plain channel, a row change
//! feed (`LISTEN "patina:changes:<table>"`) and a query subscription
//! (`SELECT * FROM patina_subscribe('...')`), heard through psql's own
//! `Asynchronous notification "<channel>" with payload "<payload>" received
//! from server process with PID <n>.` lines. psql prints what arrived after
//! the next command it runs, so the test drives one psql session through
//! its stdin and runs a cheap `SELECT` until the sentinel the writer sent
//! last shows up (a node delivers a notification only once it holds every
//! earlier version of its origin), bounded, never waiting on time. Needs
//! the patina binary (`cargo build -p patina-cli`, or `PATINA_BIN`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use patina_tests::{Cluster, ClusterOptions, pg_bin_dir};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// How long psql may take to show what the test waits for.
const DEADLINE: Duration = Duration::from_secs(30);
/// How often psql is asked to run a command (and so print what arrived).
const POLL: Duration = Duration::from_millis(25);

const FEED: &str = "patina:changes:items";

/// One interactive psql session, its output read line by line.
struct Psql {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::UnboundedReceiver<String>,
    ticks: u64,
}

impl Psql {
    /// Starts `psql` (no ~/.psqlrc, unaligned, tuples only, stopping at the
    /// first error) reading its commands from a pipe.
    fn start(addr: SocketAddr) -> Psql {
        let conninfo = format!(
            "host={} port={} user=postgres dbname=postgres",
            addr.ip(),
            addr.port()
        );
        let mut child = Command::new(pg_bin_dir().join("psql"))
            .args(["-X", "-w", "-q", "-At", "-v", "ON_ERROR_STOP=1", &conninfo])
            .env("PGCONNECT_TIMEOUT", "10")
            .env_remove("PGPASSWORD")
            .env_remove("PGSSLMODE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("psql starts");
        let stdin = child.stdin.take().expect("psql's stdin");
        let stdout = child.stdout.take().expect("psql's stdout");
        let (send, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Psql {
            child,
            stdin,
            lines,
            ticks: 0,
        }
    }

    fn send(&mut self, command: &str) {
        writeln!(self.stdin, "{command}").expect("psql reads its stdin");
        self.stdin.flush().expect("psql reads its stdin");
    }

    /// Runs `command` followed by a marker query and returns the lines
    /// psql printed up to the marker: the command's output and the
    /// notifications that arrived before it ran.
    async fn run(&mut self, command: &str) -> Vec<String> {
        self.ticks += 1;
        let marker = format!("tick {}", self.ticks);
        self.send(command);
        self.send(&format!("SELECT '{marker}';"));
        let mut out = Vec::new();
        loop {
            let line = tokio::time::timeout(DEADLINE, self.lines.recv())
                .await
                .unwrap_or_else(|_| panic!("psql did not answer {command:?}; so far {out:?}"))
                .unwrap_or_else(|| panic!("psql exited after {command:?}; it printed {out:?}"));
            if line == marker {
                return out;
            }
            out.push(line);
        }
    }

    /// Every notification psql prints until one on `channel` with
    /// `payload`, as (channel, payload).
    async fn notifications_until(&mut self, channel: &str, payload: &str) -> Vec<(String, String)> {
        let started = tokio::time::Instant::now();
        let mut seen = Vec::new();
        loop {
            // psql prints notifications after the command it runs next.
            for line in self.run("SELECT 1 WHERE false;").await {
                seen.push(parse_notification(&line));
            }
            if seen.iter().any(|(c, p)| c == channel && p == payload) {
                return seen;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "no notification {channel:?} {payload:?} from psql; it printed {seen:?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for Psql {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// (channel, payload) of psql's line for a notification.
fn parse_notification(line: &str) -> (String, String) {
    let rest = line
        .strip_prefix("Asynchronous notification \"")
        .unwrap_or_else(|| panic!("not a notification line: {line:?}"));
    let (rest, pid) = rest
        .rsplit_once(" received from server process with PID ")
        .unwrap_or_else(|| panic!("no PID in {line:?}"));
    assert!(
        pid.strip_suffix('.')
            .is_some_and(|n| n.parse::<i64>().is_ok()),
        "{line:?}"
    );
    match rest.split_once("\" with payload \"") {
        Some((channel, payload)) => (
            channel.to_owned(),
            payload
                .strip_suffix('"')
                .unwrap_or_else(|| panic!("{line:?}"))
                .to_owned(),
        ),
        // psql leaves out an empty payload
        None => (
            rest.strip_suffix('"')
                .unwrap_or_else(|| panic!("{line:?}"))
                .to_owned(),
            String::new(),
        ),
    }
}

/// The payloads (as JSON) of the notifications on `channel`.
fn payloads_on(seen: &[(String, String)], channel: &str) -> Vec<Value> {
    seen.iter()
        .filter(|(c, _)| c == channel)
        .map(|(_, p)| serde_json::from_str(p).unwrap_or_else(|e| panic!("{p:?}: {e}")))
        .collect()
}

/// A feed payload without its writer (origin and db_version, checked apart).
fn change(payload: &Value) -> Value {
    assert!(
        payload["origin"]
            .as_str()
            .is_some_and(|o| o.len() == 32 && o.bytes().all(|b| b.is_ascii_hexdigit())),
        "{payload}"
    );
    assert!(payload["db_version"].is_u64(), "{payload}");
    json!({
        "table": payload["table"], "op": payload["op"],
        "pk": payload["pk"], "columns": payload["columns"],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_on_one_node_hears_a_writer_on_another() {
    let cluster = Cluster::start(2, ClusterOptions::default()).await;
    cluster
        .create_table(
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INT NOT NULL DEFAULT 0)",
            "items",
        )
        .await;
    cluster
        .exec(0, "INSERT INTO items (id, name) VALUES (1, 'bolt')")
        .await;
    cluster.wait_count_on(DEADLINE, &[1], "items", 1).await;

    let mut psql = Psql::start(cluster.pg_addr(1));
    assert_eq!(
        psql.run(&format!("LISTEN plain; LISTEN \"{FEED}\";")).await,
        Vec::<String>::new()
    );
    // The subscription's rows: patina_sub|patina_change_id|patina_row_id|id|name
    let rows = psql
        .run("SELECT * FROM patina_subscribe('SELECT id, name FROM items');")
        .await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let fields: Vec<&str> = rows[0].split('|').collect();
    assert_eq!(fields[1..], ["0", fields[2], "1", "bolt"], "{rows:?}");
    let sub_channel = format!("patina:sub:{}", fields[0]);
    let bolt_row: u64 = fields[2].parse().expect("a row id");

    // Each step heard before the next: another node merging a burst of
    // commits may apply only their net effect.
    cluster.exec(0, "NOTIFY plain, 'hello'").await;
    cluster.exec(0, "NOTIFY plain").await;
    let seen = psql.notifications_until("plain", "").await;
    assert_eq!(
        seen,
        [
            ("plain".to_owned(), "hello".to_owned()),
            ("plain".to_owned(), String::new())
        ]
    );

    cluster
        .exec(0, "INSERT INTO items (id, name) VALUES (2, 'nut')")
        .await;
    cluster.exec(0, "NOTIFY plain, 'inserted'").await;
    let seen = psql.notifications_until("plain", "inserted").await;
    let feed: Vec<Value> = payloads_on(&seen, FEED).iter().map(change).collect();
    assert_eq!(
        feed,
        [json!({"table": "items", "op": "insert", "pk": {"id": 2},
                "columns": {"id": 2, "name": "nut", "qty": 0}})]
    );
    let subs = payloads_on(&seen, &sub_channel);
    assert_eq!(subs.len(), 1, "{seen:?}");
    let nut_row = subs[0]["row_id"].as_u64().expect("a row id");
    assert_ne!(nut_row, bolt_row);
    assert_eq!(
        subs[0],
        json!({"change_id": 1, "op": "insert", "row_id": nut_row,
               "row": {"id": 2, "name": "nut"}})
    );
    assert_eq!(seen.len(), 3, "nothing else: {seen:?}");

    cluster
        .exec(
            0,
            "UPDATE items SET name = 'big bolt', qty = 3 WHERE id = 1",
        )
        .await;
    cluster.exec(0, "DELETE FROM items WHERE id = 2").await;
    // Only qty changes: the subscription does not read it.
    cluster
        .exec(0, "UPDATE items SET qty = 4 WHERE id = 1")
        .await;
    cluster.exec(0, "NOTIFY plain, 'done'").await;
    let seen = psql.notifications_until("plain", "done").await;
    let feed: Vec<Value> = payloads_on(&seen, FEED).iter().map(change).collect();
    assert_eq!(
        feed,
        [
            json!({"table": "items", "op": "update", "pk": {"id": 1},
                   "columns": {"name": "big bolt", "qty": 3}}),
            json!({"table": "items", "op": "delete", "pk": {"id": 2}, "columns": {}}),
            json!({"table": "items", "op": "update", "pk": {"id": 1}, "columns": {"qty": 4}}),
        ]
    );
    // Replayed onto the rows so far, the changes give the query's result.
    let mut result = BTreeMap::from([
        (bolt_row, json!({"id": 1, "name": "bolt"})),
        (nut_row, json!({"id": 2, "name": "nut"})),
    ]);
    // Change ids go on from 1, one by one.
    for (change_id, change) in (2..).zip(payloads_on(&seen, &sub_channel)) {
        assert_eq!(change["change_id"], json!(change_id), "{change}");
        let row_id = change["row_id"].as_u64().expect("a row id");
        match change["op"].as_str() {
            Some("delete") => assert!(result.remove(&row_id).is_some(), "{change}"),
            Some("update") => {
                assert!(result.contains_key(&row_id), "{change}");
                result.insert(row_id, change["row"].clone());
            }
            _ => panic!("unexpected {change}"),
        }
    }
    assert_eq!(
        result,
        BTreeMap::from([(bolt_row, json!({"id": 1, "name": "big bolt"}))])
    );
    let plain: Vec<&(String, String)> = seen.iter().filter(|(c, _)| c == "plain").collect();
    assert_eq!(plain, [&("plain".to_owned(), "done".to_owned())]);
}
