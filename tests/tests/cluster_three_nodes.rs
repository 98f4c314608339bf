//! Three nodes: inserts, updates and deletes made on every node reach every
//! node, and the tables end identical (and as expected). Needs the patina
//! binary (`cargo build -p patina-cli`, or `PATINA_BIN`).

use std::collections::BTreeMap;
use std::time::Duration;

use patina_tests::{Cluster, ClusterOptions, pairs};

const DEADLINE: Duration = Duration::from_secs(30);
const DUMP: &str = "SELECT k, v FROM kv ORDER BY k";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_on_every_node_reach_every_node() {
    let cluster = Cluster::start(3, ClusterOptions::default()).await;
    cluster
        .create_table("CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)", "kv")
        .await;
    let mut expected = BTreeMap::new();

    // inserts: node i writes keys 100·i + 1 … 100·i + 10, in one
    // multi-row transaction and in single-row autocommits
    for i in 0..3 {
        let base = 100 * i;
        let values: Vec<String> = (1..=5)
            .map(|j| format!("({}, 'n{i} r{j}')", base + j))
            .collect();
        cluster
            .exec(
                i,
                &format!("BEGIN; INSERT INTO kv VALUES {}; COMMIT", values.join(", ")),
            )
            .await;
        for j in 6..=10 {
            cluster
                .exec(
                    i,
                    &format!("INSERT INTO kv VALUES ({}, 'n{i} r{j}')", base + j),
                )
                .await;
        }
        for j in 1..=10 {
            expected.insert(base + j, format!("n{i} r{j}"));
        }
    }
    cluster
        .wait_rows(DEADLINE, DUMP, &pairs(expected.clone()))
        .await;

    // updates and deletes of rows another node wrote: node i changes the
    // rows of node (i + 1) % 3
    for i in 0..3 {
        let other = 100 * ((i + 1) % 3);
        cluster
            .exec(
                i,
                &format!(
                    "UPDATE kv SET v = 'updated by n{i}' WHERE k BETWEEN {} AND {}",
                    other + 1,
                    other + 3
                ),
            )
            .await;
        cluster
            .exec(
                i,
                &format!(
                    "BEGIN; DELETE FROM kv WHERE k = {}; UPDATE kv SET v = v || ' +n{i}' WHERE k = {}; COMMIT",
                    other + 4,
                    other + 5
                ),
            )
            .await;
        cluster
            .exec(
                i,
                &format!(
                    "DELETE FROM kv WHERE k > {} AND k <= {}",
                    other + 8,
                    other + 10
                ),
            )
            .await;
        for k in other + 1..=other + 3 {
            expected.insert(k, format!("updated by n{i}"));
        }
        expected.remove(&(other + 4));
        let v = expected
            .get_mut(&(other + 5))
            .expect("row 5 of the other node");
        v.push_str(&format!(" +n{i}"));
        expected.remove(&(other + 9));
        expected.remove(&(other + 10));
    }
    // a deleted row written again, on a third node, once it saw the delete
    cluster
        .wait_for(DEADLINE, "node 0's delete of row 104 on node 2", || async {
            cluster
                .count(2, "kv WHERE k = 104")
                .await
                .map(|n| n == 0)
                .unwrap_or(false)
        })
        .await;
    cluster
        .exec(2, "INSERT INTO kv VALUES (104, 'back again')")
        .await;
    expected.insert(104, "back again".to_owned());

    let took = cluster.wait_rows(DEADLINE, DUMP, &pairs(expected)).await;
    let dumps: Vec<_> =
        futures::future::join_all((0..3).map(|i| cluster.table_dump(i, DUMP))).await;
    assert!(
        dumps.windows(2).all(|w| w[0] == w[1]),
        "tables differ: {dumps:?}"
    );
    report(
        "three nodes converged after the updates and deletes in",
        took,
    );
}

#[allow(clippy::print_stderr)]
fn report(what: &str, took: Duration) {
    eprintln!("{what} {took:.2?}");
}
