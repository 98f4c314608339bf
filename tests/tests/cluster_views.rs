//! The cluster's state as SQL: `patina.node`, `patina.members` and
//! `patina.sync_state` on real nodes (replication lag in versions and
//! seconds, 0 once caught up, also as `patina_replication_lag_seconds`),
//! and `CALL patina_rejoin()`. Needs the patina binary (`cargo build -p
//! patina-cli`, or `PATINA_BIN`).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use patina_tests::{Cluster, ClusterOptions, patina_bin};

const DEADLINE: Duration = Duration::from_secs(30);

/// The Prometheus endpoint a node logged that it serves.
fn metrics_addr(log: &str) -> Option<SocketAddr> {
    let line = log
        .lines()
        .find(|line| line.contains("serving Prometheus metrics"))?;
    let at = line.find("addr=")? + "addr=".len();
    line[at..].split_whitespace().next()?.parse().ok()
}

/// The value of the unlabelled sample `name` that `addr` exposes now.
fn sample(addr: SocketAddr, name: &str) -> Result<f64, String> {
    let mut socket = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    socket
        .set_read_timeout(Some(DEADLINE))
        .map_err(|e| e.to_string())?;
    write!(socket, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut response = String::new();
    socket
        .read_to_string(&mut response)
        .map_err(|e| e.to_string())?;
    response
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .ok_or_else(|| format!("no sample {name} at {addr}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_node_and_sync_state_are_queryable() {
    let cluster = Cluster::start(
        3,
        ClusterOptions {
            extra_args: vec!["--metrics-addr".into(), "127.0.0.1:0".into()],
            ..ClusterOptions::default()
        },
    )
    .await;
    cluster
        .wait_for(DEADLINE, "every node to see two alive members", || async {
            for i in 0..3 {
                let rows = cluster
                    .try_query(i, "SELECT state FROM patina.members WHERE state = 'alive'")
                    .await?;
                if rows.len() != 2 {
                    return Err(format!("node {i}: {rows:?}"));
                }
            }
            Ok(())
        })
        .await;

    let mut sites = BTreeSet::new();
    for i in 0..3 {
        let node = cluster
            .query(
                i,
                "SELECT site_id, gossip_addr, members_up, members_down FROM patina.node",
            )
            .await;
        let [row] = node.as_slice() else {
            panic!("node {i}: patina.node has one row, got {node:?}")
        };
        sites.insert(row[0].clone().unwrap());
        assert_eq!(
            row[1].as_deref(),
            Some(cluster.gossip_addr(i).to_string().as_str())
        );
        assert_eq!(
            (row[2].as_deref(), row[3].as_deref()),
            (Some("2"), Some("0"))
        );
        let members = cluster
            .query(i, "SELECT site_id FROM patina.members ORDER BY addr")
            .await;
        assert!(
            members.iter().all(|m| m[0] != row[0]),
            "node {i} lists itself"
        );
    }
    assert_eq!(sites.len(), 3);

    // Schema and data from every node: the same schema everywhere, and
    // every node holding every site's versions without gaps.
    cluster
        .create_table("CREATE TABLE kv (k integer PRIMARY KEY, v text)", "kv")
        .await;
    for i in 0..3 {
        cluster
            .exec(i, &format!("INSERT INTO kv VALUES ({i}, 'from {i}')"))
            .await;
    }
    cluster.wait_count(DEADLINE, "kv", 3).await;
    let hash = cluster
        .wait_identical(DEADLINE, "SELECT schema_hash FROM patina.node")
        .await;
    assert!(
        hash[0][0].as_ref().is_some_and(|h| h.len() == 32),
        "{hash:?}"
    );
    cluster
        .wait_for(DEADLINE, "every site's versions in sync_state", || async {
            for i in 0..3 {
                let rows = cluster
                    .try_query(
                        i,
                        "SELECT site_id FROM patina.sync_state \
                         WHERE max_version > 0 AND missing = 0 AND lag_versions = 0 \
                         AND heard_version = max_version AND lag_seconds = 0",
                    )
                    .await?;
                if rows.len() < 3 {
                    return Err(format!("node {i}: {rows:?}"));
                }
                let node = cluster
                    .try_query(i, "SELECT lag_versions, lag_seconds FROM patina.node")
                    .await?;
                if node != [[Some("0".to_owned()), Some("0".to_owned())]] {
                    return Err(format!("node {i}: patina.node lags: {node:?}"));
                }
                let metrics = metrics_addr(&cluster.log(i))
                    .ok_or_else(|| format!("node {i} logged no metrics address"))?;
                let lag = sample(metrics, "patina_replication_lag_seconds")?;
                if lag != 0.0 {
                    return Err(format!("node {i}: patina_replication_lag_seconds {lag}"));
                }
            }
            Ok(())
        })
        .await;
    let seen = cluster
        .query(
            0,
            "SELECT count(*) FROM patina.members WHERE last_seen > now() - interval '1 minute'",
        )
        .await;
    assert_eq!(seen[0][0].as_deref(), Some("2"));

    // The same through the CLI.
    let cli = |args: &[&str]| {
        let addr = cluster.pg_addr(0).to_string();
        let out = Command::new(patina_bin())
            .args(args)
            .args(["--addr", &addr])
            .output()
            .expect("run patina");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{args:?}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    let members = cli(&["cluster", "members", "--json"]);
    assert_eq!(members.lines().count(), 2, "{members}");
    assert!(members.contains("\"state\":\"alive\""), "{members}");
    let status = cli(&["cluster", "status"]);
    assert!(
        status.contains("schema_hash")
            && status.contains("lag_seconds")
            && status.contains("(3 rows)"),
        "{status}"
    );
    let types = cluster
        .query(
            0,
            "SELECT pg_typeof(n.lag_seconds)::text, pg_typeof(s.lag_seconds)::text \
             FROM patina.node n, patina.sync_state s LIMIT 1",
        )
        .await;
    assert_eq!(
        types,
        [[
            Some("double precision".to_owned()),
            Some("double precision".to_owned())
        ]]
    );
    assert!(cli(&["cluster", "rejoin"]).contains("rejoining"));

    cluster.exec(1, "CALL patina_rejoin()").await;
    let in_block = cluster
        .try_query(1, "BEGIN; CALL patina_rejoin(); COMMIT")
        .await
        .unwrap_err();
    assert!(in_block.contains("25001"), "{in_block}");
    cluster.exec(1, "ROLLBACK").await;
}
