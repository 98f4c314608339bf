//! A brand-new, empty node joining a cluster that holds 100,000 rows
//! receives them all. The new node starts alone to create its table (every
//! node creates its own tables), then restarts to join. Needs the patina
//! binary (`cargo build -p patina-cli`, or `PATINA_BIN`).

use std::time::{Duration, Instant};

use patina_tests::{Cluster, ClusterOptions, NodeOptions};

const ROWS: i64 = 100_000;
/// Rows per transaction (one multi-row INSERT … SELECT each).
const BATCH: i64 = 5_000;
const CREATE: &str = "CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)";
/// Compares whole tables cheaply before the row-by-row comparison.
const SUMMARY: &str = "SELECT count(*), sum(k), sum(length(v)), min(v), max(v) FROM kv";
const DEADLINE: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_node_receives_100k_rows() {
    let mut cluster = Cluster::start(2, ClusterOptions::default()).await;
    cluster.create_table(CREATE, "kv").await;

    // node 0 writes the first half, node 1 the second, in transactions of
    // BATCH rows
    let start = Instant::now();
    let writers = (0..2).map(|node| {
        let cluster = &cluster;
        async move {
            let half = ROWS / 2;
            let mut first = node as i64 * half + 1;
            while first <= (node as i64 + 1) * half {
                let last = (first + BATCH - 1).min((node as i64 + 1) * half);
                cluster
                    .exec(
                        node,
                        &format!(
                            "INSERT INTO kv (k, v) WITH RECURSIVE s(n) AS \
                             (SELECT {first} UNION ALL SELECT n + 1 FROM s WHERE n < {last}) \
                             SELECT n, 'row ' || n FROM s"
                        ),
                    )
                    .await;
                first = last + 1;
            }
        }
    });
    futures::future::join_all(writers).await;
    let inserted = start.elapsed();
    progress(&format!("100k rows inserted in {inserted:.2?}"));
    let spread = cluster.wait_count(DEADLINE, "kv", ROWS).await;
    progress(&format!("100k rows on both first nodes {spread:.2?} later"));

    let joining = cluster
        .add_node_with(NodeOptions {
            bootstrap: Some(vec![]),
            ..NodeOptions::default()
        })
        .await;
    cluster.exec(joining, CREATE).await;
    assert_eq!(cluster.count(joining, "kv").await, Ok(0));
    let join_start = Instant::now();
    cluster.restart_with_bootstrap(joining, &[0]).await;
    let received = cluster.wait_count(DEADLINE, "kv", ROWS).await;
    let caught_up = join_start.elapsed();

    let summary = cluster.wait_identical(DEADLINE, SUMMARY).await;
    assert_eq!(
        summary[0][0].as_deref(),
        Some("100000"),
        "summary: {summary:?}"
    );
    let full = cluster
        .wait_identical(Duration::from_secs(30), "SELECT k, v FROM kv ORDER BY k")
        .await;
    assert_eq!(full.len(), ROWS as usize);
    report(inserted, spread, received, caught_up);
}

#[allow(clippy::print_stderr)]
fn progress(what: &str) {
    eprintln!("{what}");
}

#[allow(clippy::print_stderr)]
fn report(inserted: Duration, spread: Duration, received: Duration, caught_up: Duration) {
    eprintln!(
        "100k rows: inserted in {inserted:.2?}, on both first nodes {spread:.2?} later; \
         the new node had them all {received:.2?} after it accepted connections \
         ({caught_up:.2?} after its restart began)"
    );
}
