//! Query subscriptions (`patina_subscribe`, `patina_resume`) against
//! running nodes, with tokio-postgres: the writer on another node than the
//! subscriber. Initial rows, insert/update/delete diffs through a join and
//! a WHERE, an aggregate re-run, identical queries sharing one
//! subscription, resuming exactly and past the retention, a stuck
//! subscriber told of its overflow that resumes, errors, a subscription
//! dropped when its query stops running, and a restart of
//! the subscriber's node. Every wait is for a notification or
//! a condition, bounded. Needs the patina binary (`cargo build -p
//! patina-cli`, or `PATINA_BIN`).

#[path = "subscriptions/follow.rs"]
mod follow;

use std::time::Duration;

use follow::{Session, error_code, literal, rows, session, subscribe};
use patina_tests::wire::frontend;
use patina_tests::{Cluster, ClusterOptions, Patina, wait_until};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const DEADLINE: Duration = Duration::from_secs(30);

const OWNERS: &str = "CREATE TABLE owners (id int PRIMARY KEY, name text)";
const PETS: &str = "CREATE TABLE pets (id int PRIMARY KEY, owner int, kind text, age int DEFAULT 0, tame boolean DEFAULT false)";
const JOINED: &str = "SELECT p.id, p.kind, o.name, p.tame FROM pets p JOIN owners o ON o.id = p.owner WHERE p.age > 1";

async fn two_nodes() -> Cluster {
    let cluster = Cluster::start(2, ClusterOptions::default()).await;
    cluster.create_table(OWNERS, "owners").await;
    cluster.create_table(PETS, "pets").await;
    cluster
}

fn row(values: &[&str]) -> Vec<Option<String>> {
    values.iter().map(|v| Some((*v).to_owned())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_follow_writes_made_on_another_node() {
    let cluster = two_nodes().await;
    cluster
        .exec(
            0,
            "INSERT INTO owners VALUES (1, 'ann'), (2, 'bob');
             INSERT INTO pets VALUES (10, 1, 'cat', 3, true), (11, 2, 'dog', 1, false)",
        )
        .await;
    cluster.wait_count_on(DEADLINE, &[1], "pets", 2).await;
    let mut subscriber = session(cluster.pg_addr(1)).await;
    let mut joined = subscribe(&mut subscriber, JOINED).await.expect("subscribe");
    assert_eq!(joined.columns, ["id", "kind", "name", "tame"]);
    assert_eq!(joined.sorted(), vec![row(&["10", "cat", "ann", "t"])]);

    // Each write on node 0 is one change of the result on node 1.
    cluster
        .exec(0, "UPDATE pets SET age = 5 WHERE id = 11")
        .await;
    let change = joined.next(&mut subscriber).await;
    assert_eq!(change.op, "insert");
    assert_eq!(change.row, Some(row(&["11", "dog", "bob", "f"])));
    cluster
        .exec(0, "UPDATE owners SET name = 'anna' WHERE id = 1")
        .await;
    let change = joined.next(&mut subscriber).await;
    assert_eq!((change.op.as_str(), change.row_id), ("update", 1));
    assert_eq!(change.row, Some(row(&["10", "cat", "anna", "t"])));
    cluster
        .exec(0, "UPDATE pets SET tame = true WHERE id = 11")
        .await;
    assert_eq!(joined.next(&mut subscriber).await.op, "update");
    cluster.exec(0, "DELETE FROM owners WHERE id = 2").await;
    let change = joined.next(&mut subscriber).await;
    assert_eq!((change.op.as_str(), change.row), ("delete", None));
    cluster
        .exec(0, "UPDATE pets SET age = 0 WHERE id = 10")
        .await;
    assert_eq!(joined.next(&mut subscriber).await.op, "delete");
    assert!(joined.rows.is_empty());
    // Rows the WHERE keeps out change nothing.
    cluster
        .exec(0, "INSERT INTO pets VALUES (12, 1, 'ant', 0)")
        .await;
    cluster
        .exec(0, "INSERT INTO pets VALUES (13, 1, 'yak', 7)")
        .await;
    let change = joined.next(&mut subscriber).await;
    assert_eq!(change.row, Some(row(&["13", "yak", "anna", "f"])));

    // An aggregate is re-run; the NOTICE says so.
    let mut count = subscribe(&mut subscriber, "SELECT count(*) AS n FROM pets")
        .await
        .expect("subscribe");
    let reason = subscriber.notices.recv().await.expect("a NOTICE");
    assert!(
        reason.contains("cannot be maintained incrementally"),
        "{reason}"
    );
    assert!(reason.contains("count()"), "{reason}");
    assert_eq!(count.sorted(), vec![row(&["4"])]);
    cluster.exec(0, "DELETE FROM pets WHERE id = 12").await;
    let change = count.next(&mut subscriber).await;
    assert_eq!(
        (change.op.as_str(), change.row),
        ("update", Some(row(&["3"])))
    );

    // The same query, written differently, shares the subscription.
    let mut other = session(cluster.pg_addr(1)).await;
    let shared = subscribe(
        &mut other,
        "select p.id, p.kind, o.name, p.tame   from pets p join owners o on o.id = p.owner where p.age > 1",
    )
    .await
    .expect("subscribe");
    assert_eq!(shared.id, joined.id);
    assert_eq!(shared.change_id, joined.change_id);
    assert_eq!(shared.rows, joined.rows);

    // The replayed results are the queries' results.
    let expected = rows(&subscriber.client, JOINED).await;
    assert_eq!(joined.sorted(), expected);
}

/// Many subscriptions with a constant each: a write is notified to those
/// whose constant its row matches (by key, by another column, on insert
/// and on leaving), and to no other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_reach_only_the_subscriptions_whose_constants_they_match() {
    let cluster = two_nodes().await;
    let values: Vec<String> = (0..60)
        .map(|i| format!("({i}, 1, 'k{}', 0)", i % 20))
        .collect();
    cluster
        .exec(
            0,
            &format!(
                "INSERT INTO pets (id, owner, kind, age) VALUES {}",
                values.join(", ")
            ),
        )
        .await;
    cluster.wait_count_on(DEADLINE, &[1], "pets", 60).await;
    let mut subscriber = session(cluster.pg_addr(1)).await;
    let mut by_id = Vec::new();
    for i in 0..40 {
        let query = format!("SELECT id, age FROM pets WHERE id = {i}");
        by_id.push(subscribe(&mut subscriber, &query).await.expect("subscribe"));
    }
    let mut by_kind = Vec::new();
    for k in 0..20 {
        let query = format!("SELECT id, kind FROM pets WHERE kind = 'k{k}' AND age IN (0, 1)");
        by_kind.push(subscribe(&mut subscriber, &query).await.expect("subscribe"));
    }
    assert_eq!(by_id[7].sorted(), vec![row(&["7", "0"])]);
    assert_eq!(
        by_kind[3].sorted(),
        vec![row(&["23", "k3"]), row(&["3", "k3"]), row(&["43", "k3"])]
    );

    // In commit order: rows no subscription's constants admit, then one
    // row each of them admits. The first notification the subscriber
    // gets is the second write's: the first sent none.
    let next = async |subscriber: &mut Session| {
        tokio::time::timeout(DEADLINE, subscriber.notifications.recv())
            .await
            .expect("a notification in time")
            .expect("the connection is open")
    };
    cluster
        .exec(
            0,
            "INSERT INTO pets (id, owner, kind, age) VALUES (100, 1, 'zz', 0), (101, 1, 'k5', 9)",
        )
        .await;
    cluster
        .exec(0, "UPDATE pets SET age = 4 WHERE id = 100")
        .await;
    cluster
        .exec(0, "UPDATE pets SET kind = 'k8' WHERE id = 7")
        .await;
    // One write, two subscriptions: in either order.
    let mut got = [next(&mut subscriber).await, next(&mut subscriber).await];
    got.sort_by_key(|n| n.channel != by_kind[7].channel());
    assert_eq!(got[0].channel, by_kind[7].channel(), "{got:?}");
    let change = by_kind[7].parse(&got[0].payload);
    assert_eq!((change.op.as_str(), &change.row), ("delete", &None));
    by_kind[7].apply(&change);
    assert_eq!(got[1].channel, by_kind[8].channel(), "{got:?}");
    let change = by_kind[8].parse(&got[1].payload);
    assert_eq!(change.row, Some(row(&["7", "k8"])));
    by_kind[8].apply(&change);
    // By id 7 reads age, not kind: the same row changed nothing there.
    cluster
        .exec(
            0,
            "INSERT INTO pets (id, owner, kind, age) VALUES (102, 1, 'k5', 1)",
        )
        .await;
    let third = next(&mut subscriber).await;
    assert_eq!(third.channel, by_kind[5].channel(), "{third:?}");
    let change = by_kind[5].parse(&third.payload);
    by_kind[5].apply(&change);
    cluster
        .exec(0, "UPDATE pets SET age = 1 WHERE id = 7")
        .await;
    let fourth = next(&mut subscriber).await;
    assert_eq!(fourth.channel, by_id[7].channel(), "{fourth:?}");
    let change = by_id[7].parse(&fourth.payload);
    by_id[7].apply(&change);

    // The replayed results are the queries' results.
    for (followed, query) in [
        (&by_id[7], "SELECT id, age FROM pets WHERE id = 7"),
        (
            &by_kind[5],
            "SELECT id, kind FROM pets WHERE kind = 'k5' AND age IN (0, 1)",
        ),
        (
            &by_kind[7],
            "SELECT id, kind FROM pets WHERE kind = 'k7' AND age IN (0, 1)",
        ),
        (
            &by_kind[8],
            "SELECT id, kind FROM pets WHERE kind = 'k8' AND age IN (0, 1)",
        ),
    ] {
        assert_eq!(
            followed.sorted(),
            rows(&subscriber.client, query).await,
            "{query}"
        );
    }
    // Nothing else was sent.
    assert!(subscriber.notifications.try_recv().is_err());
    // The index read the changed rows (it did not fall back to trying
    // every subscription).
    let log = cluster.log(1);
    assert!(!log.contains("for the subscription index failed"), "{log}");
}

/// A row too large for a notification payload is announced without its
/// values; subscribing again reads it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_too_large_for_a_payload_is_sent_truncated() {
    let cluster = two_nodes().await;
    let mut subscriber = session(cluster.pg_addr(1)).await;
    let query = "SELECT id, kind FROM pets WHERE owner = 1";
    let followed = subscribe(&mut subscriber, query).await.expect("subscribe");
    cluster
        .exec(
            0,
            "INSERT INTO pets (id, owner, kind) VALUES (1, 1, repeat('x', 9000))",
        )
        .await;
    let payload = subscriber.next_on(&followed.channel()).await;
    assert!(payload.len() < 8000, "{}", payload.len());
    let json: serde_json::Value = serde_json::from_str(&payload).expect("JSON");
    assert_eq!(json["op"], "insert", "{payload}");
    assert_eq!(json["truncated"], true, "{payload}");
    assert!(json.get("row").is_none(), "{payload}");
    let again = subscribe(&mut subscriber, query).await.expect("subscribe");
    assert_eq!(again.id, followed.id);
    assert!(again.change_id >= json["change_id"].as_i64().expect("a change id"));
    assert_eq!(again.sorted(), vec![row(&["1", &"x".repeat(9000)])]);
}

/// A write after which the query no longer runs (here: a division by
/// zero, made on the other node) drops the subscription, and its
/// listeners are told why; subscribing again gets the query's error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_whose_query_stops_running_is_dropped_and_said_so() {
    let cluster = two_nodes().await;
    let query = "SELECT id, 10 / age AS per_year FROM pets";
    let mut subscriber = session(cluster.pg_addr(1)).await;
    let mut followed = subscribe(&mut subscriber, query).await.expect("subscribe");
    cluster
        .exec(
            0,
            "INSERT INTO pets (id, owner, kind, age) VALUES (1, 1, 'cat', 2)",
        )
        .await;
    assert_eq!(followed.next(&mut subscriber).await.op, "insert");
    assert_eq!(followed.sorted(), vec![row(&["1", "5"])]);
    cluster
        .exec(0, "UPDATE pets SET age = 0 WHERE id = 1")
        .await;
    let payload = subscriber.next_on(&followed.channel()).await;
    let json: serde_json::Value = serde_json::from_str(&payload).expect("JSON");
    assert_eq!(
        json,
        serde_json::json!({"op": "dropped", "reason": "division by zero"})
    );
    let again = subscribe(&mut subscriber, query)
        .await
        .expect_err("the query fails");
    assert_eq!(again.code().map(|c| c.code()), Some("22012"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_delivers_exactly_the_missed_changes() {
    let cluster = two_nodes().await;
    cluster
        .exec(
            0,
            "INSERT INTO owners VALUES (1, 'ann'); INSERT INTO pets VALUES (10, 1, 'cat', 3)",
        )
        .await;
    cluster.wait_count_on(DEADLINE, &[1], "pets", 1).await;
    let mut first = session(cluster.pg_addr(1)).await;
    let followed = subscribe(&mut first, JOINED).await.expect("subscribe");
    drop(first);
    for (id, kind) in [(20, "ox"), (21, "elk"), (22, "emu")] {
        cluster
            .exec(
                0,
                &format!("INSERT INTO pets VALUES ({id}, 1, '{kind}', 2)"),
            )
            .await;
    }
    // Wait until node 1's subscription reached the three changes.
    let resume = |last: i64| {
        format!(
            "SELECT * FROM patina_resume({}, {last})",
            literal(&followed.id)
        )
    };
    let target = (followed.change_id + 3).to_string();
    cluster
        .wait_for(
            DEADLINE,
            "the subscription to follow three inserts",
            || async {
                let rows = cluster.try_query(1, &resume(followed.change_id)).await?;
                match rows.first().and_then(|r| r.get(1).cloned().flatten()) {
                    Some(at) if at == target => Ok(()),
                    other => Err(format!("at change {other:?}")),
                }
            },
        )
        .await;

    // Resuming after the first missed change delivers the other two, then
    // what comes next.
    let mut again = session(cluster.pg_addr(1)).await;
    let mut resumed = followed.clone();
    let first_missed = resumed.change_id + 1;
    let answer = rows(&again.client, &resume(first_missed)).await;
    assert_eq!(
        answer,
        vec![vec![Some(followed.id.clone()), Some(target.clone())]]
    );
    resumed.change_id = first_missed;
    let second = resumed.next(&mut again).await;
    assert_eq!(second.change_id, first_missed + 1);
    let third = resumed.next(&mut again).await;
    assert_eq!(third.row, Some(row(&["22", "emu", "ann", "f"])));
    cluster.exec(0, "DELETE FROM pets WHERE id = 10").await;
    let fourth = resumed.next(&mut again).await;
    assert_eq!(
        (fourth.op.as_str(), fourth.change_id),
        ("delete", first_missed + 3)
    );

    // Unknown ids and change ids not reached are errors.
    assert_eq!(
        error_code(&again.client, "SELECT * FROM patina_resume('nope', 0)").await,
        "42704"
    );
    assert_eq!(error_code(&again.client, &resume(1000)).await, "22023");
}

/// A connection with a tiny receive buffer, so that a server writing to it
/// while it does not read soon has to wait: a stuck subscriber.
struct Stuck {
    stream: TcpStream,
}

impl Stuck {
    async fn connect(addr: std::net::SocketAddr) -> Stuck {
        let socket = TcpSocket::new_v4().expect("a socket");
        socket.set_recv_buffer_size(4096).expect("a small buffer");
        let stream = socket.connect(addr).await.expect("connect");
        let mut stuck = Stuck { stream };
        stuck.send(&frontend::startup(&[])).await;
        while stuck.recv().await.0 != b'Z' {}
        stuck
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("send");
    }

    /// The next backend message: its type and body.
    async fn recv(&mut self) -> (u8, Vec<u8>) {
        let read = async {
            let tag = self.stream.read_u8().await?;
            let length = self.stream.read_u32().await?;
            let mut body = vec![0; (length as usize).saturating_sub(4)];
            self.stream.read_exact(&mut body).await?;
            Ok::<_, std::io::Error>((tag, body))
        };
        tokio::time::timeout(DEADLINE, read)
            .await
            .expect("a message in time")
            .expect("a message")
    }
}

/// A NotificationResponse's channel and payload.
fn notification(tag: u8, body: &[u8]) -> Option<(String, String)> {
    if tag != b'A' {
        return None;
    }
    let mut parts = body.get(4..)?.split(|b| *b == 0);
    let channel = String::from_utf8_lossy(parts.next()?).into_owned();
    let payload = String::from_utf8_lossy(parts.next()?).into_owned();
    Some((channel, payload))
}

/// The change id of a subscription payload, `None` for the overflow one.
fn change_id(payload: &str) -> Option<i64> {
    let json: serde_json::Value = serde_json::from_str(payload).expect("JSON");
    json.get("change_id").and_then(serde_json::Value::as_i64)
}

/// Reads `conn` until `done` holds for the notifications of `channel`
/// read so far (and, after a query, its ReadyForQuery came).
async fn read_until(
    conn: &mut Stuck,
    channel: &str,
    seen: &mut Vec<String>,
    after_query: bool,
    done: impl Fn(&[String]) -> bool,
) {
    let mut ready = !after_query;
    while !(ready && done(seen)) {
        let (tag, body) = conn.recv().await;
        match notification(tag, &body) {
            Some((got, payload)) if got == channel => seen.push(payload),
            Some(_) => {}
            None => ready |= tag == b'Z',
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_inbox_overflow_is_told_and_past_the_retention_resume_is_refused() {
    let node = Patina::start().await;
    let mut subscriber = session(node.pg_addr()).await;
    let client = &subscriber.client;
    client
        .batch_execute("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (0)")
        .await
        .expect("a table");
    let followed = subscribe(&mut subscriber, "SELECT id FROM t")
        .await
        .expect("subscribe");
    subscriber
        .client
        .batch_execute("UNLISTEN *")
        .await
        .expect("unlisten");
    // A subscriber that does not read its connection while 100,001 changes
    // come: more than its inbox holds (65,536).
    let mut stuck = Stuck::connect(node.pg_addr()).await;
    stuck
        .send(&frontend::query(&format!(
            "SELECT * FROM patina_subscribe({})",
            literal("SELECT id FROM t")
        )))
        .await;
    while stuck.recv().await.0 != b'Z' {}
    // More changes than a subscription keeps (100,000).
    subscriber
        .client
        .batch_execute(
            "INSERT INTO t (id) WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 100001) SELECT n FROM s",
        )
        .await
        .expect("many rows");
    let sql = format!(
        "SELECT * FROM patina_resume({}, {})",
        literal(&followed.id),
        followed.change_id
    );
    let client = &subscriber.client;
    wait_until(
        Duration::from_secs(120),
        "the oldest changes to fall out of the retention",
        || async {
            // Each attempt listens again: stop, so nothing piles up.
            let outcome = client.simple_query(&sql).await;
            client
                .batch_execute("UNLISTEN *")
                .await
                .map_err(|e| e.to_string())?;
            match outcome {
                Ok(_) => Err("the changes are still kept".to_owned()),
                Err(error) => {
                    let db = error.as_db_error().ok_or_else(|| error.to_string())?;
                    assert_eq!(db.code().code(), "55000", "{}", db.message());
                    assert!(db.message().contains("subscribe again"), "{}", db.message());
                    Ok(())
                }
            }
        },
        || node.log(),
    )
    .await;

    // Writes went on. The stuck subscriber reads what its inbox kept, in
    // order, then the overflow notification; resuming from the last change
    // it saw delivers exactly the rest.
    let channel = followed.channel();
    let mut seen = Vec::new();
    read_until(&mut stuck, &channel, &mut seen, false, |seen| {
        seen.last().is_some_and(|p| change_id(p).is_none())
    })
    .await;
    let overflow = seen.pop().expect("the overflow notification");
    assert_eq!(overflow, r#"{"op":"overflow"}"#);
    let ids: Vec<i64> = seen
        .iter()
        .map(|p| change_id(p).expect("a change"))
        .collect();
    let last = *ids.last().expect("some changes before the overflow");
    assert!(last < 100_001, "the inbox overflowed");
    assert_eq!(ids, (1..=last).collect::<Vec<_>>());
    stuck
        .send(&frontend::query(&format!(
            "SELECT * FROM patina_resume({}, {last})",
            literal(&followed.id)
        )))
        .await;
    let mut rest = Vec::new();
    read_until(&mut stuck, &channel, &mut rest, true, |rest| {
        rest.last().and_then(|p| change_id(p)) == Some(100_001)
    })
    .await;
    let ids: Vec<i64> = rest
        .iter()
        .map(|p| change_id(p).expect("a change"))
        .collect();
    assert_eq!(ids, (last + 1..=100_001).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_queries_get_the_errors_running_them_would() {
    let node = Patina::start().await;
    let mut s: Session = session(node.pg_addr()).await;
    s.client
        .batch_execute("CREATE TABLE items (id int PRIMARY KEY, name text)")
        .await
        .expect("a table");
    let subscribe_sql = |query: &str| format!("SELECT * FROM patina_subscribe({})", literal(query));
    for (query, code) in [
        ("SELEC 1", "42601"),
        ("SELECT * FROM nope", "42P01"),
        ("SELECT nope FROM items", "42703"),
        ("INSERT INTO items VALUES (1, 'a')", "0A000"),
        ("SELECT id FROM items WHERE id = $1", "42P02"),
    ] {
        assert_eq!(
            error_code(&s.client, &subscribe_sql(query)).await,
            code,
            "{query}"
        );
    }
    // Inside a transaction: before it writes (the rows are the committed
    // ones), not after (a new subscription waits for the writer).
    s.client
        .batch_execute(&format!(
            "BEGIN; {}; COMMIT",
            subscribe_sql("SELECT id FROM items")
        ))
        .await
        .expect("subscribe in a transaction");
    s.client
        .batch_execute("BEGIN; INSERT INTO items VALUES (7, 'x')")
        .await
        .expect("a write");
    assert_eq!(
        error_code(&s.client, &subscribe_sql("SELECT name FROM items")).await,
        "25001"
    );
    s.client.batch_execute("ROLLBACK").await.expect("rollback");
    // Nothing was inserted, and the session goes on.
    assert_eq!(
        rows(&s.client, "SELECT count(*) FROM items").await,
        vec![vec![Some("0".to_owned())]]
    );

    // The extended protocol describes the columns; a parameter for the
    // query is refused clearly.
    let statement = s
        .client
        .prepare(&subscribe_sql("SELECT id, name FROM items"))
        .await
        .expect("prepare");
    let names: Vec<&str> = statement.columns().iter().map(|c| c.name()).collect();
    assert_eq!(
        names,
        [
            "patina_sub",
            "patina_change_id",
            "patina_row_id",
            "id",
            "name"
        ]
    );
    let rows_now = s.client.query(&statement, &[]).await.expect("execute");
    assert!(rows_now.is_empty());
    let parameter = s
        .client
        .prepare("SELECT * FROM patina_subscribe($1)")
        .await
        .expect_err("a parameter");
    assert_eq!(parameter.code().map(|c| c.code()), Some("0A000"));
    let resumed = s
        .client
        .query("SELECT * FROM patina_resume($1, $2)", &[&"nope", &0_i64])
        .await
        .expect_err("unknown");
    assert_eq!(resumed.code().map(|c| c.code()), Some("42704"));
    let _ = &mut s;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_survive_a_restart_of_the_subscribers_node() {
    let mut cluster = two_nodes().await;
    cluster
        .exec(
            0,
            "INSERT INTO owners VALUES (1, 'ann'); INSERT INTO pets VALUES (10, 1, 'cat', 3)",
        )
        .await;
    cluster.wait_count_on(DEADLINE, &[1], "pets", 1).await;
    let mut before = session(cluster.pg_addr(1)).await;
    let mut followed = subscribe(&mut before, JOINED).await.expect("subscribe");
    drop(before);
    cluster.kill(1);
    cluster
        .exec(
            0,
            "INSERT INTO pets VALUES (11, 1, 'dog', 4); UPDATE owners SET name = 'anna'",
        )
        .await;
    cluster.restart(1).await;
    let mut after = session(cluster.pg_addr(1)).await;
    let answer = rows(
        &after.client,
        &format!(
            "SELECT * FROM patina_resume({}, {})",
            literal(&followed.id),
            followed.change_id
        ),
    )
    .await;
    assert_eq!(answer[0][0].as_deref(), Some(followed.id.as_str()));
    let expected = vec![
        row(&["10", "cat", "anna", "f"]),
        row(&["11", "dog", "anna", "f"]),
    ];
    cluster
        .wait_rows_on(DEADLINE, &[1], &format!("{JOINED} ORDER BY 1"), &expected)
        .await;
    followed.until(&mut after, &expected).await;
}
