//! The schema is replicated: DDL run on one node through the pg front door
//! (psql) reaches every node with its PostgreSQL types and is written on
//! another, concurrent column additions on different nodes converge to
//! their union, and a node that joins later gets the schema with the data
//! (also a table altered by the node that created it).
//! Needs the patina binary (`cargo build -p patina-cli`, or `PATINA_BIN`).

use std::time::Duration;

use patina_tests::{Cluster, ClusterOptions, Rows, psql};

const DEADLINE: Duration = Duration::from_secs(30);

/// Values whose text output depends on the PostgreSQL type: a node that
/// lacked the column types would print them differently.
const CREATE: &str = "CREATE TABLE services (
    name text PRIMARY KEY,
    port integer NOT NULL DEFAULT 0,
    weight numeric(6,2),
    healthy boolean,
    seen timestamptz,
    tags text[],
    meta jsonb)";
const INSERT: &str = "INSERT INTO services VALUES
    ('api', 8080, 1.5, true, '2026-11-30 10:00:00+00', '{a,b}', '{\"zone\": \"eu\"}'),
    ('db', 5432, 10, false, NULL, '{}', NULL)";
const DUMP: &str = "SELECT * FROM services ORDER BY name";

fn row(values: &[Option<&str>]) -> Vec<Option<String>> {
    values.iter().map(|v| v.map(str::to_owned)).collect()
}

fn expected() -> Rows {
    vec![
        row(&[
            Some("api"),
            Some("8080"),
            Some("1.50"),
            Some("t"),
            Some("2026-11-30 10:00:00+00"),
            Some("{a,b}"),
            Some("{\"zone\": \"eu\"}"),
        ]),
        row(&[
            Some("db"),
            Some("5432"),
            Some("10.00"),
            Some("f"),
            None,
            Some("{}"),
            None,
        ]),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ddl_on_one_node_reaches_every_node_and_a_late_joiner() {
    let mut cluster = Cluster::start(3, ClusterOptions::default()).await;
    // Created through psql on node 0, written on node 1 once it got there.
    let node0 = cluster.pg_addr(0);
    let conninfo = format!(
        "host={} port={} user=postgres dbname=postgres",
        node0.ip(),
        node0.port()
    );
    let created = psql(&conninfo, None, CREATE).await;
    assert!(created.success, "{}", created.stderr);
    cluster
        .wait_for(DEADLINE, "node 1 to have the table", || async {
            cluster
                .try_query(1, "SELECT 1 FROM services LIMIT 0")
                .await
                .map(drop)
        })
        .await;
    cluster.exec(1, INSERT).await;
    let utc_dump = format!("SET TIME ZONE 'UTC'; {DUMP}");
    cluster.wait_rows(DEADLINE, &utc_dump, &expected()).await;

    // A table that exists everywhere refuses a second CREATE everywhere.
    let again = cluster.try_query(2, CREATE).await.unwrap_err();
    assert!(again.contains("42P07"), "{again}");

    // Concurrent additions on two nodes, and an index from a third.
    cluster
        .exec(
            1,
            "ALTER TABLE services ADD COLUMN region text DEFAULT 'eu'",
        )
        .await;
    cluster
        .exec(2, "ALTER TABLE services ADD COLUMN checks integer")
        .await;
    cluster
        .exec(0, "CREATE INDEX services_port ON services (port)")
        .await;
    cluster
        .wait_for(DEADLINE, "node 2 to have node 1's column", || async {
            cluster
                .try_query(2, "SELECT region FROM services LIMIT 0")
                .await
                .map(drop)
        })
        .await;
    cluster
        .exec(
            2,
            "UPDATE services SET checks = 3, region = 'us' WHERE name = 'db'",
        )
        .await;
    let extra = "SELECT name, region, checks FROM services ORDER BY name";
    let want: Rows = vec![
        row(&[Some("api"), Some("eu"), None]),
        row(&[Some("db"), Some("us"), Some("3")]),
    ];
    cluster.wait_rows(DEADLINE, extra, &want).await;
    let indexes = "SELECT indexname FROM pg_indexes WHERE tablename = 'services' ORDER BY 1";
    let both: Rows = vec![row(&[Some("services_pkey")]), row(&[Some("services_port")])];
    cluster.wait_rows(DEADLINE, indexes, &both).await;

    // Destructive changes stay refused, on any node.
    let drop = cluster
        .try_query(1, "ALTER TABLE services DROP COLUMN healthy")
        .await
        .unwrap_err();
    assert!(drop.contains("0A000"), "{drop}");

    // A column added by the node that created the table rewrites the
    // table's recorded CREATE: a joiner merging the first version before
    // the second must wait for it, not fail.
    cluster
        .exec(0, "ALTER TABLE services ADD COLUMN owner text")
        .await;

    // A node that joins now gets the tables, their types and the rows.
    let late = cluster.add_node().await;
    cluster
        .wait_for(
            DEADLINE,
            "the late node to have the schema and rows",
            || {
                let cluster = &cluster;
                let dump = utc_dump.clone();
                let want = want.clone();
                async move {
                    let rows = cluster.try_query(late, &dump).await?;
                    let extra = cluster.try_query(late, extra).await?;
                    cluster
                        .try_query(late, "SELECT owner FROM services LIMIT 0")
                        .await?;
                    if rows.len() == 2 && extra == want {
                        Ok(())
                    } else {
                        Err(format!("{rows:?} {extra:?}"))
                    }
                }
            },
        )
        .await;
    let dump = cluster.query(late, &utc_dump).await;
    let columns: Vec<Vec<Option<String>>> = dump.iter().map(|r| r[..7].to_vec()).collect();
    assert_eq!(columns, expected());
}
