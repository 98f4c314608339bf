//! Mutual TLS between peers: two nodes with certificates from one CA
//! replicate; a third node whose certificate comes from another CA is
//! refused — its writes never reach the others, theirs never reach it, and
//! the refusal is logged. Needs the patina binary (`cargo build -p
//! patina-cli`, or `PATINA_BIN`).

use std::time::Duration;

use patina_tests::{Cluster, ClusterOptions, NodeOptions, TestCa, pairs};

const DEADLINE: Duration = Duration::from_secs(30);
const DUMP: &str = "SELECT k, v FROM kv ORDER BY k";
const CREATE: &str = "CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)";

/// Whether a log line tells of a peer refused for its certificate.
fn is_refusal(line: &str) -> bool {
    let line = line.to_ascii_lowercase();
    let warns = line.contains("warn") || line.contains("error");
    let about_tls = [
        "certificate",
        "unknownissuer",
        "unknown issuer",
        "unknown ca",
        "unknownca",
        "handshake",
        "tls",
    ]
    .iter()
    .any(|word| line.contains(word));
    warns && about_tls
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_with_a_foreign_ca_is_refused() {
    let mut cluster = Cluster::start(
        2,
        ClusterOptions {
            mtls: true,
            ..ClusterOptions::default()
        },
    )
    .await;
    cluster.create_table(CREATE, "kv").await;
    cluster.exec(0, "INSERT INTO kv VALUES (1, 'from 0')").await;
    cluster.exec(1, "INSERT INTO kv VALUES (2, 'from 1')").await;
    let mut expected = vec![(1, "from 0"), (2, "from 1")];
    cluster
        .wait_rows(DEADLINE, DUMP, &pairs(expected.clone()))
        .await;

    let foreign_ca = TestCa::new();
    let stranger = cluster
        .add_node_with(NodeOptions {
            ca: Some(&foreign_ca),
            ..NodeOptions::default()
        })
        .await;
    cluster.exec(stranger, CREATE).await;
    cluster
        .exec(stranger, "INSERT INTO kv VALUES (666, 'from the stranger')")
        .await;

    cluster
        .wait_for(
            DEADLINE,
            "a log line refusing the stranger's certificate",
            || async { (0..cluster.len()).any(|i| cluster.log(i).lines().any(is_refusal)) },
        )
        .await;

    // the members go on replicating after the refusal; what they write
    // later reaches each other, and still never the stranger
    cluster
        .exec(0, "INSERT INTO kv VALUES (3, 'later from 0')")
        .await;
    cluster
        .exec(1, "INSERT INTO kv VALUES (4, 'later from 1')")
        .await;
    expected.extend([(3, "later from 0"), (4, "later from 1")]);
    cluster
        .wait_rows_on(DEADLINE, &[0, 1], DUMP, &pairs(expected))
        .await;
    assert_eq!(
        cluster.table_dump(stranger, DUMP).await,
        Ok(pairs([(666, "from the stranger")])),
        "rows crossed to the node with a foreign certificate"
    );
    let refusals: Vec<String> = (0..cluster.len())
        .flat_map(|i| {
            cluster
                .log(i)
                .lines()
                .filter(|l| is_refusal(l))
                .map(|l| format!("node {i}: {l}"))
                .take(3)
                .collect::<Vec<_>>()
        })
        .collect();
    report(&refusals);
}

#[allow(clippy::print_stderr)]
fn report(refusals: &[String]) {
    eprintln!("refusals logged:\n{}", refusals.join("\n"));
}
