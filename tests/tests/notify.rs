//! LISTEN/NOTIFY against a real PostgreSQL 15 and patina, with the same
//! script on both: delivery at commit only, folding, rollback and
//! savepoints, a session hearing itself, a listener in a transaction,
//! the payload limit, UNLISTEN *, identifier case; then across a cluster,
//! a listener on one node hearing a notifier on another. A listener learns what
//! was delivered before a step by waiting for a sentinel notification sent
//! after it (so no test waits on time). Needs the patina binary (`cargo
//! build -p patina-cli`, or `PATINA_BIN`).

use std::net::SocketAddr;
use std::time::Duration;

use patina_tests::{
    Cluster, ClusterOptions, Notification, Patina, Postgres, Recording, connect_recording,
};
use tokio::sync::mpsc;
use tokio_postgres::Client;

/// How long a notification may take to arrive before the test fails.
const ARRIVAL: Duration = Duration::from_secs(20);

/// A connection that records the notifications it receives: (channel,
/// payload, sent by this same session).
struct Listener {
    client: Client,
    pid: i32,
    notifications: mpsc::UnboundedReceiver<Notification>,
}

async fn listener(port: u16) -> Listener {
    listener_at(SocketAddr::from(([127, 0, 0, 1], port))).await
}

async fn listener_at(addr: SocketAddr) -> Listener {
    let Recording {
        client,
        notifications,
        ..
    } = connect_recording(addr).await;
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .expect("pid")
        .get(0);
    Listener {
        client,
        pid,
        notifications,
    }
}

impl Listener {
    /// Everything delivered to this listener on channel `a` up to the
    /// sentinel `notifier` sends now, as (payload, from itself).
    async fn delivered(&mut self, notifier: &Client) -> Vec<(String, bool)> {
        notifier
            .batch_execute("NOTIFY a, 'sentinel'")
            .await
            .expect("sentinel");
        let mut seen = Vec::new();
        loop {
            let next = tokio::time::timeout(ARRIVAL, self.notifications.recv())
                .await
                .expect("the sentinel arrives")
                .expect("the connection is open");
            let Notification {
                pid,
                channel,
                payload,
            } = next;
            if payload == "sentinel" {
                return seen;
            }
            seen.push((format!("{channel}:{payload}"), pid == self.pid));
        }
    }
}

/// Runs `sql`, which must succeed.
async fn exec(client: &Client, sql: &str) {
    if let Err(error) = client.batch_execute(sql).await {
        panic!("{sql}: {}", patina_tests::describe_error(&error));
    }
}

/// The SQLSTATE `sql` fails with.
async fn error_code(client: &Client, sql: &str) -> String {
    match client.batch_execute(sql).await {
        Ok(()) => panic!("{sql} succeeded"),
        Err(error) => error
            .code()
            .map(|c| c.code().to_owned())
            .unwrap_or_default(),
    }
}

fn payloads(items: &[&str]) -> Vec<(String, bool)> {
    items.iter().map(|p| (format!("a:{p}"), false)).collect()
}

/// The script; returns what was seen at each step, for comparing servers.
async fn script(port: u16) -> Vec<Vec<(String, bool)>> {
    let mut l = listener(port).await;
    let n = listener(port).await;
    let mut steps = Vec::new();
    exec(&l.client, "LISTEN a").await;

    exec(&n.client, "NOTIFY a, 'plain'").await;
    exec(
        &n.client,
        "BEGIN; NOTIFY a, 'one'; NOTIFY a, 'one'; NOTIFY a, 'two'; COMMIT",
    )
    .await;
    exec(&n.client, "BEGIN; NOTIFY a, 'rolled back'; ROLLBACK").await;
    exec(
        &n.client,
        "BEGIN; NOTIFY a, 'sp1'; SAVEPOINT s; NOTIFY a, 'sp2'; ROLLBACK TO s; \
             NOTIFY a, 'sp3'; COMMIT",
    )
    .await;
    let got = l.delivered(&n.client).await;
    assert_eq!(got, payloads(&["plain", "one", "two", "sp1", "sp3"]));
    steps.push(got);

    // A session hears itself; NOTIFY folds the channel's case, pg_notify
    // does not.
    exec(&l.client, "NOTIFY A, 'self'").await;
    exec(
        &n.client,
        "SELECT pg_notify('A', 'other channel'); SELECT pg_notify('a', 'func')",
    )
    .await;
    let got = l.delivered(&n.client).await;
    assert_eq!(
        got,
        vec![("a:self".to_owned(), true), ("a:func".to_owned(), false)]
    );
    steps.push(got);

    // A listener inside a transaction receives after it ends.
    exec(&l.client, "BEGIN").await;
    exec(&n.client, "NOTIFY a, 'during'").await;
    exec(&l.client, "SELECT 1").await;
    assert!(
        l.notifications.try_recv().is_err(),
        "nothing is delivered inside a transaction"
    );
    exec(&l.client, "COMMIT").await;
    let got = l.delivered(&n.client).await;
    assert_eq!(got, payloads(&["during"]));
    steps.push(got);

    // Errors: the payload limit, an empty channel.
    let long = format!("NOTIFY a, '{}'", "x".repeat(8000));
    assert_eq!(error_code(&n.client, &long).await, "22023");
    assert_eq!(
        error_code(&n.client, "SELECT pg_notify('', 'x')").await,
        "22023"
    );
    exec(&n.client, &format!("NOTIFY a, '{}'", "y".repeat(7999))).await;
    let got = l.delivered(&n.client).await;
    assert_eq!(got.len(), 1);
    steps.push(got);

    // LISTEN inside a rolled-back transaction never took effect; UNLISTEN *
    // stops everything.
    exec(&l.client, "BEGIN; LISTEN b; ROLLBACK").await;
    exec(&n.client, "NOTIFY b, 'unheard'").await;
    let got = l.delivered(&n.client).await;
    assert!(got.is_empty(), "{got:?}");
    exec(&l.client, "UNLISTEN *").await;
    exec(&n.client, "NOTIFY a, 'after'").await;
    exec(&l.client, "LISTEN a").await;
    let got = l.delivered(&n.client).await;
    assert!(got.is_empty(), "{got:?}");
    steps.push(got);
    steps
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_behaves_as_in_postgresql() {
    let postgres = Postgres::start().await;
    let expected = script(postgres.port()).await;
    let patina = Patina::start().await;
    let got = script(patina.port()).await;
    assert_eq!(got, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_reaches_listeners_on_every_node_once_in_order() {
    let cluster = Cluster::start(3, ClusterOptions::default()).await;
    let mut far = listener_at(cluster.pg_addr(2)).await;
    let mut near = listener_at(cluster.pg_addr(0)).await;
    let notifier = listener_at(cluster.pg_addr(0)).await;
    exec(&far.client, "LISTEN a").await;
    exec(&near.client, "LISTEN a").await;

    let client = &notifier.client;
    exec(client, "NOTIFY a, 'plain'").await;
    exec(
        client,
        "BEGIN; NOTIFY a, '1'; NOTIFY a, '2'; NOTIFY a, '1'; NOTIFY a, '3'; COMMIT",
    )
    .await;
    exec(client, "BEGIN; NOTIFY a, 'rolled back'; ROLLBACK").await;
    exec(client, "SELECT pg_notify('a', 'function')").await;
    let expected = payloads(&["plain", "1", "2", "3", "function"]);
    assert_eq!(far.delivered(&notifier.client).await, expected);
    assert_eq!(near.delivered(&notifier.client).await, expected);
}
