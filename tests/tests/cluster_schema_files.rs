//! Schema files across a cluster: three nodes start on schema v1 (the same
//! files on every node, as configuration management puts them), take
//! writes on every node, get v2 (a new column, a new table, an index) and
//! `patina reload` one after the other while the writes go on; every
//! write succeeds and every node ends with the v2 schema and the same
//! rows. Needs the patina binary (`cargo build -p patina-cli`, or
//! `PATINA_BIN`).

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use patina_tests::{Cluster, ClusterOptions, patina_bin};

const DEADLINE: Duration = Duration::from_secs(30);
/// Writes at least, and v2 writes among them; at most `MAX_WRITES`.
const WRITES: i64 = 300;
const V2_WRITES: i64 = 50;
const MAX_WRITES: i64 = 20_000;

const V1: &str = "CREATE TABLE services (
    name text PRIMARY KEY,
    port integer NOT NULL DEFAULT 0
);
";

const V2: &str = "CREATE TABLE services (
    name text PRIMARY KEY,
    port integer NOT NULL DEFAULT 0,
    weight numeric(6,2) DEFAULT 1
);
CREATE INDEX services_port ON services (port);
CREATE TABLE routes (
    host text PRIMARY KEY,
    service text
);
";

fn write(dir: &Path, sql: &str) {
    std::fs::write(dir.join("01_schema.sql"), sql).expect("writes the schema file");
}

/// `patina reload` against node `addr`: its stdout.
fn reload(addr: std::net::SocketAddr) -> String {
    let output = Command::new(patina_bin())
        .args(["reload", "--addr", &addr.to_string()])
        .env_remove("PATINA_CONFIG")
        .output()
        .expect("runs patina reload");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "patina reload failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_files_move_from_v1_to_v2_on_a_cluster_that_keeps_writing() {
    let schema = tempfile::tempdir().unwrap();
    write(schema.path(), V1);
    let options = ClusterOptions {
        extra_args: vec!["--schema".to_owned(), schema.path().display().to_string()],
        ..ClusterOptions::default()
    };
    let cluster = Arc::new(Cluster::start(3, options).await);

    // Writes on every node in turn, all through the change of schema; the
    // v2 columns and table once every node reloaded.
    let v2_everywhere = Arc::new(AtomicBool::new(false));
    let writer = {
        let cluster = Arc::clone(&cluster);
        let v2_everywhere = Arc::clone(&v2_everywhere);
        tokio::spawn(async move {
            let mut v2_writes = 0;
            for k in 0..MAX_WRITES {
                let node = (k % 3) as usize;
                let v2 = v2_everywhere.load(Ordering::SeqCst);
                let sql = if v2 {
                    format!(
                        "INSERT INTO services (name, port, weight) VALUES ('s{k}', {k}, 2); \
                         INSERT INTO routes VALUES ('h{k}.example', 's{k}')"
                    )
                } else {
                    format!("INSERT INTO services (name, port) VALUES ('s{k}', {k})")
                };
                if let Err(error) = cluster.try_query(node, &sql).await {
                    return Err(format!("write {k} on node {node}: {error}"));
                }
                v2_writes += i64::from(v2);
                if k + 1 >= WRITES && v2_writes >= V2_WRITES {
                    return Ok(k + 1);
                }
            }
            Err(format!("{MAX_WRITES} writes and still not done"))
        })
    };

    cluster
        .wait_for(DEADLINE, "some writes on v1", || async {
            match cluster.count(0, "services").await {
                Ok(n) if n >= 30 => Ok(()),
                Ok(n) => Err(format!("{n} rows")),
                Err(error) => Err(error),
            }
        })
        .await;
    write(schema.path(), V2);
    let first = reload(cluster.pg_addr(0));
    assert!(first.contains("added column services.weight"), "{first}");
    assert!(first.contains("created table routes"), "{first}");
    // The others may have the change from node 0 already (the schema is
    // replicated state); reloading them must succeed either way.
    for node in 1..3 {
        reload(cluster.pg_addr(node));
    }
    v2_everywhere.store(true, Ordering::SeqCst);
    let written = writer
        .await
        .expect("the writer task")
        .expect("every write succeeds");

    let services = cluster
        .wait_identical(
            DEADLINE,
            "SELECT name, port, weight FROM services ORDER BY name",
        )
        .await;
    assert_eq!(services.len() as i64, written, "no write lost");
    let routes = cluster
        .wait_identical(DEADLINE, "SELECT host, service FROM routes ORDER BY host")
        .await;
    assert!(routes.len() as i64 >= V2_WRITES);
    assert!(
        services
            .iter()
            .all(|row| matches!(row[2].as_deref(), Some("1.00" | "2.00"))),
        "v1 rows got the column's default"
    );
    let schemas = cluster
        .wait_identical(DEADLINE, "SELECT schema_hash FROM patina.node")
        .await;
    assert_eq!(schemas.len(), 1);
    for node in 0..3 {
        let indexes = cluster
            .query(
                node,
                "SELECT indexname FROM pg_indexes WHERE tablename = 'services' \
                 AND indexname = 'services_port'",
            )
            .await;
        assert_eq!(indexes.len(), 1, "node {node} has the v2 index");
    }
}
