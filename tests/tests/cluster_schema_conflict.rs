//! Two nodes that create the same table with different primary keys before
//! they know of each other end with the same table: the winning
//! definition's key on both, the rows of both that fit it, none mixed up.
//! Node 1 starts alone, both create and write, then node 1 joins node 0.
//! Needs the patina binary (`cargo build -p patina-cli`, or `PATINA_BIN`).

use std::time::Duration;

use patina_tests::{Cluster, ClusterOptions, NodeOptions, Rows};

const DEADLINE: Duration = Duration::from_secs(60);
const DUMP: &str = "SELECT name, ip, rack FROM hosts ORDER BY name";

/// Wins: the recorded `CREATE TABLE` texts tie on their clocks, then the
/// higher text wins, and `hosts (name` > `hosts (ip`.
const KEYED_BY_NAME: &str = "CREATE TABLE hosts (name text PRIMARY KEY, ip text, rack integer)";
const KEYED_BY_IP: &str = "CREATE TABLE hosts (ip text PRIMARY KEY, name text, rack integer)";

fn row(values: &[Option<&str>]) -> Vec<Option<String>> {
    values.iter().map(|v| v.map(str::to_owned)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_that_created_a_table_with_different_keys_converge_on_one() {
    let mut cluster = Cluster::start(1, ClusterOptions::default()).await;
    let alone = cluster
        .add_node_with(NodeOptions {
            bootstrap: Some(vec![]),
            ..NodeOptions::default()
        })
        .await;
    cluster.exec(0, KEYED_BY_NAME).await;
    cluster
        .exec(
            0,
            "INSERT INTO hosts VALUES ('web1', '10.0.0.1', 1), ('web2', '10.0.0.2', 1), \
             ('web3', NULL, 2)",
        )
        .await;
    cluster.exec(alone, KEYED_BY_IP).await;
    // Under the name key, 10.0.0.8 has none and 10.0.0.6 repeats web5.
    cluster
        .exec(
            alone,
            "INSERT INTO hosts VALUES ('10.0.0.5', 'web5', 5), ('10.0.0.6', 'web5', 6), \
             ('10.0.0.7', 'web7', 7), ('10.0.0.8', NULL, 8)",
        )
        .await;

    cluster.restart_with_bootstrap(alone, &[0]).await;
    let want: Rows = vec![
        row(&[Some("web1"), Some("10.0.0.1"), Some("1")]),
        row(&[Some("web2"), Some("10.0.0.2"), Some("1")]),
        row(&[Some("web3"), None, Some("2")]),
        row(&[Some("web5"), Some("10.0.0.5"), Some("5")]),
        row(&[Some("web7"), Some("10.0.0.7"), Some("7")]),
    ];
    cluster.wait_rows(DEADLINE, DUMP, &want).await;

    // The key is `name` on both nodes now.
    for i in [0, alone] {
        let duplicate = cluster
            .try_query(i, "INSERT INTO hosts VALUES ('web1', '10.9.9.9', 9)")
            .await
            .unwrap_err();
        assert!(duplicate.contains("23505"), "node {i}: {duplicate}");
    }
    let log = cluster.log(alone);
    assert!(
        log.contains("rows that do not fit the cluster's primary key") && log.contains("dropped=2"),
        "node {alone} did not warn of the 2 rows it dropped:\n{log}"
    );

    // The rebuilt table replicates both ways.
    cluster
        .exec(alone, "INSERT INTO hosts VALUES ('web9', '10.0.0.9', 9)")
        .await;
    cluster
        .exec(0, "UPDATE hosts SET rack = 4 WHERE name = 'web5'")
        .await;
    let mut want = want;
    want[3][2] = Some("4".to_owned());
    want.push(row(&[Some("web9"), Some("10.0.0.9"), Some("9")]));
    cluster.wait_rows(DEADLINE, DUMP, &want).await;
}
