//! The Prometheus endpoint (`--metrics-addr`, `GET /metrics`): after
//! statements, errors and connections on one node, and replication between
//! two, the counters and gauges say so. Needs the patina binary (`cargo
//! build -p patina-cli`, or `PATINA_BIN`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use patina_tests::{Cluster, ClusterOptions, Patina, free_port, pairs};

const DEADLINE: Duration = Duration::from_secs(30);

/// One HTTP/1.1 GET: (status line, body).
fn get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut socket = TcpStream::connect(addr).expect("connects to the metrics endpoint");
    socket
        .set_read_timeout(Some(DEADLINE))
        .expect("sets a timeout");
    write!(
        socket,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: */*\r\n\r\n"
    )
    .expect("sends");
    let mut response = String::new();
    socket
        .read_to_string(&mut response)
        .expect("reads the response");
    let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    (
        head.lines().next().unwrap_or_default().to_owned(),
        body.to_owned(),
    )
}

/// The value of the sample `name{labels}` (exactly as exposed), if any.
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok())?
        })
}

fn scrape(addr: SocketAddr) -> String {
    let (status, body) = get(addr, "/metrics");
    assert_eq!(status, "HTTP/1.1 200 OK");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_counts_statements_errors_and_connections() {
    let metrics: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    let node = Patina::start_with_args(&["--metrics-addr", &metrics.to_string()]).await;
    let client = node.connect().await;
    client
        .batch_execute("CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)")
        .await
        .expect("creates");
    for k in 0..3 {
        client
            .execute("INSERT INTO kv VALUES ($1, 'x')", &[&k])
            .await
            .expect("inserts");
    }
    client
        .query("SELECT * FROM kv", &[])
        .await
        .expect("selects");
    client
        .batch_execute("SELECT * FROM no_such_table")
        .await
        .expect_err("fails");

    let body = scrape(metrics);
    let at_least = |series: &str, n: f64| {
        let value = sample(&body, series).unwrap_or_else(|| panic!("no {series} in:\n{body}"));
        assert!(value >= n, "{series} = {value}, expected at least {n}");
    };
    at_least("patina_pg_statements_total{kind=\"Insert\"}", 3.0);
    at_least("patina_pg_statements_total{kind=\"Select\"}", 1.0);
    at_least("patina_pg_statements_total{kind=\"CreateTable\"}", 1.0);
    at_least("patina_pg_errors_total{sqlstate=\"42P01\"}", 1.0);
    at_least("patina_pg_connections_total", 2.0); // the harness's probe and ours
    at_least("patina_pg_connections_open", 1.0);
    assert!(
        body.contains("# TYPE patina_pg_statements_total counter"),
        "{body}"
    );

    let (status, _) = get(metrics, "/");
    assert_eq!(status, "HTTP/1.1 404 Not Found");
}

/// The metrics address a node logged (it was started on port 0).
fn metrics_addr_of(log: &str) -> Option<SocketAddr> {
    let line = log
        .lines()
        .find(|l| l.contains("serving Prometheus metrics"))?;
    let at = line.find("addr=")? + "addr=".len();
    line[at..].split_whitespace().next()?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_counts_replication() {
    let cluster = Cluster::start(
        2,
        ClusterOptions {
            extra_args: vec!["--metrics-addr".into(), "127.0.0.1:0".into()],
            ..ClusterOptions::default()
        },
    )
    .await;
    let addrs: Vec<SocketAddr> = (0..2)
        .map(|i| {
            metrics_addr_of(&cluster.log(i))
                .unwrap_or_else(|| panic!("node {i} logged no metrics address"))
        })
        .collect();
    cluster
        .exec(0, "CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)")
        .await;
    cluster
        .exec(0, "INSERT INTO kv VALUES (1, 'one'), (2, 'two')")
        .await;
    cluster
        .wait_rows(
            DEADLINE,
            "SELECT k, v FROM kv ORDER BY k",
            &pairs([(1, "one"), (2, "two")]),
        )
        .await;

    cluster
        .wait_for(DEADLINE, "the replication metrics to move", || async {
            let sender = scrape(addrs[0]);
            let receiver = scrape(addrs[1]);
            let value = |body: &str, series: &str| sample(body, series).unwrap_or(0.0);
            let checks = [
                (
                    "node 0 patina_changes_sent_total",
                    value(&sender, "patina_changes_sent_total") >= 1.0,
                ),
                (
                    "node 1 patina_changes_applied_total",
                    value(&receiver, "patina_changes_applied_total") >= 1.0,
                ),
                (
                    "node 1 patina_members_up",
                    value(&receiver, "patina_members_up") == 1.0,
                ),
                (
                    "node 0 patina_members_up",
                    value(&sender, "patina_members_up") == 1.0,
                ),
                (
                    "node 0 patina_bytes_sent_total",
                    value(&sender, "patina_bytes_sent_total") > 0.0,
                ),
                (
                    "node 1 patina_bytes_received_total",
                    value(&receiver, "patina_bytes_received_total") > 0.0,
                ),
                (
                    "node 1 patina_sync_rounds_total{result=\"ok\"}",
                    value(&receiver, "patina_sync_rounds_total{result=\"ok\"}") >= 1.0,
                ),
                (
                    "node 1 patina_last_applied_timestamp_seconds",
                    value(&receiver, "patina_last_applied_timestamp_seconds") > 0.0,
                ),
            ];
            match checks.iter().find(|(_, ok)| !ok) {
                None => Ok(()),
                Some((what, _)) => Err(format!("{what} has not moved")),
            }
        })
        .await;
}
