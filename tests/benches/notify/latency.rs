//! Phase 1: commit → notification latency on a 3-node cluster, the writer
//! on node 0, one listener on node 0 and one on node 1, for plain NOTIFY,
//! a row feed and a query subscription; plain NOTIFY on a real PostgreSQL
//! 15 the same way; and, as the yardstick of the other-node target, how
//! long a committed row takes to become visible on the other nodes.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use patina_tests::tokio_postgres::{Client, Statement};
use patina_tests::{Cluster, Postgres, describe_error};
use serde_json::Value;

use crate::probes::Tracker;
use crate::timed::{Arrival, Latencies, Listener, exec, latencies, listener, open_loop};

/// How long notifications may take to arrive after the last write.
const DRAIN: Duration = Duration::from_secs(20);
/// How often the propagation observers poll a node for a missing row.
const POLL: Duration = Duration::from_millis(1);

/// What a listener hears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `NOTIFY bench, '<k>'` (simple query).
    Notify,
    /// `LISTEN "patina:changes:feed"`, `INSERT INTO feed`.
    Feed,
    /// `patina_subscribe('SELECT k, v FROM subbed')`, `INSERT INTO subbed`.
    Subscription,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Notify, Kind::Feed, Kind::Subscription];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Notify => "plain NOTIFY",
            Kind::Feed => "row feed",
            Kind::Subscription => "query subscription",
        }
    }

    fn table(self) -> &'static str {
        match self {
            Kind::Notify => "",
            Kind::Feed => "feed",
            Kind::Subscription => "subbed",
        }
    }

    async fn listen(self, listener: &Listener) -> Result<(), String> {
        let sql = match self {
            Kind::Notify => "LISTEN bench".to_owned(),
            Kind::Feed => format!("LISTEN \"patina:changes:{}\"", self.table()),
            Kind::Subscription => format!(
                "SELECT * FROM patina_subscribe('SELECT k, v FROM {}')",
                self.table()
            ),
        };
        exec(&listener.client, &sql).await
    }

    /// The write a notification stands for.
    fn key(self, arrival: &Arrival) -> Option<usize> {
        let k = match self {
            Kind::Notify => (arrival.channel == "bench")
                .then(|| arrival.payload.parse().ok())
                .flatten(),
            Kind::Feed => json(arrival)?.pointer("/pk/k")?.as_u64(),
            Kind::Subscription if arrival.channel.starts_with("patina:sub:") => {
                json(arrival)?.pointer("/row/k")?.as_u64()
            }
            Kind::Subscription => None,
        };
        k.and_then(|k| usize::try_from(k).ok())
    }
}

fn json(arrival: &Arrival) -> Option<Value> {
    serde_json::from_str(&arrival.payload).ok()
}

pub const TABLES: &str = "CREATE TABLE IF NOT EXISTS feed (k BIGINT PRIMARY KEY, v BIGINT); \
     CREATE TABLE IF NOT EXISTS subbed (k BIGINT PRIMARY KEY, v BIGINT); \
     CREATE TABLE IF NOT EXISTS probe (seq BIGINT PRIMARY KEY, origin INT)";

/// One kind's latencies: listener on the writer's node, on another node.
#[derive(Debug)]
pub struct KindLatency {
    pub kind: Kind,
    pub same: Latencies,
    pub other: Option<Latencies>,
}

/// Writes `count` times at one every `period` through `writer` and measures
/// the listeners at `listen_at`; the first is the writer's own node.
async fn measure(
    kind: Kind,
    writer_addr: SocketAddr,
    listen_at: &[SocketAddr],
    count: usize,
    period: Duration,
) -> Result<Vec<Latencies>, String> {
    let mut listeners = Vec::new();
    for addr in listen_at {
        let l = listener(*addr).await?;
        kind.listen(&l).await?;
        listeners.push(l);
    }
    let writer = listener(writer_addr).await?.client;
    let insert = match kind {
        Kind::Notify => None,
        _ => Some(
            prepare(
                &writer,
                &format!("INSERT INTO {} (k, v) VALUES ($1, $1)", kind.table()),
            )
            .await?,
        ),
    };
    let acks = open_loop(count, period, |k| write(&writer, insert.as_ref(), k)).await?;
    let all: Vec<usize> = (0..count).collect();
    let mut out = Vec::new();
    for l in &mut listeners {
        let arrivals = l.collect(count, &all, DRAIN, |a| kind.key(a)).await;
        out.push(latencies(&acks, &arrivals));
    }
    Ok(out)
}

async fn write(client: &Client, insert: Option<&Statement>, k: usize) -> Result<(), String> {
    let result = match insert {
        None => client.batch_execute(&format!("NOTIFY bench, '{k}'")).await,
        Some(insert) => client.execute(insert, &[&(k as i64)]).await.map(drop),
    };
    result.map_err(|e| format!("write {k}: {}", describe_error(&e)))
}

pub async fn prepare(client: &Client, sql: &str) -> Result<Statement, String> {
    client
        .prepare(sql)
        .await
        .map_err(|e| format!("preparing {sql}: {}", describe_error(&e)))
}

/// Every kind on the cluster (writer on node 0, listeners on 0 and 1).
pub async fn on_cluster(
    cluster: &Cluster,
    count: usize,
    period: Duration,
) -> Result<Vec<KindLatency>, String> {
    let mut out = Vec::new();
    for kind in Kind::ALL {
        crate::progress(&format!("  {} …", kind.name()));
        let mut measured = measure(
            kind,
            cluster.pg_addr(0),
            &[cluster.pg_addr(0), cluster.pg_addr(1)],
            count,
            period,
        )
        .await?
        .into_iter();
        let same = measured.next().unwrap_or_default();
        out.push(KindLatency {
            kind,
            same,
            other: measured.next(),
        });
    }
    Ok(out)
}

/// Plain NOTIFY on PostgreSQL, listener and writer on the same server.
pub async fn on_postgres(
    pg: &Postgres,
    count: usize,
    period: Duration,
) -> Result<Latencies, String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], pg.port()));
    let mut measured = measure(Kind::Notify, addr, &[addr], count, period).await?;
    Ok(measured.pop().unwrap_or_default())
}

/// Commit (acknowledged on node 0) → the row visible on each other node,
/// every (row, node) pair, sorted; estimated by polling (see
/// `cluster/probes.rs`).
pub async fn propagation(
    cluster: &Cluster,
    count: usize,
    period: Duration,
) -> Result<Vec<Duration>, String> {
    let n = cluster.len();
    let tracker = Tracker::new("probe", 1, n);
    let writer = listener(cluster.pg_addr(0)).await?.client;
    let insert = prepare(&writer, &tracker.insert_sql()).await?;
    let mut observers = Vec::new();
    for i in 0..n {
        observers.push(listener(cluster.pg_addr(i)).await?.client);
    }
    let write = async {
        let result = open_loop(count, period, |_| async {
            let (idx, seq) = tracker.begin(0);
            writer
                .execute(&insert, &[&seq, &0i32])
                .await
                .map_err(|e| format!("probe insert: {}", describe_error(&e)))?;
            tracker.acked(idx, Instant::now());
            Ok(())
        })
        .await;
        tracker.finish(DRAIN);
        result
    };
    let observe = futures::future::join_all(
        observers
            .iter()
            .enumerate()
            .map(|(i, c)| tracker.observe(i, c, POLL)),
    );
    let (written, observed) = tokio::join!(write, observe);
    written?;
    for o in observed {
        o?;
    }
    Ok(tracker.stats().per_node)
}
