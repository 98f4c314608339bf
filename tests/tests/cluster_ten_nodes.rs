//! Ten nodes, each writing rows of its own at the same time: every node
//! ends with the full, identical set. Needs the patina binary (`cargo build
//! -p patina-cli`, or `PATINA_BIN`).

use std::time::{Duration, Instant};

use patina_tests::{Cluster, ClusterOptions, pairs};

const NODES: usize = 10;
/// Rows each node writes: half in one multi-row transaction, half one by one.
const ROWS_PER_NODE: usize = 20;
const DEADLINE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_nodes_converge_to_the_full_set() {
    let start = Instant::now();
    let cluster = Cluster::start(NODES, ClusterOptions::default()).await;
    let started = start.elapsed();
    cluster
        .create_table(
            "CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT, node INTEGER)",
            "kv",
        )
        .await;

    let writes = (0..NODES).map(|i| {
        let cluster = &cluster;
        async move {
            let base = 1000 * i;
            let half = ROWS_PER_NODE / 2;
            let values: Vec<String> = (0..half)
                .map(|j| format!("({}, 'from {i}', {i})", base + j))
                .collect();
            cluster
                .exec(
                    i,
                    &format!("BEGIN; INSERT INTO kv VALUES {}; COMMIT", values.join(", ")),
                )
                .await;
            for j in half..ROWS_PER_NODE {
                cluster
                    .exec(
                        i,
                        &format!("INSERT INTO kv VALUES ({}, 'from {i}', {i})", base + j),
                    )
                    .await;
            }
        }
    });
    futures::future::join_all(writes).await;
    let written = Instant::now();

    let expected = pairs(
        (0..NODES)
            .flat_map(|i| (0..ROWS_PER_NODE).map(move |j| (1000 * i + j, format!("from {i}")))),
    );
    let took = cluster
        .wait_rows(DEADLINE, "SELECT k, v FROM kv ORDER BY k", &expected)
        .await;
    let per_node = cluster
        .wait_identical(
            DEADLINE,
            "SELECT node, count(*) FROM kv GROUP BY node ORDER BY node",
        )
        .await;
    assert_eq!(per_node.len(), NODES, "rows per writing node: {per_node:?}");
    report(started, written.elapsed(), took);
}

#[allow(clippy::print_stderr)]
fn report(started: Duration, since_writes: Duration, took: Duration) {
    eprintln!(
        "ten nodes: started in {started:.2?}; converged {took:.2?} after the wait began \
         ({since_writes:.2?} after the last write)"
    );
}
